from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pytest

from offchain.api.validation import Limits, check_batch
from offchain.sim.environment import Weather
from offchain.sim.geo import haversine_m
from offchain.sim.roads import RoadGraph
from offchain.sim.world import SimError, Simulator, TrafficParams, VehicleStatus

from .conftest import NIGHT_MS, quiet_world

MIN = 60_000


def start_truck(
    sim: Simulator,
    *,
    loading_ms: int = 0,
    origin: str = "supplier_ely",
    destination: str = "wholesaler_cambridge",
    vehicle: str = "truck-1",
    shipment: str = "ship-1",
) -> None:
    sim.add_vehicle(vehicle, carrier="3pl", at=origin, precooled_c=2.0)
    sim.start_shipment(
        shipment,
        vehicle,
        origin=origin,
        destination=destination,
        setpoint_c=2.0,
        product="beef",
        mass_kg=800,
        loading_ms=loading_ms,
    )


def event_times(sim: Simulator, kind: str) -> list[int]:
    return [e.ts_ms for e in sim.events if e.kind == kind]


def test_free_flow_trip_takes_the_planned_travel_time(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim)
    sim.advance_to(NIGHT_MS + 60 * MIN)
    planned = graph.shortest_path("supplier_ely", "wholesaler_cambridge").travel_s
    (departed,) = event_times(sim, "departed")
    (arrived,) = event_times(sim, "unloading")
    assert (arrived - departed) / 1000 == pytest.approx(planned, abs=2)


def test_rush_hour_slows_the_same_trip(graph: RoadGraph) -> None:
    durations = []
    for start in (NIGHT_MS, NIGHT_MS + 6 * 3_600_000):  # 02:00 and 08:00
        sim = quiet_world(graph, start_ms=start)
        start_truck(sim)
        sim.advance_to(start + 90 * MIN)
        durations.append(event_times(sim, "unloading")[0] - event_times(sim, "departed")[0])
    assert durations[1] > durations[0] * 1.2


def test_incidents_stop_the_truck_for_their_delay(graph: RoadGraph) -> None:
    traffic = TrafficParams(
        incidents_per_100km=100.0, incident_delay_ms=(5 * MIN, 5 * MIN), potholes_per_km=0
    )
    sim = quiet_world(graph, traffic=traffic)
    start_truck(sim)
    sim.advance_to(NIGHT_MS + 120 * MIN)
    incidents = [e for e in sim.events if e.kind == "incident"]
    planned = graph.shortest_path("supplier_ely", "wholesaler_cambridge").travel_s
    took_s = (event_times(sim, "unloading")[0] - event_times(sim, "departed")[0]) / 1000
    assert incidents
    assert took_s == pytest.approx(planned + len(incidents) * 300, abs=5)


def test_loading_keeps_the_truck_at_the_origin_with_the_door_open(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim, loading_ms=10 * MIN)
    sim.advance_to(NIGHT_MS + 5 * MIN)
    state = sim.vehicle_state("truck-1")
    assert (state.status, state.node_id, state.door_open) == (VehicleStatus.LOADING, "supplier_ely", True)
    sim.advance_to(NIGHT_MS + 11 * MIN)
    state = sim.vehicle_state("truck-1")
    assert state.status is VehicleStatus.DRIVING and not state.door_open


def test_gps_fixes_stay_within_metres_of_the_truck(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim)
    for _ in range(12):  # the night trip takes 16 minutes
        (sample,) = sim.advance_to(sim.now_ms + MIN)
        state = sim.vehicle_state("truck-1")
        r = sample.reading
        assert haversine_m(r.lat_e7 / 1e7, r.lon_e7 / 1e7, state.lat, state.lon) < 20


def test_light_reads_zero_unless_the_door_is_open(graph: RoadGraph) -> None:
    sim = quiet_world(graph, weather=Weather(mean_c=15.0, amplitude_c=0.0))
    start_truck(sim, loading_ms=5 * MIN)
    samples = sim.advance_to(NIGHT_MS + 20 * MIN)
    loading = [s.reading.light_lux for s in samples if s.reading.ts_ms < NIGHT_MS + 5 * MIN]
    driving = [s.reading.light_lux for s in samples if s.reading.ts_ms > NIGHT_MS + 6 * MIN]
    assert all(lux > 0 for lux in loading) and all(lux == 0 for lux in driving)


def test_a_scripted_knock_is_the_peak_shock_of_the_next_reading(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim)
    sim.advance_to(NIGHT_MS + 3 * MIN)
    sim.shock("truck-1", 12_000)
    (sample,) = sim.advance_to(NIGHT_MS + 4 * MIN)
    (after,) = sim.advance_to(NIGHT_MS + 5 * MIN)
    assert sample.reading.shock_milli_g == 12_000
    assert after.reading.shock_milli_g < 1000


def test_compressor_fails_once_the_odometer_passes_the_distance(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim)
    sim.fail_compressor("truck-1", 1.0, after_km=5)
    sim.advance_to(NIGHT_MS + 60 * MIN)
    (failure,) = [e for e in sim.events if e.kind == "compressor_failure"]
    departed = event_times(sim, "departed")[0]
    # 5 km at the A10's 80 km/h goods-vehicle cap, plus the slower approach road
    assert 3 * MIN < failure.ts_ms - departed < 6 * MIN
    assert sim.vehicle_state("truck-1").compressor_health == 0.0


def test_reroute_mid_way_drives_to_the_new_place_and_waits(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim)
    sim.advance_to(NIGHT_MS + 5 * MIN)
    assert sim.vehicle_state("truck-1").status is VehicleStatus.DRIVING
    sim.reroute("truck-1", "crossdock_bar_hill")
    sim.advance_to(NIGHT_MS + 60 * MIN)
    state = sim.vehicle_state("truck-1")
    assert (state.status, state.node_id, state.shipments) == (
        VehicleStatus.WAITING,
        "crossdock_bar_hill",
        ("ship-1",),
    )
    sim.resume("truck-1")
    sim.advance_to(NIGHT_MS + 120 * MIN)
    assert sim.delivered("ship-1") is not None


def test_resume_refuses_a_vehicle_that_is_not_waiting(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim)
    with pytest.raises(SimError, match="truck-1 is not waiting"):
        sim.resume("truck-1")


def test_handoff_moves_the_load_and_its_logger_to_the_receiver(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim)
    sim.add_vehicle("van-2", carrier="city", at="crossdock_bar_hill", precooled_c=2.0)
    sim.advance_to(NIGHT_MS + 2 * MIN)
    sim.reroute("truck-1", "crossdock_bar_hill")
    sim.reroute("van-2", "crossdock_bar_hill")
    sim.advance_to(NIGHT_MS + 60 * MIN)
    sim.handoff("ship-1", "van-2", dwell_ms=10 * MIN)
    samples = sim.advance_to(NIGHT_MS + 120 * MIN)
    assert {s.vehicle_id for s in samples} == {"van-2"}
    assert {s.device_id for s in samples} == {"logger-ship-1"}
    assert sim.vehicle_state("truck-1").shipments == ()
    assert sim.delivered("ship-1") is not None
    assert max(s.reading.shock_milli_g for s in samples[:2]) >= 1500  # the pallet's knock


def test_handoff_is_refused_when_the_vehicles_are_apart(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim, loading_ms=5 * MIN)
    sim.add_vehicle("van-2", carrier="city", at="wholesaler_cambridge")
    sim.advance_to(NIGHT_MS + MIN)
    sim.reroute("truck-1", "ely_a10_south")
    sim.advance_to(NIGHT_MS + 20 * MIN)
    with pytest.raises(SimError, match=r"truck-1 and van-2 are \d+ m apart"):
        sim.handoff("ship-1", "van-2")


def test_handoff_is_refused_while_a_vehicle_drives(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim)
    sim.add_vehicle("van-2", carrier="city", at="supplier_ely")
    sim.advance_to(NIGHT_MS + 2 * MIN)
    with pytest.raises(SimError, match="truck-1 is driving, not parked"):
        sim.handoff("ship-1", "van-2")


def test_unknown_ids_are_refused(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    with pytest.raises(SimError, match="unknown vehicle 'ghost'"):
        sim.vehicle_state("ghost")
    with pytest.raises(SimError, match="unknown shipment 'nothing'"):
        sim.handoff("nothing", "ghost")
    with pytest.raises(SimError, match="unknown edge 'a99'"):
        sim.close_road("a99", NIGHT_MS)


def test_a_road_closed_ahead_makes_the_truck_detour_at_the_next_junction(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim)
    sim.advance_to(NIGHT_MS + 2 * MIN)  # on the A10 out of Ely, the closed stretch still ahead
    sim.close_road("a10_waterbeach_stretham", NIGHT_MS + 2 * MIN)
    sim.advance_to(NIGHT_MS + 120 * MIN)
    (detour,) = [e for e in sim.events if e.kind == "closure_detour"]
    first, second = [e.detail["route"] for e in sim.events if e.kind == "departed"]
    assert "waterbeach_a10" in first
    assert second[0] == detour.detail["at"] and "waterbeach_a10" not in second
    assert sim.delivered("ship-1") is not None


def test_a_truck_with_every_road_closed_waits_until_one_reopens(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    sim.close_road("a10_ely_approach", NIGHT_MS, NIGHT_MS + 30 * MIN)
    sim.close_road("a142_ely_exning", NIGHT_MS, NIGHT_MS + 30 * MIN)
    start_truck(sim)
    sim.advance_to(NIGHT_MS + 10 * MIN)
    assert sim.vehicle_state("truck-1").status is VehicleStatus.STRANDED
    sim.advance_to(NIGHT_MS + 32 * MIN)
    assert sim.vehicle_state("truck-1").status is VehicleStatus.DRIVING


def test_flags_are_reported_inside_their_window_only(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    sim.raise_flag("supplier_silence", "supplier_newmarket", NIGHT_MS + MIN, NIGHT_MS + 10 * MIN)
    assert sim.active_flags() == []
    assert [f.subject for f in sim.active_flags(NIGHT_MS + 5 * MIN)] == ["supplier_newmarket"]
    assert sim.active_flags(NIGHT_MS + 10 * MIN) == []


def test_every_batch_passes_the_apis_plausibility_rules(graph: RoadGraph) -> None:
    sim = Simulator(graph, seed=3, start_ms=NIGHT_MS, traffic=TrafficParams(potholes_per_km=2.0))
    start_truck(sim, loading_ms=10 * MIN)
    sim.fail_compressor("truck-1", 1.0, after_km=3)
    by_device: dict[str, list] = defaultdict(list)
    for sample in sim.advance_to(NIGHT_MS + 90 * MIN):
        by_device[sample.device_id].append(sample.reading)
    limits = Limits(now_ms=NIGHT_MS + 90 * MIN, max_future_ms=0, max_speed_kmh=250)
    for readings in by_device.values():
        assert check_batch(readings, None, {}, limits) == []


def test_adding_another_vehicle_leaves_the_first_ones_readings_unchanged(graph: RoadGraph) -> None:
    def readings(extra: bool) -> list:
        sim = Simulator(graph, seed=11, start_ms=NIGHT_MS)
        start_truck(sim)
        if extra:
            start_truck(
                sim, origin="supplier_newmarket", destination="retailer_histon", vehicle="t2", shipment="s2"
            )
        return [s.reading for s in sim.advance_to(NIGHT_MS + 40 * MIN) if s.shipment_id == "ship-1"]

    assert readings(False) == readings(True)


def test_vehicle_state_reports_the_planned_arrival(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim)
    sim.advance_to(NIGHT_MS + 2 * MIN)
    state = sim.vehicle_state("truck-1")
    planned = graph.shortest_path("supplier_ely", "wholesaler_cambridge").travel_s
    assert state.eta_ms == pytest.approx(NIGHT_MS + 1000 + planned * 1000, abs=2000)
    assert state.remaining_m < graph.shortest_path("supplier_ely", "wholesaler_cambridge").length_m
    sim.advance_to(NIGHT_MS + 30 * MIN)
    assert sim.vehicle_state("truck-1").eta_ms is None


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (lambda sim: sim.shock("truck-1", 0), "milli_g must be in 1..200000"),
        (lambda sim: sim.open_door("truck-1", 0), "duration_ms must be > 0"),
        (lambda sim: sim.handoff("ship-1", "truck-1", dwell_ms=0), "dwell_ms must be > 0"),
        (
            lambda sim: sim.start_shipment(
                "s9",
                "truck-1",
                origin="retailer_histon",
                destination="retailer_histon",
                setpoint_c=2,
                product="x",
                mass_kg=1,
            ),
            "origin and destination are both retailer_histon",
        ),
        (
            lambda sim: sim.start_shipment(
                "ship-1",
                "truck-1",
                origin="supplier_ely",
                destination="retailer_histon",
                setpoint_c=2,
                product="x",
                mass_kg=1,
            ),
            "shipment 'ship-1' exists already",
        ),
        (
            lambda sim: sim.add_vehicle("truck-1", carrier="c", at="supplier_ely"),
            "vehicle 'truck-1' exists already",
        ),
    ],
)
def test_bad_commands_are_refused(
    graph: RoadGraph, command: Callable[[Simulator], object], message: str
) -> None:
    sim = quiet_world(graph)
    start_truck(sim)
    with pytest.raises(SimError, match=message):
        command(sim)


def test_a_shipment_not_yet_loaded_cannot_be_handed_over(graph: RoadGraph) -> None:
    sim = quiet_world(graph)
    start_truck(sim)
    sim.add_vehicle("van-2", carrier="c", at="supplier_ely")
    with pytest.raises(SimError, match="shipment ship-1 is not on a vehicle"):
        sim.handoff("ship-1", "van-2")
