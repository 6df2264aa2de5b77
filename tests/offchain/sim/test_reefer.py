from __future__ import annotations

from itertools import pairwise

import pytest

from offchain.sim.reefer import Reefer, ReeferParams, saturation_vapour_g_m3

SETPOINT = 2.0


def loaded_box(setpoint_c: float = SETPOINT) -> Reefer:
    return Reefer.at_setpoint(setpoint_c, 0.9, ReeferParams())


def run(
    box: Reefer, seconds: int, ambient_c: float, outside_c: float | None = None, outside_rh: float = 0.8
) -> list[float]:
    """Air temperature after each second."""
    trace = []
    for _ in range(seconds):
        box.step(1.0, ambient_c, ambient_c if outside_c is None else outside_c, outside_rh)
        trace.append(box.air_c)
    return trace


def test_saturation_matches_tables() -> None:
    # psychrometric tables: 4.85 g/m3 at 0 C, 17.3 g/m3 at 20 C
    assert saturation_vapour_g_m3(0.0) == pytest.approx(4.85, rel=0.02)
    assert saturation_vapour_g_m3(20.0) == pytest.approx(17.3, rel=0.02)


def test_a_healthy_unit_holds_the_setpoint_band_on_a_hot_day() -> None:
    box = loaded_box()
    trace = run(box, 3 * 3600, ambient_c=32.0)
    half_band = ReeferParams().hysteresis_c / 2
    assert min(trace) >= SETPOINT - half_band - 0.05
    assert max(trace) <= SETPOINT + half_band + 0.05


def test_the_compressor_cycles_with_hysteresis() -> None:
    box = loaded_box()
    states = []
    for _ in range(3600):
        box.step(1.0, 25.0, 25.0, 0.8)
        states.append(box.compressor_on)
    switches = sum(1 for a, b in pairwise(states) if a != b)
    assert 2 <= switches <= 60  # cycles, but not every tick


def test_a_failed_compressor_lets_the_air_drift_up_over_tens_of_minutes() -> None:
    box = loaded_box()
    box.health = 0.0
    trace = run(box, 60 * 60, ambient_c=20.0)
    first_10_min = trace[600 - 1] - SETPOINT
    after_30_min = trace[1800 - 1] - SETPOINT
    assert 0.5 <= first_10_min <= 2.5  # 0.05-0.25 C per minute: not a jump, not invisible
    assert 2.0 <= after_30_min <= 6.0
    assert all(b >= a for a, b in pairwise(trace))


def test_drift_is_faster_on_a_hotter_day() -> None:
    cool, hot = loaded_box(), loaded_box()
    cool.health = hot.health = 0.0
    assert run(hot, 1800, ambient_c=30.0)[-1] > run(cool, 1800, ambient_c=15.0)[-1] + 1.0


def test_a_degraded_compressor_loses_the_setpoint_in_the_heat() -> None:
    box = loaded_box()
    box.health = 0.4
    trace = run(box, 2 * 3600, ambient_c=35.0)
    assert trace[-1] > SETPOINT + 2.0


def test_an_open_door_spikes_the_air_and_it_recovers_after_closing() -> None:
    box = loaded_box()
    box.door_open = True
    spike = run(box, 5 * 60, ambient_c=20.0)
    assert max(spike) >= SETPOINT + 2.0
    box.door_open = False
    recovery = run(box, 30 * 60, ambient_c=20.0)
    assert recovery[-1] <= SETPOINT + ReeferParams().hysteresis_c / 2 + 0.05


def test_an_open_door_on_a_humid_day_raises_humidity() -> None:
    box = Reefer.at_setpoint(SETPOINT, 0.75, ReeferParams())
    before = box.relative_humidity
    box.door_open = True
    run(box, 3 * 60, ambient_c=22.0, outside_rh=0.85)
    assert box.relative_humidity > before + 0.1


def test_humidity_never_exceeds_saturation() -> None:
    box = loaded_box()
    box.door_open = True
    for _ in range(1800):
        box.step(1.0, 30.0, 30.0, 1.0)
        assert box.relative_humidity <= 1.0
        assert box.vapour_g_m3 <= saturation_vapour_g_m3(box.air_c) + 1e-9


def test_the_cargo_follows_the_air_slowly() -> None:
    box = loaded_box()
    box.health = 0.0
    run(box, 3600, ambient_c=25.0)
    assert SETPOINT < box.cargo_c < box.air_c - 2.0
