from __future__ import annotations

from offchain.audit.build import BuiltContract
from offchain.audit.checks.code import compare, mask, split_metadata

# A CBOR map header (0xa2) and 3 more bytes of "metadata", then its 2-byte length.
METADATA = bytes([0xA2, 1, 2, 3]) + (4).to_bytes(2, "big")
EXECUTABLE = bytes([0x60, 0x80, 0x7F]) + bytes(32) + bytes([0x56])  # PUSH32 <immutable> at offset 3


def _built(metadata: bytes = METADATA) -> BuiltContract:
    return BuiltContract("X", "contracts/X.sol", EXECUTABLE + metadata, ((3, 32),))


def test_split_metadata_uses_the_trailing_length() -> None:
    assert split_metadata(EXECUTABLE + METADATA) == (EXECUTABLE, METADATA)


def test_code_without_a_cbor_tail_is_all_executable() -> None:
    assert split_metadata(b"\x60\x80\x00\x05") == (b"\x60\x80\x00\x05", b"")


def test_mask_zeroes_the_immutable_ranges() -> None:
    assert mask(b"\x01\x02\x03\x04", ((1, 2),)) == b"\x01\x00\x00\x04"


def test_immutable_values_do_not_make_the_code_differ() -> None:
    deployed = bytearray(EXECUTABLE + METADATA)
    deployed[3:35] = b"\xaa" * 32
    assert compare(bytes(deployed), _built()) == (True, True, "")


def test_a_changed_instruction_is_reported_with_its_offset() -> None:
    deployed = bytearray(EXECUTABLE + METADATA)
    deployed[35] = 0x00
    same_code, _, why = compare(bytes(deployed), _built())
    assert not same_code and "from byte 35" in why


def test_a_metadata_difference_alone_keeps_the_code_equal() -> None:
    other = bytes([0xA2, 9, 9, 9]) + (4).to_bytes(2, "big")
    assert compare(EXECUTABLE + other, _built()) == (True, False, "")


def test_no_code_at_the_address_is_not_the_contract() -> None:
    assert compare(b"", _built()) == (False, False, "no code at the address")
