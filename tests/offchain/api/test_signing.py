"""What a device signs: pinned canonical bytes, and the documented EIP-191 message rebuilt by hand."""

from __future__ import annotations

import pytest
from Crypto.Hash import keccak
from eth_keys import keys

from offchain.api.signing import (
    SignatureError,
    batch_hash,
    canonical_batch_bytes,
    recover_signer,
    sign_canonical,
)

KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ADDRESS = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
READING = {
    "ts_ms": 1_700_000_000_000,
    "temp_centi_c": 450,
    "humidity_bp": 6500,
    "light_lux": 0,
    "shock_milli_g": 30,
    "lat_e7": 515_000_000,
    "lon_e7": -1_200_000,
}
CANONICAL = (
    b'{"device_id":"reefer-1","domain":"asc-device-batch/v1","readings":[{"humidity_bp":6500,'
    b'"lat_e7":515000000,"light_lux":0,"lon_e7":-1200000,"shock_milli_g":30,"temp_centi_c":450,'
    b'"ts_ms":1700000000000}],"seq":7,"shipment_id":"twin-42"}'
)
# Test vector for other implementations (RFC 6979 signatures are deterministic).
SIGNATURE = (
    "0x7950fdc9fb929f5719cfb3bd15b7976a842505cf5a7da48792132673d1ecbac1"
    "14134efa6b44717371e8ee170727ae29ab40c3494d33d825d3057652343721ec1c"
)


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def test_canonical_bytes_are_pinned() -> None:
    assert canonical_batch_bytes("reefer-1", "twin-42", 7, [READING]) == CANONICAL


def test_canonical_bytes_ignore_input_key_order() -> None:
    shuffled = dict(reversed(list(READING.items())))
    assert canonical_batch_bytes("reefer-1", "twin-42", 7, [shuffled]) == CANONICAL


def test_canonical_bytes_keep_reading_order() -> None:
    later = {**READING, "ts_ms": READING["ts_ms"] + 1}
    forward = canonical_batch_bytes("d", "s", 1, [READING, later])
    assert forward != canonical_batch_bytes("d", "s", 1, [later, READING])


def test_batch_hash_is_keccak_of_canonical_bytes() -> None:
    assert batch_hash(CANONICAL) == "0x" + keccak256(CANONICAL).hex()


def test_signature_matches_test_vector() -> None:
    assert sign_canonical(CANONICAL, KEY) == SIGNATURE


def test_documented_message_recovers_device_address() -> None:
    digest = keccak256(b"\x19Ethereum Signed Message:\n" + str(len(CANONICAL)).encode() + CANONICAL)
    raw = bytes.fromhex(SIGNATURE[2:])
    signature = keys.Signature(
        vrs=(raw[64] - 27, int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"))
    )
    assert signature.recover_public_key_from_msg_hash(digest).to_checksum_address() == ADDRESS


def test_recover_signer_returns_device_address() -> None:
    assert recover_signer(CANONICAL, SIGNATURE) == ADDRESS


def test_other_content_recovers_other_address() -> None:
    assert recover_signer(CANONICAL.replace(b'"seq":7', b'"seq":8'), SIGNATURE) != ADDRESS


@pytest.mark.parametrize("bad", ["0x" + "00" * 65, "0x" + "ff" * 65, "0x1234"])
def test_malformed_signature_raises(bad: str) -> None:
    with pytest.raises(SignatureError):
        recover_signer(CANONICAL, bad)
