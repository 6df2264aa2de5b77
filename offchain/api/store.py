"""The durable store: one SQLAlchemy engine, one short transaction per request.

A batch is accepted in a single write transaction (batch row, its readings, the device's continuation
point, the shipment's latest position), so it is stored entirely or not at all. SQLite runs in WAL mode
and opens write transactions with BEGIN IMMEDIATE: a deferred transaction that reads before it writes
would fail with "database is locked" instead of waiting for a concurrent writer. Several API processes
may share one PostgreSQL database: the device row carries a version, and a batch that loses the race for
it is re-evaluated against the winner's state.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .ingestion import Accepted, LostRaceError, accept_batch, now_ms
from .models import Base, Device, Reading, ShipmentPosition, Verdict
from .problems import ProblemError
from .schemas import (
    BatchIn,
    DevicePublic,
    DeviceRegister,
    PositionPublic,
    ProblemItem,
    ReadingPage,
    ReadingPublic,
    VerdictIn,
    VerdictPublic,
)
from .signing import SignatureError, batch_hash, canonical_batch_bytes, recover_signer
from .validation import Limits

logger = logging.getLogger(__name__)

_WRITE = "asc_write"
_MAX_ATTEMPTS = 5


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" hook below instead of pysqlite's own.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def encode_cursor(ts_ms: int, reading_id: int) -> str:
    return base64.urlsafe_b64encode(f"{ts_ms}:{reading_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        ts_text, id_text = raw.split(":")
        return int(ts_text), int(id_text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ProblemError(
            422,
            "malformed",
            "Malformed request",
            "cursor is not one returned by this API",
            [ProblemItem(reading=None, field="cursor", reason=str(exc) or "undecodable")],
        ) from exc


def _reading_public(row: Reading) -> ReadingPublic:
    return ReadingPublic(
        id=row.id,
        shipment_id=row.shipment_id,
        device_id=row.device_id,
        batch_seq=row.batch_seq,
        ts_ms=row.ts_ms,
        temp_centi_c=row.temp_centi_c,
        humidity_bp=row.humidity_bp,
        light_lux=row.light_lux,
        shock_milli_g=row.shock_milli_g,
        lat_e7=row.lat_e7,
        lon_e7=row.lon_e7,
        received_at_ms=row.received_at_ms,
    )


def _device_public(row: Device) -> DevicePublic:
    return DevicePublic(
        device_id=row.device_id,
        address=row.address,
        shipments=row.shipments,
        last_seq=row.last_seq,
        last_ts_ms=row.last_ts_ms,
        registered_at_ms=row.registered_at_ms,
        updated_at_ms=row.updated_at_ms,
    )


def _verdict_public(row: Verdict) -> VerdictPublic:
    return VerdictPublic.model_validate(row, from_attributes=True)


class Store:
    def __init__(self, url: str, *, max_future_ms: int, max_speed_kmh: int) -> None:
        parsed = make_url(url)
        self.display_url = parsed.render_as_string(hide_password=True)
        self.backend = parsed.get_backend_name()
        self.is_sqlite = self.backend == "sqlite"
        if self.is_sqlite and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, pool_pre_ping=not self.is_sqlite)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False)
        self.max_future_ms = max_future_ms
        self.max_speed_kmh = max_speed_kmh

    def _limits(self) -> Limits:
        return Limits(now_ms(), self.max_future_ms, self.max_speed_kmh)

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with self._write() as session, session.begin():
            yield session

    def writing(self) -> AbstractContextManager[Session]:
        """One write transaction (BEGIN IMMEDIATE on SQLite), committed on exit; for sibling stores."""
        return self._writing()

    def reading(self) -> Session:
        """A read-only session; use as a context manager."""
        return self._read()

    # ---------------------------------------------------------------- devices

    def register_device(self, device_id: str, body: DeviceRegister) -> tuple[DevicePublic, bool]:
        """Create or update (key rotation, new shipments); the device's sequence state is kept."""
        stamp = now_ms()
        shipments = sorted(set(body.shipments)) if body.shipments is not None else None
        for _ in range(_MAX_ATTEMPTS):
            try:
                with self._writing() as session:
                    device = session.get(Device, device_id)
                    created = device is None
                    if device is None:
                        device = Device(device_id=device_id, registered_at_ms=stamp, version=0)
                        session.add(device)
                    device.address = body.address
                    device.shipments = shipments
                    device.updated_at_ms = stamp
                    session.flush()
                    return _device_public(device), created
            except IntegrityError:
                continue  # a concurrent registration of the same id won; update it instead
        raise RuntimeError(f"device {device_id} could not be registered after {_MAX_ATTEMPTS} attempts")

    def get_device(self, device_id: str) -> DevicePublic | None:
        with self._read() as session:
            device = session.get(Device, device_id)
            return _device_public(device) if device else None

    def list_devices(self) -> list[DevicePublic]:
        with self._read() as session:
            rows = session.scalars(select(Device).order_by(Device.device_id))
            return [_device_public(row) for row in rows]

    # -------------------------------------------------------------- ingestion

    def ingest(self, batch: BatchIn) -> Accepted:
        readings = [reading.model_dump() for reading in batch.readings]
        canonical = canonical_batch_bytes(batch.device_id, batch.shipment_id, batch.seq, readings)
        content_hash = batch_hash(canonical)
        try:
            signer = recover_signer(canonical, batch.signature)
        except SignatureError as exc:
            raise ProblemError(
                401,
                "bad-signature",
                "Forged batch",
                str(exc),
                [ProblemItem(reading=None, field="signature", reason=str(exc))],
            ) from exc
        for _ in range(_MAX_ATTEMPTS):
            try:
                with self._writing() as session:
                    return accept_batch(session, batch, content_hash, signer, self._limits())
            except (LostRaceError, IntegrityError):
                logger.info(
                    "batch %s/%d lost a race with another writer; re-evaluating", batch.device_id, batch.seq
                )
        raise ProblemError(
            503,
            "contention",
            "Busy",
            f"device {batch.device_id} is being written by others; retry",
            headers={"Retry-After": "1"},
        )

    # ---------------------------------------------------------------- queries

    def readings_page(
        self,
        shipment_id: str,
        *,
        from_ms: int | None,
        to_ms: int | None,
        cursor: str | None,
        limit: int,
        after_id: int | None = None,
    ) -> ReadingPage:
        """Time order (timestamp, then id) with the opaque ``cursor``; or, with ``after_id``, acceptance
        order: the readings whose id is greater, by id. A follower that keeps the last id it read sees every
        reading exactly once, also one accepted after newer ones (a logger uploading its backlog late)."""
        if after_id is not None and cursor is not None:
            raise ProblemError(
                422,
                "malformed",
                "Malformed request",
                "cursor (time order) and after_id (acceptance order) cannot be combined",
                [ProblemItem(reading=None, field="after_id", reason="given together with cursor")],
            )
        query = select(Reading).where(Reading.shipment_id == shipment_id)
        if from_ms is not None:
            query = query.where(Reading.ts_ms >= from_ms)
        if to_ms is not None:
            query = query.where(Reading.ts_ms < to_ms)
        if after_id is not None:
            query = query.where(Reading.id > after_id).order_by(Reading.id).limit(limit)
            with self._read() as session:
                items = [_reading_public(row) for row in session.scalars(query)]
            return ReadingPage(items=items, next_cursor=None)
        if cursor is not None:
            after_ts, after_id = decode_cursor(cursor)
            query = query.where(
                (Reading.ts_ms > after_ts) | ((Reading.ts_ms == after_ts) & (Reading.id > after_id))
            )
        query = query.order_by(Reading.ts_ms, Reading.id).limit(limit + 1)
        with self._read() as session:
            rows = list(session.scalars(query))
        items = [_reading_public(row) for row in rows[:limit]]
        next_cursor = encode_cursor(items[-1].ts_ms, items[-1].id) if len(rows) > limit else None
        return ReadingPage(items=items, next_cursor=next_cursor)

    def readings_after(self, after_id: int, shipment_id: str | None, limit: int) -> list[ReadingPublic]:
        query = select(Reading).where(Reading.id > after_id)
        if shipment_id is not None:
            query = query.where(Reading.shipment_id == shipment_id)
        with self._read() as session:
            rows = session.scalars(query.order_by(Reading.id).limit(limit))
            return [_reading_public(row) for row in rows]

    def position(self, shipment_id: str) -> PositionPublic | None:
        with self._read() as session:
            row = session.get(ShipmentPosition, shipment_id)
            return PositionPublic.model_validate(row, from_attributes=True) if row else None

    def positions(self) -> list[PositionPublic]:
        with self._read() as session:
            rows = session.scalars(select(ShipmentPosition).order_by(ShipmentPosition.shipment_id))
            return [PositionPublic.model_validate(row, from_attributes=True) for row in rows]

    # --------------------------------------------------------------- verdicts

    def record_verdict(self, body: VerdictIn) -> tuple[VerdictPublic, bool]:
        """Idempotent on verdict_id: every oracle node may post the same accepted verdict."""
        for _ in range(_MAX_ATTEMPTS):
            try:
                with self._writing() as session:
                    row = session.get(Verdict, body.verdict_id)
                    if row is None:
                        row = Verdict(**body.model_dump(mode="json"), received_at_ms=now_ms())
                        session.add(row)
                        session.flush()
                        return _verdict_public(row), True
                    stored = _verdict_public(row).model_dump(mode="json", exclude={"received_at_ms"})
                    if stored != body.model_dump(mode="json"):
                        differing = sorted(
                            k for k, v in body.model_dump(mode="json").items() if stored[k] != v
                        )
                        raise ProblemError(
                            409,
                            "verdict-conflict",
                            "Verdict id already used",
                            f"verdict {body.verdict_id} was recorded with different content",
                            [
                                ProblemItem(reading=None, field=k, reason="differs from the recorded verdict")
                                for k in differing
                            ],
                        )
                    return _verdict_public(row), False
            except IntegrityError:
                continue  # another node recorded it first; compare against theirs
        raise RuntimeError(f"verdict {body.verdict_id} could not be recorded after {_MAX_ATTEMPTS} attempts")

    def list_verdicts(self, shipment_id: str | None, limit: int) -> list[VerdictPublic]:
        query = select(Verdict)
        if shipment_id is not None:
            query = query.where(Verdict.shipment_id == shipment_id)
        with self._read() as session:
            rows = session.scalars(query.order_by(Verdict.received_at_ms, Verdict.verdict_id).limit(limit))
            return [_verdict_public(row) for row in rows]


def open_store(url: str, *, max_future_ms: int, max_speed_kmh: int) -> Store:
    store = Store(url, max_future_ms=max_future_ms, max_speed_kmh=max_speed_kmh)
    store.create_schema()
    logger.info("store ready at %s", store.display_url)
    return store


__all__: Sequence[str] = ("Accepted", "Store", "decode_cursor", "encode_cursor", "now_ms", "open_store")
