"""The agent's durable local state (SQLAlchemy 2; SQLite by default, any URL).

Tables: inventory and its movements (a movement's `ref` is unique, so applying the same receipt or dispatch
twice changes nothing), processed events (tx hash, log index), the scanner's cursor and recent block hashes,
the transaction journal, bid secrets (salts kept until the reveal), the transcript outbox and the agent's
working memory of CFPs and orders (`facts`: kind + key -> JSON).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class StockLevel(Base):
    __tablename__ = "inventory"
    product: Mapped[str] = mapped_column(String(32), primary_key=True)
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)


class Movement(Base):
    __tablename__ = "movements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(160), unique=True)
    product: Mapped[str] = mapped_column(String(32))
    delta: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))  # received | dispatched | sold | initial | reserve | release
    at_ms: Mapped[int] = mapped_column(BigInteger)


class ProcessedEvent(Base):
    __tablename__ = "processed_events"
    tx_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(64))


class Cursor(Base):
    __tablename__ = "scan_cursor"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_block: Mapped[int] = mapped_column(BigInteger)


class ScannedBlock(Base):
    __tablename__ = "scanned_blocks"
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(String(66))


class Action(Base):
    """One intended transaction, recorded under its idempotency key before anything is signed or sent."""

    __tablename__ = "actions"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # intended | signed | mined | reverted | rejected
    description: Mapped[str] = mapped_column(Text, default="")
    to: Mapped[str | None] = mapped_column(String(42), nullable=True)
    data: Mapped[str | None] = mapped_column(Text, nullable=True)
    nonce: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    gas: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_fee: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    priority_fee: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    raw_tx: Mapped[str | None] = mapped_column(Text, nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    all_hashes: Mapped[str] = mapped_column(Text, default="[]")  # every signed version (replacements)
    sent_at: Mapped[float | None] = mapped_column(nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class BidSecret(Base):
    __tablename__ = "bid_secrets"
    cfp_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    eta: Mapped[int] = mapped_column(BigInteger)
    salt: Mapped[str] = mapped_column(String(66))
    detail: Mapped[str] = mapped_column(Text, default="{}")


class OutboxMessage(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message: Mapped[str] = mapped_column(Text)
    posted: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class Fact(Base):
    __tablename__ = "facts"
    __table_args__ = (UniqueConstraint("kind", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    value: Mapped[str] = mapped_column(Text)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # the journal must survive a power cut, not just a crash
    cursor.close()


class InsufficientStockError(ValueError):
    pass


class AgentState:
    """Typed access to the tables; every method is one committed transaction."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ inventory

    def stock(self, product: str) -> StockLevel:
        with self.session() as s:
            level = s.get(StockLevel, product)
            return level if level is not None else StockLevel(product=product, on_hand=0, reserved=0)

    def available(self, product: str) -> int:
        level = self.stock(product)
        return level.on_hand - level.reserved

    def move(self, ref: str, product: str, delta: int, reason: str, *, reserve: int = 0) -> bool:
        """Apply one movement once: False when `ref` was applied before. `reserve` changes the reserved
        quantity in the same transaction (a dispatch releases what the award reserved)."""
        with self.session() as s:
            if s.scalar(select(Movement.id).where(Movement.ref == ref)) is not None:
                return False
            level = s.get(StockLevel, product)
            if level is None:
                level = StockLevel(product=product, on_hand=0, reserved=0)
                s.add(level)
            if level.on_hand + delta < 0 or level.reserved + reserve < 0:
                raise InsufficientStockError(
                    f"{ref}: {product} on hand {level.on_hand}, reserved {level.reserved}; cannot apply "
                    f"{delta:+d} / reserve {reserve:+d}"
                )
            level.on_hand += delta
            level.reserved += reserve
            s.add(Movement(ref=ref, product=product, delta=delta, reason=reason, at_ms=int(time.time() * 1000)))
            return True

    def movements(self, product: str | None = None) -> list[Movement]:
        with self.session() as s:
            query = select(Movement).order_by(Movement.id)
            if product is not None:
                query = query.where(Movement.product == product)
            return list(s.scalars(query))

    # ------------------------------------------------------------------ events and cursor

    def mark_processed(self, tx_hash: str, log_index: int, block_number: int, name: str) -> bool:
        """Claim an event: False when it was processed before."""
        with self.session() as s:
            if s.get(ProcessedEvent, (tx_hash, log_index)) is not None:
                return False
            s.add(ProcessedEvent(tx_hash=tx_hash, log_index=log_index, block_number=block_number, event=name))
            return True

    def is_processed(self, tx_hash: str, log_index: int) -> bool:
        with self.session() as s:
            return s.get(ProcessedEvent, (tx_hash, log_index)) is not None

    def cursor(self, name: str) -> int | None:
        with self.session() as s:
            row = s.get(Cursor, name)
            return None if row is None else row.last_block

    def save_cursor(self, name: str, last_block: int, hashes: dict[int, str], keep: int) -> None:
        with self.session() as s:
            row = s.get(Cursor, name)
            if row is None:
                s.add(Cursor(name=name, last_block=last_block))
            else:
                row.last_block = last_block
            for number, block_hash in hashes.items():
                s.merge(ScannedBlock(number=number, hash=block_hash))
            for old in s.scalars(select(ScannedBlock).where(ScannedBlock.number <= last_block - keep)):
                s.delete(old)
            for ahead in s.scalars(select(ScannedBlock).where(ScannedBlock.number > last_block)):
                s.delete(ahead)

    def block_hashes(self) -> dict[int, str]:
        with self.session() as s:
            return {b.number: b.hash for b in s.scalars(select(ScannedBlock))}

    # ------------------------------------------------------------------ bid secrets

    def save_bid(self, cfp_id: int, unit_price: int, eta: int, salt: str, detail: dict[str, Any]) -> BidSecret:
        """Keep the first secret for a CFP: a restarted agent must reveal what it committed."""
        with self.session() as s:
            existing = s.get(BidSecret, cfp_id)
            if existing is not None:
                return existing
            row = BidSecret(cfp_id=cfp_id, unit_price=unit_price, eta=eta, salt=salt, detail=json.dumps(detail))
            s.add(row)
            return row

    def bid(self, cfp_id: int) -> BidSecret | None:
        with self.session() as s:
            return s.get(BidSecret, cfp_id)

    # ------------------------------------------------------------------ facts

    def put_fact(self, kind: str, key: str | int, value: dict[str, Any]) -> None:
        with self.session() as s:
            row = s.scalar(select(Fact).where(Fact.kind == kind, Fact.key == str(key)))
            if row is None:
                s.add(Fact(kind=kind, key=str(key), value=json.dumps(value, sort_keys=True)))
            else:
                row.value = json.dumps(value, sort_keys=True)

    def update_fact(self, kind: str, key: str | int, **changes: Any) -> dict[str, Any]:
        value = self.fact(kind, key) or {}
        value.update(changes)
        self.put_fact(kind, key, value)
        return value

    def fact(self, kind: str, key: str | int) -> dict[str, Any] | None:
        with self.session() as s:
            row = s.scalar(select(Fact).where(Fact.kind == kind, Fact.key == str(key)))
            return None if row is None else dict(json.loads(row.value))

    def facts(self, kind: str) -> dict[str, dict[str, Any]]:
        with self.session() as s:
            return {r.key: dict(json.loads(r.value)) for r in s.scalars(select(Fact).where(Fact.kind == kind))}

    # ------------------------------------------------------------------ outbox

    def enqueue_message(self, message: dict[str, Any]) -> None:
        with self.session() as s:
            s.add(OutboxMessage(message=json.dumps(message, sort_keys=True)))

    def pending_messages(self, limit: int = 50) -> list[OutboxMessage]:
        with self.session() as s:
            return list(
                s.scalars(select(OutboxMessage).where(OutboxMessage.posted.is_(False)).order_by(OutboxMessage.id).limit(limit))
            )

    def all_messages(self) -> list[dict[str, Any]]:
        with self.session() as s:
            return [json.loads(m.message) for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]

    def mark_message(self, message_id: int, posted: bool) -> None:
        with self.session() as s:
            row = s.get(OutboxMessage, message_id)
            if row is not None:
                row.posted = posted
                row.attempts += 1
