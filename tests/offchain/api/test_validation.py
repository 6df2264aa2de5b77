"""Plausibility and ordering rules, as a pure function."""

from __future__ import annotations

import pytest

from offchain.api.schemas import ReadingIn
from offchain.api.validation import LastFix, Limits, ViolationCode, check_batch, distance_m, reading_values

NOW = 1_800_000_000_000
LIMITS = Limits(now_ms=NOW, max_future_ms=300_000, max_speed_kmh=250)


def reading(ts_ms: int, **overrides: int) -> ReadingIn:
    values = {
        "ts_ms": ts_ms,
        "temp_centi_c": 400,
        "humidity_bp": 5000,
        "light_lux": 10,
        "shock_milli_g": 20,
        "lat_e7": 100_000_000,
        "lon_e7": 200_000_000,
    }
    return ReadingIn(**(values | overrides))


def codes(readings: list[ReadingIn], last: LastFix | None = None, stored: dict | None = None) -> list[tuple]:
    return [(v.code, v.reading, v.field) for v in check_batch(readings, last, stored or {}, LIMITS)]


def test_plausible_batch_has_no_violations() -> None:
    assert codes([reading(NOW - 2000), reading(NOW - 1000)]) == []


def test_distance_of_one_degree_latitude_is_about_111_km() -> None:
    assert 111_000 < distance_m(0, 0, 10_000_000, 0) < 111_400


def test_future_within_skew_is_plausible() -> None:
    assert codes([reading(NOW + 300_000)]) == []


def test_future_beyond_skew_is_implausible() -> None:
    assert codes([reading(NOW + 300_001)]) == [(ViolationCode.IMPLAUSIBLE, 0, "ts_ms")]


def test_equal_timestamps_are_out_of_order() -> None:
    assert codes([reading(NOW - 1000), reading(NOW - 1000, temp_centi_c=401)]) == [
        (ViolationCode.OUT_OF_ORDER, 1, "ts_ms")
    ]


def test_first_reading_must_follow_last_accepted() -> None:
    assert codes([reading(NOW - 5000)], last=LastFix(NOW - 5000, 100_000_000, 200_000_000)) == [
        (ViolationCode.OUT_OF_ORDER, 0, "ts_ms")
    ]


def test_identical_stored_reading_is_duplicate() -> None:
    old = reading(NOW - 5000)
    stored = {old.ts_ms: reading_values(old)}
    assert codes([old], last=LastFix(NOW - 1000, 0, 0), stored=stored) == [
        (ViolationCode.DUPLICATE_READING, 0, "ts_ms")
    ]


def test_changed_stored_reading_is_out_of_order_not_duplicate() -> None:
    old = reading(NOW - 5000)
    stored = {old.ts_ms: reading_values(old)}
    changed = reading(NOW - 5000, temp_centi_c=999)
    assert codes([changed], last=LastFix(NOW - 1000, 0, 0), stored=stored)[0][0] is ViolationCode.OUT_OF_ORDER


def test_speed_just_under_limit_is_plausible() -> None:
    # 240 km/h for one hour along the equator: 240 km = ~2.1585 degrees of longitude.
    start = reading(NOW - 3_600_000, lat_e7=0, lon_e7=0)
    end = reading(NOW, lat_e7=0, lon_e7=21_585_000)
    assert codes([start, end]) == []


def test_speed_over_limit_is_implausible() -> None:
    start = reading(NOW - 3_600_000, lat_e7=0, lon_e7=0)
    end = reading(NOW, lat_e7=0, lon_e7=23_500_000)  # ~261 km in an hour
    assert codes([start, end]) == [(ViolationCode.IMPLAUSIBLE, 1, "lat_e7")]


def test_gps_jitter_between_close_fixes_is_plausible() -> None:
    start = reading(NOW - 100, lat_e7=0, lon_e7=0)
    end = reading(NOW, lat_e7=500, lon_e7=0)  # 5.5 m in 100 ms would be 200 km/h
    assert codes([start, end]) == []


def test_out_of_range_fix_is_not_used_for_speed() -> None:
    bad = reading(NOW - 2000, lat_e7=950_000_000)
    good = reading(NOW - 1000)
    assert codes([reading(NOW - 3000), bad, good]) == [(ViolationCode.IMPLAUSIBLE, 1, "lat_e7")]


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [
        ("temp_centi_c", -6000, 8000),
        ("humidity_bp", 0, 10_000),
        ("light_lux", 0, 200_000),
        ("shock_milli_g", 0, 200_000),
        ("lat_e7", -900_000_000, 900_000_000),
        ("lon_e7", -1_800_000_000, 1_800_000_000),
    ],
)
def test_range_bounds_are_inclusive(field: str, low: int, high: int) -> None:
    # 400 hours apart: pole to pole is then a plausible trip, so only the range rule is exercised.
    inside = [reading(NOW - 1_440_000_000, **{field: low}), reading(NOW, **{field: high})]
    outside = [reading(NOW - 3000, **{field: low - 1}), reading(NOW - 2000, **{field: high + 1})]
    assert [c for c in codes(inside) if c[2] == field] == []
    assert [c for c in codes(outside) if c[2] == field] == [
        (ViolationCode.IMPLAUSIBLE, 0, field),
        (ViolationCode.IMPLAUSIBLE, 1, field),
    ]
