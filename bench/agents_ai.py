"""The agents' learned parts against naive baselines (`make bench-agents-ai`), on SYNTHETIC data.

    python bench/agents_ai.py [--seed 7] [--award-seeds 5] [--rounds 1000]

1. Reorder policy. A year of hourly demand for one product is generated with a seed: daily and weekly
   seasonality, a trend, promotions (a few days of 1.6-2.4x demand, unannounced) and over-dispersed noise
   (gamma-Poisson). Eight weeks before the year are history. A wholesaler reviews its stock every morning and
   orders when the stock position (on hand + on order) is below the reorder point; orders arrive after 3-4.5
   days; unmet demand is lost. Policies, each with the same demand and lead times:
   - constant: the config's reorder point and quantity, set once from the history's mean demand x a buffer;
   - moving average: 28-day mean and spread of daily demand, normal safety stock;
   - forecast: offchain.agents.forecast.DemandForecaster.
   Each runs at five settings (buffers / service levels), so the trade-off (fill rate vs mean inventory)
   is compared, not one point. Measured: fill rate (units served / demanded), stockout days (days with lost
   demand), mean units on hand, orders placed, a total cost under stated assumptions (holding, lost margin,
   ordering), and the error of the lead-time demand estimate.
2. Award. A market of carriers with hidden reliabilities bids for deliveries; cut-price carriers tend to be
   the unreliable ones. A late or penalised delivery costs the buyer a loss minus the penalty it recovers.
   Strategies: lowest price; offchain.agents.risk.RiskModel (learned online from outcomes so far, as it would
   be from chain events); an oracle that knows the true reliabilities (the bound). Measured: buyer's total
   cost, bad-delivery rate, mean price, over several seeds.

Writes bench/results/agents_ai.json and agents_ai.png. Every number is measured by this script.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from offchain.agents.forecast import DAY_MS, HOUR_MS, DemandForecaster, ForecastConfig
from offchain.agents.risk import JobOutcome, RiskModel

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
START_MS = 1_767_571_200_000  # Monday 2026-01-05 00:00 UTC
HISTORY_DAYS = 56
SIM_DAYS = 365
REVIEW_HOUR = 6
SERVICE_LEVELS = (0.8, 0.9, 0.95, 0.98, 0.995)
LEAD_DAYS_NOMINAL = 3.75  # mean of the 3-4.5 day lead times: what every policy is told
COVER_DAYS = 7.0
# Cost assumptions for one summary number per policy (stated in the result file): a unit worth 10 tokens held
# at 25 %/year, 3 tokens of margin lost per unit not sold, 100 tokens per replenishment order placed.
HOLDING_PER_UNIT_DAY = 10 * 0.25 / 365
LOST_MARGIN_PER_UNIT = 3.0
COST_PER_ORDER = 100.0

log = logging.getLogger("bench.agents_ai")


# ---------------------------------------------------------------------------------------------- demand


@dataclass(frozen=True)
class DemandSpec:
    base_per_hour: float = 6.0
    trend_per_year: float = 0.35  # +35 % over the year
    weekend_factor: float = 0.45
    promotions_per_year: int = 9
    promotion_uplift: tuple[float, float] = (1.6, 2.4)
    promotion_days: tuple[int, int] = (3, 7)
    dispersion_shape: float = 4.0  # gamma shape of the rate noise: lower = burstier


def daily_profile(hour_of_day: NDArray[np.int64]) -> NDArray[np.float64]:
    """Orders come in business hours, peaking late morning; a trickle overnight."""
    return np.asarray(0.25 + 1.6 * np.exp(-0.5 * ((hour_of_day - 11.0) / 3.5) ** 2), dtype=np.float64)


def generate_demand(
    spec: DemandSpec, days: int, rng: np.random.Generator
) -> tuple[NDArray[np.int64], list[tuple[int, int, float]]]:
    hours = np.arange(days * 24)
    day = hours // 24
    weekday = day % 7 < 5
    rate = spec.base_per_hour * daily_profile(hours % 24) * np.where(weekday, 1.0, spec.weekend_factor)
    rate = rate * (1.0 + spec.trend_per_year * day / 365.0)
    promotions = []
    count = round(spec.promotions_per_year * days / 365)
    for start in rng.choice(np.arange(7, days - 7), size=count, replace=False):
        length = int(rng.integers(spec.promotion_days[0], spec.promotion_days[1] + 1))
        uplift = float(rng.uniform(*spec.promotion_uplift))
        rate[(day >= start) & (day < start + length)] *= uplift
        promotions.append((int(start), length, round(uplift, 2)))
    noisy = rate * rng.gamma(spec.dispersion_shape, 1.0 / spec.dispersion_shape, size=rate.shape)
    return rng.poisson(noisy).astype(np.int64), sorted(promotions)


# ---------------------------------------------------------------------------------------------- policies

Policy = Callable[[int, NDArray[np.int64]], tuple[int, int]]  # (now hour index, demand so far) -> (rop, qty)


def constant_policy(history: NDArray[np.int64], buffer: float) -> Policy:
    per_day = float(history.sum()) / (len(history) / 24)
    reorder_point = math.ceil(per_day * LEAD_DAYS_NOMINAL * buffer)
    quantity = math.ceil(per_day * COVER_DAYS)
    return lambda _hour, _seen: (reorder_point, quantity)


def moving_average_policy(service_level: float, window_days: int = 28) -> Policy:
    z = statistics.NormalDist().inv_cdf(service_level)

    def policy(hour: int, seen: NDArray[np.int64]) -> tuple[int, int]:
        days = seen[hour - hour % 24 - window_days * 24 : hour - hour % 24].reshape(window_days, 24).sum(axis=1)
        mean, spread = float(days.mean()), float(days.std(ddof=1))
        reorder_point = math.ceil(mean * LEAD_DAYS_NOMINAL + z * spread * math.sqrt(LEAD_DAYS_NOMINAL))
        return reorder_point, max(1, math.ceil(mean * COVER_DAYS))

    return policy


def forecast_policy(service_level: float, timings: list[float]) -> Policy:
    config = ForecastConfig(fallback_reorder_point=0, fallback_order_quantity=1, cover_days=COVER_DAYS)

    def policy(hour: int, seen: NDArray[np.int64]) -> tuple[int, int]:
        # The agent's order history: one record per hour with orders (what the chain/API would hold).
        nonzero = np.flatnonzero(seen[:hour])
        history = [(START_MS + int(h) * HOUR_MS + 1, int(seen[h])) for h in nonzero]
        started = time.perf_counter()
        forecaster = DemandForecaster(config).fit(history)
        result = forecaster.reorder_policy(START_MS + hour * HOUR_MS, round(LEAD_DAYS_NOMINAL * DAY_MS), service_level)
        timings.append(time.perf_counter() - started)
        return result.reorder_point, result.order_quantity

    return policy


@dataclass
class InventoryResult:
    fill_rate: float
    stockout_days: int
    stockout_day_rate: float
    mean_on_hand: float
    orders_placed: int
    units_lost: int
    cost_tokens: float  # holding + lost margin + ordering, with the assumptions above


def simulate(
    demand: NDArray[np.int64], lead_hours: NDArray[np.int64], policy: Policy, start_hour: int
) -> tuple[InventoryResult, list[tuple[int, int]]]:
    """Hourly simulation from `start_hour`; returns the metrics and (day, reorder point) of each review."""
    total_hours = len(demand)
    arrivals = np.zeros(total_hours + int(lead_hours.max()) + 1, dtype=np.int64)
    first_rop, _ = policy(start_hour, demand)
    on_hand = first_rop + 0  # start at the reorder point: neither starved nor flush
    on_order = 0
    served = demanded = orders = 0
    on_hand_sum = 0
    stockout_days: set[int] = set()
    reviews: list[tuple[int, int]] = []
    for hour in range(start_hour, total_hours):
        if arrivals[hour]:
            on_hand += int(arrivals[hour])
            on_order -= int(arrivals[hour])
        if hour % 24 == REVIEW_HOUR:
            reorder_point, quantity = policy(hour, demand)
            reviews.append((hour // 24, reorder_point))
            position = on_hand + on_order
            if position < reorder_point:
                amount = max(quantity, reorder_point - position)
                arrivals[hour + int(lead_hours[hour // 24])] += amount
                on_order += amount
                orders += 1
        wanted = int(demand[hour])
        given = min(on_hand, wanted)
        on_hand -= given
        served += given
        demanded += wanted
        if given < wanted:
            stockout_days.add(hour // 24)
        on_hand_sum += on_hand
    sim_days = (total_hours - start_hour) // 24
    mean_on_hand = on_hand_sum / (total_hours - start_hour)
    lost = demanded - served
    cost = mean_on_hand * sim_days * HOLDING_PER_UNIT_DAY + lost * LOST_MARGIN_PER_UNIT + orders * COST_PER_ORDER
    return (
        InventoryResult(
            fill_rate=served / demanded,
            stockout_days=len(stockout_days),
            stockout_day_rate=len(stockout_days) / sim_days,
            mean_on_hand=mean_on_hand,
            orders_placed=orders,
            units_lost=lost,
            cost_tokens=cost,
        ),
        reviews,
    )


def lead_demand_errors(demand: NDArray[np.int64], start_hour: int, timings: list[float]) -> dict[str, float]:
    """Mean absolute error of the demand estimate over the nominal lead time at each morning review: the
    forecaster at a 50 % service level (no safety stock) vs the 28-day moving average vs the history mean."""
    lead_hours = round(LEAD_DAYS_NOMINAL * 24)
    forecast = forecast_policy(0.5, timings)
    history_mean = float(demand[:start_hour].sum()) / (start_hour / 24) * LEAD_DAYS_NOMINAL
    errors: dict[str, list[float]] = {"forecast": [], "moving_average": [], "constant": []}
    for hour in range(start_hour + REVIEW_HOUR, len(demand) - lead_hours, 24):
        actual = float(demand[hour : hour + lead_hours].sum())
        moving = float(demand[hour - hour % 24 - 28 * 24 : hour - hour % 24].sum()) / 28 * LEAD_DAYS_NOMINAL
        errors["forecast"].append(abs(forecast(hour, demand)[0] - actual))
        errors["moving_average"].append(abs(moving - actual))
        errors["constant"].append(abs(history_mean - actual))
    return {name: round(float(np.mean(values)), 2) for name, values in errors.items()}


def inventory_bench(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    spec = DemandSpec()
    demand, promotions = generate_demand(spec, HISTORY_DAYS + SIM_DAYS, rng)
    lead_hours = rng.integers(72, 109, size=HISTORY_DAYS + SIM_DAYS + 1)  # 3 to 4.5 days
    start = HISTORY_DAYS * 24
    timings: list[float] = []
    settings: dict[str, list[tuple[str, Policy]]] = {
        "constant": [(f"buffer {b}", constant_policy(demand[:start], b)) for b in (1.0, 1.3, 1.6, 2.0, 2.5)],
        "moving_average": [(f"service {s}", moving_average_policy(s)) for s in SERVICE_LEVELS],
        "forecast": [(f"service {s}", forecast_policy(s, timings)) for s in SERVICE_LEVELS],
    }
    results: dict[str, dict[str, dict[str, Any]]] = {}
    reviews_of: dict[str, list[tuple[int, int]]] = {}
    for name, variants in settings.items():
        results[name] = {}
        for label, policy in variants:
            started = time.perf_counter()
            metrics, reviews = simulate(demand, lead_hours, policy, start)
            entry: dict[str, Any] = asdict(metrics)
            entry["elapsed_s"] = round(time.perf_counter() - started, 2)
            results[name][label] = {k: round(v, 4) if isinstance(v, float) else v for k, v in entry.items()}
            reviews_of[f"{name} {label}"] = reviews
            log.info("%s %s: %s", name, label, results[name][label])
    errors = lead_demand_errors(demand, start, timings)
    return {
        "demand": {
            "synthetic": True,
            "seed": seed,
            "spec": asdict(spec),
            "history_days": HISTORY_DAYS,
            "simulated_days": SIM_DAYS,
            "units_demanded_in_year": int(demand[start:].sum()),
            "promotions": [{"start_day": s - HISTORY_DAYS, "days": n, "uplift": u} for s, n, u in promotions],
            "lead_time_days": "uniform 3.0-4.5 (whole hours); policies are told 3.75",
            "review": f"daily at {REVIEW_HOUR:02d}:00; lost sales",
        },
        "policies": results,
        "cost_assumptions": {
            "holding_tokens_per_unit_day": round(HOLDING_PER_UNIT_DAY, 5),
            "lost_margin_tokens_per_unit": LOST_MARGIN_PER_UNIT,
            "tokens_per_order": COST_PER_ORDER,
        },
        "best_setting_by_cost": {
            name: min(variants, key=lambda label: variants[label]["cost_tokens"]) for name, variants in results.items()
        },
        "lead_time_demand_mae_units": errors,
        "forecast_policy_ms": {
            "median": round(statistics.median(timings) * 1000, 2),
            "p95": round(float(np.quantile(timings, 0.95)) * 1000, 2),
            "calls": len(timings),
        },
        "_plot": {"demand": demand, "start": start, "reviews": reviews_of},
    }


# ---------------------------------------------------------------------------------------------- awards


@dataclass(frozen=True)
class MarketSpec:
    carriers: int = 12
    bidders_per_cfp: int = 5
    base_price: int = 1_000_000_000  # 1,000 tokens (6 decimals)
    loss_if_bad: int = 1_500_000_000  # spoilage / lost sales of a late or damaged delivery
    penalty_fraction: float = 0.2  # of the price, recovered from the carrier when bad


def award_bench(seed: int, rounds: int, spec: MarketSpec) -> dict[str, Any]:
    rng = np.random.default_rng(1_000 + seed)
    # Hidden reliabilities: most carriers decent, a few poor; the poor ones price lower (cutting corners).
    p_bad = rng.beta(1.2, 6.0, size=spec.carriers)
    p_bad[rng.choice(spec.carriers, size=3, replace=False)] = rng.uniform(0.35, 0.6, size=3)
    price_level = 0.8 + 0.5 * (1.0 - p_bad / p_bad.max()) + rng.normal(0, 0.03, size=spec.carriers)
    carriers = [f"0x{index + 1:040x}" for index in range(spec.carriers)]
    bidders = [rng.choice(spec.carriers, size=spec.bidders_per_cfp, replace=False) for _ in range(rounds)]
    noise = rng.lognormal(0.0, 0.06, size=(rounds, spec.bidders_per_cfp))
    fate = rng.random(size=rounds)
    expected_recovery = spec.penalty_fraction * spec.base_price

    def run(choose: Callable[[int, list[int], list[int]], int], learn: bool) -> dict[str, Any]:
        outcomes: list[JobOutcome] = []
        cost = bad = paid = 0
        curve = []
        for round_index in range(rounds):
            ids = [int(i) for i in bidders[round_index]]
            prices = [round(spec.base_price * price_level[i] * n) for i, n in zip(ids, noise[round_index], strict=True)]
            pick = choose(round_index, ids, prices) if not learn else choose_learned(outcomes, ids, prices)
            winner, price = ids[pick], prices[pick]
            is_bad = bool(fate[round_index] < p_bad[winner])
            penalty = round(spec.penalty_fraction * price) if is_bad else 0
            cost += price + (spec.loss_if_bad - penalty if is_bad else 0)
            bad += is_bad
            paid += price
            curve.append(cost)
            outcomes.append(
                JobOutcome(carriers[winner], round_index, "carrier", price, is_bad, 0, penalty, round_index)
            )
        return {"total_cost": cost, "bad_rate": bad / rounds, "mean_price": paid / rounds, "curve": curve}

    def choose_learned(outcomes: list[JobOutcome], ids: list[int], prices: list[int]) -> int:
        model = RiskModel.from_outcomes(outcomes, failure_cost=round(spec.loss_if_bad - expected_recovery))
        costs = [model.adjusted_cost(p, 0, carriers[i]) for i, p in zip(ids, prices, strict=True)]
        return int(np.argmin(costs))

    def cheapest(_: int, __: list[int], prices: list[int]) -> int:
        return int(np.argmin(prices))

    def oracle(_: int, ids: list[int], prices: list[int]) -> int:
        costs = [
            p + p_bad[i] * (spec.loss_if_bad - spec.penalty_fraction * p) for i, p in zip(ids, prices, strict=True)
        ]
        return int(np.argmin(costs))

    started = time.perf_counter()
    learned = run(cheapest, learn=True)
    learned_s = time.perf_counter() - started
    return {
        "price_only": run(cheapest, learn=False),
        "risk_model": learned,
        "oracle": run(oracle, learn=False),
        "risk_model_decision_ms": round(learned_s / rounds * 1000, 3),
        "true_p_bad": [round(float(p), 3) for p in p_bad],
    }


def summarise_awards(per_seed: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for strategy in ("price_only", "risk_model", "oracle"):
        costs = [run[strategy]["total_cost"] / rounds for run in per_seed]
        summary[strategy] = {
            "cost_per_delivery_tokens": round(statistics.mean(costs) / 1e6, 2),
            "cost_per_delivery_sd": round(statistics.stdev(costs) / 1e6, 2) if len(costs) > 1 else 0.0,
            "bad_delivery_rate": round(statistics.mean(run[strategy]["bad_rate"] for run in per_seed), 4),
            "mean_price_tokens": round(statistics.mean(run[strategy]["mean_price"] for run in per_seed) / 1e6, 2),
        }
    base = summary["price_only"]["cost_per_delivery_tokens"]
    for strategy in ("risk_model", "oracle"):
        summary[strategy]["saving_vs_price_only"] = round(1 - summary[strategy]["cost_per_delivery_tokens"] / base, 4)
    summary["risk_model_decision_ms"] = round(statistics.mean(run["risk_model_decision_ms"] for run in per_seed), 3)
    return summary


# ---------------------------------------------------------------------------------------------- output


def plot(inventory: dict[str, Any], awards: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(13, 9))
    data = inventory["_plot"]
    demand, start = data["demand"], data["start"]
    daily = demand[start:].reshape(-1, 24).sum(axis=1)
    axis = axes[0][0]
    axis.plot(np.arange(len(daily)), daily, lw=0.8, color="grey", label="daily demand (synthetic)")
    for key, colour in (("constant buffer 1.3", "tab:red"), ("moving_average service 0.95", "tab:orange"),
                        ("forecast service 0.95", "tab:blue")):
        days, points = zip(*data["reviews"][key], strict=True)
        axis.plot(np.array(days) - start // 24, points, lw=1.0, color=colour, label=f"reorder point: {key}")
    axis.set(title="Demand and reorder points", xlabel="day of the simulated year", ylabel="units")
    axis.legend(fontsize=7)

    axis = axes[0][1]
    for name, colour in (("constant", "tab:red"), ("moving_average", "tab:orange"), ("forecast", "tab:blue")):
        points = inventory["policies"][name]
        axis.plot([p["mean_on_hand"] for p in points.values()], [p["fill_rate"] for p in points.values()],
                  "o-", color=colour, label=name)
    axis.set(title="Fill rate vs mean stock (up-left is better)", xlabel="mean units on hand", ylabel="fill rate")
    axis.legend()

    axis = axes[1][0]
    first = awards[0]
    for strategy, colour in (("price_only", "tab:red"), ("risk_model", "tab:blue"), ("oracle", "tab:green")):
        axis.plot(np.array(first[strategy]["curve"]) / 1e6, color=colour, label=strategy)
    axis.set(title="Buyer's cumulative cost, seed 0", xlabel="delivery", ylabel="tokens")
    axis.legend()

    axis = axes[1][1]
    strategies = ("price_only", "risk_model", "oracle")
    rates = [statistics.mean(run[s]["bad_rate"] for run in awards) for s in strategies]
    axis.bar(strategies, rates, color=("tab:red", "tab:blue", "tab:green"))
    axis.set(title="Late or penalised deliveries", ylabel="share of deliveries")
    figure.suptitle("bench/agents_ai.py — synthetic data (seeded), see agents_ai.json")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--award-seeds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=RESULTS / "agents_ai.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    started = time.perf_counter()
    inventory = inventory_bench(args.seed)
    spec = MarketSpec()
    awards = [award_bench(seed, args.rounds, spec) for seed in range(args.award_seeds)]
    summary = summarise_awards(awards, args.rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot(inventory, awards, args.out.with_suffix(".png"))
    result: dict[str, Any] = {
        "data": "SYNTHETIC: generated with the seeds below; no real demand or carrier data",
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
        "inventory": {k: v for k, v in inventory.items() if k != "_plot"},
        "awards": {
            "synthetic": True,
            "seeds": list(range(args.award_seeds)),
            "rounds_per_seed": args.rounds,
            "market": asdict(spec),
            "summary": summary,
            "true_p_bad_seed0": awards[0]["true_p_bad"],
        },
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"inventory": result["inventory"]["policies"], "lead_time_demand_mae_units":
                      result["inventory"]["lead_time_demand_mae_units"], "awards": summary}, indent=2))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
