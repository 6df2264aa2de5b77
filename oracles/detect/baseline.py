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
# Prefixes of one parity per warm-up block: the block's padding is at most twice this per prefix.
PREFIX_BLOCK_ROWS = 64


class DetectorInputError(ValueError):
    """A reading the detector cannot score (not finite, wrong shape, wrong state version)."""


@dataclass(frozen=True, slots=True)
class BatchScores:
    """Per-row outputs of a batch: raw statistic, severity in [0, 1], and whether the row opened an alert."""

    statistic: FloatArray
    value: FloatArray
    alert: BoolArray


def row_medians(windows: FloatArray) -> FloatArray:
    """``np.median(windows, axis=1)`` bit for bit (windows of finite or infinite values, no NaN), faster.

    For an even window numpy partitions around both middle positions at once, which skips its vectorised
    single-position selection and costs several times as much; here one single-position partition finds
    the upper middle and the lower middle is the largest value left of it. The two are averaged the way
    numpy's median does (their sum halved).
    """
    half = windows.shape[1] // 2
    part = np.partition(windows, half, axis=1)
    upper = part[:, half]
    if windows.shape[1] % 2:
        return upper.copy()
    result: FloatArray = (part[:, :half].max(axis=1) + upper) / 2
    return result


def robust_location_scale(
    windows: FloatArray, floor_rel: float, floor_abs: float
) -> tuple[FloatArray, FloatArray]:
    """Median and 1.4826 * MAD of each window (windows shaped (count, window)), floored.

    A signal that sits on one value more than half the time has MAD 0; its scale is then the floor
    (a small fraction of its level), so any departure from that value is news. That is deliberate:
    a flow meter stuck at 32 L/min that moves has changed state.
    """
    median = row_medians(windows)
    mad = row_medians(np.abs(windows - median[:, None]))
    return median, _floored_scale(median, mad, floor_rel, floor_abs)


def _floored_scale(median: FloatArray, mad: FloatArray, floor_rel: float, floor_abs: float) -> FloatArray:
    scale: FloatArray = np.maximum(MAD_TO_SIGMA * mad, np.maximum(floor_rel * np.abs(median), floor_abs))
    return scale


def prefix_location_scale(
    series: FloatArray, lengths: npt.NDArray[np.int64], floor_rel: float, floor_abs: float
) -> tuple[FloatArray, FloatArray]:
    """``robust_location_scale`` of each prefix ``series[:k]`` for ``k`` in ``lengths`` (each >= 1), bit for bit.

    A baseline still short of its window judges each row against every row before it, so each row has
    its own window. One call per row spent most of its time in numpy's per-call overhead; here the
    prefixes of a block of rows share one matrix. Each prefix is padded to the block's width with as many
    -inf as +inf values: sorting puts them on either side of the prefix, so the middle element(s) numpy's
    median selects are the prefix's own and the arithmetic on them is the same. Equal padding on both
    sides needs an even pad count, hence blocks of prefixes of one parity. Deviations are padded the same
    way (below every deviation and above it).
    """
    median = np.empty(lengths.shape[0], dtype=np.float64)
    mad = np.empty(lengths.shape[0], dtype=np.float64)
    for parity in (0, 1):
        group = np.flatnonzero(lengths % 2 == parity)
        for lo in range(0, group.size, PREFIX_BLOCK_ROWS):
            rows = group[lo : lo + PREFIX_BLOCK_ROWS]
            k = lengths[rows][:, None]
            width = int(k.max())
            column = np.arange(width)[None, :]
            low_pad = (column >= k) & (column < (k + width) // 2)
            block = np.where(column < k, series[:width], np.where(low_pad, -np.inf, np.inf))
            median[rows] = row_medians(block)
            deviation = np.abs(block - median[rows][:, None])
            deviation[low_pad] = -np.inf
            mad[rows] = row_medians(deviation)
    return median, _floored_scale(median, mad, floor_rel, floor_abs)


def robust_z(values: FloatArray, windows: FloatArray, floor_rel: float, floor_abs: float) -> FloatArray:
    """|x - median(window)| / scale for each row, windows shaped (rows, window)."""
    median, scale = robust_location_scale(windows, floor_rel, floor_abs)
    return np.abs(values - median) / scale


def season_offsets(season_rows: int, cycles: int) -> npt.NDArray[np.int64]:
    """Row lags of the same phase in the ``cycles`` previous periods, each widened by a few rows
    (1/144 of the period, i.e. +-10 minutes of a day) to absorb jitter in the phase."""
    half = max(1, season_rows // 144)
    return np.array(
        [k * season_rows + j for k in range(1, cycles + 1) for j in range(-half, half + 1)], dtype=np.int64
    )


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

    def __init__(self, signal: str, settings: DetectSettings, season_rows: int | None = None) -> None:
        if season_rows is not None and season_rows < 2:
            raise DetectorInputError(f"{signal}: season_rows must be at least 2, got {season_rows}")
        self.signal = signal
        self._season_rows = season_rows
        self._season_offsets = (
            np.empty(0, dtype=np.int64)
            if season_rows is None
            else season_offsets(season_rows, settings.seasonal_cycles)
        )
        self._window = settings.baseline_window
        self._stride = settings.baseline_stride
        self._min_history = settings.baseline_min_history
        self._threshold = settings.baseline_z_threshold
        self._floor_rel = settings.baseline_scale_floor_rel
        self._floor_abs = settings.baseline_scale_floor_abs
        self._refractory = settings.refractory_rows
        reach = int(self._season_offsets.max()) if self._season_offsets.size else 0
        self._keep = max(self._window + self._stride, reach)
        self._history: FloatArray = np.empty(0, dtype=np.float64)
        self._seen = 0
        self._cooldown = 0
        # (stride boundary, median, scale) of the newest baseline window: derived from the history, so
        # it is a cache, not state, and is dropped on restore.
        self._last_stats: tuple[int, float, float] | None = None

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
        # Until the first full window a row is judged against every row before it (at least two).
        warming = np.flatnonzero(~full & (rows - base >= 2))
        if warming.size:
            median_w, scale_w = prefix_location_scale(
                joined, rows[warming] - base, self._floor_rel, self._floor_abs
            )
            statistic[warming] = np.abs(batch[warming] - median_w) / scale_w
        if np.any(full):
            bounds, inverse = np.unique(boundary[full], return_inverse=True)
            median = np.empty(bounds.shape[0])
            scale = np.empty(bounds.shape[0])
            todo = np.ones(bounds.shape[0], dtype=np.bool_)
            # Small batches mostly fall in the stride already summarised by the previous call.
            if self._last_stats is not None and bounds[0] == self._last_stats[0]:
                median[0], scale[0] = self._last_stats[1], self._last_stats[2]
                todo[0] = False
            pending = np.flatnonzero(todo)
            if pending.size:
                windows = sliding_window_view(joined, self._window)
                starts = bounds[pending] - self._window - base
                for lo in range(0, pending.size, BLOCK_ROWS):
                    block = windows[starts[lo : lo + BLOCK_ROWS]]
                    rows_out = pending[lo : lo + BLOCK_ROWS]
                    median[rows_out], scale[rows_out] = robust_location_scale(
                        block, self._floor_rel, self._floor_abs
                    )
            self._last_stats = (int(bounds[-1]), float(median[-1]), float(scale[-1]))
            statistic[full] = np.abs(batch[full] - median[inverse]) / scale[inverse]
        if self._season_offsets.size:
            seasonal = rows >= int(self._season_offsets.max())
            if np.any(seasonal):
                # Same phase of the period in past cycles: a row is only anomalous if it is unusual both
                # for the recent rows and for this time of day.
                index = rows[seasonal, None] - self._season_offsets[None, :] - base
                median_s, scale_s = robust_location_scale(joined[index], self._floor_rel, self._floor_abs)
                z_season = np.abs(batch[seasonal] - median_s) / scale_s
                statistic[seasonal] = np.minimum(statistic[seasonal], z_season)
        exceeds = (statistic >= self._threshold) & (rows >= self._min_history)
        alert, self._cooldown = gate_alerts(exceeds, self._cooldown, self._refractory)
        self._history = joined[-self._keep :].copy()
        self._seen += batch.shape[0]
        return BatchScores(statistic=statistic, value=severity_array(statistic, self._threshold), alert=alert)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state; floats survive a JSON round trip exactly (shortest repr)."""
        return {
            "version": self.STATE_VERSION,
            "signal": self.signal,
            "season_rows": self._season_rows,
            "history": self._history.tolist(),
            "seen": self._seen,
            "cooldown": self._cooldown,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore a state produced by ``state_dict`` (same settings), resuming exactly where it stopped."""
        if state.get("version") != self.STATE_VERSION:
            raise DetectorInputError(f"unsupported baseline state version {state.get('version')!r}")
        if state.get("signal") != self.signal:
            raise DetectorInputError(f"state is for signal {state.get('signal')!r}, not {self.signal!r}")
        if state.get("season_rows") != self._season_rows:
            raise DetectorInputError("state was made with another season length")
        history = np.asarray(state["history"], dtype=np.float64)
        if history.ndim != 1 or history.shape[0] > self._keep or not np.all(np.isfinite(history)):
            raise DetectorInputError("baseline state history is malformed or longer than the window")
        seen, cooldown = int(state["seen"]), int(state["cooldown"])
        # The history holds every row seen until it is full: anything else was made with other settings.
        if history.shape[0] != min(seen, self._keep) or cooldown < 0:
            raise DetectorInputError("baseline state counters are inconsistent with its history")
        self._history, self._seen, self._cooldown = history, seen, cooldown
        self._last_stats = None


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

    def score(self, x: float, y: float) -> Score:
        """Score one (x, y) pair and fold it into the state."""
        batch = self.score_batch([x], [y])
        return Score(
            self.name, self.signal, float(batch.value[0]), float(batch.statistic[0]), bool(batch.alert[0])
        )

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


class SmoothedBaseline:
    """Robust baseline on the rolling median of the last ``span`` rows: the slow scale.

    A sustained change of level that no single row shows (demand down for a holiday, a machine running
    cooler for hours) moves the rolling median out of its own normal range. Rows before the first full
    span score 0.
    """

    name = "robust_baseline_slow"
    STATE_VERSION = 1

    def __init__(
        self, signal: str, settings: DetectSettings, span: int, season_rows: int | None = None
    ) -> None:
        if span < 2:
            raise DetectorInputError(f"{signal}: smoothing span must be at least 2 rows, got {span}")
        self.signal = f"{signal}@median{span}"
        self._span = span
        self._tail: FloatArray = np.empty(0, dtype=np.float64)
        self._inner = RobustBaseline(self.signal, settings, season_rows)

    def score(self, value: float) -> Score:
        """Score one value and fold it into the state."""
        batch = self.score_batch([value])
        return Score(
            self.name, self.signal, float(batch.value[0]), float(batch.statistic[0]), bool(batch.alert[0])
        )

    def score_batch(self, values: Sequence[float] | FloatArray) -> BatchScores:
        batch = np.asarray(values, dtype=np.float64)
        if batch.ndim != 1 or not np.all(np.isfinite(batch)):
            raise DetectorInputError(f"{self.signal}: expected a 1-D batch of finite values")
        joined = np.concatenate([self._tail, batch])
        statistic = np.zeros(batch.shape[0])
        value = np.zeros(batch.shape[0])
        alert = np.zeros(batch.shape[0], dtype=np.bool_)
        if joined.shape[0] >= self._span:
            medians = row_medians(sliding_window_view(joined, self._span))
            first = batch.shape[0] - medians.shape[0]  # rows of this batch still short of a full span
            scored = self._inner.score_batch(medians)
            statistic[first:], value[first:], alert[first:] = scored.statistic, scored.value, scored.alert
        self._tail = joined[-(self._span - 1) :].copy()
        return BatchScores(statistic=statistic, value=value, alert=alert)

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": self.STATE_VERSION,
            "signal": self.signal,
            "tail": self._tail.tolist(),
            "inner": self._inner.state_dict(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != self.STATE_VERSION or state.get("signal") != self.signal:
            raise DetectorInputError("smoothed baseline state has another version, signal or span")
        tail = np.asarray(state["tail"], dtype=np.float64)
        if tail.ndim != 1 or tail.shape[0] > self._span - 1:
            raise DetectorInputError("smoothed baseline tail is malformed")
        self._tail = tail
        self._inner.load_state(state["inner"])
