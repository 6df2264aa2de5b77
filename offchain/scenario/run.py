"""One scenario run: chain, deployment, API, oracle nodes, world service and agents as child processes; the run
followed from chain events until the scenario's expectations hold or its simulated time is up; then the audit
and the JSON summary. Everything started is stopped on the way out (normal end, error, SIGINT or SIGTERM)."""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.agents.state import AgentState
from offchain.devkeys import LOCAL_CHAIN_IDS, dev_account, dev_oracle_accounts
from offchain.manifest import DeploymentManifest, ManifestError, load_manifest
from offchain.sim.clock import aligned_start_ms
from offchain.sim.roads import RoadGraph
from offchain.sim.scenario import Scenario, ScenarioError, load_scenario

from .agentcfg import AgentConfigError, write_agent_configs
from .approvals import ApprovalBoard, approval_outcomes, approvers_by_organisation, people
from .expect import Outcome, all_held, chain_outcomes
from .processes import PortPool, ProcessError, Supervisor, http_ok, wait_until
from .progress import Follower
from .settings import ScenarioSettings
from .txcheck import check_agent, journal_hashes, sent_transactions

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
FIRST_ORG_KEY = 1  # anvil's funded dev accounts 1-9 play the organisations; 0 deploys
ORG_ETHER_WEI = 100 * 10**18
MAX_AGENT_RESTARTS = 3
# The chain's genesis a little before the scenario's start: the deployment happens "before" the story.
GENESIS_LEAD_S = 600


class RunInputError(ValueError):
    """The scenario or the options cannot be run; the message names the file and field."""


@dataclass
class RunOptions:
    scenario_path: Path
    speed: float | None = None
    json_out: Path | None = None
    keep_running: bool = False
    chain_url: str | None = None  # a running local chain (the persistent demo chain); None: start our own
    manifest: Path | None = None  # an existing deployment on that chain; None: deploy
    deploy_to: Path | None = None  # where a fresh deployment's manifest goes (default: the run's folder)
    run_name: str | None = None
    dapp: bool = False


@dataclass
class Started:
    rpc_url: str = ""
    manifest_path: Path | None = None
    api_url: str = ""
    world_url: str = ""
    node_urls: list[str] = field(default_factory=list)
    agents: dict[str, str] = field(default_factory=dict)  # organisation -> child process name
    dapp_url: str | None = None


class ScenarioRun:
    def __init__(self, options: RunOptions, settings: ScenarioSettings) -> None:
        self.options = options
        self.settings = settings
        self.speed = options.speed or settings.speed
        self.graph = RoadGraph.load()
        self.scenario: Scenario | None = None
        name = options.run_name or datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
        self.run_dir = (settings.state_dir / name).resolve()
        self.supervisor = Supervisor(self.run_dir / "logs", ROOT, settings.stop_timeout_s)
        self.ports = PortPool(settings.port_min, settings.port_max)
        self.started = Started()
        self.stop = threading.Event()
        self.wall_start = time.monotonic()
        self.sim_start_ms = 0
        self.sim_now_ms = 0
        self.chain_id = 0
        self._joining: dict[str, tuple[int, int]] = {}  # organisation -> (key offset, simulated start)
        self._admin_token = secrets.token_urlsafe(24)
        self._oracle_token = secrets.token_urlsafe(24)
        self.board: ApprovalBoard | None = None

    # ------------------------------------------------------------------ entry point
    def execute(self) -> int:
        try:
            scenario = self._load()
        except RunInputError as exc:
            print(f"error: {exc}", file=sys.stderr)  # noqa: T201 (the CLI's own output)
            return EXIT_BAD_INPUT
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        summary: dict[str, Any] = {}
        try:
            self._say(f"scenario {scenario.name}: {scenario.description or ''} (run {self.run_dir.name})")
            outcomes, facts_summary, audit = self._play(scenario)
            summary = self._summary(scenario, outcomes, facts_summary, audit)
            if self.options.keep_running and not self.stop.is_set():
                # Written now as well: whoever looks at a kept-running run reads its outcome while it is up.
                self._write_summary(summary)
                self._keep_running()
        except (ProcessError, ManifestError, RunInputError, OSError) as exc:
            logger.error("the run failed: %s", exc)
            print(f"error: {exc}", file=sys.stderr)  # noqa: T201
            summary = {"result": "error", "error": str(exc)}
            return EXIT_FAILED
        finally:
            self._say("stopping every process of the run ...")
            if self.board is not None:
                self.board.close()
            self.supervisor.stop_all(last=("api", "anvil"))
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if summary:
                self._write_summary(summary)
        if self.stop.is_set() and summary.get("result") == "interrupted":
            return EXIT_INTERRUPTED
        return EXIT_OK if summary.get("result") == "pass" else EXIT_FAILED

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %d: stopping the run", signum)
        self.stop.set()

    # ------------------------------------------------------------------ input
    def _load(self) -> Scenario:
        try:
            scenario = load_scenario(self.options.scenario_path, self.graph)
        except ScenarioError as exc:
            raise RunInputError(str(exc)) from None
        if not scenario.played_by_agents:
            raise RunInputError(
                f"{self.options.scenario_path.name}: organisations: the scenario names no organisations for the "
                "agents to play (a scripted scenario runs with `python -m offchain.sim run`)"
            )
        if self.options.manifest is not None and self.options.chain_url is None:
            raise RunInputError("--manifest needs --chain (the chain that deployment lives on)")
        if self.options.manifest is not None and self.options.deploy_to is not None:
            raise RunInputError("--manifest (reuse a deployment) and --deploy-to (deploy afresh) exclude each other")
        self.scenario = scenario
        self.scenario_policy = scenario.oracle_policy
        self.persons = people(scenario.approvers, scenario.organisations)
        # The people's dev keys do not depend on the chain id; any local one derives the same addresses.
        approvers = approvers_by_organisation(self.persons, min(LOCAL_CHAIN_IDS))
        try:
            self.agent_configs = write_agent_configs(
                scenario, self.options.scenario_path.name, self.run_dir / "agents", approvers
            )
        except AgentConfigError as exc:
            raise RunInputError(str(exc)) from None
        return scenario

    # ------------------------------------------------------------------ the run
    def _play(self, scenario: Scenario) -> tuple[list[Outcome], dict[str, Any], dict[str, Any]]:
        w3 = self._chain(scenario)
        manifest = self._deploy(w3)
        self._fund(w3, manifest, scenario)
        self._api(scenario, w3)
        self._oracle_nodes(w3, manifest)
        self._world(scenario)
        self._agents(scenario)
        if self.options.dapp:
            self._dapp()
        names = self._names(w3, scenario, manifest)
        if self.persons:
            self.board = ApprovalBoard(
                self.started.api_url,
                self.persons,
                self.chain_id,
                names,
                self.run_dir / "people",
                self._say,
            )
            self._say(
                "people deciding approvals: "
                + "; ".join(
                    f"{p.name} for {', '.join(p.approves)} ({p.decision}, after {p.after_s:g} s)" for p in self.persons
                )
            )
        follower = Follower(w3, manifest, names, self._say, from_block=int(w3.eth.block_number) + 1)
        outcomes = self._follow(scenario, follower)
        self.tx_report = self._check_transactions(w3, scenario, follower.first_block)
        if scenario.expect.no_duplicate_transactions:
            bad = [r["agent"] for r in self.tx_report if not r["ok"]]
            mined = sum(r["mined"] for r in self.tx_report)
            outcomes.append(
                Outcome(
                    "no_duplicate_transactions",
                    not bad,
                    f"{mined} agent transactions checked against the chain and the journals; duplicated: "
                    f"{', '.join(bad) or 'none'}",
                )
            )
        audit = {"passed": False, "skipped": "interrupted"} if self.stop.is_set() else self._audit()
        return outcomes, self._facts_summary(follower), audit

    def _chain(self, scenario: Scenario) -> Web3:
        if self.options.chain_url:
            url = self.options.chain_url
        else:
            port = self.ports.take()
            url = f"http://127.0.0.1:{port}"
            genesis = scenario.start_ms // 1000 - GENESIS_LEAD_S
            anvil = self.supervisor.start(
                "anvil",
                [
                    str(ROOT / "node_modules" / ".bin" / "anvil"),
                    "--port",
                    str(port),
                    "--chain-id",
                    "31337",
                    "--timestamp",
                    str(genesis),
                    "--silent",
                ],
                os.environ,
            )
            wait_until(
                "anvil", lambda: Web3(Web3.HTTPProvider(url)).is_connected(), anvil, self.settings.start_timeout_s
            )
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
        if not w3.is_connected():
            raise RunInputError(f"--chain {url}: no chain answers there")
        chain_id = int(w3.eth.chain_id)
        self.chain_id = chain_id
        if chain_id not in LOCAL_CHAIN_IDS:
            # Development keys, warped clocks and minted test money belong on local chains only.
            raise RunInputError(f"--chain {url}: chain {chain_id} is not a local development chain")
        self.started.rpc_url = url
        self._say(f"chain {chain_id} at {url}" + ("" if self.options.chain_url else " (own anvil)"))
        return w3

    def _deploy(self, w3: Web3) -> DeploymentManifest:
        if self.options.manifest is not None:
            manifest = load_manifest(self.options.manifest)
            if manifest.chain_id != int(w3.eth.chain_id):
                raise RunInputError(f"{self.options.manifest}: chain {manifest.chain_id}, not this chain")
            self.started.manifest_path = self.options.manifest.resolve()
            self._say(f"using the deployment in {self.options.manifest}")
            return manifest
        path = (self.options.deploy_to or self.run_dir / "deployment.json").resolve()
        build = self.settings.build_dir.resolve()
        build.parent.mkdir(parents=True, exist_ok=True)
        child = self.supervisor.start(
            "deploy",
            [
                sys.executable,
                "-m",
                "offchain.scenario.deploy",
                self.started.rpc_url,
                str(path),
                str(build),
                "--oracles",
                str(self.settings.oracle_nodes),
                "--threshold",
                str(self.settings.oracle_threshold),
            ],
            _tool_env() | {"PYTHONPATH": str(ROOT)},
        )
        try:
            code = child.popen.wait(timeout=600)
        finally:
            child.expected_exit = True
        if code != 0:
            raise ProcessError(f"deployment failed ({code}):\n{child.tail()}")
        self.started.manifest_path = path
        manifest = load_manifest(path)
        self._say(
            f"suite deployed ({self.settings.oracle_threshold}-of-{self.settings.oracle_nodes} oracle set), "
            f"manifest {path}"
        )
        return manifest

    def _fund(self, w3: Web3, manifest: DeploymentManifest, scenario: Scenario) -> None:
        chain_id = int(w3.eth.chain_id)
        deployer = dev_account(0, chain_id)
        token = w3.eth.contract(
            address=Web3.to_checksum_address(manifest.token), abi=manifest.contracts["TestStablecoin"].abi
        )
        for i, org in enumerate(scenario.organisations):
            account = dev_account(FIRST_ORG_KEY + i, chain_id)
            if int(w3.eth.get_balance(account.address)) < ORG_ETHER_WEI // 10:
                _send(w3, deployer, {"to": account.address, "value": ORG_ETHER_WEI})
            if org.funds:
                _send(
                    w3,
                    deployer,
                    token.functions.mint(account.address, org.funds).build_transaction({"from": deployer.address}),
                )
        for signer in dev_oracle_accounts(self.settings.oracle_nodes, chain_id):
            if int(w3.eth.get_balance(signer.address)) < 10**18:
                _send(w3, deployer, {"to": signer.address, "value": 10 * 10**18})
        funded = [o.name for o in scenario.organisations if o.funds]
        self._say(f"funded {', '.join(funded) or 'nobody'} with TestStablecoin; gas money for every agent and oracle")

    def _api(self, scenario: Scenario, w3: Web3) -> None:
        port = self.ports.take()
        chain_now_ms = int(w3.eth.get_block("latest")["timestamp"]) * 1000
        sim_start = aligned_start_ms(scenario.start_ms, chain_now_ms)  # where the world will start
        wall_now_ms = int(time.time() * 1000)
        # Sped-up simulated time runs ahead of the API's wall clock: allow the whole scenario, twice over.
        max_future_ms = max(0, sim_start - wall_now_ms) + round(2 * scenario.duration_min * 60_000) + 3_600_000
        env = os.environ | {
            "ASC_API_ADMIN_TOKEN": self._admin_token,
            "ASC_API_ORACLE_TOKEN": self._oracle_token,
            "ASC_API_DATA_DIR": str(self.run_dir / "api"),
            "ASC_API_PORT": str(port),
            "ASC_API_HOST": "127.0.0.1",
            "ASC_API_MAX_FUTURE_MS": str(max_future_ms),
        }
        env.pop("ASC_API_DATABASE_URL", None)
        child = self.supervisor.start("api", [sys.executable, "-m", "offchain.api"], env)
        url = f"http://127.0.0.1:{port}"
        wait_until("the API", http_ok(f"{url}/ready"), child, self.settings.start_timeout_s)
        self.started.api_url = url
        self._say(f"API at {url}")

    def _oracle_nodes(self, w3: Web3, manifest: DeploymentManifest) -> None:
        chain_id = int(w3.eth.chain_id)
        signers = dev_oracle_accounts(self.settings.oracle_nodes, chain_id)
        ports = [self.ports.take() for _ in signers]
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for i, port in enumerate(ports):
            env = (
                os.environ
                | {
                    "ASC_ORACLE_MANIFEST_PATH": str(self.started.manifest_path),
                    "ASC_ORACLE_RPC_URL": self.started.rpc_url,
                    "ASC_ORACLE_DEV_KEY_INDEX": str(i),  # dev oracle key i (offchain.devkeys), local chains only
                    "ASC_ORACLE_LISTEN_PORT": str(port),
                    "ASC_ORACLE_PEERS": ",".join(u for j, u in enumerate(urls) if j != i),
                    "ASC_ORACLE_API_URL": self.started.api_url,
                    "ASC_ORACLE_API_ORACLE_TOKEN": self._oracle_token,
                    "ASC_ORACLE_DATA_DIR": str(self.run_dir / f"oracle-{i}"),
                    # One evidence store for the set: the audit re-hashes every object it names.
                    "ASC_STORAGE_DIRECTORY": str(self.run_dir / "evidence"),
                }
                | {f"ASC_ORACLE_{key.upper()}": _env_value(value) for key, value in self.scenario_policy.items()}
            )
            self.supervisor.start(f"oracle-{i}", [sys.executable, "-m", "oracles.node"], env)
        self.started.node_urls = urls
        threshold = manifest_threshold(w3, manifest)
        self._say(f"{len(signers)} oracle nodes started (the hub needs {threshold} signatures)")

    def _world(self, scenario: Scenario) -> None:
        port = self.ports.take()
        env = os.environ | {
            "ASC_SIM_ADMIN_TOKEN": self._admin_token,
            "ASC_SIM_DATA_DIR": str(self.run_dir / "sim"),
            "ASC_SIM_LOG_LEVEL": self.settings.log_level,
        }
        argv = [
            sys.executable,
            "-m",
            "offchain.sim",
            "serve",
            str(self.options.scenario_path.resolve()),
            "--port",
            str(port),
            "--api",
            self.started.api_url,
            "--speed",
            str(self.speed),
            "--seed",
            str(self.settings.seed),
            "--chain",
            self.started.rpc_url,
        ]
        child = self.supervisor.start("world", argv, env)
        url = f"http://127.0.0.1:{port}"
        wait_until("the world service", http_ok(f"{url}/health"), child, self.settings.start_timeout_s)
        self.started.world_url = url
        now = httpx.get(f"{url}/now", timeout=5).json()
        self.sim_start_ms = int(now["start_ms"])
        self.sim_now_ms = int(now["now_ms"])
        self._say(
            f"world at {url}: {len(scenario.vehicles)} vehicles, simulated clock from "
            f"{datetime.fromtimestamp(self.sim_start_ms / 1000, UTC):%Y-%m-%d %H:%M} UTC at {self.speed:g}x"
        )

    def _agents(self, scenario: Scenario) -> None:
        joins = {d.retailer: d.at_min for d in sorted(scenario.demand, key=lambda d: d.at_min, reverse=True)}
        started = []
        for i, org in enumerate(scenario.organisations):
            if joins.get(org.name, 0) > 0:
                self._joining[org.name] = (i, self.sim_start_ms + round(joins[org.name] * 60_000))
                continue
            self._start_agent(i, org.name)
            started.append(org.name)
        self._write_pids()
        later = ", ".join(f"{n} at +{joins[n]:g} min" for n in self._joining)
        self._say(
            f"{len(started)} agents started: {', '.join(started)}" + (f"; joining later: {later}" if later else "")
        )

    def _start_agent(self, index: int, org_name: str) -> None:
        env = os.environ | {
            "ASC_AGENT_DEV_KEY_INDEX": str(FIRST_ORG_KEY + index),
            "ASC_AGENT_MANIFEST": str(self.started.manifest_path),
            "ASC_AGENT_RPC_URL": self.started.rpc_url,
            "ASC_AGENT_API_URL": self.started.api_url,
            "ASC_AGENT_WORLD_URL": self.started.world_url,
            "ASC_AGENT_DATA_DIR": str(self.run_dir / "agents"),
            "ASC_AGENT_CONFIRMATIONS": str(self.settings.agent_confirmations),
            "ASC_AGENT_POLL_INTERVAL_S": str(self.settings.agent_poll_interval_s),
            "ASC_AGENT_LOG_LEVEL": self.settings.log_level,
        }
        name = f"agent-{org_name}"
        self.supervisor.start(
            name, [sys.executable, "-m", "offchain.agents", "run", str(self.agent_configs[org_name])], env
        )
        self.started.agents[org_name] = name

    def _join_due_agents(self) -> None:
        for org_name, (index, at_ms) in list(self._joining.items()):
            if self.sim_now_ms >= at_ms:
                del self._joining[org_name]
                self._start_agent(index, org_name)
                self._write_pids()
                self._say(f"{org_name} joins (its demand is due)")

    def _dapp(self) -> None:
        app = ROOT / "frontend" / "app.py"
        if not app.exists():
            self._say("no dapp yet (frontend/app.py does not exist): skipped")
            return
        port = self.ports.take()
        env = os.environ | {
            "ASC_DAPP_MANIFESTS": str(self.started.manifest_path),
            "ASC_DAPP_RPC_URL": self.started.rpc_url,
            "ASC_DAPP_API_URL": self.started.api_url,
            # The oracles' evidence store, so the Settlement page can show what each penalty rests on.
            "ASC_STORAGE_DIRECTORY": str(self.run_dir / "evidence"),
        }
        argv = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(app),
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
        ]
        self.supervisor.start("dapp", argv, env)
        self.started.dapp_url = f"http://127.0.0.1:{port}"
        self._say(f"dapp at {self.started.dapp_url}")

    # ------------------------------------------------------------------ following
    def _follow(self, scenario: Scenario, follower: Follower) -> list[Outcome]:
        end_ms = self.sim_start_ms + round(scenario.duration_min * 60_000)
        wall_limit = time.monotonic() + scenario.duration_min * 60 / self.speed * 2 + 120
        expect = scenario.expect
        outcomes: list[Outcome] = []
        while not self.stop.is_set():
            follower.poll()
            self._tend_children()
            self._tick_clock()
            self._join_due_agents()
            self._poll_board()
            outcomes = self._outcomes(scenario, follower)
            if outcomes and all_held(outcomes) and not expect.is_empty():
                self._say("every expectation read from the chain holds")
                break
            if self.sim_now_ms >= end_ms:
                self._say(f"the scenario's {scenario.duration_min:g} simulated minutes are over")
                break
            if time.monotonic() > wall_limit:
                self._say("wall-clock limit reached (the world fell behind its speed)")
                break
            self.stop.wait(self.settings.poll_interval_s)
        follower.poll()
        self._poll_board()
        return self._outcomes(scenario, follower)

    def _outcomes(self, scenario: Scenario, follower: Follower) -> list[Outcome]:
        outcomes = chain_outcomes(scenario.expect, follower.facts)
        records = list(self.board.records.values()) if self.board is not None else []
        return outcomes + approval_outcomes(scenario.expect.approvals, records, follower.facts)

    def _poll_board(self) -> None:
        # Every round (ASC_SCENARIO_POLL_INTERVAL_S): one GET /approvals; at 90x a round is ~45 simulated seconds,
        # the resolution of a person's `after_s`.
        if self.board is not None:
            self.board.poll(self.sim_now_ms)

    def _check_transactions(self, w3: Web3, scenario: Scenario, from_block: int) -> list[dict[str, Any]]:
        chain_id = int(w3.eth.chain_id)
        senders = {
            dev_account(FIRST_ORG_KEY + i, chain_id).address: o.name for i, o in enumerate(scenario.organisations)
        }
        mined = sent_transactions(w3, set(senders), from_block)
        return [
            check_agent(name, mined[address], journal_hashes(self.run_dir / "agents" / f"{name}.sqlite"))
            for address, name in senders.items()
        ]

    def _tick_clock(self) -> None:
        try:
            self.sim_now_ms = int(httpx.get(f"{self.started.world_url}/now", timeout=5).json()["now_ms"])
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            logger.warning("world clock unreadable: %s", exc)

    def _tend_children(self) -> None:
        for child in self.supervisor.dead():
            if child.name.startswith("agent-") and child.restarts < MAX_AGENT_RESTARTS:
                self._say(f"{child.name} exited with {child.popen.returncode}: restarting it")
                self.supervisor.restart(child.name)
                self._write_pids()
            else:
                raise ProcessError(f"{child.name} exited with {child.popen.returncode}:\n{child.tail()}")

    def _write_pids(self) -> None:
        pids = {name: c.popen.pid for name, c in self.supervisor.children.items() if c.popen.poll() is None}
        (self.run_dir / "pids.json").write_text(json.dumps(pids, indent=2))

    # ------------------------------------------------------------------ the end
    def _audit(self) -> dict[str, Any]:
        report = self.run_dir / "audit" / "report.md"
        env = _tool_env() | {
            "ASC_AUDIT_RPC_URL": self.started.rpc_url,
            "ASC_AUDIT_API_URL": self.started.api_url,
            "ASC_STORAGE_DIRECTORY": str(self.run_dir / "evidence"),
        }
        argv = [
            sys.executable,
            "-m",
            "offchain.audit",
            "--manifest",
            str(self.started.manifest_path),
            "--json",
            "--report",
            str(report),
        ]
        log_path = self.supervisor.logs_dir / "audit.log"
        with log_path.open("ab") as log:
            done = subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, timeout=900)
        try:
            result: dict[str, Any] = json.loads(done.stdout)
        except ValueError:
            result = {}
        passed = done.returncode == 0
        checks = [f"{c.get('status')} {c.get('name')}" for c in result.get("checks", [])]
        self._say(f"audit {'PASS' if passed else 'FAIL'}: {', '.join(checks) or 'no report, see ' + str(log_path)}")
        return {
            "passed": passed,
            "exit_code": done.returncode,
            "report": str(report),
            "checks": result.get("checks", []),
        }

    def _summary(
        self, scenario: Scenario, outcomes: list[Outcome], facts: dict[str, Any], audit: dict[str, Any]
    ) -> dict[str, Any]:
        if scenario.expect.audit_pass:
            outcomes = [
                *outcomes,
                Outcome("audit", bool(audit.get("passed")), f"audit exit code {audit.get('exit_code')}"),
            ]
        shelves = self._shelves(scenario)
        interrupted = self.stop.is_set()
        held = all_held(outcomes)
        for outcome in outcomes:
            self._say(f"expect {outcome.name}: {'OK  ' if outcome.held else 'FAIL'} {outcome.detail}")
        result = "interrupted" if interrupted else ("pass" if held else "fail")
        self._say(f"scenario {scenario.name}: {result.upper()}")
        return {
            "scenario": scenario.name,
            "scenario_file": str(self.options.scenario_path),
            "run_dir": str(self.run_dir),
            "result": result,
            "chain_id": self.chain_id,
            "rpc_url": self.started.rpc_url,
            "manifest": str(self.started.manifest_path),
            "speed": self.speed,
            "seed": self.settings.seed,
            "simulated_start_ms": self.sim_start_ms,
            "simulated_minutes": round((self.sim_now_ms - self.sim_start_ms) / 60_000, 1),
            "wall_s": round(time.monotonic() - self.wall_start, 1),
            **facts,
            "approvals": self.board.summary() if self.board is not None else [],
            "shelves": shelves,
            "expectations": [{"name": o.name, "held": o.held, "detail": o.detail} for o in outcomes],
            "audit": audit,
            "transactions": getattr(self, "tx_report", []),
            "agent_restarts": {n: c.restarts for n, c in self.supervisor.children.items() if n.startswith("agent-")},
            "logs": str(self.supervisor.logs_dir),
        }

    def _shelves(self, scenario: Scenario) -> list[dict[str, Any]]:
        """What the shoppers of retailers with a demand profile asked for, got and missed (off-chain: read from
        each retailer's own state), and how many purchases the retailer started."""
        shelves = []
        for org in scenario.organisations:
            profiles = org.config.get("demand_profiles") if org.kind == "retailer" else None
            path = self.run_dir / "agents" / f"{org.name}.sqlite"
            if not profiles or not path.exists():
                continue
            state = AgentState(f"sqlite:///{path}")
            for product in sorted({str(p["product"]) for p in profiles}):
                asked = sum(int(d["quantity"]) for d in state.facts("demand").values() if d["product"] == product)
                lost = sum(int(d["quantity"]) for d in state.facts("lost_sale").values() if d["product"] == product)
                purchases = [i for i in state.facts("intent").values() if i["product"] == product]
                shelf = {
                    "retailer": org.name,
                    "product": product,
                    "asked": asked,
                    "sold": asked - lost,
                    "lost": lost,
                    "on_hand": state.stock(product).on_hand,
                    "purchases": len(purchases),
                    "received": sum(1 for i in purchases if i["status"] == "received"),
                }
                shelves.append(shelf)
                self._say(
                    f"{org.name}: shoppers asked for {asked} {product}, {asked - lost} sold, {lost} lost; "
                    f"{shelf['purchases']} purchase(s) started, {shelf['received']} received, "
                    f"{shelf['on_hand']} on hand"
                )
        return shelves

    @staticmethod
    def _facts_summary(follower: Follower) -> dict[str, Any]:
        f = follower.facts
        return {
            "shipments": [{"twin": t, **info} for t, info in sorted(f.twins.items())],
            "orders": [{"order": o, **info} for o, info in sorted(f.orders.items())],
            "verdicts": f.verdicts,
            "reroutes": [
                {"cfp": c, "order": o, "winner": f.cfps.get(c, {}).get("winner")}
                for c, o in sorted(f.reroute_cfps.items())
            ],
            "penalties": f.penalties,
            "settlements": f.settlements,
            "events": f.events,
        }

    def _write_summary(self, summary: dict[str, Any]) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(summary, indent=2, default=str)
        (self.run_dir / "summary.json").write_text(text)
        if self.options.json_out is not None:
            self.options.json_out.parent.mkdir(parents=True, exist_ok=True)
            self.options.json_out.write_text(text)
            self._say(f"summary written to {self.options.json_out}")

    def _keep_running(self) -> None:
        self._say("everything keeps running; Ctrl-C stops it")
        for label, url in (
            ("API", self.started.api_url),
            ("world", self.started.world_url),
            ("dapp", self.started.dapp_url),
            ("chain", self.started.rpc_url),
        ):
            if url:
                self._say(f"  {label}: {url}")
        while not self.stop.wait(1.0):
            self._tend_children()
            if self.board is not None:  # the people keep deciding what the agents still ask
                self._tick_clock()
                self._poll_board()

    # ------------------------------------------------------------------ helpers
    def _names(self, w3: Web3, scenario: Scenario, manifest: DeploymentManifest) -> dict[str, str]:
        chain_id = int(w3.eth.chain_id)
        names: dict[str, str] = {
            dev_account(FIRST_ORG_KEY + i, chain_id).address: o.name for i, o in enumerate(scenario.organisations)
        }
        names |= {
            a.address: f"oracle-{i}" for i, a in enumerate(dev_oracle_accounts(self.settings.oracle_nodes, chain_id))
        }
        names[manifest.deployer] = "deployer"
        return names

    def _say(self, message: str) -> None:
        wall = time.monotonic() - self.wall_start
        if self.sim_start_ms:
            minutes = (self.sim_now_ms - self.sim_start_ms) / 60_000
            stamp = f"[sim +{int(minutes // 60):02d}:{int(minutes % 60):02d} | wall {wall:6.1f} s]"
        else:
            stamp = f"[sim  --:-- | wall {wall:6.1f} s]"
        print(f"{stamp} {message}", flush=True)  # noqa: T201 (the CLI's progress output)


def manifest_threshold(w3: Web3, manifest: DeploymentManifest) -> int:
    """Signatures the hub needs per verdict (its current oracle configuration)."""
    entry = manifest.contracts["VerdictHub"]
    config = (
        w3.eth.contract(address=Web3.to_checksum_address(entry.address), abi=entry.abi).functions.oracleConfig().call()
    )
    return int(config[1])


def _send(w3: Web3, account: LocalAccount, tx: Mapping[str, Any]) -> None:
    tx = dict(tx)
    tx.setdefault("from", account.address)
    tx["nonce"] = w3.eth.get_transaction_count(account.address, "pending")
    tx["chainId"] = int(w3.eth.chain_id)
    tx.setdefault("gas", w3.eth.estimate_gas(tx))  # type: ignore[arg-type]
    if "maxFeePerGas" not in tx:
        tx.setdefault("gasPrice", w3.eth.gas_price)
    signed = account.sign_transaction(tx)
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction), timeout=60)
    if receipt["status"] != 1:
        raise ProcessError(f"funding transaction {receipt['transactionHash'].hex()} reverted")


def _env_value(value: str | int | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _tool_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}:{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env["SOLCX_BINARY_PATH"] = str(ROOT / "scripts" / "bin")
    env["BROWNIE_NO_UPDATE"] = "1"
    return env
