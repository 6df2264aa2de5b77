"""The demand forecaster: cold start, seasonality, trend, no look-ahead, safety stock, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from offchain.agents.forecast import DAY_MS, HOUR_MS, DemandForecaster, ForecastConfig, ForecastPlanner

START_MS = 1_767_571_200_000  # Monday 2026-01-05 00:00 UTC
CONFIG = ForecastConfig(fallback_reorder_point=111, fallback_order_quantity=222)


def seasonal_history(days: int, seed: int = 7, trend_per_day: float = 0.0) -> list[tuple[int, int]]:
    """Weekdays busy, weekends quiet, a daytime peak; Poisson counts per hour."""
    rng = np.random.default_rng(seed)
    history = []
    for hour in range(days * 24):
        day, hour_of_day = divmod(hour, 24)
        weekday = day % 7 < 5
        rate = (6.0 if weekday else 0.8) * (1.5 if 8 <= hour_of_day < 18 else 0.4) * (1 + trend_per_day * day)
        quantity = int(rng.poisson(rate))
        if quantity:
            history.append((START_MS + hour * HOUR_MS + 17, quantity))
    return history


def demand_between(history: list[tuple[int, int]], start_ms: int, end_ms: int) -> int:
    return sum(q for ts, q in history if start_ms <= ts < end_ms)


def test_cold_start_uses_the_configs_constants_and_says_so() -> None:
    policy = DemandForecaster(CONFIG).fit(seasonal_history(5)).reorder_policy(START_MS + 5 * DAY_MS, DAY_MS, 0.95)
    assert (policy.reorder_point, policy.order_quantity, policy.forecast_per_day) == (111, 222, 0.0)
    assert "cold start" in policy.reasons[0]


def test_empty_history_is_a_cold_start() -> None:
    policy = DemandForecaster(CONFIG).fit([]).reorder_policy(START_MS, DAY_MS, 0.9)
    assert policy.reorder_point == 111 and "cold start" in policy.reasons[0]


def test_lead_time_demand_beats_a_moving_average_on_a_seasonal_series() -> None:
    history = seasonal_history(140)
    forecaster = DemandForecaster(CONFIG).fit(history)
    lead = 2 * DAY_MS
    model_errors, average_errors = [], []
    for day in range(70, 138):
        now = START_MS + day * DAY_MS
        actual = demand_between(history, now, now + lead)
        # At a 50 % service level the safety stock is zero: the reorder point is the forecast itself.
        forecast = forecaster.reorder_policy(now, lead, 0.5).reorder_point
        moving_average = demand_between(history, now - 28 * DAY_MS, now) / 28 * 2
        model_errors.append(abs(forecast - actual))
        average_errors.append(abs(moving_average - actual))
    assert np.mean(model_errors) < 0.5 * np.mean(average_errors)


def test_a_surge_under_way_raises_the_lead_time_forecast() -> None:
    history = seasonal_history(60)
    now = START_MS + 60 * DAY_MS
    surge = [(ts, q * 3) if ts >= now - DAY_MS else (ts, q) for ts, q in history]
    calm = DemandForecaster(CONFIG).fit(history).reorder_policy(now, DAY_MS, 0.5)
    surging = DemandForecaster(CONFIG).fit(surge).reorder_policy(now, DAY_MS, 0.5)
    assert surging.reorder_point > 1.8 * calm.reorder_point
    ratio = float(surging.reasons[0].split("ran at ")[1].split("x")[0])
    assert ratio > 2.0  # the surge day also lifts its own weekday's fitted pattern, hence not 3


def test_the_level_correction_fades_over_the_cover_period() -> None:
    history = seasonal_history(60)
    now = START_MS + 60 * DAY_MS
    surge = [(ts, q * 3) if ts >= now - DAY_MS else (ts, q) for ts, q in history]
    calm = DemandForecaster(CONFIG).fit(history).reorder_policy(now, 7 * DAY_MS, 0.5)
    surging = DemandForecaster(CONFIG).fit(surge).reorder_policy(now, 7 * DAY_MS, 0.5)
    # Not equal: the surge day is also one of the window's 42 days, which lifts the seasonal level a little.
    assert surging.forecast_per_day == pytest.approx(calm.forecast_per_day, rel=0.1)


def test_orders_after_now_are_not_used() -> None:
    history = seasonal_history(60)
    now = START_MS + 40 * DAY_MS + 5 * HOUR_MS
    spike = [(now + HOUR_MS, 100_000)]
    seen = DemandForecaster(CONFIG).fit(history + spike).reorder_policy(now, DAY_MS, 0.9)
    truncated = DemandForecaster(CONFIG).fit([o for o in history if o[0] < now]).reorder_policy(now, DAY_MS, 0.9)
    assert seen == truncated


def test_reorder_point_rises_with_the_service_level() -> None:
    forecaster = DemandForecaster(CONFIG).fit(seasonal_history(60))
    now = START_MS + 60 * DAY_MS
    points = [forecaster.reorder_policy(now, 3 * DAY_MS, level).reorder_point for level in (0.5, 0.9, 0.99)]
    assert points[0] < points[1] < points[2]


def test_order_quantity_covers_the_configured_days_of_forecast_demand() -> None:
    forecaster = DemandForecaster(ForecastConfig(1, 1, cover_days=14)).fit(seasonal_history(60))
    policy = forecaster.reorder_policy(START_MS + 60 * DAY_MS, DAY_MS, 0.9)
    assert 0 <= policy.order_quantity - policy.forecast_per_day * 14 < 1  # rounded up to whole units


def test_reasons_explain_forecast_safety_stock_and_quantity() -> None:
    policy = DemandForecaster(CONFIG).fit(seasonal_history(60)).reorder_policy(START_MS + 60 * DAY_MS, DAY_MS, 0.95)
    assert len(policy.reasons) == 3
    assert "units/day" in policy.reasons[0]
    assert "safety stock" in policy.reasons[1] and "95%" in policy.reasons[1]
    assert f"order quantity {policy.order_quantity}" in policy.reasons[2]


@pytest.mark.parametrize("level", [0.0, 1.0, -0.1, 1.5])
def test_service_level_outside_zero_one_is_refused(level: float) -> None:
    with pytest.raises(ValueError, match="service_level"):
        DemandForecaster(CONFIG).fit([]).reorder_policy(START_MS, DAY_MS, level)


def test_non_positive_lead_time_is_refused() -> None:
    with pytest.raises(ValueError, match="lead_time_ms"):
        DemandForecaster(CONFIG).fit([]).reorder_policy(START_MS, 0, 0.9)


def test_negative_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="quantities"):
        DemandForecaster(CONFIG).fit([(START_MS, 3), (START_MS + 1, -1)])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fallback_order_quantity": 0}, "fallback"),
        ({"bucket_ms": 7 * HOUR_MS}, "divide a day"),
        ({"min_history_days": 5}, "min_history_days"),
        ({"window_days": 10}, "window_days"),
        ({"cover_days": 0}, "cover_days"),
    ],
)
def test_bad_config_is_refused(changes: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ForecastConfig(**{"fallback_reorder_point": 1, "fallback_order_quantity": 1, **changes})  # type: ignore[arg-type]


def test_planner_answers_the_agents_protocol_with_a_learned_policy() -> None:
    planner = ForecastPlanner(lead_time_ms=DAY_MS, service_level=0.9)
    policy = planner.policy("beef", seasonal_history(60), START_MS + 60 * DAY_MS)
    assert policy.reorder_point > 0 and "units/day" in policy.reasons[0]


def test_planner_raises_on_a_cold_start_so_the_callers_constants_apply() -> None:
    planner = ForecastPlanner(lead_time_ms=DAY_MS, service_level=0.9)
    with pytest.raises(ValueError, match="beef: fewer than 14 days"):
        planner.policy("beef", seasonal_history(5), START_MS + 5 * DAY_MS)
