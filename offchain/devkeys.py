"""Well-known development keys for local chains only.

anvil derives its funded accounts from the public test mnemonic below; everybody knows these keys, so they
protect nothing. The demo, the tests and the benchmarks use them to play every organisation and oracle on a
local chain. Asking for them on any other chain is refused: real deployments use encrypted keystores.
"""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount

DEV_MNEMONIC = "test test test test test test test test test test test junk"
LOCAL_CHAIN_IDS = frozenset({1337, 31337})
# anvil funds indices 0-9; oracle keys come from further along the same path, so they are distinct.
ORACLE_KEY_OFFSET = 100

Account.enable_unaudited_hdwallet_features()


class NotALocalChainError(RuntimeError):
    """Development keys were asked for on a chain that is not a local development chain."""


def dev_account(index: int, chain_id: int) -> LocalAccount:
    """The development account at ``m/44'/60'/0'/0/index`` (anvil's funded ones are 0-9)."""
    if chain_id not in LOCAL_CHAIN_IDS:
        raise NotALocalChainError(
            f"development keys are public and only for local chains {sorted(LOCAL_CHAIN_IDS)}, not chain {chain_id}; "
            "use an encrypted keystore"
        )
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def dev_oracle_accounts(count: int, chain_id: int) -> list[LocalAccount]:
    """``count`` oracle signing keys for a local chain (unfunded; they only sign)."""
    return [dev_account(ORACLE_KEY_OFFSET + i, chain_id) for i in range(count)]
