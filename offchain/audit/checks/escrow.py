"""Every Escrow-specific rule, in one place, reading Escrow events by name.

Escrow records penalty *claims* when verdicts arrive and decides the *charges* at settlement; when its events
or penalty arithmetic change, this module is the only one to adapt. Two checks:

* penalties: every PenaltyApplied (a claim) traces to an accepted verdict of the same order (same transaction,
  verdictId, severity and amount, at most severity x penaltyPerExcursion) or to the lateness rule at delivery
  (ceil((deliveredAt - deadline) / 1 h) x penaltyPerHourLate at most), and is recorded against the leg that
  held the goods (LiabilityMoved); the settlement is recomputed from the claims (seller first, then legs by
  index, each charged min(claim, what the cap leaves, its share)) and must match every PenaltySettled and the
  split amount = seller + carriers + buyer refund.
* reconciliation: the token balance of Escrow equals what its events say it holds (funded orders minus
  withdrawals), every withdrawal pays out exactly the credits accumulated since the previous one, and every
  token transfer in or out of Escrow is explained by an Escrow event of the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from eth_utils.address import to_checksum_address

from offchain.audit.events import ChainEvent
from offchain.audit.findings import CheckResult
from offchain.audit.history import History, OrderHistory

NO_LEG = 255
LATENESS = b"lateness".ljust(32, b"\0")
HOUR = 3600


def _ceil_hours(seconds: int) -> int:
    return -(-seconds // HOUR)


def check_penalties(history: History) -> CheckResult:
    result = CheckResult("penalties", "Penalties trace to a verdict or to the delivery time; settlement splits")
    for order in history.orders.values():
        opened = order.of("OrderOpened")
        if not opened:
            continue
        _check_order(order, opened[0], result)
    return result


def _clamp(claim: int, cap: int, charged_so_far: int, share: int) -> int:
    """SlaMath.clamp: a claim is charged at most what the cap leaves and at most the party's share."""
    return min(claim, max(cap - charged_so_far, 0), share)


def _check_order(order: OrderHistory, opened: ChainEvent, result: CheckResult) -> None:
    failures_before = len(result.failures)
    terms = opened.args
    legs = {
        int(e.args["legIndex"]): (to_checksum_address(e.args["carrier"]), int(e.args["freight"]))
        for e in order.of("LegAdded")
    }
    verdicts = {bytes(e.args["verdictId"]): e for e in order.of("VerdictAccepted")}
    settled = order.of("OrderSettled")
    claims: dict[int, int] = defaultdict(int)
    traced: set[bytes] = set()
    active = NO_LEG
    # Liability follows custody: a claim belongs to the leg that held the goods when it was made.
    for event in sorted(order.of("LiabilityMoved") + order.of("PenaltyApplied"), key=lambda e: e.position):
        if event.name == "LiabilityMoved":
            active = int(event.args["activeLeg"])
            continue
        result.checked += 1
        a = event.args
        vid, amount, leg = bytes(a["verdictId"]), int(a["amount"]), int(a["legIndex"])
        where = f"order {order.order_id} penalty claim {amount} ({event.where})"
        if vid == LATENESS:
            delivery = next((s for s in settled if s.tx_hash == event.tx_hash), None)
            if delivery is None:
                result.fail("lateness claim outside the delivery transaction", where)
            else:
                late = max(0, int(delivery.args["deliveredAt"]) - int(terms["deliveryDeadline"]))
                allowed = _ceil_hours(late) * int(terms["penaltyPerHourLate"])
                if amount > allowed:
                    result.fail(f"lateness claim {amount} exceeds {allowed} for {late} s late", where)
        elif vid not in verdicts:
            # Still counted below: the claim was recorded, whatever its justification.
            result.fail(f"claim names verdict 0x{vid.hex()}, which no accepted verdict of this order is", where)
        else:
            _check_verdict_penalty(event, verdicts[vid], int(terms["penaltyPerExcursion"]), where, result)
            traced.add(vid)
        if leg != active:
            holder = "the seller" if active == NO_LEG else f"leg {active}"
            result.fail(f"claim recorded against leg {leg}, but {holder} held the goods", where)
        claims[leg] += amount
    for vid, verdict in verdicts.items():
        if int(verdict.args["penalty"]) > 0 and vid not in traced:
            result.fail(f"verdict 0x{vid.hex()} reports a penalty that Escrow never recorded", verdict.where)
    _check_settlement(order, opened, legs, claims, result)
    if len(result.failures) == failures_before:
        state = "settled" if settled else ("cancelled" if order.of("OrderCancelled") else "open")
        result.ok(
            f"{len(order.of('PenaltyApplied'))} claims totalling {sum(claims.values())} "
            f"(cap {terms['penaltyCap']}), {state}",
            f"order {order.order_id}",
        )


def _check_verdict_penalty(
    penalty: ChainEvent, verdict: ChainEvent, per_excursion: int, where: str, result: CheckResult
) -> None:
    a, v = penalty.args, verdict.args
    amount, vid = int(a["amount"]), bytes(a["verdictId"])
    if verdict.tx_hash != penalty.tx_hash or int(v["penalty"]) != amount:
        result.fail(f"verdict 0x{vid.hex()} reports penalty {v['penalty']}, Escrow recorded {amount}", where)
    if int(a["severity"]) != int(v["severity"]):
        result.fail(f"severity {a['severity']} differs from the verdict's {v['severity']}", where)
    limit = int(v["severity"]) * per_excursion
    if amount > limit:
        result.fail(f"claim {amount} exceeds severity x penaltyPerExcursion = {limit}", where)


def _check_settlement(
    order: OrderHistory,
    opened: ChainEvent,
    legs: dict[int, tuple[str, int]],
    claims: dict[int, int],
    result: CheckResult,
) -> None:
    """Recompute the settlement from the claims: the seller's claim first, then the legs by index, each charged
    min(claim, what the cap leaves, its share); the charges are refunded to the buyer."""
    amount, cap = int(opened.args["amount"]), int(opened.args["penaltyCap"])
    seller = to_checksum_address(opened.args["seller"])
    for settled in order.of("OrderSettled"):
        s = settled.args
        where = f"order {order.order_id} settlement ({settled.where})"
        recorded = {int(e.args["legIndex"]): e for e in order.of("PenaltySettled") if e.tx_hash == settled.tx_hash}
        parties = [(NO_LEG, seller, amount - sum(f for _, f in legs.values()))]
        parties += [(index, carrier, freight) for index, (carrier, freight) in sorted(legs.items())]
        charged_total, carriers_payout, seller_payout = 0, 0, 0
        for index, party, share in parties:
            claim = claims.get(index, 0)
            charge = _clamp(claim, cap, charged_total, share)
            charged_total += charge
            if index == NO_LEG:
                seller_payout = share - charge
            else:
                carriers_payout += share - charge
            event = recorded.pop(index, None)
            if claim == 0:
                if event is not None:
                    result.fail(f"settlement charged {party} although it has no claim", where)
                continue
            if event is None:
                result.fail(f"claim of {claim} against {party} was never settled", where)
                continue
            got = (to_checksum_address(event.args["liable"]), int(event.args["claimed"]), int(event.args["charged"]))
            if got != (party, claim, charge):
                result.fail(
                    f"settled {got[0]} claimed {got[1]} charged {got[2]}; the claims give {party} claimed {claim} "
                    f"charged {charge}",
                    where,
                )
        for index in recorded:
            result.fail(f"settlement names leg {index}, which the order does not have", where)
        expected = (seller_payout, carriers_payout, charged_total)
        got_split = (int(s["sellerPayout"]), int(s["carriersPayout"]), int(s["buyerRefund"]))
        if got_split != expected:
            result.fail(f"seller/carriers/refund {got_split} differ from the recomputed {expected}", where)
        if sum(got_split) != amount:
            result.fail(f"seller + carriers + refund differ from the funded amount {amount}", where)
        credited = sum(int(e.args["amount"]) for e in order.of("Credited") if e.tx_hash == settled.tx_hash)
        if credited != amount:
            result.fail(f"credits of the settlement sum to {credited}, not the funded amount {amount}", where)
    for cancelled in order.of("OrderCancelled"):
        if int(cancelled.args["refund"]) != amount:
            result.fail(f"cancellation refund {cancelled.args['refund']} is not the amount {amount}", cancelled.where)


def check_reconciliation(
    history: History, escrow_address: str, token_address: str, balance_of: Callable[[str], int]
) -> CheckResult:
    """`balance_of(account)` reads the token balance at the audited block."""
    result = CheckResult("escrow", "Escrow accounting reconciles to token balances")
    escrow = to_checksum_address(escrow_address)
    funded = sum(int(e.args["amount"]) for e in history.named("Escrow", "OrderOpened"))
    withdrawn = sum(int(e.args["amount"]) for e in history.named("Escrow", "Withdrawn"))
    expected, actual = funded - withdrawn, balance_of(escrow)
    where = f"Escrow {escrow}, token {token_address}, block {history.to_block}"
    result.checked = len(history.token_transfers)
    if actual != expected:
        result.fail(
            f"token balance {actual} differs from the {expected} Escrow's events account for "
            f"(funded {funded} - withdrawn {withdrawn}): difference {actual - expected:+d}",
            where,
        )
    else:
        result.ok(f"balance {actual} = funded {funded} - withdrawn {withdrawn}", where)
    _check_withdrawals(history, result)
    _check_transfers(history, escrow, result)
    return result


def _check_withdrawals(history: History, result: CheckResult) -> None:
    pending: dict[str, int] = defaultdict(int)
    for event in history.events:
        if event.contract != "Escrow":
            continue
        if event.name == "Credited":
            pending[to_checksum_address(event.args["account"])] += int(event.args["amount"])
        elif event.name == "Withdrawn":
            account = to_checksum_address(event.args["account"])
            if int(event.args["amount"]) != pending[account]:
                result.fail(
                    f"{account} withdrew {event.args['amount']}, but was credited {pending[account]} since "
                    "its previous withdrawal",
                    event.where,
                )
            pending[account] = 0


def _check_transfers(history: History, escrow: str, result: CheckResult) -> None:
    by_tx: dict[str, list[ChainEvent]] = defaultdict(list)
    for event in history.events:
        if event.contract == "Escrow":
            by_tx[event.tx_hash].append(event)
    for transfer in history.token_transfers:
        source, to = to_checksum_address(transfer.args["from"]), to_checksum_address(transfer.args["to"])
        value = int(transfer.args["value"])
        same_tx = by_tx.get(transfer.tx_hash, [])
        if to == escrow:
            explained = any(
                e.name == "OrderOpened"
                and int(e.args["amount"]) == value
                and to_checksum_address(e.args["buyer"]) == source
                for e in same_tx
            )
            what = f"token transfer of {value} into Escrow from {source}"
        else:
            explained = any(
                e.name == "Withdrawn"
                and int(e.args["amount"]) == value
                and to_checksum_address(e.args["account"]) == to
                for e in same_tx
            )
            what = f"token transfer of {value} out of Escrow to {to}"
        if not explained:
            result.fail(f"{what} is explained by no Escrow event of its transaction", transfer.where)
