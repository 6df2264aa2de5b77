"""Scenarios in YAML: vehicles, shipments, weather and injected faults, validated with pydantic.

Times are minutes after the scenario's `start` (UTC). Every error names the file and the field, e.g.
`default.yaml: faults.0.vehicle: unknown vehicle 'truck-9' (known: truck-1)`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .roads import RoadGraph
from .story import ApproverSpec, DemandSpec, Expectations, OrganisationSpec

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$")]
Minutes = Annotated[float, Field(ge=0)]


class ScenarioError(ValueError):
    """A scenario file is unreadable or invalid; the message names the file and the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeatherSpec(_Model):
    mean_c: float = Field(default=10.0, ge=-30, le=45)
    amplitude_c: float = Field(default=4.0, ge=0, le=20)
    relative_humidity: float = Field(default=0.8, ge=0, le=1)


class TrafficSpec(_Model):
    incidents_per_100km: float = Field(default=2.0, ge=0, le=100)
    incident_delay_min: tuple[float, float] = (2.0, 12.0)
    potholes_per_km: float = Field(default=0.3, ge=0, le=50)


class VehicleSpec(_Model):
    id: Id
    carrier: Id
    start_at: str = Field(description="Node id of the depot the vehicle waits at.")
    max_speed_kmh: float = Field(default=90.0, gt=0, le=130)
    capacity_kg: int = Field(default=12_000, gt=0, le=40_000)
    precooled_c: float | None = Field(
        default=None, ge=-30, le=20, description="Box pre-cooled to this; default: its first shipment's setpoint."
    )


class CargoSpec(_Model):
    product: str = Field(min_length=1)
    mass_kg: float = Field(gt=0, le=30_000)


class HandoverSpec(_Model):
    """Mid-route transfer: both vehicles go to `at`; the load moves when both are there."""

    at: str = Field(description="Node id of the handover point.")
    to_vehicle: Id
    call_min: Minutes = Field(default=0.0, description="When the receiving vehicle is sent to `at`.")
    dwell_min: float = Field(default=15.0, gt=0, le=240)


class ShipmentSpec(_Model):
    id: Id
    origin: str
    destination: str
    vehicle: Id
    depart_min: Minutes = 0.0
    setpoint_c: float = Field(ge=-30, le=20)
    cargo: CargoSpec
    loading_min: float = Field(default=10.0, ge=0, le=240, description="Door open at origin and destination.")
    handover: HandoverSpec | None = None


class CompressorFailure(_Model):
    kind: Literal["compressor_failure"]
    vehicle: Id
    at_min: Minutes | None = None
    after_km: float | None = Field(default=None, ge=0)
    severity: float = Field(default=1.0, gt=0, le=1, description="Fraction of cooling capacity lost.")

    @model_validator(mode="after")
    def _one_trigger(self) -> CompressorFailure:
        if (self.at_min is None) == (self.after_km is None):
            raise ValueError("give exactly one of at_min and after_km")
        return self


class RoadClosure(_Model):
    kind: Literal["road_closure"]
    edge: str
    from_min: Minutes = 0.0
    to_min: Minutes | None = Field(default=None, description="Omitted: closed until the end.")

    @model_validator(mode="after")
    def _ordered(self) -> RoadClosure:
        if self.to_min is not None and self.to_min <= self.from_min:
            raise ValueError("to_min must be after from_min")
        return self


class SupplierSilence(_Model):
    kind: Literal["supplier_silence"]
    supplier: str = Field(description="Node id of the supplier that stops answering.")
    from_min: Minutes = 0.0
    to_min: Minutes | None = None


class CarrierNoShow(_Model):
    """A scripted shipment whose vehicle never turns up, or (agent scenarios) a carrier that wins and then
    never collects."""

    kind: Literal["carrier_no_show"]
    shipment: Id | None = Field(default=None, description="The shipment whose vehicle never turns up.")
    carrier: Id | None = Field(default=None, description="The carrier organisation that does not show.")

    @model_validator(mode="after")
    def _one_target(self) -> CarrierNoShow:
        if (self.shipment is None) == (self.carrier is None):
            raise ValueError("give exactly one of shipment and carrier")
        return self


class DoorOpen(_Model):
    kind: Literal["door_open"]
    vehicle: Id
    at_min: Minutes
    duration_min: float = Field(gt=0, le=240)


class ShockEvent(_Model):
    kind: Literal["shock"]
    vehicle: Id
    at_min: Minutes
    milli_g: int = Field(gt=0, le=200_000)


Fault = Annotated[
    CompressorFailure | RoadClosure | SupplierSilence | CarrierNoShow | DoorOpen | ShockEvent,
    Field(discriminator="kind"),
]


class Scenario(_Model):
    name: Id
    description: str = ""
    start: datetime
    duration_min: float = Field(gt=0, le=7 * 24 * 60, description="Simulated time to run.")
    sample_interval_s: int = Field(default=60, ge=1, le=3600)
    weather: WeatherSpec = WeatherSpec()
    traffic: TrafficSpec = TrafficSpec()
    vehicles: list[VehicleSpec] = Field(min_length=1)
    shipments: list[ShipmentSpec] = Field(default_factory=list, description="Scripted runs (no agents).")
    faults: list[Fault] = []
    organisations: list[OrganisationSpec] = Field(default_factory=list, description="Agent-played runs.")
    demand: list[DemandSpec] = Field(default_factory=list)
    approvers: list[ApproverSpec] = Field(default_factory=list, description="People the orchestrator plays.")
    expect: Expectations = Expectations()
    oracle_policy: dict[str, str | int | bool] = Field(
        default_factory=dict,
        description="Oracle node settings for the run (oracles/node/settings.py, without the ASC_ORACLE_ prefix).",
    )

    @model_validator(mode="after")
    def _something_to_play(self) -> Scenario:
        if not self.shipments and not self.organisations:
            raise ValueError("give scripted shipments, or organisations for the agents to play")
        return self

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("start needs a timezone, e.g. 2026-03-02T05:30:00Z")
        return value.astimezone(UTC)

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    def vehicle(self, vehicle_id: str) -> VehicleSpec:
        return next(v for v in self.vehicles if v.id == vehicle_id)

    @property
    def played_by_agents(self) -> bool:
        return bool(self.organisations)

    def organisation(self, name: str) -> OrganisationSpec:
        return next(o for o in self.organisations if o.name == name)


def _check_references(scenario: Scenario, graph: RoadGraph) -> list[tuple[str, str]]:
    """(field path, problem) for every id that names nothing."""
    problems: list[tuple[str, str]] = []
    vehicles = [v.id for v in scenario.vehicles]
    shipments = [s.id for s in scenario.shipments]
    carriers = sorted(o.name for o in scenario.organisations if o.kind == "carrier")

    def known(kind: str, value: str, pool: Collection[str], where: str) -> None:
        if value not in pool:
            names = ", ".join(sorted(pool))
            problems.append((where, f"unknown {kind} {value!r} (known: {names})"))

    for label, ids in (("vehicle", vehicles), ("shipment", shipments)):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            problems.append((f"{label}s", f"duplicate {label} id(s) {', '.join(duplicates)}"))
    for i, vehicle in enumerate(scenario.vehicles):
        known("place", vehicle.start_at, graph.nodes, f"vehicles.{i}.start_at")
    for i, shipment in enumerate(scenario.shipments):
        known("place", shipment.origin, graph.nodes, f"shipments.{i}.origin")
        known("place", shipment.destination, graph.nodes, f"shipments.{i}.destination")
        known("vehicle", shipment.vehicle, vehicles, f"shipments.{i}.vehicle")
        if shipment.handover is not None:
            known("place", shipment.handover.at, graph.nodes, f"shipments.{i}.handover.at")
            known("vehicle", shipment.handover.to_vehicle, vehicles, f"shipments.{i}.handover.to_vehicle")
            if shipment.handover.to_vehicle == shipment.vehicle:
                problems.append((f"shipments.{i}.handover.to_vehicle", "hands over to its own vehicle"))
        if shipment.origin == shipment.destination:
            problems.append((f"shipments.{i}.destination", "destination equals origin"))
    for i, fault in enumerate(scenario.faults):
        where = f"faults.{i}"
        match fault:
            case CompressorFailure() | DoorOpen() | ShockEvent():
                known("vehicle", fault.vehicle, vehicles, f"{where}.vehicle")
            case RoadClosure():
                known("edge", fault.edge, graph.edges, f"{where}.edge")
            case SupplierSilence():
                known("place", fault.supplier, graph.nodes, f"{where}.supplier")
            case CarrierNoShow(shipment=str() as no_show):
                known("shipment", no_show, shipments, f"{where}.shipment")
            case CarrierNoShow(carrier=str() as no_show):
                known("carrier", no_show, carriers, f"{where}.carrier")
    problems.extend(_check_organisations(scenario, graph))
    return problems


def _check_organisations(scenario: Scenario, graph: RoadGraph) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    names = [o.name for o in scenario.organisations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(("organisations", f"duplicate organisation name(s) {', '.join(duplicates)}"))
    vehicles = {v.id: v for v in scenario.vehicles}
    retailers = sorted(o.name for o in scenario.organisations if o.kind == "retailer")
    carriers = sorted(o.name for o in scenario.organisations if o.kind == "carrier")
    for i, org in enumerate(scenario.organisations):
        if org.place not in graph.nodes:
            problems.append((f"organisations.{i}.place", f"unknown place {org.place!r}"))
        for j, vehicle_id in enumerate(org.fleet):
            vehicle = vehicles.get(vehicle_id)
            if vehicle is None:
                problems.append((f"organisations.{i}.fleet.{j}", f"unknown vehicle {vehicle_id!r}"))
            elif vehicle.carrier != org.name:
                problems.append((f"organisations.{i}.fleet.{j}", f"vehicle {vehicle_id} belongs to {vehicle.carrier}"))
    if scenario.organisations:
        kinds = {o.kind for o in scenario.organisations}
        for needed in ("supplier", "wholesaler", "logistics", "carrier"):
            if needed not in kinds:
                problems.append(("organisations", f"an agent-played scenario needs a {needed}"))
    seen: set[tuple[str, str]] = set()
    for i, demand in enumerate(scenario.demand):
        if (demand.retailer, demand.product) in seen:
            problems.append((f"demand.{i}", f"{demand.retailer} orders {demand.product} twice (one demand each)"))
        seen.add((demand.retailer, demand.product))
        buyer = next((o for o in scenario.organisations if o.name == demand.retailer), None)
        if buyer is not None and demand.product not in {p.product for p in buyer.products}:
            problems.append(
                (f"demand.{i}.product", f"{demand.retailer} lists no product {demand.product!r} (its max price)")
            )
        if demand.retailer not in retailers:
            problems.append(
                (f"demand.{i}.retailer", f"unknown retailer {demand.retailer!r} (known: {', '.join(retailers)})")
            )
    problems.extend(_check_approvers(scenario))
    for field, named in (("penalties_on", scenario.expect.penalties_on),
                         ("no_penalties_on", scenario.expect.no_penalties_on)):
        for i, carrier in enumerate(named):
            if carrier not in carriers:
                problems.append((f"expect.{field}.{i}", f"unknown carrier {carrier!r} (known: {', '.join(carriers)})"))
    return problems


def _check_approvers(scenario: Scenario) -> list[tuple[str, str]]:
    """Approvers decide for organisations that ask for approvals; approval expectations name known people."""
    problems: list[tuple[str, str]] = []
    orgs = {o.name: o for o in scenario.organisations}
    people = [a.name for a in scenario.approvers]
    if len(people) != len(set(people)):
        problems.append(("approvers", "an approver is named twice"))
    for i, person in enumerate(scenario.approvers):
        if person.name in orgs:
            problems.append((f"approvers.{i}.name", f"{person.name!r} is an organisation, not a person"))
        for j, name in enumerate(person.approves):
            if name not in orgs:
                problems.append((f"approvers.{i}.approves.{j}", f"unknown organisation {name!r}"))
            elif orgs[name].approvals is None:
                problems.append((f"approvers.{i}.approves.{j}", f"{name} has no `approvals:` limits to ask under"))
        for j, name in enumerate(person.reject_awards_to):
            if name not in orgs:
                problems.append((f"approvers.{i}.reject_awards_to.{j}", f"unknown organisation {name!r}"))
    for i, org in enumerate(scenario.organisations):
        decided = any(org.name in a.approves for a in scenario.approvers)
        if org.approvals is not None and not decided and not org.approvals.auto_approve:
            problems.append((f"organisations.{i}.approvals", f"nobody in `approvers:` decides for {org.name}"))
    for i, want in enumerate(scenario.expect.approvals):
        if want.by is not None and want.by not in people and want.by != "auto-approver":
            problems.append((f"expect.approvals.{i}.by", f"unknown approver {want.by!r}"))
        if want.agent is not None and want.agent not in orgs:
            problems.append((f"expect.approvals.{i}.agent", f"unknown organisation {want.agent!r}"))
    return problems


def parse_scenario(data: object, graph: RoadGraph, source: str = "<scenario>") -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{source}: {'.'.join(str(part) for part in error['loc']) or '(top level)'}: {error['msg']}"
            for error in exc.errors()
        ]
        raise ScenarioError("\n".join(lines)) from None
    problems = _check_references(scenario, graph)
    if problems:
        raise ScenarioError("\n".join(f"{source}: {where}: {problem}" for where, problem in problems))
    return scenario


def load_scenario(path: Path, graph: RoadGraph) -> Scenario:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: (top level): expected a mapping, got {type(data).__name__}")
    return parse_scenario(data, graph, path.name)
