from __future__ import annotations

from offchain.audit.checks import escrow
from offchain.audit.events import ChainEvent
from offchain.audit.findings import Status
from tests.offchain.audit.factories import BUYER, CARRIER, ESCROW, SELLER, STRANGER, event, history

VERDICT = b"\x01" * 32
AMOUNT, FREIGHT, PER_EXCURSION, PER_HOUR, CAP, DEADLINE = 1_000, 100, 30, 10, 500, 10_000


def _opened(tx: str = "0xopen") -> ChainEvent:
    return event(
        "Escrow",
        "OrderOpened",
        tx=tx,
        orderId=1,
        buyer=BUYER,
        seller=SELLER,
        amount=AMOUNT,
        deliveryDeadline=DEADLINE,
        penaltyPerHourLate=PER_HOUR,
        penaltyPerExcursion=PER_EXCURSION,
        penaltyCap=CAP,
    )


def _leg() -> ChainEvent:
    return event("Escrow", "LegAdded", orderId=1, legIndex=0, carrier=CARRIER, freight=FREIGHT)


def _verdict(penalty: int, severity: int = 2, tx: str = "0xverdict") -> ChainEvent:
    return event(
        "VerdictHub",
        "VerdictAccepted",
        tx=tx,
        verdictId=VERDICT,
        orderId=1,
        twinId=1,
        kind=1,
        severity=severity,
        action=1,
        windowStart=1,
        windowEnd=2,
        evidenceHash=b"\0" * 32,
        epoch=1,
        signersBitmap=7,
        penalty=penalty,
    )


def _pickup() -> ChainEvent:
    """Custody (and liability) moves from the seller to leg 0's carrier."""
    return event("Escrow", "LiabilityMoved", orderId=1, to=CARRIER, handedAt=5, activeLeg=0, **{"from": SELLER})


def _penalty(
    amount: int, verdict_id: bytes = VERDICT, severity: int = 2, tx: str = "0xverdict", leg: int = 0
) -> ChainEvent:
    return event(
        "Escrow",
        "PenaltyApplied",
        tx=tx,
        orderId=1,
        verdictId=verdict_id,
        legIndex=leg,
        severity=severity,
        amount=amount,
    )


def _settlement(
    claimed: int, tx: str = "0xsettle", delivered_at: int = DEADLINE, charged: int | None = None
) -> list[ChainEvent]:
    charged = claimed if charged is None else charged
    carriers = FREIGHT - charged
    seller = AMOUNT - carriers - charged
    settled = [
        event(
            "Escrow", "PenaltySettled", tx=tx, orderId=1, liable=CARRIER, legIndex=0, claimed=claimed, charged=charged
        )
    ]
    return [
        *(settled if claimed else []),
        event("Escrow", "Credited", tx=tx, account=CARRIER, orderId=1, amount=carriers),
        event("Escrow", "Credited", tx=tx, account=SELLER, orderId=1, amount=seller),
        event("Escrow", "Credited", tx=tx, account=BUYER, orderId=1, amount=charged),
        event(
            "Escrow",
            "OrderSettled",
            tx=tx,
            orderId=1,
            deliveredAt=delivered_at,
            sellerPayout=seller,
            carriersPayout=carriers,
            buyerRefund=charged,
        ),
    ]


def test_a_verdict_penalty_and_its_settlement_pass() -> None:
    h = history(_opened(), _leg(), _pickup(), _verdict(60), _penalty(60), *_settlement(60))
    result = escrow.check_penalties(h)
    assert result.status is Status.PASS
    assert any("1 claims totalling 60" in f.what for f in result.findings)


def test_a_penalty_without_a_verdict_fails() -> None:
    h = history(_opened(), _leg(), _pickup(), _penalty(60), *_settlement(60))
    (failure,) = escrow.check_penalties(h).failures
    assert "no accepted verdict of this order" in failure.what


def test_a_penalty_above_severity_times_rate_fails() -> None:
    h = history(_opened(), _leg(), _pickup(), _verdict(90), _penalty(90), *_settlement(90))
    (failure,) = escrow.check_penalties(h).failures
    assert "exceeds severity x penaltyPerExcursion = 60" in failure.what


def test_a_claim_against_a_party_that_did_not_hold_the_goods_fails() -> None:
    h = history(_opened(), _leg(), _verdict(60), _penalty(60), *_settlement(60))  # no pickup: the seller held it
    failures = escrow.check_penalties(h).failures
    assert any("recorded against leg 0, but the seller held the goods" in f.what for f in failures)


def test_a_lateness_penalty_above_the_started_hours_fails() -> None:
    late_by = 3_601  # two started hours: at most 20
    h = history(
        _opened(),
        _leg(),
        _pickup(),
        _penalty(21, escrow.LATENESS, severity=0, tx="0xsettle"),
        *_settlement(21, delivered_at=DEADLINE + late_by),
    )
    (failure,) = escrow.check_penalties(h).failures
    assert "lateness claim 21 exceeds 20" in failure.what


def test_a_verdict_penalty_escrow_never_recorded_fails() -> None:
    h = history(_opened(), _leg(), _pickup(), _verdict(60), *_settlement(0))
    (failure,) = escrow.check_penalties(h).failures
    assert "never recorded" in failure.what


def test_a_claim_over_the_carriers_freight_is_charged_only_the_freight() -> None:
    claim = FREIGHT + 20  # severity 4 at 30 each = 120 claimed, freight 100
    h = history(
        _opened(),
        _leg(),
        _pickup(),
        _verdict(claim, severity=4),
        _penalty(claim, severity=4),
        *_settlement(claim, charged=FREIGHT),
    )
    assert escrow.check_penalties(h).status is Status.PASS


def test_a_settlement_that_charges_more_than_the_rules_allow_fails() -> None:
    claim = FREIGHT + 20
    h = history(
        _opened(),
        _leg(),
        _pickup(),
        _verdict(claim, severity=4),
        _penalty(claim, severity=4),
        *_settlement(claim, charged=claim),
    )
    failures = escrow.check_penalties(h).failures
    assert any("claims give" in f.what and "charged 100" in f.what for f in failures)


def test_a_settlement_that_does_not_refund_the_penalties_fails() -> None:
    settlement = _settlement(60)
    settlement[-1] = event(
        "Escrow",
        "OrderSettled",
        tx="0xsettle",
        orderId=1,
        deliveredAt=DEADLINE,
        sellerPayout=AMOUNT - 40,
        carriersPayout=40,
        buyerRefund=0,
    )
    h = history(_opened(), _leg(), _pickup(), _verdict(60), _penalty(60), *settlement)
    failures = escrow.check_penalties(h).failures
    assert any("differ from the recomputed (900, 40, 60)" in f.what for f in failures)


def _transfer(frm: str, to: str, value: int, tx: str) -> ChainEvent:
    return event("token", "Transfer", tx=tx, to=to, value=value, **{"from": frm})


def test_reconciliation_passes_when_balance_and_transfers_match_the_events() -> None:
    h = history(_opened(), transfers=(_transfer(BUYER, ESCROW, AMOUNT, "0xopen"),))
    result = escrow.check_reconciliation(h, ESCROW, "0x" + "66" * 20, lambda _: AMOUNT)
    assert result.status is Status.PASS


def test_reconciliation_names_the_difference_and_the_unexplained_transfer() -> None:
    theft = _transfer(ESCROW, STRANGER, 7, "0xtheft")
    h = history(_opened(), transfers=(_transfer(BUYER, ESCROW, AMOUNT, "0xopen"), theft))
    failures = escrow.check_reconciliation(h, ESCROW, "0x" + "66" * 20, lambda _: AMOUNT - 7).failures
    assert "difference -7" in failures[0].what
    assert "out of Escrow to" in failures[1].what and failures[1].where == theft.where


def test_a_withdrawal_larger_than_the_credits_fails() -> None:
    h = history(
        _opened(),
        event("Escrow", "Credited", account=SELLER, orderId=1, amount=10),
        event("Escrow", "Withdrawn", tx="0xw", account=SELLER, amount=11),
        transfers=(_transfer(BUYER, ESCROW, AMOUNT, "0xopen"), _transfer(ESCROW, SELLER, 11, "0xw")),
    )
    (failure,) = escrow.check_reconciliation(h, ESCROW, "0x" + "66" * 20, lambda _: AMOUNT - 11).failures
    assert "withdrew 11, but was credited 10" in failure.what
