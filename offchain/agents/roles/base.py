"""What every agent knows from the chain, and the helpers every role acts through.

Knowledge is kept as facts in the agent's state, built from events only: participants (discovery), CFPs and
their revealed bids, orders (twin, legs, holder, pickup, settlement), and each party's SLA record (jobs,
penalties), which the risk score reads.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

import httpx
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ..approvals import ApprovalError
from ..chain import DELIVERY, GOODS, ChainEvent, from_bytes32, to_bytes32
from ..runtime import TRANSIENT, AgentContext
from ..strategy.buyer import RevealedBid, RiskAssessment, SlaRecord, SlaRecordRisk
from ..transcript import BROADCAST, Performative
from ..wording import money

log = logging.getLogger("asc.agents.role")

NO_LEG = 255


def _snake(event_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event_name).lower()


def _struct(value: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """A decoded ABI tuple as a dict (web3 hands structs back as tuples or as mappings)."""
    if isinstance(value, Mapping):
        return dict(value)
    return dict(zip(names, value, strict=True))


CFP_FIELDS = (
    "kind", "parentOrderId", "productType", "quantity", "maxUnitPrice", "windowStart", "windowEnd", "origin",
    "destination", "eligibleRoles", "commitDeadline", "revealDeadline", "awardDeadline", "sla", "money",
)


class ChainRecordRisk:
    """The risk scorer over the SLA records this agent rebuilt from events (the naive baseline of bench/)."""

    def __init__(self, role: Role) -> None:
        self.role = role

    def assess(self, address: str) -> RiskAssessment:
        return SlaRecordRisk({address: self.role.sla_record(address)}).assess(address)


class Role:
    """Base of every role: keeps the shared knowledge; subclasses add `on_<Event>` and `tick` behaviour."""

    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.cfg = ctx.config
        self.me = ctx.address
        self.risk = ctx.risk if ctx.risk is not None else ChainRecordRisk(self)

    # ------------------------------------------------------------------ plumbing

    def start(self) -> None:
        """Runs once the agent is registered (e.g. the first stock level)."""
        for product in self.cfg.products:
            if product.initial_stock:
                self.state.move(f"initial:{product.product}", product.product, product.initial_stock, "initial")

    def on_event(self, event: ChainEvent) -> None:
        name = _snake(event.name)
        learn = getattr(self, f"_learn_{name}", None)
        if learn is not None:
            learn(event)
        for cls in type(self).__mro__:
            handler = cls.__dict__.get(f"on_{name}")
            if handler is not None:
                handler(self, event)

    def tick(self, now_s: int) -> None:
        """Each behaviour acts; one that fails on a bug is logged and does not stop the others (the next
        round tries again). Transport failures propagate: the run loop backs off."""
        for cls in type(self).__mro__:
            behaviour = cls.__dict__.get("act")
            if behaviour is None:
                continue
            try:
                behaviour(self, now_s)
            except TRANSIENT:
                raise
            except Exception:
                log.exception("%s: %s.act failed; retrying next round", self.cfg.name, cls.__name__)

    def say(self, kind: str, number: int, receiver: str, performative: Performative, summary: str, *,
            tx_hash: str | None = None, **content: Any) -> None:
        now_ms = self.ctx.chain.now() * 1000
        self.ctx.transcript.say(
            self.ctx.conversation(kind, number), receiver, performative, summary, tx_hash=tx_hash, sent_ms=now_ms,
            **content,
        )

    def condition_hash(self, twin_id: int, step: str) -> bytes:
        """Our condition report's digest at a handoff (the world's readings are the evidence; this names it)."""
        return keccak(text=f"{self.cfg.name}:{twin_id}:{step}")

    # ------------------------------------------------------------------ knowledge from events

    def _learn_participant_registered(self, e: ChainEvent) -> None:
        self.state.put_fact(
            "participant",
            e.args["account"],
            {"roles": int(e.args["roles"]), "region": from_bytes32(e.args["region"]),
             "product": from_bytes32(e.args["productType"]), "capacity": int(e.args["capacity"])},
        )

    _learn_participant_updated = _learn_participant_registered

    def _learn_participant_unregistered(self, e: ChainEvent) -> None:
        self.state.update_fact("participant", e.args["account"], roles=0)

    def _learn_cfp_opened(self, e: ChainEvent) -> None:
        p = _struct(e.args["params"], CFP_FIELDS)
        self.state.put_fact(
            "cfp",
            e.args["cfpId"],
            {
                "id": int(e.args["cfpId"]), "buyer": e.args["buyer"], "kind": int(p["kind"]),
                "parent": int(p["parentOrderId"]), "product": from_bytes32(p["productType"]),
                "quantity": int(p["quantity"]), "max_unit_price": int(p["maxUnitPrice"]),
                "window_start": int(p["windowStart"]), "window_end": int(p["windowEnd"]),
                "origin": from_bytes32(p["origin"]), "destination": from_bytes32(p["destination"]),
                "roles": int(p["eligibleRoles"]), "commit": int(p["commitDeadline"]),
                "reveal": int(p["revealDeadline"]), "award": int(p["awardDeadline"]),
                "status": "open", "tx": e.tx_hash, "reroute": False,
            },
        )

    def _learn_reroute_opened(self, e: ChainEvent) -> None:
        source = self.state.fact("cfp", e.args["sourceCfpId"]) or {}
        self.state.update_fact(
            "cfp", e.args["cfpId"], reroute=True, source=int(e.args["sourceCfpId"]),
            destination=source.get("destination", ""), verdict="0x" + bytes(e.args["verdictId"]).hex(),
        )

    def _learn_bid_revealed(self, e: ChainEvent) -> None:
        self.state.put_fact(
            "bid", f"{e.args['cfpId']}:{e.args['bidder']}",
            {"cfp": int(e.args["cfpId"]), "bidder": e.args["bidder"], "price": int(e.args["unitPrice"]),
             "eta": int(e.args["etaTimestamp"])},
        )

    def _learn_cfp_awarded(self, e: ChainEvent) -> None:
        cfp = self.state.update_fact(
            "cfp", e.args["cfpId"], status="awarded", winner=e.args["winner"], price=int(e.args["unitPrice"]),
            eta=int(e.args["etaTimestamp"]), total=int(e.args["total"]),
        )
        if cfp.get("kind") == GOODS:
            self.state.update_fact(
                "order", e.args["cfpId"], id=int(e.args["cfpId"]), buyer=cfp.get("buyer"), seller=e.args["winner"],
                twin=int(e.args["twinIdOrLegIndex"]), product=cfp.get("product"), quantity=cfp.get("quantity"),
                amount=int(e.args["total"]), deadline=cfp.get("window_end"), awarded_at=self.ctx.chain.now(),
                destination=cfp.get("destination"), picked_up=False, status="active", holder=e.args["winner"],
            )
        elif cfp.get("kind") == DELIVERY:
            order = self.state.fact("order", cfp["parent"]) or {}
            legs = dict(order.get("legs", {}))
            legs[str(int(e.args["twinIdOrLegIndex"]))] = {"carrier": e.args["winner"], "cfp": int(e.args["cfpId"])}
            self.state.update_fact("order", cfp["parent"], legs=legs, last_delivery_cfp=int(e.args["cfpId"]))

    def _learn_cfp_expired(self, e: ChainEvent) -> None:
        self.state.update_fact("cfp", e.args["cfpId"], status="expired")

    def _learn_cfp_cancelled(self, e: ChainEvent) -> None:
        self.state.update_fact("cfp", e.args["cfpId"], status="cancelled")

    def _learn_order_opened(self, e: ChainEvent) -> None:
        self._record(e.args["seller"], jobs=1)

    def _learn_leg_added(self, e: ChainEvent) -> None:
        self._record(e.args["carrier"], jobs=1)

    def _learn_handoff_offered(self, e: ChainEvent) -> None:
        self.state.put_fact(
            "offer", e.args["twinId"],
            {"twin": int(e.args["twinId"]), "from": e.args["from"], "to": e.args["to"],
             "location": from_bytes32(e.args["location"]), "condition": "0x" + bytes(e.args["conditionHash"]).hex(),
             "tx": e.tx_hash},
        )

    def _learn_handoff_cancelled(self, e: ChainEvent) -> None:
        self.state.update_fact("offer", e.args["twinId"], cancelled=True)

    def _learn_handoff_accepted(self, e: ChainEvent) -> None:
        self.state.update_fact("offer", e.args["twinId"], accepted=True)
        order_id = self.order_of_twin(int(e.args["twinId"]))
        if order_id is not None:
            order = self.state.fact("order", order_id) or {}
            picked = order.get("picked_up") or e.args["from"] == order.get("seller")
            self.state.update_fact("order", order_id, holder=e.args["to"], picked_up=bool(picked),
                                   location=from_bytes32(e.args["location"]))

    def _learn_penalty_settled(self, e: ChainEvent) -> None:
        if int(e.args["charged"]) > 0:
            self._record(e.args["liable"], penalties=1, penalty_amount=int(e.args["charged"]))

    def _learn_penalty_applied(self, e: ChainEvent) -> None:
        if bytes(e.args["verdictId"]).rstrip(b"\0") == b"lateness":
            order = self.state.fact("order", e.args["orderId"]) or {}
            leg = int(e.args["legIndex"])
            liable = order.get("seller") if leg == NO_LEG else order.get("legs", {}).get(str(leg), {}).get("carrier")
            if liable:
                self._record(liable, late=1)

    def _learn_order_settled(self, e: ChainEvent) -> None:
        self.state.update_fact("order", e.args["orderId"], status="settled", delivered_at=int(e.args["deliveredAt"]))

    def _learn_order_cancelled(self, e: ChainEvent) -> None:
        self.state.update_fact("order", e.args["orderId"], status="cancelled")

    def _learn_verdict_accepted(self, e: ChainEvent) -> None:
        order = self.state.fact("order", e.args["orderId"]) or {}
        verdicts = list(order.get("verdicts", []))
        verdicts.append({"id": "0x" + bytes(e.args["verdictId"]).hex(), "kind": int(e.args["kind"]),
                         "severity": int(e.args["severity"]), "action": int(e.args["action"]),
                         "penalty": int(e.args["penalty"])})
        self.state.update_fact("order", e.args["orderId"], verdicts=verdicts)

    def _record(self, address: str, **increments: int) -> None:
        record = self.state.fact("sla", address) or {}
        for name, value in increments.items():
            record[name] = int(record.get(name, 0)) + value
        self.state.put_fact("sla", address, record)

    # ------------------------------------------------------------------ queries

    def sla_record(self, address: str) -> SlaRecord:
        raw = self.state.fact("sla", address) or {}
        return SlaRecord(**{k: int(v) for k, v in raw.items() if k in ("jobs", "penalties", "late", "penalty_amount")})

    def order_of_twin(self, twin_id: int) -> int | None:
        for key, order in self.state.facts("order").items():
            if order.get("twin") == twin_id:
                return int(key)
        return None

    def revealed_bids(self, cfp_id: int) -> list[RevealedBid]:
        return [
            RevealedBid(b["bidder"], b["price"], b["eta"])
            for b in self.state.facts("bid").values()
            if b["cfp"] == cfp_id
        ]

    def participants(self, role_bit: int, region: str | None = None) -> list[str]:
        return sorted(
            to_checksum_address(addr)
            for addr, p in self.state.facts("participant").items()
            if p.get("roles", 0) & role_bit and (region is None or p.get("region") == region)
        )

    def region_of(self, address: str) -> str | None:
        p = self.state.fact("participant", address)
        return None if p is None else p.get("region")

    def broadcast(self) -> str:
        return BROADCAST

    @staticmethod
    def place(text: str) -> bytes:
        return to_bytes32(text)


class Announcer(Role):
    """For buyers: the award is announced once it is on-chain (accept to the winner, decline to the
    other bidders), with the reasons the decision was taken for."""

    def remember_decision(self, cfp_id: int, decision: Any) -> None:
        self.state.put_fact("award_reasons", cfp_id, {
            "reasons": list(decision.reasons),
            "costs": {r.bid.bidder: round(r.cost, 4) for r in decision.ranking},
        })

    def announce_award(self, e: ChainEvent, cfp: dict[str, Any]) -> None:
        known = self.state.fact("award_reasons", cfp["id"]) or {"reasons": ["the best revealed bid"], "costs": {}}
        winner = e.args["winner"]
        self.say("cfp", cfp["id"], winner, Performative.ACCEPT,
                 f"{self.cfg.name} awards CFP {cfp['id']} to {winner[:10]} at {money(e.args['unitPrice'])} per unit",
                 tx_hash=e.tx_hash, reasons=known["reasons"], unit_price=int(e.args["unitPrice"]),
                 total=int(e.args["total"]))
        for bid in self.revealed_bids(cfp["id"]):
            if bid.bidder != winner:
                cost = known["costs"].get(bid.bidder)
                self.say("cfp", cfp["id"], bid.bidder, Performative.DECLINE,
                         f"CFP {cfp['id']} went to another bid" + (f" (yours ranked at cost {cost})" if cost else ""),
                         tx_hash=e.tx_hash)


class ApprovalGate(Announcer):
    """Wait for a person's decision when the config says so; None while waiting."""

    def approval_gate(
        self, kind: Literal["award", "verdict_action"], subject: str, summary: str,
        recommendation: dict[str, Any], reasons: list[str], *,
        value: int | None = None, severity: int | None = None,
    ) -> bool | None:
        limits = self.cfg.approvals
        needed = (
            kind == "award" and limits.award_value_limit is not None and value is not None
            and value > limits.award_value_limit
        ) or (
            kind == "verdict_action" and limits.verdict_severity is not None and severity is not None
            and severity >= limits.verdict_severity
        )
        if not needed:
            return True
        desk = self.ctx.approvals
        try:
            desk.ask(kind, subject, summary, recommendation, reasons, value=value, severity=severity,
                     created_ms=self.ctx.chain.now() * 1000)
            decision = desk.decision(subject)
        except (ApprovalError, httpx.HTTPError) as exc:
            log.warning("approval for %s cannot be asked or read now: %s", subject, exc)
            return None
        if decision is None:
            return None
        if not (self.state.fact("approval", subject) or {}).get("announced"):
            # interfaces/agents/README.md: the agent says what it does with the decision
            action = "acting on the recommendation" if decision.approved else "not acting on it"
            self.ctx.transcript.say(
                subject.rsplit(":", 1)[0], BROADCAST, Performative.INFORM,
                f"{decision.approver[:10]} decided {decision.decision} on {summary}; {self.cfg.name} is {action}",
                sent_ms=self.ctx.chain.now() * 1000, approval_id=decision.approval_id, decision=decision.decision,
                approver=decision.approver,
            )
            self.state.update_fact("approval", subject, announced=True)
        return bool(decision.approved)

    def award_if_approved(
        self, approved: bool | None, cfp_id: int, decision: Any, what: str,
        exclude: Callable[[], None], failed: Callable[[str | None], None],
    ) -> None:
        """After the gate: wait (None); a rejection excludes the winner, whose next-best rival is considered next
        round (`exclude`), and tells the bidder; an approval awards on-chain (`failed` when the award reverts)."""
        if approved is None:
            return
        winner = decision.winner
        if approved is False:
            exclude()
            self.say("cfp", cfp_id, winner.bidder, Performative.DECLINE, "the approver rejected this award")
            return
        self.remember_decision(cfp_id, decision)
        outcome = self.ctx.act(f"award:{cfp_id}", self.ctx.chain.procurement.functions.award(cfp_id, winner.bidder),
                               f"award {what} to {winner.bidder}")
        if outcome.done and not outcome.ok:
            log.error("award of %s failed: %s", what, outcome.error)
            failed(outcome.error)
