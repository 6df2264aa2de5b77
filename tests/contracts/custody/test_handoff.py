"""CustodyTwin two-step handoffs: offerHandoff, acceptHandoff, cancelOffer and the Escrow report."""

from __future__ import annotations

from brownie import ZERO_ADDRESS, chain

from tests.contracts.errors import reverts

from .conftest import b32, plain

HERE = b32("u4pruyd")
THERE = b32("u4pruyf")
GOOD = b32("cond:ok")


def test_offerHandoff_records_offer(custody, twin_id, seller, carrier):
    tx = custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})

    assert plain(custody.offerOf(twin_id)) == (carrier.address, chain[tx.block_number].timestamp)
    assert custody.holderOf(twin_id) == seller


def test_offerHandoff_emits_HandoffOffered(custody, twin_id, seller, carrier):
    tx = custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})

    assert dict(tx.events["HandoffOffered"]) == {
        "twinId": twin_id,
        "from": seller,
        "to": carrier,
        "timestamp": chain[tx.block_number].timestamp,
        "location": HERE,
        "conditionHash": GOOD,
    }
    assert "Transfer" not in tx.events


def test_offerHandoff_reverts_for_non_holder(custody, twin_id, seller, carrier, stranger):
    with reverts("CustodyTwinNotHolder", twin_id, stranger, seller):
        custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": stranger})


def test_offerHandoff_reverts_for_zero_receiver(custody, twin_id, seller):
    with reverts("CustodyTwinZeroAddress"):
        custody.offerHandoff(twin_id, ZERO_ADDRESS, HERE, GOOD, {"from": seller})


def test_offerHandoff_reverts_for_offer_to_self(custody, twin_id, seller):
    with reverts("CustodyTwinSameParty", seller):
        custody.offerHandoff(twin_id, seller, HERE, GOOD, {"from": seller})


def test_offerHandoff_reverts_while_offer_pending(custody, twin_id, seller, carrier, stranger):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})
    with reverts("CustodyTwinOfferPending", twin_id, carrier):
        custody.offerHandoff(twin_id, stranger, HERE, GOOD, {"from": seller})


def test_offerHandoff_reverts_for_held_twin(custody, twin_id, seller, carrier, hold_keeper):
    custody.setHold(twin_id, True, b32("verdict"), {"from": hold_keeper})
    with reverts("CustodyTwinOnHold", twin_id):
        custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})


def test_offerHandoff_reverts_for_unknown_twin(custody, seller, carrier):
    with reverts("CustodyTwinUnknown", 5):
        custody.offerHandoff(5, carrier, HERE, GOOD, {"from": seller})


def test_offerHandoff_reverts_for_retired_twin(custody, delivered, buyer, carrier):
    parent = delivered()
    custody.split(parent, [60, 40], {"from": buyer})
    with reverts("CustodyTwinRetired", parent):
        custody.offerHandoff(parent, carrier, HERE, GOOD, {"from": buyer})


def test_acceptHandoff_moves_custody_and_clears_offer(custody, twin_id, seller, carrier):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})

    custody.acceptHandoff(twin_id, THERE, GOOD, {"from": carrier})

    assert custody.holderOf(twin_id) == carrier
    assert custody.balanceOf(seller) == 0
    assert custody.balanceOf(carrier) == 1
    assert plain(custody.offerOf(twin_id)) == (ZERO_ADDRESS, 0)


def test_acceptHandoff_emits_HandoffAccepted_and_Transfer(custody, twin_id, seller, carrier):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})
    damaged = b32("cond:dented")

    tx = custody.acceptHandoff(twin_id, THERE, damaged, {"from": carrier})

    assert dict(tx.events["HandoffAccepted"]) == {
        "twinId": twin_id,
        "from": seller,
        "to": carrier,
        "timestamp": chain[tx.block_number].timestamp,
        "location": THERE,
        "conditionHash": damaged,
    }
    assert dict(tx.events["Transfer"]) == {"from": seller, "to": carrier, "tokenId": twin_id}
    assert "TwinDelivered" not in tx.events


def test_acceptHandoff_reports_bound_twin_to_escrow(custody, escrow, twin_id, seller, carrier):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})

    tx = custody.acceptHandoff(twin_id, THERE, GOOD, {"from": carrier})

    assert dict(tx.events["HandoffReported"]) == {
        "orderId": 1,
        "from": seller,
        "to": carrier,
        "timestamp": chain[tx.block_number].timestamp,
        "caller": custody,
    }
    assert escrow.handoffCount() == 1


def test_acceptHandoff_by_consignee_marks_delivery(custody, escrow, twin_id, handoff, seller, carrier, buyer):
    handoff(twin_id, seller, carrier)

    tx = handoff(twin_id, carrier, buyer)

    assert dict(tx.events["TwinDelivered"]) == {
        "twinId": twin_id,
        "orderId": 1,
        "consignee": buyer,
        "timestamp": chain[tx.block_number].timestamp,
    }
    assert custody.twin(twin_id)[5] is True  # delivered
    assert tx.events["HandoffReported"]["to"] == buyer
    assert escrow.handoffCount() == 2


def test_acceptHandoff_after_delivery_is_not_reported(custody, escrow, delivered, handoff, buyer, stranger):
    twin = delivered()

    tx = handoff(twin, buyer, stranger)

    assert "HandoffReported" not in tx.events
    assert escrow.handoffCount() == 1
    assert custody.holderOf(twin) == stranger


def test_acceptHandoff_reverts_when_escrow_rejects(custody, escrow, twin_id, seller, carrier):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})
    escrow.setFailing(True, {"from": seller})

    with reverts("MockEscrowHooksFailing"):
        custody.acceptHandoff(twin_id, THERE, GOOD, {"from": carrier})
    assert custody.holderOf(twin_id) == seller
    assert plain(custody.offerOf(twin_id))[0] == carrier.address


def test_acceptHandoff_reverts_for_someone_else(custody, twin_id, seller, carrier, stranger):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})
    with reverts("CustodyTwinNotOfferee", twin_id, stranger, carrier):
        custody.acceptHandoff(twin_id, THERE, GOOD, {"from": stranger})


def test_acceptHandoff_reverts_for_holder_accepting_own_offer(custody, twin_id, seller, carrier):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})
    with reverts("CustodyTwinNotOfferee", twin_id, seller, carrier):
        custody.acceptHandoff(twin_id, THERE, GOOD, {"from": seller})


def test_acceptHandoff_reverts_without_offer(custody, twin_id, carrier):
    with reverts("CustodyTwinNoOffer", twin_id):
        custody.acceptHandoff(twin_id, THERE, GOOD, {"from": carrier})


def test_acceptHandoff_reverts_when_held_after_offer(custody, twin_id, seller, carrier, hold_keeper):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})
    custody.setHold(twin_id, True, b32("verdict"), {"from": hold_keeper})

    with reverts("CustodyTwinOnHold", twin_id):
        custody.acceptHandoff(twin_id, THERE, GOOD, {"from": carrier})


def test_acceptHandoff_reverts_when_replayed(custody, twin_id, seller, carrier):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})
    custody.acceptHandoff(twin_id, THERE, GOOD, {"from": carrier})

    with reverts("CustodyTwinNoOffer", twin_id):
        custody.acceptHandoff(twin_id, THERE, GOOD, {"from": carrier})


def test_cancelOffer_clears_offer_and_emits(custody, twin_id, seller, carrier):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})

    tx = custody.cancelOffer(twin_id, {"from": seller})

    assert plain(custody.offerOf(twin_id)) == (ZERO_ADDRESS, 0)
    assert dict(tx.events["HandoffCancelled"]) == {
        "twinId": twin_id,
        "from": seller,
        "to": carrier,
        "timestamp": chain[tx.block_number].timestamp,
    }


def test_cancelOffer_prevents_acceptance(custody, twin_id, seller, carrier):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})
    custody.cancelOffer(twin_id, {"from": seller})

    with reverts("CustodyTwinNoOffer", twin_id):
        custody.acceptHandoff(twin_id, THERE, GOOD, {"from": carrier})
    assert custody.holderOf(twin_id) == seller


def test_cancelOffer_reverts_for_non_holder(custody, twin_id, seller, carrier):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})
    with reverts("CustodyTwinNotHolder", twin_id, carrier, seller):
        custody.cancelOffer(twin_id, {"from": carrier})


def test_cancelOffer_reverts_without_offer(custody, twin_id, seller):
    with reverts("CustodyTwinNoOffer", twin_id):
        custody.cancelOffer(twin_id, {"from": seller})


def test_cancelOffer_reverts_for_unknown_twin(custody, seller):
    with reverts("CustodyTwinUnknown", 0):
        custody.cancelOffer(0, {"from": seller})


def test_cancelOffer_allows_a_new_offer(custody, twin_id, seller, carrier, stranger):
    custody.offerHandoff(twin_id, carrier, HERE, GOOD, {"from": seller})
    custody.cancelOffer(twin_id, {"from": seller})

    custody.offerHandoff(twin_id, stranger, HERE, GOOD, {"from": seller})
    custody.acceptHandoff(twin_id, THERE, GOOD, {"from": stranger})

    assert custody.holderOf(twin_id) == stranger
