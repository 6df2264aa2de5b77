from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from offchain.storage.settings import StorageSettings

API = "/ip4/127.0.0.1/tcp/5001/http"


@pytest.fixture(autouse=True)
def _no_storage_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BACKEND", "DIRECTORY", "IPFS_API", "IPFS_HTTP_TIMEOUT_S", "IPFS_FETCH_TIMEOUT_S"):
        monkeypatch.delenv(f"ASC_STORAGE_{name}", raising=False)


def test_backend_defaults_to_embedded() -> None:
    assert StorageSettings().resolved_backend == "embedded"


def test_backend_is_ipfs_when_an_api_is_configured() -> None:
    assert StorageSettings(ipfs_api=API).resolved_backend == "ipfs"


def test_explicit_embedded_backend_wins_over_a_configured_api() -> None:
    assert StorageSettings(backend="embedded", ipfs_api=API).resolved_backend == "embedded"


def test_settings_read_the_asc_storage_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASC_STORAGE_DIRECTORY", str(tmp_path))
    monkeypatch.setenv("ASC_STORAGE_IPFS_API", API)
    settings = StorageSettings()
    assert (settings.directory, settings.ipfs_api) == (tmp_path, API)


def test_ipfs_backend_requires_an_api() -> None:
    with pytest.raises(ValidationError, match="needs ASC_STORAGE_IPFS_API"):
        StorageSettings(backend="ipfs")


def test_unknown_backend_is_rejected() -> None:
    with pytest.raises(ValidationError, match="backend"):
        StorageSettings(backend="s3")  # type: ignore[arg-type]


def test_malformed_api_multiaddr_is_rejected() -> None:
    with pytest.raises(ValidationError, match="not a multiaddr"):
        StorageSettings(ipfs_api="http://127.0.0.1:5001")


def test_http_timeout_must_exceed_node_side_timeouts() -> None:
    with pytest.raises(ValidationError, match="must exceed the node-side timeouts"):
        StorageSettings(ipfs_http_timeout_s=5, ipfs_fetch_timeout_s=5)


def test_negative_retries_are_rejected() -> None:
    with pytest.raises(ValidationError, match="ipfs_retries"):
        StorageSettings(ipfs_retries=-1)


def test_unknown_settings_are_rejected() -> None:
    with pytest.raises(ValidationError, match="ipfs_apii"):
        StorageSettings(ipfs_apii=API)  # type: ignore[call-arg]
