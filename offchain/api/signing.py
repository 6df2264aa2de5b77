"""What a device signs, and how the API checks it.

The signed message is EIP-191 ("personal_sign", version 0x45) over the canonical JSON of the batch:

    payload   = {"domain": "asc-device-batch/v1", "device_id": ..., "shipment_id": ..., "seq": ...,
                 "readings": [{"ts_ms", "temp_centi_c", "humidity_bp", "light_lux", "shock_milli_g",
                               "lat_e7", "lon_e7"}, ...]}
    canonical = JSON with keys sorted at every level, separators "," and ":", ASCII only, no whitespace;
                every number is an integer (fixed-point, unit in the field name), so any language
                produces the same bytes
    message   = b"\\x19Ethereum Signed Message:\\n" + str(len(canonical)) + canonical
    signature = 65 bytes r || s || v (v = 27 or 28), 0x-prefixed hex

Readings keep the order in which they were posted. The batch hash is keccak256(canonical); it identifies a
batch's content (an idempotent re-post has the same hash). The domain string keeps a device signature
for this API from being valid for any other message format.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.crypto import keccak

SIGNING_DOMAIN = "asc-device-batch/v1"
READING_FIELDS = (
    "ts_ms",
    "temp_centi_c",
    "humidity_bp",
    "light_lux",
    "shock_milli_g",
    "lat_e7",
    "lon_e7",
)


class SignatureError(ValueError):
    """The signature is not a well-formed secp256k1 signature."""


def canonical_batch_bytes(
    device_id: str, shipment_id: str, seq: int, readings: Sequence[dict[str, Any]]
) -> bytes:
    payload = {
        "domain": SIGNING_DOMAIN,
        "device_id": device_id,
        "shipment_id": shipment_id,
        "seq": seq,
        "readings": [{name: reading[name] for name in READING_FIELDS} for reading in readings],
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def batch_hash(canonical: bytes) -> str:
    return "0x" + keccak(canonical).hex()


def sign_canonical(canonical: bytes, private_key: str | bytes) -> str:
    signed = Account.sign_message(encode_defunct(primitive=canonical), private_key=private_key)
    return "0x" + bytes(signed.signature).hex()


def recover_signer(canonical: bytes, signature: str) -> str:
    """Checksummed address that signed `canonical`; raises SignatureError if the signature is malformed."""
    try:
        return str(Account.recover_message(encode_defunct(primitive=canonical), signature=signature))
    except Exception as exc:  # eth-keys raises several unrelated types for bad r/s/v
        raise SignatureError(f"signature cannot be recovered: {exc}") from exc
