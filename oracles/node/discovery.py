"""What to watch, read from the chain: custody twins bound to an order and still in transit, the delivery
legs awarded for each order (the planned route), the reroutes under way and who holds each twin when.

Following the web3.py event-scanner pattern: logs are read forward in chunks from the deployment (or a
configured start block) up to ``confirmations`` blocks behind the head, and every handler is idempotent. The
scan is kept in memory and redone from the start block when a node restarts (the state it rebuilds is a pure
function of the logs). A twin is watched from its mint (the seller is liable until pickup) until the consignee
accepts it (TwinDelivered) or its order is cancelled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from offchain.manifest import sla_terms
from oracles.node.chain import ChainClient
from oracles.node.routing import PlaceIdError, decode_place
from oracles.node.terms import ChainTerms, PlannedLeg, RerouteState

log = logging.getLogger("asc.oracle.discovery")

GOODS, DELIVERY = 0, 1  # IProcurement.CfpKind
def _terms(sla: Any) -> ChainTerms:
    return ChainTerms(*sla_terms(sla).values())


@dataclass(frozen=True, slots=True)
class TwinInfo:
    twin_id: int
    order_id: int
    minted_to: str = ""


@dataclass(frozen=True, slots=True)
class _Handoff:
    """An offer (``to`` may accept) or an accepted handoff of a twin, at its block time."""

    at_s: int
    sender: str
    receiver: str
    place: str  # '' when the location is not a road graph place id


@dataclass(frozen=True, slots=True)
class _Reroute:
    order_id: int
    source_cfp_id: int
    opened_at_s: int


@dataclass(frozen=True, slots=True)
class _Cfp:
    parent_order_id: int
    origin: str
    destination: str
    terms: ChainTerms


@dataclass(frozen=True, slots=True)
class _Award:
    leg_index: int
    awarded_at_s: int


class ChainView:
    """Twins in transit and legs per order, as of the last scanned block."""

    def __init__(self, chain: ChainClient, from_block: int, chunk_blocks: int, confirmations: int) -> None:
        self._chain = chain
        self._next_block = from_block
        self._chunk = chunk_blocks
        self._confirmations = confirmations
        self._twins: dict[int, TwinInfo] = {}
        self._finished_twins: set[int] = set()
        self._cancelled_orders: set[int] = set()
        self._cfps: dict[int, _Cfp] = {}  # delivery CFPs
        self._goods_terms: dict[int, ChainTerms] = {}  # order id (= its GOODS CFP id) -> terms
        self._reroutes: dict[int, _Reroute] = {}  # reroute CFP id ->
        self._awards: dict[int, _Award] = {}
        self._offers: dict[int, list[_Handoff]] = {}  # twin id -> offers, in chain order
        self._handoffs: dict[int, list[_Handoff]] = {}  # twin id -> accepted handoffs, in chain order
        self.scanned_block = from_block - 1
        self.scanned_time_s = 0

    def refresh(self) -> bool:
        """Scan new blocks; True when something was scanned."""
        head, _ = self._chain.head()
        last = head - self._confirmations
        if last < self._next_block:
            return False
        while self._next_block <= last:
            to_block = min(last, self._next_block + self._chunk - 1)
            self._scan(self._next_block, to_block)
            self._next_block = to_block + 1
        self.scanned_block = last
        self.scanned_time_s = self._chain.block_time(last)
        return True

    def _scan(self, start: int, end: int) -> None:
        chain = self._chain
        for event in chain.logs(chain.custody, "TwinMinted", start, end):
            twin_id, order_id = int(event["args"]["twinId"]), int(event["args"]["orderId"])
            if twin_id not in self._twins:
                log.info("discovered shipment %d (order %d) in block %d", twin_id, order_id, event["blockNumber"])
            self._twins[twin_id] = TwinInfo(twin_id, order_id, str(event["args"]["holder"]))
        for name, found in (("HandoffOffered", self._offers), ("HandoffAccepted", self._handoffs)):
            for event in chain.logs(chain.custody, name, start, end):
                args = event["args"]
                try:
                    place = decode_place(bytes(args["location"]))
                except PlaceIdError:
                    place = ""
                handoff = _Handoff(int(args["timestamp"]), str(args["from"]), str(args["to"]), place)
                seen = found.setdefault(int(args["twinId"]), [])
                if handoff not in seen:
                    seen.append(handoff)
        for event in chain.logs(chain.custody, "TwinDelivered", start, end):
            self._finished_twins.add(int(event["args"]["twinId"]))
        for event in chain.logs(chain.escrow, "OrderCancelled", start, end):
            self._cancelled_orders.add(int(event["args"]["orderId"]))
        for event in chain.logs(chain.procurement, "CfpOpened", start, end):
            params = event["args"]["params"]
            cfp_id = int(event["args"]["cfpId"])
            if int(params["kind"]) == GOODS:
                self._goods_terms[cfp_id] = _terms(params["sla"])
                continue
            try:
                origin, destination = decode_place(params["origin"]), decode_place(params["destination"])
            except PlaceIdError as exc:
                log.warning("delivery CFP %d: %s; its leg has no corridor", cfp_id, exc)
                origin = destination = ""
            self._cfps[cfp_id] = _Cfp(
                int(event["args"]["parentOrderId"]), origin, destination, _terms(params["sla"])
            )
        for event in chain.logs(chain.procurement, "RerouteOpened", start, end):
            args = event["args"]
            self._reroutes[int(args["cfpId"])] = _Reroute(
                int(args["orderId"]), int(args["sourceCfpId"]), chain.block_time(int(event["blockNumber"]))
            )
        for event in chain.logs(chain.procurement, "CfpAwarded", start, end):
            cfp_id = int(event["args"]["cfpId"])
            if cfp_id in self._cfps:
                self._awards[cfp_id] = _Award(
                    int(event["args"]["twinIdOrLegIndex"]), chain.block_time(int(event["blockNumber"]))
                )

    def in_transit(self) -> list[TwinInfo]:
        """Bound twins not delivered, of orders not cancelled, in twin id order."""
        return [
            info
            for twin_id, info in sorted(self._twins.items())
            if twin_id not in self._finished_twins and info.order_id not in self._cancelled_orders
        ]

    def twin(self, twin_id: int) -> TwinInfo | None:
        return self._twins.get(twin_id)

    def terms_at(self, order_id: int, at_s: int) -> ChainTerms | None:
        """The SLA terms ruling the order at ``at_s``, as ``Procurement.slaTerms`` would have returned them
        then: those of the delivery CFP awarded last by that time (reroutes included), else the GOODS CFP's.
        None when the order's GOODS CFP is older than the scan (the caller reads the current terms)."""
        best: tuple[int, int] | None = None
        for cfp_id, cfp in self._cfps.items():
            award = self._awards.get(cfp_id)
            if cfp.parent_order_id != order_id or award is None or award.awarded_at_s > at_s:
                continue
            if best is None or (award.leg_index, cfp_id) > best:
                best = (award.leg_index, cfp_id)
        if best is not None:
            return self._cfps[best[1]].terms
        return self._goods_terms.get(order_id)

    def legs(self, order_id: int) -> list[PlannedLeg]:
        """Awarded delivery legs of the order, in leg order. Reroute legs are left out: the new carrier
        picks the goods up wherever they are (the chain names no origin) and drives to the destination of
        the leg it replaces, so the planned corridor stays that leg's."""
        legs: list[PlannedLeg] = []
        for cfp_id, cfp in self._cfps.items():
            award = self._awards.get(cfp_id)
            if cfp.parent_order_id != order_id or award is None or cfp_id in self._reroutes:
                continue
            legs.append(PlannedLeg(award.leg_index, cfp_id, cfp.origin, cfp.destination, award.awarded_at_s))
        return sorted(legs, key=lambda leg: leg.leg_index)

    def holder_at(self, twin_id: int, at_s: int) -> tuple[str, int]:
        """Who held the twin at ``at_s`` and since when (0: since it was minted). Handoffs are keyed to their
        block time, as legs are, so every node sees the same holder for the same reading."""
        info = self._twins.get(twin_id)
        holder, since = (info.minted_to if info else ""), 0
        for handoff in self._handoffs.get(twin_id, ()):
            if handoff.at_s <= at_s:
                holder, since = handoff.receiver, handoff.at_s
        return holder, since

    def reroutes_at(self, order_id: int, twin_id: int, at_s: int) -> list[RerouteState]:
        """The order's reroutes opened by ``at_s`` as they stood then: the handover place once the holder at
        the reroute offered the goods somewhere, and when a new holder accepted them from it."""
        states: list[RerouteState] = []
        for cfp_id, reroute in sorted(self._reroutes.items()):
            if reroute.order_id != order_id or reroute.opened_at_s > at_s:
                continue
            cfp = self._cfps.get(cfp_id)
            source = self._awards.get(reroute.source_cfp_id)
            holder, _ = self.holder_at(twin_id, reroute.opened_at_s)
            place, taken_at = "", 0
            for offer in self._offers.get(twin_id, ()):
                if offer.sender == holder and reroute.opened_at_s <= offer.at_s <= at_s:
                    place = offer.place
            for handoff in self._handoffs.get(twin_id, ()):
                if handoff.sender == holder and reroute.opened_at_s <= handoff.at_s <= at_s:
                    place, taken_at = handoff.place, handoff.at_s
                    break
            states.append(
                RerouteState(
                    cfp_id=cfp_id,
                    opened_at_s=reroute.opened_at_s,
                    destination=cfp.destination if cfp else "",
                    source_leg_index=source.leg_index if source else -1,
                    handover_place=place,
                    taken_over_at_s=taken_at,
                )
            )
        return states
