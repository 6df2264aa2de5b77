"""On-chain place labels resolved to the road graph, and planned routes between them."""

from __future__ import annotations

import pytest

from frontend.places import geohash_box, label, planned_route, resolve, route_points
from offchain.sim.roads import RoadGraph


@pytest.fixture(scope="module")
def graph() -> RoadGraph:
    return RoadGraph.load()


def test_label_drops_the_padding() -> None:
    assert label(b"u120-xdock-cambourne".ljust(32, b"\0")) == "u120-xdock-cambourne"


def test_geohash_box_of_a_known_cell() -> None:
    lat_min, lat_max, lon_min, lon_max = geohash_box("u120")  # type: ignore[misc]
    assert (lat_min, lat_max, lon_min, lon_max) == (52.03125, 52.20703125, 0.0, 0.3515625)


def test_geohash_box_rejects_other_letters() -> None:
    assert geohash_box("uail") is None  # a, i, l are not in the geohash alphabet


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("supplier_ely", "supplier_ely"),  # a node id as it is
        ("gcrf-farm-ely", "supplier_ely"),  # a name word; the place beats the junction of the same town
        ("u120-xdock-cambourne", "crossdock_cambourne"),
        ("u12j-wholesale-cambridge", "wholesaler_cambridge"),
        ("u120-somewhere", "m11_j10"),  # no name word: the node nearest the centre of the geohash cell
    ],
)
def test_resolve(graph, text, node) -> None:
    found = resolve(graph, text)
    assert found is not None and found.node.id == node


def test_unresolvable_labels(graph) -> None:
    assert resolve(graph, "nowhere") is None
    assert resolve(graph, "s000-atlantic") is None  # a cell without any node


def test_planned_route_follows_the_roads_from_origin_to_destination(graph) -> None:
    route = planned_route(graph, "gcrf-farm-ely", "u120-xdock-cambourne")
    assert route is not None
    assert route.node_ids[0] == "supplier_ely" and route.node_ids[-1] == "crossdock_cambourne"
    points = route_points(route)
    start, end = graph.node("supplier_ely"), graph.node("crossdock_cambourne")
    assert points[0] == (start.lon, start.lat) and points[-1] == (end.lon, end.lat)
    assert len(points) == len(set(points))  # no repeated joints between edges


def test_no_route_when_a_place_is_unknown_or_the_same(graph) -> None:
    assert planned_route(graph, "nowhere", "u120-xdock-cambourne") is None
    assert planned_route(graph, "supplier_ely", "gcrf-farm-ely") is None
