"""Open a page of the dapp in Streamlit's AppTest with the session world's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "frontend" / "app.py"
TIMEOUT_S = 120


def open_page(world: Any, monkeypatch: pytest.MonkeyPatch, page: str, **env: str) -> AppTest:
    for key, value in world.env(**env).items():
        monkeypatch.setenv(key, value)
    st.cache_resource.clear()  # settings and clients are cached per process; each test has its own env
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.run()
    if page != "orders":
        at.switch_page(f"views/{page}.py")
        at.run()
    return at


def unlock(at: AppTest, keystore: Path, password: str) -> AppTest:
    at.sidebar.text_input(key="keystore_path").set_value(str(keystore))
    at.sidebar.text_input(key="keystore_password").set_value(password)
    at.sidebar.button(key="unlock_submit").click()
    return at.run()
