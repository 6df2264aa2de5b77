"""CustodyTwin.mintTwin, the constructor and admin configuration."""

from __future__ import annotations

import brownie
import pytest
from brownie import ZERO_ADDRESS, CustodyTwin, chain

from tests.contracts.errors import reverts

from .conftest import PRODUCT, plain


def test_mintTwin_records_bound_twin(custody, mint, seller, buyer):
    twin_id = mint(order_id=7, quantity=120)

    assert plain(custody.twin(twin_id)) == (7, PRODUCT, buyer, 120, True, False, False, False)
    assert custody.holderOf(twin_id) == seller
    assert custody.ownerOf(twin_id) == seller
    assert custody.twinOfOrder(7) == twin_id
    assert custody.twinCount() == 1
    assert plain(custody.parentsOf(twin_id)) == ()


def test_mintTwin_emits_TwinMinted_and_Transfer(custody, minter, seller, buyer):
    tx = custody.mintTwin(7, seller, buyer, 120, PRODUCT, {"from": minter})

    assert dict(tx.events["TwinMinted"]) == {
        "twinId": 1,
        "orderId": 7,
        "holder": seller,
        "consignee": buyer,
        "quantity": 120,
        "productType": PRODUCT,
        "timestamp": chain[tx.block_number].timestamp,
    }
    assert dict(tx.events["Transfer"]) == {"from": ZERO_ADDRESS, "to": seller, "tokenId": 1}


def test_mintTwin_ids_are_sequential_from_one(mint):
    assert [mint(order_id=order) for order in (3, 4, 5)] == [1, 2, 3]


def test_twinOfOrder_is_zero_without_twin(custody):
    assert custody.twinOfOrder(42) == 0


def test_mintTwin_reverts_for_caller_other_than_minter(custody, stranger, seller, buyer):
    with reverts("CustodyTwinUnauthorizedMinter", stranger):
        custody.mintTwin(1, seller, buyer, 1, PRODUCT, {"from": stranger})


def test_mintTwin_reverts_for_admin(custody, admin, seller, buyer):
    with reverts("CustodyTwinUnauthorizedMinter", admin):
        custody.mintTwin(1, seller, buyer, 1, PRODUCT, {"from": admin})


def test_mintTwin_reverts_for_zero_holder(custody, minter, buyer):
    with reverts("CustodyTwinZeroAddress"):
        custody.mintTwin(1, ZERO_ADDRESS, buyer, 1, PRODUCT, {"from": minter})


def test_mintTwin_reverts_for_zero_consignee(custody, minter, seller):
    with reverts("CustodyTwinZeroAddress"):
        custody.mintTwin(1, seller, ZERO_ADDRESS, 1, PRODUCT, {"from": minter})


def test_mintTwin_reverts_when_holder_is_consignee(custody, minter, seller):
    with reverts("CustodyTwinSameParty", seller):
        custody.mintTwin(1, seller, seller, 1, PRODUCT, {"from": minter})


def test_mintTwin_reverts_for_zero_quantity(custody, minter, seller, buyer):
    with reverts("CustodyTwinZeroQuantity"):
        custody.mintTwin(1, seller, buyer, 0, PRODUCT, {"from": minter})


def test_mintTwin_reverts_for_second_twin_of_order(custody, minter, seller, buyer, mint):
    mint(order_id=9)
    with reverts("CustodyTwinOrderAlreadyMinted", 9, 1):
        custody.mintTwin(9, seller, buyer, 1, PRODUCT, {"from": minter})


@pytest.mark.parametrize("zero_at", [0, 1, 2, 3])
def test_constructor_reverts_for_zero_address(admin, escrow, minter, hold_keeper, zero_at):
    args = [admin, escrow, minter, hold_keeper]
    args[zero_at] = ZERO_ADDRESS
    with reverts("CustodyTwinZeroAddress"):
        CustodyTwin.deploy(*args, {"from": admin})


def test_constructor_emits_EscrowSet(custody, escrow):
    assert custody.tx.events["EscrowSet"]["escrow"] == escrow
    assert custody.escrow() == escrow


def test_constructor_fixes_minter_and_hold_keeper(custody, minter, hold_keeper):
    assert (custody.MINTER(), custody.HOLD_KEEPER()) == (minter.address, hold_keeper.address)


def test_constructor_grants_admin_role(custody, admin):
    assert custody.hasRole(custody.DEFAULT_ADMIN_ROLE(), admin)


def test_grantRole_reverts_for_non_admin(custody, stranger):
    with reverts("AccessControlUnauthorizedAccount", stranger, custody.DEFAULT_ADMIN_ROLE()):
        custody.grantRole(custody.DEFAULT_ADMIN_ROLE(), stranger, {"from": stranger})


def test_twin_reverts_for_unknown_ids(custody, twin_id):
    for unknown in (0, twin_id + 1):
        with reverts("CustodyTwinUnknown", unknown):
            custody.twin(unknown)


def test_holderOf_reverts_for_unknown_twin(custody):
    with reverts("CustodyTwinUnknown", 3):
        custody.holderOf(3)


def test_supportsInterface_reports_erc721_and_access_control(custody):
    assert custody.supportsInterface("0x80ac58cd")  # ERC-721
    assert custody.supportsInterface("0x7965db0b")  # IAccessControl
    assert not custody.supportsInterface("0xffffffff")


def test_view_reverts_are_not_transactions(custody):
    # Guards the helper: a view that reverts raises the same VirtualMachineError brownie.reverts expects.
    with brownie.reverts():
        custody.holderOf(0)
