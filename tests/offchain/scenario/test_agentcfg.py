"""Agent configs generated from a scenario: scenario faults become agent knobs, demand becomes the retailer's
first order, `config:` is merged last, and every generated file is a valid offchain/agents config."""

from __future__ import annotations

from pathlib import Path

import pytest

from offchain.agents.config import load_config
from offchain.scenario.agentcfg import AgentConfigError, agent_config, write_agent_configs
from offchain.sim.roads import RoadGraph
from offchain.sim.scenario import Scenario, parse_scenario

from .conftest import default_scenario


@pytest.fixture(scope="module")
def graph() -> RoadGraph:
    return RoadGraph.load()


def scenario(graph: RoadGraph, **changes: object) -> Scenario:
    return parse_scenario(default_scenario() | changes, graph, "test.yaml")


def test_every_generated_config_loads_as_an_agent_config(graph: RoadGraph, tmp_path: Path) -> None:
    paths = write_agent_configs(scenario(graph), "test.yaml", tmp_path, approvers=None)
    assert sorted(paths) == sorted(o["name"] for o in default_scenario()["organisations"])
    assert load_config(paths["fenland-haulage"]).fleet.carrier_name == "fenland-haulage"  # type: ignore[union-attr]


def test_supplier_silence_at_a_suppliers_place_makes_it_silent(graph: RoadGraph) -> None:
    s = scenario(graph, faults=[{"kind": "supplier_silence", "supplier": "supplier_newmarket"}])
    assert agent_config(s, s.organisation("supplier-newmarket"), None)["faults"]["silent"]
    assert not agent_config(s, s.organisation("supplier-ely"), None)["faults"]["silent"]


def test_carrier_no_show_makes_that_carrier_no_show(graph: RoadGraph) -> None:
    s = scenario(graph, faults=[{"kind": "carrier_no_show", "carrier": "city-chill"}])
    assert agent_config(s, s.organisation("city-chill"), None)["faults"]["no_show"]
    assert not agent_config(s, s.organisation("fenland-haulage"), None)["faults"]["no_show"]


def test_demand_becomes_the_retailers_first_order(graph: RoadGraph) -> None:
    s = scenario(graph)
    product = agent_config(s, s.organisation("retailer-mill-road"), None)["products"][0]
    assert (product["initial_stock"], product["reorder_point"], product["order_quantity"]) == (0, 30, 30)


def test_config_is_merged_key_by_key(graph: RoadGraph) -> None:
    s = scenario(graph)
    buying = agent_config(s, s.organisation("wholesaler-cambridge"), None)["buying"]
    assert buying["commit_s"] == 900 and buying["sla"] == {"excursion_grace_s": 600}


def test_approvals_name_the_approver(graph: RoadGraph) -> None:
    data = default_scenario()
    data["organisations"][4]["approvals"] = {"award_limit": 10, "verdict_severity": 3}
    s = parse_scenario(data, graph, "test.yaml")
    approver = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"
    approvals = agent_config(s, s.organisation("cam-logistics"), [approver])["approvals"]
    assert approvals == {"approvers": [approver], "award_value_limit": 10, "verdict_severity": 3}


def test_an_invalid_agent_config_names_file_organisation_and_field(graph: RoadGraph, tmp_path: Path) -> None:
    data = default_scenario()
    data["organisations"][2]["config"] = {"buying": {"commit_s": 0}}
    with pytest.raises(AgentConfigError, match=r"test.yaml: organisations.2 \(wholesaler-cambridge\).*buying.commit_s"):
        write_agent_configs(parse_scenario(data, graph, "test.yaml"), "test.yaml", tmp_path, approvers=None)
