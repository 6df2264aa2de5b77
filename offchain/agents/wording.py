"""Numbers as people read them in transcript sentences (the structured content keeps the exact integers)."""

from __future__ import annotations

from datetime import UTC, datetime

# The settlement token's decimals (TestStablecoin: 6). Sentences only: amounts on-chain stay in base units.
TOKEN_DECIMALS = 6


def money(base_units: int, decimals: int = TOKEN_DECIMALS) -> str:
    """`49450000` -> `"49.45"`: whole tokens with two decimals, thousands separated."""
    return f"{base_units / 10**decimals:,.2f}"


def utc(unix_s: int) -> str:
    """`1781545242` -> `"2026-06-15 18:20 UTC"`."""
    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%d %H:%M UTC")
