"""Sealed bidding, shared by sellers and carriers: commit when a CFP opens, reveal in the reveal phase.

The salt is stored before the commitment is sent, and the first stored secret is kept: an agent restarted
between the two reveals exactly what it committed.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from ..chain import DELIVERY, ChainEvent
from ..transcript import Performative
from ..wording import money, utc
from .base import Role

log = logging.getLogger("asc.agents.bidding")


@dataclass(frozen=True)
class BidPlan:
    unit_price: int
    eta_s: int
    reasons: tuple[str, ...]
    detail: dict[str, Any]


class SealedBidder(Role):
    def plan_bid(self, cfp: dict[str, Any], now_s: int) -> BidPlan | tuple[str, ...] | None:
        """The bid for `cfp`, the reasons not to bid, or None when the CFP is none of our business."""
        raise NotImplementedError

    def on_cfp_opened(self, e: ChainEvent) -> None:
        cfp = self.state.fact("cfp", e.args["cfpId"]) or {}
        if cfp.get("kind") == DELIVERY and not cfp.get("origin"):
            return  # a reroute: its RerouteOpened (same transaction, next log) says where it goes
        self.consider(cfp)

    def on_reroute_opened(self, e: ChainEvent) -> None:
        self.consider(self.state.fact("cfp", e.args["cfpId"]) or {})

    def consider(self, cfp: dict[str, Any]) -> None:
        if not cfp or cfp.get("buyer") == self.me or not cfp.get("roles", 0) & self.cfg.role_bits:
            return
        now = self.ctx.chain.now()
        if now > cfp["commit"]:
            return  # we were away during the whole commit phase
        if self.cfg.faults.silent:
            log.warning("fault injection: %s stays silent on CFP %d", self.cfg.name, cfp["id"])
            return
        plan = self.plan_bid(cfp, now)
        if plan is None:
            return
        if isinstance(plan, tuple):
            self.say("cfp", cfp["id"], cfp["buyer"], Performative.DECLINE, f"{self.cfg.name} does not bid: {plan[0]}",
                     reasons=list(plan))
            return
        secret = self.state.save_bid(cfp["id"], plan.unit_price, plan.eta_s, "0x" + secrets.token_bytes(32).hex(),
                                     plan.detail)
        procurement = self.ctx.chain.procurement
        commitment = procurement.functions.commitmentOf(
            cfp["id"], self.me, secret.unit_price, secret.eta, bytes.fromhex(secret.salt[2:])
        ).call()
        outcome = self.ctx.act(f"commit:{cfp['id']}", procurement.functions.commitBid(cfp["id"], commitment),
                               f"sealed bid on CFP {cfp['id']}")
        self.say("cfp", cfp["id"], cfp["buyer"], Performative.PROPOSE,
                 f"{self.cfg.name} sent a sealed bid on CFP {cfp['id']} (revealed after the commit phase)",
                 tx_hash=outcome.tx_hash, reasons=list(plan.reasons))

    def act(self, now_s: int) -> None:
        for cfp_key, cfp in self.state.facts("cfp").items():
            if cfp.get("status") != "open" or not cfp["commit"] < now_s <= cfp["reveal"]:
                continue
            secret = self.state.bid(int(cfp_key))
            if secret is None:
                continue
            committed = self.ctx.outcome(f"commit:{cfp_key}")
            if committed is None or not committed.ok or self.ctx.outcome(f"reveal:{cfp_key}") is not None:
                continue
            outcome = self.ctx.act(
                f"reveal:{cfp_key}",
                self.ctx.chain.procurement.functions.revealBid(
                    int(cfp_key), secret.unit_price, secret.eta, bytes.fromhex(secret.salt[2:])
                ),
                f"reveal bid on CFP {cfp_key}",
            )
            self.say("cfp", int(cfp_key), cfp["buyer"], Performative.PROPOSE,
                     f"{self.cfg.name} bids {money(secret.unit_price)} per unit, delivery by {utc(secret.eta)}",
                     tx_hash=outcome.tx_hash, unit_price=secret.unit_price, eta_s=secret.eta)
