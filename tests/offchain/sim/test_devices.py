from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from eth_account import Account

from offchain.sim.devices import KeyStore, KeyStoreError


def test_a_new_device_gets_a_key_that_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "device_keys.json"
    first = KeyStore(path)
    key = first.key_for("logger-ship-1")
    again = KeyStore(path)
    assert again.key_for("logger-ship-1") == key
    assert again.address_for("logger-ship-1") == Account.from_key(key).address


def test_each_device_has_its_own_key(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "k.json")
    assert keys.key_for("a") != keys.key_for("b")


def test_the_key_file_is_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    KeyStore(path).key_for("a")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_corrupt_key_file_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text("{not json")
    with pytest.raises(KeyStoreError, match=r"k\.json: cannot read the key file"):
        KeyStore(path)


def test_a_malformed_key_is_refused_naming_the_device(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"logger-x": "0x1234"}))
    with pytest.raises(KeyStoreError, match="entry 'logger-x' is not a 32-byte 0x-hex private key"):
        KeyStore(path)


def test_a_key_file_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text("[]")
    with pytest.raises(KeyStoreError, match="expected a JSON object"):
        KeyStore(path)
