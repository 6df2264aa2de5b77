"""PCA T²+Q: a broken relation between signals, learned from the stream's own warm-up.

The first ``warmup_rows`` rows of a stream (at least ``multivariate_warmup_rows``; ``oracles.evaluate``
passes NAB's probationary length when that is longer) are the normal operating state. On them the
detector learns, once:

* each signal's centre and spread (mean and standard deviation, floored like the robust baselines so a
  signal that never moved in the warm-up still has a scale: a flow meter stuck at 32 L/min that moves
  has changed state);
* a principal component model of the standardised signals, keeping the fewest components that explain
  ``multivariate_variance`` of the warm-up variance (at least one, at most one fewer than the signals, so
  a residual always exists);
* control limits for the two classical statistics of multivariate process control:
  Hotelling's T² (distance *along* the learned relations: all signals moved together further than in the
  warm-up) and Q, the squared prediction error (distance *off* them: the signals no longer move
  together, e.g. humidity no longer follows temperature when a compressor fails).

The limits are robust, not Gaussian: the statistic of a row is the robust z of the cube root of T² and of
Q against the median and 1.4826 MAD of the warm-up's own values (floored at
``multivariate_root_scale_floor``). Cube root, because T² and Q are sums of squares, roughly chi-square,
and the cube root of a chi-square variable is close to normal (Wilson and Hilferty, 1931), so a robust z
on it means the same thing with one signal left in the residual or seven. Robust and empirical, because
sensor data are autocorrelated and heavy-tailed and the F and Jackson-Mudholkar limits that assume
independent Gaussian rows alarm constantly on them. (A log scale was tried first: with one component
or one residual direction, log chi-square has so wide a spread that a 28-sigma break of a two-signal
relation stayed under z = 4.) The row's statistic is the larger of the two; it crosses at
``multivariate_z_threshold``.

Each row is first averaged with the ``multivariate_smooth_rows - 1`` rows before it (trailing, never
later rows): single-row sensor noise then does not drown a relation that holds over seconds (MSET and
SKAB's T²+Q baseline smooth the same way).

An alert names the signals that contribute most to the statistic that crossed: shares of Q
(``residual_j²``) or of T² (``z_j * sum_i t_i p_ij / lambda_i``), so that a verdict says "Q on
Pressure+Current", not just "anomaly". One alert per episode (``multivariate_refractory_rows``).

Nothing is refitted after the warm-up: a failure that builds up slowly must not become the new normal.
A stream whose normal state moves (a new setpoint) therefore needs a new detector (a new shipment leg).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from oracles.detect.baseline import (
    MAD_TO_SIGMA,
    BoolArray,
    DetectorInputError,
    FloatArray,
    gate_alerts,
    severity_array,
)
from oracles.detect.novelty import BELOW_ALERT
from oracles.settings import DetectSettings

# Denominator floor of the contribution shares: a row exactly on the model has Q = 0.
SHARE_FLOOR = 1e-12


@dataclass(frozen=True, slots=True)
class MultivariateAlert:
    """The statistic that crossed on a row that opened an episode, and the signals that drove it."""

    row: int
    detector: str  # "pca_t2" or "pca_q"
    signal: str  # the top contributing signals joined by "+"
    value: float
    statistic: float
    contributions: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class MultivariateBatch:
    """Per row: robust z of the cube roots of T² and of Q, their maximum, its severity, episode-opening alerts."""

    t2_z: FloatArray
    q_z: FloatArray
    statistic: FloatArray
    value: FloatArray
    alert: BoolArray
    alerts: tuple[MultivariateAlert, ...]

    @property
    def anomaly_score(self) -> FloatArray:
        """NAB results format: ``value`` on rows that open an episode, below 0.5 on every other row."""
        score: FloatArray = np.where(self.alert, self.value, np.minimum(self.value, BELOW_ALERT))
        return score


@dataclass(frozen=True, slots=True)
class _Model:
    centre: FloatArray  # (d,)
    scale: FloatArray  # (d,)
    components: FloatArray  # (k, d), orthonormal rows
    eigenvalues: FloatArray  # (k,)
    t2_median: float
    t2_scale: float
    q_median: float
    q_scale: float

    def to_json(self) -> dict[str, Any]:
        return {
            "centre": [float(v) for v in self.centre],
            "scale": [float(v) for v in self.scale],
            "components": [[float(v) for v in row] for row in self.components],
            "eigenvalues": [float(v) for v in self.eigenvalues],
            "t2": [self.t2_median, self.t2_scale],
            "q": [self.q_median, self.q_scale],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any], dims: int) -> _Model:
        centre = np.asarray(raw["centre"], dtype=np.float64)
        scale = np.asarray(raw["scale"], dtype=np.float64)
        components = np.asarray(raw["components"], dtype=np.float64)
        eigenvalues = np.asarray(raw["eigenvalues"], dtype=np.float64)
        k = eigenvalues.shape[0]
        if (
            centre.shape != (dims,)
            or scale.shape != (dims,)
            or components.shape != (k, dims)
            or not 1 <= k < dims
            or np.any(scale <= 0)
            or np.any(eigenvalues <= 0)
        ):
            raise DetectorInputError("multivariate model state is malformed or for other signals")
        (t2m, t2s), (qm, qs) = raw["t2"], raw["q"]
        return cls(centre, scale, components, eigenvalues, float(t2m), float(t2s), float(qm), float(qs))


class PcaT2Q:
    """Streaming PCA T²+Q detector over all columns of one stream (at least two)."""

    STATE_VERSION = 1

    def __init__(self, columns: Sequence[str], settings: DetectSettings, *, warmup_rows: int | None = None) -> None:
        if len(columns) < 2 or len(set(columns)) != len(columns):
            raise DetectorInputError(f"PCA T²+Q needs at least two distinct columns, got {list(columns)!r}")
        self.columns = tuple(columns)
        self._smooth = settings.multivariate_smooth_rows
        self._warmup = max(settings.multivariate_warmup_rows, warmup_rows or 0)
        if self._warmup < self._smooth + 2 * len(columns):
            raise DetectorInputError(
                f"warm-up of {self._warmup} rows is too short for {len(columns)} signals smoothed over"
                f" {self._smooth} rows: needs at least {self._smooth + 2 * len(columns)}"
            )
        self._variance = settings.multivariate_variance
        self._threshold = settings.multivariate_z_threshold
        self._refractory = settings.multivariate_refractory_rows
        self._root_floor = settings.multivariate_root_scale_floor
        self._floor_rel = settings.baseline_scale_floor_rel
        self._floor_abs = settings.baseline_scale_floor_abs
        self._top = settings.multivariate_explain_top
        self._rows: FloatArray = np.empty((0, len(columns)), dtype=np.float64)  # warm-up rows, then the smoothing tail
        self._model: _Model | None = None
        self._seen = 0
        self._cooldown = 0

    @property
    def threshold(self) -> float:
        return self._threshold

    @property
    def fitted(self) -> bool:
        return self._model is not None

    def _smoothed(self, joined: FloatArray) -> FloatArray:
        """Trailing means of ``smooth`` rows for every row of ``joined`` from its ``smooth``-th on."""
        # Summed lag by lag, not by a running cumsum: each row's sum then has the same terms in the same
        # order however the stream is cut into batches (bit-identical results).
        count = joined.shape[0] - self._smooth + 1
        total = joined[:count].copy()
        for lag in range(1, self._smooth):
            total += joined[lag : lag + count]
        means: FloatArray = total / self._smooth
        return means

    def _fit(self, warmup: FloatArray) -> _Model:
        smoothed = self._smoothed(warmup)
        centre = smoothed.mean(axis=0)
        spread = smoothed.std(axis=0)
        scale = np.maximum(spread, np.maximum(self._floor_rel * np.abs(centre), self._floor_abs))
        standard = (smoothed - centre) / scale
        # SVD of the standardised warm-up: rows of vt are the principal directions.
        _, singular, vt = np.linalg.svd(standard, full_matrices=False)
        eigenvalues = singular**2 / max(standard.shape[0] - 1, 1)
        total = float(eigenvalues.sum())
        dims = len(self.columns)
        if total <= 0:
            keep = 1
        else:
            explained = np.cumsum(eigenvalues) / total
            keep = int(np.searchsorted(explained, self._variance) + 1)
        keep = min(max(keep, 1), dims - 1)
        # A direction with no warm-up variance would make T² divide by zero: give it the floor variance.
        lam = np.maximum(eigenvalues[:keep], 1e-6)
        partial = _Model(centre, scale, vt[:keep].copy(), lam, 0.0, 1.0, 0.0, 1.0)
        t2, q, *_ = self._statistics(partial, smoothed)
        root_t2, root_q = np.cbrt(t2), np.cbrt(q)
        t2_median, q_median = float(np.median(root_t2)), float(np.median(root_q))
        t2_scale = max(MAD_TO_SIGMA * float(np.median(np.abs(root_t2 - t2_median))), self._root_floor)
        q_scale = max(MAD_TO_SIGMA * float(np.median(np.abs(root_q - q_median))), self._root_floor)
        return _Model(centre, scale, partial.components, lam, t2_median, t2_scale, q_median, q_scale)

    @staticmethod
    def _statistics(
        model: _Model, smoothed: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """T², Q, and the standardised rows, their component scores and residuals (for explanations)."""
        standard = (smoothed - model.centre) / model.scale
        # einsum, not BLAS: its summation order does not depend on the batch shape, so results are
        # bit-identical however the stream is cut into batches.
        scores = np.einsum("nd,kd->nk", standard, model.components)
        t2 = np.einsum("nk,nk->n", scores, scores / model.eigenvalues)
        residual = standard - np.einsum("nk,kd->nd", scores, model.components)
        q = np.einsum("nd,nd->n", residual, residual)
        return t2, q, standard, scores, residual

    def _shares(
        self, model: _Model, use_q: bool, standard: FloatArray, scores: FloatArray, residual: FloatArray
    ) -> FloatArray:
        """Each signal's share of Q (its squared residual) or of T² (its term z_j sum_i t_i p_ij / lambda_i)."""
        if use_q:
            squared: FloatArray = residual**2
            return squared / max(float(squared.sum()), SHARE_FLOOR)
        terms: FloatArray = standard * ((scores / model.eigenvalues) @ model.components)
        return terms / max(float(terms.sum()), SHARE_FLOOR)

    def score_batch(self, rows: Sequence[Sequence[float]] | FloatArray) -> MultivariateBatch:
        """Score consecutive rows (rows x columns) in order; each row sees only itself and earlier rows."""
        batch = np.asarray(rows, dtype=np.float64)
        if batch.ndim != 2 or batch.shape[1] != len(self.columns):
            raise DetectorInputError(f"expected rows x {len(self.columns)} columns, got shape {batch.shape}")
        if not np.all(np.isfinite(batch)):
            bad = int(np.flatnonzero(~np.all(np.isfinite(batch), axis=1))[0])
            raise DetectorInputError(f"batch row {bad} has a value that is not finite: {batch[bad].tolist()!r}")
        count = batch.shape[0]
        t2_z = np.zeros(count, dtype=np.float64)
        q_z = np.zeros(count, dtype=np.float64)
        joined = np.concatenate([self._rows, batch])
        first_scored = 0  # index into batch of the first row the model scores
        if self._model is None and self._seen + count >= self._warmup:
            # Rows before the fit index are warm-up: learned from, never scored.
            first_scored = self._warmup - self._seen
            self._model = self._fit(joined[: self._rows.shape[0] + first_scored])
        explained: tuple[_Model, FloatArray, FloatArray, FloatArray] | None = None
        if self._model is not None and first_scored < count:
            model = self._model
            start = self._rows.shape[0] + first_scored  # index in joined of the first scored row
            window = joined[start - (self._smooth - 1) :]
            t2, q, standard, scores, residual = self._statistics(model, self._smoothed(window))
            t2_z[first_scored:] = np.maximum((np.cbrt(t2) - model.t2_median) / model.t2_scale, 0.0)
            q_z[first_scored:] = np.maximum((np.cbrt(q) - model.q_median) / model.q_scale, 0.0)
            explained = (model, standard, scores, residual)
        statistic = np.maximum(t2_z, q_z)
        exceeds = statistic >= self._threshold
        alert, self._cooldown = gate_alerts(exceeds, self._cooldown, self._refractory)
        value = severity_array(statistic, self._threshold)
        # Only scored rows have a statistic above 0, so rows that alert always have an explanation.
        alerts = () if explained is None else self._explain(alert, first_scored, t2_z, q_z, value, explained)
        keep = self._warmup if self._model is None else self._smooth - 1
        self._rows = joined[joined.shape[0] - min(keep, joined.shape[0]) :].copy() if keep else joined[:0].copy()
        self._seen += count
        return MultivariateBatch(t2_z, q_z, statistic, value, alert, alerts)

    def _explain(
        self,
        alert: BoolArray,
        first_scored: int,
        t2_z: FloatArray,
        q_z: FloatArray,
        value: FloatArray,
        explained: tuple[_Model, FloatArray, FloatArray, FloatArray],
    ) -> tuple[MultivariateAlert, ...]:
        """The statistic that crossed on each alert row and the signals with the largest share of it."""
        model, standard, scores, residual = explained
        alerts = []
        for row in np.flatnonzero(alert):
            local = int(row) - first_scored
            use_q = bool(q_z[row] >= t2_z[row])
            shares = self._shares(model, use_q, standard[local], scores[local], residual[local])
            order = np.argsort(-shares, kind="stable")[: self._top]
            named = tuple((self.columns[j], float(shares[j])) for j in order)
            alerts.append(
                MultivariateAlert(
                    row=int(row),
                    detector="pca_q" if use_q else "pca_t2",
                    signal="+".join(name for name, _ in named),
                    value=float(value[row]),
                    statistic=float(max(q_z[row], t2_z[row])),
                    contributions=named,
                )
            )
        return tuple(alerts)

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state; floats survive a JSON round trip exactly (shortest repr)."""
        return {
            "version": self.STATE_VERSION,
            "columns": list(self.columns),
            "rows": [[float(v) for v in row] for row in self._rows],
            "model": None if self._model is None else self._model.to_json(),
            "seen": self._seen,
            "cooldown": self._cooldown,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore a state produced by ``state_dict`` with the same settings and columns."""
        if state.get("version") != self.STATE_VERSION or tuple(state.get("columns", ())) != self.columns:
            raise DetectorInputError("multivariate state has another version or other columns")
        seen, cooldown = int(state["seen"]), int(state["cooldown"])
        rows: FloatArray = np.asarray(state["rows"], dtype=np.float64).reshape(-1, len(self.columns))
        model = None if state["model"] is None else _Model.from_json(state["model"], len(self.columns))
        expected = min(seen, self._warmup) if model is None else self._smooth - 1
        if rows.shape[0] != expected or (model is None) != (seen < self._warmup) or cooldown < 0:
            raise DetectorInputError("multivariate state is malformed or was made with other settings")
        if not np.all(np.isfinite(rows)):
            raise DetectorInputError("multivariate state holds a value that is not finite")
        self._rows, self._model, self._seen, self._cooldown = rows, model, seen, cooldown
