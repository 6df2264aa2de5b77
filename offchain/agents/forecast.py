"""Demand forecast for a wholesaler's reorder point and order quantity, learned from its own order history.

    forecaster = DemandForecaster(ForecastConfig(fallback_reorder_point=400, fallback_order_quantity=900))
    forecaster.fit(history)                  # [(ts_ms, quantity), ...] of past customer orders
    policy = forecaster.reorder_policy(now_ms, lead_time_ms=3 * DAY_MS, service_level=0.95)
    policy.reorder_point, policy.order_quantity, policy.forecast_per_day, policy.reasons

Model. Demand is bucketed (hourly by default). At each call a ridge regression (scikit-learn) is trained
on the trailing `window_days` before `now_ms` with hour-of-day and day-of-week indicators: the daily and
weekly seasonality at the current level (an old regime falls out of the window). Lagged demand then
corrects the level: the ratio of the last `level_hours` of actual demand to what the seasonal model
expected for them scales the forecast, the correction fading with the horizon (time constant
`level_decay_hours`): a promotion or a slump that has begun carries on for a while, then the seasonal
pattern takes over. On the seeded synthetic year of bench/agents_ai.py these choices cut the error of the
lead-time demand estimate against the 28-day moving average; a linear trend term and a same-hour-last-week
lag were tried there and did worse (they extrapolate promotions).

Limitation: a steady trend is followed with a lag of about half the window (the seasonal level is the
window's); the backtest bias below adds the shortfall back into the safety stock, not into the forecast.

Policy. reorder point = forecast demand over the lead time + safety stock. The safety stock is the
`service_level` quantile of backtest errors: the same forecast made at earlier origins over the last
`error_window_days` (longer than the fit, so that rare surges are in the sample), compared with what was
then demanded over a lead time, relative to the forecast (a trend's older, lower level does not shrink
them); empirical with >= 100 origins (errors are skewed), else normal. The order quantity covers
`cover_days` of forecast demand after arrival.

Cold start: with less than `min_history_days` of history, the config's constants are returned and the
reasons say so. Pure: no I/O, no clock; one policy takes a few milliseconds (bench/agents_ai.py measures).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import Ridge

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS

FloatArray = NDArray[np.float64]


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
    level_hours: int = 24
    level_decay_hours: float = 48.0
    error_window_days: int = 112

    def __post_init__(self) -> None:
        if self.fallback_reorder_point < 0 or self.fallback_order_quantity < 1:
            raise ValueError("fallback reorder point must be >= 0 and order quantity >= 1")
        if self.bucket_ms <= 0 or DAY_MS % self.bucket_ms != 0:
            raise ValueError(f"bucket_ms must divide a day exactly, got {self.bucket_ms}")
        if self.min_history_days < 7:
            raise ValueError("min_history_days must be >= 7: every weekday must be seen")
        if self.window_days < self.min_history_days or self.error_window_days < self.window_days:
            raise ValueError("need min_history_days <= window_days <= error_window_days")
        if self.cover_days <= 0 or self.ridge_alpha < 0:
            raise ValueError("cover_days must be > 0 and ridge_alpha >= 0")
        if self.level_hours * HOUR_MS < self.bucket_ms or self.level_decay_hours <= 0:
            raise ValueError("level_hours must cover at least one bucket and level_decay_hours must be > 0")


class DemandForecaster:
    """Fitted on an order history; answers reorder policies at any time after it (see the module doc)."""

    def __init__(self, config: ForecastConfig) -> None:
        self.config = config
        self._per_day = DAY_MS // config.bucket_ms
        self._level_buckets = max(1, config.level_hours * HOUR_MS // config.bucket_ms)
        self._decay_buckets = config.level_decay_hours * HOUR_MS / config.bucket_ms
        self._first_bucket = 0
        self._demand: FloatArray = np.zeros(0)

    def fit(self, history: Sequence[tuple[int, int]]) -> Self:
        """Stores the history as demand per bucket; any order, duplicates summed. Quantities must be >= 0."""
        if not history:
            self._first_bucket, self._demand = 0, np.zeros(0)
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

    def history_days(self, now_ms: int) -> float:
        """Days of history before `now_ms` the forecast can use (from the first order)."""
        return len(self._series_until(now_ms)) / self._per_day

    # ------------------------------------------------------------------ policy

    def reorder_policy(self, now_ms: int, lead_time_ms: int, service_level: float) -> ReorderPolicy:
        if not 0.0 < service_level < 1.0:
            raise ValueError(f"service_level must be strictly between 0 and 1, got {service_level}")
        if lead_time_ms <= 0:
            raise ValueError(f"lead_time_ms must be > 0, got {lead_time_ms}")
        series = self._series_until(now_ms)
        history_days = len(series) / self._per_day
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
        return self._learned_policy(series, lead_time_ms, service_level)

    def _series_until(self, now_ms: int) -> FloatArray:
        """Demand per bucket from the first order to the last complete bucket before `now_ms`."""
        if len(self._demand) == 0:
            return np.zeros(0)
        end = now_ms // self.config.bucket_ms - self._first_bucket  # exclusive: the current bucket is partial
        if end <= 0:
            return np.zeros(0)
        series = np.zeros(end)
        known = min(end, len(self._demand))
        series[:known] = self._demand[:known]
        return series

    def _seasonal_features(self, absolute_buckets: NDArray[np.int64]) -> FloatArray:
        # 1970-01-01 was a Thursday: shift so that 0 = Monday.
        day_of_week = (absolute_buckets // self._per_day + 3) % 7
        return np.hstack([np.eye(self._per_day)[absolute_buckets % self._per_day], np.eye(7)[day_of_week]])

    def _level_corrected(self, seasonal: FloatArray, ratio: float) -> FloatArray:
        """The seasonal forecast of the buckets after an origin, scaled by the origin's level ratio."""
        fade = np.exp(-np.arange(len(seasonal)) / self._decay_buckets)
        return seasonal * (1.0 + (ratio - 1.0) * fade)

    def _level_ratio(self, actual: FloatArray, expected: FloatArray) -> float:
        # +1 on both sides: an empty night does not read as a collapse of demand.
        return float((actual.sum() + 1.0) / (expected.sum() + 1.0))

    def _learned_policy(self, series: FloatArray, lead_time_ms: int, service_level: float) -> ReorderPolicy:
        config = self.config
        window = min(len(series), config.window_days * self._per_day)
        start = len(series) - window
        seasonal_model = Ridge(alpha=config.ridge_alpha)
        train_features = self._seasonal_features(np.arange(start, len(series)) + self._first_bucket)
        seasonal_model.fit(train_features, series[start:])
        fitted = np.clip(seasonal_model.predict(train_features), 0.0, None)

        lead = max(1, math.ceil(lead_time_ms / config.bucket_ms))
        cover = max(1, math.ceil(config.cover_days * DAY_MS / config.bucket_ms))
        # The forecast starts at the current (partial) bucket: it is what the stock must still cover.
        future_buckets = np.arange(len(series), len(series) + lead + cover) + self._first_bucket
        seasonal_future = np.clip(seasonal_model.predict(self._seasonal_features(future_buckets)), 0.0, None)
        level = self._level_buckets
        ratio = self._level_ratio(series[-level:], fitted[-level:])
        future = self._level_corrected(seasonal_future, ratio)
        lead_demand = float(future[:lead].sum())
        cover_demand = float(future[lead:].sum())

        # Backtests reach further back than the fit: rare events (promotions) must be in the error sample.
        error_start = max(0, len(series) - config.error_window_days * self._per_day)
        error_features = self._seasonal_features(np.arange(error_start, len(series)) + self._first_bucket)
        backtest_fit = np.clip(seasonal_model.predict(error_features), 0.0, None)
        safety, method = self._safety_stock(series[error_start:], backtest_fit, lead, service_level, lead_demand)
        reorder_point = max(0, math.ceil(lead_demand + safety))
        order_quantity = max(1, math.ceil(cover_demand))
        per_day = cover_demand / (cover / self._per_day)
        return ReorderPolicy(
            reorder_point,
            order_quantity,
            per_day,
            [
                f"forecast {per_day:.1f} units/day for the {config.cover_days:g} days after arrival (hour-of-day "
                f"and day-of-week pattern of the last {window / self._per_day:.0f} days; the last "
                f"{config.level_hours} h ran at {ratio:.2f}x that pattern, a level that fades over "
                f"~{config.level_decay_hours:g} h)",
                f"lead time {lead_time_ms / DAY_MS:.2f} days: forecast demand {lead_demand:.0f} + safety stock "
                f"{safety:.0f} for a {service_level:.0%} service level ({method}) = reorder point {reorder_point}",
                f"order quantity {order_quantity} covers {config.cover_days:g} days of forecast demand",
            ],
        )

    def _safety_stock(
        self, actual: FloatArray, fitted: FloatArray, lead: int, service_level: float, lead_demand: float
    ) -> tuple[float, str]:
        level = self._level_buckets
        # Backtest origins every quarter day, each with a full level look-back and lead time. Errors are
        # relative to the forecast so that a trend's older, lower level does not shrink them.
        origins = range(level, len(actual) - lead + 1, max(1, self._per_day // 4))
        relative = []
        for o in origins:
            ratio = self._level_ratio(actual[o - level : o], fitted[o - level : o])
            forecast = float(self._level_corrected(fitted[o : o + lead], ratio).sum())
            relative.append((float(actual[o : o + lead].sum()) - forecast) / (forecast + 1.0))
        if len(relative) >= 100:
            # Empirical: demand errors are skewed (promotions), a normal quantile would understate the tail.
            quantile = float(np.quantile(relative, service_level))
            return max(0.0, quantile * lead_demand), f"empirical quantile of {len(relative)} backtest errors"
        if len(relative) >= 12:
            errors = np.array(relative)
            quantile = float(errors.mean() + NormalDist().inv_cdf(service_level) * errors.std(ddof=1))
            return max(0.0, quantile * lead_demand), f"normal quantile of {len(relative)} backtest errors"
        # Too short a history for lead-time backtests: per-bucket errors scaled as if independent.
        sigma = float(np.std(actual - fitted, ddof=1)) * math.sqrt(lead)
        z = NormalDist().inv_cdf(service_level)
        return max(0.0, z * sigma), "normal quantile of per-bucket errors scaled to the lead time"


class ForecastPlanner:
    """The forecaster behind the agents' `ReorderPlanner` protocol (`offchain.agents.strategy.buyer`):

        ctx.planner = ForecastPlanner(lead_time_ms=3 * DAY_MS, service_level=0.95)
        policy = planner.policy(product, history, now_ms)   # .reorder_point, .order_quantity, .reasons

    On a cold start it raises ValueError (with the reason), so the caller's own constants apply, as the
    buyer role does for any planner that cannot forecast yet.
    """

    def __init__(self, *, lead_time_ms: int, service_level: float, **settings: Any) -> None:
        if lead_time_ms <= 0 or not 0.0 < service_level < 1.0:
            raise ValueError("lead_time_ms must be > 0 and service_level strictly between 0 and 1")
        self.lead_time_ms = lead_time_ms
        self.service_level = service_level
        # The fallback constants are never used: a cold start raises instead.
        self.config = ForecastConfig(fallback_reorder_point=0, fallback_order_quantity=1, **settings)

    def policy(self, product: str, history: Sequence[tuple[int, int]], now_ms: int) -> ReorderPolicy:
        forecaster = DemandForecaster(self.config).fit(history)
        if forecaster.history_days(now_ms) < self.config.min_history_days:
            raise ValueError(
                f"{product}: fewer than {self.config.min_history_days} days of order history to forecast from"
            )
        return forecaster.reorder_policy(now_ms, self.lead_time_ms, self.service_level)
