"""The plan through a reroute (ordered diversion, handover, relief leg), route-deviation persistence and the
arrival forecast after a dwell."""

from __future__ import annotations

import dataclasses

import pytest

from offchain.api.schemas import ReadingPublic
from offchain.sim.roads import RoadGraph
from oracles.detect.geo import Polyline
from oracles.detect.sla import SlaMonitor, SlaTerms
from oracles.detect.types import Reading
from oracles.node.routing import Planner
from oracles.node.terms import Plan, PlannedLeg, RerouteState
from oracles.settings import DetectSettings
from oracles.verdicts import Kind
from tests.oracles.node.helpers import TERMS, moving, tracker

GRAPH = RoadGraph.load()
PLANNER = Planner(GRAPH, 2000, route_grace_s=300)
LEG = PlannedLeg(0, 2, "supplier_ely", "wholesaler_cambridge", 0)
HANDOVER = "crossdock_bar_hill"


def _reroute(place: str = "", taken_over_at_s: int = 0) -> RerouteState:
    return RerouteState(4, 1_000, "wholesaler_cambridge", 0, place, taken_over_at_s)


def _plan(reroute: RerouteState | None = None, deadline_s: int = 0) -> Plan:
    return PLANNER.plan(TERMS, [LEG], deadline_s, reroutes=() if reroute is None else (reroute,))


def _vertex(place: str) -> tuple[int, int]:
    node = GRAPH.node(place)
    return round(node.lat * 1_000_000), round(node.lon * 1_000_000)


def _drive(path: tuple[tuple[int, int], ...], count: int, metres_per_step: float) -> list[ReadingPublic]:
    """Readings a minute apart along ``path`` (1e-6 degree vertices) from its start."""
    route = Polyline([(lat / 1e6, lon / 1e6) for lat, lon in path])
    ends = [float(route.segment_m[: k + 1].sum()) for k in range(len(route.segment_m))]
    out = []
    for i in range(count):
        along = min(i * metres_per_step, route.length_m)
        seg = next(k for k, end in enumerate(ends) if along <= end or k == len(ends) - 1)
        f = (along - (ends[seg - 1] if seg else 0.0)) / route.segment_m[seg]
        lat = route.lat[seg] + (route.lat[seg + 1] - route.lat[seg]) * f
        lon = route.lon[seg] + (route.lon[seg + 1] - route.lon[seg]) * f
        out.append(moving(i, lat_e7=round(lat * 1e7), lon_e7=round(lon * 1e7)))
    return out


def _kinds(plan: Plan, readings: list[ReadingPublic]) -> list[Kind]:
    return [window.kind for _, window in tracker(plan).feed(readings)]


# ------------------------------------------------------------------ the plan through a reroute


def test_before_the_handover_place_is_known_a_diversion_to_any_crossdock_is_on_route() -> None:
    plan = _plan(_reroute())
    assert plan.corridor == _plan().corridor and plan.eta_paused
    assert {path[-1] for path in plan.diversions} == {_vertex("crossdock_bar_hill"), _vertex("crossdock_cambourne")}


def test_without_crossdocks_an_ordered_reroute_turns_the_route_rules_off_until_the_offer() -> None:
    graph = RoadGraph.load()
    for node_id, node in list(graph.nodes.items()):
        if node.kind == "crossdock":
            graph.nodes[node_id] = dataclasses.replace(node, kind="junction")
    plan = Planner(graph, 2000).plan(TERMS, [LEG], 0, reroutes=(_reroute(),))
    assert plan.corridor == () and plan.diversions == () and plan.eta_paused


def test_the_diversion_to_the_offered_handover_place_is_on_route() -> None:
    plan = _plan(_reroute(HANDOVER))
    assert plan.corridor == _plan().corridor
    assert plan.diversions and all(path[-1] == _vertex(HANDOVER) for path in plan.diversions)
    assert plan.eta_paused


def test_the_relief_leg_runs_from_the_handover_place_to_the_destination() -> None:
    plan = _plan(_reroute(HANDOVER, taken_over_at_s=2_000))
    assert plan.corridor[0] == _vertex(HANDOVER) and plan.corridor[-1] == _vertex("wholesaler_cambridge")
    assert plan.diversions == () and not plan.eta_paused


def test_a_relief_leg_is_followed_by_the_later_legs() -> None:
    later = PlannedLeg(1, 3, "wholesaler_cambridge", "retailer_mill_road", 0)
    plan = PLANNER.plan(TERMS, [LEG, later], 0, reroutes=(_reroute(HANDOVER, 2_000),))
    assert plan.corridor[0] == _vertex(HANDOVER) and plan.corridor[-1] == _vertex("retailer_mill_road")


def test_a_handover_place_the_graph_does_not_know_leaves_the_route_rules_off() -> None:
    plan = _plan(_reroute("nowhere", taken_over_at_s=2_000))
    assert plan.corridor == () and plan.sla_terms().corridor == ()


def test_the_reroute_plan_is_in_the_evidence() -> None:
    evidence = _plan(_reroute(HANDOVER)).as_evidence()
    assert evidence["reroutes"][0]["handover_place"] == HANDOVER
    assert evidence["eta_paused"] is True and evidence["route_grace_s"] == 300
    assert len(evidence["diversions_e6"]) == len(_plan(_reroute(HANDOVER)).diversions)


# ------------------------------------------------------------------ route deviation


def _diversion_drive() -> list[ReadingPublic]:
    """From Ely along the planned route to Milton, then the fastest way to the Bar Hill cross-dock."""
    to_milton = PLANNER._route("supplier_ely", "milton_j33")[0]
    diversion = PLANNER._route("milton_j33", HANDOVER)[0]
    return _drive(to_milton + diversion[1:], 40, 800)


@pytest.mark.parametrize("place", ["", HANDOVER])
def test_the_ordered_diversion_raises_no_route_deviation(place: str) -> None:
    assert _kinds(_plan(_reroute(place)), _diversion_drive()) == []


def test_a_diversion_to_another_place_than_the_offered_one_is_a_route_deviation() -> None:
    to_cambourne = PLANNER._route("milton_j33", "crossdock_cambourne")[0]
    readings = _drive(PLANNER._route("supplier_ely", "milton_j33")[0] + to_cambourne[1:], 40, 800)
    assert _kinds(_plan(_reroute(HANDOVER)), readings) == [Kind.ROUTE_DEVIATION]


def test_the_same_drive_without_a_reroute_is_a_route_deviation() -> None:
    assert _kinds(_plan(), _diversion_drive()) == [Kind.ROUTE_DEVIATION]


def _off_for(minutes: int) -> list[ReadingPublic]:
    on_route = _drive(_plan().corridor, 10, 500)
    last = on_route[-1]
    away = [moving(10 + i, lat_e7=last.lat_e7, lon_e7=last.lon_e7 + 500_000) for i in range(minutes)]  # ~3.4 km
    back = [moving(10 + minutes + i, lat_e7=last.lat_e7, lon_e7=last.lon_e7) for i in range(3)]
    return on_route + away + back


def test_a_single_fix_off_the_corridor_is_no_route_deviation() -> None:
    assert _kinds(_plan(), _off_for(1)) == []


def test_off_the_corridor_for_less_than_the_grace_is_no_route_deviation() -> None:
    assert _kinds(_plan(), _off_for(5)) == []  # 4 minutes between the first and the last fix off it


def test_off_the_corridor_for_the_grace_is_a_route_deviation_from_the_first_fix_off_it() -> None:
    readings = _off_for(6)
    windows = tracker(_plan()).feed(readings)
    assert [(index, w.kind) for index, w in windows] == [(15, Kind.ROUTE_DEVIATION)]
    window = windows[0][1]
    assert window.readings[0] == readings[10] and window.readings[-1] == readings[15]
    assert window.out_of_range_ms == 300_000 and window.peak_excess > 1000


# ------------------------------------------------------------------ arrival forecast

FORECAST = DetectSettings(eta_speed_window_s=1800, eta_min_speed_mps=0.5, eta_safety_factor=1.1)
START_S = 1_700_000_000
ROUTE = ((52_000_000, 100_000), (52_180_000, 100_000))  # 20 km due north


def _dwell_then_drive(dwell: int, speed_mps: float, count: int, first_minute_m: float | None = None) -> list[Reading]:
    """Standing still for ``dwell`` minutes, then driving (the first minute ``first_minute_m``, if given)."""
    readings = []
    start_up = 60 * speed_mps if first_minute_m is None else first_minute_m
    for i in range(count):
        minutes = max(0, i - dwell)
        metres = 0.0 if minutes == 0 else start_up + (minutes - 1) * 60 * speed_mps
        lat_e6 = 52_000_000 + round(metres / 111_195 * 1e6)
        readings.append(Reading(START_S + 60 * i, 300, 8000, 0, 30, lat_e6, 100_000))
    return readings


def _late_rows(deadline_s: int, readings: list[Reading]) -> list[int]:
    terms = SlaTerms(0, 500, 6000, 9500, 5000, 900, ROUTE, 2000, deadline_s)
    scores = SlaMonitor(terms, FORECAST).score_batch(readings)["late_arrival"]
    return [i for i, alert in enumerate(scores.alert) if alert]


def test_a_dwell_before_setting_off_does_not_make_the_forecast_late() -> None:
    # 20 minutes at the handover place, then 20 km at 15 m/s: there at +42 min, the deadline is +60 min.
    readings = _dwell_then_drive(dwell=20, speed_mps=15.0, count=45)
    assert _late_rows(START_S + 3600, readings) == []


def test_a_truck_pulling_away_slowly_is_not_forecast_late_from_its_first_minute() -> None:
    # As the relief van in the default scenario: 180 m in the first minute, then 20 m/s; there at about +37 min.
    readings = _dwell_then_drive(dwell=20, speed_mps=20.0, count=40, first_minute_m=180.0)
    assert _late_rows(START_S + 3600, readings) == []


def test_a_truck_that_drives_too_slowly_after_a_dwell_is_still_forecast_late() -> None:
    # 20 km at 4 m/s takes 83 minutes after the dwell: late for a +60 min deadline, flagged before it.
    rows = _late_rows(START_S + 3600, _dwell_then_drive(dwell=20, speed_mps=4.0, count=55))
    assert rows and START_S + 60 * rows[0] < START_S + 3600


@pytest.mark.parametrize("paused", [False, True])
def test_no_forecast_while_a_diversion_or_handover_is_under_way(paused: bool) -> None:
    terms = dataclasses.replace(
        SlaTerms(0, 500, 6000, 9500, 5000, 900, ROUTE, 2000, START_S + 600), eta_paused=paused
    )
    scores = SlaMonitor(terms, FORECAST).score_batch(_dwell_then_drive(dwell=0, speed_mps=4.0, count=20))
    assert bool(scores["late_arrival"].alert.any()) is not paused
