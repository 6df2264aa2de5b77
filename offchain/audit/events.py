"""Every event of the deployment, fetched with eth_getLogs from the deploy blocks and decoded by manifest ABIs.

Logs come in block chunks; a request that fails in transport is retried with exponential back-off, and a
range the node refuses (too many results, range too large) is asked again in halves. Events are returned in
chain order (block number, log index).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.types import FilterParams

from offchain.manifest import DeploymentManifest

log = logging.getLogger(__name__)

T = TypeVar("T")

# A minimal ERC-20 ABI: the escrow token need not be built from this repository.
ERC20_ABI: list[dict[str, Any]] = [
    {
        "anonymous": False,
        "inputs": [
            {"indexed": True, "name": "from", "type": "address"},
            {"indexed": True, "name": "to", "type": "address"},
            {"indexed": False, "name": "value", "type": "uint256"},
        ],
        "name": "Transfer",
        "type": "event",
    },
    {
        "inputs": [{"name": "account", "type": "address"}],
        "name": "balanceOf",
        "outputs": [{"name": "", "type": "uint256"}],
        "stateMutability": "view",
        "type": "function",
    },
]


class AuditRpcError(RuntimeError):
    """The node kept failing after every retry."""


@dataclass(frozen=True)
class ChainEvent:
    """One decoded log."""

    contract: str
    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    tx_hash: str
    address: str
    position: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "position", (self.block_number, self.log_index))

    @property
    def where(self) -> str:
        return f"{self.contract}.{self.name} block {self.block_number} log {self.log_index} tx {self.tx_hash}"


class RpcClient:
    """A web3 connection whose every call is retried with back-off."""

    def __init__(self, w3: Web3, retries: int = 4, backoff_s: float = 0.5) -> None:
        self.w3 = w3
        self._retries = retries
        self._backoff_s = backoff_s

    def call(
        self,
        what: str,
        request: Callable[[], T],
        retry_on: tuple[type[Exception], ...] = (OSError, Web3Exception, ValueError),
    ) -> T:
        delay = self._backoff_s
        for attempt in range(self._retries + 1):
            try:
                return request()
            except retry_on as exc:
                if attempt == self._retries:
                    raise AuditRpcError(f"{what} failed after {attempt + 1} attempts: {exc}") from exc
                log.warning("%s failed (%s); retrying in %.1f s", what, exc, delay)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")


class EventReader:
    """Fetches and decodes the logs of addresses from given blocks up to one fixed block (the audit's view)."""

    def __init__(self, rpc: RpcClient, to_block: int, chunk_blocks: int = 5_000) -> None:
        self._rpc = rpc
        self.to_block = to_block
        self._chunk = chunk_blocks

    def _logs(self, address: str, start: int, end: int, topics: list[Any] | None = None) -> list[Any]:
        params: dict[str, Any] = {"address": address, "fromBlock": start, "toBlock": end}
        if topics:
            params["topics"] = topics
        what = f"eth_getLogs {address} {start}-{end}"
        try:
            # Transport failures are retried with back-off; an answer that refuses the request is not.
            logs = self._rpc.call(what, lambda: self._rpc.w3.eth.get_logs(cast(FilterParams, params)), (OSError,))
        except (Web3Exception, ValueError) as exc:
            if end == start:
                raise AuditRpcError(f"{what} refused: {exc}") from exc
            # Providers cap the results or the range of one request: the same range in halves usually passes.
            log.info("%s refused (%s); asking in halves", what, exc)
            middle = (start + end) // 2
            return self._logs(address, start, middle, topics) + self._logs(address, middle + 1, end, topics)
        return list(logs)

    def fetch(
        self,
        label: str,
        address: str,
        abi: Sequence[dict[str, Any]],
        from_block: int,
        topics: list[Any] | None = None,
    ) -> list[ChainEvent]:
        """Every log of `address` (matching `topics` if given) decoded by `abi`; unknown events are skipped."""
        contract = self._rpc.w3.eth.contract(address=to_checksum_address(address), abi=abi)
        by_topic = {
            event_abi_to_log_topic(item): item["name"]  # type: ignore[arg-type]
            for item in abi
            if item.get("type") == "event" and not item.get("anonymous")
        }
        events: list[ChainEvent] = []
        for start in range(from_block, self.to_block + 1, self._chunk):
            end = min(start + self._chunk - 1, self.to_block)
            for raw in self._logs(address, start, end, topics):
                log_topics = raw["topics"]
                name = by_topic.get(bytes(log_topics[0])) if log_topics else None
                if name is None:
                    continue
                decoded = contract.events[name]().process_log(raw)
                events.append(
                    ChainEvent(
                        contract=label,
                        name=name,
                        args=dict(decoded["args"]),
                        block_number=int(raw["blockNumber"]),
                        log_index=int(raw["logIndex"]),
                        tx_hash="0x" + bytes(raw["transactionHash"]).hex(),
                        address=to_checksum_address(raw["address"]),
                    )
                )
        return events

    def fetch_manifest(self, manifest: DeploymentManifest) -> list[ChainEvent]:
        """Every event of every manifest contract, in chain order."""
        events: list[ChainEvent] = []
        for name, entry in manifest.contracts.items():
            events += self.fetch(name, entry.address, entry.abi, entry.deploy_block)
        log.info("read %d events of %d contracts up to block %d", len(events), len(manifest.contracts), self.to_block)
        return in_chain_order(events)


def in_chain_order(events: Iterable[ChainEvent]) -> list[ChainEvent]:
    return sorted(events, key=lambda e: e.position)
