"""The partner's key: an encrypted JSON keystore, unlocked once per browser session.

The decrypted key lives only in this process (in the session's state, inside a `Wallet` whose repr hides it);
it signs transactions and messages locally and is never sent, logged or written anywhere.
"""

from __future__ import annotations

import json
import logging
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.datastructures import SignedTransaction
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

log = logging.getLogger(__name__)

SESSION_KEY = "asc_wallet"


class WalletError(ValueError):
    """The keystore cannot be read or unlocked (the message says why, in a sentence)."""


class WalletLockedError(RuntimeError):
    """A write was asked for while no keystore is unlocked in this session."""


class Wallet:
    def __init__(self, account: LocalAccount, source: str) -> None:
        self._account = account
        self.source = source

    @property
    def address(self) -> str:
        return str(self._account.address)

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTransaction:
        return self._account.sign_transaction(tx)

    def sign_message(self, data: bytes) -> str:
        """EIP-191 personal_sign over `data` (the agents' contract: canonical JSON), 0x-prefixed hex."""
        signed = self._account.sign_message(encode_defunct(primitive=data))
        return "0x" + bytes(signed.signature).hex()

    def __repr__(self) -> str:
        return f"Wallet({self.address} from {self.source})"


def unlock(path: Path, password: str) -> Wallet:
    try:
        keystore = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WalletError(f"There is no keystore file at {path}.") from None
    except (OSError, ValueError) as exc:
        raise WalletError(f"The keystore file {path} cannot be read as a JSON keystore ({exc}).") from None
    try:
        key = Account.decrypt(keystore, password)
    except ValueError as exc:
        # eth-account says "MAC mismatch" for a wrong password; other ValueErrors are a malformed keystore.
        if "MAC mismatch" in str(exc):
            raise WalletError(f"The password does not unlock the keystore {path.name}.") from None
        raise WalletError(f"The keystore {path.name} is not a valid encrypted keystore ({exc}).") from None
    except (KeyError, TypeError) as exc:
        raise WalletError(f"The keystore {path.name} is missing the field {exc}.") from None
    account: LocalAccount = Account.from_key(key)
    log.info("keystore %s unlocked for %s", path.name, account.address)
    return Wallet(account, path.name)


def current(state: MutableMapping[Any, Any]) -> Wallet | None:
    wallet = state.get(SESSION_KEY)
    return wallet if isinstance(wallet, Wallet) else None


def require(state: MutableMapping[Any, Any]) -> Wallet:
    wallet = current(state)
    if wallet is None:
        raise WalletLockedError("no keystore unlocked in this session")
    return wallet


def remember(state: MutableMapping[Any, Any], wallet: Wallet) -> None:
    state[SESSION_KEY] = wallet


def forget(state: MutableMapping[Any, Any]) -> None:
    state.pop(SESSION_KEY, None)
