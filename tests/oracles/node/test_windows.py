from __future__ import annotations

import json

from oracles.node.windows import MAX_WINDOW_READINGS, ChainTerms, WindowTracker
from oracles.verdicts import Kind
from tests.oracles.node.helpers import TERMS, excursion, reading


def _feed_all(tracker: WindowTracker, readings: list) -> list:
    return [w for r in readings for w in tracker.feed(r)]


def test_excursion_is_decided_by_the_reading_that_exceeds_the_grace_period() -> None:
    windows = _feed_all(WindowTracker(TERMS), excursion(normal=5, hot=20))
    assert len(windows) == 1
    window = windows[0]
    assert window.kind is Kind.TEMPERATURE
    # First hot reading is #5; 900 s grace at one reading a minute: #21 is 960 s later, the first beyond it.
    assert window.readings[0].id == 6 and window.readings[-1].id == 22
    assert window.out_of_range_ms == 960_000
    assert window.peak_excess == 400


def test_excursion_exactly_as_long_as_the_grace_is_not_a_breach() -> None:
    assert _feed_all(WindowTracker(TERMS), excursion(normal=5, hot=16)) == []


def test_return_into_range_resets_the_excursion() -> None:
    readings = [reading(i, temp=900 if i % 10 else 300) for i in range(40)]
    assert _feed_all(WindowTracker(TERMS), readings) == []


def test_second_excursion_after_recovery_is_a_new_window() -> None:
    readings = [reading(i, temp=300 if i in (0, 25) else 900) for i in range(50)]
    windows = _feed_all(WindowTracker(TERMS), readings)
    assert [w.readings[0].id for w in windows] == [2, 27]


def test_humidity_and_shock_have_their_own_windows() -> None:
    readings = [reading(i, humidity=9900) for i in range(20)] + [reading(20, shock=9000)]
    kinds = [w.kind for w in _feed_all(WindowTracker(TERMS), readings)]
    assert kinds == [Kind.HUMIDITY, Kind.SHOCK]


def test_state_round_trip_resumes_exactly() -> None:
    readings = excursion(normal=5, hot=30)
    whole = _feed_all(WindowTracker(TERMS), readings)
    first = WindowTracker(TERMS)
    _feed_all(first, readings[:12])
    resumed = WindowTracker(TERMS)
    resumed.load_state(json.loads(json.dumps(first.state_dict())))
    assert _feed_all(resumed, readings[12:]) == whole


def test_long_excursion_keeps_a_bounded_number_of_readings() -> None:
    readings = [reading(i, temp=900, step_ms=1000) for i in range(2 * MAX_WINDOW_READINGS)]
    terms = ChainTerms(**{**TERMS.as_evidence(), "excursion_grace_s": 2 * MAX_WINDOW_READINGS - 10})
    window = _feed_all(WindowTracker(terms), readings)[0]
    assert len(window.readings) == MAX_WINDOW_READINGS
    assert window.readings_total > MAX_WINDOW_READINGS
    assert window.readings[0].id == 1
