"""Follows a run from chain events: a readable line per step as it happens, and the facts the expectations and
the JSON summary are made of (shipments, verdicts, reroutes, penalties, settlements, duplicate bids).

Events are read with the audit's reader (offchain/audit/events.py: chunked eth_getLogs with back-off, decoded
by the manifest's ABIs) from the block after the last one read, so each event is seen exactly once.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from offchain.audit.events import ChainEvent, EventReader, RpcClient, in_chain_order
from offchain.manifest import DeploymentManifest

logger = logging.getLogger(__name__)

UNIT = 10**6  # TestStablecoin has 6 decimals
KINDS = {1: "temperature", 2: "humidity", 3: "shock", 4: "route_deviation", 5: "delay"}
ACTIONS = {1: "penalty", 2: "hold", 3: "reroute"}
CFP_KINDS = {0: "goods", 1: "delivery"}


def money(amount: int) -> str:
    return f"{amount / UNIT:,.2f}"


def text(raw: bytes) -> str:
    return bytes(raw).rstrip(b"\0").decode("utf-8", "replace")


@dataclass
class Facts:
    """What the chain says happened in the run."""

    cfps: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    twins: dict[int, dict[str, Any]] = field(default_factory=dict)
    legs: dict[tuple[int, int], str] = field(default_factory=dict)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    reroute_cfps: dict[int, int] = field(default_factory=dict)  # reroute CFP -> order
    penalties: list[dict[str, Any]] = field(default_factory=list)
    settlements: list[dict[str, Any]] = field(default_factory=list)
    commits: Counter[tuple[int, str]] = field(default_factory=Counter)
    transactions: Counter[str] = field(default_factory=Counter)
    events: int = 0

    def delivered(self) -> list[int]:
        return [t for t, info in self.twins.items() if info.get("delivered")]

    def reroutes_awarded(self) -> list[int]:
        return [c for c in self.reroute_cfps if self.cfps.get(c, {}).get("winner")]

    def unsettled_orders(self) -> list[int]:
        return [o for o, info in self.orders.items() if info["status"] == "open"]

    def duplicate_commits(self) -> list[tuple[int, str]]:
        return [key for key, n in self.commits.items() if n > 1]


class Follower:
    """Reads new events on each `poll()`, updates the facts and reports a line per step through `say`."""

    def __init__(
        self,
        w3: Web3,
        manifest: DeploymentManifest,
        names: Mapping[str, str],
        say: Callable[[str], None],
        from_block: int | None = None,
    ) -> None:
        self._w3 = w3
        self._rpc = RpcClient(w3)
        self._manifest = manifest
        self._names = {Web3.to_checksum_address(a): n for a, n in names.items()}
        self._say = say
        self._next_block = (
            from_block if from_block is not None else min(c.deploy_block for c in manifest.contracts.values())
        )
        self.facts = Facts()
        self.first_block = self._next_block

    def who(self, address: str) -> str:
        checksum = Web3.to_checksum_address(address)
        return self._names.get(checksum, checksum[:10])

    def poll(self) -> int:
        """Read and handle the events mined since the last poll; how many there were."""
        head = int(self._w3.eth.block_number)
        if head < self._next_block:
            return 0
        reader = EventReader(self._rpc, head)
        events: list[ChainEvent] = []
        for name, entry in self._manifest.contracts.items():
            events += reader.fetch(name, entry.address, entry.abi, self._next_block)
        self._next_block = head + 1
        for event in in_chain_order(events):
            self.facts.events += 1
            handler = getattr(self, f"_on_{_snake(event.name)}", None)
            if handler is not None:
                handler(event)
        return len(events)

    # -------------------------------------------------------------- procurement
    def _on_cfp_opened(self, e: ChainEvent) -> None:
        p = e.args["params"]
        params = p if isinstance(p, Mapping) else dict(zip(_CFP_FIELDS, p, strict=False))
        kind = CFP_KINDS.get(int(params["kind"]), str(params["kind"]))
        cfp = {
            "kind": kind,
            "buyer": self.who(e.args["buyer"]),
            "parent_order": int(e.args["parentOrderId"]),
            "product": text(params["productType"]),
            "quantity": int(params["quantity"]),
            "origin": text(params["origin"]),
            "destination": text(params["destination"]),
            "bids": 0,
            "winner": None,
        }
        self.facts.cfps[int(e.args["cfpId"])] = cfp
        what = f"{cfp['quantity']} x {cfp['product']}" if kind == "goods" else f"order #{cfp['parent_order']}"
        route = " -> ".join(str(p) for p in (cfp["origin"], cfp["destination"]) if p)
        where = f" to {route}" if cfp["origin"] == "" and route else (f", {route}" if route else "")
        self._say(f"CFP #{e.args['cfpId']} opened by {cfp['buyer']}: {kind} {what}{where}")

    def _on_reroute_opened(self, e: ChainEvent) -> None:
        self.facts.reroute_cfps[int(e.args["cfpId"])] = int(e.args["orderId"])
        self._say(f"reroute: CFP #{e.args['cfpId']} re-tenders the remaining leg of order #{e.args['orderId']}")

    def _on_bid_committed(self, e: ChainEvent) -> None:
        cfp_id, bidder = int(e.args["cfpId"]), self.who(e.args["bidder"])
        self.facts.commits[(cfp_id, bidder)] += 1
        if cfp_id in self.facts.cfps:
            self.facts.cfps[cfp_id]["bids"] += 1
        self._say(f"sealed bid on CFP #{cfp_id} committed by {bidder}")

    def _on_bid_revealed(self, e: ChainEvent) -> None:
        self._say(
            f"bid on CFP #{e.args['cfpId']} revealed by {self.who(e.args['bidder'])}: "
            f"{money(e.args['unitPrice'])} per unit{' (best so far)' if e.args['best'] else ''}"
        )

    def _on_cfp_awarded(self, e: ChainEvent) -> None:
        cfp_id, winner = int(e.args["cfpId"]), self.who(e.args["winner"])
        if cfp_id in self.facts.cfps:
            self.facts.cfps[cfp_id]["winner"] = winner
        reroute = " (reroute leg)" if cfp_id in self.facts.reroute_cfps else ""
        self._say(f"CFP #{cfp_id} awarded to {winner} for {money(e.args['total'])}{reroute}")

    def _on_cfp_cancelled(self, e: ChainEvent) -> None:
        self._say(f"CFP #{e.args['cfpId']} cancelled by {self.who(e.args['buyer'])}")

    def _on_cfp_expired(self, e: ChainEvent) -> None:
        self._say(f"CFP #{e.args['cfpId']} expired without an award")

    # -------------------------------------------------------------- escrow
    def _on_order_opened(self, e: ChainEvent) -> None:
        order_id = int(e.args["orderId"])
        self.facts.orders[order_id] = {
            "buyer": self.who(e.args["buyer"]),
            "seller": self.who(e.args["seller"]),
            "amount": int(e.args["amount"]),
            "status": "open",
        }
        self._say(
            f"escrow funded for order #{order_id}: {money(e.args['amount'])} from "
            f"{self.who(e.args['buyer'])} to {self.who(e.args['seller'])}"
        )

    def _on_leg_added(self, e: ChainEvent) -> None:
        order_id, leg = int(e.args["orderId"]), int(e.args["legIndex"])
        self.facts.legs[(order_id, leg)] = self.who(e.args["carrier"])
        self._say(
            f"order #{order_id} leg {leg}: {self.who(e.args['carrier'])} carries it for {money(e.args['freight'])}"
        )

    def _on_penalty_applied(self, e: ChainEvent) -> None:
        order_id, leg = int(e.args["orderId"]), int(e.args["legIndex"])
        carrier = self.facts.legs.get((order_id, leg), f"leg {leg}")
        self.facts.penalties.append(
            {"order": order_id, "leg": leg, "carrier": carrier, "amount": int(e.args["amount"]), "settled": False}
        )
        self._say(f"penalty {money(e.args['amount'])} claimed on order #{order_id} from {carrier} (leg {leg})")

    def _on_penalty_settled(self, e: ChainEvent) -> None:
        liable = self.who(e.args["liable"])
        self.facts.penalties.append(
            {
                "order": int(e.args["orderId"]),
                "leg": int(e.args["legIndex"]),
                "carrier": liable,
                "amount": int(e.args["charged"]),
                "settled": True,
            }
        )
        self._say(f"penalty settled on order #{e.args['orderId']}: {money(e.args['charged'])} charged to {liable}")

    def _on_order_settled(self, e: ChainEvent) -> None:
        order_id = int(e.args["orderId"])
        if order_id in self.facts.orders:
            self.facts.orders[order_id]["status"] = "settled"
        settlement = {
            "order": order_id,
            "seller_payout": int(e.args["sellerPayout"]),
            "carriers_payout": int(e.args["carriersPayout"]),
            "buyer_refund": int(e.args["buyerRefund"]),
        }
        self.facts.settlements.append(settlement)
        self._say(
            f"order #{order_id} settled: seller {money(settlement['seller_payout'])}, carriers "
            f"{money(settlement['carriers_payout'])}, buyer refund {money(settlement['buyer_refund'])}"
        )

    def _on_order_cancelled(self, e: ChainEvent) -> None:
        order_id = int(e.args["orderId"])
        if order_id in self.facts.orders:
            self.facts.orders[order_id]["status"] = "cancelled"
        self._say(f"order #{order_id} cancelled by {self.who(e.args['by'])}: refund {money(e.args['refund'])}")

    def _on_withdrawn(self, e: ChainEvent) -> None:
        self._say(f"{self.who(e.args['account'])} withdrew {money(e.args['amount'])}")

    # -------------------------------------------------------------- custody
    def _on_twin_minted(self, e: ChainEvent) -> None:
        twin_id = int(e.args["twinId"])
        self.facts.twins[twin_id] = {
            "order": int(e.args["orderId"]),
            "product": text(e.args["productType"]),
            "quantity": int(e.args["quantity"]),
            "holder": self.who(e.args["holder"]),
            "consignee": self.who(e.args["consignee"]),
            "handoffs": 0,
            "delivered": False,
        }
        self._say(
            f"custody twin #{twin_id} minted for order #{e.args['orderId']}: {e.args['quantity']} x "
            f"{text(e.args['productType'])} held by {self.who(e.args['holder'])}"
        )

    def _on_handoff_offered(self, e: ChainEvent) -> None:
        self._say(
            f"custody of twin #{e.args['twinId']} offered {self.who(e.args['from'])} -> {self.who(e.args['to'])} "
            f"at {text(e.args['location'])}"
        )

    def _on_handoff_accepted(self, e: ChainEvent) -> None:
        twin_id = int(e.args["twinId"])
        if twin_id in self.facts.twins:
            self.facts.twins[twin_id]["handoffs"] += 1
            self.facts.twins[twin_id]["holder"] = self.who(e.args["to"])
        self._say(
            f"custody of twin #{twin_id} accepted {self.who(e.args['from'])} -> {self.who(e.args['to'])} "
            f"at {text(e.args['location'])}"
        )

    def _on_twin_delivered(self, e: ChainEvent) -> None:
        twin_id = int(e.args["twinId"])
        if twin_id in self.facts.twins:
            self.facts.twins[twin_id]["delivered"] = True
        self._say(f"twin #{twin_id} delivered to {self.who(e.args['consignee'])} (order #{e.args['orderId']})")

    def _on_hold_set(self, e: ChainEvent) -> None:
        state = "held" if e.args["held"] else "released"
        self._say(f"twin #{e.args['twinId']} {state} by {self.who(e.args['by'])}")

    # -------------------------------------------------------------- verdicts
    def _on_verdict_accepted(self, e: ChainEvent) -> None:
        verdict = {
            "id": "0x" + bytes(e.args["verdictId"]).hex(),
            "order": int(e.args["orderId"]),
            "twin": int(e.args["twinId"]),
            "kind": KINDS.get(int(e.args["kind"]), str(e.args["kind"])),
            "action": ACTIONS.get(int(e.args["action"]), str(e.args["action"])),
            "severity": int(e.args["severity"]),
            "penalty": int(e.args["penalty"]),
            "signers": bin(int(e.args["signersBitmap"])).count("1"),
        }
        self.facts.verdicts.append(verdict)
        self._say(
            f"oracles: {verdict['signers']}-signature {verdict['kind']} verdict accepted on order #{verdict['order']}: "
            f"severity {verdict['severity']}, action {verdict['action']}"
        )

    def _on_participant_registered(self, e: ChainEvent) -> None:
        self._say(f"{self.who(e.args['account'])} registered (roles {e.args['roles']})")

    def _on_participant_unregistered(self, e: ChainEvent) -> None:
        self._say(f"{self.who(e.args['account'])} unregistered")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_CFP_FIELDS = (
    "kind",
    "parentOrderId",
    "productType",
    "quantity",
    "maxUnitPrice",
    "windowStart",
    "windowEnd",
    "origin",
    "destination",
    "eligibleRoles",
    "commitDeadline",
    "revealDeadline",
    "awardDeadline",
    "sla",
    "money",
)
