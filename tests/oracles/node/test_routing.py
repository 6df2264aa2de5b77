"""Place ids and planned corridors: the same legs give every node the same integers."""

from __future__ import annotations

import pytest

from offchain.sim.roads import RoadGraph
from oracles.node.routing import PlaceIdError, Planner, decode_place, encode_place
from oracles.node.terms import PlannedLeg
from tests.oracles.node.helpers import TERMS

GRAPH = RoadGraph.load()


def test_a_place_id_round_trips() -> None:
    assert decode_place(encode_place("supplier_ely")) == "supplier_ely"


def test_the_zero_place_id_is_no_place() -> None:
    assert decode_place(b"\0" * 32) == ""


@pytest.mark.parametrize(
    ("raw", "problem"),
    [(b"\xff" * 32, "not ASCII"), (b"ab\0cd".ljust(32, b"\0"), "zero byte inside"), (b"short", "32 bytes")],
)
def test_malformed_place_ids_are_refused(raw: bytes, problem: str) -> None:
    with pytest.raises(PlaceIdError, match=problem):
        decode_place(raw)


def test_a_place_id_longer_than_32_bytes_is_refused() -> None:
    with pytest.raises(PlaceIdError, match="1-32"):
        encode_place("x" * 33)


def test_legs_are_joined_in_leg_order_from_origin_to_destination() -> None:
    planner = Planner(GRAPH, 2000)
    legs = [
        PlannedLeg(2, 9, "crossdock_cambourne", "wholesaler_cambridge", 20),
        PlannedLeg(1, 8, "supplier_ely", "crossdock_cambourne", 10),
    ]
    plan = planner.plan(TERMS, legs, 123)
    ely, cambourne, cambridge = (GRAPH.node(n) for n in (legs[1].origin, legs[0].origin, legs[0].destination))
    assert plan.corridor[0] == (round(ely.lat * 1e6), round(ely.lon * 1e6))
    assert (round(cambourne.lat * 1e6), round(cambourne.lon * 1e6)) in plan.corridor
    assert plan.corridor[-1] == (round(cambridge.lat * 1e6), round(cambridge.lon * 1e6))
    assert [leg.leg_index for leg in plan.legs] == [1, 2] and plan.deadline_s == 123


def test_the_same_legs_give_the_same_plan_on_another_planner() -> None:
    legs = [PlannedLeg(1, 8, "supplier_ely", "wholesaler_cambridge", 10)]
    assert Planner(GRAPH, 2000).plan(TERMS, legs, 1) == Planner(RoadGraph.load(), 2000).plan(TERMS, legs, 1)


def test_a_leg_between_unknown_places_leaves_the_corridor_out_but_keeps_the_deadline() -> None:
    plan = Planner(GRAPH, 2000).plan(TERMS, [PlannedLeg(1, 8, "gcrf-farm-ely", "supplier_ely", 10)], 99)
    assert plan.corridor == () and plan.deadline_s == 99 and len(plan.legs) == 1
