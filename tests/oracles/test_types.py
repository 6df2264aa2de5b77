"""Reading validation: a reading that cannot be physical is refused before any detector sees it."""

import pytest

from oracles.detect.types import Reading

VALID = {
    "timestamp_s": 1_700_000_000,
    "temp_centi_c": -1800,
    "humidity_bp": 9000,
    "light_lux": 0,
    "shock_milli_g": 120,
    "lat_e6": 52_520_000,
    "lon_e6": 13_405_000,
}


def test_valid_reading_is_accepted():
    assert Reading(**VALID).temp_centi_c == -1800


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("humidity_bp", 10_001, "humidity_bp"),
        ("humidity_bp", -1, "humidity_bp"),
        ("shock_milli_g", -5, "shock_milli_g"),
        ("light_lux", -1, "light_lux"),
        ("lat_e6", 90_000_001, "position"),
        ("lon_e6", -180_000_001, "position"),
    ],
)
def test_impossible_reading_is_rejected(field, value, message):
    with pytest.raises(ValueError, match=message):
        Reading(**{**VALID, field: value})
