"""web3.py client of the node: reads terms, the oracle set and consumed windows; submits verdicts.

Addresses and ABIs come from the deployment manifest only. Every RPC call is retried with exponential
back-off while the endpoint is unreachable (a node outage must delay verdicts, not lose them). Submission
follows the keeper pattern: let the contract decide (gas estimation reverts with the hub's custom error when
the window is already consumed, which counts as success by a peer), explicit nonces, and the signed raw
transaction recorded by the caller before it is sent so a crash re-sends the same bytes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import requests
from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound, Web3RPCError

from offchain.manifest import DeploymentManifest
from oracles.node.terms import ChainTerms
from oracles.verdicts import Verdict

log = logging.getLogger("asc.oracle.chain")
T = TypeVar("T")
ZERO32 = b"\0" * 32
TRANSIENT = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)


class NodeStoppingError(Exception):
    """The node is shutting down while waiting for the chain."""


class ChainError(RuntimeError):
    """The chain refused something for a reason retrying will not fix."""


@dataclass(frozen=True, slots=True)
class OracleSet:
    epoch: int
    threshold: int
    signers: tuple[str, ...]


class SubmitStatus(StrEnum):
    PREPARED = "prepared"  # signed transaction ready to record and send
    CONSUMED = "consumed"  # the window already has a verdict (a peer's, or ours mined earlier)
    NOT_YET = "not_yet"  # the chain clock has not reached the window's end yet


@dataclass(frozen=True, slots=True)
class Prepared:
    status: SubmitStatus
    tx_hash: str | None = None
    raw_tx: str | None = None
    accepted_id: bytes | None = None


def _selector(abi_item: dict[str, Any]) -> bytes:
    types = ",".join(_abi_type(i) for i in abi_item["inputs"])
    return keccak(text=f"{abi_item['name']}({types})")[:4]


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + str(item["type"][5:])
    return str(item["type"])


class ChainClient:
    def __init__(
        self,
        rpc_url: str,
        manifest: DeploymentManifest,
        account: LocalAccount,
        stop: threading.Event,
        *,
        backoff_initial_s: float = 0.25,
        backoff_max_s: float = 10.0,
        gas_margin_percent: int = 20,
        rpc_timeout_s: float = 10.0,
    ) -> None:
        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": rpc_timeout_s}))
        self.manifest = manifest
        self.account = account
        self._stop = stop
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._gas_margin = gas_margin_percent
        hub = manifest.contract("VerdictHub")
        self.hub = self.w3.eth.contract(address=to_checksum_address(hub.address), abi=hub.abi)
        custody = manifest.contract("CustodyTwin")
        self.custody = self.w3.eth.contract(address=to_checksum_address(custody.address), abi=custody.abi)
        procurement = manifest.contract("Procurement")
        self.procurement = self.w3.eth.contract(address=to_checksum_address(procurement.address), abi=procurement.abi)
        escrow = manifest.contract("Escrow")
        self.escrow = self.w3.eth.contract(address=to_checksum_address(escrow.address), abi=escrow.abi)
        self._block_times: dict[int, int] = {}
        self._errors = {_selector(item): item for item in hub.abi if item.get("type") == "error"}
        self._nonce: int | None = None
        self._set_lock = threading.Lock()
        self._sets: dict[int, OracleSet] = {}

    @property
    def hub_address(self) -> str:
        return str(self.hub.address)

    # ---------------------------------------------------------------- retries

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """``fn()``, retried with exponential back-off while the RPC endpoint is unreachable."""
        delay, ceiling = self._backoff
        while True:
            try:
                return fn()
            except TRANSIENT as exc:
                log.warning("RPC unavailable during %s (%s); retrying in %.2f s", what, type(exc).__name__, delay)
            if self._stop.wait(delay):
                raise NodeStoppingError(what)
            delay = min(delay * 2, ceiling)

    # ---------------------------------------------------------------- reads

    def check_wiring(self) -> None:
        """Start-up check: the manifest's chain is the one the RPC serves, and the hub has code there."""
        chain_id = self.call("eth_chainId", lambda: self.w3.eth.chain_id)
        if chain_id != self.manifest.chain_id:
            raise ChainError(f"RPC serves chain {chain_id}, the manifest describes chain {self.manifest.chain_id}")
        code = self.call("eth_getCode", lambda: self.w3.eth.get_code(self.hub.address))
        if not code:
            raise ChainError(f"no VerdictHub code at {self.hub.address} on chain {chain_id} (stale manifest?)")

    @property
    def chain_id(self) -> int:
        return self.manifest.chain_id

    def oracle_set(self) -> OracleSet:
        """The current epoch's set (read fresh: epochs rotate)."""
        config = self.call("oracleConfig", lambda: self.hub.functions.oracleConfig().call())
        epoch = int(config[0])
        with self._set_lock:
            known = self._sets.get(epoch)
        if known is not None:
            return known
        signers = self.call("signers", lambda: self.hub.functions.signers().call())
        found = OracleSet(epoch, int(config[1]), tuple(to_checksum_address(s) for s in signers))
        with self._set_lock:
            self._sets[epoch] = found
        return found

    def order_of_twin(self, twin_id: int) -> int:
        twin = self.call("twin", lambda: self.custody.functions.twin(twin_id).call())
        return int(twin[0])

    def sla_terms(self, order_id: int) -> ChainTerms:
        terms = self.call("slaTerms", lambda: self.procurement.functions.slaTerms(order_id).call())
        return ChainTerms(*(int(value) for value in terms))

    def delivery_deadline(self, order_id: int) -> int:
        """The order's SLA delivery deadline (unix seconds) from Escrow."""
        order = self.call("order", lambda: self.escrow.functions.order(order_id).call())
        return int(order[8])

    def head(self) -> tuple[int, int]:
        """(number, timestamp) of the latest block."""
        block = self.call("eth_getBlockByNumber", lambda: self.w3.eth.get_block("latest"))
        return int(block["number"]), int(block["timestamp"])

    def block_time(self, number: int) -> int:
        known = self._block_times.get(number)
        if known is None:
            block = self.call("eth_getBlockByNumber", lambda: self.w3.eth.get_block(number))
            known = self._block_times[number] = int(block["timestamp"])
        return known

    def logs(self, contract: Any, event: str, from_block: int, to_block: int) -> list[Any]:
        """The event's logs in [from_block, to_block], in chain order."""
        fetch = getattr(contract.events, event).get_logs
        found = self.call(f"eth_getLogs {event}", lambda: fetch(from_block=from_block, to_block=to_block))
        return sorted(found, key=lambda e: (e["blockNumber"], e["logIndex"]))

    def verdict_of_window(self, verdict: Verdict) -> bytes:
        """The accepted verdict id of the verdict's window, or 32 zero bytes."""
        fn = self.hub.functions.verdictOfWindow(verdict.order_id, int(verdict.kind), verdict.window_start)
        return bytes(self.call("verdictOfWindow", fn.call))

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber", lambda: self.w3.eth.block_number))

    # ---------------------------------------------------------------- submission

    def _decode_error(self, exc: ContractCustomError) -> tuple[str, tuple[Any, ...]]:
        data = exc.data if isinstance(exc.data, str) else str(exc.args[-1] if exc.args else "")
        raw = bytes.fromhex(data.removeprefix("0x"))
        item = self._errors.get(raw[:4])
        if item is None:
            return ("unknown", (data,))
        values = abi_decode([_abi_type(i) for i in item["inputs"]], raw[4:])
        return (str(item["name"]), tuple(values))

    def prepare_submission(self, verdict: Verdict, signatures: bytes) -> Prepared:
        """Estimate gas (the contract decides whether the verdict is due), then sign; no send."""
        fn = self.hub.functions.submitVerdict(verdict.as_tuple(), signatures)
        sender = self.account.address
        try:
            gas = self.call("estimateGas", lambda: fn.estimate_gas({"from": sender}))
        except ContractCustomError as exc:
            name, args = self._decode_error(exc)
            if name == "VerdictHubWindowConsumed":
                return Prepared(SubmitStatus.CONSUMED, accepted_id=bytes(args[3]))
            if name == "VerdictHubInvalidWindow" and args[1] > args[2]:
                return Prepared(SubmitStatus.NOT_YET)
            raise ChainError(f"hub refuses the verdict: {name}{args}") from exc
        except ContractLogicError as exc:
            raise ChainError(f"hub refuses the verdict: {exc}") from exc
        if self._nonce is None:
            self._nonce = self.call(
                "eth_getTransactionCount", lambda: self.w3.eth.get_transaction_count(sender, "pending")
            )
        tx = self.call(
            "buildTransaction",
            lambda: fn.build_transaction(
                {  # type: ignore[arg-type]  # web3's TxParams TypedDict
                    "from": sender,
                    "nonce": self._nonce,
                    "gas": gas * (100 + self._gas_margin) // 100,
                    "chainId": self.chain_id,
                }
            ),
        )
        signed = self.account.sign_transaction(tx)  # type: ignore[arg-type]
        return Prepared(
            SubmitStatus.PREPARED,
            tx_hash="0x" + bytes(signed.hash).hex(),
            raw_tx="0x" + bytes(signed.raw_transaction).hex(),
        )

    def send(self, raw_tx: str, tx_hash: str) -> None:
        """Send recorded raw bytes; a node that already knows them (a re-send after a crash) is fine."""
        try:
            self.call("eth_sendRawTransaction", lambda: self.w3.eth.send_raw_transaction(HexStr(raw_tx)))
        except (Web3RPCError, ValueError) as exc:
            if self.transaction_known(tx_hash):
                log.info("transaction %s already known to the node", tx_hash)
            else:
                # Our nonce was used by something else (another process with this key?): re-read it next time.
                self._nonce = None
                raise ChainError(f"cannot send {tx_hash}: {exc}") from exc
        else:
            if self._nonce is not None:
                self._nonce += 1

    def transaction_known(self, tx_hash: str) -> bool:
        try:
            self.call("eth_getTransactionByHash", lambda: self.w3.eth.get_transaction(tx_hash))  # type: ignore[arg-type]
        except TransactionNotFound:
            return False
        return True

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        """The receipt, or None while the transaction is not mined."""
        try:
            return dict(
                self.call("eth_getTransactionReceipt", lambda: self.w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]
            )
        except TransactionNotFound:
            return None

    def forget_nonce(self) -> None:
        self._nonce = None
