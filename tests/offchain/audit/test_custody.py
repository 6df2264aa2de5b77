from __future__ import annotations

from eth_utils.address import to_checksum_address

from offchain.audit.checks import custody
from offchain.audit.events import ChainEvent
from offchain.audit.findings import Status
from tests.offchain.audit.factories import BUYER, CARRIER, SELLER, STRANGER, event, history

Z = b"\0" * 32


def _mint(twin_id: int = 1, quantity: int = 100) -> ChainEvent:
    return event(
        "CustodyTwin",
        "TwinMinted",
        twinId=twin_id,
        orderId=1,
        holder=SELLER,
        consignee=BUYER,
        quantity=quantity,
        productType=Z,
        timestamp=1,
    )


def _offer(frm: str, to: str, twin_id: int = 1) -> ChainEvent:
    return event(
        "CustodyTwin",
        "HandoffOffered",
        twinId=twin_id,
        to=to,
        timestamp=2,
        location=Z,
        conditionHash=Z,
        **{"from": frm},
    )


def _accept(frm: str, to: str, twin_id: int = 1) -> ChainEvent:
    return event(
        "CustodyTwin",
        "HandoffAccepted",
        twinId=twin_id,
        to=to,
        timestamp=3,
        location=Z,
        conditionHash=Z,
        **{"from": frm},
    )


def _senders(*pairs: tuple[ChainEvent, str]) -> custody.TxSender:
    table = {e.tx_hash: to_checksum_address(who) for e, who in pairs}
    return lambda tx_hash: table[tx_hash]


def _no_contracts(_: str) -> bool:
    return False


def test_a_continuous_chain_passes_and_lists_the_holders() -> None:
    offer1, accept1, offer2, accept2 = (
        _offer(SELLER, CARRIER),
        _accept(SELLER, CARRIER),
        _offer(CARRIER, BUYER),
        _accept(CARRIER, BUYER),
    )
    delivered = event("CustodyTwin", "TwinDelivered", twinId=1, orderId=1, consignee=BUYER, timestamp=4)
    h = history(_mint(), offer1, accept1, offer2, accept2, delivered)
    result = custody.check(
        h, _senders((offer1, SELLER), (accept1, CARRIER), (offer2, CARRIER), (accept2, BUYER)), _no_contracts
    )
    assert result.status is Status.PASS
    (summary,) = [f for f in result.findings if f.status is Status.PASS]
    assert "2 handoffs, delivered" in summary.what and summary.where == "twin 1"


def test_an_acceptance_by_someone_else_than_the_offeree_fails() -> None:
    offer, accept = _offer(SELLER, CARRIER), _accept(SELLER, STRANGER)
    result = custody.check(
        history(_mint(), offer, accept), _senders((offer, SELLER), (accept, STRANGER)), _no_contracts
    )
    (failure,) = result.failures
    assert "accepted by" in failure.what and "the offer named" in failure.what
    assert failure.where == accept.where


def test_an_offer_sent_by_someone_else_than_the_holder_fails() -> None:
    offer, accept = _offer(SELLER, CARRIER), _accept(SELLER, CARRIER)
    result = custody.check(
        history(_mint(), offer, accept), _senders((offer, STRANGER), (accept, CARRIER)), _no_contracts
    )
    (failure,) = result.failures
    assert "sent by" in failure.what and "not by the holder" in failure.what


def test_an_acceptance_without_an_offer_fails() -> None:
    accept = _accept(SELLER, CARRIER)
    result = custody.check(history(_mint(), accept), _senders((accept, CARRIER)), _no_contracts)
    assert any("without a pending offer" in f.what for f in result.failures)


def test_a_handoff_of_an_unknown_twin_fails() -> None:
    offer = _offer(SELLER, CARRIER, twin_id=7)
    result = custody.check(history(offer), _senders((offer, SELLER)), _no_contracts)
    (failure,) = result.failures
    assert "twin 7, which was never minted" in failure.what


def test_a_split_that_does_not_conserve_quantity_fails() -> None:
    split = event(
        "CustodyTwin", "TwinSplit", parentId=1, holder=SELLER, childIds=[2, 3], quantities=[60, 30], timestamp=5
    )
    result = custody.check(history(_mint(quantity=100), split), _senders(), _no_contracts)
    (failure,) = result.failures
    assert "does not conserve quantity: 100 -> 90" in failure.what


def test_a_merge_that_does_not_conserve_quantity_fails() -> None:
    merged = event("CustodyTwin", "TwinsMerged", childId=3, holder=SELLER, parentIds=[1, 2], quantity=150, timestamp=5)
    result = custody.check(history(_mint(1, 100), _mint(2, 40), merged), _senders(), _no_contracts)
    (failure,) = result.failures
    assert "parents 140, child 150" in failure.what


def test_a_retired_twin_cannot_move() -> None:
    split = event(
        "CustodyTwin", "TwinSplit", parentId=1, holder=SELLER, childIds=[2, 3], quantities=[50, 50], timestamp=5
    )
    offer = _offer(SELLER, CARRIER, twin_id=1)
    result = custody.check(history(_mint(), split, offer), _senders((offer, SELLER)), _no_contracts)
    (failure,) = result.failures
    assert "after it was retired" in failure.what


def test_a_contract_holder_acting_through_a_relayer_is_noted_not_failed() -> None:
    offer, accept = _offer(SELLER, CARRIER), _accept(SELLER, CARRIER)
    result = custody.check(
        history(_mint(), offer, accept),
        _senders((offer, STRANGER), (accept, CARRIER)),
        lambda a: a == to_checksum_address(SELLER),
    )
    assert result.status is Status.PASS
    (note,) = [f for f in result.findings if f.status is Status.NOTE]
    assert "is a contract; its transaction was sent by" in note.what
