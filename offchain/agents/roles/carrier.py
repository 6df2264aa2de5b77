"""The 3PL carrier: bid on delivery CFPs from its trucks (world.plan), dispatch the truck it won with, take
custody once the goods are on board, deliver and hand over to the consignee, withdraw its freight.

Self-healing: on a REROUTE of an order it carries, it diverts its truck to the handover place and offers the
goods to the carrier that wins the reroute; a carrier winning a reroute meets the truck there, transfers the
pallet in the world and accepts custody on-chain. The handover place is the configured place nearest (by
road) to the order's destination: every carrier computes the same one from the same list.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ..chain import DELIVERY, ChainEvent, from_bytes32
from ..strategy.carrier import DeliveryRequest, NoBid, Tariff, carrier_bid
from ..transcript import Performative
from ..world import NotArrivedError, NotAtSamePlaceError, RoutePlan, WorldError, WorldPort
from .bidding import BidPlan, SealedBidder

log = logging.getLogger("asc.agents.carrier")

# Chilled goods need a working reefer; above this upper bound (15 degC) any box will do.
REEFER_BELOW_CENTI_C = 1500
DEFAULT_MASS_KG_PER_UNIT = 10
# Job states in which the job's truck is taken (awarded but not yet left, on its way, loaded, handing over).
_BUSY_JOB = frozenset({"awarded", "dispatched", "carrying", "diverting", "delivering", "handing_over"})


class CarrierRole(SealedBidder):
    @property
    def world(self) -> WorldPort:
        if self.ctx.world is None:
            raise RuntimeError("a carrier needs the world (ASC_AGENT_WORLD_URL)")
        return self.ctx.world

    def handover_place(self, destination: str) -> str | None:
        places = self.cfg.handover_places
        if not places:
            return None
        return min(places, key=lambda p: (self.world.plan(p, destination).duration_ms, p))

    def _route(self, cfp: dict[str, Any]) -> tuple[str, str] | None:
        if cfp.get("reroute"):
            place = self.handover_place(cfp["destination"])
            return None if place is None else (place, cfp["destination"])
        if not cfp.get("origin") or not cfp.get("destination"):
            return None
        return cfp["origin"], cfp["destination"]

    def plan_bid(self, cfp: dict[str, Any], now_s: int) -> BidPlan | tuple[str, ...] | None:
        if cfp["kind"] != DELIVERY:
            return None
        route = self._route(cfp)
        if route is None:
            return ("no place to meet for a reroute (no handover places configured)",)
        origin, destination = route
        fleet_cfg = self.cfg.fleet
        assert fleet_cfg is not None
        ours = {v.id for v in fleet_cfg.vehicles}
        promised = self._promised_vehicles(exclude_cfp=int(cfp["id"]))
        vehicles = [v for v in self.world.fleet(fleet_cfg.carrier_name) if v.id in ours and v.id not in promised]
        if ours and ours <= promised:
            return (f"every truck is promised to an open bid or a job not yet picked up: {sorted(promised)}",)
        to_origin: dict[str, RoutePlan] = {}
        for v in vehicles:
            if v.place is not None:
                try:
                    to_origin[v.id] = self.world.plan(v.place, origin)
                except WorldError:
                    continue
        try:
            trip = self.world.plan(origin, destination)
        except WorldError as exc:
            return (f"no route from {origin} to {destination}: {exc}",)
        sla = self.ctx.chain.procurement.functions.slaTerms(cfp["parent"]).call()
        request = DeliveryRequest(
            cfp["id"], cfp["quantity"], cfp["quantity"] * DEFAULT_MASS_KG_PER_UNIT, origin, destination,
            cfp["max_unit_price"], cfp["window_end"], needs_reefer=int(sla[1]) < REEFER_BELOW_CENTI_C,
        )
        tariff = Tariff(fleet_cfg.price_per_unit_km, fleet_cfg.min_unit_price, fleet_cfg.eta_slack_s)
        decision = carrier_bid(request, vehicles, to_origin, trip, tariff, now_s)
        if isinstance(decision, NoBid):
            return decision.reasons
        return BidPlan(decision.unit_price, decision.eta_s, decision.reasons,
                       {"vehicle": decision.vehicle_id, "origin": origin, "destination": destination})

    def _promised_vehicles(self, exclude_cfp: int) -> set[str]:
        """Trucks named in a bid on a CFP still open, or in a job not finished: a truck idle in the world may
        already be promised (it won a CFP it has not left for yet), and one truck must never win two jobs."""
        promised: set[str] = set()
        for job in self.state.facts("job").values():
            if job.get("status") in _BUSY_JOB and job.get("vehicle"):
                promised.add(str(job["vehicle"]))
        for key, cfp in self.state.facts("cfp").items():
            if cfp.get("status") != "open" or int(key) == exclude_cfp:
                continue
            secret = self.state.bid(int(key))
            if secret is not None:
                vehicle = json.loads(secret.detail).get("vehicle")
                if vehicle:
                    promised.add(str(vehicle))
        return promised

    # ------------------------------------------------------------------ winning and carrying

    def on_cfp_awarded(self, e: ChainEvent) -> None:
        cfp = self.state.fact("cfp", e.args["cfpId"]) or {}
        if cfp.get("kind") != DELIVERY:
            return
        order = self.state.fact("order", cfp["parent"]) or {}
        if e.args["winner"] != self.me:
            job = self.state.fact("job", cfp["parent"])
            if cfp.get("reroute") and job is not None and job.get("status") in ("carrying", "diverting"):
                self.state.update_fact("job", cfp["parent"], status="handing_over", successor=e.args["winner"])
            return
        secret = self.state.bid(int(cfp["id"]))
        detail = json.loads(secret.detail) if secret is not None else {}
        job = {"order": cfp["parent"], "cfp": cfp["id"], "twin": order.get("twin"), "vehicle": detail.get("vehicle"),
               "origin": detail.get("origin"), "destination": detail.get("destination"),
               "reroute": bool(cfp.get("reroute")), "status": "awarded", "consignee": order.get("buyer")}
        self.state.put_fact("job", cfp["parent"], job)
        if self.cfg.faults.no_show:
            log.warning("fault injection: %s won delivery CFP %d and will not show up", self.cfg.name, cfp["id"])
            self.state.update_fact("job", cfp["parent"], status="no_show")
            return
        self._dispatch(job, order)

    def _dispatch(self, job: dict[str, Any], order: dict[str, Any]) -> None:
        product = self.cfg.product(order.get("product", "")) if self.cfg.products else None
        sla = self.ctx.chain.procurement.functions.slaTerms(job["order"]).call()
        setpoint = (int(sla[0]) + int(sla[1])) // 2
        mass = int(order.get("quantity", 1)) * (product.mass_kg_per_unit if product else DEFAULT_MASS_KG_PER_UNIT)
        self.world.dispatch(job["vehicle"], str(job["twin"]), job["origin"], job["destination"],
                            setpoint_centi_c=setpoint, product=order.get("product", ""), mass_kg=mass)
        self.state.update_fact("job", job["order"], status="dispatched")
        self.say("order", int(job["order"]), order.get("seller", ""), Performative.INFORM,
                 f"{self.cfg.name} dispatched {job['vehicle']} to {job['origin']} for order {job['order']}")

    def on_handoff_accepted(self, e: ChainEvent) -> None:
        """Custody moved on-chain: our job follows the event, not the receipt we happened to see."""
        order_id = self.order_of_twin(int(e.args["twinId"]))
        job = None if order_id is None else self.state.fact("job", order_id)
        if order_id is None or job is None:
            return
        if e.args["to"] == self.me and job["status"] == "dispatched":
            self.state.update_fact("job", order_id, status="carrying")
            self.say("order", order_id, e.args["from"], Performative.ACCEPT,
                     f"{self.cfg.name} took custody of order {order_id} at {from_bytes32(e.args['location'])}",
                     tx_hash=e.tx_hash)
        elif e.args["from"] == self.me and e.args["to"] == job.get("consignee"):
            self.state.update_fact("job", order_id, status="delivered")
        elif e.args["from"] == self.me:
            self.state.update_fact("job", order_id, status="handed_over")

    def on_reroute_opened(self, e: ChainEvent) -> None:
        job = self.state.fact("job", e.args["orderId"])
        if job is None or job.get("status") != "carrying":
            return
        cfp = self.state.fact("cfp", e.args["cfpId"]) or {}
        place = self.handover_place(cfp.get("destination", ""))
        if place is None:
            log.error("order %s rerouted but no handover place is configured", e.args["orderId"])
            return
        self.world.divert(job["vehicle"], place)
        self.state.update_fact("job", e.args["orderId"], status="diverting", handover=place)
        self.say("order", int(e.args["orderId"]), cfp.get("buyer", ""), Performative.INFORM,
                 f"{self.cfg.name} diverts {job['vehicle']} to {place} to hand over order {e.args['orderId']}",
                 tx_hash=e.tx_hash)

    def on_order_settled(self, e: ChainEvent) -> None:
        job = self.state.fact("job", e.args["orderId"])
        if job is not None and self.ctx.chain.escrow.functions.credit(self.me).call() > 0:
            self.ctx.act(f"withdraw:{e.args['orderId']}", self.ctx.chain.escrow.functions.withdraw(),
                         f"withdraw freight of order {e.args['orderId']}")
            self.state.update_fact("job", e.args["orderId"], status="paid")

    def _offer_to_me(self, twin: int) -> dict[str, Any] | None:
        offer = self.state.fact("offer", twin)
        if offer is None or offer.get("to") != self.me or offer.get("accepted") or offer.get("cancelled"):
            return None
        return offer

    def _take_custody(self, job: dict[str, Any]) -> None:
        twin = int(job["twin"])
        offer = self._offer_to_me(twin)
        if offer is None:
            return
        vehicle = self.world.vehicle(job["vehicle"])
        if job["reroute"] and str(twin) not in vehicle.shipments:
            if vehicle.status != "waiting":
                return
            try:
                self.world.transfer(str(twin), job["vehicle"])
            except NotAtSamePlaceError:
                return  # the other truck is not there yet
        elif str(twin) not in vehicle.shipments:
            return  # not loaded yet
        self.ctx.act(
            f"take:{twin}:{job['cfp']}",
            self.ctx.chain.custody.functions.acceptHandoff(
                twin, self.place(offer["location"]), self.condition_hash(twin, f"take-{job['cfp']}")
            ),
            f"take custody of twin {twin}",
        )  # the HandoffAccepted event moves the job on

    def _deliver(self, job: dict[str, Any]) -> None:
        vehicle = self.world.vehicle(job["vehicle"])
        if vehicle.place != job["destination"] or vehicle.status not in ("arrived", "idle", "waiting"):
            return
        twin = int(job["twin"])
        try:
            self.world.unload(str(twin))
        except NotArrivedError:
            return
        outcome = self.ctx.act(
            f"deliver:{twin}",
            self.ctx.chain.custody.functions.offerHandoff(
                twin, job["consignee"], self.place(job["destination"]), self.condition_hash(twin, "deliver")
            ),
            f"offer delivery of twin {twin} to {job['consignee']}",
        )
        if outcome.ok:
            self.state.update_fact("job", job["order"], status="delivering")
            self.say("order", int(job["order"]), job["consignee"], Performative.INFORM,
                     f"{self.cfg.name} delivered order {job['order']} at {job['destination']}; please accept custody",
                     tx_hash=outcome.tx_hash)

    def _hand_over(self, job: dict[str, Any]) -> None:
        twin, successor = int(job["twin"]), job["successor"]
        outcome = self.ctx.act(
            f"handover:{twin}:{successor}",
            self.ctx.chain.custody.functions.offerHandoff(
                twin, successor, self.place(job["handover"]), self.condition_hash(twin, "handover")
            ),
            f"offer twin {twin} to the reroute carrier {successor}",
        )
        if outcome.ok:
            self.state.update_fact("job", job["order"], status="handed_over")

    def act(self, now_s: int) -> None:
        for job in self.state.facts("job").values():
            try:
                if job["status"] == "dispatched":
                    self._take_custody(job)
                elif job["status"] == "carrying":
                    self._deliver(job)
                elif job["status"] == "handing_over" and job.get("handover"):
                    self._hand_over(job)
            except WorldError as exc:
                log.warning("order %s: the world refused (%s); retrying next round", job["order"], exc)
