"""In-process agents on a real chain and a LocalWorld: every agent is built from real parts (web3, the
deployed suite, SQLite state, the tx journal) and stepped round-robin while the test moves the chain clock
and the simulator together."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.agents.approvals import ApprovalDesk, ApprovalsApi
from offchain.agents.chain import Chain
from offchain.agents.config import AgentConfig
from offchain.agents.roles import make_role
from offchain.agents.runtime import Agent, AgentContext
from offchain.agents.state import AgentState
from offchain.agents.transcript import Transcript
from offchain.agents.txs import TxJournal
from offchain.agents.world import LocalWorld
from offchain.devkeys import dev_account
from offchain.manifest import DeploymentManifest
from offchain.sim.roads import RoadGraph
from offchain.sim.world import Simulator

UNIT = 10**6


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in response:
        raise RuntimeError(f"{method}: {response['error']}")
    return response["result"]


def chain_now(w3: Web3) -> int:
    return int(rpc(w3, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)


@dataclass
class World:
    """Agents plus the simulator, moved forward together."""

    url: str
    manifest: DeploymentManifest
    data_dir: Path
    approvals_api: ApprovalsApi | None = None
    agents: dict[str, Agent] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.w3 = Web3(Web3.HTTPProvider(self.url))
        self.chain = Chain(self.w3, self.manifest)
        self.sim = Simulator(RoadGraph.load(), seed=7, start_ms=chain_now(self.w3) * 1000)
        self.world = LocalWorld(self.sim)

    def account(self, index: int) -> LocalAccount:
        return dev_account(index, self.chain.chain_id)

    def add(self, config: AgentConfig, key_index: int, *, confirmations: int = 0) -> Agent:
        account = self.account(key_index)
        state = AgentState(f"sqlite:///{self.data_dir / (config.name + '.sqlite')}")
        ctx = AgentContext(
            config=config,
            chain=self.chain,
            account=account,
            state=state,
            txs=TxJournal(self.w3, account, state),
            transcript=Transcript(state, account.address, bytes(account.key), None),
            approvals=ApprovalDesk(state, account.address, bytes(account.key), config.approvals.approvers,
                                   self.approvals_api),
            world=self.world,
        )
        agent = Agent(ctx, make_role(ctx), confirmations=confirmations, poll_interval_s=0.01)
        agent.start()
        self.agents[config.name] = agent
        return agent

    def mint(self, to: str, amount: int) -> None:
        deployer = self.account(0)
        token = self.chain.contracts["TestStablecoin"]
        tx = token.functions.mint(to, amount).build_transaction(
            {"from": deployer.address, "nonce": self.w3.eth.get_transaction_count(deployer.address)}
        )
        self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(deployer.sign_transaction(tx).raw_transaction)
        )

    def step(self, seconds: int) -> None:
        """Every agent acts once, then the chain and the world move `seconds` forward."""
        for agent in self.agents.values():
            agent.step()
        rpc(self.w3, "evm_increaseTime", seconds)
        rpc(self.w3, "evm_mine")
        self.sim.advance_to(chain_now(self.w3) * 1000)

    def run_until(self, done: Any, *, seconds: int = 120, max_rounds: int = 300) -> int:
        for rounds in range(max_rounds):
            if done():
                return rounds
            self.step(seconds)
        raise AssertionError(f"not done after {max_rounds} rounds of {seconds} s")
