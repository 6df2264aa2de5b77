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
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

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
from oracles.node.checkpoint import Checkpoint, Decision, VerdictRecord, VerdictStatus
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


@dataclass
class _Shipment:
    order_id: int
    current_terms: ChainTerms  # Procurement.slaTerms now: only for orders older than the scan
    deadline_s: int
    tracker: ShipmentTracker
    cursor: tuple[int, int] | None


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
        cursor = None if saved.cursor_ts_ms is None else (saved.cursor_ts_ms, int(saved.cursor_id or 0))
        at_s = 0 if cursor is None else cursor[0] // 1000
        plan = self.plan_at(order_id, int(shipment_id), current_terms, deadline_s, at_s)
        try:
            tracker = ShipmentTracker(
                plan,
                self.detect,
                use_isolation_forest=self.settings.use_isolation_forest,
                context_readings=self.settings.evidence_context_readings,
                learned_lookback_s=self.settings.learned_lookback_s,
            )
        except ValueError as exc:
            log.error("shipment %s: order %d has terms the detectors refuse: %s", shipment_id, order_id, exc)
            return None
        if saved.tracker_state is not None:
            tracker.load_state(saved.tracker_state)
        state = self._shipments[shipment_id] = _Shipment(order_id, current_terms, deadline_s, tracker, cursor)
        log.info(
            "shipment %s: order %d, terms %s, deadline %d, %d leg(s) planned, resuming after %s",
            shipment_id,
            order_id,
            plan.terms,
            deadline_s,
            len(plan.legs),
            cursor,
        )
        return state

    def _poll_shipment(self, shipment_id: str) -> bool:
        state = self._shipment(shipment_id)
        if state is None:
            return False
        try:
            page = self.source.fetch(shipment_id, state.cursor, self.settings.page_size)
        except SourceUnavailableError as exc:
            log.warning("shipment %s: %s", shipment_id, exc)
            return False
        # A reading as new as the scanned head could fall under a leg awarded in a block this node has not seen
        # yet (later blocks may share the head's timestamp): it waits until the chain has moved past it.
        horizon_ms = self.view.scanned_time_s * 1000
        readings = [r for r in page if r.ts_ms < horizon_ms]
        if not readings:
            return False
        decided: list[tuple[ReadingPublic, BreachWindow]] = []
        segment: list[ReadingPublic] = []
        for reading in readings:
            at_s = reading.ts_ms // 1000
            plan = self.plan_at(state.order_id, int(shipment_id), state.current_terms, state.deadline_s, at_s)
            if plan != state.tracker.plan:
                decided += self._feed(state, segment)
                segment = []
                log.info(
                    "shipment %s: plan of %d leg(s), reroutes %s, custody since %d, from %d",
                    shipment_id,
                    len(plan.legs),
                    [(r.handover_place or "?", r.taken_over_at_s) for r in plan.reroutes],
                    plan.custody_since_s,
                    reading.ts_ms,
                )
                try:
                    state.tracker.replan(plan)
                except ValueError as exc:
                    # Nothing of this page is recorded: it is read again, and refused again, next round.
                    log.error("shipment %s: the detectors refuse the terms in force: %s", shipment_id, exc)
                    self._shipments.pop(shipment_id, None)
                    return False
            segment.append(reading)
        decided += self._feed(state, segment)
        state.cursor = (readings[-1].ts_ms, readings[-1].id)
        decisions = [self._decide(shipment_id, state, window) for _, window in decided]
        fresh = self.checkpoint.record_decisions(
            shipment_id, state.cursor, state.tracker.state_dict(), [d for d in decisions if d is not None]
        )
        if any(fresh):
            self._crash_point("after_sign")
        return len(page) == self.settings.page_size and len(readings) == len(page)

    @staticmethod
    def _feed(state: _Shipment, segment: list[ReadingPublic]) -> list[tuple[ReadingPublic, BreachWindow]]:
        return [(segment[index], window) for index, window in state.tracker.feed(segment)]

    def _decide(self, shipment_id: str, state: _Shipment, window: BreachWindow) -> Decision | None:
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
        kind = KIND_NAMES[window.kind]
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
