"""Demand forecast for a wholesaler's reorder point and order quantity, learned from its own order history.

    forecaster = DemandForecaster(ForecastConfig(fallback_reorder_point=400, fallback_order_quantity=900))
    forecaster.fit(history)                  # [(ts_ms, quantity), ...] of past customer orders
    policy = forecaster.reorder_policy(now_ms, lead_time_ms=3 * DAY_MS, service_level=0.95)
    policy.reorder_point, policy.order_quantity, policy.forecast_per_day, policy.reasons

Model. Demand is bucketed (hourly by default) and a ridge regression is trained at each call on the
trailing window before `now_ms` (a few weeks: the level and trend follow the data, older regimes fade):
features are hour-of-day and day-of-week indicators (daily and weekly seasonality), a linear trend, and the
same bucket one week earlier (lagged demand: carries promotions and level shifts). Forecasts beyond a week
feed their own predictions back as the lag.

Policy. reorder point = forecast demand over the lead time + safety stock; the safety stock is the
normal `service_level` quantile of the spread of the model's errors summed over lead-time-long windows
(residual-based: it follows how wrong the forecast really is, correlated errors included). The order quantity covers
`cover_days` of forecast demand after the order arrives.

Cold start: with less than `min_history_days` of history, the config's constants are returned and the
reasons say so. Pure: no I/O, no clock; training a policy takes about a millisecond (numbers: bench/agents_ai.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Self

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import Ridge

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS


@dataclass(frozen=True)
class ReorderPolicy:
    reorder_point: int
    order_quantity: int
    forecast_per_day: float  # forecast demand per day over the cover period (0 on cold start: unknown)
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ForecastConfig:
    fallback_reorder_point: int
    fallback_order_quantity: int
    bucket_ms: int = HOUR_MS
    window_days: int = 42
    min_history_days: int = 14
    cover_days: float = 7.0
    ridge_alpha: float = 1.0

    def __post_init__(self) -> None:
        if self.fallback_reorder_point < 0 or self.fallback_order_quantity < 1:
            raise ValueError("fallback reorder point must be >= 0 and order quantity >= 1")
        if self.bucket_ms <= 0 or DAY_MS % self.bucket_ms != 0:
            raise ValueError(f"bucket_ms must divide a day exactly, got {self.bucket_ms}")
        if self.min_history_days < 8:
            raise ValueError("min_history_days must be >= 8: the model needs a week of lags plus a day")
        if self.window_days < self.min_history_days:
            raise ValueError("window_days must be >= min_history_days")
        if self.cover_days <= 0 or self.ridge_alpha < 0:
            raise ValueError("cover_days must be > 0 and ridge_alpha >= 0")


class DemandForecaster:
    """Fitted on an order history; answers reorder policies at any time after it (see the module doc)."""

    def __init__(self, config: ForecastConfig) -> None:
        self.config = config
        self._bucket_of_day = DAY_MS // config.bucket_ms
        self._lag = 7 * self._bucket_of_day
        self._first_bucket: int | None = None
        self._demand: NDArray[np.float64] = np.zeros(0)

    def fit(self, history: Sequence[tuple[int, int]]) -> Self:
        """Stores the history as demand per bucket; any order, duplicates summed. Quantities must be >= 0."""
        if not history:
            self._first_bucket, self._demand = None, np.zeros(0)
            return self
        stamps = np.fromiter((ts for ts, _ in history), dtype=np.int64, count=len(history))
        quantities = np.fromiter((q for _, q in history), dtype=np.int64, count=len(history))
        if (quantities < 0).any():
            raise ValueError(f"order quantities must be >= 0; found {int(quantities.min())}")
        if (stamps < 0).any():
            raise ValueError("timestamps must be milliseconds since the epoch (>= 0)")
        buckets = stamps // self.config.bucket_ms
        self._first_bucket = int(buckets.min())
        self._demand = np.bincount(buckets - self._first_bucket, weights=quantities).astype(np.float64)
        return self

    # ------------------------------------------------------------------ policy

    def reorder_policy(self, now_ms: int, lead_time_ms: int, service_level: float) -> ReorderPolicy:
        if not 0.0 < service_level < 1.0:
            raise ValueError(f"service_level must be strictly between 0 and 1, got {service_level}")
        if lead_time_ms <= 0:
            raise ValueError(f"lead_time_ms must be > 0, got {lead_time_ms}")
        series = self._series_until(now_ms)
        history_days = len(series) / self._bucket_of_day
        if history_days < self.config.min_history_days:
            return ReorderPolicy(
                self.config.fallback_reorder_point,
                self.config.fallback_order_quantity,
                0.0,
                [
                    f"cold start: {history_days:.1f} days of order history, fewer than the "
                    f"{self.config.min_history_days} the forecast needs; using the config's reorder point "
                    f"{self.config.fallback_reorder_point} and order quantity {self.config.fallback_order_quantity}"
                ],
            )
        return self._learned_policy(series, now_ms, lead_time_ms, service_level)

    def _series_until(self, now_ms: int) -> NDArray[np.float64]:
        """Demand per bucket from the first order to the last complete bucket before `now_ms`."""
        if self._first_bucket is None:
            return np.zeros(0)
        end = now_ms // self.config.bucket_ms - self._first_bucket  # exclusive: the current bucket is partial
        if end <= 0:
            return np.zeros(0)
        series = np.zeros(end)
        known = min(end, len(self._demand))
        series[:known] = self._demand[:known]
        return series

    def _features(
        self, absolute_buckets: NDArray[np.int64], lag: NDArray[np.float64], origin: int
    ) -> NDArray[np.float64]:
        per_day = self._bucket_of_day
        bucket_of_day = absolute_buckets % per_day
        # 1970-01-01 was a Thursday: shift so that 0 = Monday.
        day_of_week = (absolute_buckets // per_day + 3) % 7
        hours = np.eye(per_day)[bucket_of_day]
        days = np.eye(7)[day_of_week]
        trend = ((absolute_buckets - origin) / (7 * per_day))[:, None]
        return np.hstack([hours, days, trend, lag[:, None]])

    def _learned_policy(
        self, series: NDArray[np.float64], now_ms: int, lead_time_ms: int, service_level: float
    ) -> ReorderPolicy:
        assert self._first_bucket is not None
        config = self.config
        lag = self._lag
        window = min(len(series) - lag, config.window_days * self._bucket_of_day)
        train_idx = np.arange(len(series) - window, len(series))
        absolute = train_idx + self._first_bucket
        origin = int(len(series) + self._first_bucket)
        features = self._features(absolute, series[train_idx - lag], origin)
        model = Ridge(alpha=config.ridge_alpha).fit(features, series[train_idx])
        residuals = series[train_idx] - np.clip(model.predict(features), 0.0, None)

        lead_buckets = max(1, math.ceil(lead_time_ms / config.bucket_ms))
        cover_buckets = max(1, math.ceil(config.cover_days * DAY_MS / config.bucket_ms))
        # The forecast starts at the current (partial) bucket: it is what the stock must still cover.
        future = self._forecast(series, model, self._first_bucket, origin, lead_buckets + cover_buckets)
        lead_demand = float(future[:lead_buckets].sum())
        cover_demand = float(future[lead_buckets:].sum())

        safety, method = self._safety_stock(residuals, lead_buckets, service_level)
        reorder_point = max(0, math.ceil(lead_demand + safety))
        order_quantity = max(1, math.ceil(cover_demand))
        per_day = cover_demand / (cover_buckets / self._bucket_of_day)
        mae = float(np.abs(residuals).mean())
        days_trained = window / self._bucket_of_day
        return ReorderPolicy(
            reorder_point,
            order_quantity,
            per_day,
            [
                f"forecast {per_day:.1f} units/day for the {config.cover_days:g} days after arrival (ridge "
                f"regression on hour-of-day, day-of-week, trend and the same hour a week earlier, trained on "
                f"the last {days_trained:.0f} days; mean error {mae:.2f} units per bucket)",
                f"lead time {lead_time_ms / DAY_MS:.2f} days: forecast demand {lead_demand:.0f} + safety stock "
                f"{safety:.0f} for a {service_level:.0%} service level ({method}) = reorder point {reorder_point}",
                f"order quantity {order_quantity} covers {config.cover_days:g} days of forecast demand",
            ],
        )

    def _forecast(
        self, series: NDArray[np.float64], model: Ridge, first_bucket: int, origin: int, horizon: int
    ) -> NDArray[np.float64]:
        """Forecast of the next `horizon` buckets; lags beyond the known series use earlier forecasts."""
        lag = self._lag
        extended = np.concatenate([series, np.zeros(horizon)])
        start = len(series)
        for block_start in range(start, start + horizon, lag):
            block = np.arange(block_start, min(block_start + lag, start + horizon))
            features = self._features(block + first_bucket, extended[block - lag], origin)
            extended[block] = np.clip(model.predict(features), 0.0, None)
        return extended[start:]

    @staticmethod
    def _safety_stock(
        residuals: NDArray[np.float64], lead_buckets: int, service_level: float
    ) -> tuple[float, str]:
        z = NormalDist().inv_cdf(service_level)
        # Errors of neighbouring buckets are correlated (a slow week is slow every day), so the spread of
        # errors summed over real lead-time windows is used when the history holds a few such windows.
        if len(residuals) >= 3 * lead_buckets:
            window_errors = np.convolve(residuals, np.ones(lead_buckets), mode="valid")
            sigma = float(window_errors.std(ddof=1))
            return max(0.0, z * sigma), "normal quantile of the forecast errors summed over lead-time windows"
        sigma = float(residuals.std(ddof=1)) * math.sqrt(lead_buckets)
        return max(0.0, z * sigma), "normal quantile of the per-bucket errors scaled to the lead time"
