"""The gas-floor arithmetic used by bench/gas.py (the tracing itself is exercised by `make bench-gas`)."""

from bench.gasfloor import count_new_slots, intrinsic_gas, scan_calls


def test_intrinsic_gas_counts_zero_and_nonzero_calldata_bytes() -> None:
    assert intrinsic_gas(b"", is_create=False) == 21_000
    assert intrinsic_gas(b"\x00\x01\x00\xff", is_create=False) == 21_000 + 2 * 4 + 2 * 16


def test_intrinsic_gas_of_a_creation_adds_create_and_initcode_words() -> None:
    assert intrinsic_gas(b"\x01" * 33, is_create=True) == 21_000 + 33 * 16 + 32_000 + 2 * 2


def test_only_zero_to_nonzero_slots_are_new() -> None:
    diff = {
        "pre": {"0xa": {"storage": {"0x1": "0x5"}}},
        "post": {"0xa": {"storage": {"0x1": "0x6", "0x2": "0x1"}}, "0xb": {"storage": {"0x3": "0x0"}}},
    }
    assert count_new_slots(diff) == 1


def test_ecrecover_calls_and_log_costs_are_read_from_call_frames() -> None:
    frame = {
        "to": "0xhub".replace("hub", "5fc8"),
        "logs": [{"topics": ["0x1", "0x2"], "data": "0x" + "00" * 64}],
        "calls": [
            {"type": "STATICCALL", "to": "0x0000000000000000000000000000000000000001"},
            {"type": "STATICCALL", "to": "0x0000000000000000000000000000000000000002"},
            {
                "type": "CALL",
                "to": "0x9fe4",
                "logs": [{"topics": [], "data": "0x"}],
                "calls": [{"type": "STATICCALL", "to": "0x0000000000000000000000000000000000000001"}],
            },
        ],
    }
    assert scan_calls(frame) == (2, (375 + 2 * 375 + 8 * 64) + 375)
