"""SLA rules: range excursions with grace, shocks, route corridor, forecast late arrival, checkpoints."""

import dataclasses
import json

import numpy as np
import pytest

from oracles.detect.baseline import DetectorInputError
from oracles.detect.sla import SlaMonitor, SlaTerms
from oracles.detect.types import Reading
from oracles.settings import DetectSettings

SETTINGS = DetectSettings(eta_speed_window_s=600, eta_min_speed_mps=0.5, eta_safety_factor=1.0)
START_S = 1_700_000_000
METRES_PER_DEG_LAT = 111_195.08
SPEED_MPS = 20.0
ROUTE_M = 100_000.0


def terms(**changes: object) -> SlaTerms:
    base = SlaTerms(
        temp_min_centi_c=200,
        temp_max_centi_c=800,
        humidity_min_bp=6000,
        humidity_max_bp=9000,
        shock_limit_milli_g=3000,
        excursion_grace_s=300,
        corridor=(
            (50_000_000, 10_000_000),
            (50_000_000 + round(ROUTE_M / METRES_PER_DEG_LAT * 1e6), 10_000_000),
        ),
        corridor_width_m=1000,
        delivery_deadline_s=START_S + 7200,  # 100 km at 20 m/s takes 5000 s
    )
    return dataclasses.replace(base, **changes)


def trip(n: int, step_s: int = 60, speed_mps: float = SPEED_MPS, **overrides: list[int]) -> list[Reading]:
    """Readings every step_s along the route at constant speed; overrides replace a field per reading."""
    readings = []
    for i in range(n):
        metres = min(speed_mps * step_s * i, ROUTE_M)
        fields = {
            "timestamp_s": START_S + step_s * i,
            "temp_centi_c": 500,
            "humidity_bp": 7500,
            "light_lux": 0,
            "shock_milli_g": 100,
            "lat_e6": 50_000_000 + round(metres / METRES_PER_DEG_LAT * 1e6),
            "lon_e6": 10_000_000,
        }
        for name, values in overrides.items():
            fields[name] = values[i]
        readings.append(Reading(**fields))
    return readings


def alerts(result, rule):
    return list(np.flatnonzero(result[rule].alert))


def test_normal_trip_raises_nothing():
    result = SlaMonitor(terms(), SETTINGS).score_batch(trip(80))
    assert all(not scores.alert.any() for scores in result.values())


def test_temperature_excursion_shorter_than_grace_does_not_alert():
    temps = [500] * 30
    temps[10:15] = [900] * 5  # 4 minutes out of range, grace is 5
    assert (
        alerts(SlaMonitor(terms(), SETTINGS).score_batch(trip(30, temp_centi_c=temps)), "temperature") == []
    )


def test_temperature_excursion_longer_than_grace_alerts_once_past_grace():
    temps = [500] * 30
    temps[10:20] = [900] * 10
    result = SlaMonitor(terms(), SETTINGS).score_batch(trip(30, temp_centi_c=temps))
    assert alerts(result, "temperature") == [16]  # 360 s out of range > 300 s grace
    assert result["temperature"].statistic[16] == 360


def test_humidity_below_range_past_grace_alerts():
    hum = [7500] * 30
    hum[5:] = [5000] * 25
    assert alerts(SlaMonitor(terms(), SETTINGS).score_batch(trip(30, humidity_bp=hum)), "humidity") == [11]


def test_excursion_split_across_batches_keeps_its_start():
    temps = [500] * 30
    temps[10:20] = [900] * 10
    readings = trip(30, temp_centi_c=temps)
    monitor = SlaMonitor(terms(), SETTINGS)
    first = monitor.score_batch(readings[:13])
    second = monitor.score_batch(readings[13:])
    assert alerts(first, "temperature") == [] and alerts(second, "temperature") == [3]


def test_shock_above_limit_alerts():
    shocks = [100] * 10
    shocks[4] = 3001
    assert alerts(SlaMonitor(terms(), SETTINGS).score_batch(trip(10, shock_milli_g=shocks)), "shock") == [4]


def test_shock_at_limit_does_not_alert():
    shocks = [3000] * 10
    assert alerts(SlaMonitor(terms(), SETTINGS).score_batch(trip(10, shock_milli_g=shocks)), "shock") == []


def test_leaving_the_corridor_alerts_once_with_distance():
    lons = [10_000_000] * 20
    lons[8:12] = [10_010_000] * 4  # ~710 m east, half width is 500 m
    result = SlaMonitor(terms(), SETTINGS).score_batch(trip(20, lon_e6=lons))
    assert alerts(result, "route") == [8]
    assert result["route"].statistic[8] == pytest.approx(710, rel=0.01)


def test_slow_truck_is_forecast_late_before_the_deadline():
    result = SlaMonitor(terms(), SETTINGS).score_batch(trip(40, speed_mps=10.0))  # needs 10000 s, has 7200
    first = alerts(result, "late_arrival")
    assert first and START_S + 60 * first[0] < terms().delivery_deadline_s


def test_late_forecast_statistic_is_seconds_past_deadline():
    result = SlaMonitor(terms(), SETTINGS).score_batch(trip(40, speed_mps=10.0))
    row = alerts(result, "late_arrival")[0]
    expected_arrival = START_S + 60 * row + (ROUTE_M - 10.0 * 60 * row) / 10.0
    assert result["late_arrival"].statistic[row] == pytest.approx(
        expected_arrival - terms().delivery_deadline_s, abs=5
    )


def test_on_time_truck_is_not_forecast_late():
    assert alerts(SlaMonitor(terms(), SETTINGS).score_batch(trip(90)), "late_arrival") == []


def test_stopped_truck_past_deadline_is_late():
    monitor = SlaMonitor(terms(delivery_deadline_s=START_S + 100), SETTINGS)
    assert alerts(monitor.score_batch(trip(5, speed_mps=0.0)), "late_arrival") == [2]


def test_single_reading_score_matches_batch():
    temps = [500] * 30
    temps[10:20] = [900] * 10
    readings = trip(30, temp_centi_c=temps)
    batch = SlaMonitor(terms(), SETTINGS).score_batch(readings)
    monitor = SlaMonitor(terms(), SETTINGS)
    one_by_one = [monitor.score(r) for r in readings]
    fired = [(i, s.signal) for i, scores in enumerate(one_by_one) for s in scores if s.alert]
    assert fired == [(i, rule) for rule in batch for i in alerts(batch, rule)]


def test_checkpoint_through_json_resumes_exactly():
    temps = [500] * 40
    temps[10:25] = [900] * 15
    readings = trip(40, speed_mps=10.0, temp_centi_c=temps)
    whole = SlaMonitor(terms(), SETTINGS).score_batch(readings)
    first = SlaMonitor(terms(), SETTINGS)
    first.score_batch(readings[:14])
    restored = SlaMonitor(terms(), SETTINGS)
    restored.load_state(json.loads(json.dumps(first.state_dict())))
    rest = restored.score_batch(readings[14:])
    for rule, scores in whole.items():
        assert np.array_equal(rest[rule].alert, scores.alert[14:]), rule
        assert np.allclose(rest[rule].statistic, scores.statistic[14:]), rule


def test_detections_name_rule_time_and_figure():
    shocks = [100] * 10
    shocks[4] = 4500
    readings = trip(10, shock_milli_g=shocks)
    monitor = SlaMonitor(terms(), SETTINGS)
    (detection,) = monitor.detections(readings, monitor.score_batch(readings))
    assert (detection.detector, detection.signal, detection.timestamp_s) == ("sla", "shock", START_S + 240)
    assert detection.statistic == 4500 and "4500 milli-g" in detection.reason


def test_readings_going_back_in_time_are_rejected():
    readings = trip(5)
    with pytest.raises(DetectorInputError, match="timestamp order"):
        SlaMonitor(terms(), SETTINGS).score_batch([readings[3], readings[1]])


def test_unknown_state_version_is_rejected():
    with pytest.raises(DetectorInputError, match="version"):
        SlaMonitor(terms(), SETTINGS).load_state({"version": 0})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"temp_min_centi_c": 900}, "temp_min"),
        ({"humidity_max_bp": 10_001}, "humidity"),
        ({"shock_limit_milli_g": 0}, "shock"),
        ({"excursion_grace_s": -1}, "grace"),
        ({"corridor": ((50_000_000, 10_000_000),)}, "two vertices"),
        ({"corridor_width_m": 0}, "width"),
    ],
)
def test_invalid_terms_are_rejected(change, message):
    with pytest.raises(ValueError, match=message):
        terms(**change)
