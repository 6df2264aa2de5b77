"""Wire types of the API (pydantic). Physical values are fixed-point integers with the unit in the name.

Types here check shape only (type, sign-independent bounds that keep integers within 64 bits, identifier
syntax). Whether a value is physically plausible is decided in `validation.py`, so that a rejection can
say which reading and which field failed, and why.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from multiformats import CID
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from .agent_schemas import ApprovalPublic, MessagePublic

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,79}$")]
Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
Bytes32Hex = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")]
SignatureHex = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{130}$")]
Int64 = Annotated[int, Field(strict=True, ge=INT64_MIN, le=INT64_MAX)]
NonNegInt64 = Annotated[int, Field(strict=True, ge=0, le=INT64_MAX)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReadingIn(_Strict):
    """One sensor sample. Integers only: a float would round differently across languages."""

    ts_ms: NonNegInt64 = Field(description="Sample time, milliseconds since the Unix epoch (UTC).")
    temp_centi_c: Int64 = Field(description="Temperature in hundredths of a degree Celsius.")
    humidity_bp: Int64 = Field(description="Relative humidity in basis points (10000 = 100 %).")
    light_lux: Int64 = Field(description="Illuminance in lux.")
    shock_milli_g: Int64 = Field(description="Peak acceleration since the previous sample, in milli-g.")
    lat_e7: Int64 = Field(description="Latitude in degrees x 1e7 (WGS84).")
    lon_e7: Int64 = Field(description="Longitude in degrees x 1e7 (WGS84).")


class BatchIn(_Strict):
    """A device's signed batch for one shipment. See the `signing` section of the API description."""

    device_id: Identifier
    shipment_id: Identifier = Field(description="The custody twin id of the shipment.")
    seq: NonNegInt64 = Field(description="Per-device batch sequence number; strictly increasing.")
    readings: list[ReadingIn] = Field(min_length=1)
    signature: SignatureHex = Field(description="EIP-191 signature of the canonical batch JSON.")


class BatchResult(BaseModel):
    device_id: str
    shipment_id: str
    seq: int
    batch_hash: str = Field(description="keccak256 of the canonical batch JSON.")
    reading_count: int
    first_reading_id: int
    last_reading_id: int
    received_at_ms: int


class ReadingPublic(BaseModel):
    id: int = Field(description="Store-wide increasing id; also the position in the live feed.")
    shipment_id: str
    device_id: str
    batch_seq: int
    ts_ms: int
    temp_centi_c: int
    humidity_bp: int
    light_lux: int
    shock_milli_g: int
    lat_e7: int
    lon_e7: int
    received_at_ms: int


class ReadingPage(BaseModel):
    items: list[ReadingPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


class PositionPublic(BaseModel):
    shipment_id: str
    device_id: str
    reading_id: int
    ts_ms: int
    lat_e7: int
    lon_e7: int


class DeviceRegister(_Strict):
    address: Address = Field(description="Ethereum address of the device's secp256k1 key.")
    shipments: list[Identifier] | None = Field(
        description="Shipments the device may report for; null means any shipment."
    )


class DevicePublic(BaseModel):
    device_id: str
    address: str
    shipments: list[str] | None
    last_seq: int | None
    last_ts_ms: int | None
    registered_at_ms: int
    updated_at_ms: int


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class VerdictIn(_Strict):
    verdict_id: Bytes32Hex = Field(description="The verdict's id as accepted by the on-chain hub.")
    shipment_id: Identifier
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")] = Field(
        description="Detector kind, e.g. temperature_excursion."
    )
    severity: Severity
    tx_hash: Bytes32Hex | None = Field(default=None, description="Transaction that submitted the verdict.")
    evidence_cid: Annotated[str, StringConstraints(min_length=10, max_length=128)]
    detected_at_ms: NonNegInt64

    @field_validator("evidence_cid")
    @classmethod
    def _cid_decodes(cls, value: str) -> str:
        try:
            CID.decode(value)
        except Exception as exc:  # multiformats raises several error types for bad input
            raise ValueError(f"not a valid CID: {exc}") from exc
        return value


class VerdictPublic(BaseModel):
    verdict_id: str
    shipment_id: str
    kind: str
    severity: Severity
    tx_hash: str | None
    evidence_cid: str
    detected_at_ms: int
    received_at_ms: int


class FeedMessage(BaseModel):
    """One WebSocket text frame of `/ws/feed`."""

    type: Literal["reading", "verdict", "message", "approval", "gap"]
    data: ReadingPublic | VerdictPublic | MessagePublic | ApprovalPublic | None = None
    dropped: int | None = Field(
        default=None, description="For `gap`: messages dropped for this client because it read too slowly."
    )


class ProblemItem(BaseModel):
    reading: int | None = Field(description="Index of the offending reading in the batch, if any.")
    field: str | None
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details, with one item per offending reading and field."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemItem] = []


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    database: str = Field(description="Database backend name (no host or credentials).")
