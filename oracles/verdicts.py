"""EIP-712 oracle verdicts: typed data from the published schema, signing, and the hub's signature format.

The schema is `interfaces/eip712/_Verdict.json` (one source for every signer); this module only fills it in.
`VerdictHub.submitVerdict` takes the concatenation of `threshold` EIP-2098 compact signatures (64 bytes each:
r || vs with vs = s | (v - 27) << 255), in any order; `sign_verdict` returns one of those, `pack_signatures`
joins them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import IntEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Self

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils.address import is_address, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# The leading underscore keeps brownie from loading the schema as a contract ABI (it loads every *.json under
# interfaces/ and crashes on a JSON object); brownie skips paths with a part starting with "_".
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "interfaces" / "eip712" / "_Verdict.json"
COMPACT_SIGNATURE_LENGTH = 64

# secp256k1 group order: signatures with s above half of it are malleable and refused by OpenZeppelin ECDSA.
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = _SECP256K1_N // 2
_UINT256_MAX = 2**256 - 1
_UINT64_MAX = 2**64 - 1
_UINT32_MAX = 2**32 - 1

# Python field -> EIP-712 field, in struct order; checked against the schema file when it is loaded.
_FIELDS: tuple[tuple[str, str], ...] = (
    ("order_id", "orderId"),
    ("twin_id", "twinId"),
    ("kind", "kind"),
    ("severity", "severity"),
    ("action", "action"),
    ("window_start", "windowStart"),
    ("window_end", "windowEnd"),
    ("evidence_hash", "evidenceHash"),
    ("epoch", "epoch"),
)


class VerdictError(ValueError):
    """A verdict, schema, domain or signature that cannot be used."""


class Kind(IntEnum):
    """What was violated (`kind` in the schema)."""

    TEMPERATURE = 1
    HUMIDITY = 2
    SHOCK = 3
    ROUTE_DEVIATION = 4
    DELAY = 5


class Action(IntEnum):
    """What the hub does with an accepted verdict (`action` in the schema)."""

    PENALTY = 1
    HOLD = 2
    REROUTE = 3


Uint256 = Annotated[int, Field(ge=0, le=_UINT256_MAX, strict=True)]
Uint64 = Annotated[int, Field(ge=0, le=_UINT64_MAX, strict=True)]


class Verdict(BaseModel):
    """A verdict as signed by the oracles; same rules as `VerdictHub` checks on-chain."""

    model_config = ConfigDict(frozen=True)

    order_id: Uint256
    twin_id: Uint256
    kind: Kind
    severity: Annotated[int, Field(ge=0, le=255, strict=True)]
    action: Action
    window_start: Uint64
    window_end: Uint64
    evidence_hash: bytes
    epoch: Annotated[int, Field(ge=1, le=_UINT32_MAX, strict=True)]

    @field_validator("evidence_hash", mode="before")
    @classmethod
    def _evidence_hash_bytes32(cls, value: Any) -> bytes:
        if isinstance(value, str):
            text = value.removeprefix("0x")
            try:
                value = bytes.fromhex(text)
            except ValueError as exc:
                raise ValueError(f"evidence_hash is not hex: {value!r}") from exc
        if not isinstance(value, bytes) or len(value) != 32:
            raise ValueError("evidence_hash must be 32 bytes (bytes or 0x-hex)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.window_start > self.window_end:
            raise ValueError(f"window_start {self.window_start} is after window_end {self.window_end}")
        if self.action is Action.PENALTY and self.severity == 0:
            raise ValueError("a PENALTY verdict needs severity >= 1")
        return self

    def message(self) -> dict[str, Any]:
        """The EIP-712 `message` (schema field names, JSON-friendly values)."""
        values = self.as_tuple()
        return {eip_name: value for (_, eip_name), value in zip(_FIELDS, values, strict=True)}

    def as_tuple(self) -> tuple[int, int, int, int, int, int, int, bytes, int]:
        """The struct in field order, as `submitVerdict` takes it (web3/brownie tuple encoding)."""
        return (
            self.order_id,
            self.twin_id,
            int(self.kind),
            self.severity,
            int(self.action),
            self.window_start,
            self.window_end,
            self.evidence_hash,
            self.epoch,
        )


def make_verdict(**fields: Any) -> Verdict:
    """Builds a `Verdict`, turning pydantic's error into a `VerdictError` that names every bad field."""
    try:
        return Verdict(**fields)
    except ValidationError as exc:
        raise VerdictError(f"invalid verdict: {exc}") from exc


class VerdictSchema(BaseModel):
    """The parts of Verdict.json a signer needs."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    primary_type: str = Field(alias="primaryType")
    types: dict[str, list[dict[str, str]]]
    domain: dict[str, str]

    @model_validator(mode="after")
    def _matches_module(self) -> Self:
        names = [field["name"] for field in self.types.get(self.primary_type, [])]
        expected = [eip_name for _, eip_name in _FIELDS]
        if self.primary_type != "Verdict" or names != expected:
            raise ValueError(f"schema Verdict fields {names} differ from {expected}")
        if set(self.domain) != {"name", "version"}:
            raise ValueError(f"domain template must hold exactly name and version, got {sorted(self.domain)}")
        return self


def load_schema(path: Path = SCHEMA_PATH) -> VerdictSchema:
    """Reads and checks a Verdict schema file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise VerdictError(f"cannot read verdict schema {path}: {exc}") from exc
    try:
        return VerdictSchema.model_validate(raw)
    except ValidationError as exc:
        raise VerdictError(f"invalid verdict schema {path}: {exc}") from exc


@lru_cache(maxsize=1)
def default_schema() -> VerdictSchema:
    """The schema published in the repository (read once)."""
    return load_schema(SCHEMA_PATH)


def typed_data(
    verdict: Verdict, chain_id: int, hub_address: str, schema: VerdictSchema | None = None
) -> dict[str, Any]:
    """The full EIP-712 typed data for `verdict` under the hub deployed at `hub_address` on `chain_id`."""
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0:
        raise VerdictError(f"chain id must be a positive int, got {chain_id!r}")
    if not isinstance(hub_address, str) or not is_address(hub_address):
        raise VerdictError(f"hub address is not an address: {hub_address!r}")
    schema = schema or default_schema()
    return {
        "types": schema.types,
        "primaryType": schema.primary_type,
        "domain": {
            **schema.domain,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(hub_address),
        },
        "message": verdict.message(),
    }


def verdict_id(
    verdict: Verdict, chain_id: int, hub_address: str, schema: VerdictSchema | None = None
) -> bytes:
    """The EIP-712 digest of `verdict`: the id the hub gives it once accepted."""
    signable = encode_typed_data(full_message=typed_data(verdict, chain_id, hub_address, schema))
    return bytes(_hash_eip191_message(signable))


def to_compact(v: int, r: int, s: int) -> bytes:
    """EIP-2098 compact form (r || vs) of a low-s (v, r, s) signature."""
    if v not in (27, 28):
        raise VerdictError(f"v must be 27 or 28, got {v}")
    if not 0 < r < _SECP256K1_N:
        raise VerdictError("r is out of range")
    if not 0 < s <= _HALF_N:
        raise VerdictError("s is zero or high (malleable); the hub refuses it")
    vs = s | ((v - 27) << 255)
    return r.to_bytes(32, "big") + vs.to_bytes(32, "big")


def from_compact(signature: bytes) -> tuple[int, int, int]:
    """(v, r, s) of an EIP-2098 compact signature."""
    if len(signature) != COMPACT_SIGNATURE_LENGTH:
        raise VerdictError(f"a compact signature is 64 bytes, got {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    vs = int.from_bytes(signature[32:], "big")
    return 27 + (vs >> 255), r, vs & ((1 << 255) - 1)


def sign_verdict(
    verdict: Verdict,
    private_key: bytes | str,
    chain_id: int,
    hub_address: str,
    schema: VerdictSchema | None = None,
) -> bytes:
    """Signs `verdict` with eth-account and returns the 64-byte compact signature the hub takes."""
    data = typed_data(verdict, chain_id, hub_address, schema)
    try:
        signed = Account.sign_typed_data(private_key, full_message=data)
    except (ValueError, TypeError) as exc:
        # The key itself never goes into the message.
        raise VerdictError(f"cannot sign verdict: {type(exc).__name__}") from None
    return to_compact(signed.v, signed.r, signed.s)


def recover_signer(
    verdict: Verdict,
    signature: bytes,
    chain_id: int,
    hub_address: str,
    schema: VerdictSchema | None = None,
) -> str:
    """The address that made compact `signature` over `verdict` (to check a peer before submitting)."""
    v, r, s = from_compact(signature)
    if not 0 < s <= _HALF_N:
        raise VerdictError("s is zero or high (malleable); the hub refuses it")
    signable = encode_typed_data(full_message=typed_data(verdict, chain_id, hub_address, schema))
    return str(Account.recover_message(signable, vrs=(v, r, s)))


def in_member_order(signatures_by_signer: Mapping[str, bytes], members: Sequence[str]) -> list[bytes]:
    """The signatures ordered like the epoch's oracle set (`VerdictHub.signers()`).

    The hub accepts any order, but looks each signer up starting after the previous one, so signatures in
    member order cost the least gas. Signers outside `members` are an error: the hub would refuse them.
    """
    position = {to_checksum_address(member): index for index, member in enumerate(members)}
    ordered: list[tuple[int, bytes]] = []
    for signer, signature in signatures_by_signer.items():
        if not is_address(signer) or to_checksum_address(signer) not in position:
            raise VerdictError(f"{signer!r} is not a member of the oracle set")
        ordered.append((position[to_checksum_address(signer)], signature))
    return [signature for _, signature in sorted(ordered, key=lambda item: item[0])]


def pack_signatures(signatures: Sequence[bytes]) -> bytes:
    """The `signatures` argument of `submitVerdict`: compact signatures concatenated (any order)."""
    for index, signature in enumerate(signatures):
        if len(signature) != COMPACT_SIGNATURE_LENGTH:
            raise VerdictError(f"signature {index} is {len(signature)} bytes, expected 64")
    return b"".join(signatures)
