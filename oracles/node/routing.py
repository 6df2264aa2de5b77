"""The planned corridor of a shipment, computed identically by every node from on-chain legs.

A delivery CFP names its origin and destination as ``bytes32`` place ids: the road graph node id in ASCII,
right-padded with zero bytes (``b"supplier_ely".ljust(32, b"\\0")``). Each awarded leg is routed with the
shared road graph's fastest path (``offchain.sim.roads.RoadGraph``, deterministic tie-breaking) and the legs
are joined in leg order; vertices are rounded to 1e-6 degrees so every node holds the same integers.

A reroute changes the plan in three steps, each keyed to the chain time of the event behind it:
1. ordered (``RerouteOpened``): the holder drives to a handover place the chain names only when the goods are
   offered there, so every cross-dock of the road graph (the places where loads change trucks) is a possible
   one: the diversion -- the fastest path from each node of the corridor in force to it, the path the
   simulator's truck takes once it has finished the road it is on -- is on-route as well as the corridor; no
   arrival forecast (the goods leave the planned route on purpose);
2. the holder offers the goods at the handover place (``HandoffOffered``): the diversions narrow to that place;
   still no arrival forecast while the goods wait there;
3. the relief carrier accepts custody (``HandoffAccepted``): the corridor runs from the handover place to the
   replaced leg's destination, then the later legs; the arrival forecast resumes along it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache

from offchain.sim.roads import NoRouteError, RoadGraph, UnknownPlaceError
from oracles.node.terms import ChainTerms, Plan, PlannedLeg, RerouteState

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

    def __init__(
        self,
        graph: RoadGraph,
        corridor_width_m: int,
        *,
        route_grace_s: int = 0,
        pull_down_allowance_s: int = 0,
    ) -> None:
        self.graph = graph
        self.corridor_width_m = corridor_width_m
        self.route_grace_s = route_grace_s
        self.pull_down_allowance_s = pull_down_allowance_s
        self.crossdocks = tuple(sorted(node.id for node in graph.nodes.values() if node.kind == "crossdock"))
        self._route = lru_cache(maxsize=256)(self._route_uncached)

    def _route_uncached(self, origin: str, destination: str) -> tuple[tuple[tuple[int, int], ...], tuple[str, ...]]:
        """The fastest path's vertices and the graph nodes it passes."""
        route = self.graph.shortest_path(origin, destination)
        points: list[tuple[int, int]] = []
        for leg in route.legs:
            edge_points = leg.edge.points if leg.forward else tuple(reversed(leg.edge.points))
            for lat, lon in edge_points:
                vertex = (round(lat * 1_000_000), round(lon * 1_000_000))
                if not points or points[-1] != vertex:
                    points.append(vertex)
        return tuple(points), tuple(route.node_ids) if route.legs else (origin,)

    def _join(self, pairs: Sequence[tuple[str, str]]) -> tuple[tuple[tuple[int, int], ...], tuple[str, ...]]:
        """Routes joined end to end (raises UnknownPlaceError / NoRouteError)."""
        corridor: list[tuple[int, int]] = []
        nodes: list[str] = []
        for origin, destination in pairs:
            points, passed = self._route(origin, destination)
            corridor.extend(points[1:] if corridor and corridor[-1] == points[0] else points)
            nodes.extend(passed[1:] if nodes and nodes[-1] == passed[0] else passed)
        return tuple(corridor), tuple(nodes)

    def plan(
        self,
        terms: ChainTerms,
        legs: Sequence[PlannedLeg],
        deadline_s: int,
        *,
        reroutes: Sequence[RerouteState] = (),
        custody_since_s: int = 0,
    ) -> Plan:
        """The plan of these legs (in leg order) and reroutes (in the order they were opened). A place the
        graph does not know leaves the corridor out (route rules off) rather than guessing; the deadline
        still applies."""
        ordered = tuple(sorted(legs, key=lambda leg: leg.leg_index))
        in_order = tuple(sorted(reroutes, key=lambda r: (r.opened_at_s, r.cfp_id)))
        corridor: tuple[tuple[int, int], ...] = ()
        nodes: tuple[str, ...] = ()
        diversions: tuple[tuple[tuple[int, int], ...], ...] = ()
        eta_paused = False
        try:
            corridor, nodes = self._join([(leg.origin, leg.destination) for leg in ordered])
            for reroute in in_order:
                diversions, eta_paused = (), True
                if reroute.taken_over_at_s:
                    after = reroute.source_leg_index
                    later = [(leg.origin, leg.destination) for leg in ordered if leg.leg_index > after]
                    corridor, nodes = self._join([(reroute.handover_place, reroute.destination), *later])
                    eta_paused = False
                elif reroute.handover_place:
                    diversions = self._diversions(nodes, (reroute.handover_place,))
                elif self.crossdocks:
                    diversions = self._diversions(nodes, self.crossdocks)
                else:
                    corridor, nodes = (), ()  # nowhere known to go: the route rules wait for the offer
        except (UnknownPlaceError, NoRouteError) as exc:
            log.warning("no corridor for legs %s / reroutes %s: %s", ordered, in_order, exc)
            corridor, diversions = (), ()
        return Plan(
            terms,
            ordered,
            corridor if len(corridor) >= 2 else (),
            self.corridor_width_m,
            deadline_s,
            diversions=diversions if len(corridor) >= 2 else (),
            eta_paused=eta_paused,
            reroutes=in_order,
            custody_since_s=custody_since_s,
            route_grace_s=self.route_grace_s,
            pull_down_allowance_s=self.pull_down_allowance_s,
        )

    def _diversions(
        self, nodes: Sequence[str], places: Sequence[str]
    ) -> tuple[tuple[tuple[int, int], ...], ...]:
        """The fastest path to each place from every node of the corridor in force, once each: the truck may
        have been on any of its roads when it got the order (the chain does not say where it was)."""
        paths: list[tuple[tuple[int, int], ...]] = []
        for place in places:
            for node in nodes:
                if node == place:
                    continue
                points, _ = self._route(node, place)
                if len(points) >= 2 and points not in paths:
                    paths.append(points)
        return tuple(paths)
