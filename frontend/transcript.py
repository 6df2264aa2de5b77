"""The readable details of an agent message's free `content` (interfaces/agents/README.md): prices in token
units, times in UTC, the reasons as a list. Agents write amounts in base units and times in epoch seconds."""

from __future__ import annotations

import datetime as dt
from typing import Any

TOKEN_DECIMALS = 6
# Epoch seconds after 2001: smaller `*_s` values are durations, not times.
EPOCH_S_MIN = 1_000_000_000
REASON_KEYS = ("reasons", "why")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def facts(content: dict[str, Any]) -> list[str]:
    """`key: value` lines for prices (`*price*`, `*freight*`, `*cost*`) and times (`*_s`), in content order."""
    lines: list[str] = []
    for key, value in content.items():
        if not _is_int(value):
            continue
        words = key.replace("_", " ")
        if any(part in key for part in ("price", "freight", "cost")):
            lines.append(f"{words}: {value / 10**TOKEN_DECIMALS:,.2f}")
        elif key.endswith("_s") and value >= EPOCH_S_MIN:
            when = dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%d %H:%M")
            lines.append(f"{words[:-2]}: {when} UTC")
    return lines


def reasons(content: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for key in REASON_KEYS:
        value = content.get(key)
        if isinstance(value, list):
            found += [str(v) for v in value]
    return found
