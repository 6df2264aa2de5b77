"""Who an excursion is charged to: the holder it started under, a pull-down allowance for a load taken over
warm, one verdict per episode and signal, humidity folded into the temperature episode that explains it."""

from __future__ import annotations

from offchain.api.schemas import ReadingPublic
from oracles.node.terms import Plan
from oracles.node.tracker import BreachWindow, ShipmentTracker
from oracles.verdicts import Kind
from tests.oracles.node.helpers import TERMS, reading, tracker

START_MS = 1_700_000_000_000
START_S = START_MS // 1000
ALLOWANCE_S = 3600  # readings are a minute apart: 60 readings
FIRST_HOLDER = Plan(TERMS, custody_since_s=START_S - 100, pull_down_allowance_s=ALLOWANCE_S)


def _handover_at(index: int) -> Plan:
    return Plan(TERMS, custody_since_s=START_S + index * 60, pull_down_allowance_s=ALLOWANCE_S)


def _readings(temps: list[int], first: int = 0, humidity: int = 8000) -> list[ReadingPublic]:
    return [reading(first + i, temp=t, humidity=humidity) for i, t in enumerate(temps)]


def _feed(t: ShipmentTracker, readings: list[ReadingPublic]) -> list[BreachWindow]:
    return [window for _, window in t.feed(readings)]


def _handed_over_hot(hot_after: int) -> tuple[ShipmentTracker, list[BreachWindow]]:
    """Hot from reading 5 on under the first holder (its verdict at reading 21); handed over at reading 30."""
    t = tracker(FIRST_HOLDER)
    first = _feed(t, _readings([300] * 5 + [900] * 25))
    t.replan(_handover_at(30))
    return t, first + _feed(t, _readings([900] * hot_after, first=30))


def test_an_excursion_is_charged_to_the_holder_it_started_under() -> None:
    _, windows = _handed_over_hot(hot_after=10)
    assert [(w.kind, w.readings[0].id, w.plan.custody_since_s) for w in windows] == [
        (Kind.TEMPERATURE, 6, START_S - 100)
    ]


def test_heat_carried_into_a_handover_is_not_the_new_holders_within_the_allowance() -> None:
    # 59 minutes after the handover the load is still warm: the relief unit still has time to pull it down.
    _, windows = _handed_over_hot(hot_after=59)
    assert [w.window_start_s for w in windows] == [START_S + 5 * 60]


def test_heat_still_there_after_the_allowance_is_the_new_holders() -> None:
    _, windows = _handed_over_hot(hot_after=60 + 20)
    assert [(w.kind, w.plan.custody_since_s) for w in windows] == [
        (Kind.TEMPERATURE, START_S - 100),
        (Kind.TEMPERATURE, START_S + 30 * 60),
    ]
    relief = windows[1]
    # Its episode starts where its liability starts (the first reading after the allowance), then the grace.
    assert relief.window_start_s == START_S + 30 * 60 + ALLOWANCE_S
    assert relief.window_end_s == relief.window_start_s + 16 * 60


def test_a_relief_box_that_reads_cold_then_warms_from_the_load_is_not_charged() -> None:
    t, _ = _handed_over_hot(hot_after=0)
    # The logger reads the precooled relief box, the warm load heats it out of range for 25 minutes, the
    # unit pulls it back: all within the allowance.
    soak = [250, 350, 450] + [550, 600, 640, 650, 640] + [620] * 17 + [480, 400, 350]
    assert _feed(t, _readings(soak, first=30)) == []


def test_an_excursion_that_starts_under_a_holder_that_took_the_load_in_range_is_its_own() -> None:
    t = tracker(FIRST_HOLDER)
    assert _feed(t, _readings([300] * 10)) == []
    t.replan(_handover_at(10))
    windows = _feed(t, _readings([300] * 2 + [900] * 20, first=10))
    assert [(w.kind, w.window_start_s, w.plan.custody_since_s) for w in windows] == [
        (Kind.TEMPERATURE, START_S + 12 * 60, START_S + 10 * 60)
    ]


def test_one_episode_gets_one_verdict_even_if_it_dips_into_range() -> None:
    temps = [300] * 5 + [900] * 20 + [450] + [900] * 20
    windows = _feed(tracker(FIRST_HOLDER), _readings(temps))
    assert [w.window_start_s for w in windows] == [START_S + 5 * 60]


def test_a_new_episode_after_the_grace_in_range_gets_its_own_verdict() -> None:
    temps = [300] * 5 + [900] * 20 + [450] * 16 + [900] * 20
    windows = _feed(tracker(FIRST_HOLDER), _readings(temps))
    assert [w.window_start_s for w in windows] == [START_S + 5 * 60, START_S + 41 * 60]


def test_a_load_too_dry_because_it_is_too_warm_is_one_temperature_episode() -> None:
    readings = [reading(i, temp=300 if i < 5 else 900, humidity=8000 if i < 8 else 5000) for i in range(40)]
    windows = _feed(tracker(FIRST_HOLDER), readings)
    assert [w.kind for w in windows] == [Kind.TEMPERATURE]


def test_a_load_too_damp_while_too_warm_is_a_separate_humidity_breach() -> None:
    readings = [reading(i, temp=300 if i < 5 else 900, humidity=8000 if i < 8 else 9800) for i in range(40)]
    windows = _feed(tracker(FIRST_HOLDER), readings)
    assert [(w.kind, w.window_start_s) for w in windows] == [
        (Kind.TEMPERATURE, START_S + 5 * 60),
        (Kind.HUMIDITY, START_S + 8 * 60),
    ]


def test_a_humidity_excursion_with_the_temperature_in_range_is_its_own_breach() -> None:
    readings = [reading(i, humidity=8000 if i < 5 else 5000) for i in range(30)]
    assert [w.kind for w in _feed(tracker(FIRST_HOLDER), readings)] == [Kind.HUMIDITY]


def test_a_restart_inside_the_allowance_decides_the_same_windows() -> None:
    _, expected = _handed_over_hot(hot_after=80)
    t = tracker(FIRST_HOLDER)
    got = _feed(t, _readings([300] * 5 + [900] * 25))
    t.replan(_handover_at(30))
    got += _feed(t, _readings([900] * 30, first=30))
    resumed = tracker(_handover_at(30))
    resumed.load_state(t.state_dict())
    got += _feed(resumed, _readings([900] * 50, first=60))
    assert [(w.window_start_s, w.window_end_s, w.plan) for w in got] == [
        (w.window_start_s, w.window_end_s, w.plan) for w in expected
    ]
