"""Canonical JSON for evidence objects, and the hash that goes on-chain.

The encoding is RFC 8785 (JSON Canonicalization Scheme) restricted to integers, so any JCS library in any
language reproduces the bytes:

* object keys sorted by UTF-16 code units, no insignificant whitespace, UTF-8 without BOM;
* strings escaped as JCS does (only ``"``, ``\\`` and control characters; everything else literal);
* numbers are integers within +-(2**53 - 1), the range every JSON parser (JavaScript included) reads exactly.
  Floats are refused, never rounded: measurements are fixed-point integers with the unit in the field name
  (``temperature_mC``, ``latitude_e7``). Larger integers (token amounts in wei) go in decimal strings.

``decode`` accepts only bytes that are already canonical, so an object read back from the store either
re-encodes to the very same bytes or is rejected.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import NoReturn, TypeAlias

from offchain.storage.cid import MAX_ONE_BLOCK_BYTES

JsonValue: TypeAlias = bool | int | str | list["JsonValue"] | dict[str, "JsonValue"] | None

MAX_SAFE_INTEGER = 2**53 - 1
MAX_EVIDENCE_BYTES = MAX_ONE_BLOCK_BYTES


class CanonicalJsonError(ValueError):
    """A value or bytes that are not canonical JSON; ``path`` locates the offending part (``$.a[2]``)."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        super().__init__(f"{path}: {problem}")


class EvidenceTooLargeError(ValueError):
    """An evidence object larger than one IPFS block: its CID would not fit an on-chain bytes32."""

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(
            f"evidence object is {size} bytes; the limit is {MAX_EVIDENCE_BYTES} (one IPFS block) so "
            "that its sha2-256 is both the on-chain hash and the CID digest: store bulky data as separate "
            "objects and reference their CIDs"
        )


def _utf16_order(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _encode_string(text: str, path: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalJsonError(path, f"string contains a lone surrogate at index {exc.start}") from exc
    return json.dumps(text, ensure_ascii=False)


def _encode(value: object, path: str, out: list[str]) -> None:
    # bool before int: bool is a subclass of int in Python.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalJsonError(
                path, f"integer {value} is outside +-(2**53 - 1); put larger numbers in a decimal string"
            )
        out.append(str(int(value)))
    elif isinstance(value, float):
        kind = "NaN/Infinity" if not math.isfinite(value) else f"float {value!r}"
        raise CanonicalJsonError(
            path,
            f"{kind} is not allowed: use a fixed-point integer with the unit in the field name (temp_mC)",
        )
    elif isinstance(value, str):
        out.append(_encode_string(value, path))
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, f"{path}[{index}]", out)
        out.append("]")
    elif isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalJsonError(path, f"object key {key!r} is not a string")
        out.append("{")
        for index, key in enumerate(sorted(value, key=_utf16_order)):
            if index:
                out.append(",")
            out.append(_encode_string(key, f"{path}.{key}"))
            out.append(":")
            _encode(value[key], f"{path}.{key}", out)
        out.append("}")
    else:
        raise CanonicalJsonError(path, f"{type(value).__name__} is not a JSON type")


def encode(value: object) -> bytes:
    """The canonical UTF-8 bytes of a JSON value made of dict/list/tuple/str/int/bool/None."""
    out: list[str] = []
    _encode(value, "$", out)
    return "".join(out).encode("utf-8")


def _reject_float(literal: str) -> NoReturn:
    raise CanonicalJsonError("$", f"number {literal} is not an integer")


def _reject_constant(literal: str) -> NoReturn:
    raise CanonicalJsonError("$", f"{literal} is not JSON")


def _object_without_duplicates(pairs: list[tuple[str, JsonValue]]) -> dict[str, JsonValue]:
    result: dict[str, JsonValue] = {}
    for key, item in pairs:
        if key in result:
            raise CanonicalJsonError("$", f"duplicate object key {key!r}")
        result[key] = item
    return result


def decode(data: bytes) -> JsonValue:
    """Parse canonical JSON bytes; anything that would not re-encode to the same bytes is rejected."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalJsonError("$", f"invalid UTF-8 at byte {exc.start}") from exc
    try:
        value: JsonValue = json.loads(
            text,
            parse_float=_reject_float,
            parse_constant=_reject_constant,
            object_pairs_hook=_object_without_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise CanonicalJsonError("$", f"not JSON: {exc}") from exc
    except ValueError as exc:  # e.g. integer literals longer than Python's int parsing limit
        if isinstance(exc, CanonicalJsonError):
            raise
        raise CanonicalJsonError("$", str(exc)) from exc
    if encode(value) != data:
        raise CanonicalJsonError(
            "$", "valid JSON but not in canonical form (key order, whitespace or escaping)"
        )
    return value


def encode_evidence(evidence: Mapping[str, object]) -> bytes:
    """Canonical bytes of an evidence object (a JSON object of at most one IPFS block)."""
    if not isinstance(evidence, Mapping):
        raise CanonicalJsonError("$", f"an evidence object is a JSON object, got {type(evidence).__name__}")
    data = encode(evidence)
    if len(data) > MAX_EVIDENCE_BYTES:
        raise EvidenceTooLargeError(len(data))
    return data


def evidence_hash(data: bytes) -> bytes:
    """The bytes32 a verdict carries: sha2-256 of the canonical bytes, also the digest of their raw CIDv1."""
    if len(data) > MAX_EVIDENCE_BYTES:
        raise EvidenceTooLargeError(len(data))
    return hashlib.sha256(data).digest()
