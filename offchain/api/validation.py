"""Plausibility and ordering rules for a batch, as a pure function of the batch and the device's past.

Nothing here touches the database: the store passes in what it knows (the device's last accepted reading
and any stored readings at the batch's timestamps), so the rules can be tested on their own and every
violation in a batch is reported at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .schemas import ReadingIn
from .signing import READING_FIELDS

TEMP_CENTI_C_RANGE = (-6000, 8000)
HUMIDITY_BP_RANGE = (0, 10_000)
# Direct sunlight peaks near 120 klx; anything far above is a sensor fault.
LIGHT_LUX_RANGE = (0, 200_000)
SHOCK_MILLI_G_RANGE = (0, 200_000)
LAT_E7_RANGE = (-900_000_000, 900_000_000)
LON_E7_RANGE = (-1_800_000_000, 1_800_000_000)
EARTH_RADIUS_M = 6_371_008.8

_RANGES: dict[str, tuple[int, int, str]] = {
    "temp_centi_c": (*TEMP_CENTI_C_RANGE, "temperature outside -60..+80 C"),
    "humidity_bp": (*HUMIDITY_BP_RANGE, "humidity outside 0..100 %"),
    "light_lux": (*LIGHT_LUX_RANGE, "light outside 0..200000 lux"),
    "shock_milli_g": (*SHOCK_MILLI_G_RANGE, "shock outside 0..200 g"),
    "lat_e7": (*LAT_E7_RANGE, "latitude outside -90..+90 degrees"),
    "lon_e7": (*LON_E7_RANGE, "longitude outside -180..+180 degrees"),
}


class ViolationCode(StrEnum):
    IMPLAUSIBLE = "implausible"
    OUT_OF_ORDER = "out_of_order"
    DUPLICATE_READING = "duplicate_reading"


@dataclass(frozen=True)
class Violation:
    code: ViolationCode
    reading: int
    field: str
    reason: str


@dataclass(frozen=True)
class LastFix:
    """The device's last accepted reading: where ordering and speed checks continue from."""

    ts_ms: int
    lat_e7: int
    lon_e7: int


@dataclass(frozen=True)
class Limits:
    now_ms: int
    max_future_ms: int
    max_speed_kmh: int
    # GPS fixes jitter by tens of metres; without slack two fixes 1 s apart would look like a teleport.
    gps_tolerance_m: int = 100


def distance_m(lat1_e7: int, lon1_e7: int, lat2_e7: int, lon2_e7: int) -> float:
    """Great-circle (haversine) distance. Floats are fine here: the result only gates, it is never stored."""
    phi1, phi2 = math.radians(lat1_e7 / 1e7), math.radians(lat2_e7 / 1e7)
    dphi = phi2 - phi1
    dlambda = math.radians((lon2_e7 - lon1_e7) / 1e7)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def reading_values(reading: ReadingIn) -> tuple[int, ...]:
    return tuple(getattr(reading, name) for name in READING_FIELDS)


def check_batch(
    readings: Sequence[ReadingIn],
    last: LastFix | None,
    stored_at_ts: Mapping[int, tuple[int, ...]],
    limits: Limits,
) -> list[Violation]:
    """All violations of a batch; empty means acceptable.

    `stored_at_ts` maps a timestamp to the values of this device's stored reading at that timestamp, for
    the batch's timestamps that are not after `last`: an identical one is a duplicate, anything else is
    out of order.
    """
    violations: list[Violation] = []
    previous_ts = last.ts_ms if last else None
    previous_fix = last
    for index, reading in enumerate(readings):
        range_ok = True
        for field, (low, high, reason) in _RANGES.items():
            value = getattr(reading, field)
            if not low <= value <= high:
                range_ok = False
                violations.append(Violation(ViolationCode.IMPLAUSIBLE, index, field, f"{reason}: {value}"))
        if reading.ts_ms > limits.now_ms + limits.max_future_ms:
            violations.append(
                Violation(
                    ViolationCode.IMPLAUSIBLE,
                    index,
                    "ts_ms",
                    f"timestamp {reading.ts_ms} is more than {limits.max_future_ms} ms in the future",
                )
            )
        if previous_ts is not None and reading.ts_ms <= previous_ts:
            violations.append(_ordering_violation(index, reading, previous_ts, stored_at_ts))
            continue
        previous_ts = reading.ts_ms
        if not range_ok:
            continue
        if previous_fix is not None:
            teleport = _teleport(index, reading, previous_fix, limits)
            if teleport is not None:
                violations.append(teleport)
        previous_fix = LastFix(reading.ts_ms, reading.lat_e7, reading.lon_e7)
    return violations


def _ordering_violation(
    index: int, reading: ReadingIn, previous_ts: int, stored_at_ts: Mapping[int, tuple[int, ...]]
) -> Violation:
    stored = stored_at_ts.get(reading.ts_ms)
    if stored is not None and stored == reading_values(reading):
        return Violation(
            ViolationCode.DUPLICATE_READING,
            index,
            "ts_ms",
            f"this reading was already accepted for the device at ts_ms {reading.ts_ms}",
        )
    return Violation(
        ViolationCode.OUT_OF_ORDER,
        index,
        "ts_ms",
        f"ts_ms {reading.ts_ms} is not after the previous reading's {previous_ts}",
    )


def _teleport(index: int, reading: ReadingIn, previous: LastFix, limits: Limits) -> Violation | None:
    elapsed_ms = reading.ts_ms - previous.ts_ms
    moved_m = distance_m(previous.lat_e7, previous.lon_e7, reading.lat_e7, reading.lon_e7)
    allowed_m = limits.max_speed_kmh / 3.6 * elapsed_ms / 1000
    if moved_m <= allowed_m + limits.gps_tolerance_m:
        return None
    speed_kmh = moved_m / elapsed_ms * 3600
    return Violation(
        ViolationCode.IMPLAUSIBLE,
        index,
        "lat_e7",
        f"moved {moved_m:.0f} m in {elapsed_ms} ms since the previous fix "
        f"({speed_kmh:.0f} km/h > {limits.max_speed_kmh} km/h)",
    )
