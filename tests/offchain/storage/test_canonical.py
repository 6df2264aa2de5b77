from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from offchain.storage.canonical import (
    MAX_EVIDENCE_BYTES,
    MAX_SAFE_INTEGER,
    CanonicalJsonError,
    EvidenceTooLargeError,
    decode,
    encode,
    encode_evidence,
    evidence_hash,
)
from offchain.storage.cid import compute_cid

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=20,
)


def test_encode_sorts_keys_at_every_level() -> None:
    assert encode({"b": {"z": 1, "a": 2}, "a": 0}) == b'{"a":0,"b":{"a":2,"z":1}}'


def test_encode_sorts_keys_by_utf16_code_units() -> None:
    # U+1F600 is the UTF-16 pair D83D DE00, so it sorts before U+FFFF (by code point it would not).
    assert encode({"\uffff": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\uffff":1}'.encode()


def test_encode_has_no_whitespace() -> None:
    assert (
        encode({"a": [1, 2, {"b": None}], "c": True, "d": False})
        == b'{"a":[1,2,{"b":null}],"c":true,"d":false}'
    )


def test_encode_writes_non_ascii_as_utf8() -> None:
    assert encode({"place": "Köln"}) == '{"place":"Köln"}'.encode()


def test_encode_escapes_only_quote_backslash_and_control_characters() -> None:
    assert encode('"\\\n\x01/\u2028') == b'"\\"\\\\\\n\\u0001/\xe2\x80\xa8"'


def test_encode_accepts_tuples_as_arrays() -> None:
    assert encode((1, "a")) == b'[1,"a"]'


def test_encode_rejects_float_with_its_path() -> None:
    with pytest.raises(
        CanonicalJsonError, match=r"\$\.readings\[1\]\.temp: float 4\.5 is not allowed"
    ) as info:
        encode({"readings": [{"temp": 4}, {"temp": 4.5}]})
    assert info.value.path == "$.readings[1].temp"


def test_encode_rejects_integral_float() -> None:
    with pytest.raises(CanonicalJsonError, match=r"float 4\.0"):
        encode({"temp": 4.0})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_encode_rejects_nan_and_infinity(value: float) -> None:
    with pytest.raises(CanonicalJsonError, match=r"\$\.x: NaN/Infinity"):
        encode({"x": value})


@pytest.mark.parametrize("value", [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 10**30])
def test_encode_rejects_integers_beyond_the_safe_range(value: int) -> None:
    with pytest.raises(CanonicalJsonError, match="decimal string"):
        encode({"amount": value})


def test_encode_accepts_the_safe_range_limits() -> None:
    assert encode([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == b"[9007199254740991,-9007199254740991]"


def test_encode_rejects_non_string_keys() -> None:
    with pytest.raises(CanonicalJsonError, match=r"\$\.a: object key 1 is not a string"):
        encode({"a": {1: "x"}})


def test_encode_rejects_lone_surrogates() -> None:
    with pytest.raises(CanonicalJsonError, match="lone surrogate"):
        encode({"a": "\ud800"})


def test_encode_rejects_other_types() -> None:
    with pytest.raises(CanonicalJsonError, match=r"\$\.a: bytes is not a JSON type"):
        encode({"a": b"raw"})


@given(json_values)
def test_decode_inverts_encode(value: object) -> None:
    assert decode(encode(value)) == value


@given(json_values)
def test_encode_matches_python_json_for_bmp_keys(value: object) -> None:
    # Independent reference for everything but the key order of non-BMP keys (json sorts by code point).
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assume(not any(ord(ch) > 0xFFFF for ch in expected.decode()))
    assert encode(value) == expected


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"b":1,"a":2}', "not in canonical form"),
        (b'{"a": 1}', "not in canonical form"),
        (b'{"a":1}\n', "not in canonical form"),
        (b'"\\u00e9"', "not in canonical form"),
        (b"-0", "not in canonical form"),
        (b'{"a":1.5}', "number 1.5 is not an integer"),
        (b'{"a":1e3}', "number 1e3 is not an integer"),
        (b'{"a":NaN}', "NaN is not JSON"),
        (b'{"a":-Infinity}', "-Infinity is not JSON"),
        (b'{"a":1,"a":1}', "duplicate object key 'a'"),
        (b'{"a":9007199254740992}', "decimal string"),
        (b"\xef\xbb\xbf{}", "not JSON"),
        (b'{"a":"\xff"}', "invalid UTF-8 at byte 6"),
        (b'{"a":', "not JSON"),
        (b"", "not JSON"),
    ],
)
def test_decode_rejects_non_canonical_bytes(data: bytes, problem: str) -> None:
    with pytest.raises(CanonicalJsonError, match=problem):
        decode(data)


def test_decode_rejects_integer_literals_python_cannot_parse() -> None:
    with pytest.raises(CanonicalJsonError, match="digits"):
        decode(b"1" * 5000)


def test_encode_evidence_returns_canonical_bytes() -> None:
    assert encode_evidence({"model_version": "iforest-3", "temp_mC": -1250}) == (
        b'{"model_version":"iforest-3","temp_mC":-1250}'
    )


def test_encode_evidence_rejects_non_objects() -> None:
    with pytest.raises(CanonicalJsonError, match="an evidence object is a JSON object, got list"):
        encode_evidence([1, 2])  # type: ignore[arg-type]


def test_encode_evidence_accepts_exactly_one_block() -> None:
    padding = MAX_EVIDENCE_BYTES - len(encode({"p": ""}))
    assert len(encode_evidence({"p": "x" * padding})) == MAX_EVIDENCE_BYTES


def test_encode_evidence_rejects_more_than_one_block() -> None:
    padding = MAX_EVIDENCE_BYTES - len(encode({"p": ""})) + 1
    with pytest.raises(EvidenceTooLargeError, match=f"{MAX_EVIDENCE_BYTES + 1} bytes; the limit is"):
        encode_evidence({"p": "x" * padding})


def test_evidence_hash_is_sha256_of_the_bytes() -> None:
    data = encode_evidence({"temp_mC": 9100})
    assert evidence_hash(data) == hashlib.sha256(data).digest()


def test_evidence_hash_is_the_digest_inside_the_cid() -> None:
    data = encode_evidence({"temp_mC": 9100})
    assert evidence_hash(data) == bytes(compute_cid(data).raw_digest)


def test_evidence_hash_rejects_more_than_one_block() -> None:
    with pytest.raises(EvidenceTooLargeError):
        evidence_hash(b"x" * (MAX_EVIDENCE_BYTES + 1))
