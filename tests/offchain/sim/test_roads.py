from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

import pytest

from offchain.sim.environment import traffic_factor
from offchain.sim.geo import haversine_m
from offchain.sim.roads import NoRouteError, RoadDataError, RoadGraph, UnknownPlaceError

DATA = Path(__file__).resolve().parents[3] / "offchain" / "sim" / "data" / "cambridge_roads.json"
# Cambridgeshire and the Essex border: everything the demo needs lies in this box.
LAT_RANGE, LON_RANGE = (51.95, 52.45), (-0.15, 0.50)


def test_coordinates_have_at_least_five_decimals() -> None:
    numbers = re.findall(r"-?\d+\.\d+", DATA.read_text())
    short = [n for n in numbers if len(n.split(".")[1]) < 5 and abs(float(n)) < 90]
    # speed limits are integers, so every decimal number in the file is a coordinate
    assert numbers and not short


def test_every_point_lies_around_cambridge(graph: RoadGraph) -> None:
    points = [(n.lat, n.lon) for n in graph.nodes.values()] + [
        p for e in graph.edges.values() for p in e.points
    ]
    outside = [
        p for p in points if not (LAT_RANGE[0] < p[0] < LAT_RANGE[1] and LON_RANGE[0] < p[1] < LON_RANGE[1])
    ]
    assert outside == []


def test_consecutive_waypoints_are_plausibly_spaced(graph: RoadGraph) -> None:
    for edge in graph.edges.values():
        for a, b in pairwise(edge.points):
            gap = haversine_m(*a, *b)
            assert 100 <= gap <= 2500, f"{edge.id}: {gap:.0f} m between {a} and {b}"


def test_edge_lengths_are_close_to_the_straight_line(graph: RoadGraph) -> None:
    for edge in graph.edges.values():
        straight = haversine_m(*edge.points[0], *edge.points[-1])
        assert 1.0 <= edge.length_m / straight <= 1.3, edge.id


def test_the_file_says_where_coordinates_come_from() -> None:
    about = json.loads(DATA.read_text())["about"]
    assert "knowledge of the roads" in about and "approximate" in about


def test_every_place_reaches_every_other(graph: RoadGraph) -> None:
    origin = "supplier_ely"
    for node_id in graph.nodes:
        if node_id != origin:
            assert graph.shortest_path(origin, node_id).legs


def test_ely_to_the_wholesaler_takes_the_a10(graph: RoadGraph) -> None:
    route = graph.shortest_path("supplier_ely", "wholesaler_cambridge")
    assert route.node_ids == [
        "supplier_ely",
        "ely_a10_south",
        "stretham",
        "waterbeach_a10",
        "milton_j33",
        "wholesaler_cambridge",
    ]
    assert 19_000 < route.length_m < 22_000


def test_route_legs_join_end_to_start(graph: RoadGraph) -> None:
    route = graph.shortest_path("supplier_newmarket", "crossdock_cambourne")
    for first, second in pairwise(route.legs):
        assert first.end_id == second.start_id
    assert route.legs[-1].position(route.legs[-1].length_m) == pytest.approx(
        (graph.nodes["crossdock_cambourne"].lat, graph.nodes["crossdock_cambourne"].lon)
    )


def test_travel_time_uses_goods_vehicle_speed_caps(graph: RoadGraph) -> None:
    route = graph.shortest_path("m11_j11", "m11_j10", vehicle_max_kmh=130)
    # motorway limit 112 km/h, capped at 90 km/h for a heavy goods vehicle
    assert route.travel_s == pytest.approx(route.length_m / (90 / 3.6))


def test_a_closed_a10_sends_the_truck_round_by_the_a142_and_a14(graph: RoadGraph) -> None:
    route = graph.shortest_path(
        "supplier_ely", "wholesaler_cambridge", closed=frozenset({"a10_waterbeach_stretham"})
    )
    assert "a10_waterbeach_stretham" not in {leg.edge.id for leg in route.legs}
    assert route.node_ids[:2] == ["supplier_ely", "exning_j37"]


def test_closing_every_road_out_raises_no_route(graph: RoadGraph) -> None:
    closed = frozenset({"a10_ely_approach", "a142_ely_exning"})
    with pytest.raises(NoRouteError, match="no open road from supplier_ely to wholesaler_cambridge"):
        graph.shortest_path("supplier_ely", "wholesaler_cambridge", closed=closed)


def test_unknown_place_lists_the_known_ones(graph: RoadGraph) -> None:
    with pytest.raises(UnknownPlaceError, match=r"unknown place 'atlantis'.*supplier_ely"):
        graph.shortest_path("atlantis", "supplier_ely")


def test_rush_hour_makes_the_route_slower(graph: RoadGraph) -> None:
    free = graph.shortest_path("supplier_ely", "retailer_city_centre")
    peak_ms = 1_781_510_400_000  # 2026-06-15 08:00 UTC
    peak = graph.shortest_path(
        "supplier_ely", "retailer_city_centre", speed_factor=lambda cls: traffic_factor(cls, peak_ms)
    )
    assert peak.travel_s > free.travel_s * 1.3


def test_an_edge_to_an_unknown_node_is_rejected() -> None:
    data = {
        "nodes": [{"id": "a", "name": "A", "kind": "junction", "lat": 52.1, "lon": 0.1}],
        "edges": [
            {
                "id": "e",
                "from": "a",
                "to": "b",
                "road": "A1",
                "class": "trunk",
                "speed_limit_kmh": 96,
                "waypoints": [],
            }
        ],
    }
    with pytest.raises(RoadDataError, match="edge 'e' names unknown node 'b'"):
        RoadGraph.from_dict(data)


def test_a_duplicate_node_is_rejected() -> None:
    node = {"id": "a", "name": "A", "kind": "junction", "lat": 52.1, "lon": 0.1}
    with pytest.raises(RoadDataError, match="node 'a' is defined twice"):
        RoadGraph.from_dict({"nodes": [node, node], "edges": []})


def test_a_malformed_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "roads.json"
    bad.write_text('{"nodes": []}')
    with pytest.raises(RoadDataError, match=r"roads.json: 'edges'"):
        RoadGraph.load(bad)
