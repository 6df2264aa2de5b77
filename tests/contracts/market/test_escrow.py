"""Escrow: funding, legs, liability, penalties, settlement, cancellation, pull payments, views."""

from __future__ import annotations

from typing import Any

import pytest
from brownie import Escrow, chain

from .helpers import DELIVERY_GRACE, UNIT, ZERO, h32, plain, reverts_with, set_next_block_time

AMOUNT = 1000 * UNIT
PER_HOUR = 10 * UNIT
PER_EXCURSION = 50 * UNIT
CAP = 300 * UNIT
NO_LEG = 255
LATENESS = b"lateness".ljust(32, b"\0")
VERDICT = bytes.fromhex("ab" * 32)
ORDER = 7
ACTIVE, SETTLED, CANCELLED = 1, 2, 3


@pytest.fixture
def deadline() -> int:
    return chain.time() + 10 * 24 * 3600


@pytest.fixture
def opened(escrow: Any, procurement_hook: Any, buyer: Any, supplier: Any, deadline: int) -> Any:
    """Order ORDER funded by `buyer`, sold by `supplier`."""
    return escrow.openOrder(
        ORDER, buyer, supplier, AMOUNT, (deadline, PER_HOUR, PER_EXCURSION, CAP), {"from": procurement_hook}
    )


def add_leg(escrow: Any, hook: Any, carrier: Any, freight: int = 100 * UNIT) -> Any:
    return escrow.addLeg(ORDER, carrier, freight, {"from": hook})


def caller_error(account: Any, expected: Any) -> tuple[str, str, str]:
    return ("EscrowUnauthorizedCaller", account.address, expected.address)


# ---------------------------------------------------------------------- constructor and constants
def test_constructor_rejects_zero_token(admin: Any, outsider: Any) -> None:
    with reverts_with("EscrowZeroToken"):
        Escrow.deploy(ZERO, DELIVERY_GRACE, outsider, outsider, outsider, {"from": admin})


@pytest.mark.parametrize("zero_at", [0, 1, 2])
def test_constructor_rejects_zero_hook_caller(admin: Any, token: Any, outsider: Any, zero_at: int) -> None:
    hooks = [outsider, outsider, outsider]
    hooks[zero_at] = ZERO
    with reverts_with("EscrowZeroHookCaller"):
        Escrow.deploy(token, DELIVERY_GRACE, *hooks, {"from": admin})


def test_constructor_fixes_hook_callers(
    escrow: Any, procurement_hook: Any, custody_hook: Any, verdict_hook: Any
) -> None:
    assert escrow.PROCUREMENT() == procurement_hook
    assert escrow.CUSTODY() == custody_hook
    assert escrow.VERDICT_HUB() == verdict_hook


def test_constants_and_token(escrow: Any, token: Any) -> None:
    assert escrow.MAX_LEGS() == 4
    assert escrow.NO_LEG() == NO_LEG
    assert escrow.LATENESS() == h32(LATENESS)
    assert escrow.DELIVERY_GRACE() == DELIVERY_GRACE
    assert escrow.token() == token


# ---------------------------------------------------------------------- openOrder
def test_open_order_pulls_amount(escrow: Any, token: Any, buyer: Any, opened: Any) -> None:
    assert token.balanceOf(escrow) == AMOUNT
    assert escrow.outstanding() == AMOUNT


def test_open_order_stores_order(escrow: Any, buyer: Any, supplier: Any, deadline: int, opened: Any) -> None:
    assert plain(escrow.order(ORDER)) == (
        ACTIVE,
        0,
        NO_LEG,
        False,
        0,
        PER_EXCURSION,
        0,
        buyer.address,
        deadline,
        supplier.address,
        AMOUNT,
        PER_HOUR,
        CAP,
        0,
    )


def test_open_order_emits_every_field(buyer: Any, supplier: Any, deadline: int, opened: Any) -> None:
    event = opened.events["OrderOpened"]
    assert plain(event.values()) == (
        ORDER,
        buyer.address,
        supplier.address,
        AMOUNT,
        deadline,
        PER_HOUR,
        PER_EXCURSION,
        CAP,
    )


def test_open_order_requires_procurement(
    escrow: Any, procurement_hook: Any, buyer: Any, supplier: Any, outsider: Any
) -> None:
    with reverts_with(*caller_error(outsider, procurement_hook)):
        escrow.openOrder(ORDER, buyer, supplier, AMOUNT, (1, 0, 0, 0), {"from": outsider})


def test_open_order_from_another_hook_caller_reverts(
    escrow: Any, procurement_hook: Any, verdict_hook: Any, buyer: Any, supplier: Any
) -> None:
    with reverts_with(*caller_error(verdict_hook, procurement_hook)):
        escrow.openOrder(ORDER, buyer, supplier, AMOUNT, (1, 0, 0, 0), {"from": verdict_hook})


def test_open_order_twice_reverts(
    escrow: Any, procurement_hook: Any, buyer: Any, supplier: Any, opened: Any
) -> None:
    with reverts_with("EscrowOrderExists", ORDER):
        escrow.openOrder(ORDER, buyer, supplier, AMOUNT, (1, 0, 0, 0), {"from": procurement_hook})


def test_open_order_zero_amount_reverts(
    escrow: Any, procurement_hook: Any, buyer: Any, supplier: Any
) -> None:
    with reverts_with("EscrowZeroAmount", ORDER):
        escrow.openOrder(ORDER, buyer, supplier, 0, (1, 0, 0, 0), {"from": procurement_hook})


def test_open_order_zero_buyer_reverts(escrow: Any, procurement_hook: Any, supplier: Any) -> None:
    with reverts_with("EscrowInvalidParty", ORDER, ZERO):
        escrow.openOrder(ORDER, ZERO, supplier, AMOUNT, (1, 0, 0, 0), {"from": procurement_hook})


def test_open_order_zero_seller_reverts(escrow: Any, procurement_hook: Any, buyer: Any) -> None:
    with reverts_with("EscrowInvalidParty", ORDER, ZERO):
        escrow.openOrder(ORDER, buyer, ZERO, AMOUNT, (1, 0, 0, 0), {"from": procurement_hook})


def test_open_order_seller_is_buyer_reverts(escrow: Any, procurement_hook: Any, buyer: Any) -> None:
    with reverts_with("EscrowInvalidParty", ORDER, buyer.address):
        escrow.openOrder(ORDER, buyer, buyer, AMOUNT, (1, 0, 0, 0), {"from": procurement_hook})


def test_open_order_without_allowance_reverts(
    escrow: Any, procurement_hook: Any, buyer: Any, supplier: Any, token: Any
) -> None:
    token.approve(escrow, 0, {"from": buyer})
    with reverts_with("ERC20InsufficientAllowance", escrow.address, 0, AMOUNT):
        escrow.openOrder(ORDER, buyer, supplier, AMOUNT, (1, 0, 0, 0), {"from": procurement_hook})


# ---------------------------------------------------------------------- addLeg
def test_add_leg_stores_leg(escrow: Any, procurement_hook: Any, carrier: Any, opened: Any) -> None:
    tx = add_leg(escrow, procurement_hook, carrier)
    assert tx.return_value == 0
    assert plain(escrow.leg(ORDER, 0)) == (carrier.address, 100 * UNIT, 0)
    assert escrow.order(ORDER)["legCount"] == 1


def test_add_leg_emits_every_field(escrow: Any, procurement_hook: Any, carrier: Any, opened: Any) -> None:
    tx = add_leg(escrow, procurement_hook, carrier)
    assert plain(tx.events["LegAdded"].values()) == (ORDER, 0, carrier.address, 100 * UNIT)


def test_add_leg_indexes_increase(
    escrow: Any, procurement_hook: Any, carrier: Any, carrier2: Any, opened: Any
) -> None:
    add_leg(escrow, procurement_hook, carrier)
    assert add_leg(escrow, procurement_hook, carrier2).return_value == 1


def test_add_leg_requires_procurement(
    escrow: Any, procurement_hook: Any, carrier: Any, outsider: Any, opened: Any
) -> None:
    with reverts_with(*caller_error(outsider, procurement_hook)):
        add_leg(escrow, outsider, carrier)


def test_add_leg_unknown_order_reverts(escrow: Any, procurement_hook: Any, carrier: Any) -> None:
    with reverts_with("EscrowUnknownOrder", ORDER):
        add_leg(escrow, procurement_hook, carrier)


def test_add_leg_to_cancelled_order_reverts(
    escrow: Any, procurement_hook: Any, supplier: Any, carrier: Any, opened: Any
) -> None:
    escrow.cancelOrder(ORDER, {"from": supplier})
    with reverts_with("EscrowOrderNotActive", ORDER, CANCELLED):
        add_leg(escrow, procurement_hook, carrier)


def test_add_leg_beyond_max_reverts(escrow: Any, procurement_hook: Any, carrier: Any, opened: Any) -> None:
    for _ in range(4):
        add_leg(escrow, procurement_hook, carrier, 10 * UNIT)
    with reverts_with("EscrowTooManyLegs", ORDER):
        add_leg(escrow, procurement_hook, carrier, 10 * UNIT)


@pytest.mark.parametrize("who", ["zero", "buyer", "seller"])
def test_add_leg_invalid_carrier_reverts(
    escrow: Any, procurement_hook: Any, buyer: Any, supplier: Any, opened: Any, who: str
) -> None:
    carrier = {"zero": ZERO, "buyer": buyer.address, "seller": supplier.address}[who]
    with reverts_with("EscrowInvalidParty", ORDER, carrier):
        escrow.addLeg(ORDER, carrier, UNIT, {"from": procurement_hook})


def test_add_leg_may_take_whole_seller_share(
    escrow: Any, procurement_hook: Any, carrier: Any, opened: Any
) -> None:
    add_leg(escrow, procurement_hook, carrier, AMOUNT)
    assert escrow.leg(ORDER, 0)["freight"] == AMOUNT


def test_add_leg_freight_above_share_reverts(
    escrow: Any, procurement_hook: Any, carrier: Any, carrier2: Any, opened: Any
) -> None:
    add_leg(escrow, procurement_hook, carrier, 600 * UNIT)
    with reverts_with("EscrowFreightExceedsShare", ORDER, 401 * UNIT, 400 * UNIT):
        add_leg(escrow, procurement_hook, carrier2, 401 * UNIT)


def test_add_leg_share_excludes_seller_penalties(
    escrow: Any, procurement_hook: Any, verdict_hook: Any, carrier: Any, opened: Any
) -> None:
    escrow.applyPenalty(ORDER, VERDICT, 2, {"from": verdict_hook})  # seller liable: 100 claimed
    with reverts_with("EscrowFreightExceedsShare", ORDER, AMOUNT, AMOUNT - 100 * UNIT):
        add_leg(escrow, procurement_hook, carrier, AMOUNT)


def test_add_leg_share_excludes_flushed_seller_penalties(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    verdict_hook: Any,
    supplier: Any,
    carrier: Any,
    carrier2: Any,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier, 100 * UNIT)
    escrow.applyPenalty(ORDER, VERDICT, 2, {"from": verdict_hook})  # seller liable: 100 claimed
    escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})  # flushed to the seller's record
    with reverts_with("EscrowFreightExceedsShare", ORDER, AMOUNT, AMOUNT - 200 * UNIT):
        add_leg(escrow, procurement_hook, carrier2, AMOUNT)


def test_add_leg_ignores_carrier_penalties(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    verdict_hook: Any,
    supplier: Any,
    carrier: Any,
    carrier2: Any,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier, 100 * UNIT)
    escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})
    escrow.applyPenalty(ORDER, VERDICT, 2, {"from": verdict_hook})  # the carrier's claim, not the seller's
    with reverts_with("EscrowFreightExceedsShare", ORDER, AMOUNT, AMOUNT - 100 * UNIT):
        add_leg(escrow, procurement_hook, carrier2, AMOUNT)


def test_add_leg_share_is_zero_when_seller_claims_exceed_it(
    escrow: Any, procurement_hook: Any, verdict_hook: Any, carrier: Any, opened: Any
) -> None:
    for _ in range(5):
        escrow.applyPenalty(ORDER, VERDICT, 5, {"from": verdict_hook})  # 5 x 250 claimed > AMOUNT
    with reverts_with("EscrowFreightExceedsShare", ORDER, 1, 0):
        add_leg(escrow, procurement_hook, carrier, 1)


# ---------------------------------------------------------------------- onHandoff: liability
def test_handoff_to_carrier_makes_its_leg_liable(
    escrow: Any, procurement_hook: Any, custody_hook: Any, supplier: Any, carrier: Any, opened: Any
) -> None:
    add_leg(escrow, procurement_hook, carrier)
    tx = escrow.onHandoff(ORDER, supplier, carrier, 1234, {"from": custody_hook})
    order = escrow.order(ORDER)
    assert (order["activeLeg"], order["pickedUp"]) == (0, True)
    assert plain(tx.events["LiabilityMoved"].values()) == (ORDER, supplier.address, carrier.address, 1234, 0)


def test_handoff_picks_next_leg_of_carrier(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    supplier: Any,
    carrier: Any,
    carrier2: Any,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier)
    add_leg(escrow, procurement_hook, carrier2)
    add_leg(escrow, procurement_hook, carrier)
    escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})
    escrow.onHandoff(ORDER, carrier, carrier2, 2, {"from": custody_hook})
    escrow.onHandoff(ORDER, carrier2, carrier, 3, {"from": custody_hook})
    assert escrow.order(ORDER)["activeLeg"] == 2


def test_handoff_to_non_carrier_makes_seller_liable(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    supplier: Any,
    carrier: Any,
    outsider: Any,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier)
    escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})
    tx = escrow.onHandoff(ORDER, carrier, outsider, 2, {"from": custody_hook})
    assert escrow.order(ORDER)["activeLeg"] == NO_LEG
    assert tx.events["LiabilityMoved"]["activeLeg"] == NO_LEG


def test_handoff_requires_custody(
    escrow: Any, custody_hook: Any, supplier: Any, carrier: Any, outsider: Any, opened: Any
) -> None:
    with reverts_with(*caller_error(outsider, custody_hook)):
        escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": outsider})


def test_handoff_unknown_order_reverts(escrow: Any, custody_hook: Any, supplier: Any, carrier: Any) -> None:
    with reverts_with("EscrowUnknownOrder", ORDER):
        escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})


def test_handoff_after_cancel_is_ignored(
    escrow: Any, custody_hook: Any, supplier: Any, carrier: Any, opened: Any
) -> None:
    escrow.cancelOrder(ORDER, {"from": supplier})
    tx = escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})
    assert len(tx.events) == 0
    assert escrow.order(ORDER)["pickedUp"] is False


# ---------------------------------------------------------------------- onHandoff: settlement
def test_delivery_on_time_credits_every_party(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    buyer: Any,
    supplier: Any,
    carrier: Any,
    deadline: int,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier, 100 * UNIT)
    escrow.onHandoff(ORDER, supplier, carrier, deadline - 100, {"from": custody_hook})
    tx = escrow.onHandoff(ORDER, carrier, buyer, deadline, {"from": custody_hook})
    assert escrow.credit(carrier) == 100 * UNIT
    assert escrow.credit(supplier) == 900 * UNIT
    assert escrow.credit(buyer) == 0
    assert escrow.order(ORDER)["status"] == SETTLED
    assert plain(tx.events["OrderSettled"].values()) == (ORDER, deadline, 900 * UNIT, 100 * UNIT, 0)
    assert "PenaltyApplied" not in tx.events


def test_delivery_emits_a_credit_per_party(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    buyer: Any,
    supplier: Any,
    carrier: Any,
    deadline: int,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier, 100 * UNIT)
    tx = escrow.onHandoff(ORDER, carrier, buyer, deadline + 1, {"from": custody_hook})
    credits = [plain(e.values()) for e in tx.events["Credited"]]
    assert credits == [
        (carrier.address, ORDER, 100 * UNIT),
        (supplier.address, ORDER, 890 * UNIT),
        (buyer.address, ORDER, 10 * UNIT),
    ]


def test_late_delivery_charges_the_carrier_by_started_hour(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    buyer: Any,
    supplier: Any,
    carrier: Any,
    deadline: int,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier, 100 * UNIT)
    escrow.onHandoff(ORDER, supplier, carrier, deadline - 100, {"from": custody_hook})
    tx = escrow.onHandoff(ORDER, carrier, buyer, deadline + 3601, {"from": custody_hook})
    assert plain(tx.events["PenaltyApplied"].values()) == (ORDER, h32(LATENESS), 0, 0, 20 * UNIT)
    assert plain(tx.events["PenaltySettled"].values()) == (ORDER, carrier.address, 0, 20 * UNIT, 20 * UNIT)
    assert escrow.credit(carrier) == 80 * UNIT
    assert escrow.credit(buyer) == 20 * UNIT
    assert escrow.credit(supplier) == 900 * UNIT


def test_late_delivery_without_carrier_charges_seller(
    escrow: Any, custody_hook: Any, buyer: Any, supplier: Any, deadline: int, opened: Any
) -> None:
    tx = escrow.onHandoff(ORDER, supplier, buyer, deadline + 1, {"from": custody_hook})
    assert tx.events["PenaltyApplied"]["legIndex"] == NO_LEG
    assert tx.events["PenaltySettled"]["liable"] == supplier
    assert escrow.credit(supplier) == 990 * UNIT
    assert escrow.credit(buyer) == 10 * UNIT


def test_late_delivery_capped(
    escrow: Any, custody_hook: Any, buyer: Any, supplier: Any, deadline: int, opened: Any
) -> None:
    tx = escrow.onHandoff(ORDER, supplier, buyer, deadline + 1000 * 3600, {"from": custody_hook})
    assert tx.events["PenaltyApplied"]["amount"] == 1000 * PER_HOUR
    settled = plain(tx.events["PenaltySettled"].values())
    assert settled == (ORDER, supplier.address, NO_LEG, 1000 * PER_HOUR, CAP)
    assert escrow.credit(buyer) == CAP


def test_handoff_after_settlement_is_ignored(
    escrow: Any, custody_hook: Any, buyer: Any, supplier: Any, outsider: Any, deadline: int, opened: Any
) -> None:
    escrow.onHandoff(ORDER, supplier, buyer, deadline, {"from": custody_hook})
    tx = escrow.onHandoff(ORDER, buyer, outsider, deadline + 10**6, {"from": custody_hook})
    assert len(tx.events) == 0
    assert escrow.credit(supplier) == AMOUNT


# ---------------------------------------------------------------------- applyPenalty: claims
def test_penalty_without_carrier_claims_from_seller(escrow: Any, verdict_hook: Any, opened: Any) -> None:
    tx = escrow.applyPenalty(ORDER, VERDICT, 1, {"from": verdict_hook})
    assert tx.return_value == PER_EXCURSION
    assert plain(tx.events["PenaltyApplied"].values()) == (ORDER, h32(VERDICT), NO_LEG, 1, PER_EXCURSION)
    assert escrow.order(ORDER)["pendingPenalty"] == PER_EXCURSION


def test_penalty_keeps_the_rest_of_the_first_slot(escrow: Any, verdict_hook: Any, opened: Any) -> None:
    before = plain(escrow.order(ORDER))
    escrow.applyPenalty(ORDER, VERDICT, 3, {"from": verdict_hook})
    after = plain(escrow.order(ORDER))
    assert after[:6] == before[:6] and after[7:] == before[7:]
    assert after[6] == 3 * PER_EXCURSION


def test_penalty_names_active_carrier_leg(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    verdict_hook: Any,
    supplier: Any,
    carrier: Any,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier, 200 * UNIT)
    escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})
    tx = escrow.applyPenalty(ORDER, VERDICT, 3, {"from": verdict_hook})
    assert plain(tx.events["PenaltyApplied"].values()) == (ORDER, h32(VERDICT), 0, 3, 150 * UNIT)
    assert escrow.order(ORDER)["pendingPenalty"] == 150 * UNIT


def test_penalty_claims_accumulate_unclamped(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    verdict_hook: Any,
    supplier: Any,
    carrier: Any,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier, 30 * UNIT)
    escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})
    assert escrow.applyPenalty(ORDER, VERDICT, 1, {"from": verdict_hook}).return_value == PER_EXCURSION
    assert escrow.applyPenalty(ORDER, VERDICT, 1, {"from": verdict_hook}).return_value == PER_EXCURSION
    assert escrow.order(ORDER)["pendingPenalty"] == 2 * PER_EXCURSION


def test_penalty_claim_saturates(
    escrow: Any, procurement_hook: Any, verdict_hook: Any, buyer: Any, supplier: Any, deadline: int
) -> None:
    big = 2**96 - 1
    escrow.openOrder(ORDER, buyer, supplier, AMOUNT, (deadline, 0, big, CAP), {"from": procurement_hook})
    assert escrow.applyPenalty(ORDER, VERDICT, 2, {"from": verdict_hook}).return_value == big
    assert escrow.applyPenalty(ORDER, VERDICT, 1, {"from": verdict_hook}).return_value == big
    assert escrow.order(ORDER)["pendingPenalty"] == big


def test_penalty_severity_zero_claims_nothing(escrow: Any, verdict_hook: Any, opened: Any) -> None:
    tx = escrow.applyPenalty(ORDER, VERDICT, 0, {"from": verdict_hook})
    assert tx.events["PenaltyApplied"]["amount"] == 0
    assert escrow.order(ORDER)["pendingPenalty"] == 0


def test_penalty_requires_verdict_hub(escrow: Any, verdict_hook: Any, outsider: Any, opened: Any) -> None:
    with reverts_with(*caller_error(outsider, verdict_hook)):
        escrow.applyPenalty(ORDER, VERDICT, 1, {"from": outsider})


def test_penalty_unknown_order_reverts(escrow: Any, verdict_hook: Any) -> None:
    with reverts_with("EscrowUnknownOrder", ORDER):
        escrow.applyPenalty(ORDER, VERDICT, 1, {"from": verdict_hook})


def test_penalty_after_settlement_reverts(
    escrow: Any, custody_hook: Any, verdict_hook: Any, buyer: Any, supplier: Any, deadline: int, opened: Any
) -> None:
    escrow.onHandoff(ORDER, supplier, buyer, deadline, {"from": custody_hook})
    with reverts_with("EscrowOrderNotActive", ORDER, SETTLED):
        escrow.applyPenalty(ORDER, VERDICT, 1, {"from": verdict_hook})


def test_penalty_after_cancel_reverts(escrow: Any, verdict_hook: Any, supplier: Any, opened: Any) -> None:
    escrow.cancelOrder(ORDER, {"from": supplier})
    with reverts_with("EscrowOrderNotActive", ORDER, CANCELLED):
        escrow.applyPenalty(ORDER, VERDICT, 1, {"from": verdict_hook})


# ---------------------------------------------------------------------- liability moves: flush
def test_handoff_flushes_seller_claim(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    verdict_hook: Any,
    supplier: Any,
    carrier: Any,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier)
    escrow.applyPenalty(ORDER, VERDICT, 2, {"from": verdict_hook})
    escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})
    order = escrow.order(ORDER)
    assert (order["sellerPenalty"], order["pendingPenalty"], order["claimRecords"]) == (100 * UNIT, 0, 0x80)
    assert escrow.leg(ORDER, 0)["penalty"] == 0


def test_handoff_flushes_carrier_claim_to_its_leg(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    verdict_hook: Any,
    supplier: Any,
    carrier: Any,
    carrier2: Any,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier)
    add_leg(escrow, procurement_hook, carrier2)
    escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})
    escrow.applyPenalty(ORDER, VERDICT, 3, {"from": verdict_hook})
    escrow.onHandoff(ORDER, carrier, carrier2, 2, {"from": custody_hook})
    order = escrow.order(ORDER)
    assert (order["activeLeg"], order["pendingPenalty"], order["sellerPenalty"]) == (1, 0, 0)
    assert order["claimRecords"] == 0b1
    assert escrow.leg(ORDER, 0)["penalty"] == 150 * UNIT
    assert escrow.leg(ORDER, 1)["penalty"] == 0


def test_handoff_back_to_same_leg_adds_to_its_record(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    verdict_hook: Any,
    supplier: Any,
    carrier: Any,
    outsider: Any,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier)
    escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})
    escrow.applyPenalty(ORDER, VERDICT, 1, {"from": verdict_hook})
    escrow.onHandoff(ORDER, carrier, outsider, 2, {"from": custody_hook})  # a warehouse: seller liable
    escrow.onHandoff(ORDER, outsider, carrier, 3, {"from": custody_hook})
    escrow.applyPenalty(ORDER, VERDICT, 1, {"from": verdict_hook})
    escrow.onHandoff(ORDER, carrier, outsider, 4, {"from": custody_hook})
    assert escrow.leg(ORDER, 0)["penalty"] == 2 * PER_EXCURSION
    assert escrow.order(ORDER)["sellerPenalty"] == 0


# ---------------------------------------------------------------------- settlement: clamping
def test_penalty_goes_to_buyer_at_settlement(
    escrow: Any, custody_hook: Any, verdict_hook: Any, buyer: Any, supplier: Any, deadline: int, opened: Any
) -> None:
    escrow.applyPenalty(ORDER, VERDICT, 2, {"from": verdict_hook})
    tx = escrow.onHandoff(ORDER, supplier, buyer, deadline, {"from": custody_hook})
    settled = plain(tx.events["PenaltySettled"].values())
    assert settled == (ORDER, supplier.address, NO_LEG, 100 * UNIT, 100 * UNIT)
    assert escrow.credit(buyer) == 100 * UNIT
    assert escrow.credit(supplier) == AMOUNT - 100 * UNIT


def test_settlement_clamps_carrier_to_its_freight(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    verdict_hook: Any,
    buyer: Any,
    supplier: Any,
    carrier: Any,
    deadline: int,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier, 30 * UNIT)
    escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})
    escrow.applyPenalty(ORDER, VERDICT, 1, {"from": verdict_hook})
    escrow.applyPenalty(ORDER, VERDICT, 1, {"from": verdict_hook})
    tx = escrow.onHandoff(ORDER, carrier, buyer, deadline, {"from": custody_hook})
    assert plain(tx.events["PenaltySettled"].values()) == (ORDER, carrier.address, 0, 100 * UNIT, 30 * UNIT)
    assert escrow.credit(carrier) == 0
    assert escrow.credit(buyer) == 30 * UNIT
    assert escrow.credit(supplier) == AMOUNT - 30 * UNIT
    assert plain(tx.events["OrderSettled"].values()) == (ORDER, deadline, AMOUNT - 30 * UNIT, 0, 30 * UNIT)


def test_settlement_clamps_seller_to_its_share(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    verdict_hook: Any,
    buyer: Any,
    supplier: Any,
    carrier: Any,
    deadline: int,
) -> None:
    escrow.openOrder(
        ORDER, buyer, supplier, AMOUNT, (deadline, 0, 500 * UNIT, AMOUNT), {"from": procurement_hook}
    )
    add_leg(escrow, procurement_hook, carrier, 900 * UNIT)
    escrow.applyPenalty(ORDER, VERDICT, 1, {"from": verdict_hook})  # 500 claimed, share is 100
    tx = escrow.onHandoff(ORDER, supplier, buyer, deadline, {"from": custody_hook})
    settled = plain(tx.events["PenaltySettled"].values())
    assert settled == (ORDER, supplier.address, NO_LEG, 500 * UNIT, 100 * UNIT)
    assert escrow.credit(supplier) == 0
    assert escrow.credit(carrier) == 900 * UNIT
    assert escrow.credit(buyer) == 100 * UNIT


def test_settlement_spends_cap_seller_first_then_legs(
    escrow: Any,
    procurement_hook: Any,
    custody_hook: Any,
    verdict_hook: Any,
    buyer: Any,
    supplier: Any,
    carrier: Any,
    carrier2: Any,
    deadline: int,
    opened: Any,
) -> None:
    add_leg(escrow, procurement_hook, carrier, 200 * UNIT)
    add_leg(escrow, procurement_hook, carrier2, 200 * UNIT)
    escrow.applyPenalty(ORDER, VERDICT, 2, {"from": verdict_hook})  # seller: 100
    escrow.onHandoff(ORDER, supplier, carrier, 1, {"from": custody_hook})
    escrow.applyPenalty(ORDER, VERDICT, 3, {"from": verdict_hook})  # leg 0: 150
    escrow.onHandoff(ORDER, carrier, carrier2, 2, {"from": custody_hook})
    escrow.applyPenalty(ORDER, VERDICT, 2, {"from": verdict_hook})  # leg 1: 100, the cap (300) leaves 50
    tx = escrow.onHandoff(ORDER, carrier2, buyer, deadline, {"from": custody_hook})
    assert [plain(e.values()) for e in tx.events["PenaltySettled"]] == [
        (ORDER, supplier.address, NO_LEG, 100 * UNIT, 100 * UNIT),
        (ORDER, carrier.address, 0, 150 * UNIT, 150 * UNIT),
        (ORDER, carrier2.address, 1, 100 * UNIT, 50 * UNIT),
    ]
    assert escrow.credit(buyer) == CAP
    assert escrow.credit(carrier) == 50 * UNIT
    assert escrow.credit(carrier2) == 150 * UNIT
    assert escrow.credit(supplier) == AMOUNT - 400 * UNIT - 100 * UNIT


def test_settlement_after_cap_charges_nothing_more(
    escrow: Any, custody_hook: Any, verdict_hook: Any, buyer: Any, supplier: Any, deadline: int, opened: Any
) -> None:
    escrow.applyPenalty(ORDER, VERDICT, 5, {"from": verdict_hook})  # 250
    escrow.applyPenalty(ORDER, VERDICT, 5, {"from": verdict_hook})  # 250 more: 500 claimed, cap 300
    tx = escrow.onHandoff(ORDER, supplier, buyer, deadline + 1, {"from": custody_hook})  # lateness: 10 more
    assert plain(tx.events["PenaltySettled"].values()) == (ORDER, supplier.address, NO_LEG, 510 * UNIT, CAP)
    assert escrow.credit(buyer) == CAP
    assert escrow.credit(supplier) == AMOUNT - CAP


def test_settlement_without_claims_emits_no_penalty(
    escrow: Any, custody_hook: Any, buyer: Any, supplier: Any, deadline: int, opened: Any
) -> None:
    tx = escrow.onHandoff(ORDER, supplier, buyer, deadline, {"from": custody_hook})
    assert "PenaltySettled" not in tx.events


# ---------------------------------------------------------------------- cancelOrder
def test_seller_cancel_before_pickup_refunds_buyer(
    escrow: Any, buyer: Any, supplier: Any, opened: Any
) -> None:
    tx = escrow.cancelOrder(ORDER, {"from": supplier})
    assert escrow.credit(buyer) == AMOUNT
    assert escrow.order(ORDER)["status"] == CANCELLED
    assert plain(tx.events["OrderCancelled"].values()) == (ORDER, supplier.address, AMOUNT)
    assert plain(tx.events["Credited"].values()) == (buyer.address, ORDER, AMOUNT)


def test_seller_cancel_after_pickup_reverts(
    escrow: Any, custody_hook: Any, supplier: Any, outsider: Any, opened: Any
) -> None:
    escrow.onHandoff(ORDER, supplier, outsider, 1, {"from": custody_hook})
    with reverts_with("EscrowCancelNotAllowed", ORDER, supplier.address):
        escrow.cancelOrder(ORDER, {"from": supplier})


def test_buyer_cancel_before_deadline_reverts(escrow: Any, buyer: Any, deadline: int, opened: Any) -> None:
    set_next_block_time(deadline)
    with reverts_with("EscrowCancelNotAllowed", ORDER, buyer.address):
        escrow.cancelOrder(ORDER, {"from": buyer})


def test_buyer_cancel_not_picked_up_after_deadline(
    escrow: Any, buyer: Any, deadline: int, opened: Any
) -> None:
    set_next_block_time(deadline + 1)
    tx = escrow.cancelOrder(ORDER, {"from": buyer})
    assert escrow.credit(buyer) == AMOUNT
    assert tx.events["OrderCancelled"]["by"] == buyer


def test_buyer_cancel_picked_up_within_grace_reverts(
    escrow: Any, custody_hook: Any, buyer: Any, supplier: Any, outsider: Any, deadline: int, opened: Any
) -> None:
    escrow.onHandoff(ORDER, supplier, outsider, 1, {"from": custody_hook})
    set_next_block_time(deadline + DELIVERY_GRACE)
    with reverts_with("EscrowCancelNotAllowed", ORDER, buyer.address):
        escrow.cancelOrder(ORDER, {"from": buyer})


def test_buyer_cancel_failed_delivery_after_grace(
    escrow: Any, custody_hook: Any, buyer: Any, supplier: Any, outsider: Any, deadline: int, opened: Any
) -> None:
    escrow.onHandoff(ORDER, supplier, outsider, 1, {"from": custody_hook})
    set_next_block_time(deadline + DELIVERY_GRACE + 1)
    escrow.cancelOrder(ORDER, {"from": buyer})
    assert escrow.credit(buyer) == AMOUNT


def test_outsider_cancel_reverts(escrow: Any, outsider: Any, deadline: int, opened: Any) -> None:
    set_next_block_time(deadline + DELIVERY_GRACE + 1)
    with reverts_with("EscrowCancelNotAllowed", ORDER, outsider.address):
        escrow.cancelOrder(ORDER, {"from": outsider})


def test_cancel_unknown_order_reverts(escrow: Any, supplier: Any) -> None:
    with reverts_with("EscrowUnknownOrder", ORDER):
        escrow.cancelOrder(ORDER, {"from": supplier})


def test_cancel_twice_reverts(escrow: Any, supplier: Any, opened: Any) -> None:
    escrow.cancelOrder(ORDER, {"from": supplier})
    with reverts_with("EscrowOrderNotActive", ORDER, CANCELLED):
        escrow.cancelOrder(ORDER, {"from": supplier})


# ---------------------------------------------------------------------- withdraw
def test_withdraw_pays_credit(escrow: Any, token: Any, buyer: Any, supplier: Any, opened: Any) -> None:
    escrow.cancelOrder(ORDER, {"from": supplier})
    before = token.balanceOf(buyer)
    tx = escrow.withdraw({"from": buyer})
    assert token.balanceOf(buyer) - before == AMOUNT
    assert escrow.credit(buyer) == 0
    assert escrow.outstanding() == 0
    assert token.balanceOf(escrow) == 0
    assert plain(tx.events["Withdrawn"].values()) == (buyer.address, AMOUNT)


def test_withdraw_nothing_reverts(escrow: Any, outsider: Any) -> None:
    with reverts_with("EscrowNothingToWithdraw", outsider.address):
        escrow.withdraw({"from": outsider})


def test_double_withdraw_reverts(escrow: Any, buyer: Any, supplier: Any, opened: Any) -> None:
    escrow.cancelOrder(ORDER, {"from": supplier})
    escrow.withdraw({"from": buyer})
    with reverts_with("EscrowNothingToWithdraw", buyer.address):
        escrow.withdraw({"from": buyer})


# ---------------------------------------------------------------------- views
def test_leg_out_of_range_is_empty(escrow: Any, opened: Any) -> None:
    assert plain(escrow.leg(ORDER, 4)) == (ZERO, 0, 0)
    assert plain(escrow.leg(ORDER, 2**255)) == (ZERO, 0, 0)


def test_unknown_order_view_is_empty(escrow: Any) -> None:
    assert escrow.order(12345)["status"] == 0
