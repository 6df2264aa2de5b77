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
from offchain.agents.models import default_models
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
START_S = 1_893_484_800  # 2030-01-01 08:00 UTC: after any wall clock these tests run at


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
        # Every test starts at the same chain (and world) time, so traffic and bids repeat run after run.
        rpc(self.w3, "evm_setNextBlockTimestamp", max(START_S, chain_now(self.w3) + 1))
        rpc(self.w3, "evm_mine")
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
        ctx.risk, ctx.planner = default_models(config, self.w3, self.manifest)
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

    def run_until(self, done: Any, *, seconds: int = 300, max_rounds: int = 200) -> int:
        for rounds in range(max_rounds):
            if done():
                return rounds
            self.step(seconds)
        raise AssertionError(f"not done after {max_rounds} rounds of {seconds} s")


def submit_verdict(world: World, order_id: int, twin_id: int, *, action: int, severity: int) -> dict[str, Any]:
    """A verdict signed by the first `threshold` dev oracles (as oracle nodes would), submitted by dev key 9."""
    from offchain.devkeys import dev_oracle_accounts
    from oracles.verdicts import Kind, in_member_order, make_verdict, pack_signatures, sign_verdict

    hub = world.chain.hub
    config = hub.functions.oracleConfig().call()
    epoch, threshold = int(config[0]), int(config[1])
    end = chain_now(world.w3)
    verdict = make_verdict(
        order_id=order_id, twin_id=twin_id, kind=Kind.TEMPERATURE, severity=severity, action=action,
        window_start=end - 1800, window_end=end, evidence_hash=b"\x11" * 32, epoch=epoch,
    )
    oracles = dev_oracle_accounts(5, world.chain.chain_id)[:threshold]
    signatures = {o.address: sign_verdict(verdict, o.key, world.chain.chain_id, hub.address) for o in oracles}
    packed = pack_signatures(in_member_order(signatures, hub.functions.signers().call()))
    submitter = world.account(9)
    tx = hub.functions.submitVerdict(verdict.as_tuple(), packed).build_transaction(
        {"from": submitter.address, "nonce": world.w3.eth.get_transaction_count(submitter.address)}
    )
    receipt = world.w3.eth.wait_for_transaction_receipt(
        world.w3.eth.send_raw_transaction(submitter.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1, "the verdict was refused"
    return dict(receipt)
