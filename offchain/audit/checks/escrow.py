"""Every Escrow-specific rule, in one place, reading Escrow events by name.

Escrow is being reshaped for gas (penalties claimed per verdict, clamped at settlement): when its events or
penalty arithmetic change, this module is the only one to adapt. Two checks:

* penalties: every PenaltyApplied traces to an accepted verdict of the same order (same transaction, same
  verdictId, severity and amount, at most severity x penaltyPerExcursion) or to the lateness rule at delivery
  (ceil((deliveredAt - deadline) / 1 h) x penaltyPerHourLate at most); it charges the liable party (the leg's
  carrier, or the seller for NO_LEG); an order's penalties stay within its cap; settlement splits the amount
  as amount = seller + carriers + buyer refund, the refund being the sum of penalties.
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


def _check_order(order: OrderHistory, opened: ChainEvent, result: CheckResult) -> None:
    failures_before = len(result.failures)
    terms = opened.args
    seller = to_checksum_address(terms["seller"])
    carriers = {int(e.args["legIndex"]): to_checksum_address(e.args["carrier"]) for e in order.of("LegAdded")}
    freight = {int(e.args["legIndex"]): int(e.args["freight"]) for e in order.of("LegAdded")}
    verdicts = {bytes(e.args["verdictId"]): e for e in order.of("VerdictAccepted")}
    settled = order.of("OrderSettled")
    total, by_leg = 0, defaultdict[int, int](int)
    charged: set[bytes] = set()
    for penalty in order.of("PenaltyApplied"):
        result.checked += 1
        a = penalty.args
        vid, amount, leg = bytes(a["verdictId"]), int(a["amount"]), int(a["legIndex"])
        where = f"order {order.order_id} penalty {amount} ({penalty.where})"
        if vid == LATENESS:
            delivery = next((s for s in settled if s.tx_hash == penalty.tx_hash), None)
            if delivery is None:
                result.fail("lateness penalty outside the delivery transaction", where)
            else:
                late = max(0, int(delivery.args["deliveredAt"]) - int(terms["deliveryDeadline"]))
                allowed = _ceil_hours(late) * int(terms["penaltyPerHourLate"])
                if amount > allowed:
                    result.fail(f"lateness penalty {amount} exceeds {allowed} for {late} s late", where)
        elif vid not in verdicts:
            # Still counted below: the money was charged, whatever its justification.
            result.fail(f"penalty names verdict 0x{vid.hex()}, which no accepted verdict of this order is", where)
        else:
            _check_verdict_penalty(penalty, verdicts[vid], int(terms["penaltyPerExcursion"]), where, result)
            charged.add(vid)
        liable = to_checksum_address(a["liable"])
        expected = seller if leg == NO_LEG else carriers.get(leg)
        if liable != expected:
            result.fail(f"charged {liable}; the liable party of leg {leg} is {expected}", where)
        total += amount
        by_leg[leg] += amount
    for vid, verdict in verdicts.items():
        if int(verdict.args["penalty"]) > 0 and vid not in charged:
            result.fail(f"verdict 0x{vid.hex()} reports a penalty that Escrow never applied", verdict.where)
    if total > int(terms["penaltyCap"]):
        result.fail(f"penalties {total} exceed the cap {terms['penaltyCap']}", f"order {order.order_id}")
    for leg, amount in by_leg.items():
        if leg != NO_LEG and amount > freight.get(leg, 0):
            result.fail(
                f"leg {leg} charged {amount}, more than its freight {freight.get(leg, 0)}", f"order {order.order_id}"
            )
    _check_split(order, opened, total, by_leg, freight, result)
    if len(result.failures) == failures_before:
        state = "settled" if settled else ("cancelled" if order.of("OrderCancelled") else "open")
        result.ok(
            f"{len(order.of('PenaltyApplied'))} penalties totalling {total} (cap {terms['penaltyCap']}), {state}",
            f"order {order.order_id}",
        )


def _check_verdict_penalty(
    penalty: ChainEvent, verdict: ChainEvent, per_excursion: int, where: str, result: CheckResult
) -> None:
    a, v = penalty.args, verdict.args
    amount, vid = int(a["amount"]), bytes(a["verdictId"])
    if verdict.tx_hash != penalty.tx_hash or int(v["penalty"]) != amount:
        result.fail(f"verdict 0x{vid.hex()} reports penalty {v['penalty']}, Escrow charged {amount}", where)
    if int(a["severity"]) != int(v["severity"]):
        result.fail(f"severity {a['severity']} differs from the verdict's {v['severity']}", where)
    limit = int(v["severity"]) * per_excursion
    if amount > limit:
        result.fail(f"penalty {amount} exceeds severity x penaltyPerExcursion = {limit}", where)


def _check_split(
    order: OrderHistory,
    opened: ChainEvent,
    total: int,
    by_leg: dict[int, int],
    freight: dict[int, int],
    result: CheckResult,
) -> None:
    amount = int(opened.args["amount"])
    for settled in order.of("OrderSettled"):
        s = settled.args
        where = f"order {order.order_id} settlement ({settled.where})"
        carriers = sum(f - by_leg.get(leg, 0) for leg, f in freight.items())
        if int(s["buyerRefund"]) != total:
            result.fail(f"buyer refund {s['buyerRefund']} differs from the penalties charged {total}", where)
        if int(s["carriersPayout"]) != carriers:
            result.fail(f"carriers payout {s['carriersPayout']} differs from freight minus penalties {carriers}", where)
        if int(s["sellerPayout"]) + int(s["carriersPayout"]) + int(s["buyerRefund"]) != amount:
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
