"""frontend/transcript.py: prices, times and reasons of an agent message, readable."""

from __future__ import annotations

from frontend.transcript import facts, reasons


def test_prices_are_in_token_units() -> None:
    assert facts({"unit_price": 49_450_000, "max_unit_price": 60_000_000}) == [
        "unit price: 49.45",
        "max unit price: 60.00",
    ]


def test_epoch_seconds_are_utc_times_and_durations_are_left_out() -> None:
    assert facts({"eta_s": 1_781_545_242, "lead_time_s": 14_400}) == ["eta: 2026-06-15 17:40 UTC"]


def test_text_flags_and_other_numbers_are_left_out() -> None:
    assert facts({"summary": "a bid", "quantity": 100, "accepted": True, "price": "n/a"}) == []


def test_reasons_come_from_reasons_and_why() -> None:
    assert reasons({"reasons": ["cheapest"], "why": ["stock 40 < 50"], "summary": "x"}) == ["cheapest", "stock 40 < 50"]


def test_no_reasons_is_an_empty_list() -> None:
    assert reasons({"reasons": "not a list"}) == []
