"""Escrow (and Procurement) under attack: a token that re-enters from transferFrom, a payee that re-enters
withdraw."""

from __future__ import annotations

from typing import Any

import pytest
from brownie import Escrow, MaliciousToken, MockCustody, Procurement, ReentrantReceiver

from scripts.deploy import create_address

from .helpers import (
    DELIVERY_GRACE,
    GOODS,
    PRODUCT,
    REROUTE_PERIODS,
    RETAILER,
    SUPPLIER,
    UNIT,
    advance_to,
    as_tuple,
    cfp_params,
    commitment,
    reverts_with,
    salt_for,
)

AMOUNT = 500 * UNIT
TERMS = (2**40, 0, 0, 0)


@pytest.fixture(scope="module")
def evil_token(admin: Any, buyer: Any) -> Any:
    token = MaliciousToken.deploy({"from": admin})
    token.mint(buyer, 10**6 * UNIT, {"from": admin})
    return token


@pytest.fixture(scope="module")
def evil_escrow(
    evil_token: Any, admin: Any, buyer: Any, procurement_hook: Any, custody_hook: Any, verdict_hook: Any
) -> Any:
    escrow = Escrow.deploy(
        evil_token, DELIVERY_GRACE, procurement_hook, custody_hook, verdict_hook, {"from": admin}
    )
    evil_token.approve(escrow, 2**256 - 1, {"from": buyer})
    return escrow


def open_order(escrow: Any, hook: Any, buyer: Any, seller: Any, order_id: int = 1) -> Any:
    return escrow.openOrder(order_id, buyer, seller, AMOUNT, TERMS, {"from": hook})


def test_token_works_when_disarmed(
    evil_escrow: Any, evil_token: Any, procurement_hook: Any, buyer: Any, supplier: Any
) -> None:
    open_order(evil_escrow, procurement_hook, buyer, supplier)
    assert evil_token.balanceOf(evil_escrow) == AMOUNT


def test_transfer_from_reentering_withdraw_reverts(
    evil_escrow: Any, evil_token: Any, procurement_hook: Any, buyer: Any, supplier: Any
) -> None:
    evil_token.arm(evil_escrow, evil_escrow.withdraw.encode_input(), {"from": buyer})
    with reverts_with("ReentrancyGuardReentrantCall"):
        open_order(evil_escrow, procurement_hook, buyer, supplier)
    assert evil_escrow.outstanding() == 0


def test_transfer_from_reentering_cancel_reverts(
    evil_escrow: Any, evil_token: Any, procurement_hook: Any, buyer: Any, supplier: Any
) -> None:
    open_order(evil_escrow, procurement_hook, buyer, supplier, 1)
    evil_token.arm(evil_escrow, evil_escrow.cancelOrder.encode_input(1), {"from": buyer})
    with reverts_with("ReentrancyGuardReentrantCall"):
        open_order(evil_escrow, procurement_hook, buyer, supplier, 2)


def test_transfer_from_reentering_hook_of_another_caller_reverts(
    evil_escrow: Any, evil_token: Any, procurement_hook: Any, verdict_hook: Any, buyer: Any, supplier: Any
) -> None:
    evil_token.arm(evil_escrow, evil_escrow.applyPenalty.encode_input(1, b"\1" * 32, 9), {"from": buyer})
    with reverts_with("EscrowUnauthorizedCaller", evil_token.address, verdict_hook.address):
        open_order(evil_escrow, procurement_hook, buyer, supplier)


def test_payee_reentering_withdraw_reverts_and_keeps_credit(
    evil_escrow: Any, evil_token: Any, admin: Any, procurement_hook: Any, custody_hook: Any, buyer: Any
) -> None:
    receiver = ReentrantReceiver.deploy(evil_escrow, {"from": admin})
    open_order(evil_escrow, procurement_hook, buyer, receiver)
    evil_escrow.onHandoff(1, receiver, buyer, 1, {"from": custody_hook})
    assert evil_escrow.credit(receiver) == AMOUNT
    with reverts_with("ReentrancyGuardReentrantCall"):
        receiver.withdraw({"from": admin})
    assert evil_escrow.credit(receiver) == AMOUNT
    assert evil_token.balanceOf(evil_escrow) == evil_escrow.outstanding() == AMOUNT


def test_transfer_from_reentering_procurement_award_reverts(
    evil_token: Any, admin: Any, buyer: Any, supplier: Any, registry: Any
) -> None:
    custody = MockCustody.deploy({"from": admin})
    # Procurement comes right after Escrow, which needs its address first (immutable caller).
    planned = create_address(admin.address, admin.nonce + 1)
    escrow = Escrow.deploy(evil_token, DELIVERY_GRACE, planned, custody, admin, {"from": admin})
    procurement = Procurement.deploy(registry, escrow, custody, admin, REROUTE_PERIODS, {"from": admin})
    assert procurement.address == planned
    evil_token.approve(escrow, 2**256 - 1, {"from": buyer})
    registry.register(RETAILER, (PRODUCT, PRODUCT, 1, ""), {"from": buyer})
    registry.register(SUPPLIER, (PRODUCT, PRODUCT, 1, ""), {"from": supplier})
    params = cfp_params(GOODS)
    cfp_id = procurement.openCfp(as_tuple(params), {"from": buyer}).return_value
    eta = params["windowEnd"]
    procurement.commitBid(
        cfp_id, commitment(cfp_id, supplier, UNIT, eta, salt_for(supplier)), {"from": supplier}
    )
    advance_to(params["commitDeadline"] + 1)
    procurement.revealBid(cfp_id, UNIT, eta, salt_for(supplier), {"from": supplier})
    advance_to(params["revealDeadline"] + 1)
    evil_token.arm(procurement, procurement.awardBest.encode_input(cfp_id), {"from": buyer})
    with reverts_with("ReentrancyGuardReentrantCall"):
        procurement.awardBest(cfp_id, {"from": buyer})
    assert procurement.cfp(cfp_id)["status"] == 1
