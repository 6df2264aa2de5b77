"""Buying goods (wholesaler replenishment, retailer orders): reorder from the policy, call for proposals, award
on price/ETA/risk (with approval above the limit), accept delivery, book the receipt, fall back to the
next-best seller when the winner does not ship in time.

An intent is one purchase: new -> approved (token allowance) -> open (CFP) -> awarded -> received, or failed
(no bid, cancelled) after which the reorder check may start another.
"""

from __future__ import annotations

import logging
from typing import Any

from eth_typing import HexStr

from ..chain import GOODS, ChainEvent
from ..strategy.buyer import ConstantPolicy, Weights, choose_award, should_reorder
from ..transcript import BROADCAST, Performative
from ..wording import money
from .base import ApprovalGate, Role

log = logging.getLogger("asc.agents.buying")

ACTIVE = ("new", "approved", "open", "awarded")


class GoodsBuyer(ApprovalGate, Role):
    seller_roles: int = 1  # whom our CFPs call: SUPPLIER by default

    # ------------------------------------------------------------------ reordering

    def demand_history(self, product: str) -> list[tuple[int, int]]:
        return sorted((int(d["t_ms"]), int(d["quantity"])) for d in self.state.facts("demand").values()
                      if d["product"] == product)

    def _policy(self, product: Any, now_s: int) -> Any:
        fallback = ConstantPolicy(product.reorder_point, product.order_quantity)
        planner = self.ctx.planner or fallback
        try:
            return planner.policy(product.product, self.demand_history(product.product), now_s * 1000)
        except ValueError as exc:  # too little history to forecast: the config's constants until there is
            log.debug("%s: forecast unavailable (%s); constant policy", product.product, exc)
            return fallback.policy(product.product, [], now_s * 1000)

    def _intents(self) -> dict[str, dict[str, Any]]:
        return self.state.facts("intent")

    def new_intent(self, product: str, quantity: int, why: list[str], exclude: list[str] | None = None) -> int:
        number = len(self._intents()) + 1
        self.state.put_fact("intent", number, {"n": number, "product": product, "quantity": quantity,
                                               "status": "new", "exclude": exclude or [], "why": why})
        return number

    def reorder_check(self, now_s: int) -> None:
        intents = self._intents().values()
        for product in self.cfg.products:
            if product.max_unit_price == 0:
                continue
            if any(i["product"] == product.product and i["status"] in ("new", "approved", "open") for i in intents):
                continue  # one call for proposals per product at a time
            on_order = sum(int(i["quantity"]) for i in intents
                           if i["product"] == product.product and i["status"] in ACTIVE)
            policy = self._policy(product, now_s)
            available = self.state.available(product.product)
            quantity = should_reorder(available, on_order, policy)
            if quantity:
                why = [f"free stock {available} + on order {on_order} < reorder point {policy.reorder_point}",
                       *policy.reasons]
                number = self.new_intent(product.product, quantity, why)
                log.info("%s: reorder %d %s (intent %d)", self.cfg.name, quantity, product.product, number)

    # ------------------------------------------------------------------ the purchase

    def _open(self, intent: dict[str, Any], now_s: int) -> None:
        n, product = intent["n"], self.cfg.product(intent["product"])
        assert product is not None
        buying = self.cfg.buying
        budget = intent["quantity"] * product.max_unit_price
        chain = self.ctx.chain
        if intent["status"] == "new":
            approve = self.ctx.act(f"allow:{n}", chain.token.functions.approve(chain.escrow.address, budget),
                                   f"allow escrow {budget} for intent {n}")
            if not approve.ok:
                if approve.done:
                    self.state.update_fact("intent", n, status="failed", error=approve.error)
                return
            intent = self.state.update_fact("intent", n, status="approved")
        deadline = now_s + buying.delivery_within_s
        commit, reveal = now_s + buying.commit_s, now_s + buying.commit_s + buying.reveal_s
        award = min(deadline, reveal + buying.award_s)
        sla = buying.sla
        params = self.state.fact("intent_params", n)
        if params is None:  # fixed once, so a resend after a crash sends the same CFP
            params = {"p": [
                GOODS, 0, "0x" + self.place(product.product).hex(), intent["quantity"], product.max_unit_price,
                now_s, deadline, "0x" + bytes(32).hex(), "0x" + self.place(self.cfg.region).hex(), self.seller_roles,
                commit, reveal, award,
                [sla.temp_min_centi_c, sla.temp_max_centi_c, sla.humidity_min_bp, sla.humidity_max_bp,
                 sla.shock_limit_milli_g, sla.excursion_grace_s],
                [deadline, sla.penalty_per_hour_late, sla.penalty_per_excursion, sla.penalty_cap],
            ]}
            self.state.put_fact("intent_params", n, params)
        p = list(params["p"])
        p[2], p[7], p[8] = bytes.fromhex(p[2][2:]), bytes.fromhex(p[7][2:]), bytes.fromhex(p[8][2:])
        p[13], p[14] = tuple(p[13]), tuple(p[14])
        opened = self.ctx.act(f"open:{n}", chain.procurement.functions.openCfp(tuple(p)),
                              f"call for proposals: {intent['quantity']} {product.product}")
        if not opened.done:
            return
        if not opened.ok:
            self.state.update_fact("intent", n, status="failed", error=opened.error)
            return
        assert opened.tx_hash is not None  # mined
        receipt = chain.w3.eth.get_transaction_receipt(HexStr(opened.tx_hash))
        cfp_id = next(e.args["cfpId"] for e in map(chain.decode, receipt["logs"]) if e and e.name == "CfpOpened")
        self.state.update_fact("intent", n, status="open", cfp=int(cfp_id))
        self.say("cfp", int(cfp_id), BROADCAST, Performative.CFP,
                 f"{self.cfg.name} calls for {intent['quantity']} {product.product} to {self.cfg.region}, "
                 f"at most {money(product.max_unit_price)} per unit, "
                 f"delivery within {buying.delivery_within_s // 3600} h",
                 tx_hash=opened.tx_hash, quantity=intent["quantity"], product=product.product,
                 max_unit_price=product.max_unit_price, deadline_s=deadline, why=intent.get("why", []))

    def _award(self, intent: dict[str, Any], now_s: int) -> None:
        cfp_id = int(intent["cfp"])
        cfp = self.state.fact("cfp", cfp_id)
        if cfp is None or now_s <= cfp["reveal"]:
            return
        if cfp.get("status") == "awarded":
            self.state.update_fact("intent", intent["n"], status="awarded", order=cfp_id)
            return
        bids = [b for b in self.revealed_bids(cfp_id) if b.bidder not in intent.get("exclude", [])]
        if now_s > cfp["award"] or cfp.get("status") != "open":
            if cfp.get("status") == "open":
                self.ctx.act(f"expire:{cfp_id}", self.ctx.chain.procurement.functions.expire(cfp_id),
                             f"expire CFP {cfp_id}")
            self.state.update_fact("intent", intent["n"], status="failed", error="no award before the deadline")
            self.say("cfp", cfp_id, BROADCAST, Performative.INFORM, f"CFP {cfp_id} closed without an award")
            return
        if not bids and self.revealed_bids(cfp_id):
            self._withdraw_call(intent, cfp_id)
            return
        buying = self.cfg.buying
        decision = choose_award(bids, now_s=now_s, deadline_s=cfp["window_end"], risk=self.risk,
                                weights=Weights(buying.price_weight, buying.eta_weight, buying.risk_weight))
        if decision.winner is None:
            return  # wait: a bid may still arrive... no, reveals are over; the expiry path handles it
        winner = decision.winner
        value = winner.unit_price * cfp["quantity"]
        subject = f"{self.ctx.conversation('cfp', cfp_id)}:{winner.bidder}"  # a rejection asks about the next
        verdict = self.approval_gate(
            "award", subject, f"award CFP {cfp_id} to {winner.bidder} for {money(value)}",
            {"award_to": winner.bidder, "unit_price": winner.unit_price, "eta_s": winner.eta_s},
            list(decision.reasons), value=value,
        )

        def exclude(_error: str | None = None) -> None:
            self.state.update_fact("intent", intent["n"], exclude=[*intent.get("exclude", []), winner.bidder])

        self.award_if_approved(verdict, cfp_id, decision, f"CFP {cfp_id}", exclude, exclude)

    def _withdraw_call(self, intent: dict[str, Any], cfp_id: int) -> None:
        """Every revealed bid is excluded (rejected by the approver, or a seller that let us down): waiting for
        the award deadline gains nothing, so the call is cancelled now and the intent fails; the next reorder
        check tenders afresh, where every seller may bid again and an award above the limit asks again."""
        outcome = self.ctx.act(f"cancel-cfp:{cfp_id}", self.ctx.chain.procurement.functions.cancel(cfp_id),
                               f"cancel CFP {cfp_id}: every bid was rejected")
        if not outcome.done:
            return
        self.state.update_fact("intent", intent["n"], status="failed",
                               error="every revealed bid was rejected" if outcome.ok else outcome.error)
        self.say("cfp", cfp_id, BROADCAST, Performative.INFORM,
                 f"{self.cfg.name} withdraws CFP {cfp_id}: every bid was rejected; it will call for proposals again",
                 tx_hash=outcome.tx_hash)

    def on_cfp_awarded(self, e: ChainEvent) -> None:
        cfp = self.state.fact("cfp", e.args["cfpId"]) or {}
        if cfp.get("buyer") != self.me or cfp.get("kind") != GOODS:
            return
        for key, intent in self._intents().items():
            if intent.get("cfp") == cfp["id"]:
                self.state.update_fact("intent", key, status="awarded", order=cfp["id"])
        self.announce_award(e, cfp)

    def _watch_delivery(self, intent: dict[str, Any], now_s: int) -> None:
        """Fallback: an awarded seller that has not handed the goods over within the grace period."""
        order = self.state.fact("order", intent["order"]) or {}
        if order.get("status") != "active" or order.get("picked_up"):
            return
        if not intent.get("fallback") and now_s > int(order["awarded_at"]) + self.cfg.buying.ship_grace_s:
            exclude = [*intent.get("exclude", []), order["seller"]]
            number = self.new_intent(intent["product"], int(intent["quantity"]),
                                     [f"seller {order['seller']} did not ship order {order['id']} in time"], exclude)
            self.state.update_fact("intent", intent["n"], fallback=number)
            self.say("order", int(order["id"]), order["seller"], Performative.INFORM,
                     f"{self.cfg.name} reorders from the next-best seller: order {order['id']} was not shipped")
        if now_s > int(order["deadline"]):
            outcome = self.ctx.act(f"cancel:{order['id']}",
                                   self.ctx.chain.escrow.functions.cancelOrder(int(order["id"])),
                                   f"cancel unshipped order {order['id']}")
            if outcome.done:
                self.state.update_fact("intent", intent["n"], status="failed", error="cancelled: not shipped")

    def act(self, now_s: int) -> None:
        self.reorder_check(now_s)
        for intent in self._intents().values():
            if intent["status"] in ("new", "approved"):
                self._open(intent, now_s)
            elif intent["status"] == "open":
                self._award(intent, now_s)
            elif intent["status"] == "awarded":
                self._watch_delivery(intent, now_s)

    # ------------------------------------------------------------------ delivery and settlement

    def _my_purchase(self, order_id: int | None) -> dict[str, Any] | None:
        if order_id is None:
            return None
        order = self.state.fact("order", order_id)
        return order if order is not None and order.get("buyer") == self.me else None

    def on_handoff_offered(self, e: ChainEvent) -> None:
        twin = int(e.args["twinId"])
        order = self._my_purchase(self.order_of_twin(twin))
        if order is None or e.args["to"] != self.me:
            return
        outcome = self.ctx.act(
            f"receive:{twin}",
            self.ctx.chain.custody.functions.acceptHandoff(
                twin, e.args["location"], self.condition_hash(twin, "receive")
            ),
            f"accept delivery of twin {twin}",
        )
        self.say("order", int(order["id"]), e.args["from"], Performative.ACCEPT,
                 f"{self.cfg.name} accepts delivery of order {order['id']}", tx_hash=outcome.tx_hash)

    def on_order_settled(self, e: ChainEvent) -> None:
        order_id = int(e.args["orderId"])
        order = self._my_purchase(order_id)
        if order is None:
            return
        self.state.move(f"received:{order_id}", order["product"], int(order["quantity"]), "received")
        for key, intent in self._intents().items():
            if intent.get("order") == order_id:
                self.state.update_fact("intent", key, status="received")
        refund = int(e.args["buyerRefund"])
        self.say("order", order_id, BROADCAST, Performative.INFORM,
                 f"{self.cfg.name} received {order['quantity']} {order['product']}; order {order_id} settled "
                 f"(refund {refund})", tx_hash=e.tx_hash)
        if refund and self.ctx.chain.escrow.functions.credit(self.me).call() > 0:
            self.ctx.act(f"withdraw:{order_id}", self.ctx.chain.escrow.functions.withdraw(),
                         f"withdraw refund of order {order_id}")

    def on_order_cancelled(self, e: ChainEvent) -> None:
        order_id = int(e.args["orderId"])
        if self._my_purchase(order_id) is not None and self.ctx.chain.escrow.functions.credit(self.me).call() > 0:
            self.ctx.act(f"withdraw-refund:{order_id}", self.ctx.chain.escrow.functions.withdraw(),
                         f"withdraw refund of cancelled order {order_id}")
