from __future__ import annotations

import csv
import threading
import time
from pathlib import Path

from offchain.sim.roads import RoadGraph
from offchain.sim.runner import CSV_COLUMNS, MS_PER_MIN, CsvSink, MemorySink, build_simulator, run
from offchain.sim.scenario import load_scenario
from offchain.sim.world import VehicleStatus

from .conftest import SCENARIOS


def run_to_csv(graph: RoadGraph, scenario_name: str, seed: int, out: Path) -> bytes:
    scenario = load_scenario(SCENARIOS / scenario_name, graph)
    sim = build_simulator(scenario, graph, seed)
    run(sim, scenario.start_ms + round(scenario.duration_min * MS_PER_MIN), [CsvSink(out)])
    return out.read_bytes()


def test_same_seed_and_scenario_give_byte_identical_readings(graph: RoadGraph, tmp_path: Path) -> None:
    first = run_to_csv(graph, "default.yaml", 7, tmp_path / "a.csv")
    second = run_to_csv(graph, "default.yaml", 7, tmp_path / "b.csv")
    assert first == second
    assert first.count(b"\n") > 60


def test_another_seed_gives_other_readings(graph: RoadGraph, tmp_path: Path) -> None:
    assert run_to_csv(graph, "default.yaml", 7, tmp_path / "a.csv") != run_to_csv(
        graph, "default.yaml", 8, tmp_path / "b.csv"
    )


def test_the_csv_has_the_replay_columns(graph: RoadGraph, tmp_path: Path) -> None:
    run_to_csv(graph, "road_closure.yaml", 7, tmp_path / "r.csv")
    with (tmp_path / "r.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {row["device"] for row in rows} == {"logger-ship-10"}


def test_default_scenario_breaches_the_band_after_the_failure_and_recovers_after_handover(
    graph: RoadGraph,
) -> None:
    scenario = load_scenario(SCENARIOS / "default.yaml", graph)
    sim = build_simulator(scenario, graph, 7)
    sink = MemorySink()
    run(sim, scenario.start_ms + round(scenario.duration_min * MS_PER_MIN), [sink])
    failed_at = next(e.ts_ms for e in sim.events if e.kind == "compressor_failure")
    handed_at = next(e.ts_ms for e in sim.events if e.kind == "handoff")
    on_truck = [s.reading for s in sink.samples if failed_at < s.reading.ts_ms <= handed_at]
    driving_van = [
        s.reading.temp_centi_c
        for s in sink.samples
        if s.vehicle_id == "van-2"
        and s.reading.light_lux == 0
        and s.reading.ts_ms > handed_at + 20 * MS_PER_MIN  # doors shut, the working unit has pulled down
    ]
    assert max(r.temp_centi_c for r in on_truck) > 600  # above 6 C with the unit dead
    assert on_truck[-2].temp_centi_c > on_truck[0].temp_centi_c + 150  # a rise, not a blip
    assert driving_van and max(driving_van) < 500
    assert sim.delivered("ship-1") is not None


def test_a_carrier_no_show_raises_the_flag_and_the_van_never_moves(graph: RoadGraph) -> None:
    scenario = load_scenario(SCENARIOS / "wholesale_no_show.yaml", graph)
    sim = build_simulator(scenario, graph, 7)
    sink = MemorySink()
    run(sim, scenario.start_ms + round(scenario.duration_min * MS_PER_MIN), [sink])
    assert [(f.kind, f.subject) for f in sim.active_flags()] == [("carrier_no_show", "ship-21")]
    state = sim.vehicle_state("van-4")
    assert (state.status, state.odometer_m) == (VehicleStatus.IDLE, 0.0)
    assert {s.shipment_id for s in sink.samples} == {"ship-20"}


def test_scripted_door_opening_and_dropped_pallet_show_in_the_readings(graph: RoadGraph) -> None:
    scenario = load_scenario(SCENARIOS / "wholesale_no_show.yaml", graph)
    sim = build_simulator(scenario, graph, 7)
    sink = MemorySink()
    run(sim, scenario.start_ms + round(scenario.duration_min * MS_PER_MIN), [sink])
    by_minute = {(s.reading.ts_ms - scenario.start_ms) // MS_PER_MIN: s.reading for s in sink.samples}
    assert all(by_minute[m].light_lux > 0 for m in (26, 27, 28, 29))  # door open from minute 25 for 4
    assert by_minute[46].shock_milli_g == 9500  # dropped while unloading at the store


def test_supplier_silence_is_flagged_only_in_its_window(graph: RoadGraph) -> None:
    scenario = load_scenario(SCENARIOS / "road_closure.yaml", graph)
    sim = build_simulator(scenario, graph, 7)
    start = scenario.start_ms
    assert sim.active_flags(start + 10 * MS_PER_MIN) == []
    assert [f.subject for f in sim.active_flags(start + 30 * MS_PER_MIN)] == ["supplier_newmarket"]
    assert sim.active_flags(start + 80 * MS_PER_MIN) == []


def test_the_run_ends_once_everything_is_delivered(graph: RoadGraph) -> None:
    scenario = load_scenario(SCENARIOS / "road_closure.yaml", graph)
    sim = build_simulator(scenario, graph, 7)
    summary = run(sim, scenario.start_ms + round(scenario.duration_min * MS_PER_MIN), [MemorySink()])
    assert summary.sim_minutes < scenario.duration_min
    assert summary.delivered["ship-10"] is not None


def test_the_speed_factor_paces_simulated_time_against_the_wall_clock(graph: RoadGraph) -> None:
    scenario = load_scenario(SCENARIOS / "default.yaml", graph)
    sim = build_simulator(scenario, graph, 7)
    began = time.monotonic()
    summary = run(sim, scenario.start_ms + 3 * MS_PER_MIN, [MemorySink()], speed=600)  # 180 s at 600x
    assert time.monotonic() - began >= 0.28
    assert summary.sim_minutes == 3


def test_a_stop_request_ends_the_run_and_closes_the_sinks(graph: RoadGraph, tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "default.yaml", graph)
    sim = build_simulator(scenario, graph, 7)
    stop = threading.Event()
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    try:
        summary = run(
            sim, scenario.start_ms + 240 * MS_PER_MIN, [CsvSink(tmp_path / "x.csv")], speed=60, stop=stop
        )
    finally:
        timer.cancel()
    assert summary.interrupted and summary.sim_minutes < 2
    assert (tmp_path / "x.csv").read_text().startswith("ts,shipment,device,vehicle")
