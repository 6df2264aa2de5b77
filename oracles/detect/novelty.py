"""Window novelty: how far the newest stretch of a signal is from every stretch it has shown before.

For one signal and one window length ``w`` (rows), each row ``t`` is summarised by the window of the
``w`` rows ending at it, reduced to ``segments`` segment means (piecewise aggregate approximation: the
shape at a resolution of ``w / segments`` rows, insensitive to single-row jitter). The row's raw
novelty is the Euclidean distance from that window to its nearest neighbour among the windows of the
past ``novelty_memory_rows`` rows that do not overlap it (KNN-CAD / matrix-profile style). A level shift,
a spike, a drift out of the usual range, a changed daily shape or a broken rhythm all produce a window
that has no close neighbour in the memory.

Raw distances are not comparable between signals, so each is calibrated against the signal's own past:
the statistic is the robust z of ``log(distance)`` against the median and ``1.4826 * MAD`` of the last
``novelty_calibration_rows`` log distances (refreshed every ``novelty_calibration_stride`` rows). Log,
because distances are positive and right-skewed; robust, because past anomalies must not inflate the
scale. A row is anomalous when this z reaches ``novelty_z_threshold``: no threshold on the signal's
units exists anywhere, which is what lets one configuration serve every kind of series.

Only past rows are used: the memory ends ``w`` rows before the row (no overlap with its own window) and
the calibration ends before it. Every past window is kept (taking only every k-th one to save time
shifted normal windows out of phase and lost most of nyc_taxi's windows on NAB dev): the cost per row is
about ``memory_rows * segments`` multiply-adds per window length, hence ``novelty_memory_rows``.

``NoveltyStream`` runs the configured window lengths on every column of a stream and raises one alert
per episode (``novelty_refractory_rows``). With ``novelty_fusion = "mean"`` a row crosses
when, for some signal, the mean of its window lengths' statistics reaches ``novelty_mean_z_threshold``
(the alert names the signal and its windows); with ``"any"``, when any (signal, window) statistic reaches
``novelty_z_threshold`` (the default; the alert names each that did).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from oracles.detect.baseline import (
    MAD_TO_SIGMA,
    BatchScores,
    BoolArray,
    DetectorInputError,
    FloatArray,
    gate_alerts,
    severity_array,
)
from oracles.detect.types import Score
from oracles.settings import DetectSettings

IntArray = npt.NDArray[np.int64]

# Query rows per distance block: bounds the (block x memory) temporary to a few MB.
QUERY_BLOCK = 512


def segment_means(values: FloatArray, window: int, segments: int) -> FloatArray:
    """Piecewise aggregate approximation of every complete window: shape (len - window + 1, segments)."""
    views = sliding_window_view(values, window)
    means: FloatArray = views.reshape(views.shape[0], segments, window // segments).mean(axis=2)
    return means


class WindowNovelty:
    """Streaming window-novelty detector for one signal at one window length."""

    name = "window_novelty"
    STATE_VERSION = 1

    def __init__(
        self, signal: str, settings: DetectSettings, window_rows: int, min_history: int | None = None
    ) -> None:
        segments = settings.novelty_segments
        if window_rows < segments or window_rows % segments:
            raise DetectorInputError(
                f"{signal}: window of {window_rows} rows is not a multiple of {segments} segments"
            )
        self.signal = f"{signal}@window{window_rows}"
        self._window = window_rows
        self._segments = segments
        self._memory = settings.novelty_memory_rows
        self._calibration = settings.novelty_calibration_rows
        self._stride = settings.novelty_calibration_stride
        self._min_calibration = settings.novelty_min_calibration_rows
        self._min_history = settings.novelty_min_history if min_history is None else min_history
        self._threshold = settings.novelty_z_threshold
        self._log_floor = settings.novelty_log_scale_floor
        self._distance_floor = settings.novelty_distance_floor
        self._refractory = settings.novelty_refractory_rows
        # The first row with a non-overlapping earlier window: ends at 2w - 1 (row indices from 0).
        self._first_scored = 2 * window_rows - 1
        self._keep_values = self._memory + 2 * window_rows - 1
        self._keep_log = self._calibration + self._stride
        self._values: FloatArray = np.empty(0, dtype=np.float64)
        self._log_distance: FloatArray = np.empty(0, dtype=np.float64)
        self._reference: float | None = None
        self._seen = 0
        self._cooldown = 0

    @property
    def threshold(self) -> float:
        return self._threshold

    def score(self, value: float) -> Score:
        """Score one value against the past, then add it to the memory."""
        batch = self.score_batch(np.array([value], dtype=np.float64))
        return Score(
            self.name, self.signal, float(batch.value[0]), float(batch.statistic[0]), bool(batch.alert[0])
        )

    def _nearest_distances(self, joined: FloatArray, base: int, rows: IntArray) -> FloatArray:
        """Distance from the window ending at each row in ``rows`` (consecutive) to its nearest usable
        memory window: one that ends at least w rows before the row and at most memory rows before that."""
        w = self._window
        features = segment_means(joined - self._reference_value(), w, self._segments)
        norms = np.einsum("ij,ij->i", features, features)
        out = np.empty(rows.shape[0], dtype=np.float64)
        for lo in range(0, rows.shape[0], QUERY_BLOCK):
            first, count = int(rows[lo]), min(QUERY_BLOCK, rows.shape[0] - lo)
            start_end = max(w - 1, first - w - self._memory + 1)
            query = np.arange(first, first + count) - base - (w - 1)
            cand = np.arange(start_end, first + count - w) - base - (w - 1)
            # |q - c|^2 = |q|^2 + (|c|^2 - 2 q.c): the row's own |q|^2 is added after the minimum.
            # einsum, not BLAS: its sum order does not depend on the block shape, so scores are
            # bit-identical however the stream is cut into batches.
            partial = np.einsum("ik,jk->ij", features[query], features[cand])
            partial *= -2.0
            partial += norms[cand][None, :]
            # Only the first and last ``count`` columns can be unusable for some rows of the block.
            row = np.arange(count)[:, None]
            newest = first - w - start_end  # column of the newest window usable by the block's first row
            tail = np.arange(newest + 1, partial.shape[1])[None, :]
            partial[:, newest + 1 :][tail > row + newest] = np.inf
            oldest = first - w - self._memory + 1 - start_end  # oldest usable column, first row
            head = np.arange(0, max(0, oldest + count - 1))[None, :]
            partial[:, : head.shape[1]][head < row + oldest] = np.inf
            squared = partial.min(axis=1) + norms[query]
            out[lo : lo + count] = np.sqrt(np.maximum(squared, 0.0))
        return out

    def _reference_value(self) -> float:
        # Distances do not depend on an offset; removing the stream's first value keeps the
        # |a|^2 + |b|^2 - 2ab expansion from cancelling digits on signals far from zero.
        return 0.0 if self._reference is None else self._reference

    def score_batch(self, values: Sequence[float] | FloatArray) -> BatchScores:
        """Score consecutive values of this signal in order; each row sees only rows before it."""
        batch = np.asarray(values, dtype=np.float64)
        if batch.ndim != 1:
            raise DetectorInputError(f"{self.signal}: expected a 1-D batch, got shape {batch.shape}")
        if not np.all(np.isfinite(batch)):
            bad = int(np.flatnonzero(~np.isfinite(batch))[0])
            raise DetectorInputError(f"{self.signal}: value at batch row {bad} is not finite: {batch[bad]!r}")
        count = batch.shape[0]
        statistic = np.zeros(count, dtype=np.float64)
        if count == 0:
            return BatchScores(statistic, statistic.copy(), np.zeros(0, dtype=np.bool_))
        if self._reference is None:
            self._reference = float(batch[0])
        joined = np.concatenate([self._values, batch])
        base = self._seen - self._values.shape[0]
        rows = self._seen + np.arange(count)
        scored = rows >= self._first_scored
        log_joined = self._log_distance
        if np.any(scored):
            distance = self._nearest_distances(joined, base, rows[scored])
            new_log = np.log(distance + self._distance_floor)
            log_joined = np.concatenate([self._log_distance, new_log])
            statistic[scored] = self._calibrated(log_joined, rows[scored])
        exceeds = (statistic >= self._threshold) & (rows >= self._min_history)
        alert, self._cooldown = gate_alerts(exceeds, self._cooldown, self._refractory)
        self._values = joined[-self._keep_values :].copy()
        self._log_distance = log_joined[-self._keep_log :].copy()
        self._seen += count
        return BatchScores(statistic=statistic, value=severity_array(statistic, self._threshold), alert=alert)

    def _calibrated(self, log_joined: FloatArray, rows: IntArray) -> FloatArray:
        """Robust z of each row's log distance against the log distances before its stride boundary."""
        # Position of each row in the sequence of log distances (one per scored row since the start).
        position = rows - self._first_scored
        log_base = int(position[-1]) + 1 - log_joined.shape[0]  # position of log_joined[0]
        boundary = (position // self._stride) * self._stride
        out = np.zeros(rows.shape[0], dtype=np.float64)
        ready = boundary >= self._min_calibration
        if not np.any(ready):
            return out
        bounds, inverse = np.unique(boundary[ready], return_inverse=True)
        median = np.empty(bounds.shape[0])
        scale = np.empty(bounds.shape[0])
        for k, bound in enumerate(bounds):
            history = log_joined[max(0, int(bound) - self._calibration) - log_base : int(bound) - log_base]
            median[k] = np.median(history)
            spread = MAD_TO_SIGMA * np.median(np.abs(history - median[k]))
            scale[k] = max(spread, self._log_floor)
        current = log_joined[position[ready] - log_base]
        # One-sided: a window closer to the past than usual is not an anomaly.
        out[ready] = np.maximum((current - median[inverse]) / scale[inverse], 0.0)
        return out

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state; floats survive a JSON round trip exactly (shortest repr)."""
        return {
            "version": self.STATE_VERSION,
            "signal": self.signal,
            "values": [float(v) for v in self._values],
            "log_distance": [float(v) for v in self._log_distance],
            "reference": self._reference,
            "seen": self._seen,
            "cooldown": self._cooldown,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore a state produced by ``state_dict`` with the same settings."""
        if state.get("version") != self.STATE_VERSION:
            raise DetectorInputError(f"unsupported window novelty state version {state.get('version')!r}")
        if state.get("signal") != self.signal:
            raise DetectorInputError(f"state is for signal {state.get('signal')!r}, not {self.signal!r}")
        values = np.asarray(state["values"], dtype=np.float64)
        log_distance = np.asarray(state["log_distance"], dtype=np.float64)
        seen, cooldown = int(state["seen"]), int(state["cooldown"])
        reference = state["reference"]
        if (
            values.ndim != 1
            or log_distance.ndim != 1
            or values.shape[0] != min(seen, self._keep_values)
            or log_distance.shape[0] != min(max(seen - self._first_scored, 0), self._keep_log)
            or not (np.all(np.isfinite(values)) and np.all(np.isfinite(log_distance)))
            or cooldown < 0
            or (reference is None) != (seen == 0)
        ):
            raise DetectorInputError("window novelty state is malformed or was made with other settings")
        self._values, self._log_distance = values, log_distance
        self._reference = None if reference is None else float(reference)
        self._seen, self._cooldown = seen, cooldown


@dataclass(frozen=True, slots=True)
class NoveltyAlert:
    """One (signal, window) whose statistic crossed the threshold on a row that opened an episode."""

    row: int
    detector: str
    signal: str
    value: float
    statistic: float


@dataclass(frozen=True, slots=True)
class NoveltyBatch:
    """Row-level result of a batch, in the shape ``oracles.evaluate`` reads.

    ``value`` is the highest severity over every (signal, window); ``alert`` marks rows that open a new
    episode of the stream; ``anomaly_score`` is ``value`` on alert rows and below 0.5 elsewhere (NAB
    results format: ``>= 0.5`` means "this row raised an alert").
    """

    value: FloatArray
    alert: BoolArray
    anomaly_score: FloatArray
    alerts: tuple[NoveltyAlert, ...]


# Highest anomaly_score reported for a row that does not open an episode.
BELOW_ALERT = 0.4999


class NoveltyStream:
    """Window novelty at every configured window length on every column of one stream."""

    STATE_VERSION = 1

    def __init__(
        self, columns: Sequence[str], settings: DetectSettings, *, min_history: int | None = None
    ) -> None:
        if not columns or len(set(columns)) != len(columns):
            raise DetectorInputError(f"columns must be non-empty and distinct: {list(columns)!r}")
        self.columns = tuple(columns)
        self._refractory = settings.novelty_refractory_rows
        self._parts = [
            (k, WindowNovelty(column, settings, window, min_history))
            for k, column in enumerate(self.columns)
            for window in settings.novelty_windows
        ]
        self._min_history = settings.novelty_min_history if min_history is None else min_history
        self._fusion = settings.novelty_fusion
        self._mean_threshold = settings.novelty_mean_z_threshold
        self._window_names = "+".join(str(w) for w in settings.novelty_windows)
        self._seen = 0
        self._cooldown = 0

    def score_batch(self, rows: Sequence[Sequence[float]] | FloatArray) -> NoveltyBatch:
        """Score consecutive rows (rows x columns) in order; each row sees only the rows before it."""
        batch = np.asarray(rows, dtype=np.float64)
        if batch.ndim != 2 or batch.shape[1] != len(self.columns):
            raise DetectorInputError(f"expected rows x {len(self.columns)} columns, got shape {batch.shape}")
        results = [(k, part, part.score_batch(batch[:, k])) for k, part in self._parts]
        if self._fusion == "mean":
            return self._finish_mean(batch.shape[0], results)
        value = np.max(np.stack([r.value for _, _, r in results]), axis=0)
        # The stream's episodes come from the components' exceedances, not their own alerts, so that
        # one component's refractory period cannot hide another signal that crosses later.
        crossed = np.any(np.stack([r.statistic >= part.threshold for _, part, r in results]), axis=0)
        alert = self._gate(crossed)
        alerts = tuple(
            NoveltyAlert(int(row), part.name, part.signal, float(r.value[row]), float(r.statistic[row]))
            for row in np.flatnonzero(alert)
            for _, part, r in results
            if r.statistic[row] >= part.threshold
        )
        anomaly_score = np.where(alert, value, np.minimum(value, BELOW_ALERT))
        return NoveltyBatch(value=value, alert=alert, anomaly_score=anomaly_score, alerts=alerts)

    def _gate(self, crossed: BoolArray) -> BoolArray:
        armed = self._seen + np.arange(crossed.shape[0]) >= self._min_history
        alert, self._cooldown = gate_alerts(crossed & armed, self._cooldown, self._refractory)
        self._seen += crossed.shape[0]
        return alert

    def _finish_mean(self, count: int, results: list[tuple[int, WindowNovelty, BatchScores]]) -> NoveltyBatch:
        """Per signal, the mean robust z over its window lengths; a row crosses when one signal's mean does.

        A real change shows at several scales at once, while most false crossings are one scale's
        fluke: averaging keeps the first and dilutes the second (measured: NAB leave-one-file-out).
        """
        fused = np.zeros((len(self.columns), count), dtype=np.float64)
        per_column = np.zeros(len(self.columns), dtype=np.int64)
        for k, _, r in results:  # summed in the configured window order: bit-identical across batch cuts
            fused[k] += r.statistic
            per_column[k] += 1
        fused /= per_column[:, None]
        severity = severity_array(fused, self._mean_threshold)
        value: FloatArray = np.max(severity, axis=0)
        alert = self._gate(np.any(fused >= self._mean_threshold, axis=0))
        alerts = tuple(
            NoveltyAlert(
                int(row),
                "window_novelty",
                f"{column}@windows{self._window_names}",
                float(severity[k, row]),
                float(fused[k, row]),
            )
            for row in np.flatnonzero(alert)
            for k, column in enumerate(self.columns)
            if fused[k, row] >= self._mean_threshold
        )
        anomaly_score = np.where(alert, value, np.minimum(value, BELOW_ALERT))
        return NoveltyBatch(value=value, alert=alert, anomaly_score=anomaly_score, alerts=alerts)

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": self.STATE_VERSION,
            "columns": list(self.columns),
            "parts": [part.state_dict() for _, part in self._parts],
            "seen": self._seen,
            "cooldown": self._cooldown,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != self.STATE_VERSION or tuple(state.get("columns", ())) != self.columns:
            raise DetectorInputError("novelty stream state has another version or other columns")
        saved = state.get("parts", [])
        if len(saved) != len(self._parts):
            raise DetectorInputError("novelty stream state was made with other window lengths")
        for (_, part), part_state in zip(self._parts, saved, strict=True):
            part.load_state(part_state)
        self._seen, self._cooldown = int(state["seen"]), int(state["cooldown"])
