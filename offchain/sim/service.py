"""The world as a service: one `Simulator` paced at a speed-up factor, its loggers' signed readings posted to
the ingestion API, the scenario's faults applied on the simulated clock, the local chain's clock following it,
and the world port (`offchain/agents/world.py: WorldPort`) served over HTTP for the carrier and logistics
agents (`offchain/sim/client.py: WorldClient`).

    python -m offchain.sim serve SCENARIO.yaml --port 9350 --api URL --speed 60 --seed 7 [--chain URL]

Shipment ids are decimal custody twin ids (the API's shipment id); place ids are road-graph node ids.
Errors are JSON `{"error": CODE, "detail": MESSAGE}`: 404 unknown vehicle/place/shipment, 409 a command the
world cannot honour now (not together, not arrived, dispatched differently, over capacity), 422 bad input.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from .clock import ChainClock, ClockError
from .devices import ApiPublisher, PublishError
from .environment import traffic_factor
from .roads import NoRouteError, RoadGraph, UnknownPlaceError
from .runner import MS_PER_MIN, build_simulator
from .scenario import Scenario
from .world import SimError, Simulator, VehicleState, VehicleStatus

logger = logging.getLogger(__name__)

T = TypeVar("T")
PortStatus = Literal["idle", "to_pickup", "loading", "in_transit", "arrived", "waiting", "stranded"]
# Below this share of its cooling capacity a unit cannot hold a chilled setpoint on a warm day (the same
# threshold as offchain/agents/world.py's LocalWorld).
REEFER_OK_HEALTH = 0.8


class WorldServiceError(RuntimeError):
    """A world-port command refused; `code` and `status` become the HTTP error."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def _unknown(kind: str, detail: str) -> WorldServiceError:
    return WorldServiceError(404, f"unknown_{kind}", detail)


def _conflict(code: str, detail: str) -> WorldServiceError:
    return WorldServiceError(409, code, detail)


# ---------------------------------------------------------------------------------------------- wire models
class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VehicleOut(_Wire):
    id: str
    carrier: str
    status: PortStatus
    place: str | None
    lat_e7: int
    lon_e7: int
    eta_ms: int | None
    shipments: list[str]
    reefer_ok: bool
    capacity_kg: int


class RoutePlanOut(_Wire):
    origin: str
    destination: str
    distance_m: int
    duration_ms: int
    path: list[str]


class DispatchIn(_Wire):
    shipment_id: str = Field(pattern=r"^[0-9]{1,78}$", description="Decimal custody twin id.")
    origin: str
    destination: str
    setpoint_centi_c: int = Field(ge=-3000, le=2000)
    product: str = Field(min_length=1, max_length=64)
    mass_kg: int = Field(gt=0, le=40_000)


class DivertIn(_Wire):
    place: str


class TransferIn(_Wire):
    to_vehicle_id: str


class NowOut(_Wire):
    now_ms: int
    start_ms: int
    speed: float


class ShipmentOut(_Wire):
    id: str
    vehicle: str | None
    origin: str
    destination: str
    loaded: bool
    delivered_at_ms: int | None


class EventOut(_Wire):
    seq: int
    ts_ms: int
    kind: str
    subject: str
    detail: dict[str, Any]


class StatusOut(_Wire):
    scenario: str
    now_ms: int
    speed: float
    readings_posted: int
    chain_warps: int
    flags: list[str]


# ---------------------------------------------------------------------------------------------- the world
@dataclass(frozen=True)
class _Dispatch:
    vehicle_id: str
    origin: str
    destination: str
    setpoint_centi_c: int
    product: str
    mass_kg: int


class WorldService:
    """The simulator behind a lock, advanced by a pacing thread; every port command is one locked call."""

    def __init__(
        self,
        scenario: Scenario,
        graph: RoadGraph,
        *,
        seed: int,
        speed: float,
        publisher: ApiPublisher | None = None,
        clock: ChainClock | None = None,
        step_wall_s: float = 0.2,
        loading_ms: int = 10 * MS_PER_MIN,
        handoff_dwell_ms: int = 15 * MS_PER_MIN,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"a served world needs a speed > 0 (simulated s per wall s), got {speed}")
        played = scenario.model_copy(update={"shipments": []}) if scenario.played_by_agents else scenario
        self.scenario = scenario
        self.sim: Simulator = build_simulator(played, graph, seed)
        self.speed = speed
        self._capacity = {v.id: v.capacity_kg for v in scenario.vehicles}
        self._publisher = publisher
        self._clock = clock
        self._step_wall_s = step_wall_s
        self._loading_ms = loading_ms
        self._handoff_dwell_ms = handoff_dwell_ms
        self._lock = threading.Lock()
        self._dispatches: dict[str, _Dispatch] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.readings_posted = 0

    # -------------------------------------------------------------- pacing
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="world-pacer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._publisher is not None:
            try:
                self._publisher.close()
            except PublishError as exc:
                logger.error("readings left unposted at shutdown: %s", exc)

    def _run(self) -> None:
        wall_start, sim_start = time.monotonic(), self.sim.now_ms
        logger.info("world %s running from %d at %gx", self.scenario.name, sim_start, self.speed)
        while not self._stop.is_set():
            self.advance_to(sim_start + round((time.monotonic() - wall_start) * self.speed * 1000))
            self._stop.wait(self._step_wall_s)

    def advance_to(self, target_ms: int) -> int:
        """Run the world up to `target_ms`, post the readings, let the chain's clock follow; the new time."""
        with self._lock:
            samples = self.sim.advance_to(max(self.sim.now_ms, target_ms))
            now_ms = self.sim.now_ms
        if self._publisher is not None and samples:
            self._publish(samples)
        if self._clock is not None:
            try:
                self._clock.follow(now_ms)
            except (ClockError, OSError) as exc:
                logger.warning("chain clock not warped to %d: %s", now_ms, exc)
        return now_ms

    def _publish(self, samples: list[Any]) -> None:
        assert self._publisher is not None
        try:
            self._publisher.write(samples)
            # Every step, not only full batches: the oracles watch these streams live.
            self._publisher.flush()
        except PublishError as exc:
            # The pending batch stays queued under the same seq, so the next step re-posts it (idempotent).
            logger.error("posting readings failed (will retry): %s", exc)
        self.readings_posted = self._publisher.readings_posted

    def _locked(self, action: Callable[[], T]) -> T:
        with self._lock:
            try:
                return action()
            except UnknownPlaceError as exc:
                raise _unknown("place", str(exc)) from None
            except NoRouteError as exc:
                raise _conflict("no_route", str(exc)) from None

    # -------------------------------------------------------------- queries
    def now(self) -> NowOut:
        return self._locked(lambda: NowOut(now_ms=self.sim.now_ms, start_ms=self.sim.start_ms, speed=self.speed))

    def fleet(self, carrier: str) -> list[VehicleOut]:
        def read() -> list[VehicleOut]:
            states = [self.sim.vehicle_state(v) for v in self.sim.vehicle_ids()]
            mine = [self._view(s) for s in states if s.carrier == carrier]
            if not mine:
                carriers = sorted({s.carrier for s in states})
                raise _unknown("carrier", f"unknown carrier {carrier!r} (known: {', '.join(carriers)})")
            return mine

        return self._locked(read)

    def vehicle(self, vehicle_id: str) -> VehicleOut:
        return self._locked(lambda: self._view(self._state(vehicle_id)))

    def plan(self, origin: str, destination: str) -> RoutePlanOut:
        def route() -> RoutePlanOut:
            now = self.sim.now_ms
            if origin == destination:
                self.sim.graph.node(origin)
                return RoutePlanOut(origin=origin, destination=destination, distance_m=0, duration_ms=0, path=[origin])
            found = self.sim.graph.shortest_path(
                origin,
                destination,
                closed=self.sim.closed_edges(),
                speed_factor=lambda cls: traffic_factor(cls, now),
            )
            return RoutePlanOut(
                origin=origin,
                destination=destination,
                distance_m=round(found.length_m),
                duration_ms=round(found.travel_s * 1000),
                path=found.node_ids,
            )

        return self._locked(route)

    def shipment(self, shipment_id: str) -> ShipmentOut:
        def read() -> ShipmentOut:
            if shipment_id not in self._dispatches:
                raise _unknown("shipment", f"shipment {shipment_id} was never dispatched")
            info = self.sim.shipment_info(shipment_id)
            return ShipmentOut(**info)

        return self._locked(read)

    def events(self, since: int) -> list[EventOut]:
        def read() -> list[EventOut]:
            return [
                EventOut(seq=i, ts_ms=e.ts_ms, kind=e.kind, subject=e.subject, detail=_jsonable(e.detail))
                for i, e in enumerate(self.sim.events[since:], start=since)
            ]

        return self._locked(read)

    def status(self) -> StatusOut:
        def read() -> StatusOut:
            return StatusOut(
                scenario=self.scenario.name,
                now_ms=self.sim.now_ms,
                speed=self.speed,
                readings_posted=self.readings_posted,
                chain_warps=0 if self._clock is None else self._clock.warps,
                flags=[f"{f.kind}:{f.subject}" for f in self.sim.active_flags()],
            )

        return self._locked(read)

    # -------------------------------------------------------------- commands
    def dispatch(self, vehicle_id: str, order: DispatchIn) -> None:
        wanted = _Dispatch(
            vehicle_id, order.origin, order.destination, order.setpoint_centi_c, order.product, order.mass_kg
        )

        def act() -> None:
            self._state(vehicle_id)
            known = self._dispatches.get(order.shipment_id)
            if known == wanted:
                return  # a retried dispatch: the world already does it
            if known is not None:
                self._dispatch_relief(vehicle_id, order, known)
                return
            load = sum(
                d.mass_kg
                for s, d in self._dispatches.items()
                if d.vehicle_id == vehicle_id and self.sim.delivered(s) is None
            )
            if load + order.mass_kg > self._capacity[vehicle_id]:
                raise _conflict(
                    "over_capacity",
                    f"{vehicle_id} carries {load} kg of {self._capacity[vehicle_id]} kg; {order.mass_kg} kg more "
                    "do not fit",
                )
            try:
                self.sim.start_shipment(
                    order.shipment_id,
                    vehicle_id,
                    origin=order.origin,
                    destination=order.destination,
                    setpoint_c=order.setpoint_centi_c / 100,
                    product=order.product,
                    mass_kg=order.mass_kg,
                    loading_ms=self._loading_ms,
                    hold_at_destination=True,
                )
            except SimError as exc:
                raise _conflict("refused", str(exc)) from None
            self._dispatches[order.shipment_id] = wanted
            logger.info(
                "dispatch %s: shipment %s %s -> %s", vehicle_id, order.shipment_id, order.origin, order.destination
            )

        self._locked(act)

    def _dispatch_relief(self, vehicle_id: str, order: DispatchIn, known: _Dispatch) -> None:
        """A shipment already under way dispatched to another vehicle (a reroute leg): the new vehicle drives
        to the leg's origin (the handover point), pre-cools to the setpoint and waits there for `transfer`."""
        if known.destination != order.destination or known.product != order.product:
            raise _conflict(
                "dispatched_differently",
                f"shipment {order.shipment_id} goes to {known.destination} with {known.product}, not to "
                f"{order.destination} with {order.product}",
            )
        if known.vehicle_id == vehicle_id:
            return  # the relief vehicle already holds it (transferred) or was sent already
        state = self.sim.vehicle_state(vehicle_id)
        if not (state.next_action == "wait" and state.next_shipment is None and state.next_stop == order.origin):
            self.sim.reroute(vehicle_id, order.origin)
        self.sim.precool(vehicle_id, order.setpoint_centi_c / 100)
        logger.info("dispatch %s: relief for shipment %s at %s", vehicle_id, order.shipment_id, order.origin)

    def divert(self, vehicle_id: str, place: str) -> None:
        def act() -> None:
            state = self._state(vehicle_id)
            self.sim.graph.node(place)
            heading_there = state.next_action == "wait" and state.next_shipment is None and state.next_stop == place
            if heading_there:
                return  # already going there (or waiting there)
            self.sim.reroute(vehicle_id, place)
            logger.info("divert %s to %s", vehicle_id, place)

        self._locked(act)

    def transfer(self, shipment_id: str, to_vehicle_id: str) -> None:
        def act() -> None:
            receiver = self._state(to_vehicle_id)
            if shipment_id not in self._dispatches:
                raise _unknown("shipment", f"shipment {shipment_id} was never dispatched")
            info = self.sim.shipment_info(shipment_id)
            if info["vehicle"] == to_vehicle_id:
                return  # done already
            if not info["loaded"] or info["vehicle"] is None:
                raise _conflict("not_loaded", f"shipment {shipment_id} is not on a vehicle")
            giver = self.sim.vehicle_state(info["vehicle"])
            for state in (giver, receiver):
                if state.status is not VehicleStatus.WAITING:
                    raise _conflict(
                        "not_waiting", f"{state.vehicle_id} is {self._port_status(state)}, not waiting at a place"
                    )
            if giver.node_id != receiver.node_id:
                raise _conflict(
                    "not_together",
                    f"{giver.vehicle_id} waits at {giver.node_id}, {receiver.vehicle_id} at {receiver.node_id}",
                )
            try:
                self.sim.handoff(shipment_id, to_vehicle_id, dwell_ms=self._handoff_dwell_ms)
            except SimError as exc:
                raise _conflict("refused", str(exc)) from None
            self._dispatches[shipment_id] = _replace_vehicle(self._dispatches[shipment_id], to_vehicle_id)
            logger.info(
                "transfer shipment %s %s -> %s at %s", shipment_id, giver.vehicle_id, to_vehicle_id, giver.node_id
            )

        self._locked(act)

    def unload(self, shipment_id: str) -> None:
        def act() -> None:
            if shipment_id not in self._dispatches:
                raise _unknown("shipment", f"shipment {shipment_id} was never dispatched")
            info = self.sim.shipment_info(shipment_id)
            if info["delivered_at_ms"] is not None:
                return
            vehicle = self.sim.vehicle_state(info["vehicle"]) if info["vehicle"] else None
            unloading = vehicle is not None and (
                vehicle.status is VehicleStatus.UNLOADING
                or (vehicle.next_action == "unload" and vehicle.next_shipment == shipment_id)
            )
            if unloading:
                return  # released already: the doors open on the next tick or are open
            try:
                self.sim.release(shipment_id)
            except SimError as exc:
                raise _conflict("not_arrived", str(exc)) from None
            logger.info("unload shipment %s at %s", shipment_id, info["destination"])

        self._locked(act)

    # -------------------------------------------------------------- helpers (lock held)
    def _state(self, vehicle_id: str) -> VehicleState:
        try:
            return self.sim.vehicle_state(vehicle_id)
        except SimError:
            known = ", ".join(self.sim.vehicle_ids())
            raise _unknown("vehicle", f"unknown vehicle {vehicle_id!r} (known: {known})") from None

    def _view(self, s: VehicleState) -> VehicleOut:
        return VehicleOut(
            id=s.vehicle_id,
            carrier=s.carrier,
            status=self._port_status(s),
            place=s.node_id,
            lat_e7=round(s.lat * 1e7),
            lon_e7=round(s.lon * 1e7),
            eta_ms=s.eta_ms,
            shipments=list(s.shipments),
            reefer_ok=s.compressor_health >= REEFER_OK_HEALTH,
            capacity_kg=self._capacity[s.vehicle_id],
        )

    @staticmethod
    def _port_status(s: VehicleState) -> PortStatus:
        match s.status:
            case VehicleStatus.STRANDED:
                return "stranded"
            case VehicleStatus.LOADING | VehicleStatus.HANDOFF:
                return "loading"
            case VehicleStatus.UNLOADING:
                return "arrived"
            case VehicleStatus.WAITING:
                return "arrived" if s.next_shipment is not None else "waiting"
            case VehicleStatus.DRIVING | VehicleStatus.QUEUED | VehicleStatus.IDLE if s.next_action is not None:
                return "to_pickup" if s.next_action == "load" else "in_transit"
            case _:
                return "idle"


def _replace_vehicle(d: _Dispatch, vehicle_id: str) -> _Dispatch:
    return _Dispatch(vehicle_id, d.origin, d.destination, d.setpoint_centi_c, d.product, d.mass_kg)


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in detail.items()}


# ---------------------------------------------------------------------------------------------- HTTP
def create_app(world: WorldService) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        world.start()
        try:
            yield
        finally:
            world.stop()

    app = FastAPI(title="ASC world service", version="1", lifespan=lifespan)

    @app.exception_handler(WorldServiceError)
    async def refused(_request: Any, exc: WorldServiceError) -> JSONResponse:
        return JSONResponse({"error": exc.code, "detail": exc.detail}, status_code=exc.status)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/now")
    def now() -> NowOut:
        return world.now()

    @app.get("/status")
    def status() -> StatusOut:
        return world.status()

    @app.get("/fleet/{carrier}")
    def fleet(carrier: str) -> list[VehicleOut]:
        return world.fleet(carrier)

    @app.get("/vehicles/{vehicle_id}")
    def vehicle(vehicle_id: str) -> VehicleOut:
        return world.vehicle(vehicle_id)

    @app.get("/plan")
    def plan(origin: str, destination: str) -> RoutePlanOut:
        return world.plan(origin, destination)

    @app.get("/shipments/{shipment_id}")
    def shipment(shipment_id: str) -> ShipmentOut:
        return world.shipment(shipment_id)

    @app.get("/events")
    def events(since: Annotated[int, Query(ge=0)] = 0) -> list[EventOut]:
        return world.events(since)

    @app.post("/vehicles/{vehicle_id}/dispatch", status_code=204)
    def dispatch(vehicle_id: str, order: DispatchIn) -> None:
        world.dispatch(vehicle_id, order)

    @app.post("/vehicles/{vehicle_id}/divert", status_code=204)
    def divert(vehicle_id: str, body: DivertIn) -> None:
        world.divert(vehicle_id, body.place)

    @app.post("/shipments/{shipment_id}/transfer", status_code=204)
    def transfer(shipment_id: str, body: TransferIn) -> None:
        world.transfer(shipment_id, body.to_vehicle_id)

    @app.post("/shipments/{shipment_id}/unload", status_code=204)
    def unload(shipment_id: str) -> None:
        world.unload(shipment_id)

    return app
