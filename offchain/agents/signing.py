"""EIP-191 signatures over canonical JSON, as interfaces/agents/README.md specifies for messages, approval
requests and decisions: sign the object without its `signature` field; its id is keccak256 of those bytes."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from offchain.storage.canonical import encode


class SignatureError(ValueError):
    """A signature that does not recover to the address the object names."""


def unsigned_bytes(obj: dict[str, Any]) -> bytes:
    return encode({k: v for k, v in obj.items() if k != "signature"})


def object_id(obj: dict[str, Any]) -> str:
    return "0x" + keccak(unsigned_bytes(obj)).hex()


def sign_object(obj: dict[str, Any], private_key: bytes | str) -> dict[str, Any]:
    signed = Account.sign_message(encode_defunct(primitive=unsigned_bytes(obj)), private_key)
    return {**obj, "signature": "0x" + bytes(signed.signature).hex()}


def recover_signer(obj: dict[str, Any]) -> str:
    signature = obj.get("signature")
    if not isinstance(signature, str):
        raise SignatureError("the object carries no signature")
    try:
        return to_checksum_address(
            Account.recover_message(encode_defunct(primitive=unsigned_bytes(obj)), signature=signature)
        )
    except Exception as exc:  # malformed signature bytes of any kind
        raise SignatureError(f"unreadable signature: {exc}") from exc


def verify_signed_by(obj: dict[str, Any], address: str) -> None:
    signer = recover_signer(obj)
    if signer != to_checksum_address(address):
        raise SignatureError(f"signed by {signer}, not by {address}")
