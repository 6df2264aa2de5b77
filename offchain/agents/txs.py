"""The transaction journal: at most one transaction per idempotency key, across crashes.

`submit(key, call)` records the action under `key` before anything else. It then estimates gas (a revert here
means the contract says the action is not due: the action is `rejected`, with the reason, and never retried),
assigns the nonce, signs, and stores the raw transaction and its hash (`signed`) BEFORE broadcasting it. A crash
anywhere leaves one of: nothing (the key is new), `intended` (nothing was signed, so nothing was sent: it is safe
to sign now), or `signed` (the exact bytes are re-broadcast: same nonce, same hash, never a second transaction).
An action still unmined after `timeout_s` is replaced: same nonce, fees raised by 12.5 % (the minimum a node
accepts as a replacement); every version's hash is kept and a receipt for any of them completes the action.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from hexbytes import HexBytes
from sqlalchemy import func, select
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound
from web3.types import TxParams

from .state import Action, AgentState

log = logging.getLogger("asc.agents.txs")

DONE = frozenset({"mined", "reverted", "rejected"})


@dataclass(frozen=True)
class Outcome:
    key: str
    status: str  # intended | signed | mined | reverted | rejected
    tx_hash: str | None
    block_number: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status == "mined"

    @property
    def done(self) -> bool:
        return self.status in DONE


def _outcome(row: Action) -> Outcome:
    return Outcome(row.key, row.status, row.tx_hash, row.block_number, row.error)


class TxJournal:
    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        state: AgentState,
        *,
        timeout_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        broadcast_hook: Callable[[str], None] | None = None,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.state = state
        self.timeout_s = timeout_s
        self.clock = clock
        # Tests inject a crash between "signed and stored" and "broadcast" through this hook.
        self._broadcast_hook = broadcast_hook

    # ------------------------------------------------------------------ public

    def outcome(self, key: str) -> Outcome | None:
        with self.state.session() as s:
            row = s.get(Action, key)
            return None if row is None else _outcome(row)

    def submit(self, key: str, call: Any, description: str = "") -> Outcome:
        """Send `call` (a web3 contract function call) once for `key`; returns the action's state now.

        Calling it again with the same key never sends a second transaction: it re-broadcasts a signed one
        that is not mined yet, or just reports the outcome."""
        with self.state.session() as s:
            row = s.get(Action, key)
            if row is None:
                row = Action(
                    key=key,
                    status="intended",
                    description=description,
                    to=call.address,
                    data=call._encode_transaction_data(),
                )
                s.add(row)
        return self._advance(key)

    def pending(self) -> list[str]:
        with self.state.session() as s:
            return list(s.scalars(select(Action.key).where(Action.status.in_(("intended", "signed")))))

    def advance_all(self) -> list[Outcome]:
        """Move every unfinished action on (sign, resend, replace, read receipts); run after a restart."""
        return [self._advance(key) for key in self.pending()]

    def wait(self, key: str, timeout_s: float = 30.0, poll_s: float = 0.05) -> Outcome:
        deadline = time.monotonic() + timeout_s
        while True:
            outcome = self._advance(key)
            if outcome.done or time.monotonic() > deadline:
                return outcome
            time.sleep(poll_s)

    # ------------------------------------------------------------------ steps

    def _advance(self, key: str) -> Outcome:
        with self.state.session() as s:
            row = s.get(Action, key)
            if row is None:
                raise KeyError(key)
            snapshot = _outcome(row)
            status = row.status
        if status == "intended":
            return self._sign_and_send(key)
        if status == "signed":
            return self._check_or_resend(key)
        return snapshot

    def _next_nonce(self) -> int:
        chain_nonce = self.w3.eth.get_transaction_count(self.account.address, "pending")
        with self.state.session() as s:
            highest = s.scalar(select(func.max(Action.nonce)).where(Action.nonce.is_not(None)))
        return max(chain_nonce, -1 if highest is None else highest + 1)

    def _sign_and_send(self, key: str) -> Outcome:
        with self.state.session() as s:
            row = s.get(Action, key)
            assert row is not None
            tx: dict[str, Any] = {"from": self.account.address, "to": row.to, "data": row.data}
        try:
            gas = int(self.w3.eth.estimate_gas(cast(TxParams, tx))) * 6 // 5  # hooks read cold slots: keep a margin
        except ContractLogicError as exc:
            return self._finish(key, "rejected", error=f"the contract refused: {exc}")
        base_fee = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0))
        priority = int(self.w3.eth.max_priority_fee) if base_fee else 0
        tx.update(
            {
                "gas": gas,
                "nonce": self._next_nonce(),
                "chainId": self.w3.eth.chain_id,
                "maxPriorityFeePerGas": priority,
                "maxFeePerGas": 2 * base_fee + priority,
            }
        )
        return self._sign_store_broadcast(key, tx)

    def _sign_store_broadcast(self, key: str, tx: dict[str, Any]) -> Outcome:
        signed = self.account.sign_transaction(tx)
        raw, tx_hash = HexBytes(signed.raw_transaction).to_0x_hex(), HexBytes(signed.hash).to_0x_hex()
        with self.state.session() as s:
            row = s.get(Action, key)
            assert row is not None
            row.status, row.nonce, row.gas = "signed", tx["nonce"], tx["gas"]
            row.max_fee, row.priority_fee = tx["maxFeePerGas"], tx["maxPriorityFeePerGas"]
            row.raw_tx, row.tx_hash, row.sent_at = raw, tx_hash, self.clock()
            row.all_hashes = json.dumps([*json.loads(row.all_hashes), tx_hash])
        log.info("action %s: signed %s (nonce %d)", key, tx_hash, tx["nonce"])
        self._broadcast(key, raw)
        return self._check_or_resend(key, resend=False)

    def _broadcast(self, key: str, raw: str) -> None:
        if self._broadcast_hook is not None:
            self._broadcast_hook(key)
        try:
            self.w3.eth.send_raw_transaction(HexStr(raw))
        except Exception as exc:  # "already known", "nonce too low" (mined): the receipt check decides
            log.debug("action %s: broadcast answered %s", key, exc)

    def _mined(self, key: str) -> Outcome | None:
        """The outcome once any signed version of the action has a receipt, else None."""
        with self.state.session() as s:
            row = s.get(Action, key)
            assert row is not None
            hashes = json.loads(row.all_hashes)
        for tx_hash in hashes:
            try:
                receipt = self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                continue
            status = "mined" if receipt["status"] == 1 else "reverted"
            return self._finish(key, status, tx_hash=tx_hash, block=int(receipt["blockNumber"]))
        return None

    def _check_or_resend(self, key: str, resend: bool = True) -> Outcome:
        mined = self._mined(key)
        if mined is not None:
            return mined
        if resend:
            with self.state.session() as s:
                row = s.get(Action, key)
                assert row is not None and row.raw_tx is not None
                raw, sent_at = row.raw_tx, row.sent_at
            if sent_at is not None and self.clock() - sent_at > self.timeout_s:
                return self._replace(key)
            self._broadcast(key, raw)  # the node may have dropped it (restart, eviction): re-sending is harmless
            mined = self._mined(key)
            if mined is not None:
                return mined
        return self.outcome(key)  # type: ignore[return-value]

    def _replace(self, key: str) -> Outcome:
        with self.state.session() as s:
            row = s.get(Action, key)
            assert row is not None and row.nonce is not None
            tx = {
                "from": self.account.address,
                "to": row.to,
                "data": row.data,
                "gas": row.gas,
                "nonce": row.nonce,
                "chainId": self.w3.eth.chain_id,
                "maxPriorityFeePerGas": (row.priority_fee or 0) * 9 // 8 + 1,
                "maxFeePerGas": (row.max_fee or 0) * 9 // 8 + 1,
            }
        log.warning("action %s: unmined after %.0f s; replacing nonce %d", key, self.timeout_s, tx["nonce"])
        return self._sign_store_broadcast(key, tx)

    def _finish(self, key: str, status: str, *, tx_hash: str | None = None, block: int | None = None,
                error: str | None = None) -> Outcome:
        with self.state.session() as s:
            row = s.get(Action, key)
            assert row is not None
            row.status, row.error = status, error
            if tx_hash is not None:
                row.tx_hash, row.block_number = tx_hash, block
            outcome = _outcome(row)
        if status == "mined":
            log.info("action %s: mined in block %s (%s)", key, block, tx_hash)
        else:
            log.warning("action %s: %s %s", key, status, error or tx_hash or "")
        return outcome
