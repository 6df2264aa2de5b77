from __future__ import annotations

from offchain.audit.history import struct_field
from tests.offchain.audit.factories import BUYER, SELLER, event, history


def _cfp(cfp_id: int, kind: int, parent: int) -> object:
    return event("Procurement", "CfpOpened", cfpId=cfp_id, buyer=BUYER, parentOrderId=parent, params={"kind": kind})


def test_delivery_cfps_and_their_bids_belong_to_the_parent_order() -> None:
    bid = event("Procurement", "BidCommitted", cfpId=2, bidder=SELLER, commitment=b"\0" * 32)
    h = history(_cfp(1, 0, 0), _cfp(2, 1, 1), bid)  # type: ignore[arg-type]
    assert list(h.orders) == [1]
    assert h.orders[1].cfp_ids == [1, 2]
    assert bid in h.orders[1].procurement


def test_a_minted_twin_is_linked_to_its_order_and_keeps_its_events() -> None:
    minted = event(
        "CustodyTwin",
        "TwinMinted",
        twinId=5,
        orderId=3,
        holder=SELLER,
        consignee=BUYER,
        quantity=1,
        productType=b"",
        timestamp=1,
    )
    h = history(minted)
    assert h.orders[3].twin_ids == [5]
    assert h.twins[5].origin is minted


def test_struct_fields_are_read_by_name_or_position() -> None:
    assert struct_field({"kind": 1}, "kind", 0) == 1
    assert struct_field((1, 2), "kind", 1) == 2
