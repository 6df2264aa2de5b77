"""The Shipments page: map, charts, custody chain and delivery report from the real chain and API."""

from __future__ import annotations

import json

from tests.frontend.apptest import open_page


def _deck(at):
    return json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def test_map_draws_the_planned_route_the_trail_and_the_vehicle(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "shipments")
    assert not at.exception
    layers = {layer["id"]: layer for layer in _deck(at)["layers"]}
    assert {"planned-0", "planned-1", "trail", "vehicles", "places", "other-vehicles"} <= set(layers)
    assert len(layers["trail"]["data"][0]["path"]) == world.readings
    others = layers["other-vehicles"]["data"]
    assert [o["name"] for o in others] == [f"shipment {world.summary['funded_twin']} (logger-dapp-2)"]


def test_charts_show_each_metric_with_its_sla_band_and_the_verdict_window(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "shipments")
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4
    spec = json.loads(charts[0].proto.spec)
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]
    assert marks == ["rect", "rect", "line"]  # SLA band, verdict window, temperature


def test_custody_chain_lists_who_held_the_shipment(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "shipments")
    custody = at.dataframe[0].value
    accepted = custody[custody["step"] == "accepted"]
    holders = [*world.summary["carriers"], world.summary["wholesaler"]]
    # named by the registry (roles and short address: the scripted partners register no agent name)
    assert len(accepted) == len(holders)
    assert all(f"{a[:6]}…{a[-4:]}" in shown for a, shown in zip(holders, accepted["to"], strict=True))
    assert accepted["to"].iloc[-1].startswith("wholesaler")
    assert list(accepted["place"]) == ["gcrf-farm-ely", "u120-xdock-cambourne", "u12j-wholesale-cambridge"]


def test_delivery_report_is_written_and_linked(world, monkeypatch, tmp_path) -> None:
    at = open_page(world, monkeypatch, "shipments", ASC_DAPP_REPORT_DIR=str(tmp_path))
    assert not at.exception
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and files[0].endswith(".html") and files[1].endswith(".md"), files
    text = (tmp_path / files[1]).read_text()
    for heading in (
        "## Route",
        "## Durations",
        "## Sensor statistics",
        "## Excursions",
        "## Verdicts",
        "## Penalties",
        "## Settlement",
    ):
        assert heading in text
    assert "| temperature |" in text  # the excursion the readings carry
    assert "buyer refund 300.00" in text
