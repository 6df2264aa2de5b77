"""The world service's port semantics, called in-process (the pacer is not started: each test advances the
clock itself), and its HTTP errors through FastAPI's TestClient."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from offchain.sim.roads import RoadGraph
from offchain.sim.scenario import Scenario, parse_scenario
from offchain.sim.service import DispatchIn, WorldService, WorldServiceError, create_app

MIN = 60_000


def agent_scenario(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "svc",
        "start": "2026-06-15T02:00:00Z",
        "duration_min": 600,
        "traffic": {"incidents_per_100km": 0, "potholes_per_km": 0},
        "vehicles": [
            {"id": "truck-1", "carrier": "haul", "start_at": "supplier_ely", "precooled_c": 2.0},
            {"id": "van-2", "carrier": "chill", "start_at": "crossdock_bar_hill", "capacity_kg": 500},
        ],
        "organisations": [
            {"name": "ely", "kind": "supplier", "place": "supplier_ely", "products": [{"product": "beef"}]},
            {"name": "cmc", "kind": "wholesaler", "place": "wholesaler_cambridge", "products": [{"product": "beef"}]},
            {"name": "lsp", "kind": "logistics", "place": "wholesaler_cambridge"},
            {"name": "haul", "kind": "carrier", "place": "supplier_ely", "fleet": ["truck-1"]},
            {"name": "chill", "kind": "carrier", "place": "crossdock_bar_hill", "fleet": ["van-2"]},
        ],
    }
    return data | overrides


@pytest.fixture
def scenario(graph: RoadGraph) -> Scenario:
    return parse_scenario(agent_scenario(), graph)


@pytest.fixture
def world(scenario: Scenario, graph: RoadGraph) -> WorldService:
    return WorldService(scenario, graph, seed=1, speed=600)


def order(shipment: str = "7", **changes: Any) -> DispatchIn:
    base = {
        "shipment_id": shipment,
        "origin": "supplier_ely",
        "destination": "wholesaler_cambridge",
        "setpoint_centi_c": 200,
        "product": "beef",
        "mass_kg": 400,
    }
    return DispatchIn(**(base | changes))


def run_until(world: WorldService, vehicle: str, status: str, limit_min: int = 240) -> None:
    for _ in range(limit_min):
        if world.vehicle(vehicle).status == status:
            return
        world.advance_to(world.now().now_ms + MIN)
    raise AssertionError(f"{vehicle} never became {status}: {world.vehicle(vehicle)}")


def test_a_served_world_needs_a_positive_speed(scenario: Scenario, graph: RoadGraph) -> None:
    with pytest.raises(ValueError, match="speed > 0"):
        WorldService(scenario, graph, seed=1, speed=0)


def test_agent_scenarios_start_no_scripted_shipment(world: WorldService) -> None:
    world.advance_to(world.now().now_ms + 30 * MIN)
    assert world.vehicle("truck-1").status == "idle"
    assert world.vehicle("truck-1").shipments == []


def test_dispatch_loads_drives_and_waits_at_the_destination(world: WorldService) -> None:
    world.dispatch("truck-1", order())
    world.advance_to(world.now().now_ms + 1000)
    assert world.vehicle("truck-1").status == "loading"  # already at the origin
    run_until(world, "truck-1", "in_transit")
    run_until(world, "truck-1", "arrived")
    view = world.vehicle("truck-1")
    assert view.place == "wholesaler_cambridge" and view.shipments == ["7"]
    world.advance_to(world.now().now_ms + 60 * MIN)
    assert world.vehicle("truck-1").status == "arrived"  # holds until told to unload
    assert world.shipment("7").delivered_at_ms is None


def test_unload_delivers_and_frees_the_vehicle(world: WorldService) -> None:
    world.dispatch("truck-1", order())
    run_until(world, "truck-1", "arrived")
    world.unload("7")
    world.advance_to(world.now().now_ms + 11 * MIN)
    assert world.shipment("7").delivered_at_ms is not None
    assert world.vehicle("truck-1").status == "idle" and world.vehicle("truck-1").shipments == []


def test_unload_before_arrival_is_refused(world: WorldService) -> None:
    world.dispatch("truck-1", order())
    with pytest.raises(WorldServiceError) as refused:
        world.unload("7")
    assert (refused.value.status, refused.value.code) == (409, "not_arrived")


def test_unload_twice_is_idempotent(world: WorldService) -> None:
    world.dispatch("truck-1", order())
    run_until(world, "truck-1", "arrived")
    world.unload("7")
    world.unload("7")
    world.advance_to(world.now().now_ms + 11 * MIN)
    world.unload("7")
    assert world.shipment("7").delivered_at_ms is not None


def test_dispatch_far_away_goes_to_pickup_first(world: WorldService) -> None:
    world.dispatch("van-2", order(mass_kg=100))
    world.advance_to(world.now().now_ms + MIN)
    assert world.vehicle("van-2").status == "to_pickup"


def test_dispatch_is_idempotent_for_the_same_arguments(world: WorldService) -> None:
    world.dispatch("truck-1", order())
    world.dispatch("truck-1", order())
    run_until(world, "truck-1", "arrived")
    assert world.vehicle("truck-1").shipments == ["7"]


def test_dispatch_of_a_known_shipment_to_another_destination_is_refused(world: WorldService) -> None:
    world.dispatch("truck-1", order())
    with pytest.raises(WorldServiceError) as refused:
        world.dispatch("van-2", order(destination="retailer_histon", mass_kg=400))
    assert refused.value.code == "dispatched_differently"


def test_dispatch_over_capacity_is_refused(world: WorldService) -> None:
    with pytest.raises(WorldServiceError) as refused:
        world.dispatch("van-2", order(mass_kg=501))
    assert (refused.value.status, refused.value.code) == (409, "over_capacity")


def test_dispatch_to_an_unknown_vehicle_is_404(world: WorldService) -> None:
    with pytest.raises(WorldServiceError) as refused:
        world.dispatch("truck-9", order())
    assert (refused.value.status, refused.value.code) == (404, "unknown_vehicle")


def test_dispatch_to_an_unknown_place_is_404(world: WorldService) -> None:
    with pytest.raises(WorldServiceError) as refused:
        world.dispatch("truck-1", order(origin="atlantis"))
    assert (refused.value.status, refused.value.code) == (404, "unknown_place")


def test_relief_dispatch_divert_and_transfer_move_the_load(world: WorldService) -> None:
    """The reroute: the loaded truck is diverted to the cross-dock, the relief van is dispatched for the
    remaining leg from there, the load moves, and the van carries it on to the destination."""
    world.dispatch("truck-1", order(mass_kg=300))
    run_until(world, "truck-1", "in_transit")
    world.divert("truck-1", "crossdock_bar_hill")
    world.dispatch("van-2", order(origin="crossdock_bar_hill", mass_kg=300))
    run_until(world, "truck-1", "waiting")
    assert world.vehicle("van-2").status == "waiting"
    world.transfer("7", "van-2")
    world.transfer("7", "van-2")  # a retry changes nothing
    assert world.vehicle("van-2").shipments == ["7"] and world.vehicle("truck-1").shipments == []
    run_until(world, "van-2", "arrived")
    assert world.vehicle("van-2").place == "wholesaler_cambridge"
    assert world.vehicle("truck-1").status == "idle"


def test_transfer_to_a_vehicle_still_driving_is_refused(world: WorldService) -> None:
    world.dispatch("truck-1", order())
    run_until(world, "truck-1", "in_transit")
    world.divert("truck-1", "crossdock_bar_hill")
    run_until(world, "truck-1", "waiting")
    world.divert("van-2", "crossdock_cambourne")
    world.advance_to(world.now().now_ms + MIN)
    with pytest.raises(WorldServiceError) as refused:
        world.transfer("7", "van-2")
    assert (refused.value.code, refused.value.status) == ("not_waiting", 409)


def test_transfer_between_vehicles_apart_is_refused(world: WorldService) -> None:
    world.dispatch("truck-1", order())
    run_until(world, "truck-1", "in_transit")
    world.divert("truck-1", "crossdock_cambourne")
    run_until(world, "truck-1", "waiting")
    world.divert("van-2", "crossdock_bar_hill")
    run_until(world, "van-2", "waiting")
    with pytest.raises(WorldServiceError) as refused:
        world.transfer("7", "van-2")
    assert refused.value.code == "not_together"


def test_transfer_of_an_unknown_shipment_is_404(world: WorldService) -> None:
    with pytest.raises(WorldServiceError) as refused:
        world.transfer("99", "van-2")
    assert (refused.value.status, refused.value.code) == (404, "unknown_shipment")


def test_plan_follows_road_closures(graph: RoadGraph) -> None:
    data = agent_scenario(faults=[{"kind": "road_closure", "edge": "a10_waterbeach_stretham"}])
    closed = WorldService(parse_scenario(data, graph), graph, seed=1, speed=60)
    open_ = WorldService(parse_scenario(agent_scenario(), graph), graph, seed=1, speed=60)
    closed.advance_to(closed.now().now_ms + 1000)
    detour = closed.plan("supplier_ely", "wholesaler_cambridge")
    direct = open_.plan("supplier_ely", "wholesaler_cambridge")
    assert "a10_waterbeach_stretham" not in str(detour.path)
    assert detour.duration_ms > direct.duration_ms and detour.path != direct.path


def test_compressor_failure_makes_the_reefer_not_ok(graph: RoadGraph) -> None:
    data = agent_scenario(faults=[{"kind": "compressor_failure", "vehicle": "truck-1", "after_km": 2}])
    world = WorldService(parse_scenario(data, graph), graph, seed=1, speed=60)
    world.dispatch("truck-1", order())
    assert world.vehicle("truck-1").reefer_ok
    run_until(world, "truck-1", "arrived")
    assert not world.vehicle("truck-1").reefer_ok


def test_http_errors_carry_code_and_detail(world: WorldService) -> None:
    with TestClient(create_app(world)) as http:
        response = http.get("/vehicles/truck-9")
        assert response.status_code == 404
        assert response.json()["error"] == "unknown_vehicle" and "truck-1" in response.json()["detail"]
        assert http.post("/vehicles/truck-1/dispatch", json={"shipment_id": "x"}).status_code == 422
        assert http.get("/fleet/nobody").json()["error"] == "unknown_carrier"


def test_http_events_list_what_happened_since_a_cursor(world: WorldService) -> None:
    world.dispatch("truck-1", order())
    world.advance_to(world.now().now_ms + 20 * MIN)
    with TestClient(create_app(world)) as http:
        events = http.get("/events").json()
        assert [e["kind"] for e in events][:2] == ["shipment_started", "loading"]
        assert http.get("/events", params={"since": 1}).json()[0]["seq"] == 1
