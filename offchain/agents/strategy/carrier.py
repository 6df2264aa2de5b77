"""A carrier prices a delivery CFP from its free trucks, the distance (world.plan) and reefer availability."""

from __future__ import annotations

from dataclasses import dataclass

from ..world import RoutePlan, VehicleView


@dataclass(frozen=True)
class DeliveryRequest:
    cfp_id: int
    quantity: int
    mass_kg: int
    origin: str
    destination: str
    max_unit_price: int
    window_end_s: int
    needs_reefer: bool


@dataclass(frozen=True)
class Tariff:
    price_per_unit_km: int
    min_unit_price: int
    eta_slack_s: int
    loading_s: int = 20 * 60  # loading at the origin plus unloading at the destination


@dataclass(frozen=True)
class CarrierBid:
    vehicle_id: str
    unit_price: int
    eta_s: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class NoBid:
    reasons: tuple[str, ...]


FREE = frozenset({"idle", "arrived", "waiting"})


def carrier_bid(
    request: DeliveryRequest,
    vehicles: list[VehicleView],
    to_origin: dict[str, RoutePlan],
    trip: RoutePlan,
    tariff: Tariff,
    now_s: int,
) -> CarrierBid | NoBid:
    """The free truck that reaches the destination first; freight per unit covers the loaded kilometres and
    half the empty run to the origin. `to_origin` maps each candidate truck to its plan to the origin."""
    rejected: list[str] = []
    candidates: list[tuple[int, str, int]] = []
    for v in vehicles:
        if v.status not in FREE or v.shipments:
            rejected.append(f"{v.id} is busy ({v.status})")
        elif request.needs_reefer and not v.reefer_ok:
            rejected.append(f"{v.id} has no working reefer")
        elif v.capacity_kg < request.mass_kg:
            rejected.append(f"{v.id} carries {v.capacity_kg} kg < {request.mass_kg} kg")
        elif v.id not in to_origin:
            rejected.append(f"{v.id} has no route to {request.origin}")
        else:
            approach = to_origin[v.id]
            eta = now_s + (approach.duration_ms + trip.duration_ms) // 1000 + tariff.loading_s + tariff.eta_slack_s
            candidates.append((eta, v.id, approach.distance_m))
    if not candidates:
        return NoBid(tuple(rejected) or ("no trucks",))
    eta, vehicle_id, empty_m = min(candidates)
    km = (trip.distance_m + empty_m / 2) / 1000
    price = max(tariff.min_unit_price, round(tariff.price_per_unit_km * km))
    reasons = [
        f"{vehicle_id} is free with a working reefer" if request.needs_reefer else f"{vehicle_id} is free",
        f"{trip.distance_m / 1000:.1f} km loaded + {empty_m / 1000:.1f} km empty to {request.origin}",
    ]
    if eta > request.window_end_s:
        return NoBid((*reasons, "cannot arrive before the delivery deadline"))
    if price > request.max_unit_price:
        return NoBid((*reasons, f"our price {price} is above the maximum {request.max_unit_price}"))
    return CarrierBid(vehicle_id=vehicle_id, unit_price=price, eta_s=eta, reasons=tuple(reasons))
