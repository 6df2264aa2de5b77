"""One agent process: its key, chain, state, scanner, journal, transcript, approvals and world, driving a role.

`Agent.step()` does one round: scan confirmed events into the role's handlers, let the role act on the chain
clock (`tick`), flush the transcript outbox. `Agent.run()` repeats it until SIGTERM/SIGINT, backing off on RPC
errors, then unregisters from the ParticipantRegistry (a clean shutdown) and closes the state.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

import httpx
import requests
from eth_account.signers.local import LocalAccount

from .approvals import ApprovalDesk
from .chain import Chain, ChainEvent, to_bytes32
from .config import AgentConfig
from .scanner import Backoff, ChainReader, EventScanner, ScanError
from .state import AgentState
from .strategy.buyer import ReorderPlanner, RiskScorer
from .transcript import Transcript
from .txs import Outcome, TxJournal
from .world import WorldPort

if TYPE_CHECKING:
    from .roles.base import Role

log = logging.getLogger("asc.agents.runtime")

# Failures of the node, the API or the world service: worth retrying the same work after a back-off.
TRANSIENT: tuple[type[BaseException], ...] = (
    requests.exceptions.RequestException, httpx.TransportError, ConnectionError, TimeoutError,
)


@dataclass
class AgentContext:
    """Everything a role may use; built by `build_agent` (CLI) or by tests from real parts."""

    config: AgentConfig
    chain: Chain
    account: LocalAccount
    state: AgentState
    txs: TxJournal
    transcript: Transcript
    approvals: ApprovalDesk
    world: WorldPort | None = None
    risk: RiskScorer | None = None
    planner: ReorderPlanner | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return str(self.account.address)

    @property
    def key_prefix(self) -> str:
        """Journal keys name the deployment, so a fresh chain never meets the keys of an old one."""
        return f"{self.chain.chain_id}:{self.chain.procurement.address[2:10].lower()}"

    def act(self, key: str, call: Any, description: str) -> Outcome:
        return self.txs.submit(f"{self.key_prefix}:{key}", call, description)

    def outcome(self, key: str) -> Outcome | None:
        return self.txs.outcome(f"{self.key_prefix}:{key}")

    def conversation(self, kind: str, number: int) -> str:
        return f"{kind}:{self.chain.chain_id}:{number}"


class Agent:
    def __init__(self, ctx: AgentContext, role: Role, *, confirmations: int = 2, poll_interval_s: float = 1.0,
                 chunk_blocks: int = 2_000, reorg_depth: int = 12, reader: ChainReader | None = None) -> None:
        """`reader`: where the scanner reads the chain; None asks the node directly. Agents stepped together
        in one process share a `scanner.SharedReader` (see there)."""
        self.ctx = ctx
        self.role = role
        self.poll_interval_s = poll_interval_s
        self.scanner = EventScanner(
            ctx.chain, ctx.state, self._handle, confirmations=confirmations, chunk_blocks=chunk_blocks,
            reorg_depth=reorg_depth, reader=reader,
        )
        self._stop = threading.Event()

    def _handle(self, event: ChainEvent) -> None:
        """Transport failures end the poll (the event is retried after a back-off); any other failure is a
        problem with this one event: logged with its location and skipped, so it cannot wedge the agent."""
        try:
            self.role.on_event(event)
        except TRANSIENT as exc:
            raise ScanError(f"handling {event.name} ({event.tx_hash}:{event.log_index}): {exc}") from exc
        except Exception:
            log.exception("%s: handling %s (%s:%d) failed; event skipped", self.ctx.config.name, event.name,
                          event.tx_hash, event.log_index)

    # ------------------------------------------------------------------ lifecycle

    def register(self) -> Outcome | None:
        """Announce our services (idempotent: nothing when the registry already says the same roles)."""
        cfg = self.ctx.config
        registry = self.ctx.chain.registry
        current = registry.functions.participant(self.ctx.address).call()
        roles = int(current[0])
        product = to_bytes32(cfg.products[0].product) if cfg.products else bytes(32)
        service = (product, to_bytes32(cfg.region), cfg.capacity, cfg.metadata_uri or f"asc-agent:{cfg.name}")
        if roles == cfg.role_bits:
            log.info("%s (%s) already registered as %s", cfg.name, self.ctx.address, cfg.kind)
            return None
        if roles == 0:
            call = registry.functions.register(cfg.role_bits, service)
            key = f"register:{self._count('registrations')}"
        else:
            call = registry.functions.update(cfg.role_bits, service)
            key = f"update:{self._count('updates')}"
        outcome = self.ctx.txs.wait(self.ctx.act(key, call, f"register {cfg.name} as {cfg.kind}").key)
        if not outcome.ok:
            raise RuntimeError(f"registering {cfg.name} failed: {outcome.status} {outcome.error or outcome.tx_hash}")
        log.info("%s registered as %s in %s (tx %s)", cfg.name, cfg.kind, cfg.region, outcome.tx_hash)
        return outcome

    def _count(self, name: str) -> int:
        """A fresh sequence number per lifecycle action (register again after an unregister)."""
        value = (self.ctx.state.fact("lifecycle", name) or {}).get("n", 0) + 1
        self.ctx.state.put_fact("lifecycle", name, {"n": value})
        return int(value)

    def unregister(self) -> Outcome | None:
        roles = int(self.ctx.chain.registry.functions.participant(self.ctx.address).call()[0])
        if roles == 0:
            return None
        key = f"unregister:{self._count('unregistrations')}"
        outcome = self.ctx.txs.wait(
            self.ctx.act(key, self.ctx.chain.registry.functions.unregister(), "unregister").key
        )
        log.info("%s unregistered (%s)", self.ctx.config.name, outcome.status)
        return outcome

    def start(self) -> None:
        self.ctx.txs.advance_all()  # finish what a crash interrupted before doing anything new
        self.register()
        self.role.start()

    def step(self) -> int:
        handled = self.scanner.poll()
        try:
            self.ctx.txs.advance_all()
            self.role.tick(self.ctx.chain.now())
        except TRANSIENT as exc:
            raise ScanError(f"acting failed: {exc}") from exc
        self.ctx.transcript.flush()
        return handled

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        log.info("%s: stopping (signal %s)", self.ctx.config.name, signum)
        self._stop.set()

    def run(self, install_signals: bool = True) -> None:
        if install_signals:
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
        backoff = Backoff(base_s=self.poll_interval_s)
        self.start()
        try:
            while not self._stop.is_set():
                try:
                    self.step()
                    backoff.succeeded()
                    delay = self.poll_interval_s
                except ScanError as exc:
                    delay = backoff.failed()
                    log.warning("%s: %s; retrying in %.1f s", self.ctx.config.name, exc, delay)
                self._stop.wait(delay)
        finally:
            try:
                self.unregister()
            except Exception as exc:  # the chain may be gone at shutdown; say so, do not hide the cause
                log.error("%s: could not unregister on shutdown: %s", self.ctx.config.name, exc)
            self.ctx.state.close()
