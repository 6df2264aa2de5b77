"""The road graph shipped with the package, and shortest paths by travel time with road closures."""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

from .geo import haversine_m


class RoadClass(StrEnum):
    MOTORWAY = "motorway"
    TRUNK = "trunk"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    URBAN = "urban"


# UK limits for goods vehicles over 7.5 t (motorway 56 mph on the limiter, dual carriageway 50 mph,
# single carriageway 50 mph since 2015); urban roads keep their posted limit.
HGV_CAP_KMH: dict[RoadClass, float] = {
    RoadClass.MOTORWAY: 90.0,
    RoadClass.TRUNK: 80.0,
    RoadClass.PRIMARY: 80.0,
    RoadClass.SECONDARY: 80.0,
    RoadClass.URBAN: 64.0,
}


class RoadDataError(ValueError):
    """The road graph file is inconsistent; the message names the node or edge."""


class UnknownPlaceError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class NoRouteError(RuntimeError):
    """No open road connects the two places."""


@dataclass(frozen=True)
class Node:
    id: str
    name: str
    kind: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Edge:
    id: str
    from_id: str
    to_id: str
    road: str
    road_class: RoadClass
    speed_limit_kmh: float
    points: tuple[tuple[float, float], ...]  # from-node, waypoints, to-node
    cumulative_m: tuple[float, ...] = field(repr=False)

    @property
    def length_m(self) -> float:
        return self.cumulative_m[-1]

    def hgv_speed_kmh(self, vehicle_max_kmh: float) -> float:
        return min(self.speed_limit_kmh, HGV_CAP_KMH[self.road_class], vehicle_max_kmh)


@dataclass(frozen=True)
class Leg:
    """An edge driven in one direction."""

    edge: Edge
    forward: bool

    @property
    def start_id(self) -> str:
        return self.edge.from_id if self.forward else self.edge.to_id

    @property
    def end_id(self) -> str:
        return self.edge.to_id if self.forward else self.edge.from_id

    @property
    def length_m(self) -> float:
        return self.edge.length_m

    def position(self, distance_m: float) -> tuple[float, float]:
        """The point `distance_m` along the leg in its driving direction."""
        edge = self.edge
        along = distance_m if self.forward else edge.length_m - distance_m
        along = min(max(along, 0.0), edge.length_m)
        cumulative = edge.cumulative_m
        for i in range(1, len(cumulative)):
            if along <= cumulative[i] or i == len(cumulative) - 1:
                span = cumulative[i] - cumulative[i - 1]
                t = 0.0 if span == 0 else (along - cumulative[i - 1]) / span
                (lat1, lon1), (lat2, lon2) = edge.points[i - 1], edge.points[i]
                return lat1 + (lat2 - lat1) * t, lon1 + (lon2 - lon1) * t
        raise AssertionError("unreachable: an edge has at least two points")


@dataclass(frozen=True)
class Route:
    legs: tuple[Leg, ...]
    travel_s: float

    @property
    def length_m(self) -> float:
        return sum(leg.length_m for leg in self.legs)

    @property
    def node_ids(self) -> list[str]:
        return [self.legs[0].start_id, *(leg.end_id for leg in self.legs)] if self.legs else []


class RoadGraph:
    def __init__(self, nodes: Iterable[Node], edges: Iterable[Edge]) -> None:
        self.nodes: dict[str, Node] = {}
        for node in nodes:
            if node.id in self.nodes:
                raise RoadDataError(f"node {node.id!r} is defined twice")
            self.nodes[node.id] = node
        self.edges: dict[str, Edge] = {}
        self._adjacent: dict[str, list[Leg]] = {node_id: [] for node_id in self.nodes}
        for edge in edges:
            if edge.id in self.edges:
                raise RoadDataError(f"edge {edge.id!r} is defined twice")
            for end in (edge.from_id, edge.to_id):
                if end not in self.nodes:
                    raise RoadDataError(f"edge {edge.id!r} names unknown node {end!r}")
            self.edges[edge.id] = edge
            self._adjacent[edge.from_id].append(Leg(edge, True))
            self._adjacent[edge.to_id].append(Leg(edge, False))

    @classmethod
    def load(cls, path: Path | None = None) -> RoadGraph:
        """The packaged Cambridge graph, or the graph in `path`."""
        if path is None:
            text = resources.files("offchain.sim").joinpath("data/cambridge_roads.json").read_text("utf-8")
            source = "offchain/sim/data/cambridge_roads.json"
        else:
            text, source = path.read_text("utf-8"), str(path)
        try:
            return cls.from_dict(json.loads(text))
        except (KeyError, TypeError, ValueError) as exc:
            raise RoadDataError(f"{source}: {exc}") from exc

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoadGraph:
        nodes = [Node(n["id"], n["name"], n["kind"], float(n["lat"]), float(n["lon"])) for n in data["nodes"]]
        by_id = {node.id: node for node in nodes}
        edges = []
        for e in data["edges"]:
            try:
                start, end = by_id[e["from"]], by_id[e["to"]]
            except KeyError as exc:
                raise RoadDataError(f"edge {e.get('id')!r} names unknown node {exc.args[0]!r}") from None
            points = (
                (start.lat, start.lon),
                *((float(lat), float(lon)) for lat, lon in e["waypoints"]),
                (end.lat, end.lon),
            )
            cumulative = [0.0]
            for (lat1, lon1), (lat2, lon2) in pairwise(points):
                cumulative.append(cumulative[-1] + haversine_m(lat1, lon1, lat2, lon2))
            edges.append(
                Edge(
                    id=e["id"],
                    from_id=start.id,
                    to_id=end.id,
                    road=e["road"],
                    road_class=RoadClass(e["class"]),
                    speed_limit_kmh=float(e["speed_limit_kmh"]),
                    points=points,
                    cumulative_m=tuple(cumulative),
                )
            )
        return cls(nodes, edges)

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise UnknownPlaceError(
                f"unknown place {node_id!r}; known: {', '.join(sorted(self.nodes))}"
            ) from None

    def legs_from(self, node_id: str) -> list[Leg]:
        return self._adjacent[self.node(node_id).id]

    def shortest_path(
        self,
        origin: str,
        destination: str,
        *,
        vehicle_max_kmh: float = 90.0,
        closed: frozenset[str] = frozenset(),
        speed_factor: Callable[[RoadClass], float] | None = None,
    ) -> Route:
        """Fastest route (Dijkstra on travel time) avoiding the `closed` edge ids.

        `speed_factor` scales each road class's speed (traffic at departure time); 1.0 when omitted.
        """
        self.node(origin)
        self.node(destination)
        factor = speed_factor or (lambda _cls: 1.0)
        best: dict[str, float] = {origin: 0.0}
        came_by: dict[str, Leg] = {}
        # The counter breaks ties deterministically, so equal-time routes never depend on dict order.
        queue: list[tuple[float, int, str]] = [(0.0, 0, origin)]
        counter = 1
        done: set[str] = set()
        while queue:
            cost, _, node_id = heapq.heappop(queue)
            if node_id in done:
                continue
            done.add(node_id)
            if node_id == destination:
                break
            for leg in self._adjacent[node_id]:
                if leg.edge.id in closed:
                    continue
                speed_ms = leg.edge.hgv_speed_kmh(vehicle_max_kmh) * factor(leg.edge.road_class) / 3.6
                candidate = cost + leg.length_m / speed_ms
                if candidate < best.get(leg.end_id, float("inf")):
                    best[leg.end_id] = candidate
                    came_by[leg.end_id] = leg
                    heapq.heappush(queue, (candidate, counter, leg.end_id))
                    counter += 1
        if destination not in done:
            closures = f" with {', '.join(sorted(closed))} closed" if closed else ""
            raise NoRouteError(f"no open road from {origin} to {destination}{closures}")
        legs: list[Leg] = []
        node_id = destination
        while node_id != origin:
            leg = came_by[node_id]
            legs.append(leg)
            node_id = leg.start_id
        return Route(tuple(reversed(legs)), best[destination])
