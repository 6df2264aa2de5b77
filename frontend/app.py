"""The ASC dapp: `streamlit run frontend/app.py` (settings: ASC_DAPP_*, see frontend/settings.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts only this folder on sys.path; the dapp imports the repository's packages.
ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import streamlit as st  # noqa: E402

from frontend import context  # noqa: E402

st.set_page_config(page_title="ASC dapp", page_icon=":material/local_shipping:", layout="wide")

VIEWS = Path(__file__).resolve().parent / "views"
pages = [
    st.Page(VIEWS / "orders.py", title="Orders", icon=":material/request_quote:", default=True),
    st.Page(VIEWS / "shipments.py", title="Shipments", icon=":material/local_shipping:"),
    st.Page(VIEWS / "chat.py", title="Agent chat", icon=":material/forum:"),
    st.Page(VIEWS / "settlement.py", title="Settlement", icon=":material/payments:"),
    st.Page(VIEWS / "audit.py", title="Audit", icon=":material/verified:"),
    st.Page(VIEWS / "network.py", title="Network", icon=":material/hub:"),
]
navigation = st.navigation(pages)
context.guarded(context.sidebar)()
context.guarded(navigation.run)()
