from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from offchain.sim.roads import RoadGraph
from offchain.sim.scenario import ScenarioError, load_scenario, parse_scenario

from .conftest import SCENARIOS


def minimal() -> dict[str, Any]:
    return {
        "name": "t",
        "start": "2026-06-15T07:00:00Z",
        "duration_min": 60,
        "vehicles": [{"id": "truck-1", "carrier": "c", "start_at": "supplier_ely"}],
        "shipments": [
            {
                "id": "ship-1",
                "origin": "supplier_ely",
                "destination": "wholesaler_cambridge",
                "vehicle": "truck-1",
                "setpoint_c": 2,
                "cargo": {"product": "beef", "mass_kg": 500},
            }
        ],
    }


def write(tmp_path: Path, data: object, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_loads(path: Path, graph: RoadGraph) -> None:
    assert load_scenario(path, graph).shipments


def test_the_default_scenario_fails_a_compressor_on_leg_one(graph: RoadGraph) -> None:
    scenario = load_scenario(SCENARIOS / "default.yaml", graph)
    (failure,) = [f for f in scenario.faults if f.kind == "compressor_failure"]
    assert failure.vehicle == scenario.shipments[0].vehicle


def test_an_unknown_vehicle_names_file_and_field(tmp_path: Path, graph: RoadGraph) -> None:
    data = minimal()
    data["faults"] = [{"kind": "compressor_failure", "vehicle": "truck-9", "at_min": 5}]
    with pytest.raises(
        ScenarioError, match=r"^s\.yaml: faults\.0\.vehicle: unknown vehicle 'truck-9' \(known: truck-1\)"
    ):
        load_scenario(write(tmp_path, data), graph)


def test_an_unknown_place_names_the_field(tmp_path: Path, graph: RoadGraph) -> None:
    data = minimal()
    data["shipments"][0]["destination"] = "atlantis"
    with pytest.raises(ScenarioError, match=r"s\.yaml: shipments\.0\.destination: unknown place 'atlantis'"):
        load_scenario(write(tmp_path, data), graph)


def test_an_unknown_edge_in_a_closure_is_named(graph: RoadGraph) -> None:
    data = minimal()
    data["faults"] = [{"kind": "road_closure", "edge": "a99"}]
    with pytest.raises(ScenarioError, match=r"faults\.0\.edge: unknown edge 'a99'"):
        parse_scenario(data, graph)


def test_a_missing_field_is_named(graph: RoadGraph) -> None:
    data = minimal()
    del data["shipments"][0]["setpoint_c"]
    with pytest.raises(ScenarioError, match=r"<scenario>: shipments\.0\.setpoint_c: Field required"):
        parse_scenario(data, graph)


def test_every_error_is_reported_at_once(graph: RoadGraph) -> None:
    data = minimal()
    data["shipments"][0]["origin"] = "nowhere"
    data["vehicles"][0]["start_at"] = "elsewhere"
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data, graph)
    assert "vehicles.0.start_at" in str(caught.value) and "shipments.0.origin" in str(caught.value)


def test_a_failure_needs_exactly_one_trigger(graph: RoadGraph) -> None:
    data = minimal()
    data["faults"] = [{"kind": "compressor_failure", "vehicle": "truck-1", "at_min": 5, "after_km": 3}]
    with pytest.raises(
        ScenarioError, match=r"faults\.0\.compressor_failure: .*exactly one of at_min and after_km"
    ):
        parse_scenario(data, graph)


def test_a_closure_must_end_after_it_starts(graph: RoadGraph) -> None:
    data = minimal()
    data["faults"] = [{"kind": "road_closure", "edge": "a10_stretham_ely", "from_min": 30, "to_min": 10}]
    with pytest.raises(ScenarioError, match="to_min must be after from_min"):
        parse_scenario(data, graph)


def test_an_unknown_fault_kind_is_refused(graph: RoadGraph) -> None:
    data = minimal()
    data["faults"] = [{"kind": "alien_abduction", "vehicle": "truck-1"}]
    with pytest.raises(ScenarioError, match=r"faults\.0: Input tag 'alien_abduction'"):
        parse_scenario(data, graph)


def test_a_misspelt_key_is_refused(graph: RoadGraph) -> None:
    data = minimal()
    data["shipments"][0]["setpont_c"] = 3
    with pytest.raises(ScenarioError, match=r"shipments\.0\.setpont_c: Extra inputs are not permitted"):
        parse_scenario(data, graph)


def test_a_start_without_timezone_is_refused(graph: RoadGraph) -> None:
    data = minimal()
    data["start"] = "2026-06-15T07:00:00"
    with pytest.raises(ScenarioError, match="start: Value error, start needs a timezone"):
        parse_scenario(data, graph)


def test_a_handover_to_its_own_vehicle_is_refused(graph: RoadGraph) -> None:
    data = minimal()
    data["shipments"][0]["handover"] = {"at": "crossdock_bar_hill", "to_vehicle": "truck-1"}
    with pytest.raises(
        ScenarioError, match=r"shipments\.0\.handover\.to_vehicle: hands over to its own vehicle"
    ):
        parse_scenario(data, graph)


def test_duplicate_ids_are_refused(graph: RoadGraph) -> None:
    data = minimal()
    data["vehicles"].append(dict(data["vehicles"][0]))
    with pytest.raises(ScenarioError, match="vehicles: duplicate vehicle id"):
        parse_scenario(data, graph)


def test_invalid_yaml_names_the_file(tmp_path: Path, graph: RoadGraph) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed")
    with pytest.raises(ScenarioError, match=r"broken\.yaml: not valid YAML"):
        load_scenario(path, graph)


def test_a_list_at_the_top_is_refused(tmp_path: Path, graph: RoadGraph) -> None:
    with pytest.raises(ScenarioError, match=r"s\.yaml: \(top level\): expected a mapping, got list"):
        load_scenario(write(tmp_path, [1, 2]), graph)


def test_a_missing_file_is_named(tmp_path: Path, graph: RoadGraph) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.yaml: cannot read"):
        load_scenario(tmp_path / "nope.yaml", graph)
