"""CustodyTwin.setHold: the HOLD_KEEPER holds and releases, the admin releases."""

from __future__ import annotations

from brownie import chain

from tests.contracts.errors import reverts

from .conftest import b32

VERDICT = b32("verdict-1")
HELD = 6  # index of `held` in the Twin struct


def test_setHold_puts_twin_on_hold_and_emits(custody, twin_id, hold_keeper):
    tx = custody.setHold(twin_id, True, VERDICT, {"from": hold_keeper})

    assert custody.twin(twin_id)[HELD] is True
    assert dict(tx.events["HoldSet"]) == {
        "twinId": twin_id,
        "held": True,
        "verdictId": VERDICT,
        "by": hold_keeper,
        "timestamp": chain[tx.block_number].timestamp,
    }


def test_setHold_twice_records_both_verdicts(custody, twin_id, hold_keeper):
    custody.setHold(twin_id, True, VERDICT, {"from": hold_keeper})

    tx = custody.setHold(twin_id, True, b32("verdict-2"), {"from": hold_keeper})

    assert custody.twin(twin_id)[HELD] is True
    assert tx.events["HoldSet"]["verdictId"] == b32("verdict-2")


def test_setHold_release_by_hold_role(custody, twin_id, hold_keeper, seller, carrier):
    custody.setHold(twin_id, True, VERDICT, {"from": hold_keeper})

    tx = custody.setHold(twin_id, False, VERDICT, {"from": hold_keeper})

    assert custody.twin(twin_id)[HELD] is False
    assert tx.events["HoldSet"]["held"] is False
    custody.offerHandoff(twin_id, carrier, b32("x"), b32("y"), {"from": seller})


def test_setHold_release_by_admin(custody, twin_id, hold_keeper, admin):
    custody.setHold(twin_id, True, VERDICT, {"from": hold_keeper})

    tx = custody.setHold(twin_id, False, b32(""), {"from": admin})

    assert custody.twin(twin_id)[HELD] is False
    assert tx.events["HoldSet"]["by"] == admin


def test_setHold_reverts_when_admin_without_hold_role_holds(custody, twin_id, admin):
    with reverts("CustodyTwinUnauthorizedHold", admin):
        custody.setHold(twin_id, True, VERDICT, {"from": admin})


def test_setHold_reverts_for_stranger_hold(custody, twin_id, stranger):
    with reverts("CustodyTwinUnauthorizedHold", stranger):
        custody.setHold(twin_id, True, VERDICT, {"from": stranger})


def test_setHold_reverts_for_stranger_release(custody, twin_id, hold_keeper, stranger):
    custody.setHold(twin_id, True, VERDICT, {"from": hold_keeper})
    with reverts("CustodyTwinUnauthorizedHold", stranger):
        custody.setHold(twin_id, False, VERDICT, {"from": stranger})


def test_setHold_reverts_for_holder_release(custody, twin_id, hold_keeper, seller):
    custody.setHold(twin_id, True, VERDICT, {"from": hold_keeper})
    with reverts("CustodyTwinUnauthorizedHold", seller):
        custody.setHold(twin_id, False, VERDICT, {"from": seller})


def test_setHold_reverts_for_unknown_twin(custody, hold_keeper):
    with reverts("CustodyTwinUnknown", 8):
        custody.setHold(8, True, VERDICT, {"from": hold_keeper})


def test_setHold_reverts_for_retired_twin(custody, delivered, buyer, hold_keeper):
    parent = delivered()
    custody.split(parent, [1, 99], {"from": buyer})
    with reverts("CustodyTwinRetired", parent):
        custody.setHold(parent, True, VERDICT, {"from": hold_keeper})
