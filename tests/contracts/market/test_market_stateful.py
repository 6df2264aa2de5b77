"""Stateful property test of the market: random sequences of CFPs, sealed bids, awards (funding), delivery
legs, penalties, handoffs, deliveries, cancellations, withdrawals and time, checked against a Python model.

Invariants after every step: token.balanceOf(escrow) == outstanding() == funded-but-open orders + credits;
every account's credit equals the model's; nobody is paid twice (withdrawn + credit == credited); each
closed order credited exactly its amount (checked on the settling transaction's events).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brownie import web3
from hypothesis import strategies as st

from .helpers import (
    CARRIER,
    DELIVERY,
    DELIVERY_GRACE,
    GOODS,
    UNIT,
    advance_to,
    as_tuple,
    cfp_params,
    commitment,
    money_terms,
    reverts_with,
    salt_for,
    set_next_block_time,
)

NO_LEG = 255
ACTIVE, SETTLED, CANCELLED = 1, 2, 3
PHASE = 1000  # seconds per bidding phase, far above the wall-clock time a step takes


def latest() -> int:
    return int(web3.eth.get_block("latest")["timestamp"])


MAX96 = 2**96 - 1


@dataclass
class LegModel:
    carrier: str
    freight: int
    claimed: int = 0


@dataclass
class OrderModel:
    order_id: int
    buyer: str
    seller: str
    amount: int
    deadline: int
    per_hour: int
    per_excursion: int
    cap: int
    holder: str
    legs: list[LegModel] = field(default_factory=list)
    active: int = NO_LEG
    picked_up: bool = False
    status: int = ACTIVE
    seller_claimed: int = 0

    def seller_share(self) -> int:
        """Room for freight: what the seller keeps after every leg and every claim against it so far."""
        return max(self.amount - self.seller_claimed - sum(leg.freight for leg in self.legs), 0)

    def leg_of(self, holder: str) -> int:
        start = 0 if self.active == NO_LEG else self.active + 1
        for i in [*range(start, len(self.legs)), *range(min(start, len(self.legs)))]:
            if self.legs[i].carrier == holder:
                return i
        return NO_LEG

    def claim(self, raw: int) -> int:
        """A claim against the party liable now; clamped only at settlement."""
        raw = min(raw, MAX96)
        if self.active == NO_LEG:
            self.seller_claimed = min(self.seller_claimed + raw, MAX96)
        else:
            leg = self.legs[self.active]
            leg.claimed = min(leg.claimed + raw, MAX96)
        return raw

    def settle(self) -> tuple[int, list[int], int]:
        """Seller payout, carrier payouts, buyer refund: the cap is spent seller first, then legs by index."""
        cap_left = self.cap
        seller_share = self.amount - sum(leg.freight for leg in self.legs)
        seller_charge = min(self.seller_claimed, seller_share, cap_left)
        cap_left -= seller_charge
        refund = seller_charge
        carrier_pay = []
        for leg in self.legs:
            charge = min(leg.claimed, leg.freight, cap_left)
            cap_left -= charge
            refund += charge
            carrier_pay.append(leg.freight - charge)
        return seller_share - seller_charge, carrier_pay, refund


class MarketMachine:
    quantity = st.integers(1, 5)
    price = st.integers(1, 100)
    bids = st.lists(st.integers(1, 100), min_size=0, max_size=2)
    bids_some = st.lists(st.integers(1, 100), min_size=1, max_size=2)
    outcome = st.sampled_from(["best", "best", "buyer", "buyer", "cancel", "expire"])
    deadline_offset = st.integers(0, 20_000)
    per_hour = st.integers(1, 20)
    per_excursion = st.integers(1, 100)
    cap_percent = st.integers(20, 150)
    pick = st.integers(0, 2**16)
    freight_percent = st.integers(1, 120)
    who = st.integers(0, 3)
    severity = st.integers(0, 4)
    seconds = st.sampled_from([1, 600, 3600, 20_000, DELIVERY_GRACE + 1])

    def __init__(
        self, market: Any, buyer: Any, suppliers: list[Any], carriers: list[Any], warehouse: Any, hooks: Any
    ) -> None:
        self.market = market
        self.buyer = buyer
        self.suppliers = suppliers
        self.carriers = carriers
        self.warehouse = warehouse
        self.custody_hook, self.verdict_hook = hooks
        self.parties = [buyer, *suppliers, *carriers]

    def setup(self) -> None:
        self.orders: list[OrderModel] = []
        self.credits: dict[str, int] = {p.address: 0 for p in self.parties}
        self.credited: dict[str, int] = {p.address: 0 for p in self.parties}
        self.withdrawn: dict[str, int] = {p.address: 0 for p in self.parties}

    # ------------------------------------------------------------------ model helpers
    def _credit(self, account: str, amount: int) -> None:
        if amount:
            self.credits[account] += amount
            self.credited[account] += amount

    def _assert_order_credited(self, tx: Any, order: OrderModel) -> None:
        credited = sum(e["amount"] for e in tx.events["Credited"] if e["orderId"] == order.order_id)
        assert credited == order.amount

    def _order(self, pick: int) -> OrderModel | None:
        return self.orders[pick % len(self.orders)] if self.orders else None

    def _run_cfp(self, params: dict[str, Any], opener: Any, bidders: list[tuple[Any, int]]) -> int:
        p = self.market.procurement
        cfp_id = int(p.openCfp(as_tuple(params), {"from": opener}).return_value)
        eta = params["windowEnd"]
        for bidder, price in bidders:
            p.commitBid(cfp_id, commitment(cfp_id, bidder, price, eta, salt_for(bidder)), {"from": bidder})
        advance_to(params["commitDeadline"] + 1)
        for bidder, price in bidders:
            p.revealBid(cfp_id, price, eta, salt_for(bidder), {"from": bidder})
        advance_to(params["revealDeadline"] + 1)
        return cfp_id

    def _timing(self) -> dict[str, int]:
        now = latest()
        return {
            "commitDeadline": now + PHASE,
            "revealDeadline": now + 2 * PHASE,
            "awardDeadline": now + 3 * PHASE,
            "windowStart": now,
        }

    # ------------------------------------------------------------------ rules
    def initialize_order(
        self, quantity: int, deadline_offset: int, per_hour: int, per_excursion: int, cap_percent: int,
        bids: Any = "bids_some",
    ) -> None:  # fmt: skip
        # Every run starts with one funded order, so the other rules have something to act on.
        self.rule_goods(quantity, bids, "best", deadline_offset, per_hour, per_excursion, cap_percent)

    def rule_goods(
        self, quantity: int, bids: list[int], outcome: str, deadline_offset: int, per_hour: int,
        per_excursion: int, cap_percent: int,
    ) -> None:  # fmt: skip
        timing = self._timing()
        deadline = timing["awardDeadline"] + deadline_offset
        max_amount = 100 * UNIT * quantity
        terms = money_terms(deadline, per_hour * UNIT, per_excursion * UNIT, max_amount * cap_percent // 100)
        params = cfp_params(
            GOODS, quantity=quantity, maxUnitPrice=100 * UNIT, windowEnd=deadline, money=terms, **timing
        )
        bidders = [(self.suppliers[i], price * UNIT) for i, price in enumerate(bids)]
        cfp_id = self._run_cfp(params, self.buyer, bidders)
        p = self.market.procurement
        if outcome == "cancel":
            p.cancel(cfp_id, {"from": self.buyer})
            return
        if outcome == "expire" or not bidders:
            advance_to(params["awardDeadline"] + 1)
            p.expire(cfp_id, {"from": self.warehouse})
            return
        if outcome == "best":
            # Lowest price, ties to the earlier reveal (same ETA for all).
            winner, price = min(bidders, key=lambda b: b[1])
            p.awardBest(cfp_id, {"from": self.warehouse})
        else:
            winner, price = max(bidders, key=lambda b: b[1])
            p.award(cfp_id, winner, {"from": self.buyer})
        self.orders.append(
            OrderModel(
                cfp_id,
                self.buyer.address,
                winner.address,
                price * quantity,
                deadline,
                terms[1],
                terms[2],
                terms[3],
                winner.address,
            )
        )

    def rule_delivery(self, pick: int, who: int, freight_percent: int) -> None:
        order = self._order(pick)
        if order is None:
            return
        carrier = self.carriers[who % 2]
        # Mostly within the seller's share, sometimes above it (up to 120 %).
        amount = max(order.seller_share() * freight_percent // 100, 1)
        timing = self._timing()
        params = cfp_params(
            DELIVERY, order.order_id, quantity=1, maxUnitPrice=amount, windowEnd=timing["awardDeadline"],
            eligibleRoles=CARRIER, **timing,
        )  # fmt: skip
        seller = next(s for s in self.suppliers if s.address == order.seller)
        cfp_id = self._run_cfp(params, seller, [(carrier, amount)])
        award = self.market.procurement.awardBest
        if order.status != ACTIVE:
            with reverts_with("EscrowOrderNotActive", order.order_id, order.status):
                award(cfp_id, {"from": seller})
        elif len(order.legs) == 4:
            with reverts_with("EscrowTooManyLegs", order.order_id):
                award(cfp_id, {"from": seller})
        elif amount > order.seller_share():
            with reverts_with("EscrowFreightExceedsShare", order.order_id, amount, order.seller_share()):
                award(cfp_id, {"from": seller})
        else:
            tx = award(cfp_id, {"from": seller})
            assert tx.events["LegAdded"]["legIndex"] == len(order.legs)
            order.legs.append(LegModel(carrier.address, amount))

    def rule_handoff(self, pick: int, who: int, seconds: int) -> None:
        order = self._order(pick)
        if order is None:
            return
        # Goods travel: time passes before each handoff, so deliveries are often late.
        advance_to(latest() + seconds)
        to = [*self.carriers, self.warehouse, self.buyer][who].address
        if to == order.holder:
            return
        at = latest() + 1
        tx = self.market.escrow.onHandoff(order.order_id, order.holder, to, at, {"from": self.custody_hook})
        order.holder = to
        if order.status != ACTIVE:
            assert len(tx.events) == 0
            return
        if to == order.buyer:
            if at > order.deadline:
                hours = -(-(at - order.deadline) // 3600)
                claimed = order.claim(hours * order.per_hour)
                assert tx.events["PenaltyApplied"]["amount"] == claimed
            order.status = SETTLED
            seller_pay, carrier_pay, refund = order.settle()
            for leg, pay in zip(order.legs, carrier_pay, strict=True):
                self._credit(leg.carrier, pay)
            self._credit(order.buyer, refund)
            self._credit(order.seller, seller_pay)
            assert tx.events["OrderSettled"]["buyerRefund"] == refund
            self._assert_order_credited(tx, order)
            return
        order.active = order.leg_of(to)
        order.picked_up = True
        assert tx.events["LiabilityMoved"]["activeLeg"] == order.active

    def rule_penalty(self, pick: int, severity: int) -> None:
        order = self._order(pick)
        if order is None:
            return
        verdict = web3.keccak(text=f"verdict-{latest()}-{pick}")
        if order.status != ACTIVE:
            with reverts_with("EscrowOrderNotActive", order.order_id, order.status):
                self.market.escrow.applyPenalty(
                    order.order_id, verdict, severity, {"from": self.verdict_hook}
                )
            return
        tx = self.market.escrow.applyPenalty(order.order_id, verdict, severity, {"from": self.verdict_hook})
        assert tx.return_value == order.claim(order.per_excursion * severity)

    def rule_cancel(self, pick: int, who: int) -> None:
        order = self._order(pick)
        if order is None:
            return
        caller = order.seller if who % 2 == 0 else order.buyer
        now = latest() + 1
        set_next_block_time(now)
        cancel = self.market.escrow.cancelOrder
        if order.status != ACTIVE:
            with reverts_with("EscrowOrderNotActive", order.order_id, order.status):
                cancel(order.order_id, {"from": caller})
            return
        if caller == order.seller:
            allowed = not order.picked_up
        else:
            allowed = now > order.deadline + (DELIVERY_GRACE if order.picked_up else 0)
        if not allowed:
            with reverts_with("EscrowCancelNotAllowed", order.order_id, caller):
                cancel(order.order_id, {"from": caller})
            return
        tx = cancel(order.order_id, {"from": caller})
        order.status = CANCELLED
        self._credit(order.buyer, order.amount)
        self._assert_order_credited(tx, order)

    def rule_withdraw(self, pick: int) -> None:
        # Prefer parties with something to withdraw; with none, check the empty withdrawal fails.
        owed_parties = [p for p in self.parties if self.credits[p.address]] or self.parties
        party = owed_parties[pick % len(owed_parties)]
        owed = self.credits[party.address]
        if owed == 0:
            with reverts_with("EscrowNothingToWithdraw", party.address):
                self.market.escrow.withdraw({"from": party})
            return
        before = self.market.token.balanceOf(party)
        self.market.escrow.withdraw({"from": party})
        assert self.market.token.balanceOf(party) - before == owed
        self.credits[party.address] = 0
        self.withdrawn[party.address] += owed

    def rule_sleep(self, seconds: int) -> None:
        advance_to(latest() + seconds)

    # ------------------------------------------------------------------ invariants
    def invariant_balance_matches_outstanding(self) -> None:
        escrow = self.market.escrow
        open_amounts = sum(o.amount for o in self.orders if o.status == ACTIVE)
        assert self.market.token.balanceOf(escrow) == escrow.outstanding()
        assert escrow.outstanding() == open_amounts + sum(self.credits.values())

    def invariant_credits_match_model(self) -> None:
        for party in self.parties:
            assert self.market.escrow.credit(party) == self.credits[party.address]

    def invariant_nobody_paid_twice(self) -> None:
        for account, credited in self.credited.items():
            assert self.withdrawn[account] + self.credits[account] == credited


def test_market_invariants(
    state_machine: Any, market: Any, buyer: Any, supplier: Any, supplier2: Any, carrier: Any, carrier2: Any,
    outsider: Any, custody_hook: Any, verdict_hook: Any,
) -> None:  # fmt: skip
    state_machine(
        MarketMachine,
        market,
        buyer,
        [supplier, supplier2],
        [carrier, carrier2],
        outsider,
        (custody_hook, verdict_hook),
        settings={"max_examples": 25, "stateful_step_count": 30, "deadline": None, "database": None},
    )
