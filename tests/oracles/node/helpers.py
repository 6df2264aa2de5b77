"""Readings and terms for the unit tests."""

from __future__ import annotations

from offchain.api.schemas import ReadingPublic
from oracles.node.daemon import policy_from
from oracles.node.evidence import Policy
from oracles.node.settings import OracleNodeSettings
from oracles.node.terms import ChainTerms, Plan
from oracles.node.tracker import ShipmentTracker
from oracles.settings import DetectSettings

TERMS = ChainTerms(
    temp_min_centi_c=0,
    temp_max_centi_c=500,
    humidity_min_bp=6000,
    humidity_max_bp=9500,
    shock_limit_milli_g=5000,
    excursion_grace_s=900,
)


DETECT = DetectSettings()


def node_settings(**overrides: object) -> OracleNodeSettings:
    return OracleNodeSettings(private_key="0x" + "11" * 32, **overrides)  # type: ignore[arg-type]


def policy(**overrides: object) -> Policy:
    return policy_from(node_settings(**overrides))


def tracker(plan: Plan | None = None, terms: ChainTerms = TERMS, forest: bool = False) -> ShipmentTracker:
    return ShipmentTracker(
        plan if plan is not None else Plan(terms),
        DETECT,
        use_isolation_forest=forest,
        context_readings=60,
        learned_lookback_s=3600,
    )


def reading(
    i: int,
    *,
    temp: int = 300,
    humidity: int = 8000,
    shock: int = 30,
    step_ms: int = 60_000,
    start_ms: int = 1_700_000_000_000,
    shipment: str = "7",
) -> ReadingPublic:
    return ReadingPublic(
        id=i + 1,
        shipment_id=shipment,
        device_id="reefer-7",
        batch_seq=1,
        ts_ms=start_ms + i * step_ms,
        temp_centi_c=temp,
        humidity_bp=humidity,
        light_lux=0,
        shock_milli_g=shock,
        lat_e7=522_000_000,
        lon_e7=1_200_000,
        received_at_ms=start_ms + i * step_ms + 5,
    )


def excursion(normal: int = 5, hot: int = 20, hot_centi_c: int = 900) -> list[ReadingPublic]:
    return [reading(i, temp=300 if i < normal else hot_centi_c) for i in range(normal + hot)]


def moving(
    i: int,
    *,
    lat_e7: int,
    lon_e7: int,
    temp: int = 300,
    step_ms: int = 60_000,
    start_ms: int = 1_700_000_000_000,
    shipment: str = "7",
) -> ReadingPublic:
    """A reading at a given position (route tests)."""
    base = reading(i, temp=temp, step_ms=step_ms, start_ms=start_ms, shipment=shipment)
    return base.model_copy(update={"lat_e7": lat_e7, "lon_e7": lon_e7})
