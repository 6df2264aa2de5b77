"""Agent configs generated from a scenario: scenario faults become agent knobs, demand becomes the retailer's
first order, `config:` is merged last, and every generated file is a valid offchain/agents config."""

from __future__ import annotations

from pathlib import Path

import pytest

from offchain.agents.config import load_config
from offchain.scenario.agentcfg import AgentConfigError, agent_config, write_agent_configs
from offchain.scenario.approvals import approvers_by_organisation, people, person_account
from offchain.sim.roads import RoadGraph
from offchain.sim.scenario import Scenario, load_scenario, parse_scenario

from .conftest import SCENARIOS, default_scenario


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


@pytest.mark.parametrize("path", sorted(SCENARIOS.rglob("*.yaml")), ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_every_shipped_scenario_gives_valid_agent_configs(graph: RoadGraph, path: Path, tmp_path: Path) -> None:
    """Including the long ones (not played in CI): a config mistake there shows up here."""
    s = load_scenario(path, graph)
    approvers = approvers_by_organisation(people(s.approvers, s.organisations), 31337)
    for name, config in write_agent_configs(s, path.name, tmp_path, approvers).items():
        assert load_config(config).name == name


def test_a_person_who_approves_for_an_organisation_is_its_approver(graph: RoadGraph, tmp_path: Path) -> None:
    s = load_scenario(SCENARIOS / "award_approval.yaml", graph)
    approvers = approvers_by_organisation(people(s.approvers, s.organisations), 31337)
    paths = write_agent_configs(s, "award_approval.yaml", tmp_path, approvers)
    config = load_config(paths["wholesaler-cambridge"])
    assert config.approvals.approvers == [person_account(0, 31337).address]
    assert config.approvals.award_value_limit == 1_000_000_000


def test_a_retailers_demand_profile_reaches_its_agent(graph: RoadGraph, tmp_path: Path) -> None:
    s = load_scenario(SCENARIOS / "long" / "retail_day.yaml", graph)
    config = load_config(write_agent_configs(s, "retail_day.yaml", tmp_path, None)["retailer-histon"])
    (profile,) = config.demand_profiles
    assert (profile.product, profile.mean_per_day, profile.seed) == ("beef-chilled", 70, 12)
