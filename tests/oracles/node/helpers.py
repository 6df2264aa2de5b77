"""Readings and terms for the unit tests."""

from __future__ import annotations

from offchain.api.schemas import ReadingPublic
from oracles.node.windows import ChainTerms

TERMS = ChainTerms(
    temp_min_centi_c=0,
    temp_max_centi_c=500,
    humidity_min_bp=6000,
    humidity_max_bp=9500,
    shock_limit_milli_g=5000,
    excursion_grace_s=900,
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
