"""Synthetic labelled series for an unseen check: anomaly kinds the NAB dev files do not contain.

Every series is noise around a daily cycle (5-minute rows, 288 per day) with one labelled anomaly whose
kind, size and position come from a seeded generator, so a run is reproducible and nobody chose the
series after seeing a score. ``write_nab_folder`` lays them out like NAB (CSV + ``combined_windows.json``)
so that ``python -m oracles.evaluate`` scores them exactly as it scores NAB.

Kinds: ``level_shift`` (a step of 3-5 noise sigmas that stays), ``drift`` (a ramp reaching 6-10 sigmas over
two days), ``variance_change`` (noise 3-4 times wider), ``spikes`` (a burst of five single-row spikes of
6-10 sigmas within a day), ``seasonality_break`` (the daily cycle shifts phase by 6-12 hours).
``none`` is the same cycle and noise without any anomaly (every alert on it is false).
The label window follows NAB's rule: 10% of the series centred on the anomaly's onset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from oracles.detect.baseline import FloatArray

ROWS_PER_DAY = 288
KINDS = ("level_shift", "drift", "variance_change", "spikes", "seasonality_break")
# A series with no anomaly at all: every alert on it is a false alarm.
NORMAL = "none"
START = datetime(2025, 1, 6)


@dataclass(frozen=True, slots=True)
class LabelledSeries:
    name: str
    kind: str
    values: FloatArray
    onset: int
    window: tuple[int, int] | None  # inclusive row range; None for a series without anomaly


def labelled_series(kind: str, seed: int, rows: int = 4032) -> LabelledSeries:
    """One series of ``rows`` rows with one anomaly of ``kind``, onset in the last 60% of the series."""
    if kind not in (*KINDS, NORMAL):
        raise ValueError(f"unknown anomaly kind {kind!r}; choose one of {(*KINDS, NORMAL)}")
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    sigma = 1.0
    amplitude = rng.uniform(2.0, 6.0)
    phase = 2 * np.pi * t / ROWS_PER_DAY
    onset = int(rng.integers(int(0.4 * rows), int(0.85 * rows)))
    noise = rng.normal(0.0, sigma, rows)
    cycle = amplitude * np.sin(phase)
    if kind == "seasonality_break":
        shift = 2 * np.pi * rng.uniform(0.25, 0.5)
        cycle[onset:] = amplitude * np.sin(phase[onset:] + shift)
    values = 50.0 + cycle + noise
    if kind == "level_shift":
        values[onset:] += rng.choice([-1, 1]) * rng.uniform(3.0, 5.0) * sigma
    elif kind == "drift":
        ramp = np.arange(rows - onset) / (2 * ROWS_PER_DAY) * rng.uniform(6.0, 10.0) * sigma
        values[onset:] += rng.choice([-1, 1]) * ramp
    elif kind == "variance_change":
        values[onset:] += noise[onset:] * (rng.uniform(3.0, 4.0) - 1.0)
    elif kind == "spikes":
        rows_hit = onset + np.sort(rng.choice(ROWS_PER_DAY, size=5, replace=False))
        rows_hit = rows_hit[rows_hit < rows]
        values[rows_hit] += rng.choice([-1, 1], size=rows_hit.shape[0]) * rng.uniform(6.0, 10.0, rows_hit.shape[0])
    half = rows // 20
    window = None if kind == NORMAL else (max(0, onset - half), min(rows - 1, onset + half))
    return LabelledSeries(f"{kind}_{seed}", kind, values, onset, window)


def write_nab_folder(folder: Path, series: list[LabelledSeries]) -> None:
    """CSV files under ``folder/synthetic/`` and ``folder/combined_windows.json`` (NAB layout)."""
    (folder / "synthetic").mkdir(parents=True, exist_ok=True)
    windows: dict[str, list[list[str]]] = {}
    for item in series:
        stamps = [START + timedelta(minutes=5 * i) for i in range(item.values.shape[0])]
        lines = ["timestamp,value"] + [
            f"{s:%Y-%m-%d %H:%M:%S},{v!r}" for s, v in zip(stamps, item.values.tolist(), strict=True)
        ]
        relative = f"synthetic/{item.name}.csv"
        (folder / relative).write_text("\n".join(lines) + "\n", encoding="utf-8")
        windows[relative] = []
        if item.window is not None:
            left, right = item.window
            windows[relative].append([f"{stamps[left]:%Y-%m-%d %H:%M:%S.%f}", f"{stamps[right]:%Y-%m-%d %H:%M:%S.%f}"])
    (folder / "combined_windows.json").write_text(json.dumps(windows, indent=1), encoding="utf-8")
