"""Counterparty risk learned from on-chain history: how likely a carrier or seller is to deliver late or be
penalised, and what that is expected to cost, for the buyer's award.

    history = offchain.audit.history.rebuild(chain_id, to_block, events, transfers)   # or your own events
    model = RiskModel.from_outcomes(outcomes_from_history(history), failure_cost=50_000_000)
    model.assess(carrier)            # RiskScore(score=P(late or penalised), expected_penalty_fraction, reasons)
    model.adjusted_cost(price, eta_s, carrier)   # price + P(bad) x failure_cost (+ time cost): award the lowest

Data (settled orders only; their outcome is final): every delivery leg is a job of its carrier (value =
freight), and the seller's part is a job of the seller (value = amount - freight). A job is *bad* when the
party was late (it handed the goods to the buyer after the SLA deadline), had a verdict penalty claimed
against it (Escrow PenaltyApplied naming its leg), or was charged a penalty at settlement.

Model (empirical Bayes, Beta-binomial): P(bad) for a party = (a + recency-weighted bad jobs) /
(a + b + recency-weighted jobs), where the prior Beta(a, b) has the mean bad rate of all parties seen
and `prior_strength` = a + b pseudo-jobs: a newcomer scores the market average, a long record scores
itself. The expected penalty fraction (charged / value) is smoothed the same way. Recency weighting
(`half_life_jobs`) lets a party that improved (or slipped) show it. Pure, except `outcomes_from_chain`,
which reads the events of a deployment:

    model = RiskModel.from_outcomes(outcomes_from_chain(w3, load_manifest(path)), failure_cost=...)
    ctx.risk = model          # the agents' RiskScorer: model.assess(address).score / .reasons
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from web3 import Web3

from offchain.audit.events import ChainEvent, EventReader, RpcClient
from offchain.audit.history import History, rebuild
from offchain.manifest import DeploymentManifest

NO_LEG = 255
LATENESS = b"lateness".ljust(32, b"\0")  # Escrow.LATENESS: the verdict id of the lateness claim


@dataclass(frozen=True)
class JobOutcome:
    """What one party's part of one settled order came to."""

    party: str
    order_id: int
    role: Literal["carrier", "seller"]
    value: int  # freight (carrier) or the seller's share, token base units
    late: bool
    verdict_penalties: int  # verdicts with a penalty claimed against this party
    penalty_charged: int  # token base units charged at settlement
    settled_at_s: int

    @property
    def bad(self) -> bool:
        return self.late or self.verdict_penalties > 0 or self.penalty_charged > 0


@dataclass(frozen=True)
class RiskScore:
    """Also satisfies the agents' `RiskScorer.assess` shape: `score` in [0, 1] and `reasons`."""

    address: str
    score: float  # P(the next job is late or penalised)
    expected_penalty_fraction: float  # expected penalty charged / job value
    jobs: int
    reasons: tuple[str, ...]


def _bytes32(value: Any) -> bytes:
    return bytes(value) if not isinstance(value, str) else bytes.fromhex(value.removeprefix("0x"))


def outcomes_from_history(history: History) -> list[JobOutcome]:
    """One outcome per (settled order, party): carriers per leg, and the seller."""
    outcomes: list[JobOutcome] = []
    for order_id, order in sorted(history.orders.items()):
        opened = order.of("OrderOpened")
        settled = order.of("OrderSettled")
        if not opened or not settled:
            continue  # not funded, still running or cancelled: no final outcome
        terms, settlement = opened[0].args, settled[0].args
        buyer, seller = str(terms["buyer"]), str(terms["seller"])
        deadline, delivered_at = int(terms["deliveryDeadline"]), int(settlement["deliveredAt"])
        legs = {int(e.args["legIndex"]): e.args for e in order.of("LegAdded")}
        party_of_leg = {index: str(args["carrier"]) for index, args in legs.items()} | {NO_LEG: seller}
        deliverer = next(
            (str(e.args["from"]) for e in order.of("LiabilityMoved") if str(e.args["to"]) == buyer), seller
        )
        verdicts: dict[int, int] = defaultdict(int)
        for event in order.of("PenaltyApplied"):
            if _bytes32(event.args["verdictId"]) != LATENESS:
                verdicts[int(event.args["legIndex"])] += 1
        charged: dict[int, int] = defaultdict(int)
        for event in order.of("PenaltySettled"):
            charged[int(event.args["legIndex"])] += int(event.args["charged"])
        freight = sum(int(args["freight"]) for args in legs.values())
        for index, party in party_of_leg.items():
            is_seller = index == NO_LEG
            outcomes.append(
                JobOutcome(
                    party=party,
                    order_id=order_id,
                    role="seller" if is_seller else "carrier",
                    value=int(terms["amount"]) - freight if is_seller else int(legs[index]["freight"]),
                    late=delivered_at > deadline and party == deliverer,
                    verdict_penalties=verdicts[index],
                    penalty_charged=charged[index],
                    settled_at_s=delivered_at,
                )
            )
    return outcomes


def outcomes_from_events(chain_id: int, events: Sequence[ChainEvent]) -> list[JobOutcome]:
    """From chain-ordered events of the deployment (e.g. `offchain.audit.events.EventReader.fetch_manifest`)."""
    to_block = max((e.block_number for e in events), default=0)
    return outcomes_from_history(rebuild(chain_id, to_block, list(events), []))


class RiskModel:
    def __init__(
        self,
        *,
        failure_cost: int,
        time_cost_per_hour: int = 0,
        prior_strength: float = 4.0,
        half_life_jobs: float | None = 20.0,
    ) -> None:
        """`failure_cost`: what a late or penalised job costs the deciding party net of any penalty it
        recovers (spoilage, lost sales), in token base units; `time_cost_per_hour`: the cost of each hour until the
        promised delivery. Both come from the buyer's config."""
        if failure_cost < 0 or time_cost_per_hour < 0:
            raise ValueError("failure_cost and time_cost_per_hour must be >= 0")
        if prior_strength <= 0:
            raise ValueError("prior_strength must be > 0")
        if half_life_jobs is not None and half_life_jobs <= 0:
            raise ValueError("half_life_jobs must be > 0 (or None for no recency weighting)")
        self.failure_cost = failure_cost
        self.time_cost_per_hour = time_cost_per_hour
        self.prior_strength = prior_strength
        self.half_life_jobs = half_life_jobs
        self._records: dict[str, list[JobOutcome]] = {}
        self._prior_bad = 0.0
        self._prior_penalty = 0.0
        self._observed_parties = 0

    @classmethod
    def from_outcomes(cls, outcomes: Iterable[JobOutcome], **settings: Any) -> RiskModel:
        return cls(**settings).fit(outcomes)

    @classmethod
    def from_history(cls, history: History, **settings: Any) -> RiskModel:
        return cls.from_outcomes(outcomes_from_history(history), **settings)

    def fit(self, outcomes: Iterable[JobOutcome]) -> RiskModel:
        records: dict[str, list[JobOutcome]] = defaultdict(list)
        for outcome in outcomes:
            records[outcome.party.lower()].append(outcome)
        for jobs in records.values():
            jobs.sort(key=lambda o: (o.settled_at_s, o.order_id))
        self._records = dict(records)
        everything = [o for jobs in records.values() for o in jobs]
        # A prior that is never certain: even a spotless market keeps a little doubt about a newcomer.
        self._prior_bad = (sum(o.bad for o in everything) + 0.5) / (len(everything) + 1)
        self._prior_penalty = sum(_fraction(o) for o in everything) / len(everything) if everything else 0.0
        self._observed_parties = len(records)
        return self

    def _weights(self, count: int) -> list[float]:
        if self.half_life_jobs is None:
            return [1.0] * count
        return [0.5 ** ((count - 1 - i) / self.half_life_jobs) for i in range(count)]

    def assess(self, address: str) -> RiskScore:
        jobs = self._records.get(address.lower(), [])
        weights = self._weights(len(jobs))
        weight = sum(weights)
        a = self.prior_strength * self._prior_bad
        score = (a + sum(w for w, o in zip(weights, jobs, strict=True) if o.bad)) / (self.prior_strength + weight)
        penalty = (
            self.prior_strength * self._prior_penalty
            + sum(w * _fraction(o) for w, o in zip(weights, jobs, strict=True))
        ) / (self.prior_strength + weight)
        reasons: tuple[str, ...]
        if not jobs:
            reasons = (
                f"no settled job on chain yet: scored at the market's bad-job rate {self._prior_bad:.0%} "
                f"({self._observed_parties} parties seen)",
            )
        else:
            late = sum(o.late for o in jobs)
            verdicts = sum(o.verdict_penalties for o in jobs)
            charged = sum(o.penalty_charged for o in jobs)
            reasons = (
                f"{len(jobs)} settled jobs on chain: {late} late, {verdicts} verdict penalties, "
                f"{charged} base units charged",
                f"P(late or penalised) {score:.0%} (market {self._prior_bad:.0%}, recent jobs weigh more); "
                f"expected penalty {penalty:.1%} of the job's value",
            )
        return RiskScore(address, score, penalty, len(jobs), reasons)

    def adjusted_cost(self, price: int, eta_s: int, address: str) -> int:
        """Risk-adjusted cost of awarding `price` (token base units) to `address` for delivery in `eta_s`
        seconds from now: price + P(bad) x failure_cost + time cost. Award to the lowest.

        Penalties are left out on purpose: Escrow credits them to the goods buyer, which is not the party
        buying a delivery leg; `failure_cost` is what a bad job costs the deciding party net of anything
        it recovers."""
        if price < 0 or eta_s < 0:
            raise ValueError("price and eta_s must be >= 0")
        risk = self.assess(address)
        expected = (
            price
            + risk.score * self.failure_cost
            + self.time_cost_per_hour * eta_s / 3600
        )
        return round(expected)


def _fraction(outcome: JobOutcome) -> float:
    return min(1.0, outcome.penalty_charged / outcome.value) if outcome.value > 0 else 0.0


__all__: Sequence[str] = (
    "JobOutcome",
    "RiskModel",
    "RiskScore",
    "outcomes_from_chain",
    "outcomes_from_events",
    "outcomes_from_history",
)


def outcomes_from_chain(w3: Web3, manifest: DeploymentManifest, to_block: int | None = None) -> list[JobOutcome]:
    """Reads the deployment's events (offchain.audit's reader: chunked eth_getLogs with retries) up to
    `to_block` (default: latest) and returns the settled jobs. The one function here that does I/O."""
    rpc = RpcClient(w3)
    last = int(w3.eth.block_number) if to_block is None else to_block
    events = EventReader(rpc, last).fetch_manifest(manifest)
    return outcomes_from_history(rebuild(manifest.chain_id, last, events, []))
