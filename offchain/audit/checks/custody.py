"""Custody continuity, from CustodyTwin events and the senders of their transactions.

Replays each twin: it starts with a mint, a split or a merge; every offer comes from the holder of the moment
(event and transaction sender), every acceptance answers the pending offer and is sent by the receiver it
names; cancellations only withdraw the pending offer; a delivery is the consignee taking custody; retired twins
do nothing more; splits and merges conserve quantity.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from offchain.audit.events import ChainEvent
from offchain.audit.findings import CheckResult
from offchain.audit.history import History

TxSender = Callable[[str], str]
IsContract = Callable[[str], bool]


@dataclass(frozen=True)
class _Chain:
    sender_of: TxSender
    is_contract: IsContract

    def sent_by(self, event: ChainEvent, party: str, role: str, act: str, result: CheckResult) -> None:
        """The transaction behind `event` must come from `party` (a contract account, e.g. a multisig, acts
        through transactions sent by others: that is reported as a NOTE, not a failure)."""
        sender = self.sender_of(event.tx_hash)
        if sender == party:
            return
        if self.is_contract(party):
            result.note(f"{act}: the {role} {party} is a contract; its transaction was sent by {sender}", event.where)
        else:
            result.fail(f"{act} sent by {sender}, not by the {role} {party}", event.where)


@dataclass
class _Twin:
    holder: str
    quantity: int
    consignee: str | None
    offer_to: str | None = None
    retired: bool = False
    delivered: bool = False
    holders: list[str] | None = None  # custody chain, first holder first

    def __post_init__(self) -> None:
        self.holders = [self.holder]


def check(history: History, sender_of: TxSender, is_contract: IsContract) -> CheckResult:
    result = CheckResult("custody", "Custody chain continuity (handoffs, splits, merges)")
    twins: dict[int, _Twin] = {}
    chain = _Chain(sender_of, is_contract)
    for event in history.events:  # chain order
        if event.contract == "CustodyTwin":
            _apply(event, twins, result, chain)
    if result.checked == 0:
        result.note("no handoff, split or merge on chain", "CustodyTwin")
    failed = {int(n) for f in result.failures for n in re.findall(r"\btwin (\d+)\b", f.what)}
    for twin_id, twin in sorted(twins.items()):
        holders = " -> ".join(twin.holders or [])
        state = "retired" if twin.retired else ("delivered" if twin.delivered else f"held by {twin.holder}")
        if twin_id not in failed and len(twin.holders or []) > 1:
            result.ok(f"{len(twin.holders or []) - 1} handoffs, {state}: {holders}", f"twin {twin_id}")
    return result


def _addr(value: str) -> str:
    return to_checksum_address(value)


def _apply(event: ChainEvent, twins: dict[int, _Twin], result: CheckResult, chain: _Chain) -> None:
    args, name, where = event.args, event.name, event.where
    if name == "TwinMinted":
        twin_id = int(args["twinId"])
        if twin_id in twins:
            result.fail(f"twin {twin_id} minted twice", where)
        twins[twin_id] = _Twin(_addr(args["holder"]), int(args["quantity"]), _addr(args["consignee"]))
        return
    if name == "TwinSplit":
        _split(event, twins, result)
        return
    if name == "TwinsMerged":
        _merge(event, twins, result)
        return
    if "twinId" not in args or name == "HoldSet":
        return
    twin_id = int(args["twinId"])
    twin = twins.get(twin_id)
    if twin is None:
        result.fail(f"{name} for twin {twin_id}, which was never minted, split off or merged", where)
        return
    if twin.retired:
        result.fail(f"{name} for twin {twin_id} after it was retired", where)
        return
    if name == "HandoffOffered":
        result.checked += 1
        holder, to = _addr(args["from"]), _addr(args["to"])
        if holder != twin.holder:
            result.fail(f"twin {twin_id} offered by {holder}, but {twin.holder} held it", where)
        if twin.offer_to is not None:
            result.fail(f"twin {twin_id} offered to {to} while an offer to {twin.offer_to} was pending", where)
        chain.sent_by(event, twin.holder, "holder", f"offer of twin {twin_id}", result)
        twin.offer_to = to
    elif name == "HandoffCancelled":
        if twin.offer_to is None or _addr(args["to"]) != twin.offer_to:
            result.fail(f"twin {twin_id}: cancelled an offer to {args['to']} that was not pending", where)
        twin.offer_to = None
    elif name == "HandoffAccepted":
        previous, to = _addr(args["from"]), _addr(args["to"])
        if twin.offer_to is None:
            result.fail(f"twin {twin_id} accepted by {to} without a pending offer", where)
        elif to != twin.offer_to:
            result.fail(f"twin {twin_id} accepted by {to}, but the offer named {twin.offer_to}", where)
        if previous != twin.holder:
            result.fail(f"twin {twin_id} taken from {previous}, but {twin.holder} held it", where)
        chain.sent_by(event, to, "receiver", f"acceptance of twin {twin_id}", result)
        twin.holder, twin.offer_to = to, None
        (twin.holders or []).append(to)
    elif name == "TwinDelivered":
        twin.delivered = True
        consignee = _addr(args["consignee"])
        if consignee != twin.consignee or twin.holder != consignee:
            result.fail(
                f"twin {twin_id} marked delivered to {consignee}; consignee {twin.consignee}, holder {twin.holder}",
                where,
            )


def _split(event: ChainEvent, twins: dict[int, _Twin], result: CheckResult) -> None:
    args, where = event.args, event.where
    result.checked += 1
    parent_id, holder = int(args["parentId"]), _addr(args["holder"])
    parent = twins.get(parent_id)
    children, quantities = [int(c) for c in args["childIds"]], [int(q) for q in args["quantities"]]
    if parent is None or parent.retired:
        result.fail(f"split of twin {parent_id}, which is unknown or retired", where)
    else:
        if parent.holder != holder:
            result.fail(f"twin {parent_id} split by {holder}, but {parent.holder} held it", where)
        if sum(quantities) != parent.quantity:
            result.fail(
                f"split of twin {parent_id} does not conserve quantity: {parent.quantity} -> {sum(quantities)}", where
            )
        parent.retired = True
    for child, quantity in zip(children, quantities, strict=True):
        twins[child] = _Twin(holder, quantity, None)


def _merge(event: ChainEvent, twins: dict[int, _Twin], result: CheckResult) -> None:
    args, where = event.args, event.where
    result.checked += 1
    child_id, holder, quantity = int(args["childId"]), _addr(args["holder"]), int(args["quantity"])
    total = 0
    for parent_id in map(int, args["parentIds"]):
        parent = twins.get(parent_id)
        if parent is None or parent.retired:
            result.fail(f"merge into twin {child_id} used twin {parent_id}, which is unknown or retired", where)
            continue
        if parent.holder != holder:
            result.fail(f"twin {parent_id} merged by {holder}, but {parent.holder} held it", where)
        total += parent.quantity
        parent.retired = True
    if total != quantity:
        result.fail(f"merge into twin {child_id} does not conserve quantity: parents {total}, child {quantity}", where)
    twins[child_id] = _Twin(holder, quantity, None)
