"""Escrow under attack: a token that re-enters from transferFrom, a payee that re-enters withdraw."""

from __future__ import annotations

from typing import Any

import pytest
from brownie import Escrow, MaliciousToken, ReentrantReceiver

from .helpers import DELIVERY_GRACE, UNIT, reverts_with

AMOUNT = 500 * UNIT
TERMS = (2**40, 0, 0, 0)


@pytest.fixture(scope="module")
def evil_token(admin: Any, buyer: Any) -> Any:
    token = MaliciousToken.deploy({"from": admin})
    token.mint(buyer, 10**6 * UNIT, {"from": admin})
    return token


@pytest.fixture(scope="module")
def evil_escrow(evil_token: Any, admin: Any, buyer: Any, procurement_hook: Any, custody_hook: Any) -> Any:
    escrow = Escrow.deploy(evil_token, admin, DELIVERY_GRACE, {"from": admin})
    escrow.grantRole(escrow.PROCUREMENT_ROLE(), procurement_hook, {"from": admin})
    escrow.grantRole(escrow.CUSTODY_ROLE(), custody_hook, {"from": admin})
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


def test_transfer_from_reentering_hook_without_role_reverts(
    evil_escrow: Any, evil_token: Any, procurement_hook: Any, buyer: Any, supplier: Any
) -> None:
    evil_token.arm(evil_escrow, evil_escrow.applyPenalty.encode_input(1, b"\1" * 32, 9), {"from": buyer})
    with reverts_with(
        "AccessControlUnauthorizedAccount", evil_token.address, bytes(evil_escrow.VERDICT_ROLE())
    ):
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
