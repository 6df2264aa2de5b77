"""A buyer awards on price, ETA and the bidder's on-chain SLA record, not on price alone.

The risk of a bidder comes from a `RiskScorer`: the learned `offchain.agents.risk.RiskModel` (agentsai) when
available, else `SlaRecordRisk`, the plain share of past orders that ended in a penalty or late.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class RevealedBid:
    bidder: str
    unit_price: int
    eta_s: int


@dataclass(frozen=True)
class RiskAssessment:
    score: float  # 0 = spotless record, 1 = fails every time
    reasons: tuple[str, ...] = ()


class RiskView(Protocol):
    """What an award needs from any risk assessment (ours, or `risk.RiskScore` of the learned model)."""

    @property
    def score(self) -> float: ...
    @property
    def reasons(self) -> Sequence[str]: ...


class RiskScorer(Protocol):
    def assess(self, address: str) -> RiskView: ...


@dataclass
class SlaRecord:
    """What the chain says about one party: orders/legs it held, penalties claimed against it, late ones."""

    jobs: int = 0
    penalties: int = 0
    late: int = 0
    penalty_amount: int = 0


@dataclass
class SlaRecordRisk:
    """The naive baseline: (penalised + late jobs + 1) / (jobs + 2) shrunk towards the prior of a newcomer."""

    records: Mapping[str, SlaRecord] = field(default_factory=dict)

    def assess(self, address: str) -> RiskAssessment:
        record = self.records.get(address, SlaRecord())
        bad = min(record.jobs, record.penalties + record.late)
        score = (bad + 1) / (record.jobs + 2)
        if record.jobs == 0:
            return RiskAssessment(score, ("no on-chain record yet",))
        return RiskAssessment(
            score, (f"{bad} of {record.jobs} past jobs penalised or late ({record.penalty_amount} base units)",)
        )


@dataclass(frozen=True)
class Weights:
    price: float = 1.0
    eta: float = 0.3
    risk: float = 0.5


@dataclass(frozen=True)
class Ranked:
    bid: RevealedBid
    cost: float
    risk: RiskView


@dataclass(frozen=True)
class AwardDecision:
    winner: RevealedBid | None
    ranking: tuple[Ranked, ...]
    reasons: tuple[str, ...]


def choose_award(
    bids: list[RevealedBid], *, now_s: int, deadline_s: int, risk: RiskScorer, weights: Weights = Weights()
) -> AwardDecision:
    """Rank bids by a weighted cost: price relative to the cheapest, time to delivery relative to the time
    the buyer allowed, and risk; a bid promising delivery after the deadline is last whatever its price."""
    if not bids:
        return AwardDecision(None, (), ("no bid was revealed",))
    cheapest = min(b.unit_price for b in bids)
    horizon = max(1, deadline_s - now_s)
    ranked: list[Ranked] = []
    for bid in bids:
        assessment = risk.assess(bid.bidder)
        late = bid.eta_s > deadline_s
        cost = (
            weights.price * bid.unit_price / cheapest
            + weights.eta * max(0, bid.eta_s - now_s) / horizon
            + weights.risk * assessment.score
            + (1_000.0 if late else 0.0)
        )
        ranked.append(Ranked(bid, cost, assessment))
    ranked.sort(key=lambda r: (r.cost, r.bid.unit_price, r.bid.eta_s, r.bid.bidder))
    best = ranked[0]
    reasons = [
        f"{best.bid.bidder[:10]} offers {best.bid.unit_price} per unit, delivery in "
        f"{max(0, best.bid.eta_s - now_s) / 3600:.1f} h, risk {best.risk.score:.2f}"
        + (f" ({'; '.join(best.risk.reasons)})" if best.risk.reasons else "")
    ]
    if best.bid.unit_price != cheapest:
        cheaper = next(r for r in ranked if r.bid.unit_price == cheapest)
        reasons.append(
            f"preferred over the cheapest bid {cheaper.bid.bidder[:10]} at {cheapest}: its risk "
            f"{cheaper.risk.score:.2f} and ETA cost more than the price difference"
        )
    if best.bid.eta_s > deadline_s:
        reasons.append("every bid promises delivery after the deadline")
    return AwardDecision(best.bid, tuple(ranked), tuple(reasons))


# ---------------------------------------------------------------- reordering


@dataclass(frozen=True)
class ReorderPolicy:
    reorder_point: int
    order_quantity: int
    reasons: tuple[str, ...]


class PolicyView(Protocol):
    """What reordering needs from any policy (ours, or `forecast.ReorderPolicy` of the learned forecast)."""

    @property
    def reorder_point(self) -> int: ...
    @property
    def order_quantity(self) -> int: ...
    @property
    def reasons(self) -> Sequence[str]: ...


class ReorderPlanner(Protocol):
    """Turns the order history of a product into a reorder point and quantity (the demand forecast)."""

    def policy(self, product: str, history: Sequence[tuple[int, int]], now_ms: int) -> PolicyView: ...


@dataclass(frozen=True)
class ConstantPolicy:
    """The naive baseline: the reorder point and quantity written in the config."""

    reorder_point: int
    order_quantity: int

    def policy(self, product: str, history: Sequence[tuple[int, int]], now_ms: int) -> ReorderPolicy:
        return ReorderPolicy(self.reorder_point, self.order_quantity, ("constant reorder point from the config",))


def should_reorder(available: int, on_order: int, policy: PolicyView) -> int:
    """Units to order now: the policy's quantity when the stock position (free + on order) is below the
    reorder point, else 0."""
    if available + on_order < policy.reorder_point:
        return max(policy.order_quantity, policy.reorder_point - available - on_order)
    return 0
