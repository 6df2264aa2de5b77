"""CustodyTwin.split and merge: genealogy, conservation of quantities, retirement of parents."""

from __future__ import annotations

from brownie import ZERO_ADDRESS, chain

from tests.contracts.errors import reverts

from .conftest import OTHER_PRODUCT, PRODUCT, b32, plain

RETIRED = 7  # index of `retired` in the Twin struct


def test_split_creates_children_holding_the_parts(custody, delivered, buyer):
    parent = delivered(quantity=100)

    tx = custody.split(parent, [60, 30, 10], {"from": buyer})

    children = list(tx.events["TwinSplit"]["childIds"])
    assert children == [parent + 1, parent + 2, parent + 3]
    for child, quantity in zip(children, (60, 30, 10), strict=True):
        assert plain(custody.twin(child)) == (0, PRODUCT, ZERO_ADDRESS, quantity, False, False, False, False)
        assert custody.holderOf(child) == buyer
        assert plain(custody.parentsOf(child)) == (parent,)
    assert plain(custody.childrenOf(parent)) == tuple(children)
    assert custody.balanceOf(buyer) == 3


def test_split_retires_and_burns_parent(custody, delivered, buyer):
    parent = delivered()

    tx = custody.split(parent, [50, 50], {"from": buyer})

    assert custody.twin(parent)[RETIRED] is True
    with reverts("CustodyTwinRetired", parent):
        custody.holderOf(parent)
    with reverts("ERC721NonexistentToken", parent):
        custody.ownerOf(parent)
    assert dict(tx.events["Transfer"][0]) == {"from": buyer, "to": ZERO_ADDRESS, "tokenId": parent}


def test_split_emits_TwinSplit(custody, delivered, buyer):
    parent = delivered()

    tx = custody.split(parent, [70, 30], {"from": buyer})

    assert plain(dict(tx.events["TwinSplit"])) == {
        "parentId": parent,
        "holder": buyer.address,
        "childIds": (parent + 1, parent + 2),
        "quantities": (70, 30),
        "timestamp": chain[tx.block_number].timestamp,
    }


def test_split_reverts_for_twin_in_active_order(custody, twin_id, seller):
    with reverts("CustodyTwinInActiveOrder", twin_id, 1):
        custody.split(twin_id, [50, 50], {"from": seller})


def test_split_reverts_for_non_holder(custody, delivered, buyer, stranger):
    parent = delivered()
    with reverts("CustodyTwinNotHolder", parent, stranger, buyer):
        custody.split(parent, [50, 50], {"from": stranger})


def test_split_reverts_for_held_twin(custody, delivered, buyer, hold_keeper):
    parent = delivered()
    custody.setHold(parent, True, b32("v"), {"from": hold_keeper})
    with reverts("CustodyTwinOnHold", parent):
        custody.split(parent, [50, 50], {"from": buyer})


def test_split_reverts_with_pending_offer(custody, delivered, buyer, stranger):
    parent = delivered()
    custody.offerHandoff(parent, stranger, b32("x"), b32("y"), {"from": buyer})
    with reverts("CustodyTwinOfferPending", parent, stranger):
        custody.split(parent, [50, 50], {"from": buyer})


def test_split_reverts_when_quantities_do_not_add_up(custody, delivered, buyer):
    parent = delivered(quantity=100)
    with reverts("CustodyTwinQuantityMismatch", parent, 100, 99):
        custody.split(parent, [50, 49], {"from": buyer})
    with reverts("CustodyTwinQuantityMismatch", parent, 100, 101):
        custody.split(parent, [50, 51], {"from": buyer})


def test_split_reverts_for_zero_part(custody, delivered, buyer):
    parent = delivered(quantity=100)
    with reverts("CustodyTwinZeroQuantity"):
        custody.split(parent, [100, 0], {"from": buyer})


def test_split_reverts_for_too_few_or_too_many_parts(custody, delivered, buyer):
    parent = delivered(quantity=100)
    with reverts("CustodyTwinInvalidPartCount", 1):
        custody.split(parent, [100], {"from": buyer})
    with reverts("CustodyTwinInvalidPartCount", 17):
        custody.split(parent, [1] * 16 + [84], {"from": buyer})


def test_split_accepts_max_parts(custody, delivered, buyer):
    parent = delivered(quantity=100)
    tx = custody.split(parent, [1] * 15 + [85], {"from": buyer})
    assert len(tx.events["TwinSplit"]["childIds"]) == custody.MAX_PARTS()


def test_split_reverts_for_retired_twin(custody, delivered, buyer):
    parent = delivered()
    custody.split(parent, [50, 50], {"from": buyer})
    with reverts("CustodyTwinRetired", parent):
        custody.split(parent, [50, 50], {"from": buyer})


def test_split_reverts_for_unknown_twin(custody, buyer):
    with reverts("CustodyTwinUnknown", 4):
        custody.split(4, [50, 50], {"from": buyer})


def test_merge_creates_child_with_summed_quantity(custody, delivered, buyer):
    first, second = delivered(order_id=1, quantity=30), delivered(order_id=2, quantity=12)

    tx = custody.merge([first, second], {"from": buyer})

    child = tx.events["TwinsMerged"]["childId"]
    assert plain(custody.twin(child)) == (0, PRODUCT, ZERO_ADDRESS, 42, False, False, False, False)
    assert custody.holderOf(child) == buyer
    assert plain(custody.parentsOf(child)) == (first, second)
    assert plain(custody.childrenOf(first)) == (child,)
    assert plain(custody.childrenOf(second)) == (child,)
    assert custody.twin(first)[RETIRED] and custody.twin(second)[RETIRED]
    assert custody.balanceOf(buyer) == 1


def test_merge_emits_TwinsMerged(custody, delivered, buyer):
    first, second = delivered(order_id=1, quantity=30), delivered(order_id=2, quantity=12)

    tx = custody.merge([first, second], {"from": buyer})

    assert plain(dict(tx.events["TwinsMerged"])) == {
        "childId": second + 1,
        "holder": buyer.address,
        "parentIds": (first, second),
        "quantity": 42,
        "timestamp": chain[tx.block_number].timestamp,
    }


def test_merge_reverts_for_repeated_twin(custody, delivered, buyer):
    first, second = delivered(order_id=1), delivered(order_id=2)
    with reverts("CustodyTwinRetired", first):
        custody.merge([first, second, first], {"from": buyer})


def test_merge_reverts_for_mixed_products(custody, delivered, buyer):
    first, second = delivered(order_id=1), delivered(order_id=2, product=OTHER_PRODUCT)
    with reverts("CustodyTwinProductMismatch", second, OTHER_PRODUCT, PRODUCT):
        custody.merge([first, second], {"from": buyer})


def test_merge_reverts_for_twin_of_another_holder(custody, delivered, mint, buyer, seller):
    first = delivered(order_id=1)
    foreign = mint(order_id=2, holder=buyer, consignee=seller)
    custody.offerHandoff(foreign, seller, b32("x"), b32("y"), {"from": buyer})
    custody.acceptHandoff(foreign, b32("x"), b32("y"), {"from": seller})
    with reverts("CustodyTwinNotHolder", foreign, buyer, seller):
        custody.merge([first, foreign], {"from": buyer})


def test_merge_reverts_for_twin_in_active_order(custody, delivered, mint, buyer, seller):
    first = delivered(order_id=1)
    active = mint(order_id=2, holder=buyer, consignee=seller)
    with reverts("CustodyTwinInActiveOrder", active, 2):
        custody.merge([first, active], {"from": buyer})


def test_merge_reverts_for_held_twin(custody, delivered, buyer, hold_keeper):
    first, second = delivered(order_id=1), delivered(order_id=2)
    custody.setHold(second, True, b32("v"), {"from": hold_keeper})
    with reverts("CustodyTwinOnHold", second):
        custody.merge([first, second], {"from": buyer})


def test_merge_reverts_for_invalid_part_count(custody, delivered, buyer):
    first = delivered(order_id=1)
    with reverts("CustodyTwinInvalidPartCount", 1):
        custody.merge([first], {"from": buyer})
    with reverts("CustodyTwinInvalidPartCount", 17):
        custody.merge([first] * 17, {"from": buyer})


def test_merge_reverts_when_sum_exceeds_uint64(custody, delivered, buyer):
    first, second = delivered(order_id=1, quantity=2**63), delivered(order_id=2, quantity=2**63)
    with reverts("CustodyTwinQuantityOverflow", 2**64):
        custody.merge([first, second], {"from": buyer})


def test_split_children_move_without_escrow_reports(custody, escrow, delivered, handoff, buyer, stranger):
    parent = delivered()
    child = custody.split(parent, [50, 50], {"from": buyer}).events["TwinSplit"]["childIds"][0]

    tx = handoff(child, buyer, stranger)

    assert "HandoffReported" not in tx.events
    assert custody.holderOf(child) == stranger


def test_genealogy_traces_a_shop_lot_back_to_its_source_orders(custody, delivered, buyer):
    first, second = delivered(order_id=11, quantity=40), delivered(order_id=12, quantity=60)
    merged = custody.merge([first, second], {"from": buyer}).events["TwinsMerged"]["childId"]
    shop_lot = custody.split(merged, [25, 75], {"from": buyer}).events["TwinSplit"]["childIds"][1]

    frontier, sources = [shop_lot], set()
    while frontier:
        current = frontier.pop()
        parents = plain(custody.parentsOf(current))
        if parents:
            frontier.extend(parents)
        else:
            sources.add(custody.twin(current)[0])

    assert sources == {11, 12}
