"""Detectors combined per stream.

* ``StreamDetector``: any set of numeric columns (what ``oracles.evaluate`` replays): a robust baseline per
  column, optionally the window IsolationForest, one row score and a list of explainable alerts.
* ``ShipmentMonitor``: what an oracle node runs per reefer shipment: SLA rules + robust baselines +
  the humidity~temperature relation + PCA T²+Q on temperature and humidity (+ optionally the
  IsolationForest), returning ``Detection``s.
"""

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
    RelationBaseline,
    RobustBaseline,
    SmoothedBaseline,
    gate_alerts,
)
from oracles.detect.learned import WindowIsolationForest
from oracles.detect.multivariate import MultivariateAlert, PcaT2Q
from oracles.detect.sla import SlaMonitor, SlaTerms
from oracles.detect.types import Detection, Reading
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
        use_isolation_forest: bool = False,
        warmup_rows: int | None = None,
        season_rows: int | None = None,
    ) -> None:
        if not columns or len(set(columns)) != len(columns):
            raise DetectorInputError(f"columns must be non-empty and distinct: {list(columns)!r}")
        self.columns = tuple(columns)
        self._refractory = settings.refractory_rows
        self._baselines: list[RobustBaseline | SmoothedBaseline] = [
            RobustBaseline(column, settings, season_rows) for column in self.columns
        ]
        if settings.slow_span_rows >= 2:
            self._baselines += [
                SmoothedBaseline(column, settings, settings.slow_span_rows, season_rows) for column in self.columns
            ]
        self._forest = (
            WindowIsolationForest(self.columns, settings, warmup_rows=warmup_rows) if use_isolation_forest else None
        )
        self._cooldown = 0

    def score_batch(self, rows: Sequence[Sequence[float]] | FloatArray) -> EnsembleBatch:
        """Score consecutive rows (rows x columns) in order; each row sees only the rows before it."""
        batch = np.asarray(rows, dtype=np.float64)
        if batch.ndim != 2 or batch.shape[1] != len(self.columns):
            raise DetectorInputError(f"expected rows x {len(self.columns)} columns, got shape {batch.shape}")
        parts: list[tuple[str, str, BatchScores]] = [
            (baseline.name, baseline.signal, baseline.score_batch(batch[:, k % len(self.columns)]))
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


REEFER_SIGNALS = ("temp_c", "humidity_pct")

# Key of the PCA T²+Q scores in ``ShipmentBatch.scores``; its Detections name "pca_t2" or "pca_q" and the
# signals that contributed most, so a verdict says which statistic crossed and why.
PCA_DETECTOR = "pca_t2q"
PCA_SIGNAL = "+".join(REEFER_SIGNALS)


def season_rows_for(interval_s: float, settings: DetectSettings) -> int | None:
    """Rows per seasonal period for a stream sampled every ``interval_s`` seconds, or None when the
    period would be too short to mean anything or too long to keep in the stream's state."""
    if not interval_s > 0:
        return None
    rows = round(settings.seasonal_period_s / interval_s)
    return rows if 8 <= rows <= settings.seasonal_max_rows else None


@dataclass(frozen=True, slots=True)
class ShipmentBatch:
    """Everything the monitor said about a batch of one shipment's readings."""

    value: FloatArray  # highest severity per reading over every rule and detector
    scores: dict[tuple[str, str], BatchScores]  # (detector, signal) -> per-reading scores
    detections: tuple[Detection, ...]


class ShipmentMonitor:
    """What an oracle node runs per shipment: the order's SLA rules, a robust adaptive baseline on
    temperature and humidity, the humidity~temperature relation, PCA T²+Q on temperature and humidity
    (a relation that leaves its warm-up model, e.g. a failing compressor), and optionally the IsolationForest.

    Deterministic and checkpointable: ``state_dict`` is plain JSON and ``load_state`` resumes exactly.
    """

    # 2: PCA T²+Q added; a version-1 state has no PCA model and is refused rather than silently re-warmed.
    STATE_VERSION = 2

    def __init__(self, terms: SlaTerms, settings: DetectSettings, *, use_isolation_forest: bool = False) -> None:
        self._sla = SlaMonitor(terms, settings)
        self._baselines = {signal: RobustBaseline(signal, settings) for signal in REEFER_SIGNALS}
        self._slow = (
            {signal: SmoothedBaseline(signal, settings, settings.slow_span_rows) for signal in REEFER_SIGNALS}
            if settings.slow_span_rows >= 2
            else {}
        )
        self._relation = RelationBaseline("temp_c", "humidity_pct", settings, settings.relation_warmup_rows)
        self._pca = PcaT2Q(REEFER_SIGNALS, settings)
        self._forest = WindowIsolationForest(REEFER_SIGNALS, settings) if use_isolation_forest else None

    @property
    def terms(self) -> SlaTerms:
        return self._sla.terms

    def replan(self, terms: SlaTerms) -> None:
        """Swap the order's SLA terms (new corridor or deadline) from the next reading on."""
        self._sla.replan(terms)

    def score(self, reading: Reading) -> ShipmentBatch:
        """Score one reading (and fold it into the state). Batches are much faster: see ``score_batch``."""
        return self.score_batch([reading])

    def score_batch(self, readings: Sequence[Reading]) -> ShipmentBatch:
        """Score one shipment's readings in time order (each sees only itself and earlier readings)."""
        sla = self._sla.score_batch(readings)
        temp = np.fromiter((r.temp_centi_c for r in readings), dtype=np.float64, count=len(readings)) / 100
        hum = np.fromiter((r.humidity_bp for r in readings), dtype=np.float64, count=len(readings)) / 100
        scores: dict[tuple[str, str], BatchScores] = {(SlaMonitor.name, rule): s for rule, s in sla.items()}
        scores[(RobustBaseline.name, "temp_c")] = self._baselines["temp_c"].score_batch(temp)
        scores[(RobustBaseline.name, "humidity_pct")] = self._baselines["humidity_pct"].score_batch(hum)
        for slow, series in zip(self._slow.values(), (temp, hum), strict=False):
            scores[(slow.name, slow.signal)] = slow.score_batch(series)
        scores[(RelationBaseline.name, self._relation.signal)] = self._relation.score_batch(temp, hum)
        both = np.column_stack([temp, hum])
        pca = self._pca.score_batch(both)
        scores[(PCA_DETECTOR, PCA_SIGNAL)] = BatchScores(statistic=pca.statistic, value=pca.value, alert=pca.alert)
        if self._forest is not None:
            scores[(WindowIsolationForest.name, PCA_SIGNAL)] = self._forest.score_batch(both)
        detections = list(self._sla.detections(readings, sla))
        detections.extend(_pca_detection(alert, readings[alert.row].timestamp_s) for alert in pca.alerts)
        for (detector, signal), batch in scores.items():
            if detector in (SlaMonitor.name, PCA_DETECTOR):
                continue
            for row in np.flatnonzero(batch.alert):
                detections.append(
                    Detection(
                        detector=detector,
                        signal=signal,
                        timestamp_s=readings[int(row)].timestamp_s,
                        value=float(batch.value[row]),
                        statistic=float(batch.statistic[row]),
                        reason=f"{signal}: {_statistic_text(detector, float(batch.statistic[row]))}",
                    )
                )
        value = (
            np.max(np.stack([s.value for s in scores.values()]), axis=0) if readings else np.zeros(0, dtype=np.float64)
        )
        return ShipmentBatch(
            value=value,
            scores=scores,
            detections=tuple(sorted(detections, key=lambda d: (d.timestamp_s, d.detector, d.signal))),
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": self.STATE_VERSION,
            "sla": self._sla.state_dict(),
            "baselines": {signal: b.state_dict() for signal, b in self._baselines.items()},
            "slow": {signal: b.state_dict() for signal, b in self._slow.items()},
            "relation": self._relation.state_dict(),
            "pca": self._pca.state_dict(),
            "forest": None if self._forest is None else self._forest.state_dict(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != self.STATE_VERSION:
            raise DetectorInputError(f"unsupported shipment monitor state version {state.get('version')!r}")
        if (state.get("forest") is None) != (self._forest is None):
            raise DetectorInputError("shipment monitor state and settings disagree on the isolation forest")
        self._sla.load_state(state["sla"])
        for signal, baseline in self._baselines.items():
            baseline.load_state(state["baselines"][signal])
        if set(state.get("slow", {})) != set(self._slow):
            raise DetectorInputError("shipment monitor state and settings disagree on the slow baselines")
        for signal, slow in self._slow.items():
            slow.load_state(state["slow"][signal])
        self._relation.load_state(state["relation"])
        self._pca.load_state(state["pca"])
        if self._forest is not None:
            self._forest.load_state(state["forest"])


def _pca_detection(alert: MultivariateAlert, timestamp_s: int) -> Detection:
    """A PCA alert as a Detection: the statistic that crossed, the signals that drove it and their shares."""
    statistic = "Q (off the learned relation)" if alert.detector == "pca_q" else "T² (along the learned relation)"
    shares = ", ".join(f"{name} {share:.0%}" for name, share in alert.contributions)
    return Detection(
        detector=alert.detector,
        signal=alert.signal,
        timestamp_s=timestamp_s,
        value=alert.value,
        statistic=alert.statistic,
        reason=(
            f"temperature/humidity relation left its warm-up model: {statistic} robust z {alert.statistic:.1f}"
            f" ({shares})"
        ),
        details={f"share_{name}": share for name, share in alert.contributions},
    )


def _statistic_text(detector: str, statistic: float) -> str:
    if detector == WindowIsolationForest.name:
        return f"isolation score {statistic:.3f}"
    return f"robust z {statistic:.1f} from its adaptive baseline"
