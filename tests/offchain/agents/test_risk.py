"""Counterparty risk: outcomes rebuilt from Escrow events, Beta-smoothed scores, the award's adjusted cost."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest

from offchain.agents.risk import LATENESS, NO_LEG, JobOutcome, RiskModel, outcomes_from_events
from offchain.audit.events import ChainEvent

BUYER = "0x" + "33" * 20
SELLER = "0x" + "11" * 20
RELIABLE = "0x" + "aa" * 20
UNRELIABLE = "0x" + "bb" * 20
NEWCOMER = "0x" + "cc" * 20
DEADLINE = 1_800_000_000
_positions = count(1)


def event(contract: str, name: str, **args: Any) -> ChainEvent:
    position = next(_positions)
    return ChainEvent(contract, name, args, position, 0, f"0x{position:064x}", "0x" + "99" * 20)


def settled_order(
    order_id: int,
    carriers: list[str],
    *,
    delivered_at: int = DEADLINE - 60,
    verdict_leg: int | None = None,
    charged: dict[int, int] | None = None,
    settle: bool = True,
) -> list[ChainEvent]:
    """An order of 1,000 units with one leg (freight 100) per carrier, handed over leg by leg."""
    events = [
        event("Escrow", "OrderOpened", orderId=order_id, buyer=BUYER, seller=SELLER, amount=1_000,
              deliveryDeadline=DEADLINE, penaltyPerHourLate=5, penaltyPerExcursion=10, penaltyCap=500),
    ]
    holders = [SELLER, *carriers, BUYER]
    for index, carrier in enumerate(carriers):
        events.append(event("Escrow", "LegAdded", orderId=order_id, legIndex=index, carrier=carrier, freight=100))
    for index in range(len(holders) - 1):
        events.append(event("Escrow", "LiabilityMoved", orderId=order_id, **{"from": holders[index]},
                            to=holders[index + 1], handedAt=DEADLINE - 1_000 + index, activeLeg=index))
        if verdict_leg == index:
            events.append(event("Escrow", "PenaltyApplied", orderId=order_id, verdictId=b"\x01" * 32,
                                legIndex=index, severity=2, amount=20))
    if delivered_at > DEADLINE:
        events.append(event("Escrow", "PenaltyApplied", orderId=order_id, verdictId=LATENESS,
                            legIndex=len(carriers) - 1 if carriers else NO_LEG, severity=0, amount=5))
    for leg, amount in (charged or {}).items():
        liable = SELLER if leg == NO_LEG else carriers[leg]
        events.append(event("Escrow", "PenaltySettled", orderId=order_id, liable=liable, legIndex=leg,
                            claimed=amount, charged=amount))
    if settle:
        events.append(event("Escrow", "OrderSettled", orderId=order_id, deliveredAt=delivered_at,
                            sellerPayout=800, carriersPayout=200, buyerRefund=0))
    return events


def outcomes(*orders: list[ChainEvent]) -> list[JobOutcome]:
    return outcomes_from_events(31337, [e for order in orders for e in order])


def test_each_leg_is_a_carrier_job_and_the_rest_the_sellers() -> None:
    result = outcomes(settled_order(1, [RELIABLE, UNRELIABLE]))
    by_party = {o.party: o for o in result}
    assert (by_party[RELIABLE].role, by_party[RELIABLE].value) == ("carrier", 100)
    assert (by_party[SELLER].role, by_party[SELLER].value) == ("seller", 800)
    assert not any(o.bad for o in result)


def test_lateness_is_charged_to_the_party_that_delivered() -> None:
    result = outcomes(settled_order(1, [RELIABLE, UNRELIABLE], delivered_at=DEADLINE + 7_200))
    assert {o.party: o.late for o in result} == {RELIABLE: False, UNRELIABLE: True, SELLER: False}


def test_verdict_penalty_counts_against_the_leg_it_names() -> None:
    result = outcomes(settled_order(1, [RELIABLE, UNRELIABLE], verdict_leg=1))
    assert {o.party: o.verdict_penalties for o in result} == {RELIABLE: 0, UNRELIABLE: 1, SELLER: 0}


def test_lateness_claim_is_not_a_verdict() -> None:
    result = outcomes(settled_order(1, [UNRELIABLE], delivered_at=DEADLINE + 60))
    assert [o.verdict_penalties for o in result if o.party == UNRELIABLE] == [0]


def test_charged_penalties_are_attributed_by_leg() -> None:
    result = outcomes(settled_order(1, [RELIABLE, UNRELIABLE], charged={1: 40, NO_LEG: 10}))
    assert {o.party: o.penalty_charged for o in result} == {RELIABLE: 0, UNRELIABLE: 40, SELLER: 10}


def test_unsettled_orders_give_no_outcome() -> None:
    assert outcomes(settled_order(1, [RELIABLE], settle=False)) == []


def market() -> RiskModel:
    orders = []
    for order_id in range(1, 21):
        orders.append(settled_order(order_id, [RELIABLE]))
        late = order_id % 2 == 0
        orders.append(settled_order(100 + order_id, [UNRELIABLE], delivered_at=DEADLINE + (3_600 if late else -60),
                                    verdict_leg=0 if order_id % 3 == 0 else None))
    return RiskModel.from_outcomes(outcomes(*orders), failure_cost=1_000)


def test_unreliable_carrier_ranks_below_a_reliable_one_at_equal_price() -> None:
    model = market()
    assert model.assess(UNRELIABLE).score > model.assess(RELIABLE).score
    assert model.adjusted_cost(500, 3_600, UNRELIABLE) > model.adjusted_cost(500, 3_600, RELIABLE)


def test_reliable_carrier_wins_even_at_a_somewhat_higher_price() -> None:
    model = market()
    assert model.adjusted_cost(600, 3_600, RELIABLE) < model.adjusted_cost(500, 3_600, UNRELIABLE)


def test_newcomer_scores_the_market_rate_and_says_so() -> None:
    model = market()
    newcomer = model.assess(NEWCOMER)
    assert model.assess(RELIABLE).score < newcomer.score < model.assess(UNRELIABLE).score
    assert newcomer.jobs == 0 and "no settled job" in newcomer.reasons[0]


def test_long_record_scores_close_to_its_observed_rate() -> None:
    model = RiskModel(failure_cost=0, half_life_jobs=None).fit(
        [JobOutcome(UNRELIABLE, i, "carrier", 100, i % 4 == 0, 0, 0, i) for i in range(400)]
    )
    assert model.assess(UNRELIABLE).score == pytest.approx(0.25, abs=0.01)


def test_recent_jobs_weigh_more_than_old_ones() -> None:
    improved = [JobOutcome(UNRELIABLE, i, "carrier", 100, i < 20, 0, 0, i) for i in range(40)]
    weighted = RiskModel(failure_cost=0, half_life_jobs=5).fit(improved).assess(UNRELIABLE).score
    flat = RiskModel(failure_cost=0, half_life_jobs=None).fit(improved).assess(UNRELIABLE).score
    assert weighted < 0.25 < 0.45 < flat


def test_expected_penalty_fraction_is_smoothed_charged_over_value() -> None:
    model = RiskModel(failure_cost=0, half_life_jobs=None, prior_strength=1).fit(
        [JobOutcome(UNRELIABLE, i, "carrier", 100, False, 0, 50, i) for i in range(99)]
    )
    assert model.assess(UNRELIABLE).expected_penalty_fraction == pytest.approx(0.5)


def test_reasons_count_late_jobs_and_penalties() -> None:
    reasons = market().assess(UNRELIABLE).reasons
    assert reasons[0].startswith("20 settled jobs on chain: 10 late, 6 verdict penalties")


def test_adjusted_cost_adds_time_cost() -> None:
    model = RiskModel(failure_cost=0, time_cost_per_hour=10).fit([])
    assert model.adjusted_cost(100, 7_200, NEWCOMER) == 120


def test_addresses_match_whatever_their_case() -> None:
    model = market()
    assert model.assess(UNRELIABLE.upper().replace("0X", "0x")).score == model.assess(UNRELIABLE).score


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"failure_cost": -1}, "failure_cost"),
        ({"failure_cost": 1, "prior_strength": 0}, "prior_strength"),
        ({"failure_cost": 1, "half_life_jobs": 0}, "half_life_jobs"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RiskModel(**settings)


def test_negative_price_is_refused() -> None:
    with pytest.raises(ValueError, match="price"):
        market().adjusted_cost(-1, 0, RELIABLE)
