"""On-chain places (bytes32 labels such as ``u120-xdock-cambourne``: a geohash prefix, then a name) resolved
to nodes of the simulator's road graph, so the planned route of a leg can be drawn.

A label resolves to the node whose id it is (agents that name road-graph nodes on chain), else to the node
whose id shares the most name words with the label (``xdock-cambourne`` → ``crossdock_cambourne``; places
before junctions, then nearest the geohash cell's centre), else to the node nearest the centre of its geohash
cell. A label with neither a matching name nor a node in its cell is unresolved (no planned route drawn).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from offchain.sim.geo import haversine_m
from offchain.sim.roads import Node, RoadGraph, Route

GEOHASH_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz"


def label(place: bytes) -> str:
    """The text of a bytes32 place label (trailing zero bytes dropped)."""
    return place.rstrip(b"\0").decode("utf-8", errors="replace")


def geohash_box(code: str) -> tuple[float, float, float, float] | None:
    """(lat_min, lat_max, lon_min, lon_max) of a geohash, None when `code` is not one."""
    lat, lon = [-90.0, 90.0], [-180.0, 180.0]
    even = True
    for char in code:
        index = GEOHASH_ALPHABET.find(char)
        if index < 0:
            return None
        for bit in range(4, -1, -1):
            interval = lon if even else lat
            middle = (interval[0] + interval[1]) / 2
            if index >> bit & 1:
                interval[0] = middle
            else:
                interval[1] = middle
            even = not even
    return lat[0], lat[1], lon[0], lon[1]


@dataclass(frozen=True)
class ResolvedPlace:
    label: str
    node: Node


def _words(text: str) -> set[str]:
    return set(re.split(r"[-_ ]", text.lower())) - {""}


def resolve(graph: RoadGraph, text: str) -> ResolvedPlace | None:
    if text in graph.nodes:
        return ResolvedPlace(text, graph.nodes[text])
    prefix, _, rest = text.partition("-")
    box = geohash_box(prefix) if rest else None
    words = _words(rest if box is not None else text)
    centre = ((box[0] + box[1]) / 2, (box[2] + box[3]) / 2) if box is not None else None

    def distance(node: Node) -> float:
        return haversine_m(node.lat, node.lon, *centre) if centre is not None else 0.0

    # Name words first: hand-written labels carry a rough geohash, but their names are meant.
    named = [n for n in graph.nodes.values() if words & _words(n.id)]
    if named:
        best = min(named, key=lambda n: (-len(words & _words(n.id)), n.kind == "junction", distance(n)))
        return ResolvedPlace(text, best)
    if box is None:
        return None
    inside = [n for n in graph.nodes.values() if box[0] <= n.lat <= box[1] and box[2] <= n.lon <= box[3]]
    if not inside:
        return None
    return ResolvedPlace(text, min(inside, key=distance))


def planned_route(graph: RoadGraph, origin: str, destination: str) -> Route | None:
    """The fastest road route between two on-chain places, None when either does not resolve."""
    start, end = resolve(graph, origin), resolve(graph, destination)
    if start is None or end is None or start.node.id == end.node.id:
        return None
    return graph.shortest_path(start.node.id, end.node.id)


def route_points(route: Route) -> list[tuple[float, float]]:
    """(lon, lat) along the route's polylines, in driving order (pydeck's coordinate order)."""
    points: list[tuple[float, float]] = []
    for leg in route.legs:
        polyline = leg.edge.points if leg.forward else tuple(reversed(leg.edge.points))
        for lat, lon in polyline:
            if not points or points[-1] != (lon, lat):
                points.append((lon, lat))
    return points
