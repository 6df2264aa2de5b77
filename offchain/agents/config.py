"""The validated YAML config of one agent: who it is, what it sells or buys, its limits and approvals.

Every amount is in token base units (TestStablecoin: 6 decimals), every duration in seconds, places are road
graph node ids (`python -m offchain.sim places`). A bad file raises `ConfigError` naming the file and field.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Self

import yaml
from eth_utils.address import is_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class ConfigError(ValueError):
    """The agent config is missing, not YAML, or invalid; the message names the file and the field."""


class AgentKind(StrEnum):
    SUPPLIER = "supplier"
    WHOLESALER = "wholesaler"
    RETAILER = "retailer"
    LOGISTICS = "logistics"
    CARRIER = "carrier"


# Registry role bits (contracts/libraries/ParticipantRoles.sol).
ROLE_BITS = {
    AgentKind.SUPPLIER: 1,
    AgentKind.WHOLESALER: 2,
    AgentKind.RETAILER: 4,
    AgentKind.LOGISTICS: 8,
    AgentKind.CARRIER: 16,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlaConfig(_Strict):
    """Physical and money SLA terms a buyer puts in its calls for proposals."""

    temp_min_centi_c: int = Field(default=0, ge=-32768, le=32767)
    temp_max_centi_c: int = Field(default=500, ge=-32768, le=32767)
    humidity_min_bp: int = Field(default=6000, ge=0, le=10000)
    humidity_max_bp: int = Field(default=9500, ge=0, le=10000)
    shock_limit_milli_g: int = Field(default=5000, ge=0, le=65535)
    excursion_grace_s: int = Field(default=900, ge=0)
    penalty_per_hour_late: int = Field(default=20_000_000, ge=0)
    penalty_per_excursion: int = Field(default=150_000_000, ge=0)
    penalty_cap: int = Field(default=2_000_000_000, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.temp_min_centi_c > self.temp_max_centi_c or self.humidity_min_bp > self.humidity_max_bp:
            raise ValueError("SLA ranges are inverted (min above max)")
        return self


class ProductConfig(_Strict):
    """One product the agent holds, sells or buys."""

    product: str = Field(min_length=1, max_length=32, description="Product code, bytes32 on-chain.")
    initial_stock: int = Field(default=0, ge=0, description="Units on hand at the first start.")
    unit_cost: int = Field(default=0, ge=0, description="What a unit costs this agent (sellers).")
    margin_bp: int = Field(default=1_500, ge=0, le=100_000, description="Sellers: target margin, basis points.")
    max_unit_price: int = Field(default=0, ge=0, description="Buyers: highest unit price it will pay.")
    reorder_point: int = Field(default=0, ge=0, description="Buyers: fallback reorder point (no forecast yet).")
    order_quantity: int = Field(default=0, ge=0, description="Buyers: fallback order quantity.")
    setpoint_centi_c: int = Field(default=200, description="Reefer setpoint for this product.")
    mass_kg_per_unit: int = Field(default=10, ge=1)
    lead_time_s: int = Field(default=12 * 3600, ge=0, description="Sellers: promised time to deliver.")


class BuyingConfig(_Strict):
    """How a buyer (wholesaler, retailer) runs its calls for proposals."""

    delivery_within_s: int = Field(default=48 * 3600, gt=0, description="Deadline after the CFP opens.")
    commit_s: int = Field(default=3600, gt=0, description="Commit phase length.")
    reveal_s: int = Field(default=3600, gt=0, description="Reveal phase length.")
    award_s: int = Field(default=3600, gt=0, description="Award phase length.")
    ship_grace_s: int = Field(default=6 * 3600, ge=0, description="Fallback if not picked up this long after award.")
    price_weight: float = Field(default=1.0, ge=0)
    eta_weight: float = Field(default=0.3, ge=0)
    risk_weight: float = Field(default=0.5, ge=0)
    max_freight_per_unit: int = Field(default=5_000_000, ge=1, description="Delivery CFPs: highest freight/unit.")
    forecast: bool = Field(default=True, description="Reorder from the demand forecast once it has history.")
    service_level: float = Field(default=0.95, gt=0, lt=1, description="Forecast: P(no stockout in a cycle).")
    learned_risk: bool = Field(default=True, description="Risk from the learned model, else the SLA record.")
    failure_cost: int = Field(default=50_000_000, ge=0, description="Risk model: cost of a late/penalised job.")
    sla: SlaConfig = SlaConfig()


class DemandProfileConfig(_Strict):
    """Retailers: shoppers buying one product from the shelf (offchain/agents/roles/retailer.py). Each period
    the number of units asked for is a Poisson draw around `mean_per_day` shaped by `hourly_weights` (UTC hour
    of the period's start, relative weights) and, with `noise_cv`, by a day-to-day level drawn from a gamma of
    mean 1; every draw is seeded by (`seed`, product, period), so a restart or a rerun sells the same."""

    product: str = Field(min_length=1, max_length=32)
    mean_per_day: float = Field(gt=0, le=1_000_000, description="Units asked for per day on average.")
    hourly_weights: list[float] = Field(
        default_factory=lambda: [1.0] * 24, min_length=24, max_length=24, description="UTC hours 0-23."
    )
    noise_cv: float = Field(default=0.0, ge=0, le=2, description="Coefficient of variation of the daily level.")
    period_s: int = Field(default=3600, ge=60, le=86_400, description="Sales are booked once per period.")
    seed: int = Field(default=0, ge=0)

    @field_validator("hourly_weights")
    @classmethod
    def _weights(cls, values: list[float]) -> list[float]:
        if any(v < 0 for v in values) or sum(values) <= 0:
            raise ValueError("hourly weights must be >= 0 and not all 0")
        return values


class Vehicle(_Strict):
    id: str = Field(min_length=1, description="Vehicle id in the world (the scenario names it).")
    reefer: bool = True


class FleetConfig(_Strict):
    """A carrier's trucks and tariff."""

    vehicles: list[Vehicle] = Field(min_length=1)
    carrier_name: str = Field(min_length=1, description="The carrier name the world knows the fleet by.")
    price_per_unit_km: int = Field(default=20_000, ge=1, description="Freight per unit of goods per km.")
    min_unit_price: int = Field(default=1_000_000, ge=1, description="Floor of the freight unit price.")
    eta_slack_s: int = Field(default=2 * 3600, ge=0, description="Added to the planned duration in bids.")


class ApprovalsConfig(_Strict):
    """When a person must decide: awards worth more than `award_value_limit`, verdict actions of severity at
    least `verdict_severity`. Approvers are the checksummed addresses allowed to decide."""

    approvers: list[str] = Field(default_factory=list, max_length=16)
    award_value_limit: int | None = Field(default=None, ge=0)
    verdict_severity: int | None = Field(default=None, ge=0, le=255)

    @field_validator("approvers")
    @classmethod
    def _checksummed(cls, values: list[str]) -> list[str]:
        for value in values:
            if not is_checksum_address(value):
                raise ValueError(f"approver {value!r} is not a checksummed address")
        return values

    @model_validator(mode="after")
    def _approvers_when_limits(self) -> Self:
        if (self.award_value_limit is not None or self.verdict_severity is not None) and not self.approvers:
            raise ValueError("an approval limit is set but no approvers are named")
        return self


class FaultsConfig(_Strict):
    """Fault injection for scenario runs, never for production: `silent` — a seller that never bids;
    `no_show` — a seller or carrier that wins and then never ships or dispatches."""

    silent: bool = False
    no_show: bool = False


class AgentConfig(_Strict):
    kind: AgentKind
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    region: str = Field(min_length=1, max_length=32, description="Home place (road graph node id).")
    products: list[ProductConfig] = Field(default_factory=list)
    capacity: int = Field(default=1_000, ge=1, description="Units per delivery window it can take on.")
    buying: BuyingConfig = BuyingConfig()
    fleet: FleetConfig | None = None
    handover_places: list[str] = Field(default_factory=list, description="Carriers: where a reroute meets.")
    approvals: ApprovalsConfig = ApprovalsConfig()
    faults: FaultsConfig = FaultsConfig()
    demand_profiles: list[DemandProfileConfig] = Field(default_factory=list, description="Retailers' shoppers.")
    metadata_uri: str = Field(default="", max_length=256)

    @model_validator(mode="after")
    def _kind_needs(self) -> Self:
        if self.kind is AgentKind.CARRIER and self.fleet is None:
            raise ValueError("a carrier needs a `fleet`")
        if self.kind is not AgentKind.CARRIER and self.fleet is not None:
            raise ValueError(f"a {self.kind} has no `fleet`")
        if self.kind in (AgentKind.SUPPLIER, AgentKind.WHOLESALER, AgentKind.RETAILER) and not self.products:
            raise ValueError(f"a {self.kind} needs at least one product")
        names = [p.product for p in self.products]
        if len(names) != len(set(names)):
            raise ValueError("a product is listed twice")
        if self.demand_profiles and self.kind is not AgentKind.RETAILER:
            raise ValueError(f"a {self.kind} has no `demand_profiles` (retailers sell to shoppers)")
        profiled = [d.product for d in self.demand_profiles]
        if len(profiled) != len(set(profiled)):
            raise ValueError("a product has two demand profiles")
        for product in profiled:
            if product not in names:
                raise ValueError(f"demand profile for {product!r}, which is not in `products`")
        return self

    @property
    def role_bits(self) -> int:
        return ROLE_BITS[self.kind]

    def product(self, code: str) -> ProductConfig | None:
        return next((p for p in self.products if p.product == code), None)


def load_config(path: str | Path) -> AgentConfig:
    file = Path(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no agent config at {file}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read agent config {file}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"agent config {file} must be a YAML mapping, got {type(raw).__name__}")
    try:
        return AgentConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid agent config {file}: {problems}") from exc
