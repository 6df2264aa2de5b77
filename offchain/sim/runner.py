"""Play a scenario through the simulator: schedule its shipments and faults, pace the clock, feed sinks."""

from __future__ import annotations

import csv
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO

from offchain.api.signing import READING_FIELDS

from .environment import Weather
from .roads import RoadGraph
from .scenario import (
    CarrierNoShow,
    CompressorFailure,
    DoorOpen,
    HandoverSpec,
    RoadClosure,
    Scenario,
    ShipmentSpec,
    ShockEvent,
    SupplierSilence,
)
from .world import Sample, Simulator, TrafficParams, VehicleStatus

logger = logging.getLogger(__name__)

MS_PER_MIN = 60_000
# The columns `python -m offchain.api.replay` reads, plus the vehicle carrying the logger.
CSV_COLUMNS = ("ts", "shipment", "device", "vehicle", *(name for name in READING_FIELDS if name != "ts_ms"))


class SampleSink(Protocol):
    def write(self, samples: Sequence[Sample]) -> None: ...

    def close(self) -> None: ...


class CsvSink:
    """Readings as CSV, byte-stable for a given seed and scenario (the determinism tests compare bytes)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: TextIO = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle, lineterminator="\n")
        self._writer.writerow(CSV_COLUMNS)

    def write(self, samples: Sequence[Sample]) -> None:
        for sample in samples:
            r = sample.reading
            self._writer.writerow(
                (
                    r.ts_ms,
                    sample.shipment_id,
                    sample.device_id,
                    sample.vehicle_id,
                    r.temp_centi_c,
                    r.humidity_bp,
                    r.light_lux,
                    r.shock_milli_g,
                    r.lat_e7,
                    r.lon_e7,
                )
            )

        # Flushed per step so a paced run can be followed (tail -f) and a crash loses nothing written.
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


class MemorySink:
    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def write(self, samples: Sequence[Sample]) -> None:
        self.samples.extend(samples)

    def close(self) -> None:
        pass


def build_simulator(scenario: Scenario, graph: RoadGraph, seed: int) -> Simulator:
    """A world with the scenario's vehicles, and its shipments and faults scheduled on the clock."""
    start = scenario.start_ms
    low, high = scenario.traffic.incident_delay_min
    sim = Simulator(
        graph,
        seed=seed,
        start_ms=start,
        sample_interval_ms=scenario.sample_interval_s * 1000,
        weather=Weather(
            mean_c=scenario.weather.mean_c,
            amplitude_c=scenario.weather.amplitude_c,
            relative_humidity=scenario.weather.relative_humidity,
        ),
        traffic=TrafficParams(
            incidents_per_100km=scenario.traffic.incidents_per_100km,
            incident_delay_ms=(round(low * MS_PER_MIN), round(high * MS_PER_MIN)),
            potholes_per_km=scenario.traffic.potholes_per_km,
        ),
    )
    # Carriers pre-cool a box for its first load before the run starts.
    first_setpoint: dict[str, float] = {}
    for shipment in scenario.shipments:
        first_setpoint.setdefault(shipment.vehicle, shipment.setpoint_c)
        if shipment.handover is not None:
            first_setpoint.setdefault(shipment.handover.to_vehicle, shipment.setpoint_c)
    for vehicle in scenario.vehicles:
        sim.add_vehicle(
            vehicle.id,
            carrier=vehicle.carrier,
            at=vehicle.start_at,
            max_speed_kmh=vehicle.max_speed_kmh,
            precooled_c=first_setpoint.get(vehicle.id) if vehicle.precooled_c is None else vehicle.precooled_c,
        )

    def at(minutes: float) -> int:
        return start + round(minutes * MS_PER_MIN)

    no_shows = {f.shipment for f in scenario.faults if isinstance(f, CarrierNoShow) and f.shipment}
    for shipment in scenario.shipments:
        if shipment.id in no_shows:
            # The carrier never turns up: the load stays at the origin for the agents to re-tender.
            sim.raise_flag("carrier_no_show", shipment.id, at(shipment.depart_min))
            continue
        sim.schedule(at(shipment.depart_min), _starter(sim, shipment))
        if shipment.handover is not None:
            handover = shipment.handover
            sim.add_watcher(_reroute_once_under_way(sim, shipment.id, shipment.vehicle, handover.at))
            sim.schedule(at(handover.call_min), _sender(sim, handover.to_vehicle, handover.at))
            sim.add_watcher(_handover_when_met(sim, shipment.id, shipment.vehicle, handover))
    for fault in scenario.faults:
        match fault:
            case CompressorFailure(at_min=None, after_km=km):
                sim.fail_compressor(fault.vehicle, fault.severity, after_km=km)
            case CompressorFailure(at_min=float() as minutes):
                sim.schedule(at(minutes), _failer(sim, fault.vehicle, fault.severity))
            case RoadClosure():
                sim.close_road(
                    fault.edge, at(fault.from_min), None if fault.to_min is None else at(fault.to_min)
                )
            case SupplierSilence():
                until = None if fault.to_min is None else at(fault.to_min)
                sim.raise_flag("supplier_silence", fault.supplier, at(fault.from_min), until)
            case DoorOpen():
                sim.schedule(
                    at(fault.at_min), _door(sim, fault.vehicle, round(fault.duration_min * MS_PER_MIN))
                )
            case ShockEvent():
                sim.schedule(at(fault.at_min), _knock(sim, fault.vehicle, fault.milli_g))
    return sim


# Small factories so each scheduled closure captures its own values.
def _starter(sim: Simulator, s: ShipmentSpec) -> Callable[[], None]:
    return lambda: sim.start_shipment(
        s.id,
        s.vehicle,
        origin=s.origin,
        destination=s.destination,
        setpoint_c=s.setpoint_c,
        product=s.cargo.product,
        mass_kg=s.cargo.mass_kg,
        loading_ms=round(s.loading_min * MS_PER_MIN),
    )


def _sender(sim: Simulator, vehicle: str, to: str) -> Callable[[], None]:
    return lambda: sim.reroute(vehicle, to)


def _reroute_once_under_way(sim: Simulator, shipment_id: str, vehicle: str, to: str) -> Callable[[], bool]:
    """Divert the loaded vehicle to the handover point once it has left the origin (a mid-route reroute)."""

    def check() -> bool:
        state = sim.vehicle_state(vehicle)
        if shipment_id in state.shipments and state.status is VehicleStatus.DRIVING:
            sim.reroute(vehicle, to)
            return True
        return False

    return check


def _handover_when_met(
    sim: Simulator, shipment_id: str, giver: str, spec: HandoverSpec
) -> Callable[[], bool]:
    """A watcher that hands the load over once both vehicles wait at the handover point; True when done."""

    def check() -> bool:
        a, b = sim.vehicle_state(giver), sim.vehicle_state(spec.to_vehicle)
        waiting = VehicleStatus.WAITING
        together = a.status is waiting and b.status is waiting and a.node_id == b.node_id == spec.at
        if together and shipment_id in a.shipments:
            sim.handoff(shipment_id, spec.to_vehicle, dwell_ms=round(spec.dwell_min * MS_PER_MIN))
            return True
        return False

    return check


def _failer(sim: Simulator, vehicle: str, severity: float) -> Callable[[], None]:
    return lambda: sim.fail_compressor(vehicle, severity)


def _door(sim: Simulator, vehicle: str, duration_ms: int) -> Callable[[], None]:
    return lambda: sim.open_door(vehicle, duration_ms)


def _knock(sim: Simulator, vehicle: str, milli_g: int) -> Callable[[], None]:
    return lambda: sim.shock(vehicle, milli_g)


@dataclass(frozen=True)
class RunSummary:
    sim_minutes: float
    wall_s: float
    readings: int
    delivered: dict[str, int | None]
    interrupted: bool


def run(
    sim: Simulator,
    until_ms: int,
    sinks: Sequence[SampleSink],
    *,
    speed: float = 0.0,
    stop: threading.Event | None = None,
    progress_every_ms: int = 10 * MS_PER_MIN,
) -> RunSummary:
    """Advance `sim` to `until_ms` (or until every shipment is delivered and nothing is scheduled).

    `speed` maps simulated to wall time (60: one simulated minute per second; 0: as fast as possible).
    Setting `stop` ends the run at the next sample boundary; the sinks are flushed either way.
    """
    stop = stop or threading.Event()
    wall_start = time.monotonic()
    sim_start = sim.now_ms
    readings = 0
    next_progress = sim.now_ms + progress_every_ms
    try:
        while sim.now_ms < until_ms and not stop.is_set():
            samples = sim.advance_to(min(until_ms, sim.now_ms + sim.sample_interval_ms))
            for sink in sinks:
                sink.write(samples)
            readings += len(samples)
            if sim.now_ms >= next_progress:
                next_progress += progress_every_ms
                _report(sim, sim_start, readings)
            if sim.all_delivered() and not sim.has_scheduled():
                break
            if speed > 0:
                due = wall_start + (sim.now_ms - sim_start) / 1000 / speed
                stop.wait(max(0.0, due - time.monotonic()))
    finally:
        for sink in sinks:
            sink.close()
    return RunSummary(
        sim_minutes=(sim.now_ms - sim_start) / MS_PER_MIN,
        wall_s=time.monotonic() - wall_start,
        readings=readings,
        delivered=sim.delivery_times(),
        interrupted=stop.is_set(),
    )


def _report(sim: Simulator, sim_start: int, readings: int) -> None:
    minutes = (sim.now_ms - sim_start) / MS_PER_MIN
    for vehicle_id in sim.vehicle_ids():
        s = sim.vehicle_state(vehicle_id)
        logger.info(
            "+%5.0f min %-10s %-9s %-22s %5.1f km/h air %5.2f C rh %3.0f%% compressor %s%s",
            minutes,
            s.vehicle_id,
            s.status,
            s.road or s.node_id or "",
            s.speed_kmh,
            s.air_c,
            s.relative_humidity * 100,
            "on" if s.compressor_on else "off",
            "" if s.compressor_health == 1 else f" (health {s.compressor_health:.0%})",
        )
    flags = ", ".join(f"{f.kind}:{f.subject}" for f in sim.active_flags())
    logger.info("+%5.0f min %d readings%s", minutes, readings, f"; flags {flags}" if flags else "")
