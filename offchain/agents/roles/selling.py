"""Selling goods (supplier; wholesaler to retailers): bid from stock and margin, reserve on award, name the
logistics agent (or tender delivery ourselves), hand the goods to the carrier, book the dispatch, withdraw."""

from __future__ import annotations

import logging
from typing import Any

from ..chain import DELIVERY, GOODS, ChainEvent
from ..config import ROLE_BITS, AgentKind
from ..strategy.seller import GoodsRequest, NoBid, seller_bid
from ..transcript import BROADCAST, Performative
from ..wording import money
from .bidding import BidPlan, SealedBidder

log = logging.getLogger("asc.agents.selling")


class GoodsSeller(SealedBidder):
    def plan_bid(self, cfp: dict[str, Any], now_s: int) -> BidPlan | tuple[str, ...] | None:
        if cfp["kind"] != GOODS:
            return None
        product = self.cfg.product(cfp["product"])
        if product is None:
            return None
        decision = seller_bid(
            GoodsRequest(cfp["id"], cfp["product"], cfp["quantity"], cfp["max_unit_price"], cfp["window_end"]),
            available=self.state.available(cfp["product"]),
            unit_cost=product.unit_cost,
            margin_bp=product.margin_bp,
            capacity=self.cfg.capacity,
            lead_time_s=product.lead_time_s,
            now_s=now_s,
        )
        if isinstance(decision, NoBid):
            return decision.reasons
        return BidPlan(decision.unit_price, decision.eta_s, decision.reasons, {})

    def _my_sale(self, order_id: int) -> dict[str, Any] | None:
        order = self.state.fact("order", order_id)
        return order if order is not None and order.get("seller") == self.me else None

    def on_cfp_awarded(self, e: ChainEvent) -> None:
        cfp = self.state.fact("cfp", e.args["cfpId"]) or {}
        if cfp.get("kind") == GOODS and e.args["winner"] == self.me:
            self._won(int(e.args["cfpId"]), cfp)
        elif cfp.get("kind") == DELIVERY and self._my_sale(cfp["parent"]) is not None:
            self.state.update_fact(
                "sale", cfp["parent"], carrier=e.args["winner"], pickup_place=self._pickup_place(cfp)
            )

    def _pickup_place(self, cfp: dict[str, Any]) -> str:
        return cfp.get("origin") or self.cfg.region

    def _won(self, order_id: int, cfp: dict[str, Any]) -> None:
        order = self.state.fact("order", order_id) or {}
        quantity = int(order.get("quantity", cfp["quantity"]))
        self.state.move(f"reserve:{order_id}", cfp["product"], 0, "reserve", reserve=quantity)
        self.state.put_fact("sale", order_id, {"order": order_id, "status": "won"})
        self.state.put_fact("demand", f"{cfp['product']}:{order_id}",
                            {"product": cfp["product"], "quantity": quantity, "t_ms": self.ctx.chain.now() * 1000})
        self.say("order", order_id, cfp["buyer"], Performative.ACCEPT,
                 f"{self.cfg.name} will deliver {quantity} {cfp['product']} (order {order_id}); stock reserved")
        if self.cfg.faults.no_show:
            log.warning("fault injection: %s won order %d and will not ship it", self.cfg.name, order_id)
            self.state.update_fact("sale", order_id, status="no_show")
            return
        agents = self.participants(ROLE_BITS[AgentKind.LOGISTICS], self.cfg.region) or self.participants(
            ROLE_BITS[AgentKind.LOGISTICS]
        )
        if agents:
            outcome = self.ctx.act(
                f"logistics:{order_id}",
                self.ctx.chain.procurement.functions.setLogisticsAgent(order_id, agents[0]),
                f"name {agents[0]} logistics agent of order {order_id}",
            )
            self.say("order", order_id, agents[0], Performative.INFORM,
                     f"{self.cfg.name} asks its logistics provider to tender delivery of order {order_id}",
                     tx_hash=outcome.tx_hash)
        elif hasattr(self, "tender"):
            self.tender(order_id, origin=self.cfg.region)
        else:
            log.error("order %d: no logistics agent registered and %s cannot tender itself", order_id, self.cfg.name)

    def on_handoff_accepted(self, e: ChainEvent) -> None:
        order_id = self.order_of_twin(int(e.args["twinId"]))
        order = None if order_id is None else self._my_sale(order_id)
        if order_id is None or order is None or e.args["from"] != self.me:
            return
        quantity = int(order["quantity"])
        self.state.move(f"dispatch:{order_id}", order["product"], -quantity, "dispatched", reserve=-quantity)
        self.state.update_fact("sale", order_id, status="dispatched")
        self.say("order", order_id, e.args["to"], Performative.INFORM,
                 f"{self.cfg.name} handed {quantity} {order['product']} to the carrier", tx_hash=e.tx_hash)

    def on_order_settled(self, e: ChainEvent) -> None:
        order = self._my_sale(int(e.args["orderId"]))
        if order is not None and int(e.args["sellerPayout"]) > 0:
            self.withdraw(int(e.args["orderId"]), int(e.args["sellerPayout"]))

    def on_order_cancelled(self, e: ChainEvent) -> None:
        order_id = int(e.args["orderId"])
        order = self._my_sale(order_id)
        if order is not None and not order.get("picked_up"):
            self.state.move(f"release:{order_id}", order["product"], 0, "release", reserve=-int(order["quantity"]))

    def withdraw(self, order_id: int, amount: int) -> None:
        if self.ctx.chain.escrow.functions.credit(self.me).call() == 0:
            return
        outcome = self.ctx.act(f"withdraw:{order_id}", self.ctx.chain.escrow.functions.withdraw(),
                               f"withdraw credit after order {order_id}")
        self.say("order", order_id, BROADCAST, Performative.INFORM,
                 f"{self.cfg.name} withdrew its credit ({money(amount)} from order {order_id})",
                 tx_hash=outcome.tx_hash)

    def act(self, now_s: int) -> None:
        """Hand the goods to the carrier that won the latest delivery leg (cancelling a stale offer first)."""
        for key, sale in self.state.facts("sale").items():
            carrier = sale.get("carrier")
            order = self.state.fact("order", key) or {}
            if not carrier or order.get("holder") != self.me or order.get("status") != "active":
                continue
            twin = int(order["twin"])
            offer = self.state.fact("offer", twin)
            live = offer is not None and not offer.get("accepted") and not offer.get("cancelled")
            if live and offer is not None and offer.get("from") == self.me:
                if offer["to"] == carrier:
                    continue
                self.ctx.act(f"cancel-offer:{twin}:{offer['to']}", self.ctx.chain.custody.functions.cancelOffer(twin),
                             f"withdraw the offer of twin {twin} to {offer['to']}")
            place = sale.get("pickup_place") or self.cfg.region
            outcome = self.ctx.act(
                f"pickup-offer:{twin}:{carrier}",
                self.ctx.chain.custody.functions.offerHandoff(
                    twin, carrier, self.place(place), self.condition_hash(twin, "pickup")
                ),
                f"offer twin {twin} to carrier {carrier} at {place}",
            )
            if outcome.done and not outcome.ok:
                log.error("order %s: offering custody to %s failed: %s", key, carrier, outcome.error)
