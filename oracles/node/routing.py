"""The planned corridor of a shipment, computed identically by every node from on-chain legs.

A delivery CFP names its origin and destination as ``bytes32`` place ids: the road graph node id in ASCII,
right-padded with zero bytes (``b"supplier_ely".ljust(32, b"\\0")``). Each awarded leg is routed with the
shared road graph's fastest path (``offchain.sim.roads.RoadGraph``, deterministic tie-breaking) and the legs
are joined in leg order; vertices are rounded to 1e-6 degrees so every node holds the same integers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache

from offchain.sim.roads import NoRouteError, RoadGraph, UnknownPlaceError
from oracles.node.terms import ChainTerms, Plan, PlannedLeg

log = logging.getLogger("asc.oracle.routing")


class PlaceIdError(ValueError):
    """A bytes32 place id that is not a road graph node id."""


def decode_place(raw: bytes) -> str:
    """The road graph node id in a bytes32 place id; '' for the zero id (a reroute's unknown origin)."""
    if len(raw) != 32:
        raise PlaceIdError(f"a place id is 32 bytes, got {len(raw)}")
    text = raw.rstrip(b"\0")
    if b"\0" in text:
        raise PlaceIdError(f"place id {raw.hex()} has a zero byte inside")
    try:
        return text.decode("ascii")
    except UnicodeDecodeError:
        raise PlaceIdError(f"place id 0x{raw.hex()} is not ASCII") from None


def encode_place(place: str) -> bytes:
    data = place.encode("ascii")
    if not data or len(data) > 32:
        raise PlaceIdError(f"place id {place!r} must be 1-32 ASCII characters")
    return data.ljust(32, b"\0")


class Planner:
    """Corridors from legs on one road graph (routes cached: every shipment of a lane shares them)."""

    def __init__(self, graph: RoadGraph, corridor_width_m: int) -> None:
        self.graph = graph
        self.corridor_width_m = corridor_width_m
        self._route = lru_cache(maxsize=256)(self._route_uncached)

    def _route_uncached(self, origin: str, destination: str) -> tuple[tuple[int, int], ...]:
        route = self.graph.shortest_path(origin, destination)
        points: list[tuple[int, int]] = []
        for leg in route.legs:
            edge_points = leg.edge.points if leg.forward else tuple(reversed(leg.edge.points))
            for lat, lon in edge_points:
                vertex = (round(lat * 1_000_000), round(lon * 1_000_000))
                if not points or points[-1] != vertex:
                    points.append(vertex)
        return tuple(points)

    def plan(self, terms: ChainTerms, legs: Sequence[PlannedLeg], deadline_s: int) -> Plan:
        """The plan of these legs (in leg order). A leg whose places the graph does not know leaves the
        corridor out (route rules off) rather than guessing; the deadline still applies."""
        ordered = tuple(sorted(legs, key=lambda leg: leg.leg_index))
        corridor: list[tuple[int, int]] = []
        for leg in ordered:
            try:
                points = self._route(leg.origin, leg.destination)
            except (UnknownPlaceError, NoRouteError) as exc:
                log.warning("leg %d (CFP %d): no corridor: %s", leg.leg_index, leg.cfp_id, exc)
                return Plan(terms, ordered, (), self.corridor_width_m, deadline_s)
            corridor.extend(points[1:] if corridor and corridor[-1] == points[0] else points)
        return Plan(terms, ordered, tuple(corridor), self.corridor_width_m, deadline_s)
