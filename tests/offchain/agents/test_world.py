"""LocalWorld, the in-process world port: plans, dispatches, diversions, transfers and their errors."""

from __future__ import annotations

import pytest

from offchain.agents.world import (
    LocalWorld,
    NotArrivedError,
    NotAtSamePlaceError,
    UnknownPlaceError,
    UnknownVehicleError,
)
from offchain.sim.roads import RoadGraph
from offchain.sim.world import Simulator

START_MS = 1_893_484_800_000


@pytest.fixture
def world() -> LocalWorld:
    sim = Simulator(RoadGraph.load(), seed=7, start_ms=START_MS)
    sim.add_vehicle("t1", carrier="fen", at="supplier_ely", precooled_c=2.0)
    sim.add_vehicle("t2", carrier="cam", at="crossdock_bar_hill", precooled_c=2.0)
    return LocalWorld(sim)


def _dispatch(world: LocalWorld, vehicle: str = "t1") -> None:
    world.dispatch(vehicle, "42", "supplier_ely", "wholesaler_cambridge", setpoint_centi_c=200, product="beef",
                   mass_kg=1000)


def _run_until(world: LocalWorld, done: object, limit_min: int = 240) -> None:
    for _ in range(limit_min):
        if done():  # type: ignore[operator]
            return
        world.sim.advance_to(world.sim.now_ms + 60_000)
    raise AssertionError("the world never got there")


def test_plan_gives_road_distance_and_time(world: LocalWorld) -> None:
    plan = world.plan("supplier_ely", "wholesaler_cambridge")
    assert plan.path[0] == "supplier_ely" and plan.path[-1] == "wholesaler_cambridge"
    assert 15_000 < plan.distance_m < 40_000 and plan.duration_ms > 0


def test_plan_refuses_an_unknown_place(world: LocalWorld) -> None:
    with pytest.raises(UnknownPlaceError):
        world.plan("supplier_ely", "atlantis")


def test_an_unknown_vehicle_is_an_error(world: LocalWorld) -> None:
    with pytest.raises(UnknownVehicleError):
        world.vehicle("ghost")


def test_fleet_lists_a_carriers_trucks(world: LocalWorld) -> None:
    assert [v.id for v in world.fleet("fen")] == ["t1"]


def test_a_dispatched_truck_loads_drives_and_arrives(world: LocalWorld) -> None:
    _dispatch(world)
    _dispatch(world)  # the same dispatch again changes nothing
    _run_until(world, lambda: "42" in world.vehicle("t1").shipments)
    with pytest.raises(NotArrivedError):
        world.unload("42")
    _run_until(world, lambda: world.vehicle("t1").status == "arrived")
    assert world.vehicle("t1").place == "wholesaler_cambridge"
    world.unload("42")


def test_a_transfer_needs_both_trucks_at_one_place(world: LocalWorld) -> None:
    _dispatch(world)
    _run_until(world, lambda: world.vehicle("t1").status == "in_transit")
    world.divert("t1", "crossdock_bar_hill")
    with pytest.raises(NotAtSamePlaceError):
        world.transfer("42", "t2")
    world.dispatch("t2", "42", "crossdock_bar_hill", "wholesaler_cambridge", setpoint_centi_c=200, product="beef",
                   mass_kg=1000)
    _run_until(world, lambda: world.vehicle("t1").status == "waiting" and world.vehicle("t2").status == "waiting")
    world.transfer("42", "t2")
    assert world.vehicle("t2").shipments == ("42",) and world.vehicle("t1").shipments == ()
    _run_until(world, lambda: world.vehicle("t2").status == "arrived")
    world.unload("42")


def test_a_failed_compressor_shows_as_no_working_reefer(world: LocalWorld) -> None:
    world.sim.fail_compressor("t1")
    assert not world.vehicle("t1").reefer_ok and world.vehicle("t2").reefer_ok
