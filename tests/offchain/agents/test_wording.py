from __future__ import annotations

from offchain.agents.wording import money, utc


def test_money_reads_base_units_as_whole_tokens() -> None:
    assert money(49_450_000) == "49.45"
    assert money(4_600_000_000) == "4,600.00"
    assert money(1, decimals=0) == "1.00"


def test_utc_reads_unix_seconds_as_a_utc_minute() -> None:
    assert utc(0) == "1970-01-01 00:00 UTC"
    assert utc(1_781_545_242) == "2026-06-15 17:40 UTC"
