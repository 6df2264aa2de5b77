"""The node's durable memory (SQLite, WAL): where each shipment's reading stream was left, the verdicts it
signed, the signatures it holds and the transactions it sent.

Every state change that must survive a crash is one transaction: the cursor of a shipment moves in the same
commit as the verdict its readings decided, so a restart either redoes the readings (and, being
deterministic, rebuilds the same verdict) or finds the verdict already recorded, never half of each.

A shipment's cursor is the id of the last reading read (the API's acceptance order, ``after_id``). Nodes
before that kept a (timestamp, id) cursor in ``cursor_ts_ms``/``cursor_id``; such a row is reported as
``legacy_time_cursor`` so the daemon can rescore the shipment (a time cursor cannot say which late readings
it skipped). Stored states are decoded here but judged by the daemon: an undecodable one is reported, never
raised, so one bad row cannot stop the node.
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
    tracker_state TEXT NOT NULL,
    after_id INTEGER,
    frontier_ms INTEGER,
    late_state TEXT
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


# Columns added to ``shipments`` since the first release; added to older files when they are opened.
_ADDED_SHIPMENT_COLUMNS = {"after_id": "INTEGER", "frontier_ms": "INTEGER", "late_state": "TEXT"}


@dataclass(frozen=True, slots=True)
class StreamPosition:
    """Where a shipment's stream stands after a page: saved in the same commit as the page's verdicts.

    ``after_id``: the last reading read (acceptance order). ``frontier_ms``: the newest reading time the
    in-order tracker has seen (older readings are late). ``late_state``: the late readings' monitors.
    """

    after_id: int
    frontier_ms: int | None
    tracker_state: dict[str, Any]
    late_state: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ShipmentCursor:
    """A shipment's saved stream, as far as it could be decoded (all None: never read)."""

    after_id: int | None
    frontier_ms: int | None
    tracker_state: dict[str, Any] | None
    late_state: dict[str, Any] | None
    legacy_time_cursor: tuple[int, int] | None = None  # (ts_ms, id) of a node that read in time order
    undecodable: str | None = None  # why the saved state is not JSON; the states above are then None


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
        present = {row[1] for row in self._db.execute("PRAGMA table_info(shipments)")}
        for column, sql_type in _ADDED_SHIPMENT_COLUMNS.items():
            if column not in present:
                self._db.execute(f"ALTER TABLE shipments ADD COLUMN {column} {sql_type}")

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
                "SELECT after_id, frontier_ms, tracker_state, late_state, cursor_ts_ms, cursor_id "
                "FROM shipments WHERE shipment_id = ?",
                (shipment_id,),
            ).fetchone()
        if row is None:
            return ShipmentCursor(None, None, None, None)
        after_id, frontier_ms, tracker_text, late_text, legacy_ts, legacy_id = row
        legacy = (int(legacy_ts), int(legacy_id or 0)) if after_id is None and legacy_ts is not None else None
        try:
            tracker_state = json.loads(tracker_text)
            late_state = None if late_text is None else json.loads(late_text)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
            return ShipmentCursor(after_id, frontier_ms, None, None, legacy, f"not JSON ({exc})")
        if not isinstance(tracker_state, dict) or not isinstance(late_state, dict | None):
            return ShipmentCursor(after_id, frontier_ms, None, None, legacy, "not a JSON object")
        return ShipmentCursor(after_id, frontier_ms, tracker_state, late_state, legacy)

    @staticmethod
    def _save_position(db: sqlite3.Connection, shipment_id: str, position: StreamPosition) -> None:
        # The legacy time cursor is cleared: from now on the row holds an acceptance cursor.
        db.execute(
            "INSERT INTO shipments (shipment_id, cursor_ts_ms, cursor_id, tracker_state, after_id, frontier_ms, "
            "late_state) VALUES (?, NULL, NULL, ?, ?, ?, ?) "
            "ON CONFLICT (shipment_id) DO UPDATE SET cursor_ts_ms = NULL, cursor_id = NULL, "
            "tracker_state = excluded.tracker_state, after_id = excluded.after_id, "
            "frontier_ms = excluded.frontier_ms, late_state = excluded.late_state",
            (
                shipment_id,
                json.dumps(position.tracker_state, sort_keys=True),
                position.after_id,
                position.frontier_ms,
                json.dumps(position.late_state, sort_keys=True),
            ),
        )

    def advance(self, shipment_id: str, position: StreamPosition) -> None:
        """Readings up to ``position.after_id`` are processed and decided nothing new."""
        with self._tx() as db:
            self._save_position(db, shipment_id, position)

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
        position: StreamPosition,
        status: VerdictStatus = VerdictStatus.SIGNED,
    ) -> bool:
        """Store this node's verdict, its own signature and the stream position after it, at once.

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
            self._save_position(db, shipment_id, position)
        return bool(inserted)

    def record_decisions(
        self,
        shipment_id: str,
        position: StreamPosition,
        decisions: list[Decision],
    ) -> list[bool]:
        """A page's verdicts, this node's signatures and the stream position after the page, in one commit
        (the tracker states belong to the page's end, so nothing of the page may be recorded without the rest).

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
            self._save_position(db, shipment_id, position)
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

    def verdict_of_window(self, order_id: int, kind: int, window_start: int) -> VerdictRecord | None:
        """The verdict this node recorded for a window (signed, submitted or done), if any."""
        found = self._records(
            "order_id = ? AND kind = ? AND window_start = ?", (str(order_id), int(kind), window_start)
        )
        return found[0] if found else None

    def verdict(self, verdict_id: str) -> VerdictRecord | None:
        found = self._records("verdict_id = ?", (verdict_id,))
        return found[0] if found else None
