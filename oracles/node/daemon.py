"""The oracle node's loop: find shipments, read readings, decide windows, sign, exchange signatures, submit once.

One round:
  0. scan new blocks for twins in transit and awarded delivery legs (oracles.node.discovery);
  1. for each watched shipment, read the next page of accepted readings after the checkpoint cursor (only
     readings older than the scanned chain head, so every node applies the same plan to them) and feed them
     to the shipment's tracker (oracles.detect.ShipmentMonitor); each decided window becomes evidence (stored,
     content-addressed), a verdict and this node's signature, recorded in the checkpoint together with the
     cursor and the tracker state after the page (one commit);
  2. for each verdict not yet settled: if the chain already has a verdict for its window, it is done (whoever
     submitted it); otherwise send this node's signature to peers that have not taken it, and once k valid
     signatures are held, submit (nonce, gas estimate, raw transaction recorded before it is sent).

Restart safety: everything the loop acts on is in the checkpoint before it acts; after a crash the loop
either redoes readings deterministically or resumes a recorded verdict (re-broadcast, re-send the recorded
transaction). The chain accepts one verdict per (orderId, kind, windowStart), and a node asks it before
every submission, so no window ever gets a second verdict.

Readings come in acceptance order (every accepted reading exactly once, also one uploaded late). A reading
older than the newest one the shipment's tracker has seen is late: it is scored by a second tracker kept for
its device (a device's readings are in time order), so the SLA rules still judge it, and its windows become
verdicts unless this node already recorded one of the same kind overlapping it (the same event, reported by
the on-time device). A saved tracker state this node cannot load (another state version after an upgrade,
an undecodable blob, a time cursor of an older node) makes the node rescore that shipment from its first
reading with fresh trackers; windows it already recorded or the chain already has are not signed again.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from itertools import takewhile
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from offchain.api.client import ApiClient, ApiError
from offchain.api.schemas import ReadingPublic, VerdictIn
from offchain.devkeys import ORACLE_KEY_OFFSET, NotALocalChainError, dev_account
from offchain.manifest import load_manifest
from offchain.sim.roads import RoadDataError, RoadGraph
from offchain.storage.cid import cid_to_text
from offchain.storage.store import EvidenceStore, open_store
from oracles.node.chain import ZERO32, ChainClient, ChainError, NodeStoppingError, OracleSet, SubmitStatus
from oracles.node.checkpoint import (
    Checkpoint,
    Decision,
    ShipmentCursor,
    StreamPosition,
    VerdictRecord,
    VerdictStatus,
)
from oracles.node.discovery import ChainView
from oracles.node.evidence import ACTIONS, KIND_NAMES, Policy, ReeferFailureRule, build_evidence, model_version
from oracles.node.peers import PeerClient, PeerServer, create_peer_app
from oracles.node.routing import Planner
from oracles.node.settings import OracleNodeSettings
from oracles.node.source import ApiSource, ReadingSource, SourceUnavailableError
from oracles.node.terms import ChainTerms, Plan
from oracles.node.tracker import BreachWindow, ShipmentTracker
from oracles.settings import DetectSettings
from oracles.verdicts import Kind, make_verdict, pack_signatures, sign_verdict, verdict_id

log = logging.getLogger("asc.oracle.node")


class NodeConfigError(RuntimeError):
    """The node cannot start with this configuration; the message says what to fix."""


def load_account(settings: OracleNodeSettings, chain_id: int) -> LocalAccount:
    """The signing key; error messages never contain key material or the password."""
    if settings.dev_key_index is not None:
        try:
            return dev_account(ORACLE_KEY_OFFSET + settings.dev_key_index, chain_id)
        except NotALocalChainError as exc:
            raise NodeConfigError(str(exc)) from None
    if settings.private_key is not None:
        try:
            account: LocalAccount = Account.from_key(settings.private_key.get_secret_value())
            return account
        except (ValueError, TypeError) as exc:
            raise NodeConfigError(f"ASC_ORACLE_PRIVATE_KEY is not a valid key ({type(exc).__name__})") from None
    assert settings.keystore_path is not None and settings.keystore_password is not None
    try:
        keystore = json.loads(Path(settings.keystore_path).read_text(encoding="utf-8"))
        key = Account.decrypt(keystore, settings.keystore_password.get_secret_value())
    except (OSError, ValueError) as exc:
        raise NodeConfigError(f"cannot unlock keystore {settings.keystore_path}: {type(exc).__name__}") from None
    unlocked: LocalAccount = Account.from_key(key)
    return unlocked


def policy_from(settings: OracleNodeSettings) -> Policy:
    return Policy(
        actions={
            Kind.TEMPERATURE: ACTIONS[settings.temperature_action],
            Kind.HUMIDITY: ACTIONS[settings.humidity_action],
            Kind.SHOCK: ACTIONS[settings.shock_action],
            Kind.ROUTE_DEVIATION: ACTIONS[settings.route_deviation_action],
            Kind.DELAY: ACTIONS[settings.delay_action],
        },
        severity_steps={
            Kind.TEMPERATURE: settings.temperature_severity_step_centi_c,
            Kind.HUMIDITY: settings.humidity_severity_step_bp,
            Kind.SHOCK: settings.shock_severity_step_milli_g,
            Kind.ROUTE_DEVIATION: settings.route_deviation_severity_step_m,
            Kind.DELAY: settings.delay_severity_step_s,
        },
        max_severity=settings.max_severity,
        hold_from_severity={
            Kind.ROUTE_DEVIATION: settings.route_deviation_hold_from_severity,
            Kind.SHOCK: settings.shock_hold_from_severity,
        },
        reefer_failure=ReeferFailureRule(
            action=ACTIONS[settings.reefer_failure_action],
            min_rise_centi_c=settings.reefer_failure_min_rise_centi_c,
            min_rising_percent=settings.reefer_failure_min_rising_percent,
            needs_learned=settings.reefer_failure_needs_learned,
        ),
    )


# Version of the late trackers' saved state (``late_state`` in the checkpoint).
LATE_STATE_VERSION = 1


@dataclass
class _LateTracker:
    """A device's readings that came in older than the shipment's tracker had got: scored in their own order."""

    tracker: ShipmentTracker
    last_ms: int


@dataclass
class _Shipment:
    order_id: int
    current_terms: ChainTerms  # Procurement.slaTerms now: only for orders older than the scan
    deadline_s: int
    tracker: ShipmentTracker
    after_id: int | None = None  # the last reading read (acceptance order)
    frontier_ms: int | None = None  # the newest reading the in-order tracker has seen
    late: dict[str, _LateTracker] = field(default_factory=dict)  # by device id
    late_rows: int = 0  # late readings scored since the shipment's first reading

    def late_state(self) -> dict[str, Any]:
        return {
            "version": LATE_STATE_VERSION,
            "rows": self.late_rows,
            "devices": {
                device: {"last_ms": late.last_ms, "tracker": late.tracker.state_dict()}
                for device, late in sorted(self.late.items())
            },
        }

    def position(self) -> StreamPosition:
        assert self.after_id is not None
        return StreamPosition(self.after_id, self.frontier_ms, self.tracker.state_dict(), self.late_state())


class OracleNode:
    def __init__(
        self,
        settings: OracleNodeSettings,
        *,
        source: ReadingSource | None = None,
        store: EvidenceStore | None = None,
        detect: DetectSettings | None = None,
    ) -> None:
        self.settings = settings
        manifest = load_manifest(settings.manifest_path)
        self.account = load_account(settings, manifest.chain_id)
        rpc_url = settings.rpc_url or manifest.rpc_hint
        if not rpc_url:
            raise NodeConfigError("set ASC_ORACLE_RPC_URL (the manifest has no rpc_hint)")
        try:
            graph = RoadGraph.load(settings.road_graph_path)
        except (OSError, RoadDataError) as exc:
            raise NodeConfigError(f"cannot load the road graph: {exc}") from None
        self.detect = detect if detect is not None else DetectSettings()
        self.model = model_version(self.detect, settings.use_isolation_forest)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.chain = ChainClient(
            rpc_url,
            manifest,
            self.account,
            self._stop,
            backoff_initial_s=settings.rpc_backoff_initial_s,
            backoff_max_s=settings.rpc_backoff_max_s,
            gas_margin_percent=settings.gas_margin_percent,
        )
        from_block = settings.discovery_from_block
        self.view = ChainView(
            self.chain,
            manifest.first_block if from_block is None else from_block,
            settings.discovery_chunk_blocks,
            settings.confirmations,
        )
        self.planner = Planner(
            graph,
            settings.corridor_width_m,
            route_grace_s=settings.route_deviation_grace_s,
            pull_down_allowance_s=settings.pull_down_allowance_s,
        )
        self.checkpoint = Checkpoint(settings.checkpoint_path)
        self.store = store if store is not None else open_store()
        self.source = source if source is not None else ApiSource(settings.api_url)
        self.peers = PeerClient(settings.peers, settings.peer_timeout_s)
        self.policy = policy_from(settings)
        self._filter = frozenset(settings.shipments)
        self._shipments: dict[str, _Shipment] = {}
        self._acked: dict[str, set[str]] = {}  # verdict id -> peers that took our signature
        self._retry_at: dict[tuple[str, str], float] = {}
        self._server: PeerServer | None = None
        self._source_down_since: float | None = None  # monotonic time of the first failed fetch of an outage

    @property
    def address(self) -> str:
        return str(self.account.address)

    # ---------------------------------------------------------------- lifecycle

    def stop(self) -> None:
        """Ask the loop to finish its current step and exit (signal handlers call this)."""
        self._stop.set()
        self._wake.set()

    def run(self) -> None:
        self.chain.check_wiring()
        app = create_peer_app(
            self.checkpoint,
            self.chain.oracle_set,
            self.chain.chain_id,
            self.chain.hub_address,
            on_signature=lambda _: self._wake.set(),
        )
        self._server = PeerServer(app, self.settings.listen_host, self.settings.listen_port)
        self._server.start()
        oracle_set = self.chain.oracle_set()
        log.info(
            "oracle node %s up: chain %d, hub %s, epoch %d (%d-of-%d, %s), watching %s, peers %s, model %s",
            self.address,
            self.chain.chain_id,
            self.chain.hub_address,
            oracle_set.epoch,
            oracle_set.threshold,
            len(oracle_set.signers),
            "member" if self.address in oracle_set.signers else "NOT A MEMBER",
            self.settings.shipments or "every shipment in transit",
            self.settings.peers,
            self.model,
        )
        try:
            while not self._stop.is_set():
                busy = self.round()
                if not busy:
                    self._wake.wait(self.settings.poll_interval_s)
                    self._wake.clear()
        except NodeStoppingError:
            pass
        finally:
            log.info("oracle node %s stopping", self.address)
            self._server.stop()
            self.peers.close()
            self.source.close()
            self.store.close()
            self.checkpoint.close()
            log.info("oracle node %s stopped", self.address)

    def watched(self) -> list[str]:
        """Shipments in transit on-chain (as of the last scan), narrowed by the optional filter."""
        found = [str(info.twin_id) for info in self.view.in_transit()]
        return [s for s in found if s in self._filter] if self._filter else found

    def round(self) -> bool:
        """One pass over open verdicts, shipments and open verdicts again; True when there is more work
        right away. Verdicts come first: a peer's signature that completes k (it wakes the loop) is submitted
        before the round spends time on the chain scan and the reading polls."""
        busy = self._advance_verdicts()
        self.view.refresh()
        watched = self.watched()
        for gone in set(self._shipments) - set(watched):
            log.info("shipment %s: no longer in transit; not watched any more", gone)
            del self._shipments[gone]
        for shipment_id in watched:
            busy |= self._poll_shipment(shipment_id)
        busy |= self._advance_verdicts()
        return busy

    def _crash_point(self, name: str) -> None:
        if self.settings.crash_at == name:
            log.critical("test hook: killing this node at %s", name)
            os.kill(os.getpid(), signal.SIGKILL)

    # ---------------------------------------------------------------- readings -> verdicts

    def plan_at(self, order_id: int, twin_id: int, current_terms: ChainTerms, deadline_s: int, at_s: int) -> Plan:
        """The plan in force for a reading taken at ``at_s``: the terms, legs, reroutes and custody as of then.
        Keyed to time, not to when a node learned of them, so every node applies the same plan to a reading."""
        terms = self.view.terms_at(order_id, at_s) or current_terms
        legs = [leg for leg in self.view.legs(order_id) if leg.awarded_at_s <= at_s]
        _, custody_since_s = self.view.holder_at(twin_id, at_s)
        return self.planner.plan(
            terms,
            legs,
            deadline_s,
            reroutes=self.view.reroutes_at(order_id, twin_id, at_s),
            custody_since_s=custody_since_s,
        )

    def _new_tracker(self, plan: Plan) -> ShipmentTracker:
        return ShipmentTracker(
            plan,
            self.detect,
            use_isolation_forest=self.settings.use_isolation_forest,
            context_readings=self.settings.evidence_context_readings,
            learned_lookback_s=self.settings.learned_lookback_s,
        )

    def _shipment(self, shipment_id: str) -> _Shipment | None:
        known = self._shipments.get(shipment_id)
        if known is not None:
            return known
        info = self.view.twin(int(shipment_id))
        if info is None:
            return None
        order_id = info.order_id
        current_terms = self.chain.sla_terms(order_id)
        deadline_s = self.chain.delivery_deadline(order_id)
        saved = self.checkpoint.shipment(shipment_id)
        try:
            restored = self._restore(order_id, int(shipment_id), current_terms, deadline_s, saved)
            if isinstance(restored, str):
                log.warning(
                    "shipment %s: %s; rescoring it from its first reading with fresh detectors (windows this node "
                    "recorded or the chain accepted are not signed again)",
                    shipment_id,
                    restored,
                )
                plan = self.plan_at(order_id, int(shipment_id), current_terms, deadline_s, 0)
                restored = _Shipment(order_id, current_terms, deadline_s, self._new_tracker(plan))
            state = restored
        except ValueError as exc:
            log.error("shipment %s: order %d has terms the detectors refuse: %s", shipment_id, order_id, exc)
            return None
        self._shipments[shipment_id] = state
        plan = state.tracker.plan
        log.info(
            "shipment %s: order %d, terms %s, deadline %d, %d leg(s) planned, resuming after reading %s "
            "(newest scored %s, %d late reading(s) from %d device(s))",
            shipment_id,
            order_id,
            plan.terms,
            deadline_s,
            len(plan.legs),
            state.after_id,
            state.frontier_ms,
            state.late_rows,
            len(state.late),
        )
        return state

    def _restore(
        self, order_id: int, twin_id: int, current_terms: ChainTerms, deadline_s: int, saved: ShipmentCursor
    ) -> _Shipment | str:
        """The shipment as saved, or why the saved state cannot be used (the caller then rescores).

        Raises ValueError when the detectors refuse the order's terms (nothing to do with the saved state)."""
        if saved.undecodable is not None:
            return f"its saved detector state is undecodable ({saved.undecodable})"
        if saved.legacy_time_cursor is not None:
            return (
                f"its checkpoint holds the time cursor {saved.legacy_time_cursor} of an older node, which cannot "
                "say which late readings it skipped"
            )
        at_s = 0 if saved.frontier_ms is None else saved.frontier_ms // 1000
        plan = self.plan_at(order_id, twin_id, current_terms, deadline_s, at_s)
        state = _Shipment(order_id, current_terms, deadline_s, self._new_tracker(plan))
        if saved.after_id is None:
            return state  # never read
        if saved.tracker_state is None:
            return "its checkpoint has a cursor but no detector state"
        try:
            state.tracker.load_state(saved.tracker_state)
            late = saved.late_state or {"version": LATE_STATE_VERSION, "rows": 0, "devices": {}}
            if late.get("version") != LATE_STATE_VERSION:
                raise ValueError(f"unsupported late tracker state version {late.get('version')!r}")
            for device, entry in late["devices"].items():
                last_ms = int(entry["last_ms"])
                tracker = self._new_tracker(
                    self.plan_at(order_id, twin_id, current_terms, deadline_s, last_ms // 1000)
                )
                tracker.load_state(entry["tracker"])
                state.late[str(device)] = _LateTracker(tracker, last_ms)
            state.late_rows = int(late["rows"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # Another state version after an upgrade, or a blob that decodes but is not a tracker state.
            return f"its saved detector state cannot be loaded ({type(exc).__name__}: {exc})"
        state.after_id, state.frontier_ms = saved.after_id, saved.frontier_ms
        return state

    def _poll_shipment(self, shipment_id: str) -> bool:
        state = self._shipment(shipment_id)
        if state is None:
            return False
        try:
            page = self.source.fetch(shipment_id, state.after_id, self.settings.page_size)
        except SourceUnavailableError as exc:
            # Once per outage, not once per poll: the loop polls every few hundred milliseconds.
            if self._source_down_since is None:
                self._source_down_since = time.monotonic()
                log.warning("shipment %s: %s; retrying every poll until it answers", shipment_id, exc)
            else:
                log.debug("shipment %s: %s", shipment_id, exc)
            return False
        if self._source_down_since is not None:
            log.info("the reading source answers again after %.1f s", time.monotonic() - self._source_down_since)
            self._source_down_since = None
        # A reading as new as the scanned head could fall under a leg awarded in a block this node has not seen
        # yet (later blocks may share the head's timestamp): it waits until the chain has moved past it, and so
        # do the readings accepted after it (skipping it would lose it: the cursor is the acceptance order).
        horizon_ms = self.view.scanned_time_s * 1000
        readings = list(takewhile(lambda r: r.ts_ms < horizon_ms, page))
        if not readings:
            return False
        try:
            decided, late_rows = self._score(shipment_id, state, readings)
        except ValueError as exc:
            # Nothing of this page is recorded: it is read again, and refused again, next round.
            log.error("shipment %s: the detectors refuse this page (terms in force): %s", shipment_id, exc)
            self._shipments.pop(shipment_id, None)
            return False
        state.after_id = readings[-1].id
        if late_rows:
            log.info(
                "shipment %s: %d late reading(s) (older than %s) scored by their device's late tracker",
                shipment_id,
                late_rows,
                state.frontier_ms,
            )
        # One by one: a window is checked against the page's earlier decisions too (they are recorded only with
        # the page), so the outcome does not depend on where a node's pages happened to end.
        decisions: list[Decision] = []
        for window, late in decided:
            decision = self._decide(shipment_id, state, window, late, decisions)
            if decision is not None:
                decisions.append(decision)
        fresh = self.checkpoint.record_decisions(shipment_id, state.position(), decisions)
        if any(fresh):
            self._crash_point("after_sign")
        return len(page) == self.settings.page_size and len(readings) == len(page)

    def _score(
        self, shipment_id: str, state: _Shipment, readings: list[ReadingPublic]
    ) -> tuple[list[tuple[BreachWindow, bool]], int]:
        """Feed a page, in acceptance order, to the shipment's tracker (readings at or after its newest) or to
        the late tracker of the reading's device (older ones); returns (window, decided late) and the number
        of late readings. Raises ValueError when the detectors refuse the terms in force."""
        decided: list[tuple[BreachWindow, bool]] = []
        segment: list[ReadingPublic] = []
        target: _LateTracker | None = None  # None: the in-order tracker
        tracker = state.tracker
        late_rows = 0

        def flush() -> None:
            decided.extend((window, target is not None) for _, window in self._feed(tracker, segment))
            segment.clear()

        for reading in readings:
            ts_s = reading.ts_ms // 1000
            late = state.frontier_ms is not None and ts_s < state.frontier_ms // 1000
            following = state.late.get(reading.device_id) if late else None
            if late and following is not None and ts_s < following.last_ms // 1000:
                # The API only accepts a device's readings in time order; this cannot be scored in order.
                log.error(
                    "shipment %s: reading %d of %s is older than that device's previous late reading; not scored",
                    shipment_id,
                    reading.id,
                    reading.device_id,
                )
                continue
            plan = self.plan_at(state.order_id, int(shipment_id), state.current_terms, state.deadline_s, ts_s)
            if late and following is None:
                following = state.late[reading.device_id] = _LateTracker(self._new_tracker(plan), reading.ts_ms)
            if following is not target or plan != (tracker if following is None else following.tracker).plan:
                flush()
                target = following
                tracker = state.tracker if following is None else following.tracker
                if plan != tracker.plan:
                    log.info(
                        "shipment %s: plan of %d leg(s), reroutes %s, custody since %d, from %d%s",
                        shipment_id,
                        len(plan.legs),
                        [(r.handover_place or "?", r.taken_over_at_s) for r in plan.reroutes],
                        plan.custody_since_s,
                        reading.ts_ms,
                        "" if following is None else f" (late readings of {reading.device_id})",
                    )
                    tracker.replan(plan)
            segment.append(reading)
            if following is None:
                state.frontier_ms = reading.ts_ms
            else:
                following.last_ms = reading.ts_ms
                late_rows += 1
        flush()
        state.late_rows += late_rows
        return decided, late_rows

    @staticmethod
    def _feed(tracker: ShipmentTracker, segment: list[ReadingPublic]) -> list[tuple[ReadingPublic, BreachWindow]]:
        return [(segment[index], window) for index, window in tracker.feed(segment)]

    def _already_decided(
        self, shipment_id: str, state: _Shipment, window: BreachWindow, late: bool, page: list[Decision]
    ) -> str | None:
        """Why a decided window must not be signed (again), or None. ``page``: the page's earlier decisions."""
        kind = int(window.kind)
        recorded = self.checkpoint.verdict_of_window(state.order_id, kind, window.window_start_s)
        if recorded is not None:
            return f"recorded here as verdict {recorded.verdict_id} ({recorded.status.value})"
        earlier = [(d.verdict_id, d.verdict) for d in page]
        if any(v.kind == kind and v.window_start == window.window_start_s for _, v in earlier):
            return "decided earlier in this page"
        if late:
            earlier += [(r.verdict_id, r.verdict) for r in self.checkpoint.verdicts() if r.shipment_id == shipment_id]
            for vid, v in earlier:
                overlaps = v.window_start <= window.window_end_s and window.window_start_s <= v.window_end
                if int(v.kind) == kind and overlaps:
                    return f"overlaps verdict {vid} [{v.window_start}, {v.window_end}] of the same kind"
        return None

    def _decide(
        self, shipment_id: str, state: _Shipment, window: BreachWindow, late: bool, page: list[Decision]
    ) -> Decision | None:
        kind = KIND_NAMES[window.kind]
        why_not = self._already_decided(shipment_id, state, window, late, page)
        if why_not is not None:
            log.info(
                "shipment %s: %s window [%d, %d]%s %s; not signing it again",
                shipment_id,
                kind,
                window.window_start_s,
                window.window_end_s,
                " (late readings)" if late else "",
                why_not,
            )
            return None
        oracle_set = self.chain.oracle_set()
        package = build_evidence(
            chain_id=self.chain.chain_id,
            hub_address=self.chain.hub_address,
            order_id=state.order_id,
            twin_id=int(shipment_id),
            window=window,
            policy=self.policy,
            epoch=oracle_set.epoch,
            model=self.model,
        )
        stored = cid_to_text(self.store.put(package.data))
        if stored != package.cid:
            raise ChainError(f"evidence store returned CID {stored}, expected {package.cid}")
        vid = "0x" + verdict_id(package.verdict, self.chain.chain_id, self.chain.hub_address).hex()
        detected_at_ms = int(time.time() * 1000)
        accepted = self.chain.verdict_of_window(package.verdict)
        if accepted != ZERO32:
            log.info(
                "shipment %s: %s window %d already has verdict 0x%s on-chain; not signing",
                shipment_id,
                kind,
                window.window_start_s,
                accepted.hex(),
            )
            return Decision(vid, package.verdict, package.cid, detected_at_ms, self.address, b"", "0x" + accepted.hex())
        if self.address not in oracle_set.signers:
            log.error(
                "shipment %s: %s window %d detected, but this key is not in the oracle set of epoch %d; not signing",
                shipment_id,
                kind,
                window.window_start_s,
                oracle_set.epoch,
            )
            return None
        signature = sign_verdict(package.verdict, self.account.key, self.chain.chain_id, self.chain.hub_address)
        log.info(
            "shipment %s: %s window [%d, %d] severity %d action %s; signed verdict %s (evidence %s)",
            shipment_id,
            kind,
            window.window_start_s,
            window.window_end_s,
            package.verdict.severity,
            package.verdict.action.name.lower(),
            vid,
            package.cid,
        )
        return Decision(vid, package.verdict, package.cid, detected_at_ms, self.address, signature)

    # ---------------------------------------------------------------- verdicts -> chain

    def _advance_verdicts(self) -> bool:
        pending = self.checkpoint.pending()
        if not pending:
            return False
        oracle_set = self.chain.oracle_set()
        busy = False
        # Recorded transactions first: their nonces come before any new one.
        for record in sorted(pending, key=lambda r: r.status is not VerdictStatus.SUBMITTED):
            try:
                busy |= self._advance(record, oracle_set)
            except ChainError as exc:
                log.error("verdict %s: %s", record.verdict_id, exc)
        return busy

    def _advance(self, record: VerdictRecord, oracle_set: OracleSet) -> bool:
        vid, verdict = record.verdict_id, record.verdict
        if record.status is VerdictStatus.SUBMITTED and record.tx_hash and record.raw_tx:
            receipt = self.chain.receipt(record.tx_hash)
            if receipt is None:
                if not self.chain.transaction_known(record.tx_hash):
                    log.info("verdict %s: re-sending recorded transaction %s", vid, record.tx_hash)
                    self.chain.send(record.raw_tx, record.tx_hash)
                return False
            if receipt["status"] == 1:
                log.info(
                    "verdict %s accepted on-chain in block %d (tx %s)",
                    vid,
                    receipt["blockNumber"],
                    record.tx_hash,
                )
                self.checkpoint.mark_done(vid, vid)
                self._notify_api(record)
                return False
            log.warning("verdict %s: transaction %s reverted; re-checking the window", vid, record.tx_hash)
        accepted = self.chain.verdict_of_window(verdict)
        if accepted != ZERO32:
            accepted_hex = "0x" + accepted.hex()
            whose = "ours" if accepted_hex == vid else "another"
            log.info("verdict %s: window consumed on-chain by verdict %s (%s); done", vid, accepted_hex, whose)
            self.checkpoint.mark_done(vid, accepted_hex)
            return False
        if verdict.epoch != oracle_set.epoch:
            return self._resign(record, oracle_set)
        signatures = {s: sig for s, sig in self.checkpoint.signatures(vid).items() if s in oracle_set.signers}
        own = signatures.get(self.address)
        if own is not None:
            self._broadcast(vid, record, own)
        if len(signatures) < oracle_set.threshold:
            return False
        chosen = [signatures[s] for s in sorted(signatures)][: oracle_set.threshold]
        try:
            prepared = self.chain.prepare_submission(verdict, pack_signatures(chosen))
        except ChainError:
            if record.shipment_id not in self.watched():
                # Delivered or cancelled since: the escrow no longer takes penalties, so the verdict is moot.
                log.warning("verdict %s: shipment %s is no longer in transit; dropping it", vid, record.shipment_id)
                self.checkpoint.mark_done(vid, "")
                return False
            raise
        if prepared.status is SubmitStatus.CONSUMED:
            assert prepared.accepted_id is not None
            log.info("verdict %s: window consumed by 0x%s; done", vid, prepared.accepted_id.hex())
            self.checkpoint.mark_done(vid, "0x" + prepared.accepted_id.hex())
            return False
        if prepared.status is SubmitStatus.NOT_YET:
            log.info("verdict %s: the chain clock has not reached the window end yet", vid)
            return False
        assert prepared.tx_hash is not None and prepared.raw_tx is not None
        self.checkpoint.record_submission(vid, prepared.tx_hash, prepared.raw_tx)
        self.chain.send(prepared.raw_tx, prepared.tx_hash)
        log.info("verdict %s: submitted with %d signatures in tx %s", vid, len(chosen), prepared.tx_hash)
        self._crash_point("after_send")
        return True

    def _resign(self, record: VerdictRecord, oracle_set: OracleSet) -> bool:
        """The oracle set rotated before the window was decided on-chain: sign the same evidence again for the
        current epoch (every member does the same, so the new signatures add up)."""
        if self.address not in oracle_set.signers:
            log.error(
                "verdict %s: epoch %d retired it and this key is not in the set of epoch %d; dropping it",
                record.verdict_id,
                record.verdict.epoch,
                oracle_set.epoch,
            )
            self.checkpoint.mark_done(record.verdict_id, "")
            return False
        renewed = make_verdict(**{**record.verdict.model_dump(), "epoch": oracle_set.epoch})
        chain_id, hub = self.chain.chain_id, self.chain.hub_address
        new_id = "0x" + verdict_id(renewed, chain_id, hub).hex()
        signature = sign_verdict(renewed, self.account.key, chain_id, hub)
        self.checkpoint.resign(record.verdict_id, new_id, renewed, self.address, signature)
        log.info(
            "verdict %s: epoch %d retired it; re-signed for epoch %d as %s",
            record.verdict_id,
            record.verdict.epoch,
            oracle_set.epoch,
            new_id,
        )
        return True

    def _broadcast(self, vid: str, record: VerdictRecord, own: bytes) -> None:
        acked = self._acked.setdefault(vid, set())
        now = time.monotonic()
        for peer in self.settings.peers:
            if peer in acked or self._retry_at.get((vid, peer), 0.0) > now:
                continue
            if self.peers.send(peer, record.verdict, own):
                acked.add(peer)
            else:
                self._retry_at[(vid, peer)] = now + self.settings.peer_retry_s

    def _notify_api(self, record: VerdictRecord) -> None:
        """Tell the API about a verdict this node got accepted (the live feed shows it); best effort."""
        token = self.settings.api_oracle_token
        if token is None:
            return
        severity = "critical" if record.verdict.severity >= 3 else "warning"
        body = VerdictIn(
            verdict_id=record.verdict_id,
            shipment_id=record.shipment_id,
            kind=KIND_NAMES[record.verdict.kind],
            severity=severity,  # type: ignore[arg-type]
            tx_hash=record.tx_hash,
            evidence_cid=record.evidence_cid,
            detected_at_ms=record.detected_at_ms,
        )
        try:
            with ApiClient(self.settings.api_url, oracle_token=token.get_secret_value()) as api:
                api.post_verdict(body)
        except (ApiError, OSError) as exc:
            log.warning("verdict %s: could not notify the API: %s", record.verdict_id, exc)
