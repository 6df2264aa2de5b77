"""What a node reads from the chain about one order: the physical SLA terms and the planned delivery.

``ChainTerms`` is a CFP's physical SLA terms as fixed-point integers. ``Plan`` is everything in force for a
reading: those terms, the planned route of the goods (the awarded delivery legs' origin -> destination, each
routed on the shared road graph) and the order's delivery deadline; the route and deadline turn the
route-deviation and late-arrival rules on. After an accepted REROUTE verdict the plan follows the chain's
reroute: the ordered diversion to the handover place counts as on-route, and once the relief carrier holds the
goods the corridor starts at the handover place. ``custody_since_s`` (when the holder in force took the goods)
and the allowances decide who is liable for an excursion (oracles.node.tracker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oracles.detect.sla import SlaTerms


@dataclass(frozen=True, slots=True)
class ChainTerms:
    """An order's physical SLA terms as Procurement.slaTerms returns them (fixed-point integers)."""

    temp_min_centi_c: int
    temp_max_centi_c: int
    humidity_min_bp: int
    humidity_max_bp: int
    shock_limit_milli_g: int
    excursion_grace_s: int

    def as_evidence(self) -> dict[str, int]:
        return {
            "temp_min_centi_c": self.temp_min_centi_c,
            "temp_max_centi_c": self.temp_max_centi_c,
            "humidity_min_bp": self.humidity_min_bp,
            "humidity_max_bp": self.humidity_max_bp,
            "shock_limit_milli_g": self.shock_limit_milli_g,
            "excursion_grace_s": self.excursion_grace_s,
        }


@dataclass(frozen=True, slots=True)
class PlannedLeg:
    """One awarded delivery leg as the chain states it (place ids are road graph node ids)."""

    leg_index: int
    cfp_id: int
    origin: str
    destination: str
    awarded_at_s: int

    def as_evidence(self) -> dict[str, int | str]:
        return {
            "leg_index": self.leg_index,
            "cfp_id": self.cfp_id,
            "origin": self.origin,
            "destination": self.destination,
            "awarded_at_s": self.awarded_at_s,
        }


@dataclass(frozen=True, slots=True)
class RerouteState:
    """A reroute of the order as the chain states it at one time: the truck holding the goods was ordered
    (``RerouteOpened``) to hand them over; the place is known once the holder offers them there
    (``HandoffOffered``); the relief leg runs from when its carrier accepts them (``HandoffAccepted``)."""

    cfp_id: int
    opened_at_s: int
    destination: str  # the destination of the leg it replaces ('' = unknown place id)
    source_leg_index: int  # the leg it replaces (-1 when unknown)
    handover_place: str = ""  # '' until the holder offers the goods somewhere
    taken_over_at_s: int = 0  # 0 until the relief carrier accepts custody

    def as_evidence(self) -> dict[str, int | str]:
        return {
            "cfp_id": self.cfp_id,
            "opened_at_s": self.opened_at_s,
            "destination": self.destination,
            "source_leg_index": self.source_leg_index,
            "handover_place": self.handover_place,
            "taken_over_at_s": self.taken_over_at_s,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """What is in force for a shipment's reading: the SLA terms of the CFP that rules the order at that time,
    the planned corridor (vertices in 1e-6 degrees), the delivery deadline, the reroutes under way, the custody
    in force and the node's allowances (settings every node must share: they are in the evidence)."""

    terms: ChainTerms
    legs: tuple[PlannedLeg, ...] = ()
    corridor: tuple[tuple[int, int], ...] = ()
    corridor_width_m: int = 2000
    deadline_s: int = 0
    diversions: tuple[tuple[tuple[int, int], ...], ...] = ()  # ordered diversions: on-route, not for the ETA
    eta_paused: bool = False  # a diversion or handover under way: no arrival forecast
    reroutes: tuple[RerouteState, ...] = ()
    custody_since_s: int = 0  # when the holder in force accepted the goods (0: the seller since minting)
    route_grace_s: int = 0
    pull_down_allowance_s: int = 0

    def sla_terms(self) -> SlaTerms:
        terms = self.terms
        return SlaTerms(
            temp_min_centi_c=terms.temp_min_centi_c,
            temp_max_centi_c=terms.temp_max_centi_c,
            humidity_min_bp=terms.humidity_min_bp,
            humidity_max_bp=terms.humidity_max_bp,
            shock_limit_milli_g=terms.shock_limit_milli_g,
            excursion_grace_s=terms.excursion_grace_s,
            corridor=self.corridor if len(self.corridor) >= 2 else (),
            corridor_width_m=self.corridor_width_m,
            delivery_deadline_s=self.deadline_s,
            diversions=self.diversions if len(self.corridor) >= 2 else (),
            eta_paused=self.eta_paused,
            route_grace_s=self.route_grace_s,
        )

    def as_evidence(self) -> dict[str, Any]:
        """The plan without the terms (the evidence lists those as ``sla_terms``)."""
        return {
            "legs": [leg.as_evidence() for leg in self.legs],
            "corridor_e6": [[lat, lon] for lat, lon in self.corridor],
            "corridor_width_m": self.corridor_width_m,
            "delivery_deadline_s": self.deadline_s,
            "diversions_e6": [[[lat, lon] for lat, lon in path] for path in self.diversions],
            "eta_paused": self.eta_paused,
            "reroutes": [reroute.as_evidence() for reroute in self.reroutes],
            "custody_since_s": self.custody_since_s,
            "route_grace_s": self.route_grace_s,
            "pull_down_allowance_s": self.pull_down_allowance_s,
        }
