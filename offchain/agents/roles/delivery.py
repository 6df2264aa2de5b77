"""Buying delivery (the logistics provider, or a seller without one): tender each order's transport to
carriers, award on price/ETA/risk, re-tender when the carrier does not show up, and award the reroute CFPs
that VerdictHub opens for us (a REROUTE verdict; above the configured severity a person approves first)."""

from __future__ import annotations

import logging
from typing import Any

from ..chain import DELIVERY, ChainEvent
from ..config import ROLE_BITS, AgentKind
from ..strategy.buyer import Weights, choose_award
from ..transcript import BROADCAST, Performative
from ..wording import money
from .base import ApprovalGate, Role

log = logging.getLogger("asc.agents.delivery")


class DeliveryBuyer(ApprovalGate, Role):
    def tender(self, order_id: int, *, origin: str | None = None, exclude: list[str] | None = None) -> None:
        known = self.state.fact("tender", order_id) or {}
        attempt = int(known.get("attempt", 0)) + 1
        self.state.put_fact("tender", order_id, {"order": order_id, "status": "new", "attempt": attempt,
                                                 "origin": origin or known.get("origin"),
                                                 "exclude": [*known.get("exclude", []), *(exclude or [])]})

    def on_logistics_agent_set(self, e: ChainEvent) -> None:
        if e.args["agent"] == self.me:
            self.tender(int(e.args["orderId"]), origin=self.region_of(e.args["seller"]))

    def on_cfp_opened(self, e: ChainEvent) -> None:
        cfp = self.state.fact("cfp", e.args["cfpId"]) or {}
        if cfp.get("kind") == DELIVERY and cfp.get("buyer") == self.me:
            self.state.put_fact("mydelivery", cfp["id"], {"cfp": cfp["id"], "order": cfp["parent"], "status": "open"})

    def on_reroute_opened(self, e: ChainEvent) -> None:
        cfp = self.state.fact("cfp", e.args["cfpId"]) or {}
        if cfp.get("buyer") == self.me:
            self.state.update_fact("mydelivery", cfp["id"], reroute=True, verdict=cfp.get("verdict"))
            self.say("order", int(e.args["orderId"]), BROADCAST, Performative.CFP,
                     f"reroute of order {e.args['orderId']}: the remaining leg is re-tendered (CFP {cfp['id']})",
                     tx_hash=e.tx_hash)

    def _open_tender(self, tender: dict[str, Any], now_s: int) -> None:
        order_id, attempt = int(tender["order"]), int(tender["attempt"])
        order = self.state.fact("order", order_id) or {}
        if order.get("status") != "active":
            return
        buying = self.cfg.buying
        deadline = int(order["deadline"])
        commit = now_s + buying.commit_s
        reveal = commit + buying.reveal_s
        award = min(deadline, reveal + buying.award_s)
        if award <= reveal:
            log.error("order %d: too late to tender delivery (deadline %d)", order_id, deadline)
            self.state.update_fact("tender", order_id, status="failed")
            return
        params = self.state.fact("tender_params", f"{order_id}:{attempt}")
        if params is None:  # fixed once: a resend after a crash carries the same terms
            sla = buying.sla
            params = {"p": [
                DELIVERY, order_id, order["product"], int(order["quantity"]), buying.max_freight_per_unit, now_s,
                deadline, tender.get("origin") or "", order.get("destination") or "",
                ROLE_BITS[AgentKind.CARRIER], commit, reveal, award,
                [sla.temp_min_centi_c, sla.temp_max_centi_c, sla.humidity_min_bp, sla.humidity_max_bp,
                 sla.shock_limit_milli_g, sla.excursion_grace_s],
            ]}
            self.state.put_fact("tender_params", f"{order_id}:{attempt}", params)
        p = list(params["p"])
        call_params = (p[0], p[1], self.place(p[2]), p[3], p[4], p[5], p[6], self.place(p[7]), self.place(p[8]), p[9],
                       p[10], p[11], p[12], tuple(p[13]), (0, 0, 0, 0))
        opened = self.ctx.act(f"tender:{order_id}:{attempt}", self.ctx.chain.procurement.functions.openCfp(call_params),
                              f"tender delivery of order {order_id}")
        if opened.done:
            self.state.update_fact("tender", order_id, status="open" if opened.ok else "failed", error=opened.error)
            if opened.ok:
                self.say("order", order_id, BROADCAST, Performative.CFP,
                         f"{self.cfg.name} tenders delivery of order {order_id}: {p[3]} {p[2]} from {p[7]} to {p[8]}",
                         tx_hash=opened.tx_hash)

    def _award_delivery(self, mine: dict[str, Any], now_s: int) -> None:
        cfp_id = int(mine["cfp"])
        cfp = self.state.fact("cfp", cfp_id) or {}
        if cfp.get("status") != "open" or now_s <= cfp["reveal"]:
            if cfp.get("status") in ("awarded", "expired", "cancelled"):
                self.state.update_fact("mydelivery", cfp_id, status=cfp["status"])
            return
        tender = self.state.fact("tender", cfp["parent"]) or {}
        bids = [b for b in self.revealed_bids(cfp_id) if b.bidder not in tender.get("exclude", [])]
        if now_s > cfp["award"] or not bids:
            if now_s > cfp["award"]:
                self.ctx.act(f"expire:{cfp_id}", self.ctx.chain.procurement.functions.expire(cfp_id),
                             f"expire delivery CFP {cfp_id}")
                self.state.update_fact("mydelivery", cfp_id, status="expired")
                if not mine.get("reroute"):
                    self.tender(int(cfp["parent"]))  # nobody bid: try again with fresh deadlines
            return
        buying = self.cfg.buying
        decision = choose_award(bids, now_s=now_s, deadline_s=cfp["window_end"], risk=self.risk,
                                weights=Weights(buying.price_weight, buying.eta_weight, buying.risk_weight))
        assert decision.winner is not None
        winner = decision.winner
        value = winner.unit_price * cfp["quantity"]
        subject = f"{self.ctx.conversation('cfp', cfp_id)}:{winner.bidder}"  # a rejection asks about the next
        if mine.get("reroute"):
            order = self.state.fact("order", cfp["parent"]) or {}
            severity = max((v["severity"] for v in order.get("verdicts", []) if v["action"] == 3), default=0)
            approved = self.approval_gate(
                "verdict_action", subject, f"reroute order {cfp['parent']}: hand the goods to {winner.bidder}",
                {"award_to": winner.bidder, "unit_price": winner.unit_price, "reroute_cfp": cfp_id},
                ["an accepted REROUTE verdict opened this CFP", *decision.reasons], value=value, severity=severity,
            )
        else:
            approved = self.approval_gate(
                "award", subject, f"award delivery CFP {cfp_id} to {winner.bidder} for {money(value)}",
                {"award_to": winner.bidder, "unit_price": winner.unit_price}, list(decision.reasons), value=value,
            )
        def failed(_error: str | None) -> None:
            if self.ctx.chain.now() > cfp["award"]:
                return  # the award phase closed while we decided (a slow round): next round expires and re-tenders
            self.state.update_fact("mydelivery", cfp_id, status="failed")

        self.award_if_approved(
            approved, cfp_id, decision, f"delivery CFP {cfp_id}",
            exclude=lambda: self.state.update_fact(
                "tender", cfp["parent"], exclude=[*tender.get("exclude", []), winner.bidder]),
            failed=failed,
        )

    def on_cfp_awarded(self, e: ChainEvent) -> None:
        cfp = self.state.fact("cfp", e.args["cfpId"]) or {}
        if cfp.get("buyer") != self.me or cfp.get("kind") != DELIVERY:
            return
        now = self.ctx.chain.now()
        self.state.update_fact("mydelivery", cfp["id"], status="awarded", carrier=e.args["winner"], awarded_at=now)
        self.state.update_fact("tender", cfp["parent"], status="awarded", carrier=e.args["winner"], awarded_at=now)
        self.announce_award(e, cfp)

    def _watch_pickup(self, order_id: int, tender: dict[str, Any], now_s: int) -> None:
        """A carrier that won and has not taken custody within the grace period loses the job: re-tender."""
        order = self.state.fact("order", order_id) or {}
        if order.get("status") != "active" or order.get("picked_up"):
            return
        if now_s > int(tender["awarded_at"]) + self.cfg.buying.ship_grace_s:
            self.say("order", order_id, tender["carrier"], Performative.INFORM,
                     f"carrier {tender['carrier'][:10]} did not pick up order {order_id}; re-tendering")
            self.tender(order_id, exclude=[tender["carrier"]])

    def act(self, now_s: int) -> None:
        for key, tender in self.state.facts("tender").items():
            if tender["status"] == "new":
                self._open_tender(tender, now_s)
            elif tender["status"] == "awarded":
                self._watch_pickup(int(key), tender, now_s)
        for mine in self.state.facts("mydelivery").values():
            if mine["status"] == "open":
                self._award_delivery(mine, now_s)
