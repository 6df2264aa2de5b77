"""Retail demand as a process: shoppers buy from the retailer's shelf each period (seeded draws), the retailer
reorders from the wholesaler when the shelf runs low, and that order is the wholesaler's demand history."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from offchain.agents.config import AgentConfig, ConfigError, DemandProfileConfig, load_config
from offchain.agents.roles.retailer import MAX_PERIODS_PER_ROUND, RetailerRole, units_asked
from offchain.agents.state import AgentState
from tests.offchain.agents import configs as c
from tests.offchain.agents.harness import World

HOUR = 3600
DAY = 24 * HOUR
T0 = 1_781_481_600  # a midnight UTC, so period k of a day is its hour
PROFILE = {"product": c.BEEF, "mean_per_day": 48.0, "seed": 3}


def _retailer(stock: int = 40, *, max_unit_price: int = 0, **profile: Any) -> AgentConfig:
    return AgentConfig.model_validate({
        "kind": "retailer", "name": "retailer", "region": "retailer_mill_road",
        "products": [{"product": c.BEEF, "initial_stock": stock, "max_unit_price": max_unit_price,
                      "reorder_point": 10, "order_quantity": 30}],
        "buying": c.FAST, "demand_profiles": [PROFILE | profile],
    })


def _shop(tmp_path: Path, config: AgentConfig, name: str = "shop") -> RetailerRole:
    """The retailer's role over its own state; with no max price it never calls for proposals (no chain)."""
    state = AgentState(f"sqlite:///{tmp_path / (name + '.sqlite')}")
    ctx = SimpleNamespace(state=state, config=config, address="0x" + "11" * 20, risk=object())
    role = RetailerRole(ctx)  # type: ignore[arg-type]
    role.start()
    return role


def _sold(role: RetailerRole) -> int:
    return -sum(m.delta for m in role.state.movements(c.BEEF) if m.reason == "sold")


# ------------------------------------------------------------------ the draws


def test_draws_repeat_for_the_same_seed_product_and_period() -> None:
    profile = DemandProfileConfig.model_validate(PROFILE)
    assert [units_asked(profile, k) for k in range(200)] == [units_asked(profile, k) for k in range(200)]
    other = DemandProfileConfig.model_validate(PROFILE | {"seed": 4})
    assert [units_asked(profile, k) for k in range(200)] != [units_asked(other, k) for k in range(200)]


def test_draws_average_the_daily_mean() -> None:
    profile = DemandProfileConfig.model_validate(PROFILE)
    days = 100
    total = sum(units_asked(profile, T0 // HOUR + k) for k in range(days * 24))
    assert abs(total - 48 * days) < 5 * (48 * days) ** 0.5  # Poisson: five standard deviations


def test_hours_of_zero_weight_sell_nothing() -> None:
    weights = [0.0] * 8 + [1.0] * 12 + [0.0] * 4  # open 08:00-20:00 UTC
    profile = DemandProfileConfig.model_validate(PROFILE | {"hourly_weights": weights})
    by_hour = np.zeros(24)
    for k in range(30 * 24):
        period = T0 // HOUR + k
        by_hour[period % 24] += units_asked(profile, period)
    assert by_hour[:8].sum() == 0 and by_hour[20:].sum() == 0
    assert abs(by_hour.sum() / 30 - 48) < 5 * (48 / 30) ** 0.5 * 3  # the day's total is kept, only shifted


def test_noise_spreads_the_daily_totals_beyond_poisson() -> None:
    calm = DemandProfileConfig.model_validate(PROFILE)
    noisy = DemandProfileConfig.model_validate(PROFILE | {"noise_cv": 0.5})

    def daily(profile: DemandProfileConfig) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.array([sum(units_asked(profile, T0 // HOUR + d * 24 + h) for h in range(24)) for d in range(150)])

    assert daily(calm).var() / daily(calm).mean() < 1.5  # Poisson: variance = mean
    assert daily(noisy).var() / daily(noisy).mean() > 5  # + (0.5 * 48)^2 per day


# ------------------------------------------------------------------ the shelf


def test_sales_are_booked_once_a_period_is_over(tmp_path: Path) -> None:
    shop = _shop(tmp_path, _retailer(stock=1_000))
    shop.act(T0)
    shop.act(T0 + HOUR - 1)
    assert _sold(shop) == 0
    shop.act(T0 + 5 * HOUR)
    profile = DemandProfileConfig.model_validate(PROFILE)
    assert _sold(shop) == sum(units_asked(profile, T0 // HOUR + k) for k in range(5))
    asked = {k: v["quantity"] for k, v in shop.state.facts("demand").items()}
    assert sum(asked.values()) == _sold(shop) and all(v["t_ms"] % (HOUR * 1000) == 0
                                                      for v in shop.state.facts("demand").values())


def test_an_empty_shelf_loses_sales_but_keeps_the_demand(tmp_path: Path) -> None:
    shop = _shop(tmp_path, _retailer(stock=3))
    shop.act(T0)
    shop.act(T0 + DAY)
    asked = sum(int(v["quantity"]) for v in shop.state.facts("demand").values())
    lost = sum(int(v["quantity"]) for v in shop.state.facts("lost_sale").values())
    assert _sold(shop) == 3 and shop.state.stock(c.BEEF).on_hand == 0
    assert asked > 3 and lost == asked - 3


def test_a_restart_books_no_period_twice(tmp_path: Path) -> None:
    config = _retailer(stock=1_000)
    shop = _shop(tmp_path, config)
    shop.act(T0)
    shop.act(T0 + 10 * HOUR)
    before = [(m.ref, m.delta) for m in shop.state.movements(c.BEEF)]
    again = _shop(tmp_path, config)  # same database: the agent restarted
    again.act(T0 + 10 * HOUR)
    assert [(m.ref, m.delta) for m in again.state.movements(c.BEEF)] == before
    again.act(T0 + 12 * HOUR)
    refs = [m.ref for m in again.state.movements(c.BEEF) if m.reason == "sold"]
    assert len(refs) == len(set(refs)) and again.state.fact("shelf", c.BEEF) == {"next": T0 // HOUR + 12}


def test_a_long_absence_is_caught_up_a_bounded_number_of_periods_per_round(tmp_path: Path) -> None:
    shop = _shop(tmp_path, _retailer(stock=100_000))
    shop.act(T0)
    shop.act(T0 + 30 * DAY)
    assert shop.state.fact("shelf", c.BEEF) == {"next": T0 // HOUR + MAX_PERIODS_PER_ROUND}
    shop.act(T0 + 30 * DAY)
    assert shop.state.fact("shelf", c.BEEF) == {"next": T0 // HOUR + 2 * MAX_PERIODS_PER_ROUND}


# ------------------------------------------------------------------ config


def test_only_retailers_have_shoppers(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "kind: wholesaler\nname: w\nregion: wholesaler_cambridge\nproducts: [{product: beef-chilled}]\n"
        "demand_profiles: [{product: beef-chilled, mean_per_day: 5}]\n"
    )
    with pytest.raises(ConfigError, match="a wholesaler has no `demand_profiles`"):
        load_config(path)


def test_a_profile_names_a_product_the_retailer_lists(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        "kind: retailer\nname: r\nregion: retailer_mill_road\nproducts: [{product: beef-chilled}]\n"
        "demand_profiles: [{product: lamb, mean_per_day: 5}]\n"
    )
    with pytest.raises(ConfigError, match="demand profile for 'lamb', which is not in `products`"):
        load_config(path)


def test_hourly_weights_cannot_all_be_zero() -> None:
    with pytest.raises(ValueError, match="not all 0"):
        DemandProfileConfig.model_validate(PROFILE | {"hourly_weights": [0.0] * 24})


# ------------------------------------------------------------------ on the chain


def test_the_retailer_reorders_when_shoppers_empty_the_shelf_and_the_wholesaler_learns_it(world: World) -> None:
    world.add(c.wholesaler(stock=200, reorder_point=50, quantity=100), 1)
    world.add(c.logistics(), 4)
    world.add(c.carrier("carrier-a", ["truck-a1"]), 5)
    world.add(_retailer(stock=20, max_unit_price=80 * 10**6, mean_per_day=96.0), 7)
    retailer = world.agents["retailer"].ctx.state
    wholesaler = world.agents["wholesaler"].ctx.state

    # Steps shorter than the CFP phases (600 s), so the wholesaler can commit and reveal in time.
    world.run_until(lambda: bool(retailer.facts("intent")), seconds=300, max_rounds=24 * 12)
    sold_before_ordering = -sum(m.delta for m in retailer.movements(c.BEEF) if m.reason == "sold")
    assert sold_before_ordering > 10  # 20 on the shelf, reorder point 10
    (intent,) = retailer.facts("intent").values()
    assert intent["quantity"] == 30 and "< reorder point 10" in intent["why"][0]

    world.run_until(lambda: any(o.get("status") == "settled" for o in retailer.facts("order").values()))
    (history,) = [d for d in wholesaler.facts("demand").values() if d["product"] == c.BEEF]
    assert history["quantity"] == 30  # the retailer's order is the wholesaler's demand history
    assert any(m.reason == "received" and m.delta == 30 for m in retailer.movements(c.BEEF))
