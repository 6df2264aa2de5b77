"""The dapp's settings (ASC_DAPP_*)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from frontend.settings import DappSettings


def test_manifests_from_a_comma_separated_list(monkeypatch) -> None:
    monkeypatch.setenv("ASC_DAPP_MANIFESTS", "a.json, b.json")
    assert DappSettings().manifests == [Path("a.json"), Path("b.json")]


def test_at_least_one_manifest(monkeypatch) -> None:
    monkeypatch.setenv("ASC_DAPP_MANIFESTS", " , ")
    with pytest.raises(ValidationError, match="name at least one deployment manifest"):
        DappSettings()


def test_no_secret_is_a_setting() -> None:
    """The keystore password is asked for in the session, never read from configuration."""
    assert not [name for name in DappSettings.model_fields if "password" in name or "secret" in name]
