from __future__ import annotations

from pathlib import Path

from oracles.node.checkpoint import Checkpoint, VerdictStatus
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


def _record(cp: Checkpoint, verdict_id: str = "0x01", verdict=VERDICT) -> bool:
    return cp.record_signed(
        verdict_id=verdict_id,
        shipment_id="7",
        verdict=verdict,
        evidence_cid="bafk",
        detected_at_ms=5,
        signer=SIGNER,
        signature=b"\x11" * 64,
        cursor=(1000, 9),
        tracker_state={"version": 1},
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
    assert (cursor.cursor_ts_ms, cursor.cursor_id, cursor.tracker_state) == (1000, 9, {"version": 1})


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
    assert (cursor.cursor_ts_ms, cursor.cursor_id, cursor.tracker_state) == (None, None, None)


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
