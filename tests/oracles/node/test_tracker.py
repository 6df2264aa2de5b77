"""The per-shipment tracker: SLA windows from oracles.detect, identical however the readings are paged."""

from __future__ import annotations

import json

import pytest

from offchain.sim.roads import RoadGraph
from oracles.detect.geo import Polyline
from oracles.node.evidence import build_evidence, model_version
from oracles.node.routing import Planner
from oracles.node.terms import Plan, PlannedLeg
from oracles.node.tracker import MAX_WINDOW_READINGS
from oracles.verdicts import Kind
from tests.oracles.node.helpers import DETECT, TERMS, excursion, moving, policy, reading, tracker

START_MS = 1_700_000_000_000
PLANNER = Planner(RoadGraph.load(), corridor_width_m=2000)


def _plan(deadline_s: int = 0) -> Plan:
    return PLANNER.plan(TERMS, [PlannedLeg(1, 2, "supplier_ely", "wholesaler_cambridge", 0)], deadline_s)


def _along(plan: Plan, count: int, metres_per_step: float, first: int = 0) -> list:
    """Readings driving along the corridor from its start, a reading a minute."""
    route = Polyline([(lat / 1e6, lon / 1e6) for lat, lon in plan.corridor])
    out = []
    for i in range(count):
        along = min(i * metres_per_step, route.length_m)
        seg = 0
        while seg < len(route.segment_m) - 1 and along > route.segment_m[: seg + 1].sum():
            seg += 1
        f = (along - route.segment_m[:seg].sum()) / route.segment_m[seg]
        lat = route.lat[seg] + (route.lat[seg + 1] - route.lat[seg]) * f
        lon = route.lon[seg] + (route.lon[seg + 1] - route.lon[seg]) * f
        out.append(moving(first + i, lat_e7=round(lat * 1e7), lon_e7=round(lon * 1e7)))
    return out


def _kinds(windows: list) -> list[Kind]:
    return [w.kind for _, w in windows]


def test_an_excursion_longer_than_the_grace_decides_one_temperature_window() -> None:
    windows = tracker().feed(excursion(normal=5, hot=20))
    assert _kinds(windows) == [Kind.TEMPERATURE]
    index, window = windows[0]
    # grace 900 s, a reading a minute: the 17th hot reading (16 minutes out) decides it
    assert index == 5 + 16
    assert window.readings[0].id == 6 and window.readings[-1].id == index + 1
    assert window.peak_excess == 400 and window.out_of_range_ms == 16 * 60_000


def test_an_excursion_within_the_grace_decides_nothing() -> None:
    assert tracker().feed(excursion(normal=5, hot=16)) == []


def test_a_shock_above_the_limit_is_its_own_window() -> None:
    windows = tracker().feed([reading(0), reading(1, shock=9000), reading(2)])
    assert _kinds(windows) == [Kind.SHOCK]
    assert windows[0][1].peak_excess == 4000 and windows[0][1].readings[0].id == 2


def test_paging_does_not_change_windows_or_evidence() -> None:
    # Two nodes fetch the same readings in different pages: the evidence must be byte-identical.
    readings = [reading(i, temp=300 + (i % 4)) for i in range(350)] + [
        reading(350 + i, temp=320 + 25 * i) for i in range(40)
    ]
    whole = tracker(forest=True)
    in_one = [w for _, w in whole.feed(readings)]
    paged = tracker(forest=True)
    in_pages = [w for start in range(0, len(readings), 7) for _, w in paged.feed(readings[start : start + 7])]
    assert in_one and [w.kind for w in in_one] == [w.kind for w in in_pages]

    def evidence(window):
        return build_evidence(
            chain_id=31337,
            hub_address="0x5FC8d32690cc91D4c39d9d3abcBD16989F875707",
            order_id=3,
            twin_id=7,
            window=window,
            policy=policy(),
            epoch=1,
            model=model_version(DETECT, True),
        )

    assert [evidence(w).data for w in in_one] == [evidence(w).data for w in in_pages]


def test_a_restored_tracker_decides_exactly_what_an_uninterrupted_one_does() -> None:
    readings = excursion(normal=80, hot=30)
    whole = [w for _, w in tracker().feed(readings)]
    first = tracker()
    first.feed(readings[:90])
    resumed = tracker()
    resumed.load_state(json.loads(json.dumps(first.state_dict())))
    assert [w for _, w in resumed.feed(readings[90:])] == whole


def test_an_unknown_state_version_is_refused() -> None:
    with pytest.raises(ValueError, match="state version"):
        tracker().load_state({"version": 1})


def test_long_excursions_keep_the_start_and_the_latest_readings() -> None:
    terms = TERMS.__class__(**{**TERMS.as_evidence(), "excursion_grace_s": 60 * (MAX_WINDOW_READINGS + 10)})
    readings = [reading(i, temp=900) for i in range(MAX_WINDOW_READINGS + 20)]
    window = tracker(terms=terms).feed(readings)[0][1]
    assert len(window.readings) == MAX_WINDOW_READINGS
    assert window.readings_total == MAX_WINDOW_READINGS + 12
    assert window.readings[0].id == 1 and window.readings[-1].id == MAX_WINDOW_READINGS + 12


def test_leaving_the_planned_corridor_decides_a_route_deviation_window() -> None:
    plan = _plan()
    on_route = _along(plan, 10, 500)
    last = on_route[-1]
    away = [moving(10 + i, lat_e7=last.lat_e7, lon_e7=last.lon_e7 + 500_000) for i in range(3)]  # ~3.4 km east
    windows = tracker(plan).feed(on_route + away)
    assert _kinds(windows) == [Kind.ROUTE_DEVIATION]
    index, window = windows[0]
    assert index == 10 and window.readings == (away[0],)
    assert 2000 < window.peak_excess + 1000 < 4000  # metres off the centre line, minus the half width
    assert window.context[-1] == on_route[-1]
    assert window.plan == plan


def test_without_a_planned_corridor_position_decides_nothing() -> None:
    far = [moving(i, lat_e7=510_000_000, lon_e7=-10_000_000) for i in range(5)]
    assert tracker().feed(far) == []


def test_a_corridor_awarded_mid_stream_applies_from_the_next_reading() -> None:
    plan = _plan()
    first = _along(plan, 3, 500)
    off = [moving(3 + i, lat_e7=first[-1].lat_e7, lon_e7=first[-1].lon_e7 + 500_000) for i in range(4)]
    shipment = tracker()
    assert shipment.feed(first + off[:2]) == []
    shipment.replan(plan)
    assert _kinds(shipment.feed(off[2:])) == [Kind.ROUTE_DEVIATION]


def test_slow_progress_predicts_a_late_arrival_before_the_deadline() -> None:
    deadline_s = START_MS // 1000 + 2 * 3600  # 20 km to go, 2 hours left, crawling at 1 m/s
    plan = _plan(deadline_s)
    windows = tracker(plan).feed(_along(plan, 20, 60))
    assert _kinds(windows) == [Kind.DELAY]
    index, window = windows[0]
    assert window.window_end_s < deadline_s
    assert window.readings[0].id == 1 and window.readings[-1].id == index + 1
    assert window.peak_excess > 10_000  # seconds the forecast falls past the deadline


def test_normal_progress_predicts_no_delay() -> None:
    plan = _plan(START_MS // 1000 + 2 * 3600)
    assert tracker(plan).feed(_along(plan, 20, 900)) == []  # 15 m/s: ~25 minutes to go


def test_new_terms_apply_to_the_range_rules_from_the_next_reading() -> None:
    shipment = tracker()
    assert shipment.feed(excursion(normal=0, hot=10, hot_centi_c=700)) == []  # 10 min at 7 degC: in grace
    warmer = TERMS.__class__(**{**TERMS.as_evidence(), "temp_max_centi_c": 800})
    shipment.replan(Plan(warmer))
    later = [reading(10 + i, temp=700) for i in range(20)]
    assert shipment.feed(later) == []  # 7 degC is within the new range: the excursion ended
    assert shipment.terms == warmer
