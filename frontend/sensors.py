"""Sensor series of a shipment against its on-chain SLA terms: a table of readings in physical units, the
band each metric must stay in, per-metric statistics and the excursions (runs of readings outside the band)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from offchain.api.schemas import ReadingPublic

# metric column -> (label, unit, API field, divisor to physical units)
METRICS: dict[str, tuple[str, str, str, float]] = {
    "temperature": ("Temperature", "°C", "temp_centi_c", 100.0),
    "humidity": ("Humidity", "% RH", "humidity_bp", 100.0),
    "light": ("Light", "lux", "light_lux", 1.0),
    "shock": ("Shock", "g", "shock_milli_g", 1000.0),
}


@dataclass(frozen=True)
class Band:
    low: float | None
    high: float | None

    def outside(self, value: float) -> bool:
        return (self.low is not None and value < self.low) or (self.high is not None and value > self.high)


def bands(sla: dict[str, int]) -> dict[str, Band]:
    """SLA bands in physical units from the on-chain `SlaTerms` (light has no on-chain term)."""
    return {
        "temperature": Band(sla["tempMinCentiC"] / 100, sla["tempMaxCentiC"] / 100),
        "humidity": Band(sla["humidityMinBp"] / 100, sla["humidityMaxBp"] / 100),
        "shock": Band(None, sla["shockLimitMilliG"] / 1000),
    }


def frame(readings: Sequence[ReadingPublic]) -> pd.DataFrame:
    """One row per reading: time (UTC), the four metrics in physical units, position in degrees."""
    columns = ["time", "ts_ms", *METRICS, "lat", "lon", "device_id"]
    if not readings:
        return pd.DataFrame(columns=columns)
    data = {
        "ts_ms": [r.ts_ms for r in readings],
        **{name: [getattr(r, spec[2]) / spec[3] for r in readings] for name, spec in METRICS.items()},
        "lat": [r.lat_e7 / 1e7 for r in readings],
        "lon": [r.lon_e7 / 1e7 for r in readings],
        "device_id": [r.device_id for r in readings],
    }
    table = pd.DataFrame(data)
    table.insert(0, "time", pd.to_datetime(table["ts_ms"], unit="ms", utc=True))
    return table[columns]


@dataclass(frozen=True)
class Stats:
    metric: str
    count: int
    low: float
    mean: float
    high: float


def statistics(table: pd.DataFrame) -> list[Stats]:
    if table.empty:
        return []
    return [
        Stats(
            name,
            int(table[name].count()),
            float(table[name].min()),
            float(table[name].mean()),
            float(table[name].max()),
        )
        for name in METRICS
    ]


@dataclass(frozen=True)
class Excursion:
    metric: str
    start_ms: int
    end_ms: int
    readings: int
    worst: float

    @property
    def minutes(self) -> float:
        return (self.end_ms - self.start_ms) / 60_000


def excursions(table: pd.DataFrame, limits: dict[str, Band]) -> list[Excursion]:
    """Runs of consecutive readings outside a metric's band (the grace period is the oracles' business: every
    run is listed, with its length)."""
    found: list[Excursion] = []
    for metric, band in limits.items():
        run: list[tuple[int, float]] = []
        for ts, value in zip(table["ts_ms"], table[metric], strict=True):
            if band.outside(float(value)):
                run.append((int(ts), float(value)))
                continue
            if run:
                found.append(_excursion(metric, band, run))
                run = []
        if run:
            found.append(_excursion(metric, band, run))
    return sorted(found, key=lambda e: e.start_ms)


def _excursion(metric: str, band: Band, run: list[tuple[int, float]]) -> Excursion:
    values = [v for _, v in run]
    worst = max(values) if band.high is not None and max(values) > band.high else min(values)
    return Excursion(metric, run[0][0], run[-1][0], len(run), worst)
