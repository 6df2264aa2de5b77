"""``python -m oracles.node``: flags override the environment; bad configuration exits 2 without secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oracles.node.__main__ import main
from oracles.node.daemon import NodeConfigError, load_account
from oracles.node.settings import OracleNodeSettings

KEY = "0x" + "4c" * 32


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ASC_ORACLE_"):
            monkeypatch.delenv(name)


def test_a_missing_manifest_exits_2_naming_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    missing = tmp_path / "nowhere.json"
    assert main(["--dev-key-index", "0", "--manifest", str(missing), "--data-dir", str(tmp_path)]) == 2
    assert str(missing) in caplog.text


def test_a_bad_flag_value_exits_2_naming_the_setting_but_not_the_key(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ASC_ORACLE_PRIVATE_KEY", KEY)
    assert main(["--peers", "127.0.0.1:9102"]) == 2
    assert "ASC_ORACLE_PEERS" in caplog.text and KEY[2:] not in caplog.text


def test_a_flag_and_the_environment_naming_two_keys_exit_2(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ASC_ORACLE_PRIVATE_KEY", KEY)
    assert main(["--dev-key-index", "1"]) == 2
    assert "exactly one of" in caplog.text and KEY[2:] not in caplog.text


def test_the_dev_key_index_selects_the_dev_oracle_key_on_a_local_chain() -> None:
    from offchain.devkeys import dev_oracle_accounts

    settings = OracleNodeSettings(dev_key_index=1)
    assert load_account(settings, 31337).address == dev_oracle_accounts(2, 31337)[1].address


def test_dev_keys_are_refused_on_other_chains() -> None:
    with pytest.raises(NodeConfigError, match="only for local chains"):
        load_account(OracleNodeSettings(dev_key_index=0), 1)
