"""One detector per stream over any set of numeric signals: a robust baseline per signal, optionally an
IsolationForest over all of them, combined into one row score and a list of explainable detections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from oracles.detect.baseline import (
    BatchScores,
    BoolArray,
    DetectorInputError,
    FloatArray,
    RobustBaseline,
    gate_alerts,
)
from oracles.detect.learned import WindowIsolationForest
from oracles.settings import DetectSettings


@dataclass(frozen=True, slots=True)
class ComponentAlert:
    """One detector's alert on one row: which detector, on which signal, with what statistic."""

    row: int
    detector: str
    signal: str
    value: float
    statistic: float


@dataclass(frozen=True, slots=True)
class EnsembleBatch:
    """Row-level result of a batch.

    ``value`` is the highest component severity (0.5 = some detector at its threshold); ``alert`` marks rows
    that open a new episode for the stream as a whole; ``anomaly_score`` is ``value`` on alert rows and
    below 0.5 elsewhere, so that "score >= 0.5" means "this row raised an alert" (NAB results format).
    """

    value: FloatArray
    alert: BoolArray
    anomaly_score: FloatArray
    alerts: tuple[ComponentAlert, ...]


# Highest anomaly_score reported for a row that does not open an episode.
BELOW_ALERT = 0.4999


class StreamDetector:
    """Streaming detector for one stream with fixed columns; deterministic and checkpointable."""

    STATE_VERSION = 1

    def __init__(
        self,
        columns: Sequence[str],
        settings: DetectSettings,
        *,
        use_isolation_forest: bool = True,
        warmup_rows: int | None = None,
    ) -> None:
        if not columns or len(set(columns)) != len(columns):
            raise DetectorInputError(f"columns must be non-empty and distinct: {list(columns)!r}")
        self.columns = tuple(columns)
        self._refractory = settings.refractory_rows
        self._baselines = [RobustBaseline(column, settings) for column in self.columns]
        self._forest = (
            WindowIsolationForest(self.columns, settings, warmup_rows=warmup_rows)
            if use_isolation_forest
            else None
        )
        self._cooldown = 0

    def score_batch(self, rows: Sequence[Sequence[float]] | FloatArray) -> EnsembleBatch:
        """Score consecutive rows (rows x columns) in order; each row sees only the rows before it."""
        batch = np.asarray(rows, dtype=np.float64)
        if batch.ndim != 2 or batch.shape[1] != len(self.columns):
            raise DetectorInputError(f"expected rows x {len(self.columns)} columns, got shape {batch.shape}")
        parts: list[tuple[str, str, BatchScores]] = [
            (baseline.name, baseline.signal, baseline.score_batch(batch[:, k]))
            for k, baseline in enumerate(self._baselines)
        ]
        if self._forest is not None:
            parts.append((self._forest.name, "+".join(self.columns), self._forest.score_batch(batch)))
        value = np.max(np.stack([p.value for _, _, p in parts]), axis=0)
        any_alert = np.any(np.stack([p.alert for _, _, p in parts]), axis=0)
        alert, self._cooldown = gate_alerts(any_alert, self._cooldown, self._refractory)
        alerts = tuple(
            ComponentAlert(int(row), detector, signal, float(p.value[row]), float(p.statistic[row]))
            for detector, signal, p in parts
            for row in np.flatnonzero(p.alert)
        )
        anomaly_score = np.where(alert, value, np.minimum(value, BELOW_ALERT))
        return EnsembleBatch(value=value, alert=alert, anomaly_score=anomaly_score, alerts=alerts)

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": self.STATE_VERSION,
            "columns": list(self.columns),
            "baselines": [b.state_dict() for b in self._baselines],
            "forest": None if self._forest is None else self._forest.state_dict(),
            "cooldown": self._cooldown,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != self.STATE_VERSION or tuple(state.get("columns", ())) != self.columns:
            raise DetectorInputError("stream detector state has another version or other columns")
        if (state.get("forest") is None) != (self._forest is None):
            raise DetectorInputError("stream detector state and settings disagree on the isolation forest")
        for baseline, saved in zip(self._baselines, state["baselines"], strict=True):
            baseline.load_state(saved)
        if self._forest is not None:
            self._forest.load_state(state["forest"])
        self._cooldown = int(state["cooldown"])
