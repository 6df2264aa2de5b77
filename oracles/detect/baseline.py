"""Robust adaptive univariate detector: rolling median/MAD baseline with a fixed robust-z threshold.

Each row is compared with the median of ``window`` past rows of the signal, scaled by their MAD
(``1.4826 * MAD`` estimates the standard deviation of Gaussian noise and ignores up to half the window
being outliers). The baseline adapts as the window slides, so a slow seasonal drift is absorbed while a
fault that moves the signal away faster than the window follows it is flagged. The row itself never
enters its own baseline: scoring uses past rows only.

The baseline is refreshed every ``stride`` rows (a row is judged against the window ending at the last
stride boundary before it), which keeps the cost per row near O(window / stride).

State per stream is the last ``window + stride`` values plus two counters: O(window), serialisable.
``score_batch`` is the fast path (vectorised, identical results to scoring the rows one at a time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from oracles.detect.types import Score
from oracles.settings import DetectSettings

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAD_TO_SIGMA = 1.4826
# Rows scored per vectorised block: bounds the (block x window) temporary to a few MB.
BLOCK_ROWS = 2048


class DetectorInputError(ValueError):
    """A reading the detector cannot score (not finite, wrong shape, wrong state version)."""


@dataclass(frozen=True, slots=True)
class BatchScores:
    """Per-row outputs of a batch: raw statistic, severity in [0, 1], and whether the row opened an alert."""

    statistic: FloatArray
    value: FloatArray
    alert: BoolArray


def robust_location_scale(
    windows: FloatArray, floor_rel: float, floor_abs: float
) -> tuple[FloatArray, FloatArray]:
    """Median and floored 1.4826 * MAD of each window, windows shaped (count, window)."""
    median = np.median(windows, axis=1)
    mad = np.median(np.abs(windows - median[:, None]), axis=1)
    return median, np.maximum(MAD_TO_SIGMA * mad, np.maximum(floor_rel * np.abs(median), floor_abs))


def robust_z(values: FloatArray, windows: FloatArray, floor_rel: float, floor_abs: float) -> FloatArray:
    """|x - median(window)| / scale for each row, windows shaped (rows, window)."""
    median, scale = robust_location_scale(windows, floor_rel, floor_abs)
    return np.abs(values - median) / scale


def severity_array(statistic: FloatArray, threshold: float) -> FloatArray:
    """Vector form of ``types.severity``: 0.5 exactly at the threshold."""
    ratio = np.maximum(statistic, 0.0) / threshold
    return ratio / (1.0 + ratio)


def gate_alerts(exceeds: BoolArray, cooldown: int, refractory_rows: int) -> tuple[BoolArray, int]:
    """Turn per-row exceedances into episode-opening alerts; returns the alerts and the cooldown left."""
    alert = np.zeros(exceeds.shape[0], dtype=np.bool_)
    next_free = cooldown  # index of the first row allowed to alert
    for index in np.flatnonzero(exceeds):
        if index >= next_free:
            alert[index] = True
            next_free = int(index) + refractory_rows + 1
    return alert, max(0, next_free - exceeds.shape[0])


class RobustBaseline:
    """Streaming robust-z detector for one signal of one stream."""

    name = "robust_baseline"
    STATE_VERSION = 1

    def __init__(self, signal: str, settings: DetectSettings) -> None:
        self.signal = signal
        self._window = settings.baseline_window
        self._stride = settings.baseline_stride
        self._min_history = settings.baseline_min_history
        self._threshold = settings.baseline_z_threshold
        self._floor_rel = settings.baseline_scale_floor_rel
        self._floor_abs = settings.baseline_scale_floor_abs
        self._refractory = settings.refractory_rows
        self._history: FloatArray = np.empty(0, dtype=np.float64)
        self._seen = 0
        self._cooldown = 0

    @property
    def threshold(self) -> float:
        return self._threshold

    def score(self, value: float) -> Score:
        """Score one new value against the past, then add it to the baseline."""
        batch = self.score_batch(np.array([value], dtype=np.float64))
        return Score(
            detector=self.name,
            signal=self.signal,
            value=float(batch.value[0]),
            statistic=float(batch.statistic[0]),
            alert=bool(batch.alert[0]),
        )

    def score_batch(self, values: Sequence[float] | FloatArray) -> BatchScores:
        """Score consecutive values of this stream in order; each row sees only rows before it."""
        batch = np.asarray(values, dtype=np.float64)
        if batch.ndim != 1:
            raise DetectorInputError(f"{self.signal}: expected a 1-D batch, got shape {batch.shape}")
        if not np.all(np.isfinite(batch)):
            bad = int(np.flatnonzero(~np.isfinite(batch))[0])
            raise DetectorInputError(f"{self.signal}: value at batch row {bad} is not finite: {batch[bad]!r}")
        joined = np.concatenate([self._history, batch])
        base = self._seen - self._history.shape[0]  # stream index of joined[0]
        rows = self._seen + np.arange(batch.shape[0])
        # Each row is judged against the window that ends at the last stride boundary at or before it,
        # so the median/MAD is computed once per stride rows instead of once per row.
        boundary = (rows // self._stride) * self._stride
        full = boundary >= self._window
        statistic = np.zeros(batch.shape[0], dtype=np.float64)
        for j in np.flatnonzero(~full):
            k = int(rows[j]) - base
            if k >= 2:
                statistic[j] = robust_z(
                    joined[k : k + 1], joined[None, :k], self._floor_rel, self._floor_abs
                )[0]
        if np.any(full):
            starts, inverse = np.unique(boundary[full] - self._window - base, return_inverse=True)
            windows = sliding_window_view(joined, self._window)
            median = np.empty(starts.shape[0])
            scale = np.empty(starts.shape[0])
            for lo in range(0, starts.shape[0], BLOCK_ROWS):
                block = windows[starts[lo : lo + BLOCK_ROWS]]
                median[lo : lo + BLOCK_ROWS], scale[lo : lo + BLOCK_ROWS] = robust_location_scale(
                    block, self._floor_rel, self._floor_abs
                )
            statistic[full] = np.abs(batch[full] - median[inverse]) / scale[inverse]
        seen_before = self._seen + np.arange(batch.shape[0])
        exceeds = (statistic >= self._threshold) & (seen_before >= self._min_history)
        alert, self._cooldown = gate_alerts(exceeds, self._cooldown, self._refractory)
        self._history = joined[-(self._window + self._stride) :].copy()
        self._seen += batch.shape[0]
        return BatchScores(statistic=statistic, value=severity_array(statistic, self._threshold), alert=alert)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state; floats survive a JSON round trip exactly (shortest repr)."""
        return {
            "version": self.STATE_VERSION,
            "signal": self.signal,
            "history": [float(v) for v in self._history],
            "seen": self._seen,
            "cooldown": self._cooldown,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore a state produced by ``state_dict`` (same settings), resuming exactly where it stopped."""
        if state.get("version") != self.STATE_VERSION:
            raise DetectorInputError(f"unsupported baseline state version {state.get('version')!r}")
        if state.get("signal") != self.signal:
            raise DetectorInputError(f"state is for signal {state.get('signal')!r}, not {self.signal!r}")
        history = np.asarray(state["history"], dtype=np.float64)
        too_long = history.shape[0] > self._window + self._stride
        if history.ndim != 1 or too_long or not np.all(np.isfinite(history)):
            raise DetectorInputError("baseline state history is malformed or longer than the window")
        seen, cooldown = int(state["seen"]), int(state["cooldown"])
        if (
            seen < history.shape[0]
            or cooldown < 0
            or (seen > history.shape[0] and history.shape[0] < self._window)
        ):
            raise DetectorInputError("baseline state counters are inconsistent")
        self._history, self._seen, self._cooldown = history, seen, cooldown


class RelationBaseline:
    """Robust baseline on the residual of one signal predicted linearly from another.

    The line ``y = a + b x`` is fitted by least squares on the stream's own first ``warmup_rows`` rows
    (never on later ones); afterwards the residual ``y - (a + b x)`` is scored by a ``RobustBaseline``.
    A unit whose coupling drifts (a failing compressor: temperature and humidity no longer move together)
    moves the residual even while each signal stays inside its own range.
    """

    name = "relation_baseline"
    STATE_VERSION = 1

    def __init__(self, x_signal: str, y_signal: str, settings: DetectSettings, warmup_rows: int) -> None:
        if warmup_rows < 3:
            raise DetectorInputError("relation warm-up needs at least 3 rows")
        self.signal = f"{y_signal}~{x_signal}"
        self._warmup = warmup_rows
        self._pending: list[tuple[float, float]] = []
        self._coef: tuple[float, float] | None = None
        self._residual = RobustBaseline(self.signal, settings)
        self._threshold = settings.baseline_z_threshold

    def _fit(self) -> None:
        data = np.asarray(self._pending, dtype=np.float64)
        x, y = data[:, 0], data[:, 1]
        spread = float(np.var(x))
        # A constant x carries no information about y: predict y by its mean.
        slope = 0.0 if spread == 0.0 else float(np.mean((x - x.mean()) * (y - y.mean())) / spread)
        self._coef = (float(y.mean() - slope * x.mean()), slope)

    def score_batch(self, x: Sequence[float] | FloatArray, y: Sequence[float] | FloatArray) -> BatchScores:
        xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if xs.shape != ys.shape or xs.ndim != 1:
            raise DetectorInputError(f"{self.signal}: x and y must be 1-D and equally long")
        if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
            raise DetectorInputError(f"{self.signal}: value is not finite")
        statistic = np.zeros(xs.shape[0])
        value = np.zeros(xs.shape[0])
        alert = np.zeros(xs.shape[0], dtype=np.bool_)
        start = 0
        if self._coef is None:
            start = min(xs.shape[0], self._warmup - len(self._pending))
            self._pending.extend(zip(xs[:start].tolist(), ys[:start].tolist(), strict=True))
            if len(self._pending) == self._warmup:
                self._fit()
        if self._coef is not None and start < xs.shape[0]:
            intercept, slope = self._coef
            scored = self._residual.score_batch(ys[start:] - (intercept + slope * xs[start:]))
            statistic[start:], value[start:], alert[start:] = scored.statistic, scored.value, scored.alert
        return BatchScores(statistic=statistic, value=value, alert=alert)

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": self.STATE_VERSION,
            "signal": self.signal,
            "pending": [list(p) for p in self._pending] if self._coef is None else [],
            "coef": None if self._coef is None else list(self._coef),
            "residual": self._residual.state_dict(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != self.STATE_VERSION or state.get("signal") != self.signal:
            raise DetectorInputError("relation state has another version or signal pair")
        pending = [(float(a), float(b)) for a, b in state["pending"]]
        if len(pending) > self._warmup:
            raise DetectorInputError("relation warm-up state is longer than the warm-up")
        coef = state["coef"]
        self._pending = pending
        self._coef = None if coef is None else (float(coef[0]), float(coef[1]))
        self._residual.load_state(state["residual"])
