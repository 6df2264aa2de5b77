"""What a scenario adds for the orchestrator (`python -m offchain.scenario`): the organisations whose agents
play it, the retail demand over time, and the outcomes the run must reach (`expect:`).

A scenario without `organisations` is a scripted one (its `shipments` are driven by `python -m offchain.sim
run`); with them, the agents decide every shipment and the world service only applies the physics and faults.
Money is in token base units (TestStablecoin, 6 decimals); times are minutes after the scenario's start.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$")]
Minutes = Annotated[float, Field(ge=0)]
OrgKind = Literal["supplier", "wholesaler", "retailer", "logistics", "carrier"]
VerdictKind = Literal["temperature", "humidity", "shock", "route_deviation", "delay"]
VerdictAction = Literal["penalty", "hold", "reroute"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApprovalSpec(_Model):
    """Human in the loop: decisions above these limits wait for an approver. The people named in the scenario's
    `approvers:` decide them; when nobody there approves for this organisation and `auto_approve` is set, the
    orchestrator plays an `auto-approver` who approves at once, so a headless run can finish."""

    award_limit: int = Field(ge=0, description="Awards above this value (base units) wait for approval.")
    verdict_severity: int = Field(default=255, ge=1, le=255, description="Verdict actions at/above this wait.")
    auto_approve: bool = True


class ProductSpec(_Model):
    """One product an organisation holds, sells or buys (the agents' `ProductConfig`, in scenario words)."""

    product: str = Field(min_length=1, max_length=32)
    stock: int = Field(default=0, ge=0, description="Units on hand at the start.")
    unit_cost: int = Field(default=0, ge=0, description="Sellers: what a unit costs them (base units).")
    margin_bp: int = Field(default=1_500, ge=0, le=100_000, description="Sellers: target margin.")
    max_unit_price: int = Field(default=0, ge=0, description="Buyers: the highest unit price they pay.")
    reorder_point: int = Field(default=0, ge=0, description="Buyers: reorder below this (until forecasts).")
    order_quantity: int = Field(default=0, ge=0, description="Buyers: units per reorder (until forecasts).")
    lead_time_s: int = Field(default=12 * 3600, ge=0, description="Sellers: promised time to deliver.")
    setpoint_c: float = Field(default=2.0, ge=-30, le=20, description="Reefer setpoint for this product.")
    mass_kg_per_unit: int = Field(default=10, ge=1)


class OrganisationSpec(_Model):
    name: Id
    kind: OrgKind
    place: str = Field(description="Road-graph node id of the organisation's site (its region).")
    products: list[ProductSpec] = Field(default_factory=list)
    fleet: list[Id] = Field(default_factory=list, description="Vehicle ids (carriers only).")
    approvals: ApprovalSpec | None = None
    funds: int = Field(default=0, ge=0, description="TestStablecoin base units minted to the organisation.")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra keys merged into the generated agent config (offchain/agents/config.py), e.g. "
        "`buying`, `capacity`, a carrier's `fleet` tariff, `handover_places`.",
    )

    @model_validator(mode="after")
    def _fleet_only_for_carriers(self) -> OrganisationSpec:
        if self.fleet and self.kind != "carrier":
            raise ValueError(f"only carriers have a fleet, {self.name} is a {self.kind}")
        if self.kind == "carrier" and not self.fleet:
            raise ValueError(f"carrier {self.name} needs at least one vehicle in fleet")
        return self


class ApproverSpec(_Model):
    """A person the orchestrator plays (offchain/scenario/approvals.py): with their own development key they
    read the API's pending approvals of the organisations in `approves` and decide each with the agents' CLI
    (`python -m offchain.agents approve`), `after_s` simulated seconds after the request appeared (a person
    takes a while). Awards recommended to an organisation in `reject_awards_to` are rejected; everything else
    gets `decision`."""

    name: Id
    approves: list[Id] = Field(min_length=1, description="Organisations whose approval requests this person decides.")
    decision: Literal["approve", "reject"] = "approve"
    after_s: float = Field(default=120, ge=0, le=86_400, description="Simulated seconds before deciding.")
    reject_awards_to: list[Id] = Field(default_factory=list, description="Awards to these are rejected.")
    comment: str = Field(default="", max_length=200)


class DemandSpec(_Model):
    """A retail order: at `at_min` the retailer orders `quantity` units of `product` from its wholesaler.

    The retailer's agent joins the run at `at_min` with none of the product and a reorder point of
    `quantity`, so its first act is that order (the agents have no other input for consumer demand yet):
    one demand per retailer and product.
    """

    at_min: Minutes
    retailer: Id
    product: str = Field(min_length=1)
    quantity: int = Field(gt=0)


class VerdictExpectation(_Model):
    kind: VerdictKind
    action: VerdictAction | None = None
    min: int = Field(default=1, ge=1)


class ApprovalExpectation(_Model):
    """At least `min` approval requests of `kind` decided `decision` (by the person `by`, for the organisation
    `agent`), each followed on-chain: an approved award went to the recommended bidder, a rejected one did not."""

    kind: Literal["award", "verdict_action"] = "award"
    decision: Literal["approve", "reject"]
    by: Id | None = None
    agent: Id | None = None
    min: int = Field(default=1, ge=1)


class Expectations(_Model):
    """Outcomes read from chain events (and the audit) once the run ends."""

    delivered_min: int = Field(default=0, ge=0, description="Custody twins delivered (TwinDelivered).")
    verdicts: list[VerdictExpectation] = Field(default_factory=list)
    reroute_awarded: bool = Field(default=False, description="A reroute CFP was opened and awarded.")
    penalties_on: list[Id] = Field(default_factory=list, description="Carrier organisations charged a penalty.")
    no_penalties_on: list[Id] = Field(
        default_factory=list, description="Carrier organisations that must not be charged (e.g. a relief carrier)."
    )
    no_verdicts: list[VerdictKind] = Field(
        default_factory=list, description="Verdict kinds that must not be accepted (e.g. an ordered diversion)."
    )
    escrows_settled: bool = Field(default=False, description="Every order opened in the run is settled.")
    audit_pass: bool = True
    no_duplicate_transactions: bool = True
    approvals: list[ApprovalExpectation] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not (
            self.delivered_min or self.verdicts or self.reroute_awarded or self.penalties_on or self.approvals
            or self.no_penalties_on or self.no_verdicts
        )
