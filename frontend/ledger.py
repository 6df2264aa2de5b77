"""Views of the chain's history for the pages: calls for proposals and their bids, custody chains, escrow
orders with their penalties, registered participants. Built from events (offchain.audit.history) plus the few
contract reads that events do not carry (credits, read by the pages)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from frontend.places import label
from offchain.audit.events import ChainEvent
from offchain.audit.history import History, struct_field
from offchain.manifest import sla_terms

ROLES = {1: "supplier", 2: "wholesaler", 4: "retailer", 8: "logistics", 16: "carrier"}
VERDICT_KIND = {1: "temperature", 2: "humidity", 3: "shock", 4: "route deviation", 5: "delay"}
VERDICT_ACTION = {1: "penalty", 2: "hold", 3: "reroute"}
NO_LEG = 255


def role_names(bitmask: int) -> list[str]:
    return [name for bit, name in ROLES.items() if bitmask & bit]


@dataclass
class BidRow:
    bidder: str
    committed_block: int
    revealed: bool = False
    unit_price: int | None = None
    eta: int | None = None
    best: bool = False


@dataclass
class CfpRow:
    cfp_id: int
    order_id: int
    kind: str
    buyer: str
    status: str
    quantity: int
    max_unit_price: int
    origin: str
    destination: str
    commit_deadline: int
    reveal_deadline: int
    award_deadline: int
    sla: dict[str, int]
    bids: list[BidRow] = field(default_factory=list)
    winner: str | None = None
    award_total: int | None = None


def _params(event: ChainEvent) -> Any:
    return event.args["params"]




def cfps(history: History) -> list[CfpRow]:
    """Every call for proposals with its bids; the status follows from the award/cancel/expire events."""
    rows: dict[int, CfpRow] = {}
    for event in history.named("Procurement", "CfpOpened"):
        params = _params(event)
        cfp_id = int(event.args["cfpId"])
        kind = int(struct_field(params, "kind", 0))
        rows[cfp_id] = CfpRow(
            cfp_id=cfp_id,
            order_id=cfp_id if kind == 0 else int(event.args["parentOrderId"]),
            kind="goods" if kind == 0 else "delivery",
            buyer=str(event.args["buyer"]),
            status="open",
            quantity=int(struct_field(params, "quantity", 3)),
            max_unit_price=int(struct_field(params, "maxUnitPrice", 4)),
            origin=label(bytes(struct_field(params, "origin", 7))),
            destination=label(bytes(struct_field(params, "destination", 8))),
            commit_deadline=int(struct_field(params, "commitDeadline", 10)),
            reveal_deadline=int(struct_field(params, "revealDeadline", 11)),
            award_deadline=int(struct_field(params, "awardDeadline", 12)),
            sla=sla_terms(struct_field(params, "sla", 13)),
        )
    for event in history.named("Procurement", "BidCommitted"):
        row = rows.get(int(event.args["cfpId"]))
        if row is not None:
            row.bids.append(BidRow(str(event.args["bidder"]), event.block_number))
    for event in history.named("Procurement", "BidRevealed"):
        row = rows.get(int(event.args["cfpId"]))
        if row is None:
            continue
        bid = next((b for b in row.bids if b.bidder == event.args["bidder"]), None)
        if bid is not None:
            bid.revealed, bid.unit_price, bid.eta = True, int(event.args["unitPrice"]), int(event.args["etaTimestamp"])
            if event.args["best"]:
                for other in row.bids:
                    other.best = other is bid
    for event in history.named("Procurement", "CfpAwarded"):
        row = rows.get(int(event.args["cfpId"]))
        if row is not None:
            row.status = "awarded"
            row.winner, row.award_total = str(event.args["winner"]), int(event.args["total"])
    for name, status in (("CfpCancelled", "cancelled"), ("CfpExpired", "expired")):
        for event in history.named("Procurement", name):
            if (row := rows.get(int(event.args["cfpId"]))) is not None:
                row.status = status
    return [rows[k] for k in sorted(rows)]


@dataclass(frozen=True)
class CustodyRow:
    twin_id: int
    step: str
    timestamp: int
    holder_before: str
    holder_after: str
    place: str
    tx_hash: str


def custody_chain(history: History, twin_id: int) -> list[CustodyRow]:
    """Who held the twin, when and where: mint, then each accepted handoff (offers and cancellations are
    intentions, listed too so a stuck handoff is visible)."""
    rows: list[CustodyRow] = []
    twin = history.twins.get(twin_id)
    for event in twin.events if twin else []:
        a = event.args
        if event.name == "TwinMinted":
            rows.append(CustodyRow(twin_id, "minted", int(a["timestamp"]), "", str(a["holder"]), "", event.tx_hash))
        elif event.name in ("HandoffOffered", "HandoffAccepted"):
            step = "offered" if event.name == "HandoffOffered" else "accepted"
            rows.append(
                CustodyRow(
                    twin_id,
                    step,
                    int(a["timestamp"]),
                    str(a["from"]),
                    str(a["to"]),
                    label(bytes(a["location"])),
                    event.tx_hash,
                )
            )
        elif event.name == "HandoffCancelled":
            rows.append(
                CustodyRow(
                    twin_id, "offer cancelled", int(a["timestamp"]), str(a["from"]), str(a["to"]), "", event.tx_hash
                )
            )
        elif event.name == "TwinDelivered":
            rows.append(
                CustodyRow(twin_id, "delivered", int(a["timestamp"]), "", str(a["consignee"]), "", event.tx_hash)
            )
        elif event.name == "HoldSet":
            step = "hold set" if a["held"] else "hold released"
            rows.append(CustodyRow(twin_id, step, int(a["timestamp"]), str(a["by"]), "", "", event.tx_hash))
    return rows


@dataclass(frozen=True)
class VerdictRow:
    verdict_id: str
    order_id: int
    twin_id: int
    kind: str
    severity: int
    action: str
    window_start: int
    window_end: int
    evidence_hash: bytes
    penalty: int
    tx_hash: str


def verdicts(history: History, order_id: int | None = None) -> list[VerdictRow]:
    rows = []
    for event in history.named("VerdictHub", "VerdictAccepted"):
        a = event.args
        if order_id is not None and int(a["orderId"]) != order_id:
            continue
        rows.append(
            VerdictRow(
                verdict_id="0x" + bytes(a["verdictId"]).hex(),
                order_id=int(a["orderId"]),
                twin_id=int(a["twinId"]),
                kind=VERDICT_KIND.get(int(a["kind"]), str(a["kind"])),
                severity=int(a["severity"]),
                action=VERDICT_ACTION.get(int(a["action"]), str(a["action"])),
                window_start=int(a["windowStart"]),
                window_end=int(a["windowEnd"]),
                evidence_hash=bytes(a["evidenceHash"]),
                penalty=int(a["penalty"]),
                tx_hash=event.tx_hash,
            )
        )
    return rows


@dataclass
class PenaltyRow:
    liable: str
    leg: str
    amount: int
    reason: str
    verdict: VerdictRow | None


@dataclass
class EscrowOrder:
    order_id: int
    status: str
    buyer: str
    seller: str
    amount: int
    delivery_deadline: int
    legs: list[tuple[str, int]]  # carrier, freight
    claims: list[PenaltyRow]
    settled: dict[str, int] | None  # sellerPayout, carriersPayout, buyerRefund, deliveredAt
    charges: list[tuple[str, int, int]]  # party, claimed, charged


def escrow_orders(history: History) -> list[EscrowOrder]:
    """Every funded order; the status follows from the settle/cancel events."""
    by_verdict = {v.verdict_id: v for v in verdicts(history)}
    out = []
    for event in history.named("Escrow", "OrderOpened"):
        order_id = int(event.args["orderId"])
        legs = [(str(e.args["carrier"]), int(e.args["freight"])) for e in history.orders[order_id].of("LegAdded")]
        claims = []
        for applied in history.orders[order_id].of("PenaltyApplied"):
            verdict_id = "0x" + bytes(applied.args["verdictId"]).hex()
            leg_index = int(applied.args["legIndex"])
            liable = str(event.args["seller"]) if leg_index == NO_LEG else legs[leg_index][0]
            verdict = by_verdict.get(verdict_id)
            claims.append(
                PenaltyRow(
                    liable=liable,
                    leg="seller" if leg_index == NO_LEG else f"leg {leg_index + 1}",
                    amount=int(applied.args["amount"]),
                    reason=f"{verdict.kind} verdict, severity {verdict.severity}" if verdict else "late delivery",
                    verdict=verdict,
                )
            )
        settled_events = history.orders[order_id].of("OrderSettled")
        settled = None
        if settled_events:
            a = settled_events[-1].args
            settled = {k: int(a[k]) for k in ("sellerPayout", "carriersPayout", "buyerRefund", "deliveredAt")}
        cancelled = bool(history.orders[order_id].of("OrderCancelled"))
        status = "settled" if settled else "cancelled" if cancelled else "active"
        charges = [
            (str(e.args["liable"]), int(e.args["claimed"]), int(e.args["charged"]))
            for e in history.orders[order_id].of("PenaltySettled")
        ]
        out.append(
            EscrowOrder(
                order_id=order_id,
                status=status,
                buyer=str(event.args["buyer"]),
                seller=str(event.args["seller"]),
                amount=int(event.args["amount"]),
                delivery_deadline=int(event.args["deliveryDeadline"]),
                legs=legs,
                claims=claims,
                settled=settled,
                charges=charges,
            )
        )
    return out


@dataclass
class Participant:
    account: str
    roles: list[str]
    product: str
    region: str
    capacity: int
    metadata_uri: str
    registered_block: int
    status: str = "active"
    last_block: int = 0


def participants(history: History) -> list[Participant]:
    found: dict[str, Participant] = {}
    for event in history.events:
        if event.contract != "ParticipantRegistry":
            continue
        a = event.args
        account = str(a["account"])
        if event.name in ("ParticipantRegistered", "ParticipantUpdated"):
            entry = Participant(
                account,
                role_names(int(a["roles"])),
                label(bytes(a["productType"])),
                label(bytes(a["region"])),
                int(a["capacity"]),
                str(a["metadataURI"]),
                found[account].registered_block if account in found else event.block_number,
            )
            found[account] = entry
        elif account in found:
            found[account].status = {
                "ParticipantUnregistered": "unregistered",
                "ParticipantSuspended": "suspended",
                "ParticipantUnsuspended": "active",
            }.get(event.name, found[account].status)
    for event in history.events:
        for account in _addresses(event.args.values()):
            if account in found:
                found[account].last_block = max(found[account].last_block, event.block_number)
    return list(found.values())


def _addresses(values: Iterable[Any]) -> Iterable[str]:
    for value in values:
        if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
            yield value


@dataclass
class Shipment:
    """Everything the chain says about one custody twin and the order it was minted for."""

    twin_id: int
    order_id: int  # 0 when the twin was not minted for an order (a split or merge)
    legs: list[CfpRow]
    sla: dict[str, int] | None
    verdicts: list[VerdictRow]
    custody: list[CustodyRow]
    order: EscrowOrder | None


def placed_legs(legs: list[CfpRow], custody: list[CustodyRow]) -> list[CfpRow]:
    """A reroute's call for proposals (opened by VerdictHub) names no places on chain: the re-tendered leg runs
    from where its winner last accepted custody (the handover) to the order's destination (the first leg's);
    the origin stays empty while the handover has not happened."""
    placed: list[CfpRow] = []
    for leg in legs:
        if not leg.origin and placed:
            handover = next(
                (r.place for r in reversed(custody) if r.step == "accepted" and r.holder_after == leg.winner),
                "",
            )
            leg = replace(leg, origin=handover, destination=leg.destination or placed[0].destination)
        placed.append(leg)
    return placed


def shipment(history: History, read_sla: Callable[[int], Any], twin_id: int) -> Shipment:
    """`read_sla(order_id)` returns the order's on-chain `SlaTerms` (Procurement.slaTerms)."""
    twin = history.twins.get(twin_id)
    origin = twin.origin if twin is not None else None
    order_id = int(origin.args["orderId"]) if origin is not None and origin.name == "TwinMinted" else 0
    custody = custody_chain(history, twin_id)
    return Shipment(
        twin_id=twin_id,
        order_id=order_id,
        legs=placed_legs([r for r in cfps(history) if r.order_id == order_id and r.kind == "delivery"], custody),
        sla=sla_terms(read_sla(order_id)) if order_id else None,
        verdicts=[v for v in verdicts(history, order_id) if v.twin_id == twin_id] if order_id else [],
        custody=custody,
        order=next((o for o in escrow_orders(history) if o.order_id == order_id), None),
    )
