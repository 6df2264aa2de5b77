"""Procurement: CFP opening rules, sealed bids (commit/reveal), awards and their effects, cancel, expiry,
logistics agents, reroute, views."""

from __future__ import annotations

from typing import Any

import pytest
from brownie import Procurement, chain

from .helpers import (
    CARRIER,
    DELIVERY,
    GOODS,
    LOGISTICS,
    PRODUCT,
    REROUTE_PERIODS,
    SLA,
    SUPPLIER,
    UNIT,
    WHOLESALER,
    ZERO,
    advance_to,
    as_tuple,
    cfp_params,
    commitment,
    h32,
    plain,
    reverts_with,
    salt_for,
    set_next_block_time,
)

OPEN, AWARDED, CANCELLED, EXPIRED = 1, 2, 3, 4
VERDICT = bytes.fromhex("cd" * 32)
REASON = b"\0" * 32


# ---------------------------------------------------------------------- helpers
def open_cfp(m: Any, opener: Any, params: dict[str, Any]) -> int:
    tx = m.procurement.openCfp(as_tuple(params), {"from": opener})
    return int(tx.return_value)


def commit(m: Any, cfp_id: int, bidder: Any, price: int, eta: int, n: int = 0) -> Any:
    digest = commitment(cfp_id, bidder, price, eta, salt_for(bidder, n))
    return m.procurement.commitBid(cfp_id, digest, {"from": bidder})


def reveal(m: Any, cfp_id: int, bidder: Any, price: int, eta: int, n: int = 0) -> Any:
    return m.procurement.revealBid(cfp_id, price, eta, salt_for(bidder, n), {"from": bidder})


def to_reveal_phase(params: dict[str, Any]) -> None:
    advance_to(params["commitDeadline"] + 1)


def to_award_phase(params: dict[str, Any]) -> None:
    advance_to(params["revealDeadline"] + 1)


def eta_of(params: dict[str, Any], offset: int = 0) -> int:
    return params["windowStart"] + 3600 + offset


@pytest.fixture
def goods(market: Any, buyer: Any) -> tuple[int, dict[str, Any]]:
    params = cfp_params(GOODS)
    return open_cfp(market, buyer, params), params


@pytest.fixture
def awarded_order(market: Any, buyer: Any, supplier: Any, goods: tuple[int, dict[str, Any]]) -> int:
    """A GOODS CFP awarded to `supplier` at 90 per unit (10 units: 900 funded)."""
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    to_reveal_phase(params)
    reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    to_award_phase(params)
    market.procurement.awardBest(cfp_id, {"from": buyer})
    return cfp_id


def delivery_params(order_id: int, **overrides: Any) -> dict[str, Any]:
    terms: dict[str, Any] = {"quantity": 1, "maxUnitPrice": 200 * UNIT, **overrides}
    return cfp_params(DELIVERY, order_id, **terms)


@pytest.fixture
def awarded_delivery(market: Any, supplier: Any, carrier: Any, awarded_order: int) -> tuple[int, int]:
    """(order id, DELIVERY CFP id) with the delivery awarded to `carrier` at 150."""
    params = delivery_params(awarded_order)
    cfp_id = open_cfp(market, supplier, params)
    commit(market, cfp_id, carrier, 150 * UNIT, eta_of(params))
    to_reveal_phase(params)
    reveal(market, cfp_id, carrier, 150 * UNIT, eta_of(params))
    to_award_phase(params)
    market.procurement.awardBest(cfp_id, {"from": supplier})
    return awarded_order, cfp_id


# ---------------------------------------------------------------------- constructor
def test_constructor_rejects_zero_address(market: Any, admin: Any) -> None:
    with reverts_with("ProcurementZeroAddress"):
        Procurement.deploy(ZERO, market.escrow, market.custody, admin, REROUTE_PERIODS, {"from": admin})


def test_constructor_rejects_zero_reroute_period(market: Any, admin: Any) -> None:
    with reverts_with("ProcurementInvalidTiming"):
        Procurement.deploy(
            market.registry, market.escrow, market.custody, admin, (600, 0, 600), {"from": admin}
        )


def test_wiring_views(market: Any) -> None:
    p = market.procurement
    assert (p.REGISTRY(), p.ESCROW(), p.CUSTODY()) == (market.registry, market.escrow, market.custody)
    assert (p.REROUTE_COMMIT_PERIOD(), p.REROUTE_REVEAL_PERIOD(), p.REROUTE_AWARD_PERIOD()) == REROUTE_PERIODS


# ---------------------------------------------------------------------- openCfp: GOODS
def test_open_goods_stores_cfp(market: Any, buyer: Any, goods: tuple[int, dict[str, Any]]) -> None:
    cfp_id, params = goods
    stored = market.procurement.cfp(cfp_id)
    assert cfp_id == 1 == market.procurement.cfpCount()
    assert (stored["buyer"], stored["kind"], stored["status"], stored["eligibleRoles"]) == (
        buyer,
        GOODS,
        OPEN,
        1,
    )
    assert (stored["commitDeadline"], stored["revealDeadline"], stored["awardDeadline"]) == (
        params["commitDeadline"],
        params["revealDeadline"],
        params["awardDeadline"],
    )
    assert (stored["windowStart"], stored["windowEnd"]) == (params["windowStart"], params["windowEnd"])
    assert (stored["quantity"], stored["maxUnitPrice"], stored["parentOrderId"]) == (10, 100 * UNIT, 0)
    assert stored["productType"] == h32(PRODUCT)
    assert plain(stored["sla"]) == SLA
    assert plain(stored["money"]) == params["money"]
    assert (stored["bestBidder"], stored["bestUnitPrice"], stored["bestEta"]) == (ZERO, 0, 0)


def test_open_goods_emits_every_term(market: Any, buyer: Any) -> None:
    params = cfp_params(GOODS)
    tx = market.procurement.openCfp(as_tuple(params), {"from": buyer})
    event = tx.events["CfpOpened"]
    assert (event["cfpId"], event["buyer"], event["parentOrderId"]) == (1, buyer, 0)
    expected = tuple(h32(v) if isinstance(v, bytes) else v for v in as_tuple(params))
    assert plain(event["params"]) == expected


def test_open_goods_by_wholesaler_role(market: Any, buyer: Any) -> None:
    cfp_id = open_cfp(market, buyer, cfp_params(GOODS, eligibleRoles=WHOLESALER))
    assert market.procurement.cfp(cfp_id)["eligibleRoles"] == WHOLESALER


def test_open_unregistered_buyer_reverts(market: Any, outsider: Any) -> None:
    with reverts_with("ProcurementNotEligible", outsider.address, 0):
        market.procurement.openCfp(as_tuple(cfp_params(GOODS)), {"from": outsider})


def test_open_suspended_buyer_reverts(market: Any, admin: Any, buyer: Any) -> None:
    market.registry.suspend(buyer, REASON, {"from": admin})
    with reverts_with("ProcurementNotEligible", buyer.address, 0):
        market.procurement.openCfp(as_tuple(cfp_params(GOODS)), {"from": buyer})


def test_open_goods_with_parent_reverts(market: Any, buyer: Any) -> None:
    with reverts_with("ProcurementUnexpectedParent", 3):
        market.procurement.openCfp(as_tuple(cfp_params(GOODS, parentOrderId=3)), {"from": buyer})


@pytest.mark.parametrize("roles", [0, CARRIER, SUPPLIER | WHOLESALER])
def test_open_goods_invalid_roles_reverts(market: Any, buyer: Any, roles: int) -> None:
    with reverts_with("ProcurementInvalidRoles", GOODS, roles):
        market.procurement.openCfp(as_tuple(cfp_params(GOODS, eligibleRoles=roles)), {"from": buyer})


def test_open_goods_money_deadline_mismatch_reverts(market: Any, buyer: Any) -> None:
    params = cfp_params(GOODS)
    params["money"] = (params["windowEnd"] - 1, *params["money"][1:])
    with reverts_with("ProcurementInvalidMoneyTerms"):
        market.procurement.openCfp(as_tuple(params), {"from": buyer})


@pytest.mark.parametrize(
    "case",
    ["commit_past", "reveal_before_commit", "award_before_reveal", "window_before_award", "window_inverted"],
)
def test_open_invalid_timing_reverts(market: Any, buyer: Any, case: str) -> None:
    params = cfp_params(GOODS)
    if case == "commit_past":
        params["commitDeadline"] = chain.time() - 10
    elif case == "reveal_before_commit":
        params["revealDeadline"] = params["commitDeadline"]
    elif case == "award_before_reveal":
        params["awardDeadline"] = params["revealDeadline"]
    elif case == "window_before_award":
        params["windowEnd"] = params["awardDeadline"] - 1
        params["money"] = (params["windowEnd"], *params["money"][1:])
    else:
        params["windowStart"] = params["windowEnd"] + 1
    with reverts_with("ProcurementInvalidTiming"):
        market.procurement.openCfp(as_tuple(params), {"from": buyer})


def test_open_window_beyond_40_bits_reverts(market: Any, buyer: Any) -> None:
    params = cfp_params(GOODS, windowEnd=2**40)
    params["money"] = (2**40, *params["money"][1:])
    with reverts_with("ProcurementInvalidTiming"):
        market.procurement.openCfp(as_tuple(params), {"from": buyer})


@pytest.mark.parametrize(("quantity", "price"), [(0, UNIT), (1, 0), (2**64 - 1, 2**40)])
def test_open_invalid_amounts_reverts(market: Any, buyer: Any, quantity: int, price: int) -> None:
    params = cfp_params(GOODS, quantity=quantity, maxUnitPrice=price)
    with reverts_with("ProcurementInvalidAmounts", quantity, price):
        market.procurement.openCfp(as_tuple(params), {"from": buyer})


@pytest.mark.parametrize(
    "sla",
    [(801, 800, 0, 0, 0, 0), (0, 0, 5000, 4999, 0, 0), (0, 0, 0, 10001, 0, 0)],
    ids=["temp", "rh", "rh100"],
)
def test_open_invalid_sla_reverts(market: Any, buyer: Any, sla: tuple[int, ...]) -> None:
    with reverts_with("ProcurementInvalidSlaTerms"):
        market.procurement.openCfp(as_tuple(cfp_params(GOODS, sla=sla)), {"from": buyer})


# ---------------------------------------------------------------------- openCfp: DELIVERY
def test_open_delivery_by_seller(market: Any, supplier: Any, awarded_order: int) -> None:
    cfp_id = open_cfp(market, supplier, delivery_params(awarded_order))
    stored = market.procurement.cfp(cfp_id)
    assert (stored["buyer"], stored["kind"], stored["parentOrderId"], stored["eligibleRoles"]) == (
        supplier,
        DELIVERY,
        awarded_order,
        CARRIER,
    )
    assert plain(stored["money"]) == (0, 0, 0, 0)


def test_open_delivery_by_other_reverts(market: Any, buyer: Any, awarded_order: int) -> None:
    with reverts_with("ProcurementNotOrderSeller", awarded_order, buyer.address):
        market.procurement.openCfp(as_tuple(delivery_params(awarded_order)), {"from": buyer})


def test_open_delivery_for_unawarded_order_reverts(
    market: Any, supplier: Any, goods: tuple[int, Any]
) -> None:
    cfp_id, _ = goods
    with reverts_with("ProcurementUnknownOrder", cfp_id):
        market.procurement.openCfp(as_tuple(delivery_params(cfp_id)), {"from": supplier})


def test_open_delivery_for_delivery_cfp_reverts(
    market: Any, supplier: Any, awarded_delivery: tuple[int, int]
) -> None:
    _, delivery_id = awarded_delivery
    with reverts_with("ProcurementUnknownOrder", delivery_id):
        market.procurement.openCfp(as_tuple(delivery_params(delivery_id)), {"from": supplier})


def test_open_delivery_invalid_roles_reverts(market: Any, supplier: Any, awarded_order: int) -> None:
    params = delivery_params(awarded_order, eligibleRoles=SUPPLIER)
    with reverts_with("ProcurementInvalidRoles", DELIVERY, SUPPLIER):
        market.procurement.openCfp(as_tuple(params), {"from": supplier})


def test_open_delivery_with_money_terms_reverts(market: Any, supplier: Any, awarded_order: int) -> None:
    params = delivery_params(awarded_order, money=(0, 0, 0, 1))
    with reverts_with("ProcurementInvalidMoneyTerms"):
        market.procurement.openCfp(as_tuple(params), {"from": supplier})


def test_open_delivery_by_suspended_seller_reverts(
    market: Any, admin: Any, supplier: Any, awarded_order: int
) -> None:
    market.registry.suspend(supplier, REASON, {"from": admin})
    with reverts_with("ProcurementNotEligible", supplier.address, 0):
        market.procurement.openCfp(as_tuple(delivery_params(awarded_order)), {"from": supplier})


# ---------------------------------------------------------------------- logistics agent
def test_set_logistics_agent_stores_and_emits(
    market: Any, supplier: Any, logistics: Any, awarded_order: int
) -> None:
    tx = market.procurement.setLogisticsAgent(awarded_order, logistics, {"from": supplier})
    assert market.procurement.logisticsAgentOf(awarded_order) == logistics
    assert plain(tx.events["LogisticsAgentSet"].values()) == (
        awarded_order,
        supplier.address,
        logistics.address,
    )


def test_logistics_agent_may_open_delivery(
    market: Any, supplier: Any, logistics: Any, awarded_order: int
) -> None:
    market.procurement.setLogisticsAgent(awarded_order, logistics, {"from": supplier})
    cfp_id = open_cfp(market, logistics, delivery_params(awarded_order))
    assert market.procurement.cfp(cfp_id)["buyer"] == logistics


def test_cleared_logistics_agent_may_not_open_delivery(
    market: Any, supplier: Any, logistics: Any, awarded_order: int
) -> None:
    market.procurement.setLogisticsAgent(awarded_order, logistics, {"from": supplier})
    market.procurement.setLogisticsAgent(awarded_order, ZERO, {"from": supplier})
    with reverts_with("ProcurementNotOrderSeller", awarded_order, logistics.address):
        market.procurement.openCfp(as_tuple(delivery_params(awarded_order)), {"from": logistics})


def test_suspended_logistics_agent_may_not_open_delivery(
    market: Any, admin: Any, supplier: Any, logistics: Any, awarded_order: int
) -> None:
    market.procurement.setLogisticsAgent(awarded_order, logistics, {"from": supplier})
    market.registry.suspend(logistics, REASON, {"from": admin})
    with reverts_with("ProcurementNotEligible", logistics.address, LOGISTICS):
        market.procurement.openCfp(as_tuple(delivery_params(awarded_order)), {"from": logistics})


def test_set_logistics_agent_by_non_seller_reverts(
    market: Any, buyer: Any, logistics: Any, awarded_order: int
) -> None:
    with reverts_with("ProcurementNotOrderSeller", awarded_order, buyer.address):
        market.procurement.setLogisticsAgent(awarded_order, logistics, {"from": buyer})


def test_set_logistics_agent_without_role_reverts(
    market: Any, supplier: Any, carrier: Any, awarded_order: int
) -> None:
    with reverts_with("ProcurementNotEligible", carrier.address, LOGISTICS):
        market.procurement.setLogisticsAgent(awarded_order, carrier, {"from": supplier})


# ---------------------------------------------------------------------- commitBid
def test_commit_stores_and_emits(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    digest = commitment(cfp_id, supplier, 90 * UNIT, eta_of(params), salt_for(supplier))
    tx = market.procurement.commitBid(cfp_id, digest, {"from": supplier})
    assert plain(market.procurement.bid(cfp_id, supplier)) == (h32(digest), 0, 0, False)
    assert plain(tx.events["BidCommitted"].values()) == (cfp_id, supplier.address, h32(digest))


def test_commit_may_be_replaced(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params), 0)
    commit(market, cfp_id, supplier, 80 * UNIT, eta_of(params), 1)
    to_reveal_phase(params)
    with reverts_with("ProcurementCommitmentMismatch", cfp_id, supplier.address):
        reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params), 0)
    reveal(market, cfp_id, supplier, 80 * UNIT, eta_of(params), 1)
    assert market.procurement.bid(cfp_id, supplier)["unitPrice"] == 80 * UNIT


def test_commit_at_deadline_accepted(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    set_next_block_time(params["commitDeadline"])
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))


def test_commit_after_deadline_reverts(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    set_next_block_time(params["commitDeadline"] + 1)
    with reverts_with("ProcurementCommitClosed", cfp_id, params["commitDeadline"]):
        commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))


def test_commit_zero_reverts(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, _ = goods
    with reverts_with("ProcurementZeroCommitment", cfp_id):
        market.procurement.commitBid(cfp_id, b"\0" * 32, {"from": supplier})


def test_commit_without_eligible_role_reverts(market: Any, carrier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    with reverts_with("ProcurementNotEligible", carrier.address, SUPPLIER):
        commit(market, cfp_id, carrier, 90 * UNIT, eta_of(params))


def test_commit_by_buyer_reverts(market: Any, buyer: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    with reverts_with("ProcurementBuyerCannotBid", cfp_id):
        commit(market, cfp_id, buyer, 90 * UNIT, eta_of(params))


def test_commit_unknown_cfp_reverts(market: Any, supplier: Any) -> None:
    with reverts_with("ProcurementUnknownCfp", 99):
        market.procurement.commitBid(99, b"\1" * 32, {"from": supplier})


def test_commit_on_cancelled_cfp_reverts(
    market: Any, buyer: Any, supplier: Any, goods: tuple[int, Any]
) -> None:
    cfp_id, _ = goods
    market.procurement.cancel(cfp_id, {"from": buyer})
    with reverts_with("ProcurementCfpNotOpen", cfp_id, CANCELLED):
        market.procurement.commitBid(cfp_id, b"\1" * 32, {"from": supplier})


# ---------------------------------------------------------------------- revealBid
def test_reveal_stores_bid_and_emits(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    eta = eta_of(params)
    commit(market, cfp_id, supplier, 90 * UNIT, eta)
    to_reveal_phase(params)
    tx = reveal(market, cfp_id, supplier, 90 * UNIT, eta)
    assert plain(market.procurement.bid(cfp_id, supplier)) == (h32(b"\0" * 32), 90 * UNIT, eta, True)
    assert plain(tx.events["BidRevealed"].values()) == (cfp_id, supplier.address, 90 * UNIT, eta, True)
    stored = market.procurement.cfp(cfp_id)
    assert (stored["bestBidder"], stored["bestUnitPrice"], stored["bestEta"]) == (supplier, 90 * UNIT, eta)


def test_reveal_during_commit_phase_reverts(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    set_next_block_time(params["commitDeadline"])
    with reverts_with("ProcurementRevealClosed", cfp_id, params["commitDeadline"], params["revealDeadline"]):
        reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))


def test_reveal_at_reveal_deadline_accepted(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    set_next_block_time(params["revealDeadline"])
    reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))


def test_reveal_after_deadline_reverts(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    set_next_block_time(params["revealDeadline"] + 1)
    with reverts_with("ProcurementRevealClosed", cfp_id, params["commitDeadline"], params["revealDeadline"]):
        reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))


def test_reveal_without_commitment_reverts(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    to_reveal_phase(params)
    with reverts_with("ProcurementNoCommitment", cfp_id, supplier.address):
        reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))


def test_reveal_twice_reverts(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    to_reveal_phase(params)
    reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    with reverts_with("ProcurementNoCommitment", cfp_id, supplier.address):
        reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))


@pytest.mark.parametrize("field", ["price", "eta", "salt", "bidder"])
def test_reveal_not_matching_commitment_reverts(
    market: Any, supplier: Any, supplier2: Any, goods: tuple[int, Any], field: str
) -> None:
    cfp_id, params = goods
    eta = eta_of(params)
    commit(market, cfp_id, supplier, 90 * UNIT, eta)
    if field == "bidder":
        # supplier2 replays supplier's commitment as its own: the bidder is bound into the hash.
        market.procurement.commitBid(
            cfp_id, commitment(cfp_id, supplier, 90 * UNIT, eta, salt_for(supplier)), {"from": supplier2}
        )
    to_reveal_phase(params)
    if field == "bidder":
        with reverts_with("ProcurementCommitmentMismatch", cfp_id, supplier2.address):
            market.procurement.revealBid(cfp_id, 90 * UNIT, eta, salt_for(supplier), {"from": supplier2})
        return
    price, reveal_eta, salt = 90 * UNIT, eta, salt_for(supplier)
    if field == "price":
        price -= 1
    elif field == "eta":
        reveal_eta += 1
    else:
        salt = salt_for(supplier, 5)
    with reverts_with("ProcurementCommitmentMismatch", cfp_id, supplier.address):
        market.procurement.revealBid(cfp_id, price, reveal_eta, salt, {"from": supplier})


@pytest.mark.parametrize("price", [0, 100 * UNIT + 1])
def test_reveal_invalid_price_reverts(market: Any, supplier: Any, goods: tuple[int, Any], price: int) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, price, eta_of(params))
    to_reveal_phase(params)
    with reverts_with("ProcurementInvalidBidPrice", cfp_id, price, 100 * UNIT):
        reveal(market, cfp_id, supplier, price, eta_of(params))


def test_reveal_eta_beyond_40_bits_reverts(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, 2**40)
    to_reveal_phase(params)
    with reverts_with("ProcurementInvalidTiming"):
        reveal(market, cfp_id, supplier, 90 * UNIT, 2**40)


def test_reveal_by_suspended_bidder_reverts(
    market: Any, admin: Any, supplier: Any, goods: tuple[int, Any]
) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    market.registry.suspend(supplier, REASON, {"from": admin})
    to_reveal_phase(params)
    with reverts_with("ProcurementNotEligible", supplier.address, SUPPLIER):
        reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))


def test_commitment_of_matches_abi_encoding(market: Any, supplier: Any) -> None:
    salt = salt_for(supplier)
    assert market.procurement.commitmentOf(4, supplier, 7, 9, salt) == h32(
        commitment(4, supplier, 7, 9, salt)
    )


# ---------------------------------------------------------------------- best bid
@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        ((90, 0), (80, 0), 1),  # lower price wins
        ((80, 0), (90, 0), 0),
        ((90, 100), (90, 50), 1),  # same price: earlier ETA wins
        ((90, 50), (90, 50), 0),  # full tie: earlier reveal wins
    ],
)
def test_best_bid_order(
    market: Any,
    buyer: Any,
    supplier: Any,
    supplier2: Any,
    goods: tuple[int, Any],
    first: tuple[int, int],
    second: tuple[int, int],
    winner: int,
) -> None:
    cfp_id, params = goods
    bidders = [supplier, supplier2]
    bids = [(first[0] * UNIT, eta_of(params, first[1])), (second[0] * UNIT, eta_of(params, second[1]))]
    for bidder, (price, eta) in zip(bidders, bids, strict=True):
        commit(market, cfp_id, bidder, price, eta)
    to_reveal_phase(params)
    reveal(market, cfp_id, supplier, *bids[0])
    tx = reveal(market, cfp_id, supplier2, *bids[1])
    assert tx.events["BidRevealed"]["best"] == (winner == 1)
    to_award_phase(params)
    award = market.procurement.awardBest(cfp_id, {"from": buyer})
    assert award.events["CfpAwarded"]["winner"] == bidders[winner]


# ---------------------------------------------------------------------- awardBest (GOODS)
def test_award_best_funds_order_and_mints_twin(
    market: Any, buyer: Any, supplier: Any, outsider: Any, goods: tuple[int, Any]
) -> None:
    cfp_id, params = goods
    eta = eta_of(params)
    commit(market, cfp_id, supplier, 90 * UNIT, eta)
    to_reveal_phase(params)
    reveal(market, cfp_id, supplier, 90 * UNIT, eta)
    to_award_phase(params)
    before = market.token.balanceOf(buyer)
    tx = market.procurement.awardBest(cfp_id, {"from": outsider})
    assert before - market.token.balanceOf(buyer) == 900 * UNIT
    order = market.escrow.order(cfp_id)
    assert (order["buyer"], order["seller"], order["amount"]) == (buyer, supplier, 900 * UNIT)
    assert order["deliveryDeadline"] == params["windowEnd"]
    assert plain(tx.events["TwinMinted"].values()) == (
        1,
        cfp_id,
        supplier.address,
        buyer.address,
        10,
        h32(PRODUCT),
        market.procurement.address,
    )
    assert plain(tx.events["CfpAwarded"].values()) == (
        cfp_id,
        supplier.address,
        90 * UNIT,
        eta,
        900 * UNIT,
        1,
        False,
    )
    assert market.procurement.cfp(cfp_id)["status"] == AWARDED


def test_award_best_sets_sla_of_order(market: Any, awarded_order: int) -> None:
    assert market.procurement.slaCfpOf(awarded_order) == awarded_order
    assert plain(market.procurement.slaTerms(awarded_order)) == SLA


def test_award_best_before_reveal_deadline_reverts(
    market: Any, supplier: Any, goods: tuple[int, Any]
) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    to_reveal_phase(params)
    reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    set_next_block_time(params["revealDeadline"])
    with reverts_with("ProcurementAwardClosed", cfp_id, params["revealDeadline"], params["awardDeadline"]):
        market.procurement.awardBest(cfp_id, {"from": supplier})


def test_award_best_after_award_deadline_reverts(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    to_reveal_phase(params)
    reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    set_next_block_time(params["awardDeadline"] + 1)
    with reverts_with("ProcurementAwardClosed", cfp_id, params["revealDeadline"], params["awardDeadline"]):
        market.procurement.awardBest(cfp_id, {"from": supplier})


def test_award_best_without_reveals_reverts(market: Any, buyer: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    to_award_phase(params)
    with reverts_with("ProcurementBidNotRevealed", cfp_id, ZERO):
        market.procurement.awardBest(cfp_id, {"from": buyer})


def test_award_twice_reverts(market: Any, buyer: Any, awarded_order: int) -> None:
    with reverts_with("ProcurementCfpNotOpen", awarded_order, AWARDED):
        market.procurement.awardBest(awarded_order, {"from": buyer})


def test_award_without_allowance_reverts(
    market: Any, buyer: Any, supplier: Any, goods: tuple[int, Any]
) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    to_reveal_phase(params)
    reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    to_award_phase(params)
    market.token.approve(market.escrow, 0, {"from": buyer})
    with reverts_with("ERC20InsufficientAllowance", market.escrow.address, 0, 900 * UNIT):
        market.procurement.awardBest(cfp_id, {"from": buyer})
    assert market.procurement.cfp(cfp_id)["status"] == OPEN


# ---------------------------------------------------------------------- award (buyer's choice)
def test_buyer_awards_any_revealed_bid(
    market: Any, buyer: Any, supplier: Any, supplier2: Any, goods: tuple[int, Any]
) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 80 * UNIT, eta_of(params, 500))
    commit(market, cfp_id, supplier2, 95 * UNIT, eta_of(params))
    to_reveal_phase(params)
    reveal(market, cfp_id, supplier, 80 * UNIT, eta_of(params, 500))
    reveal(market, cfp_id, supplier2, 95 * UNIT, eta_of(params))
    to_award_phase(params)
    tx = market.procurement.award(cfp_id, supplier2, {"from": buyer})
    assert plain(tx.events["CfpAwarded"].values())[:6] == (
        cfp_id,
        supplier2.address,
        95 * UNIT,
        eta_of(params),
        950 * UNIT,
        1,
    )
    assert tx.events["CfpAwarded"]["byBuyer"] is True
    stored = market.procurement.cfp(cfp_id)
    assert (stored["bestBidder"], stored["bestUnitPrice"]) == (supplier2, 95 * UNIT)
    assert market.escrow.order(cfp_id)["seller"] == supplier2


def test_award_by_non_buyer_reverts(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    to_reveal_phase(params)
    reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    to_award_phase(params)
    with reverts_with("ProcurementNotBuyer", cfp_id, supplier.address):
        market.procurement.award(cfp_id, supplier, {"from": supplier})


def test_award_unrevealed_bid_reverts(
    market: Any, buyer: Any, supplier: Any, supplier2: Any, goods: tuple[int, Any]
) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    commit(market, cfp_id, supplier2, 70 * UNIT, eta_of(params))
    to_reveal_phase(params)
    reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    to_award_phase(params)
    with reverts_with("ProcurementBidNotRevealed", cfp_id, supplier2.address):
        market.procurement.award(cfp_id, supplier2, {"from": buyer})


def test_award_outside_window_reverts(market: Any, buyer: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    commit(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    to_reveal_phase(params)
    reveal(market, cfp_id, supplier, 90 * UNIT, eta_of(params))
    with reverts_with("ProcurementAwardClosed", cfp_id, params["revealDeadline"], params["awardDeadline"]):
        market.procurement.award(cfp_id, supplier, {"from": buyer})


# ---------------------------------------------------------------------- DELIVERY award
def test_delivery_award_adds_leg(
    market: Any, supplier: Any, carrier: Any, awarded_delivery: tuple[int, int]
) -> None:
    order_id, delivery_id = awarded_delivery
    assert plain(market.escrow.leg(order_id, 0)) == (carrier.address, 150 * UNIT, 0)
    assert market.procurement.slaCfpOf(order_id) == delivery_id
    assert market.procurement.cfp(delivery_id)["status"] == AWARDED


def test_delivery_award_event_names_leg(market: Any, supplier: Any, carrier: Any, awarded_order: int) -> None:
    params = delivery_params(awarded_order)
    cfp_id = open_cfp(market, supplier, params)
    commit(market, cfp_id, carrier, 150 * UNIT, eta_of(params))
    to_reveal_phase(params)
    reveal(market, cfp_id, carrier, 150 * UNIT, eta_of(params))
    to_award_phase(params)
    tx = market.procurement.awardBest(cfp_id, {"from": carrier})
    assert plain(tx.events["CfpAwarded"].values()) == (
        cfp_id,
        carrier.address,
        150 * UNIT,
        eta_of(params),
        150 * UNIT,
        0,
        False,
    )
    assert plain(tx.events["LegAdded"].values()) == (awarded_order, 0, carrier.address, 150 * UNIT)


def test_delivery_award_above_seller_share_reverts(
    market: Any, supplier: Any, carrier: Any, awarded_order: int
) -> None:
    params = delivery_params(awarded_order, quantity=10, maxUnitPrice=100 * UNIT)
    cfp_id = open_cfp(market, supplier, params)
    commit(market, cfp_id, carrier, 91 * UNIT, eta_of(params))
    to_reveal_phase(params)
    reveal(market, cfp_id, carrier, 91 * UNIT, eta_of(params))
    to_award_phase(params)
    with reverts_with("EscrowFreightExceedsShare", awarded_order, 910 * UNIT, 900 * UNIT):
        market.procurement.awardBest(cfp_id, {"from": supplier})


def test_carrier_role_required_for_delivery_bids(
    market: Any, supplier: Any, supplier2: Any, awarded_order: int
) -> None:
    params = delivery_params(awarded_order)
    cfp_id = open_cfp(market, supplier, params)
    with reverts_with("ProcurementNotEligible", supplier2.address, CARRIER):
        commit(market, cfp_id, supplier2, 10 * UNIT, eta_of(params))


# ---------------------------------------------------------------------- cancel / expire
def test_cancel_by_buyer(market: Any, buyer: Any, goods: tuple[int, Any]) -> None:
    cfp_id, _ = goods
    tx = market.procurement.cancel(cfp_id, {"from": buyer})
    assert market.procurement.cfp(cfp_id)["status"] == CANCELLED
    assert plain(tx.events["CfpCancelled"].values()) == (cfp_id, buyer.address)


def test_cancel_by_other_reverts(market: Any, supplier: Any, goods: tuple[int, Any]) -> None:
    cfp_id, _ = goods
    with reverts_with("ProcurementNotBuyer", cfp_id, supplier.address):
        market.procurement.cancel(cfp_id, {"from": supplier})


def test_cancel_after_award_reverts(market: Any, buyer: Any, awarded_order: int) -> None:
    with reverts_with("ProcurementCfpNotOpen", awarded_order, AWARDED):
        market.procurement.cancel(awarded_order, {"from": buyer})


def test_cancel_unknown_reverts(market: Any, buyer: Any) -> None:
    with reverts_with("ProcurementUnknownCfp", 42):
        market.procurement.cancel(42, {"from": buyer})


def test_expire_after_award_deadline(market: Any, outsider: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    set_next_block_time(params["awardDeadline"] + 1)
    tx = market.procurement.expire(cfp_id, {"from": outsider})
    assert market.procurement.cfp(cfp_id)["status"] == EXPIRED
    assert plain(tx.events["CfpExpired"].values()) == (cfp_id, outsider.address)


def test_expire_at_award_deadline_reverts(market: Any, outsider: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    set_next_block_time(params["awardDeadline"])
    with reverts_with("ProcurementNotExpired", cfp_id, params["awardDeadline"]):
        market.procurement.expire(cfp_id, {"from": outsider})


def test_expire_twice_reverts(market: Any, outsider: Any, goods: tuple[int, Any]) -> None:
    cfp_id, params = goods
    set_next_block_time(params["awardDeadline"] + 1)
    market.procurement.expire(cfp_id, {"from": outsider})
    with reverts_with("ProcurementCfpNotOpen", cfp_id, EXPIRED):
        market.procurement.expire(cfp_id, {"from": outsider})


# ---------------------------------------------------------------------- openReroute
def test_reroute_clones_last_delivery(
    market: Any, supplier: Any, verdict_hook: Any, awarded_delivery: tuple[int, int]
) -> None:
    order_id, delivery_id = awarded_delivery
    source = market.procurement.cfp(delivery_id)
    tx = market.procurement.openReroute(order_id, VERDICT, {"from": verdict_hook})
    cfp_id = tx.return_value
    now = tx.timestamp
    stored = market.procurement.cfp(cfp_id)
    assert (stored["buyer"], stored["kind"], stored["status"], stored["parentOrderId"]) == (
        supplier,
        DELIVERY,
        OPEN,
        order_id,
    )
    assert (stored["commitDeadline"], stored["revealDeadline"], stored["awardDeadline"]) == (
        now + 600,
        now + 1200,
        now + 1800,
    )
    assert (stored["windowStart"], stored["windowEnd"]) == (now, source["windowEnd"])
    assert (stored["quantity"], stored["maxUnitPrice"]) == (source["quantity"], source["maxUnitPrice"])
    assert plain(stored["sla"]) == plain(source["sla"])
    assert plain(tx.events["RerouteOpened"].values()) == (cfp_id, order_id, delivery_id, h32(VERDICT))
    opened = tx.events["CfpOpened"]
    assert (opened["cfpId"], opened["buyer"], opened["parentOrderId"]) == (cfp_id, supplier, order_id)
    assert opened["params"]["origin"] == opened["params"]["destination"] == h32(b"\0" * 32)


def test_reroute_award_adds_next_leg(
    market: Any, carrier2: Any, verdict_hook: Any, awarded_delivery: tuple[int, int]
) -> None:
    order_id, _ = awarded_delivery
    cfp_id = market.procurement.openReroute(order_id, VERDICT, {"from": verdict_hook}).return_value
    stored = market.procurement.cfp(cfp_id)
    params = {"commitDeadline": stored["commitDeadline"], "revealDeadline": stored["revealDeadline"]}
    eta = stored["windowEnd"]
    commit(market, cfp_id, carrier2, 120 * UNIT, eta)
    to_reveal_phase(params)
    reveal(market, cfp_id, carrier2, 120 * UNIT, eta)
    to_award_phase(params)
    tx = market.procurement.awardBest(cfp_id, {"from": carrier2})
    assert tx.events["CfpAwarded"]["twinIdOrLegIndex"] == 1
    assert plain(market.escrow.leg(order_id, 1)) == (carrier2.address, 120 * UNIT, 0)
    assert market.procurement.slaCfpOf(order_id) == cfp_id


def test_reroute_requires_role(market: Any, outsider: Any, awarded_delivery: tuple[int, int]) -> None:
    order_id, _ = awarded_delivery
    with reverts_with(
        "AccessControlUnauthorizedAccount", outsider.address, bytes(market.procurement.REROUTE_ROLE())
    ):
        market.procurement.openReroute(order_id, VERDICT, {"from": outsider})


def test_reroute_without_delivery_reverts(market: Any, verdict_hook: Any, awarded_order: int) -> None:
    with reverts_with("ProcurementNothingToReroute", awarded_order):
        market.procurement.openReroute(awarded_order, VERDICT, {"from": verdict_hook})


def test_reroute_unknown_order_reverts(market: Any, verdict_hook: Any) -> None:
    with reverts_with("ProcurementNothingToReroute", 77):
        market.procurement.openReroute(77, VERDICT, {"from": verdict_hook})


# ---------------------------------------------------------------------- views
def test_sla_terms_of_unknown_order_reverts(market: Any) -> None:
    with reverts_with("ProcurementUnknownOrder", 5):
        market.procurement.slaTerms(5)


def test_unknown_cfp_view_is_empty(market: Any) -> None:
    assert market.procurement.cfp(5)["status"] == 0
    assert market.procurement.logisticsAgentOf(5) == ZERO
