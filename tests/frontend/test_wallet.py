"""The keystore: unlocked once with its password, the key kept in the process and never shown."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from frontend.wallet import SESSION_KEY, WalletError, WalletLockedError, current, forget, remember, require, unlock

PASSWORD = "wallet test password"


@pytest.fixture
def keystore(tmp_path):
    account = Account.create()
    path = tmp_path / "partner.json"
    path.write_text(json.dumps(Account.encrypt(account.key, PASSWORD, kdf="pbkdf2", iterations=2)))
    return path, account


def test_unlock_with_the_password(keystore) -> None:
    path, account = keystore
    assert unlock(path, PASSWORD).address == account.address


def test_a_wrong_password(keystore) -> None:
    path, _ = keystore
    with pytest.raises(WalletError, match=r"^The password does not unlock the keystore partner.json.$"):
        unlock(path, "wrong")


def test_a_missing_keystore(tmp_path) -> None:
    with pytest.raises(WalletError, match=r"^There is no keystore file at "):
        unlock(tmp_path / "none.json", PASSWORD)


def test_a_file_that_is_not_json(tmp_path) -> None:
    path = tmp_path / "k.json"
    path.write_text("not json")
    with pytest.raises(WalletError, match=r"cannot be read as a JSON keystore"):
        unlock(path, PASSWORD)


def test_json_that_is_not_a_keystore(tmp_path) -> None:
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"version": 3}))
    with pytest.raises(WalletError, match=r"^The keystore k.json is "):
        unlock(path, PASSWORD)


def test_the_key_is_never_in_its_representation(keystore) -> None:
    path, account = keystore
    wallet = unlock(path, PASSWORD)
    shown = repr(wallet) + str(wallet) + str(vars(wallet).get("source"))
    assert bytes(account.key).hex() not in shown
    assert account.address in repr(wallet)


def test_signs_messages_the_agents_can_recover(keystore) -> None:
    path, account = keystore
    signature = unlock(path, PASSWORD).sign_message(b'{"a":1}')
    assert Account.recover_message(encode_defunct(primitive=b'{"a":1}'), signature=signature) == account.address


def test_session_keeps_the_unlocked_wallet_until_forgotten(keystore) -> None:
    path, _ = keystore
    state: dict[str, object] = {}
    with pytest.raises(WalletLockedError):
        require(state)
    wallet = unlock(path, PASSWORD)
    remember(state, wallet)
    assert current(state) is wallet and require(state) is wallet
    forget(state)
    assert SESSION_KEY not in state and current(state) is None
