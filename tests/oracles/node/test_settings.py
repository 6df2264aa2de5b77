from __future__ import annotations

import pytest
from pydantic import ValidationError

from oracles.node.settings import OracleNodeSettings

KEY = "0x" + "4c" * 32


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("ASC_ORACLE_"):
            monkeypatch.delenv(name)


def test_key_never_appears_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_ORACLE_PRIVATE_KEY", KEY)
    settings = OracleNodeSettings()
    assert KEY[2:] not in repr(settings) and KEY[2:] not in str(settings.model_dump())


def test_a_key_is_required() -> None:
    with pytest.raises(ValidationError, match="exactly one of"):
        OracleNodeSettings()


def test_raw_key_and_keystore_together_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_ORACLE_PRIVATE_KEY", KEY)
    monkeypatch.setenv("ASC_ORACLE_KEYSTORE_PATH", "/tmp/ks.json")
    with pytest.raises(ValidationError, match="exactly one of"):
        OracleNodeSettings()


def test_keystore_needs_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_ORACLE_KEYSTORE_PATH", "/tmp/ks.json")
    with pytest.raises(ValidationError, match="KEYSTORE_PASSWORD"):
        OracleNodeSettings()


def test_peers_and_shipments_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_ORACLE_PRIVATE_KEY", KEY)
    monkeypatch.setenv("ASC_ORACLE_PEERS", "http://127.0.0.1:8701/, http://127.0.0.1:8702")
    monkeypatch.setenv("ASC_ORACLE_SHIPMENTS", "3,4")
    settings = OracleNodeSettings()
    assert settings.peers == ["http://127.0.0.1:8701", "http://127.0.0.1:8702"]
    assert settings.shipments == ["3", "4"]


def test_peer_must_be_an_http_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_ORACLE_PRIVATE_KEY", KEY)
    monkeypatch.setenv("ASC_ORACLE_PEERS", "127.0.0.1:8701")
    with pytest.raises(ValidationError, match="not an http"):
        OracleNodeSettings()


def test_shipment_must_be_a_twin_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_ORACLE_PRIVATE_KEY", KEY)
    monkeypatch.setenv("ASC_ORACLE_SHIPMENTS", "truck-1")
    with pytest.raises(ValidationError, match="custody twin id"):
        OracleNodeSettings()


def test_a_dev_key_index_is_a_key_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_ORACLE_DEV_KEY_INDEX", "2")
    assert OracleNodeSettings().dev_key_index == 2


def test_a_dev_key_index_and_a_raw_key_together_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_ORACLE_DEV_KEY_INDEX", "0")
    monkeypatch.setenv("ASC_ORACLE_PRIVATE_KEY", KEY)
    with pytest.raises(ValidationError, match="exactly one of"):
        OracleNodeSettings()


def test_without_a_shipment_filter_every_shipment_is_watched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_ORACLE_PRIVATE_KEY", KEY)
    monkeypatch.setenv("ASC_ORACLE_SHIPMENTS", "")
    assert OracleNodeSettings().shipments == []


def test_an_unknown_action_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_ORACLE_PRIVATE_KEY", KEY)
    monkeypatch.setenv("ASC_ORACLE_REEFER_FAILURE_ACTION", "refund")
    with pytest.raises(ValidationError, match="reefer_failure_action"):
        OracleNodeSettings()
