"""The expectations read from chain facts: each one holds or fails on its own, with a reason."""

from __future__ import annotations

from offchain.scenario.expect import all_held, chain_outcomes
from offchain.scenario.progress import Facts
from offchain.sim.story import Expectations, VerdictExpectation


def facts(**changes: object) -> Facts:
    f = Facts()
    for name, value in changes.items():
        setattr(f, name, value)
    return f


def held(expect: Expectations, f: Facts) -> dict[str, bool]:
    return {o.name: o.held for o in chain_outcomes(expect, f)}


def test_delivered_counts_delivered_twins_only() -> None:
    twins = {1: {"delivered": True}, 2: {"delivered": False}}
    assert held(Expectations(delivered_min=1), facts(twins=twins))["delivered"]
    assert not held(Expectations(delivered_min=2), facts(twins=twins))["delivered"]


def test_verdict_expectation_matches_kind_and_action() -> None:
    verdicts = [{"kind": "temperature", "action": "penalty"}]
    want_reroute = Expectations(verdicts=[VerdictExpectation(kind="temperature", action="reroute")])
    want_any = Expectations(verdicts=[VerdictExpectation(kind="temperature")])
    assert not held(want_reroute, facts(verdicts=verdicts))["verdict:temperature"]
    assert held(want_any, facts(verdicts=verdicts))["verdict:temperature"]


def test_reroute_must_be_awarded_not_only_opened() -> None:
    expect = Expectations(reroute_awarded=True)
    opened = facts(reroute_cfps={7: 1}, cfps={7: {"winner": None}})
    awarded = facts(reroute_cfps={7: 1}, cfps={7: {"winner": "city-chill"}})
    assert not held(expect, opened)["reroute_awarded"]
    assert held(expect, awarded)["reroute_awarded"]


def test_penalty_expectation_names_the_carrier() -> None:
    penalties = [{"carrier": "city-chill", "amount": 1}]
    outcome = held(Expectations(penalties_on=["fenland-haulage"]), facts(penalties=penalties))
    assert not outcome["penalty:fenland-haulage"]


def test_a_carrier_that_must_not_be_charged_fails_on_its_first_penalty() -> None:
    expect = Expectations(no_penalties_on=["city-chill"])
    assert held(expect, facts(penalties=[{"carrier": "fenland-haulage", "amount": 1}]))["no_penalty:city-chill"]
    assert not held(expect, facts(penalties=[{"carrier": "city-chill", "amount": 1}]))["no_penalty:city-chill"]


def test_a_verdict_kind_that_must_not_be_accepted_fails_when_one_is() -> None:
    expect = Expectations(no_verdicts=["route_deviation"])
    assert held(expect, facts(verdicts=[{"kind": "temperature", "action": "reroute"}]))["no_verdict:route_deviation"]
    found = facts(verdicts=[{"kind": "route_deviation", "action": "penalty"}])
    assert not held(expect, found)["no_verdict:route_deviation"]


def test_escrows_settled_needs_an_order_and_none_open() -> None:
    expect = Expectations(escrows_settled=True)
    assert not held(expect, facts())["escrows_settled"]
    assert not held(expect, facts(orders={1: {"status": "settled"}, 2: {"status": "open"}}))["escrows_settled"]
    assert held(expect, facts(orders={1: {"status": "settled"}, 2: {"status": "cancelled"}}))["escrows_settled"]


def test_a_second_commitment_by_one_bidder_is_a_duplicate() -> None:
    f = facts()
    f.commits[(3, "city-chill")] += 2
    assert not held(Expectations(), f)["no_duplicate_bids"]


def test_all_held_is_false_if_any_fails() -> None:
    outcomes = chain_outcomes(
        Expectations(delivered_min=1, escrows_settled=True), facts(twins={1: {"delivered": True}})
    )
    assert not all_held(outcomes)
