"""Durable tables (SQLAlchemy 2). Portable across SQLite and PostgreSQL; created at start-up."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
Id64 = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


class Device(Base):
    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    address: Mapped[str] = mapped_column(String(42))
    # None: the device may report for any shipment.
    shipments: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    registered_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)
    # Where ordering and speed checks continue from; bumped in the same transaction as the readings.
    last_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_ts_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_lat_e7: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_lon_e7: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Optimistic concurrency: two API processes accepting batches of one device cannot both win.
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("device_id", "seq", name="uq_batches_device_seq"),)

    id: Mapped[int] = mapped_column(Id64, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(80), ForeignKey("devices.device_id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    shipment_id: Mapped[str] = mapped_column(String(80))
    batch_hash: Mapped[str] = mapped_column(String(66))
    signature: Mapped[str] = mapped_column(String(132))
    signer: Mapped[str] = mapped_column(String(42))
    reading_count: Mapped[int] = mapped_column(Integer)
    first_reading_id: Mapped[int] = mapped_column(BigInteger)
    last_reading_id: Mapped[int] = mapped_column(BigInteger)
    received_at_ms: Mapped[int] = mapped_column(BigInteger)


class Reading(Base):
    __tablename__ = "readings"
    __table_args__ = (
        UniqueConstraint("device_id", "ts_ms", name="uq_readings_device_ts"),
        Index("ix_readings_shipment_ts_id", "shipment_id", "ts_ms", "id"),
    )

    id: Mapped[int] = mapped_column(Id64, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("batches.id"))
    shipment_id: Mapped[str] = mapped_column(String(80))
    device_id: Mapped[str] = mapped_column(String(80))
    batch_seq: Mapped[int] = mapped_column(BigInteger)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    temp_centi_c: Mapped[int] = mapped_column(BigInteger)
    humidity_bp: Mapped[int] = mapped_column(BigInteger)
    light_lux: Mapped[int] = mapped_column(BigInteger)
    shock_milli_g: Mapped[int] = mapped_column(BigInteger)
    lat_e7: Mapped[int] = mapped_column(BigInteger)
    lon_e7: Mapped[int] = mapped_column(BigInteger)
    received_at_ms: Mapped[int] = mapped_column(BigInteger)


class ShipmentPosition(Base):
    """Latest fix per shipment, kept up to date on ingestion so the map query is one primary-key read."""

    __tablename__ = "shipment_positions"

    shipment_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(80))
    reading_id: Mapped[int] = mapped_column(BigInteger)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    lat_e7: Mapped[int] = mapped_column(BigInteger)
    lon_e7: Mapped[int] = mapped_column(BigInteger)


class Verdict(Base):
    __tablename__ = "verdicts"
    __table_args__ = (Index("ix_verdicts_shipment", "shipment_id", "received_at_ms"),)

    verdict_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    evidence_cid: Mapped[str] = mapped_column(String(128))
    detected_at_ms: Mapped[int] = mapped_column(BigInteger)
    received_at_ms: Mapped[int] = mapped_column(BigInteger)


class AgentMessage(Base):
    """One signed transcript message between agents (see interfaces/agents/README.md)."""

    __tablename__ = "agent_messages"
    __table_args__ = (
        Index("ix_agent_messages_conversation_seq", "conversation", "seq"),
        Index("ix_agent_messages_sender_seq", "sender", "seq"),
        Index("ix_agent_messages_receiver_seq", "receiver", "seq"),
    )

    # seq orders the transcript (arrival order); message_id is the content address.
    seq: Mapped[int] = mapped_column(Id64, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(66), unique=True)
    conversation: Mapped[str] = mapped_column(String(128))
    sender: Mapped[str] = mapped_column(String(42))
    receiver: Mapped[str] = mapped_column(String(42))
    performative: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, object]] = mapped_column(JSON)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    sent_ms: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(String(132))
    received_ms: Mapped[int] = mapped_column(BigInteger)


class ApprovalRequest(Base):
    """A decision an agent waits for, and (once given) the one decision that counts.

    The decision lives in the same row so that "first valid decision wins" is a single conditional
    UPDATE (... WHERE decision IS NULL), which holds across API processes sharing one database.
    """

    __tablename__ = "approval_requests"
    __table_args__ = (
        Index("ix_approval_requests_agent_seq", "agent", "seq"),
        Index("ix_approval_requests_decided_seq", "decided", "seq"),
    )

    seq: Mapped[int] = mapped_column(Id64, primary_key=True, autoincrement=True)
    approval_id: Mapped[str] = mapped_column(String(66), unique=True)
    agent: Mapped[str] = mapped_column(String(42))
    approvers: Mapped[list[str]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    summary: Mapped[str] = mapped_column(String(1000))
    recommendation: Mapped[dict[str, object]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    severity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(String(132))
    received_ms: Mapped[int] = mapped_column(BigInteger)

    decided: Mapped[bool] = mapped_column(default=False)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decision_approver: Mapped[str | None] = mapped_column(String(42), nullable=True)
    decision_comment: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    decision_decided_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decision_signature: Mapped[str | None] = mapped_column(String(132), nullable=True)
    decision_received_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
