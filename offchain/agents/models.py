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
    """A RiskModel refitted from the deployment's events whenever the chain has moved on since the last fit
    (awards are rare; a fit reads the deployment's logs once)."""

    def __init__(self, w3: Web3, manifest: DeploymentManifest, *, failure_cost: int) -> None:
        self.w3 = w3
        self.manifest = manifest
        self.failure_cost = failure_cost
        self._model: RiskModel | None = None
        self._fitted_block = -1

    def assess(self, address: str) -> RiskScore:
        head = int(self.w3.eth.block_number)
        if self._model is None or head > self._fitted_block:
            outcomes = outcomes_from_chain(self.w3, self.manifest, head)
            self._model = RiskModel.from_outcomes(outcomes, failure_cost=self.failure_cost)
            self._fitted_block = head
            log.debug("risk model refitted at block %d from %d settled jobs", head, len(outcomes))
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
