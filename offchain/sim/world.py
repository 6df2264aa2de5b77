"""The simulated world: vehicles driving the road graph with reefers and pallet loggers, on a simulated clock.

Callers (the scenario runner, later the agents) drive it through a small API:

    sim = Simulator(graph, seed=7, start_ms=...)
    sim.add_vehicle("truck-1", carrier="3pl-a", at="supplier_ely")
    sim.start_shipment("ship-1", "truck-1", origin="supplier_ely", destination="wholesaler_cambridge",
                       setpoint_c=2.0, product="beef", mass_kg=800)
    samples = sim.advance_to(sim.now_ms + 30 * 60_000)   # readings taken on the way
    sim.reroute("truck-1", "crossdock_bar_hill")         # go there next and wait
    sim.handoff("ship-1", "truck-2")                     # both parked together: move the load
    sim.vehicle_state("truck-1")

A vehicle works through a queue of stops. `load` and `unload` stops keep the door open for the loading
time; a `wait` stop (from `reroute`) holds the vehicle at the place until a handoff there or `resume`.
Loggers travel with the cargo (one per shipment, as pallet loggers do), so a handoff moves the logger and
its stream continues from the new vehicle's reefer.

Randomness comes from independent streams per purpose and per vehicle or device, each seeded from
(seed, purpose, id): the readings of one truck do not change when another truck is added.
"""

from __future__ import annotations

import heapq
import logging
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from offchain.api.schemas import ReadingIn

from .environment import Weather, traffic_factor
from .geo import haversine_m, offset
from .reefer import Reefer, ReeferParams
from .roads import Leg, NoRouteError, RoadClass, RoadGraph

logger = logging.getLogger(__name__)

TICK_MS = 1000
HANDOFF_RADIUS_M = 300.0
MAX_SHOCK_MILLI_G = 200_000  # a 200 g accelerometer, the API's plausibility limit
_STRANDED_RETRY_MS = 60_000
_BASE_VIBRATION_MILLI_G: dict[RoadClass, tuple[int, int]] = {
    RoadClass.MOTORWAY: (40, 120),
    RoadClass.TRUNK: (50, 150),
    RoadClass.PRIMARY: (80, 220),
    RoadClass.SECONDARY: (90, 260),
    RoadClass.URBAN: (100, 300),
}


class SimError(RuntimeError):
    """A request the world cannot honour (unknown id, vehicle busy, too far apart for a handoff...)."""


class VehicleStatus(StrEnum):
    IDLE = "idle"
    DRIVING = "driving"
    QUEUED = "queued"  # stopped in a traffic incident
    LOADING = "loading"
    UNLOADING = "unloading"
    HANDOFF = "handoff"
    WAITING = "waiting"
    STRANDED = "stranded"  # every road to the next stop is closed


_AT_DOCK = frozenset({VehicleStatus.LOADING, VehicleStatus.UNLOADING, VehicleStatus.HANDOFF})


class StopAction(StrEnum):
    LOAD = "load"
    UNLOAD = "unload"
    WAIT = "wait"


@dataclass
class Stop:
    node_id: str
    action: StopAction
    shipment_id: str | None = None
    dwell_ms: int = 0


@dataclass(frozen=True)
class TrafficParams:
    incidents_per_100km: float = 2.0
    incident_delay_ms: tuple[int, int] = (2 * 60_000, 12 * 60_000)
    potholes_per_km: float = 0.3


@dataclass(frozen=True)
class Sample:
    """One logger reading, in the API's fixed-point units."""

    device_id: str
    shipment_id: str
    vehicle_id: str
    reading: ReadingIn


@dataclass(frozen=True)
class Event:
    ts_ms: int
    kind: str
    subject: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VehicleState:
    vehicle_id: str
    carrier: str
    status: VehicleStatus
    lat: float
    lon: float
    node_id: str | None  # where it is parked, None while between nodes
    edge_id: str | None
    road: str | None
    speed_kmh: float
    odometer_m: float
    remaining_m: float
    eta_ms: int | None  # planned arrival at the next stop, incident delays included; None when parked
    next_stop: str | None
    next_action: str | None  # load | unload | wait
    next_shipment: str | None  # the shipment the next stop serves (a hold at a destination names it)
    shipments: tuple[str, ...]
    air_c: float
    cargo_c: float
    relative_humidity: float
    setpoint_c: float
    compressor_on: bool
    compressor_health: float
    door_open: bool


@dataclass(frozen=True)
class Flag:
    """A condition the agents act on; the physical world only reports it."""

    kind: str  # supplier_silence | carrier_no_show
    subject: str
    since_ms: int
    until_ms: int | None


@dataclass
class _Shipment:
    id: str
    origin: str
    destination: str
    setpoint_c: float
    product: str
    mass_kg: float
    loading_ms: int
    device_id: str
    vehicle_id: str | None = None
    loaded: bool = False
    delivered_at_ms: int | None = None


@dataclass
class _Vehicle:
    id: str
    carrier: str
    max_speed_kmh: float
    lat: float
    lon: float
    node_id: str | None
    reefer: Reefer
    traffic_rng: random.Random
    sensor_rng: random.Random
    status: VehicleStatus = VehicleStatus.IDLE
    stops: deque[Stop] = field(default_factory=deque)
    legs: list[Leg] = field(default_factory=list)
    leg_index: int = 0
    leg_pos_m: float = 0.0
    incident_at_m: float | None = None
    incident_delay_ms: int = 0
    hold_until_ms: int | None = None
    eta_ms: int | None = None
    speed_kmh: float = 0.0
    odometer_m: float = 0.0
    shipments: list[str] = field(default_factory=list)
    peak_shock_milli_g: int = 0
    door_events_until_ms: int | None = None
    failures_after_m: list[tuple[float, float]] = field(default_factory=list)

    @property
    def leg(self) -> Leg | None:
        return self.legs[self.leg_index] if self.leg_index < len(self.legs) else None


def _rng(seed: int, purpose: str, name: str) -> random.Random:
    # String seeds go through SHA-512 in `random.seed`: stable across processes and Python versions.
    return random.Random(f"{seed}/{purpose}/{name}")


def device_id_for(shipment_id: str) -> str:
    return f"logger-{shipment_id}"


class Simulator:
    def __init__(
        self,
        graph: RoadGraph,
        *,
        seed: int,
        start_ms: int,
        sample_interval_ms: int = 60_000,
        weather: Weather | None = None,
        traffic: TrafficParams | None = None,
        reefer_params: ReeferParams | None = None,
    ) -> None:
        if sample_interval_ms % TICK_MS:
            raise ValueError(f"sample_interval_ms must be a multiple of {TICK_MS}")
        self.graph = graph
        self.seed = seed
        self.now_ms = start_ms
        self.start_ms = start_ms
        self.sample_interval_ms = sample_interval_ms
        self.weather = weather or Weather()
        self.traffic = traffic or TrafficParams()
        self.reefer_params = reefer_params or ReeferParams()
        self.events: list[Event] = []
        self._vehicles: dict[str, _Vehicle] = {}
        self._shipments: dict[str, _Shipment] = {}
        self._closures: list[tuple[str, int, int | None]] = []
        self._flags: list[Flag] = []
        self._scheduled: list[tuple[int, int, Callable[[], None]]] = []
        self._scheduled_count = 0
        self._device_rngs: dict[str, random.Random] = {}
        self._watchers: list[Callable[[], bool]] = []

    # ------------------------------------------------------------------ set-up and commands

    def add_vehicle(
        self,
        vehicle_id: str,
        *,
        carrier: str,
        at: str,
        max_speed_kmh: float = 90.0,
        precooled_c: float | None = None,
    ) -> None:
        """A parked, empty vehicle; its box is at `precooled_c` with the unit running, or else at ambient."""
        if vehicle_id in self._vehicles:
            raise SimError(f"vehicle {vehicle_id!r} exists already")
        node = self.graph.node(at)
        box_c = self.weather.ambient_c(self.now_ms) if precooled_c is None else precooled_c
        reefer = Reefer.at_setpoint(box_c, self.weather.relative_humidity, self.reefer_params)
        reefer.loaded = False
        self._vehicles[vehicle_id] = _Vehicle(
            id=vehicle_id,
            carrier=carrier,
            max_speed_kmh=max_speed_kmh,
            lat=node.lat,
            lon=node.lon,
            node_id=node.id,
            reefer=reefer,
            traffic_rng=_rng(self.seed, "traffic", vehicle_id),
            sensor_rng=_rng(self.seed, "vibration", vehicle_id),
        )

    def start_shipment(
        self,
        shipment_id: str,
        vehicle_id: str,
        *,
        origin: str,
        destination: str,
        setpoint_c: float,
        product: str,
        mass_kg: float,
        loading_ms: int = 10 * 60_000,
        hold_at_destination: bool = False,
    ) -> None:
        """Queue pickup at `origin` and delivery at `destination`; the vehicle drives to `origin` first.

        With `hold_at_destination` the vehicle waits at the destination with the load on board until
        `release(shipment_id)` (the consignee's agent decides when to unload, as in the world port).
        """
        if shipment_id in self._shipments:
            raise SimError(f"shipment {shipment_id!r} exists already")
        vehicle = self._vehicle(vehicle_id)
        self.graph.node(origin)
        self.graph.node(destination)
        if origin == destination:
            raise SimError(f"shipment {shipment_id}: origin and destination are both {origin}")
        if loading_ms < 0:
            raise SimError(f"shipment {shipment_id}: loading_ms must be >= 0, got {loading_ms}")
        self._shipments[shipment_id] = _Shipment(
            shipment_id,
            origin,
            destination,
            setpoint_c,
            product,
            mass_kg,
            loading_ms,
            device_id_for(shipment_id),
            vehicle_id,
        )
        if not vehicle.shipments and not any(s.action is StopAction.LOAD for s in vehicle.stops):
            vehicle.reefer.setpoint_c = setpoint_c
        vehicle.stops.append(Stop(origin, StopAction.LOAD, shipment_id, loading_ms))
        if hold_at_destination:
            vehicle.stops.append(Stop(destination, StopAction.WAIT, shipment_id))
        vehicle.stops.append(Stop(destination, StopAction.UNLOAD, shipment_id, loading_ms))
        self._event(
            "shipment_started", shipment_id, vehicle=vehicle_id, origin=origin, destination=destination
        )

    def reroute(self, vehicle_id: str, to: str) -> None:
        """Drive to `to` next (from the end of the current road) and wait there for a handoff or `resume`."""
        vehicle = self._vehicle(vehicle_id)
        self.graph.node(to)
        if (
            vehicle.stops
            and vehicle.stops[0].action is StopAction.WAIT
            and vehicle.stops[0].shipment_id is None  # a hold at a destination stays for its release
            and vehicle.status is VehicleStatus.WAITING
        ):
            vehicle.stops.popleft()
        wait = Stop(to, StopAction.WAIT)
        if vehicle.status in (VehicleStatus.LOADING, VehicleStatus.UNLOADING):
            vehicle.stops.insert(1, wait)  # the stop being worked finishes first
        else:
            vehicle.stops.appendleft(wait)
        if vehicle.status in (VehicleStatus.DRIVING, VehicleStatus.QUEUED, VehicleStatus.STRANDED):
            self._truncate_to_current_leg(vehicle)
        elif vehicle.status is VehicleStatus.WAITING:
            vehicle.status = VehicleStatus.IDLE
        self._event("rerouted", vehicle_id, to=to)

    def precool(self, vehicle_id: str, setpoint_c: float) -> None:
        """Set the unit's setpoint; the compressor pulls the box down at its own pace."""
        self._vehicle(vehicle_id).reefer.setpoint_c = setpoint_c

    def resume(self, vehicle_id: str) -> None:
        """End a `wait` stop: the vehicle carries on with its remaining stops."""
        vehicle = self._vehicle(vehicle_id)
        if not vehicle.stops or vehicle.stops[0].action is not StopAction.WAIT:
            raise SimError(f"vehicle {vehicle_id} is not waiting")
        vehicle.stops.popleft()
        if vehicle.status is VehicleStatus.WAITING:
            vehicle.status = VehicleStatus.IDLE

    def release(self, shipment_id: str) -> None:
        """Unload a shipment held at its destination (`start_shipment(..., hold_at_destination=True)`)."""
        shipment = self._shipment(shipment_id)
        vehicle = self._vehicle(shipment.vehicle_id or "")
        stop = vehicle.stops[0] if vehicle.stops else None
        held = (
            stop is not None
            and stop.action is StopAction.WAIT
            and stop.shipment_id == shipment_id
            and vehicle.status is VehicleStatus.WAITING
        )
        if not held:
            raise SimError(f"shipment {shipment_id} is not waiting at its destination on {vehicle.id}")
        self.resume(vehicle.id)

    def handoff(self, shipment_id: str, to_vehicle_id: str, *, dwell_ms: int = 15 * 60_000) -> None:
        """Move a loaded shipment between two parked vehicles within `HANDOFF_RADIUS_M` of each other.

        Both doors stay open for `dwell_ms`; the pallet takes a knock on the way. The receiver then
        carries the shipment to its destination; both vehicles leave their `wait` stops afterwards.
        """
        if dwell_ms <= 0:
            raise SimError(f"dwell_ms must be > 0, got {dwell_ms}")
        shipment = self._shipment(shipment_id)
        if not shipment.loaded or shipment.vehicle_id is None:
            raise SimError(f"shipment {shipment_id} is not on a vehicle")
        giver, receiver = self._vehicle(shipment.vehicle_id), self._vehicle(to_vehicle_id)
        if giver is receiver:
            raise SimError(f"shipment {shipment_id} is already on {to_vehicle_id}")
        parked = (VehicleStatus.IDLE, VehicleStatus.WAITING)
        for vehicle in (giver, receiver):
            if vehicle.status not in parked:
                raise SimError(f"vehicle {vehicle.id} is {vehicle.status}, not parked")
        gap_m = haversine_m(giver.lat, giver.lon, receiver.lat, receiver.lon)
        if gap_m > HANDOFF_RADIUS_M:
            raise SimError(
                f"vehicles {giver.id} and {receiver.id} are {gap_m:.0f} m apart (> {HANDOFF_RADIUS_M:.0f} m)"
            )
        giver.shipments.remove(shipment_id)
        receiver.shipments.append(shipment_id)
        shipment.vehicle_id = receiver.id
        # The delivery (and a hold at the destination, if any) travels with the load.
        carried = [s for s in giver.stops if s.shipment_id == shipment_id and s.action is not StopAction.LOAD]
        for stop in carried:
            giver.stops.remove(stop)
        receiver.stops.extend(carried)
        if not receiver.reefer.loaded:
            receiver.reefer.loaded = True
            receiver.reefer.cargo_c = giver.reefer.cargo_c
            receiver.reefer.setpoint_c = shipment.setpoint_c
        giver.reefer.loaded = bool(giver.shipments)
        drop = receiver.traffic_rng.randint(1500, 6000)  # a pallet jack over the dock plate
        for vehicle in (giver, receiver):
            vehicle.status = VehicleStatus.HANDOFF
            vehicle.hold_until_ms = self.now_ms + dwell_ms
            vehicle.reefer.door_open = True
            vehicle.peak_shock_milli_g = max(vehicle.peak_shock_milli_g, drop)
            if vehicle.stops and vehicle.stops[0].action is StopAction.WAIT:
                vehicle.stops.popleft()
        self._event("handoff", shipment_id, giver=giver.id, receiver=receiver.id, shock_milli_g=drop)

    def fail_compressor(
        self, vehicle_id: str, severity: float = 1.0, *, after_km: float | None = None
    ) -> None:
        """Lose `severity` of the cooling capacity now, or once the odometer passes `after_km`."""
        if not 0 < severity <= 1:
            raise ValueError(f"severity must be in (0, 1], got {severity}")
        vehicle = self._vehicle(vehicle_id)
        if after_km is not None and vehicle.odometer_m < after_km * 1000:
            vehicle.failures_after_m.append((after_km * 1000, severity))
            vehicle.failures_after_m.sort()
            return
        vehicle.reefer.health = max(0.0, vehicle.reefer.health - severity)
        self._event("compressor_failure", vehicle_id, severity=severity, health=vehicle.reefer.health)

    def open_door(self, vehicle_id: str, duration_ms: int) -> None:
        if duration_ms <= 0:
            raise SimError(f"duration_ms must be > 0, got {duration_ms}")
        vehicle = self._vehicle(vehicle_id)
        vehicle.reefer.door_open = True
        vehicle.door_events_until_ms = max(vehicle.door_events_until_ms or 0, self.now_ms + duration_ms)
        self._event("door_open", vehicle_id, duration_ms=duration_ms)

    def shock(self, vehicle_id: str, milli_g: int) -> None:
        if not 0 < milli_g <= MAX_SHOCK_MILLI_G:
            raise SimError(f"milli_g must be in 1..{MAX_SHOCK_MILLI_G} (the logger's range), got {milli_g}")
        vehicle = self._vehicle(vehicle_id)
        vehicle.peak_shock_milli_g = max(vehicle.peak_shock_milli_g, milli_g)
        self._event("shock", vehicle_id, milli_g=milli_g)

    def close_road(self, edge_id: str, from_ms: int, until_ms: int | None = None) -> None:
        if edge_id not in self.graph.edges:
            raise SimError(f"unknown edge {edge_id!r}")
        self._closures.append((edge_id, from_ms, until_ms))
        self._event("road_closure", edge_id, from_ms=from_ms, until_ms=until_ms)

    def raise_flag(self, kind: str, subject: str, since_ms: int, until_ms: int | None = None) -> None:
        self._flags.append(Flag(kind, subject, since_ms, until_ms))

    def add_watcher(self, check: Callable[[], bool]) -> None:
        """Call `check` after every tick until it returns True ("hand over once both are there")."""
        self._watchers.append(check)

    def schedule(self, at_ms: int, action: Callable[[], None]) -> None:
        """Run `action` when the clock reaches `at_ms` (in scheduling order for equal times)."""
        heapq.heappush(self._scheduled, (at_ms, self._scheduled_count, action))
        self._scheduled_count += 1

    # ------------------------------------------------------------------ queries

    def closed_edges(self, at_ms: int | None = None) -> frozenset[str]:
        t = self.now_ms if at_ms is None else at_ms
        return frozenset(e for e, start, end in self._closures if start <= t and (end is None or t < end))

    def active_flags(self, at_ms: int | None = None) -> list[Flag]:
        t = self.now_ms if at_ms is None else at_ms
        return [f for f in self._flags if f.since_ms <= t and (f.until_ms is None or t < f.until_ms)]

    def vehicle_ids(self) -> list[str]:
        return list(self._vehicles)

    def vehicle_state(self, vehicle_id: str) -> VehicleState:
        v = self._vehicle(vehicle_id)
        leg = v.leg
        ahead = v.legs[v.leg_index :]
        remaining = sum(item.length_m for item in ahead) - v.leg_pos_m if leg else 0.0
        return VehicleState(
            vehicle_id=v.id,
            carrier=v.carrier,
            status=v.status,
            lat=v.lat,
            lon=v.lon,
            node_id=v.node_id,
            edge_id=leg.edge.id if leg else None,
            road=leg.edge.road if leg else None,
            speed_kmh=v.speed_kmh,
            odometer_m=v.odometer_m,
            remaining_m=remaining,
            eta_ms=v.eta_ms if leg else None,
            next_stop=v.stops[0].node_id if v.stops else None,
            next_action=v.stops[0].action.value if v.stops else None,
            next_shipment=v.stops[0].shipment_id if v.stops else None,
            shipments=tuple(v.shipments),
            air_c=v.reefer.air_c,
            cargo_c=v.reefer.cargo_c,
            relative_humidity=v.reefer.relative_humidity,
            setpoint_c=v.reefer.setpoint_c,
            compressor_on=v.reefer.compressor_on,
            compressor_health=v.reefer.health,
            door_open=v.reefer.door_open,
        )

    def delivered(self, shipment_id: str) -> int | None:
        """When the shipment was unloaded at its destination, or None."""
        return self._shipment(shipment_id).delivered_at_ms

    def shipment_info(self, shipment_id: str) -> dict[str, Any]:
        """Where a shipment is: id, vehicle, origin, destination, loaded, delivered_at_ms."""
        s = self._shipment(shipment_id)
        return {
            "id": s.id,
            "vehicle": s.vehicle_id,
            "origin": s.origin,
            "destination": s.destination,
            "loaded": s.loaded,
            "delivered_at_ms": s.delivered_at_ms,
        }

    def delivery_times(self) -> dict[str, int | None]:
        return {s.id: s.delivered_at_ms for s in self._shipments.values()}

    def has_scheduled(self) -> bool:
        """Whether actions (shipment starts, faults) are still due."""
        return bool(self._scheduled or self._watchers)

    def all_delivered(self) -> bool:
        return all(s.delivered_at_ms is not None for s in self._shipments.values())

    # ------------------------------------------------------------------ time

    def advance_to(self, until_ms: int) -> list[Sample]:
        """Run the world up to `until_ms`; the readings taken on the way, in time then device order."""
        samples: list[Sample] = []
        while self.now_ms < until_ms:
            self._tick()
            if (self.now_ms - self.start_ms) % self.sample_interval_ms == 0:
                samples.extend(self._sample())
        return samples

    def _tick(self) -> None:
        while self._scheduled and self._scheduled[0][0] <= self.now_ms:
            heapq.heappop(self._scheduled)[2]()
        dt_s = TICK_MS / 1000
        w = self.weather
        ambient_c = w.ambient_c(self.now_ms)
        for vehicle in self._vehicles.values():
            self._update_vehicle(vehicle, dt_s)
            if vehicle.status in _AT_DOCK:
                vehicle.reefer.step(dt_s, ambient_c, w.dock_c, w.dock_relative_humidity)
            else:
                vehicle.reefer.step(dt_s, ambient_c, ambient_c, w.relative_humidity)
        self.now_ms += TICK_MS
        if self._watchers:
            self._watchers = [check for check in self._watchers if not check()]

    # ------------------------------------------------------------------ vehicles

    def _update_vehicle(self, v: _Vehicle, dt_s: float) -> None:
        if v.door_events_until_ms is not None and self.now_ms >= v.door_events_until_ms:
            v.door_events_until_ms = None
            if v.hold_until_ms is None:
                v.reefer.door_open = False
        if v.hold_until_ms is not None:
            if self.now_ms < v.hold_until_ms:
                v.speed_kmh = 0.0
                return
            self._end_hold(v)
        if v.status is VehicleStatus.STRANDED and (self.now_ms - self.start_ms) % _STRANDED_RETRY_MS:
            return
        if v.leg is None:
            if not v.stops or v.status is VehicleStatus.WAITING:
                v.speed_kmh = 0.0
                return
            if not self._plan(v):
                return
        self._drive(v, dt_s)

    def _end_hold(self, v: _Vehicle) -> None:
        v.hold_until_ms = None
        if v.status is VehicleStatus.QUEUED:
            v.status = VehicleStatus.DRIVING
            return
        if v.status is VehicleStatus.UNLOADING:
            stop = v.stops.popleft()
            shipment = self._shipment(stop.shipment_id or "")
            v.shipments.remove(shipment.id)
            shipment.loaded, shipment.delivered_at_ms = False, self.now_ms
            v.reefer.loaded = bool(v.shipments)
            self._event("delivered", shipment.id, vehicle=v.id, at=stop.node_id)
        elif v.status is VehicleStatus.LOADING:
            v.stops.popleft()
        if v.door_events_until_ms is None:
            v.reefer.door_open = False
        v.status = VehicleStatus.IDLE

    def _plan(self, v: _Vehicle) -> bool:
        """Route from the parked vehicle to its next stop; arrive at once if it is already there."""
        stop = v.stops[0]
        assert v.node_id is not None, "only parked vehicles plan"
        if v.node_id == stop.node_id:
            self._arrive(v, stop)
            return False
        try:
            route = self.graph.shortest_path(
                v.node_id,
                stop.node_id,
                vehicle_max_kmh=v.max_speed_kmh,
                closed=self.closed_edges(),
                speed_factor=lambda cls: traffic_factor(cls, self.now_ms),
            )
        except NoRouteError as exc:
            if v.status is not VehicleStatus.STRANDED:
                self._event("stranded", v.id, reason=str(exc))
            v.status = VehicleStatus.STRANDED
            return False
        v.legs, v.leg_index, v.leg_pos_m = list(route.legs), 0, 0.0
        v.eta_ms = self.now_ms + round(route.travel_s * 1000)
        v.status = VehicleStatus.DRIVING
        v.node_id = None
        self._event("departed", v.id, to=stop.node_id, route=route.node_ids, eta_s=round(route.travel_s))
        self._enter_leg(v)
        return True

    def _arrive(self, v: _Vehicle, stop: Stop) -> None:
        v.legs, v.leg_index, v.leg_pos_m, v.speed_kmh = [], 0, 0.0, 0.0
        node = self.graph.node(stop.node_id)
        v.node_id, v.lat, v.lon = node.id, node.lat, node.lon
        if stop.action is StopAction.WAIT:
            v.status = VehicleStatus.WAITING
            self._event("waiting", v.id, at=node.id)
            return
        shipment = self._shipment(stop.shipment_id or "")
        v.reefer.door_open = True
        v.hold_until_ms = self.now_ms + stop.dwell_ms
        if stop.action is StopAction.LOAD:
            v.status = VehicleStatus.LOADING
            v.shipments.append(shipment.id)
            shipment.loaded, shipment.vehicle_id = True, v.id
            if not v.reefer.loaded:
                # Meat leaves the chiller at the setpoint it is shipped at.
                v.reefer.loaded, v.reefer.cargo_c = True, shipment.setpoint_c
            self._event("loading", shipment.id, vehicle=v.id, at=node.id)
        else:
            v.status = VehicleStatus.UNLOADING
            self._event("unloading", shipment.id, vehicle=v.id, at=node.id)

    def _truncate_to_current_leg(self, v: _Vehicle) -> None:
        """Keep driving to the end of the current road; the route on from there is planned again."""
        if v.leg is not None:
            v.legs = v.legs[: v.leg_index + 1]
        if v.status is VehicleStatus.STRANDED:
            v.status = VehicleStatus.IDLE

    def _enter_leg(self, v: _Vehicle) -> None:
        leg = v.leg
        assert leg is not None
        v.incident_at_m = None
        rate_per_m = self.traffic.incidents_per_100km / 100_000
        if v.traffic_rng.random() < 1 - math.exp(-rate_per_m * leg.length_m):
            v.incident_at_m = v.traffic_rng.uniform(0.1, 0.9) * leg.length_m
            low, high = self.traffic.incident_delay_ms
            v.incident_delay_ms = v.traffic_rng.randint(low, high)

    def _drive(self, v: _Vehicle, dt_s: float) -> None:
        remaining_s = dt_s
        travelled = 0.0
        while remaining_s > 1e-9:
            leg = v.leg
            if leg is None:
                self._arrive(v, v.stops[0])
                break
            speed_ms = (
                leg.edge.hgv_speed_kmh(v.max_speed_kmh)
                * traffic_factor(leg.edge.road_class, self.now_ms)
                / 3.6
            )
            v.speed_kmh = speed_ms * 3.6
            limit_m = leg.length_m if v.incident_at_m is None else v.incident_at_m
            step_m = min(speed_ms * remaining_s, limit_m - v.leg_pos_m)
            v.leg_pos_m += step_m
            travelled += step_m
            remaining_s -= step_m / speed_ms
            if v.incident_at_m is not None and v.leg_pos_m >= v.incident_at_m - 1e-6:
                v.incident_at_m = None
                v.status = VehicleStatus.QUEUED
                v.hold_until_ms = self.now_ms + v.incident_delay_ms
                v.eta_ms = (v.eta_ms or self.now_ms) + v.incident_delay_ms
                v.speed_kmh = 0.0
                braking = v.traffic_rng.randint(350, 700)  # hard braking into a queue, ~0.5 g
                v.peak_shock_milli_g = max(v.peak_shock_milli_g, braking)
                self._event("incident", v.id, edge=leg.edge.id, delay_ms=v.incident_delay_ms)
                break
            if v.leg_pos_m >= leg.length_m - 1e-6:
                v.leg_index += 1
                v.leg_pos_m = 0.0
                if v.leg is None:
                    v.lat, v.lon = self.graph.node(leg.end_id).lat, self.graph.node(leg.end_id).lon
                    if v.stops[0].node_id == leg.end_id:
                        self._arrive(v, v.stops[0])
                    else:
                        self._replan_at(v, leg.end_id)
                    break
                if self._detour_for_closures(v, leg.end_id):
                    if v.status is not VehicleStatus.DRIVING:
                        break
                else:
                    self._enter_leg(v)
        leg = v.leg
        if leg is not None:
            v.lat, v.lon = leg.position(v.leg_pos_m)
        v.odometer_m += travelled
        self._potholes(v, travelled)
        while v.failures_after_m and v.odometer_m >= v.failures_after_m[0][0]:
            _, severity = v.failures_after_m.pop(0)
            self.fail_compressor(v.id, severity)

    def _replan_at(self, v: _Vehicle, node_id: str) -> None:
        """The route ended short of the stop (after a reroute): park at the node and plan afresh."""
        v.legs, v.leg_index, v.leg_pos_m = [], 0, 0.0
        v.node_id = node_id
        v.status = VehicleStatus.IDLE

    def _detour_for_closures(self, v: _Vehicle, node_id: str) -> bool:
        """At a junction, plan again if a road still ahead has closed; True if the route changed."""
        closed = self.closed_edges()
        if not any(leg.edge.id in closed for leg in v.legs[v.leg_index :]):
            return False
        self._event("closure_detour", v.id, at=node_id)
        self._replan_at(v, node_id)
        self._plan(v)
        return True

    def _potholes(self, v: _Vehicle, travelled_m: float) -> None:
        if travelled_m <= 0:
            return
        if v.traffic_rng.random() < 1 - math.exp(-self.traffic.potholes_per_km * travelled_m / 1000):
            v.peak_shock_milli_g = max(v.peak_shock_milli_g, v.traffic_rng.randint(800, 3000))

    # ------------------------------------------------------------------ sensors

    def _sample(self) -> list[Sample]:
        samples = []
        outdoor_lux = self.weather.outdoor_lux(self.now_ms)
        for v in self._vehicles.values():
            leg = v.leg
            if v.speed_kmh > 0 and leg is not None:
                low, high = _BASE_VIBRATION_MILLI_G[leg.edge.road_class]
            else:
                low, high = 5, 20  # engine idling, reefer unit running
            vibration = v.sensor_rng.randint(low, high)
            shock = max(vibration, v.peak_shock_milli_g)
            v.peak_shock_milli_g = 0
            for shipment_id in v.shipments:
                samples.append(self._reading(v, self._shipments[shipment_id], shock, outdoor_lux))
        return samples

    def _reading(self, v: _Vehicle, shipment: _Shipment, shock_milli_g: int, outdoor_lux: float) -> Sample:
        rng = self._device_rngs.setdefault(shipment.device_id, _rng(self.seed, "sensor", shipment.device_id))
        # Sensor noise as in a typical reefer logger datasheet: 0.1 C resolution class, 2 % RH, 3 m GPS.
        temp = v.reefer.air_c + rng.gauss(0, 0.05)
        humidity = v.reefer.relative_humidity + rng.gauss(0, 0.005)
        lux = outdoor_lux * 0.1 * (1 + rng.gauss(0, 0.05)) if v.reefer.door_open else 0.0
        lat, lon = offset(v.lat, v.lon, rng.gauss(0, 3.0), rng.gauss(0, 3.0))
        reading = ReadingIn(
            ts_ms=self.now_ms,
            temp_centi_c=round(temp * 100),
            humidity_bp=min(10_000, max(0, round(humidity * 10_000))),
            light_lux=max(0, round(lux)),
            shock_milli_g=shock_milli_g,
            lat_e7=round(lat * 1e7),
            lon_e7=round(lon * 1e7),
        )
        return Sample(shipment.device_id, shipment.id, v.id, reading)

    # ------------------------------------------------------------------ helpers

    def _vehicle(self, vehicle_id: str) -> _Vehicle:
        try:
            return self._vehicles[vehicle_id]
        except KeyError:
            raise SimError(f"unknown vehicle {vehicle_id!r}") from None

    def _shipment(self, shipment_id: str) -> _Shipment:
        try:
            return self._shipments[shipment_id]
        except KeyError:
            raise SimError(f"unknown shipment {shipment_id!r}") from None

    def _event(self, kind: str, subject: str, **detail: Any) -> None:
        event = Event(self.now_ms, kind, subject, detail)
        self.events.append(event)
        logger.debug("t=%d %s %s %s", self.now_ms, kind, subject, detail)
