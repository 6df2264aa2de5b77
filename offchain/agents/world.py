"""The world port: how carrier and logistics agents act on the physical world.

Agreed with the `world` engineer (their `offchain/sim/client.py:WorldClient` implements it over HTTP).
`LocalWorld` implements it in-process over `offchain.sim.world.Simulator`, for tests and single-process runs.
Shipment ids are decimal custody twin ids; place ids are road graph node ids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol

from offchain.sim.roads import NoRouteError
from offchain.sim.world import SimError, Simulator, VehicleState, VehicleStatus

Status = Literal["idle", "to_pickup", "loading", "in_transit", "arrived", "waiting", "stranded"]


@dataclass(frozen=True)
class VehicleView:
    id: str
    carrier: str
    status: Status
    place: str | None
    lat_e7: int
    lon_e7: int
    eta_ms: int | None
    shipments: tuple[str, ...]
    reefer_ok: bool
    capacity_kg: int


@dataclass(frozen=True)
class RoutePlan:
    origin: str
    destination: str
    distance_m: int
    duration_ms: int
    path: tuple[str, ...]


class WorldError(RuntimeError):
    """The world cannot do what was asked."""


class UnknownVehicleError(WorldError):
    pass


class UnknownPlaceError(WorldError):
    pass


class NotAtSamePlaceError(WorldError):
    pass


class NotArrivedError(WorldError):
    pass


class WorldPort(Protocol):
    def now_ms(self) -> int: ...
    def fleet(self, carrier: str) -> list[VehicleView]: ...
    def vehicle(self, vehicle_id: str) -> VehicleView: ...
    def plan(self, origin: str, destination: str) -> RoutePlan: ...
    def dispatch(
        self, vehicle_id: str, shipment_id: str, origin: str, destination: str, *,
        setpoint_centi_c: int, product: str, mass_kg: int,
    ) -> None: ...
    def divert(self, vehicle_id: str, place: str) -> None: ...
    def transfer(self, shipment_id: str, to_vehicle_id: str) -> None: ...
    def unload(self, shipment_id: str) -> None: ...


# A reefer below this share of its cooling capacity cannot hold a chilled setpoint on a warm day.
REEFER_OK_HEALTH = 0.8


class LocalWorld:
    """The port over an in-process Simulator. The caller advances the simulator's clock.

    The simulator unloads a shipment as soon as its truck reaches the destination, so "arrived" is reported
    for a truck parked at the destination of a shipment it carried, and `unload` only checks that it happened.
    """

    def __init__(self, sim: Simulator, capacity_kg: int = 12_000) -> None:
        self.sim = sim
        self.capacity_kg = capacity_kg
        self._dispatched: dict[str, tuple[str, str, str, str]] = {}  # shipment -> (vehicle, origin, dest, product)
        self._destination_of: dict[str, str] = {}

    def now_ms(self) -> int:
        return self.sim.now_ms

    def _state(self, vehicle_id: str) -> VehicleState:
        try:
            return self.sim.vehicle_state(vehicle_id)
        except (SimError, KeyError) as exc:
            raise UnknownVehicleError(f"unknown vehicle {vehicle_id!r}") from exc

    def vehicle(self, vehicle_id: str) -> VehicleView:
        s = self._state(vehicle_id)
        mapping: dict[VehicleStatus, Status] = {
            VehicleStatus.IDLE: "idle",
            VehicleStatus.WAITING: "waiting",
            VehicleStatus.STRANDED: "stranded",
            VehicleStatus.LOADING: "loading",
            VehicleStatus.HANDOFF: "loading",
            VehicleStatus.UNLOADING: "arrived",
        }
        status: Status = mapping.get(s.status, "in_transit" if s.shipments else "to_pickup")
        if status == "idle" and s.node_id is not None:
            delivered_here = any(
                self._dispatched[sid][0] == vehicle_id
                and self._destination_of.get(sid) == s.node_id
                and self.sim.delivered(sid) is not None
                for sid in self._dispatched
            )
            if delivered_here:
                status = "arrived"
        return VehicleView(
            id=s.vehicle_id,
            carrier=s.carrier,
            status=status,
            place=s.node_id,
            lat_e7=round(s.lat * 1e7),
            lon_e7=round(s.lon * 1e7),
            eta_ms=s.eta_ms,
            shipments=tuple(s.shipments),
            reefer_ok=s.compressor_health >= REEFER_OK_HEALTH,
            capacity_kg=self.capacity_kg,
        )

    def fleet(self, carrier: str) -> list[VehicleView]:
        return [self.vehicle(v) for v in self.sim.vehicle_ids() if self.sim.vehicle_state(v).carrier == carrier]

    def plan(self, origin: str, destination: str) -> RoutePlan:
        try:
            if origin == destination:
                self.sim.graph.node(origin)
                return RoutePlan(origin, destination, 0, 0, (origin,))
            route = self.sim.graph.shortest_path(origin, destination, closed=self.sim.closed_edges())
        except NoRouteError as exc:
            raise WorldError(str(exc)) from exc
        except (KeyError, ValueError, SimError) as exc:
            raise UnknownPlaceError(str(exc)) from exc
        return RoutePlan(
            origin, destination, round(route.length_m), math.ceil(route.travel_s * 1000), tuple(route.node_ids)
        )

    def dispatch(
        self, vehicle_id: str, shipment_id: str, origin: str, destination: str, *,
        setpoint_centi_c: int, product: str, mass_kg: int,
    ) -> None:
        self._state(vehicle_id)
        known = self._dispatched.get(shipment_id)
        if known is not None and known[0] == vehicle_id:
            return  # idempotent for the same shipment on the same truck
        self._destination_of[shipment_id] = destination
        try:
            if known is None and shipment_id not in self.sim.delivery_times():
                self.sim.start_shipment(
                    shipment_id, vehicle_id, origin=origin, destination=destination,
                    setpoint_c=setpoint_centi_c / 100, product=product, mass_kg=mass_kg,
                )
            else:
                # The shipment is on another truck (a reroute): drive to the meeting point and wait there.
                self.sim.reroute(vehicle_id, origin)
                self.sim.precool(vehicle_id, setpoint_centi_c / 100)
        except (KeyError, ValueError) as exc:
            raise UnknownPlaceError(str(exc)) from exc
        except SimError as exc:
            raise WorldError(str(exc)) from exc
        self._dispatched[shipment_id] = (vehicle_id, origin, destination, product)

    def divert(self, vehicle_id: str, place: str) -> None:
        self._state(vehicle_id)
        try:
            self.sim.reroute(vehicle_id, place)
        except (KeyError, ValueError) as exc:
            raise UnknownPlaceError(str(exc)) from exc

    def transfer(self, shipment_id: str, to_vehicle_id: str) -> None:
        try:
            self.sim.handoff(shipment_id, to_vehicle_id)
        except SimError as exc:
            raise NotAtSamePlaceError(str(exc)) from exc
        _, origin, destination, product = self._dispatched.get(shipment_id, ("", "", "", ""))
        self._dispatched[shipment_id] = (to_vehicle_id, origin, destination, product)

    def unload(self, shipment_id: str) -> None:
        try:
            delivered = self.sim.delivered(shipment_id)
        except SimError as exc:
            raise WorldError(str(exc)) from exc
        if delivered is None:
            raise NotArrivedError(f"shipment {shipment_id} has not reached its destination")
