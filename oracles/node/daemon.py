"""The oracle node's loop: read readings, decide windows, sign, exchange signatures, submit once, stop.

One round:
  1. for each watched shipment, read the next page of accepted readings after the checkpoint cursor and feed
     them to the window tracker; a decided window becomes evidence (stored, content-addressed), a verdict and
     this node's signature, recorded in the checkpoint together with the cursor (one commit);
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
from offchain.api.schemas import VerdictIn
from offchain.manifest import load_manifest
from offchain.storage.cid import cid_to_text
from offchain.storage.store import EvidenceStore, open_store
from oracles.node.chain import ZERO32, ChainClient, ChainError, NodeStoppingError, OracleSet, SubmitStatus
from oracles.node.checkpoint import Checkpoint, VerdictRecord, VerdictStatus
from oracles.node.evidence import ACTIONS, KIND_NAMES, Policy, build_evidence
from oracles.node.peers import PeerClient, PeerServer, create_peer_app
from oracles.node.settings import OracleNodeSettings
from oracles.node.source import ApiSource, ReadingSource, SourceUnavailableError
from oracles.node.windows import BreachWindow, ChainTerms, WindowTracker
from oracles.verdicts import Kind, make_verdict, pack_signatures, sign_verdict, verdict_id

log = logging.getLogger("asc.oracle.node")


class NodeConfigError(RuntimeError):
    """The node cannot start with this configuration; the message says what to fix."""


def load_account(settings: OracleNodeSettings) -> LocalAccount:
    """The signing key; error messages never contain key material or the password."""
    if settings.private_key is not None:
        try:
            account: LocalAccount = Account.from_key(settings.private_key.get_secret_value())
            return account
        except (ValueError, TypeError) as exc:
            raise NodeConfigError(
                f"ASC_ORACLE_PRIVATE_KEY is not a valid key ({type(exc).__name__})"
            ) from None
    assert settings.keystore_path is not None and settings.keystore_password is not None
    try:
        keystore = json.loads(Path(settings.keystore_path).read_text(encoding="utf-8"))
        key = Account.decrypt(keystore, settings.keystore_password.get_secret_value())
    except (OSError, ValueError) as exc:
        raise NodeConfigError(
            f"cannot unlock keystore {settings.keystore_path}: {type(exc).__name__}"
        ) from None
    unlocked: LocalAccount = Account.from_key(key)
    return unlocked


def policy_from(settings: OracleNodeSettings) -> Policy:
    return Policy(
        actions={
            Kind.TEMPERATURE: ACTIONS[settings.temperature_action],
            Kind.HUMIDITY: ACTIONS[settings.humidity_action],
            Kind.SHOCK: ACTIONS[settings.shock_action],
        },
        severity_steps={
            Kind.TEMPERATURE: settings.temperature_severity_step_centi_c,
            Kind.HUMIDITY: settings.humidity_severity_step_bp,
            Kind.SHOCK: settings.shock_severity_step_milli_g,
        },
        max_severity=settings.max_severity,
    )


@dataclass
class _Shipment:
    order_id: int
    terms: ChainTerms
    tracker: WindowTracker
    cursor: tuple[int, int] | None


class OracleNode:
    def __init__(
        self,
        settings: OracleNodeSettings,
        *,
        source: ReadingSource | None = None,
        store: EvidenceStore | None = None,
    ) -> None:
        self.settings = settings
        self.account = load_account(settings)
        manifest = load_manifest(settings.manifest_path)
        rpc_url = settings.rpc_url or manifest.rpc_hint
        if not rpc_url:
            raise NodeConfigError("set ASC_ORACLE_RPC_URL (the manifest has no rpc_hint)")
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
        self.checkpoint = Checkpoint(settings.checkpoint_path)
        self.store = store if store is not None else open_store()
        self.source = source if source is not None else ApiSource(settings.api_url)
        self.peers = PeerClient(settings.peers, settings.peer_timeout_s)
        self.policy = policy_from(settings)
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
            "oracle node %s up: chain %d, hub %s, epoch %d (%d-of-%d, %s), watching %s, peers %s",
            self.address,
            self.chain.chain_id,
            self.chain.hub_address,
            oracle_set.epoch,
            oracle_set.threshold,
            len(oracle_set.signers),
            "member" if self.address in oracle_set.signers else "NOT A MEMBER",
            self.settings.shipments,
            self.settings.peers,
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

    def round(self) -> bool:
        """One pass over shipments and open verdicts; True when there is more work right away."""
        busy = False
        for shipment_id in self.settings.shipments:
            busy |= self._poll_shipment(shipment_id)
        busy |= self._advance_verdicts()
        return busy

    def _crash_point(self, name: str) -> None:
        if self.settings.crash_at == name:
            log.critical("test hook: killing this node at %s", name)
            os.kill(os.getpid(), signal.SIGKILL)

    # ---------------------------------------------------------------- readings -> verdicts

    def _shipment(self, shipment_id: str) -> _Shipment | None:
        known = self._shipments.get(shipment_id)
        if known is not None:
            return known
        order_id = self.chain.order_of_twin(int(shipment_id))
        if order_id == 0:
            log.warning("shipment %s: no custody twin bound to an order on-chain yet", shipment_id)
            return None
        terms = self.chain.sla_terms(order_id)
        tracker = WindowTracker(terms)
        saved = self.checkpoint.shipment(shipment_id)
        if saved.tracker_state is not None:
            tracker.load_state(saved.tracker_state)
        cursor = None if saved.cursor_ts_ms is None else (saved.cursor_ts_ms, int(saved.cursor_id or 0))
        state = self._shipments[shipment_id] = _Shipment(order_id, terms, tracker, cursor)
        log.info("shipment %s: order %d, terms %s, resuming after %s", shipment_id, order_id, terms, cursor)
        return state

    def _poll_shipment(self, shipment_id: str) -> bool:
        state = self._shipment(shipment_id)
        if state is None:
            return False
        try:
            readings = self.source.fetch(shipment_id, state.cursor, self.settings.page_size)
        except SourceUnavailableError as exc:
            log.warning("shipment %s: %s", shipment_id, exc)
            return False
        for reading in readings:
            for window in state.tracker.feed(reading):
                self._decide(shipment_id, state, window, (reading.ts_ms, reading.id))
            state.cursor = (reading.ts_ms, reading.id)
        if readings:
            assert state.cursor is not None
            self.checkpoint.advance(shipment_id, state.cursor[0], state.cursor[1], state.tracker.state_dict())
        return len(readings) == self.settings.page_size

    def _decide(
        self, shipment_id: str, state: _Shipment, window: BreachWindow, cursor: tuple[int, int]
    ) -> None:
        oracle_set = self.chain.oracle_set()
        package = build_evidence(
            chain_id=self.chain.chain_id,
            hub_address=self.chain.hub_address,
            order_id=state.order_id,
            twin_id=int(shipment_id),
            terms=state.terms,
            window=window,
            policy=self.policy,
            epoch=oracle_set.epoch,
        )
        stored = cid_to_text(self.store.put(package.data))
        if stored != package.cid:
            raise ChainError(f"evidence store returned CID {stored}, expected {package.cid}")
        vid = "0x" + verdict_id(package.verdict, self.chain.chain_id, self.chain.hub_address).hex()
        kind = KIND_NAMES[window.kind]
        accepted = self.chain.verdict_of_window(package.verdict)
        if accepted != ZERO32:
            log.info(
                "shipment %s: %s window %d already has verdict 0x%s on-chain; not signing",
                shipment_id,
                kind,
                window.window_start_s,
                accepted.hex(),
            )
            self.checkpoint.record_signed(
                verdict_id=vid,
                shipment_id=shipment_id,
                verdict=package.verdict,
                evidence_cid=package.cid,
                detected_at_ms=int(time.time() * 1000),
                signer=self.address,
                signature=b"",
                cursor=cursor,
                tracker_state=state.tracker.state_dict(),
                status=VerdictStatus.DONE,
            )
            self.checkpoint.mark_done(vid, "0x" + accepted.hex())
            return
        if self.address not in oracle_set.signers:
            log.error(
                "shipment %s: %s window %d detected, but this key is not in the oracle set of epoch %d; "
                "not signing",
                shipment_id,
                kind,
                window.window_start_s,
                oracle_set.epoch,
            )
            return
        signature = sign_verdict(
            package.verdict, self.account.key, self.chain.chain_id, self.chain.hub_address
        )
        new = self.checkpoint.record_signed(
            verdict_id=vid,
            shipment_id=shipment_id,
            verdict=package.verdict,
            evidence_cid=package.cid,
            detected_at_ms=int(time.time() * 1000),
            signer=self.address,
            signature=signature,
            cursor=cursor,
            tracker_state=state.tracker.state_dict(),
        )
        if new:
            log.info(
                "shipment %s: %s window [%d, %d] severity %d; signed verdict %s (evidence %s)",
                shipment_id,
                kind,
                window.window_start_s,
                window.window_end_s,
                package.verdict.severity,
                vid,
                package.cid,
            )
        self._crash_point("after_sign")

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
            log.info(
                "verdict %s: window consumed on-chain by verdict %s (%s); done", vid, accepted_hex, whose
            )
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
        prepared = self.chain.prepare_submission(verdict, pack_signatures(chosen))
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
