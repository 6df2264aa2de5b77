"""A reorg-safe event scanner in the manner of web3.py's EventScanner.

Each poll scans `(last, head - confirmations]` in chunks, hands every decoded suite log to the handler once
(claimed by (tx hash, log index) in the same database as the handler's effects' bookkeeping), and persists the
cursor with the hashes of the last `reorg_depth` scanned blocks. A stored hash that no longer matches the chain
means a reorg: the cursor moves back to the newest block whose hash still matches and the blocks after it are
scanned again; logs seen before keep their claim (idempotent), logs new to the canonical chain are handled.
RPC errors end the poll with `ScanError`; the run loop backs off exponentially.

The scanner reads the chain through a `ChainReader`: `NodeReader` asks the node on every call (one agent per
process, the CLI). A process hosting many agents (a simulation, a bench, an organisation running several roles)
gives all of them one `SharedReader` and calls `next_round()` before each round of polls: the head, block hashes
and decoded logs are then read from the node once per round instead of once per agent. Each scanner still
keeps its own cursor, claims and stored hashes, so reorg detection and once-per-log handling are unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol, cast

from hexbytes import HexBytes
from web3.types import FilterParams

from .chain import Chain, ChainEvent
from .state import AgentState

log = logging.getLogger("asc.agents.scanner")

Handler = Callable[[ChainEvent], None]


class ScanError(RuntimeError):
    """The node could not be read (down, timing out, or answering errors); nothing was lost."""


class ReorgTooDeepError(RuntimeError):
    """No stored block hash matches the chain any more: the reorg is deeper than `reorg_depth`."""


class ChainReader(Protocol):
    """What a scanner reads from the chain; errors propagate (the scanner turns them into `ScanError`)."""

    def head(self) -> int: ...

    def block_hash(self, number: int) -> str: ...

    def events(self, start: int, end: int) -> Sequence[ChainEvent]:
        """The suite's decoded events in blocks `start..end`, in chain order."""
        ...


class NodeReader:
    """Every question goes to the node."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain

    def head(self) -> int:
        return int(self.chain.w3.eth.block_number)

    def block_hash(self, number: int) -> str:
        return HexBytes(self.chain.w3.eth.get_block(number)["hash"]).to_0x_hex()

    def events(self, start: int, end: int) -> list[ChainEvent]:
        logs = self.chain.w3.eth.get_logs(
            cast(FilterParams, {"fromBlock": start, "toBlock": end, "address": self.chain.addresses})
        )
        events = [e for e in (self.chain.decode(item) for item in logs) if e is not None]
        events.sort(key=lambda e: (e.block_number, e.log_index))
        return events


class SharedReader:
    """One read of the chain per round for all the scanners of a process.

    The head is read at the round's first question and kept until `next_round()`; a block hash or an events
    range asked for again in the same round is answered from memory (the same `ChainEvent` objects go to every
    scanner: handlers treat events as read-only). Failures are not remembered: the next question asks the node
    again. Memory holds one round's answers only."""

    def __init__(self, chain: Chain) -> None:
        self.node = NodeReader(chain)
        self.node_reads = 0
        self.answered_from_memory = 0
        self.next_round()

    def next_round(self) -> None:
        """Forget the last round's snapshot: the next question reads the node's new head."""
        self._head: int | None = None
        self._hashes: dict[int, str] = {}
        self._events: dict[tuple[int, int], list[ChainEvent]] = {}

    def head(self) -> int:
        if self._head is None:
            self._head = self.node.head()
            self.node_reads += 1
        else:
            self.answered_from_memory += 1
        return self._head

    def block_hash(self, number: int) -> str:
        if number not in self._hashes:
            self._hashes[number] = self.node.block_hash(number)
            self.node_reads += 1
        else:
            self.answered_from_memory += 1
        return self._hashes[number]

    def events(self, start: int, end: int) -> list[ChainEvent]:
        if (start, end) not in self._events:
            self._events[(start, end)] = self.node.events(start, end)
            self.node_reads += 1
        else:
            self.answered_from_memory += 1
        return self._events[(start, end)]


class EventScanner:
    def __init__(
        self,
        chain: Chain,
        state: AgentState,
        handler: Handler,
        *,
        name: str = "suite",
        confirmations: int = 2,
        chunk_blocks: int = 2_000,
        reorg_depth: int = 12,
        reader: ChainReader | None = None,
    ) -> None:
        self.chain = chain
        self.reader: ChainReader = reader if reader is not None else NodeReader(chain)
        self.state = state
        self.handler = handler
        self.name = name
        self.confirmations = confirmations
        self.chunk_blocks = chunk_blocks
        self.reorg_depth = reorg_depth
        self.reorgs_detected = 0

    @property
    def last_block(self) -> int:
        saved = self.state.cursor(self.name)
        return self.chain.first_block - 1 if saved is None else saved

    def _block_hash(self, number: int) -> str:
        return self.reader.block_hash(number)

    def _check_reorg(self) -> int:
        """The last block to trust: the cursor, or the newest stored block still on the canonical chain."""
        last = self.last_block
        stored = self.state.block_hashes()
        if not stored or last not in stored:
            return last
        for number in sorted(stored, reverse=True):
            if number > last:
                continue
            if self._block_hash(number) == stored[number]:
                if number != last:
                    self.reorgs_detected += 1
                    log.warning("reorg: blocks %d..%d changed; rescanning them", number + 1, last)
                return number
        raise ReorgTooDeepError(
            f"none of the last {len(stored)} scanned blocks ({min(stored)}..{max(stored)}) is on the chain any more"
        )

    def poll(self) -> int:
        """Scan what is confirmed; returns the number of events handled. Raises ScanError on RPC failure."""
        try:
            trusted = self._check_reorg()
            head = self.reader.head()
        except ReorgTooDeepError:
            raise
        except Exception as exc:  # any transport or node error: the caller backs off and retries
            raise ScanError(f"cannot read the chain: {exc}") from exc
        target = head - self.confirmations
        if target <= trusted:
            if trusted != self.last_block:
                self._save(trusted, trusted + 1)
            return 0
        handled = 0
        start = trusted + 1
        while start <= target:
            end = min(start + self.chunk_blocks - 1, target)
            try:
                events = self.reader.events(start, end)
            except Exception as exc:
                raise ScanError(f"eth_getLogs {start}..{end} failed: {exc}") from exc
            for event in events:
                if self.state.is_processed(event.tx_hash, event.log_index):
                    continue
                self.handler(event)  # a handler that raises leaves the event unclaimed: it is retried
                self.state.mark_processed(event.tx_hash, event.log_index, event.block_number, event.name)
                handled += 1
            self._save(end, start)
            start = end + 1
        return handled

    def _save(self, last: int, fresh_from: int) -> None:
        """Persist the cursor; hashes are read only for the blocks scanned now (older ones are still stored)."""
        low = max(self.chain.first_block, last - self.reorg_depth + 1, fresh_from)
        hashes = {n: self._block_hash(n) for n in range(low, last + 1)}
        self.state.save_cursor(self.name, last, hashes, keep=self.reorg_depth)


class Backoff:
    """Exponential back-off for RPC errors: base, doubling, capped; reset after a success."""

    def __init__(self, base_s: float = 0.5, cap_s: float = 30.0) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self.failures = 0

    def failed(self) -> float:
        delay = float(min(self.cap_s, self.base_s * (2**self.failures)))
        self.failures += 1
        return delay

    def succeeded(self) -> None:
        self.failures = 0
