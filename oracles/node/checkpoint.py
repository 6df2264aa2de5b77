"""The node's durable memory (SQLite, WAL): where each shipment's reading stream was left, the verdicts it
signed, the signatures it holds and the transactions it sent.

Every state change that must survive a crash is one transaction: the cursor of a shipment moves in the same
commit as the verdict its readings decided, so a restart either redoes the readings (and, being
deterministic, rebuilds the same verdict) or finds the verdict already recorded, never half of each.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from oracles.node.wire import verdict_from_dict, verdict_to_dict
from oracles.verdicts import Verdict

_SCHEMA = """
CREATE TABLE IF NOT EXISTS shipments (
    shipment_id TEXT PRIMARY KEY,
    cursor_ts_ms INTEGER,
    cursor_id INTEGER,
    tracker_state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS verdicts (
    verdict_id TEXT PRIMARY KEY,
    shipment_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    kind INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    verdict_json TEXT NOT NULL,
    evidence_cid TEXT NOT NULL,
    detected_at_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    tx_hash TEXT,
    raw_tx TEXT,
    accepted_id TEXT,
    UNIQUE (order_id, kind, window_start)
);
CREATE TABLE IF NOT EXISTS signatures (
    verdict_id TEXT NOT NULL,
    signer TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (verdict_id, signer)
);
"""


class VerdictStatus(StrEnum):
    SIGNED = "signed"  # signed by this node, waiting for k signatures
    SUBMITTED = "submitted"  # a transaction carrying it was sent (tx_hash, raw_tx recorded first)
    DONE = "done"  # the window is consumed on-chain (by this verdict or by a peer's)


@dataclass(frozen=True, slots=True)
class ShipmentCursor:
    cursor_ts_ms: int | None
    cursor_id: int | None
    tracker_state: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class VerdictRecord:
    verdict_id: str
    shipment_id: str
    verdict: Verdict
    evidence_cid: str
    detected_at_ms: int
    status: VerdictStatus
    tx_hash: str | None
    raw_tx: str | None
    accepted_id: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict decided from a page of readings: signed by this node, or already consumed on-chain
    (``accepted_id`` set, no signature)."""

    verdict_id: str
    verdict: Verdict
    evidence_cid: str
    detected_at_ms: int
    signer: str
    signature: bytes
    accepted_id: str | None = None


class Checkpoint:
    """Thread-safe (one connection behind a lock: the peer endpoint and the daemon loop share it)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the node acts on it (e.g. broadcasts a signature or sends a tx).
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ---------------------------------------------------------------- shipments

    def shipment(self, shipment_id: str) -> ShipmentCursor:
        with self._lock:
            row = self._db.execute(
                "SELECT cursor_ts_ms, cursor_id, tracker_state FROM shipments WHERE shipment_id = ?",
                (shipment_id,),
            ).fetchone()
        if row is None:
            return ShipmentCursor(None, None, None)
        return ShipmentCursor(row[0], row[1], json.loads(row[2]))

    @staticmethod
    def _save_cursor(
        db: sqlite3.Connection, shipment_id: str, ts_ms: int, reading_id: int, state: dict[str, Any]
    ) -> None:
        db.execute(
            "INSERT INTO shipments (shipment_id, cursor_ts_ms, cursor_id, tracker_state) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (shipment_id) DO UPDATE SET cursor_ts_ms = excluded.cursor_ts_ms, "
            "cursor_id = excluded.cursor_id, tracker_state = excluded.tracker_state",
            (shipment_id, ts_ms, reading_id, json.dumps(state, sort_keys=True)),
        )

    def advance(self, shipment_id: str, ts_ms: int, reading_id: int, state: dict[str, Any]) -> None:
        """Readings up to (ts_ms, reading_id) are processed and decided nothing new."""
        with self._tx() as db:
            self._save_cursor(db, shipment_id, ts_ms, reading_id, state)

    # ---------------------------------------------------------------- verdicts

    def record_signed(
        self,
        *,
        verdict_id: str,
        shipment_id: str,
        verdict: Verdict,
        evidence_cid: str,
        detected_at_ms: int,
        signer: str,
        signature: bytes,
        cursor: tuple[int, int],
        tracker_state: dict[str, Any],
        status: VerdictStatus = VerdictStatus.SIGNED,
    ) -> bool:
        """Store this node's verdict, its own signature and the cursor of the deciding reading, at once.

        Returns False (and changes nothing but the cursor) when a verdict for the same window is already here.
        """
        with self._tx() as db:
            inserted = db.execute(
                "INSERT OR IGNORE INTO verdicts (verdict_id, shipment_id, order_id, kind, window_start, "
                "verdict_json, evidence_cid, detected_at_ms, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    verdict_id,
                    shipment_id,
                    str(verdict.order_id),
                    int(verdict.kind),
                    verdict.window_start,
                    json.dumps(verdict_to_dict(verdict), sort_keys=True),
                    evidence_cid,
                    detected_at_ms,
                    status.value,
                ),
            ).rowcount
            if inserted and status is VerdictStatus.SIGNED:
                db.execute(
                    "INSERT OR IGNORE INTO signatures (verdict_id, signer, signature) VALUES (?, ?, ?)",
                    (verdict_id, signer, signature.hex()),
                )
            self._save_cursor(db, shipment_id, cursor[0], cursor[1], tracker_state)
        return bool(inserted)

    def record_decisions(
        self,
        shipment_id: str,
        cursor: tuple[int, int],
        tracker_state: dict[str, Any],
        decisions: list[Decision],
    ) -> list[bool]:
        """A page's verdicts, this node's signatures and the cursor after the page, in one commit (the
        tracker state belongs to the page's end, so nothing of the page may be recorded without the rest).

        Returns, per decision, whether it is new (False: a verdict for its window was already here).
        """
        fresh: list[bool] = []
        with self._tx() as db:
            for d in decisions:
                status = VerdictStatus.SIGNED if d.accepted_id is None else VerdictStatus.DONE
                inserted = db.execute(
                    "INSERT OR IGNORE INTO verdicts (verdict_id, shipment_id, order_id, kind, window_start, "
                    "verdict_json, evidence_cid, detected_at_ms, status, accepted_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        d.verdict_id,
                        shipment_id,
                        str(d.verdict.order_id),
                        int(d.verdict.kind),
                        d.verdict.window_start,
                        json.dumps(verdict_to_dict(d.verdict), sort_keys=True),
                        d.evidence_cid,
                        d.detected_at_ms,
                        status.value,
                        d.accepted_id,
                    ),
                ).rowcount
                if inserted and status is VerdictStatus.SIGNED:
                    db.execute(
                        "INSERT OR IGNORE INTO signatures (verdict_id, signer, signature) VALUES (?, ?, ?)",
                        (d.verdict_id, d.signer, d.signature.hex()),
                    )
                fresh.append(bool(inserted))
            self._save_cursor(db, shipment_id, cursor[0], cursor[1], tracker_state)
        return fresh

    def add_signature(self, verdict_id: str, signer: str, signature: bytes) -> bool:
        """Keep a peer's (already verified) signature; False when this signer's is already here."""
        with self._tx() as db:
            return bool(
                db.execute(
                    "INSERT OR IGNORE INTO signatures (verdict_id, signer, signature) VALUES (?, ?, ?)",
                    (verdict_id, signer, signature.hex()),
                ).rowcount
            )

    def signatures(self, verdict_id: str) -> dict[str, bytes]:
        with self._lock:
            rows = self._db.execute(
                "SELECT signer, signature FROM signatures WHERE verdict_id = ? ORDER BY signer", (verdict_id,)
            ).fetchall()
        return {signer: bytes.fromhex(sig) for signer, sig in rows}

    def record_submission(self, verdict_id: str, tx_hash: str, raw_tx: str) -> None:
        """Written before the transaction is sent, so a crash in between re-sends the same signed bytes."""
        with self._tx() as db:
            db.execute(
                "UPDATE verdicts SET status = ?, tx_hash = ?, raw_tx = ? WHERE verdict_id = ?",
                (VerdictStatus.SUBMITTED.value, tx_hash, raw_tx, verdict_id),
            )

    def resign(self, old_id: str, new_id: str, verdict: Verdict, signer: str, signature: bytes) -> None:
        """Replace a verdict that can no longer be accepted (its epoch rotated) by its re-signed successor."""
        with self._tx() as db:
            db.execute(
                "UPDATE verdicts SET verdict_id = ?, verdict_json = ?, status = ?, tx_hash = NULL, "
                "raw_tx = NULL WHERE verdict_id = ?",
                (
                    new_id,
                    json.dumps(verdict_to_dict(verdict), sort_keys=True),
                    VerdictStatus.SIGNED.value,
                    old_id,
                ),
            )
            db.execute(
                "INSERT OR IGNORE INTO signatures (verdict_id, signer, signature) VALUES (?, ?, ?)",
                (new_id, signer, signature.hex()),
            )

    def mark_done(self, verdict_id: str, accepted_id: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE verdicts SET status = ?, accepted_id = ? WHERE verdict_id = ?",
                (VerdictStatus.DONE.value, accepted_id, verdict_id),
            )

    def _records(self, where: str, params: tuple[Any, ...]) -> list[VerdictRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT verdict_id, shipment_id, verdict_json, evidence_cid, detected_at_ms, status, "
                f"tx_hash, raw_tx, accepted_id FROM verdicts WHERE {where} "
                "ORDER BY detected_at_ms, verdict_id",
                params,
            ).fetchall()
        return [
            VerdictRecord(
                verdict_id=row[0],
                shipment_id=row[1],
                verdict=verdict_from_dict(json.loads(row[2])),
                evidence_cid=row[3],
                detected_at_ms=row[4],
                status=VerdictStatus(row[5]),
                tx_hash=row[6],
                raw_tx=row[7],
                accepted_id=row[8],
            )
            for row in rows
        ]

    def pending(self) -> list[VerdictRecord]:
        """Verdicts whose window is not yet known to be consumed on-chain."""
        return self._records("status != ?", (VerdictStatus.DONE.value,))

    def verdicts(self) -> list[VerdictRecord]:
        return self._records("1 = 1", ())

    def verdict(self, verdict_id: str) -> VerdictRecord | None:
        found = self._records("verdict_id = ?", (verdict_id,))
        return found[0] if found else None
