"""Accepting one batch: identity, signature, sequence, plausibility, then the atomic insert.

Runs inside the caller's write transaction (see `store.Store.ingest`), so a rejection raised here rolls
everything back and an acceptance commits the batch row, its readings, the device's continuation point
and the shipment's latest position together.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from .models import Batch, Device, Reading, ShipmentPosition
from .problems import ProblemError
from .schemas import BatchIn, BatchResult, ProblemItem, ReadingPublic
from .validation import LastFix, Limits, ViolationCode, check_batch, reading_values

_TITLES = {"implausible": "Implausible readings", "out-of-order": "Readings out of order"}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class LostRaceError(Exception):
    """Another writer changed the device between our read and our write; evaluate again."""


@dataclass(frozen=True)
class Accepted:
    result: BatchResult
    created: bool
    readings: list[ReadingPublic]


def _batch_result(row: Batch) -> BatchResult:
    return BatchResult(
        device_id=row.device_id,
        shipment_id=row.shipment_id,
        seq=row.seq,
        batch_hash=row.batch_hash,
        reading_count=row.reading_count,
        first_reading_id=row.first_reading_id,
        last_reading_id=row.last_reading_id,
        received_at_ms=row.received_at_ms,
    )


def accept_batch(
    session: Session, batch: BatchIn, content_hash: str, signer: str, limits: Limits
) -> Accepted:
    """Checks and stores one batch inside the caller's write transaction; raises ProblemError on rejection."""
    device = session.get(Device, batch.device_id)
    if device is None:
        raise ProblemError(
            401,
            "unknown-device",
            "Unknown device",
            f"device {batch.device_id} is not registered",
            [ProblemItem(reading=None, field="device_id", reason="not registered")],
        )
    if signer.lower() != device.address.lower():
        raise ProblemError(
            401,
            "bad-signature",
            "Forged batch",
            f"batch is signed by {signer}, not by the key registered for device {batch.device_id}",
            [ProblemItem(reading=None, field="signature", reason="signer is not the device's key")],
        )
    if device.shipments is not None and batch.shipment_id not in device.shipments:
        raise ProblemError(
            403,
            "shipment-not-allowed",
            "Device not allowed for shipment",
            f"device {batch.device_id} may not report for shipment {batch.shipment_id}",
            [ProblemItem(reading=None, field="shipment_id", reason="not among the device's shipments")],
        )
    existing = session.scalar(select(Batch).where(Batch.device_id == batch.device_id, Batch.seq == batch.seq))
    if existing is not None:
        if existing.batch_hash == content_hash:
            return Accepted(_batch_result(existing), created=False, readings=[])
        raise ProblemError(
            409,
            "duplicate-seq",
            "Sequence number already used",
            f"device {batch.device_id} already has a different batch with seq {batch.seq}",
            [ProblemItem(reading=None, field="seq", reason=f"used by batch {existing.batch_hash}")],
        )
    if device.last_seq is not None and batch.seq <= device.last_seq:
        raise ProblemError(
            409,
            "stale-seq",
            "Sequence number not increasing",
            f"seq {batch.seq} is not after the device's last accepted seq {device.last_seq}",
            [ProblemItem(reading=None, field="seq", reason=f"must be > {device.last_seq}")],
        )
    _check_readings(session, device, batch, limits)
    return _insert(session, device, batch, content_hash, signer)


def _check_readings(session: Session, device: Device, batch: BatchIn, limits: Limits) -> None:
    last: LastFix | None = None
    stored: dict[int, tuple[int, ...]] = {}
    if device.last_ts_ms is not None:
        last = LastFix(device.last_ts_ms, device.last_lat_e7 or 0, device.last_lon_e7 or 0)
        past = sorted({r.ts_ms for r in batch.readings if r.ts_ms <= device.last_ts_ms})
        if past:
            rows = session.scalars(
                select(Reading).where(Reading.device_id == device.device_id, Reading.ts_ms.in_(past))
            )
            stored = {row.ts_ms: reading_values(row) for row in rows}  # type: ignore[arg-type]
    violations = check_batch(batch.readings, last, stored, limits)
    if not violations:
        return
    codes = {violation.code for violation in violations}
    items = [
        ProblemItem(
            reading=v.reading, field=f"readings.{v.reading}.{v.field}", reason=f"{v.code}: {v.reason}"
        )
        for v in violations
    ]
    if codes == {ViolationCode.DUPLICATE_READING}:
        status, slug, title = 409, "duplicate-reading", "Readings already accepted"
    elif len(codes) == 1:
        slug = str(next(iter(codes))).replace("_", "-")
        status, title = (
            422,
            {"implausible": "Implausible readings", "out-of-order": "Readings out of order"}[slug],
        )
    else:
        status, slug, title = 422, "rejected-readings", "Readings rejected"
    raise ProblemError(
        status, slug, title, f"{len(items)} violation(s) in {len(batch.readings)} reading(s)", items
    )


def _lock_shipment(session: Session, batch: BatchIn) -> ShipmentPosition:
    """Lock the shipment's position row (create it for a first batch) before any reading id is drawn.

    Followers read a shipment in acceptance order (``after_id``): a reading id must never become visible
    after a greater id of the same shipment. SQLite serialises writers anyway; on PostgreSQL, batches of two
    devices of one shipment could otherwise draw ids in one order and commit in the other, and a follower
    that had read the greater id would never see the smaller. Holding this lock from before the ids are
    drawn until commit makes a shipment's ids visible in order. A concurrent first batch of the same
    shipment fails on the primary key and is re-evaluated by the caller (``IntegrityError``).
    """
    position = session.get(ShipmentPosition, batch.shipment_id, with_for_update=True)
    if position is None:
        last = batch.readings[-1]
        position = ShipmentPosition(
            shipment_id=batch.shipment_id,
            device_id=batch.device_id,
            reading_id=0,
            ts_ms=last.ts_ms,
            lat_e7=last.lat_e7,
            lon_e7=last.lon_e7,
        )
        session.add(position)
        session.flush()
    return position


def _insert(session: Session, device: Device, batch: BatchIn, content_hash: str, signer: str) -> Accepted:
    stamp = now_ms()
    row = Batch(
        device_id=batch.device_id,
        seq=batch.seq,
        shipment_id=batch.shipment_id,
        batch_hash=content_hash,
        signature=batch.signature,
        signer=signer,
        reading_count=len(batch.readings),
        first_reading_id=0,
        last_reading_id=0,
        received_at_ms=stamp,
    )
    session.add(row)
    session.flush()
    last = batch.readings[-1]
    position = _lock_shipment(session, batch)
    values = [
        {
            "batch_id": row.id,
            "shipment_id": batch.shipment_id,
            "device_id": batch.device_id,
            "batch_seq": batch.seq,
            "received_at_ms": stamp,
            **reading.model_dump(),
        }
        for reading in batch.readings
    ]
    ids = list(session.scalars(insert(Reading).returning(Reading.id, sort_by_parameter_order=True), values))
    row.first_reading_id, row.last_reading_id = ids[0], ids[-1]
    bumped = session.execute(
        update(Device)
        .where(Device.device_id == device.device_id, Device.version == device.version)
        .values(
            last_seq=batch.seq,
            last_ts_ms=last.ts_ms,
            last_lat_e7=last.lat_e7,
            last_lon_e7=last.lon_e7,
            version=device.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount != 1:  # type: ignore[attr-defined]
        raise LostRaceError()
    if position.reading_id == 0:  # the shipment's first batch: the row was created by _lock_shipment
        position.reading_id = ids[-1]
    elif last.ts_ms > position.ts_ms:
        position.device_id, position.reading_id = batch.device_id, ids[-1]
        position.ts_ms, position.lat_e7, position.lon_e7 = last.ts_ms, last.lat_e7, last.lon_e7
    session.flush()
    published = [
        ReadingPublic.model_validate({**value, "id": reading_id})
        for reading_id, value in zip(ids, values, strict=True)
    ]
    return Accepted(_batch_result(row), created=True, readings=published)
