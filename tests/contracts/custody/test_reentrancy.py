"""Hostile contracts: an Escrow that re-enters CustodyTwin, and an ERC-721 receiver that tries to."""

from __future__ import annotations

from brownie import CustodyTwin

from tests.contracts.errors import reverts

from .conftest import PRODUCT, b32


def test_acceptHandoff_refuses_reentry_from_escrow_callback(
    admin, minter, hold_keeper, seller, buyer, stranger, actor
):
    hostile = CustodyTwin.deploy(admin, actor, minter, hold_keeper, {"from": admin})
    actor.configure(hostile, stranger, {"from": admin})
    hostile.mintTwin(1, seller, buyer, 10, PRODUCT, {"from": minter})
    hostile.offerHandoff(1, actor, b32("x"), b32("y"), {"from": seller})

    with reverts("ReentrancyGuardReentrantCall"):
        actor.accept(1, {"from": stranger})

    assert hostile.holderOf(1) == seller
    assert hostile.offerOf(1)[0] == actor


def test_mintTwin_does_not_call_receiver_hook(custody, minter, buyer, stranger, actor):
    actor.configure(custody, stranger, {"from": stranger})

    custody.mintTwin(1, actor, buyer, 10, PRODUCT, {"from": minter})

    assert custody.holderOf(1) == actor
    assert actor.receiverCalls() == 0


def test_acceptHandoff_does_not_call_receiver_hook(custody, twin_id, seller, stranger, actor):
    actor.configure(custody, stranger, {"from": stranger})
    custody.offerHandoff(twin_id, actor, b32("x"), b32("y"), {"from": seller})

    actor.accept(twin_id, {"from": stranger})

    assert custody.holderOf(twin_id) == actor
    assert actor.receiverCalls() == 0


def test_contract_holder_can_hand_on_after_acceptance(custody, twin_id, seller, stranger, actor):
    actor.configure(custody, stranger, {"from": stranger})
    custody.offerHandoff(twin_id, actor, b32("x"), b32("y"), {"from": seller})
    actor.accept(twin_id, {"from": stranger})

    actor.offer(twin_id, stranger, {"from": stranger})

    assert custody.offerOf(twin_id)[0] == stranger
