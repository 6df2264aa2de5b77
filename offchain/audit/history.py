"""Every shipment's history, rebuilt from events alone (no contract storage is read).

An order (= its GOODS call for proposals) collects: its CFPs (GOODS and DELIVERY), the bids on them, the
awards, the custody twin minted for it, every Escrow event naming it, and its verdicts. Twins keep their own
event lists (their custody outlives the order; splits and merges make new twins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from offchain.audit.events import ChainEvent

GOODS = 0


def struct_field(value: Any, name: str, index: int) -> Any:
    """A field of a decoded ABI struct: web3 gives mappings (AttributeDict) for events, tuples elsewhere."""
    return value[name] if isinstance(value, Mapping) else value[index]


@dataclass
class TwinHistory:
    twin_id: int
    events: list[ChainEvent] = field(default_factory=list)

    @property
    def origin(self) -> ChainEvent | None:
        """The event that created the twin: a mint, a split of its parent or a merge."""
        for event in self.events:
            if event.name == "TwinMinted":
                return event
            if event.name == "TwinSplit" and self.twin_id in event.args["childIds"]:
                return event
            if event.name == "TwinsMerged" and event.args["childId"] == self.twin_id:
                return event
        return None


@dataclass
class OrderHistory:
    order_id: int
    cfp_ids: list[int] = field(default_factory=list)
    procurement: list[ChainEvent] = field(default_factory=list)  # CFPs, bids, awards
    escrow: list[ChainEvent] = field(default_factory=list)  # every Escrow event with this orderId
    verdicts: list[ChainEvent] = field(default_factory=list)
    twin_ids: list[int] = field(default_factory=list)

    def of(self, name: str) -> list[ChainEvent]:
        return [e for e in self.procurement + self.escrow + self.verdicts if e.name == name]


@dataclass
class History:
    chain_id: int
    to_block: int
    events: list[ChainEvent]
    orders: dict[int, OrderHistory] = field(default_factory=dict)
    twins: dict[int, TwinHistory] = field(default_factory=dict)
    oracle_sets: list[ChainEvent] = field(default_factory=list)
    token_transfers: list[ChainEvent] = field(default_factory=list)  # escrow token moves to/from Escrow

    def named(self, contract: str, name: str) -> list[ChainEvent]:
        return [e for e in self.events if e.contract == contract and e.name == name]

    def timeline(self, order_id: int) -> list[ChainEvent]:
        """Everything that happened to an order and to its twins, in chain order."""
        order = self.orders[order_id]
        custody = [e for t in order.twin_ids if t in self.twins for e in self.twins[t].events]
        unique = {e.position: e for e in order.procurement + order.escrow + order.verdicts + custody}
        return [unique[p] for p in sorted(unique)]

    @property
    def withdrawals(self) -> list[ChainEvent]:
        """Pull payments out of Escrow (per account, not per order)."""
        return self.named("Escrow", "Withdrawn")

    def order(self, order_id: int) -> OrderHistory:
        return self.orders.setdefault(order_id, OrderHistory(order_id))

    def twin(self, twin_id: int) -> TwinHistory:
        return self.twins.setdefault(twin_id, TwinHistory(twin_id))


def rebuild(chain_id: int, to_block: int, events: list[ChainEvent], token_transfers: list[ChainEvent]) -> History:
    """Groups chain-ordered `events` by order and by twin."""
    history = History(chain_id=chain_id, to_block=to_block, events=events, token_transfers=token_transfers)
    order_of_cfp: dict[int, int] = {}
    for event in events:
        args = event.args
        if event.contract == "Procurement":
            if event.name == "CfpOpened":
                cfp_id = int(args["cfpId"])
                order_id = (
                    cfp_id if int(struct_field(args["params"], "kind", 0)) == GOODS else int(args["parentOrderId"])
                )
                order_of_cfp[cfp_id] = order_id
                history.order(order_id).cfp_ids.append(cfp_id)
            if "cfpId" in args and int(args["cfpId"]) in order_of_cfp:
                history.order(order_of_cfp[int(args["cfpId"])]).procurement.append(event)
            elif "orderId" in args:
                history.order(int(args["orderId"])).procurement.append(event)
        elif event.contract == "Escrow" and "orderId" in args:
            history.order(int(args["orderId"])).escrow.append(event)
        elif event.contract == "VerdictHub":
            if event.name == "OracleSetChanged":
                history.oracle_sets.append(event)
            elif "orderId" in args:
                history.order(int(args["orderId"])).verdicts.append(event)
        elif event.contract == "CustodyTwin":
            for twin_id in _twins_named(event):
                history.twin(twin_id).events.append(event)
            if event.name == "TwinMinted":
                history.order(int(args["orderId"])).twin_ids.append(int(args["twinId"]))
    return history


def _twins_named(event: ChainEvent) -> list[int]:
    args = event.args
    if event.name == "TwinSplit":
        return [int(args["parentId"]), *map(int, args["childIds"])]
    if event.name == "TwinsMerged":
        return [*map(int, args["parentIds"]), int(args["childId"])]
    if "twinId" in args:
        return [int(args["twinId"])]
    return []
