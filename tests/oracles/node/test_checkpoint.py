from __future__ import annotations

import sqlite3
from pathlib import Path

from oracles.node.checkpoint import Checkpoint, StreamPosition, VerdictStatus
from oracles.verdicts import Action, Kind, make_verdict

VERDICT = make_verdict(
    order_id=3,
    twin_id=7,
    kind=Kind.TEMPERATURE,
    severity=2,
    action=Action.PENALTY,
    window_start=100,
    window_end=200,
    evidence_hash=b"\xab" * 32,
    epoch=1,
)
SIGNER = "0x0000000000000000000000000000000000000001"
POSITION = StreamPosition(after_id=9, frontier_ms=1000, tracker_state={"version": 1}, late_state={"rows": 0})


def _record(cp: Checkpoint, verdict_id: str = "0x01", verdict=VERDICT) -> bool:
    return cp.record_signed(
        verdict_id=verdict_id,
        shipment_id="7",
        verdict=verdict,
        evidence_cid="bafk",
        detected_at_ms=5,
        signer=SIGNER,
        signature=b"\x11" * 64,
        position=POSITION,
    )


def test_signed_verdict_signature_and_cursor_survive_a_reopen(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "c.sqlite3")
    assert _record(cp)
    cp.close()
    reopened = Checkpoint(tmp_path / "c.sqlite3")
    [pending] = reopened.pending()
    assert pending.verdict == VERDICT and pending.status is VerdictStatus.SIGNED
    assert reopened.signatures("0x01") == {SIGNER: b"\x11" * 64}
    cursor = reopened.shipment("7")
    assert (cursor.after_id, cursor.frontier_ms, cursor.tracker_state, cursor.late_state) == (
        9,
        1000,
        {"version": 1},
        {"rows": 0},
    )
    assert (cursor.legacy_time_cursor, cursor.undecodable) == (None, None)


def test_a_second_verdict_for_the_same_window_is_not_recorded(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "c.sqlite3")
    assert _record(cp)
    other = make_verdict(**{**VERDICT.model_dump(), "severity": 5})
    assert not _record(cp, "0x02", other)
    assert [r.verdict_id for r in cp.verdicts()] == ["0x01"]


def test_peer_signature_is_kept_once(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "c.sqlite3")
    assert cp.add_signature("0x01", "0xB", b"\x22" * 64)
    assert not cp.add_signature("0x01", "0xB", b"\x22" * 64)
    assert cp.signatures("0x01") == {"0xB": b"\x22" * 64}


def test_submission_then_done_leaves_nothing_pending(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "c.sqlite3")
    _record(cp)
    cp.record_submission("0x01", "0xtx", "0xraw")
    [submitted] = cp.pending()
    assert (submitted.status, submitted.tx_hash, submitted.raw_tx) == (
        VerdictStatus.SUBMITTED,
        "0xtx",
        "0xraw",
    )
    cp.mark_done("0x01", "0x01")
    assert cp.pending() == []
    record = cp.verdict("0x01")
    assert record is not None and record.accepted_id == "0x01"


def test_unknown_shipment_has_no_cursor(tmp_path: Path) -> None:
    cursor = Checkpoint(tmp_path / "c.sqlite3").shipment("404")
    assert (cursor.after_id, cursor.frontier_ms, cursor.tracker_state, cursor.late_state) == (None, None, None, None)


def test_resign_replaces_the_verdict_and_keeps_its_window(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "c.sqlite3")
    _record(cp)
    cp.record_submission("0x01", "0xtx", "0xraw")
    renewed = make_verdict(**{**VERDICT.model_dump(), "epoch": 2})
    cp.resign("0x01", "0x02", renewed, SIGNER, b"\x33" * 64)
    [record] = cp.pending()
    assert (record.verdict_id, record.verdict, record.status) == ("0x02", renewed, VerdictStatus.SIGNED)
    assert (record.tx_hash, record.raw_tx) == (None, None)
    assert cp.signatures("0x02") == {SIGNER: b"\x33" * 64}


def _old_node_checkpoint(path: Path, tracker_state: str) -> None:
    """The shipments table as a node before the acceptance cursor wrote it: a (ts_ms, id) cursor."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE shipments (shipment_id TEXT PRIMARY KEY, cursor_ts_ms INTEGER, cursor_id INTEGER, "
        "tracker_state TEXT NOT NULL)"
    )
    db.execute("INSERT INTO shipments VALUES ('7', 5000, 12, ?)", (tracker_state,))
    db.commit()
    db.close()


def test_a_time_cursor_of_an_older_node_is_reported_as_legacy(tmp_path: Path) -> None:
    _old_node_checkpoint(tmp_path / "c.sqlite3", '{"version": 2}')
    cursor = Checkpoint(tmp_path / "c.sqlite3").shipment("7")
    assert cursor.legacy_time_cursor == (5000, 12)
    assert cursor.after_id is None


def test_saving_a_position_over_a_legacy_row_clears_its_time_cursor(tmp_path: Path) -> None:
    _old_node_checkpoint(tmp_path / "c.sqlite3", '{"version": 2}')
    cp = Checkpoint(tmp_path / "c.sqlite3")
    cp.advance("7", POSITION)
    cursor = cp.shipment("7")
    assert (cursor.legacy_time_cursor, cursor.after_id, cursor.frontier_ms) == (None, 9, 1000)


def test_an_undecodable_state_is_reported_not_raised(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "c.sqlite3")
    cp.advance("7", POSITION)
    cp.close()
    db = sqlite3.connect(tmp_path / "c.sqlite3")
    db.execute("UPDATE shipments SET tracker_state = '{\"version\": 2, trunc' WHERE shipment_id = '7'")
    db.commit()
    db.close()
    cursor = Checkpoint(tmp_path / "c.sqlite3").shipment("7")
    assert cursor.undecodable is not None and cursor.undecodable.startswith("not JSON")
    assert (cursor.after_id, cursor.tracker_state) == (9, None)


def test_a_state_that_is_not_an_object_is_reported(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "c.sqlite3")
    cp.advance("7", StreamPosition(9, 1000, {"version": 1}, {"rows": 0}))
    cp.close()
    db = sqlite3.connect(tmp_path / "c.sqlite3")
    db.execute("UPDATE shipments SET tracker_state = '[1, 2]' WHERE shipment_id = '7'")
    db.commit()
    db.close()
    assert Checkpoint(tmp_path / "c.sqlite3").shipment("7").undecodable == "not a JSON object"


def test_verdict_of_window_finds_the_recorded_verdict(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "c.sqlite3")
    _record(cp)
    found = cp.verdict_of_window(3, int(Kind.TEMPERATURE), 100)
    assert found is not None and found.verdict_id == "0x01"
    assert cp.verdict_of_window(3, int(Kind.TEMPERATURE), 101) is None
    assert cp.verdict_of_window(3, int(Kind.HUMIDITY), 100) is None
