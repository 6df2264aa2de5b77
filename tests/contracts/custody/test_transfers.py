"""Plain ERC-721 transfer and approval paths are closed: custody moves only by handoff."""

from __future__ import annotations

import pytest

from tests.contracts.errors import reverts


def test_transferFrom_reverts_for_holder(custody, twin_id, seller, carrier):
    with reverts("CustodyTwinTransferDisabled"):
        custody.transferFrom(seller, carrier, twin_id, {"from": seller})


@pytest.mark.parametrize("signature", ["address,address,uint256", "address,address,uint256,bytes"])
def test_safeTransferFrom_reverts_for_holder(custody, twin_id, seller, carrier, signature):
    args = (seller, carrier, twin_id) + (("0x",) if signature.endswith("bytes") else ())
    with reverts("CustodyTwinTransferDisabled"):
        custody.safeTransferFrom[signature](*args, {"from": seller})


def test_approve_reverts_for_holder(custody, twin_id, seller, carrier):
    with reverts("CustodyTwinTransferDisabled"):
        custody.approve(carrier, twin_id, {"from": seller})


def test_setApprovalForAll_reverts_for_holder(custody, seller, carrier):
    with reverts("CustodyTwinTransferDisabled"):
        custody.setApprovalForAll(carrier, True, {"from": seller})


def test_no_approval_can_exist(custody, twin_id, seller, carrier):
    assert custody.getApproved(twin_id) == "0x0000000000000000000000000000000000000000"
    assert custody.isApprovedForAll(seller, carrier) is False


def test_holder_unchanged_after_bypass_attempts(custody, twin_id, seller, carrier):
    for attempt in (
        lambda: custody.transferFrom(seller, carrier, twin_id, {"from": seller}),
        lambda: custody.approve(carrier, twin_id, {"from": seller}),
        lambda: custody.transferFrom(seller, carrier, twin_id, {"from": carrier}),
    ):
        with reverts("CustodyTwinTransferDisabled"):
            attempt()
    assert custody.holderOf(twin_id) == seller
