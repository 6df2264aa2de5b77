"""The learned parts an agent decides with: the demand forecast (`forecast.ForecastPlanner`) behind the
buyer's `ReorderPlanner`, and the counterparty risk model (`risk.RiskModel`) behind its `RiskScorer`."""

from __future__ import annotations

import logging

from web3 import Web3

from offchain.manifest import DeploymentManifest

from .config import AgentConfig, AgentKind
from .forecast import ForecastPlanner
from .risk import RiskModel, RiskScore, outcomes_from_chain
from .strategy.buyer import ReorderPlanner, RiskScorer

log = logging.getLogger("asc.agents.models")

BUYERS = frozenset({AgentKind.WHOLESALER, AgentKind.RETAILER, AgentKind.LOGISTICS, AgentKind.SUPPLIER})


class ChainRiskModel:
    """A RiskModel refitted from the deployment's events once the chain has moved on by `refit_after_s` chain
    seconds since the last fit (awards are rare; a fit reads the deployment's logs once). One award decision
    assesses every bidder: refitting whenever a block was mined meant one full read of the history per
    bidder on a chain with 1 s blocks (50 bidders: the award missed its phase in bench/agents.py)."""

    def __init__(self, w3: Web3, manifest: DeploymentManifest, *, failure_cost: int, refit_after_s: int = 60) -> None:
        self.w3 = w3
        self.manifest = manifest
        self.failure_cost = failure_cost
        self.refit_after_s = refit_after_s
        self._model: RiskModel | None = None
        self._fitted_block = -1
        self._fitted_at_s = 0
        self.fits = 0

    def assess(self, address: str) -> RiskScore:
        head = self.w3.eth.get_block("latest")
        number, now_s = int(head["number"]), int(head["timestamp"])
        if self._model is None or (number > self._fitted_block and now_s - self._fitted_at_s >= self.refit_after_s):
            outcomes = outcomes_from_chain(self.w3, self.manifest, number)
            self._model = RiskModel.from_outcomes(outcomes, failure_cost=self.failure_cost)
            self._fitted_block, self._fitted_at_s = number, now_s
            self.fits += 1
            log.debug("risk model refitted at block %d from %d settled jobs", number, len(outcomes))
        return self._model.assess(address)


def default_models(
    config: AgentConfig, w3: Web3, manifest: DeploymentManifest
) -> tuple[RiskScorer | None, ReorderPlanner | None]:
    """(risk, planner) for this agent as its config asks; None leaves the role's baseline in place."""
    buying = config.buying
    risk: RiskScorer | None = None
    planner: ReorderPlanner | None = None
    if config.kind in BUYERS and buying.learned_risk:
        risk = ChainRiskModel(w3, manifest, failure_cost=buying.failure_cost)
    if config.kind in (AgentKind.WHOLESALER, AgentKind.RETAILER) and buying.forecast:
        planner = ForecastPlanner(lead_time_ms=buying.delivery_within_s * 1000, service_level=buying.service_level)
    return risk, planner
