"""What a node reads from the chain about one order: the physical SLA terms and the planned delivery.

``ChainTerms`` is a CFP's physical SLA terms as fixed-point integers. ``Plan`` is everything in force for a
reading: those terms, the planned route of the goods (the awarded delivery legs' origin -> destination, each
routed on the shared road graph) and the order's delivery deadline; the route and deadline turn the
route-deviation and late-arrival rules on.
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
class Plan:
    """What is in force for a shipment's reading: the SLA terms of the CFP that rules the order at that time,
    the planned corridor (vertices in 1e-6 degrees) and the delivery deadline."""

    terms: ChainTerms
    legs: tuple[PlannedLeg, ...] = ()
    corridor: tuple[tuple[int, int], ...] = ()
    corridor_width_m: int = 2000
    deadline_s: int = 0

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
        )

    def as_evidence(self) -> dict[str, Any]:
        """The plan without the terms (the evidence lists those as ``sla_terms``)."""
        return {
            "legs": [leg.as_evidence() for leg in self.legs],
            "corridor_e6": [[lat, lon] for lat, lon in self.corridor],
            "corridor_width_m": self.corridor_width_m,
            "delivery_deadline_s": self.deadline_s,
        }
