"""A real scenario run for the dapp's end-to-end test: `python -m offchain.scenario run SCENARIO --keep-running`
(anvil, the deployed suite, the API, three oracle nodes, the world service and one agent per organisation),
headless and sped up, kept up until the test is done. What the test checks the dapp against is read from the
chain and the API directly (web3 and the API client), never through the dapp's own code."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from offchain.api.client import ApiClient
from offchain.manifest import load_manifest
from tests.chain_support import ROOT

KEEPS_RUNNING = "everything keeps running"
# The orchestrator prints the URLs of what it keeps up, one per line, after KEEPS_RUNNING.
URL_LINE = re.compile(r"^\[[^\]]*\]\s+(API|world|dapp|chain): (http://\S+)$", re.MULTILINE)
RESULT_LINE = re.compile(r"scenario (\S+): (PASS|FAIL|INTERRUPTED)")
RUN_NAME = re.compile(r"\(run ([^)\s]+)\)")


class ScenarioRunError(RuntimeError):
    """The orchestrator exited, failed its expectations or did not get there in time."""


@dataclass(frozen=True)
class Penalty:
    order_id: int
    verdict_id: str
    amount: int


@dataclass(frozen=True)
class ScenarioRun:
    run_dir: Path
    rpc_url: str
    api_url: str
    manifest: Path
    evidence: Path
    log: Path
    verdict_id: str  # the verdict that rerouted the shipment (the compressor failure's)
    verdict_twin: int  # the custody twin of the shipment whose verdict rerouted it
    verdict_window: tuple[int, int]  # seconds
    twin_verdicts: int  # verdicts accepted on that twin
    penalties: list[Penalty]
    legs: int  # escrow legs of the verdict's order (2 after a reroute)
    readings: int  # readings the API holds for verdict_twin
    messages: list[dict[str, Any]]  # the agents' transcript as the API serves it

    def env(self, reports: Path, **extra: str) -> dict[str, str]:
        return {
            "ASC_DAPP_MANIFESTS": str(self.manifest),
            "ASC_DAPP_RPC_URL": self.rpc_url,
            "ASC_DAPP_API_URL": self.api_url,
            "ASC_DAPP_REPORT_DIR": str(reports),
            # the oracle nodes' shared evidence store of the run (offchain/scenario/run.py)
            "ASC_STORAGE_BACKEND": "embedded",
            "ASC_STORAGE_DIRECTORY": str(self.evidence),
        } | extra


def orchestrator_env(state_dir: Path, ports: tuple[int, int]) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}:{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env["SOLCX_BINARY_PATH"] = str(ROOT / "scripts" / "bin")
    env["PYTHONPATH"] = str(ROOT)
    return env | {
        "ASC_SCENARIO_STATE_DIR": str(state_dir),
        "ASC_SCENARIO_PORT_MIN": str(ports[0]),
        "ASC_SCENARIO_PORT_MAX": str(ports[1]),
    }


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no output)"


def _wait_until_kept_running(process: subprocess.Popen[bytes], log: Path, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        text = log.read_text(errors="replace") if log.exists() else ""
        if KEEPS_RUNNING in text and len(URL_LINE.findall(text.split(KEEPS_RUNNING, 1)[1])) >= 2:
            return text
        if process.poll() is not None:
            raise ScenarioRunError(f"the orchestrator exited with {process.returncode}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise ScenarioRunError(f"the scenario did not finish within {timeout_s:g} s:\n{_tail(log)}")
        time.sleep(1.0)


def _facts(run_dir: Path, rpc_url: str, api_url: str, log: Path) -> ScenarioRun:
    manifest_path = run_dir / "deployment.json"
    manifest = load_manifest(manifest_path)
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))

    def contract(name: str) -> Any:
        entry = manifest.contract(name)
        return w3.eth.contract(address=Web3.to_checksum_address(entry.address), abi=entry.abi)

    verdicts = contract("VerdictHub").events.VerdictAccepted().get_logs(from_block=0)
    if not verdicts:
        raise ScenarioRunError(f"the scenario passed but no verdict is on chain:\n{_tail(log)}")
    # the compressor failure's verdict: the one that rerouted the shipment
    rerouted = {
        bytes(e["args"]["verdictId"]) for e in contract("VerdictHub").events.VerdictRerouted().get_logs(from_block=0)
    }
    chosen = [v for v in verdicts if bytes(v["args"]["verdictId"]) in rerouted]
    if not chosen:
        raise ScenarioRunError(f"the scenario passed but no verdict rerouted a shipment:\n{_tail(log)}")
    verdict = chosen[0]["args"]
    escrow = contract("Escrow")
    penalties = [
        Penalty(int(e["args"]["orderId"]), "0x" + bytes(e["args"]["verdictId"]).hex(), int(e["args"]["amount"]))
        for e in escrow.events.PenaltyApplied().get_logs(from_block=0)
    ]
    legs = len(escrow.events.LegAdded().get_logs(from_block=0, argument_filters={"orderId": verdict["orderId"]}))
    twin = int(verdict["twinId"])
    with ApiClient(api_url) as api:
        readings = sum(1 for _ in api.readings(str(twin)))
        messages: list[dict[str, Any]] = []
        after: int | None = None
        while True:
            page = api.list_messages(after=after, limit=500)
            messages += [m.model_dump() for m in page.items]
            if page.next_after is None or not page.items:
                break
            after = page.next_after
    return ScenarioRun(
        run_dir=run_dir,
        rpc_url=rpc_url,
        api_url=api_url,
        manifest=manifest_path,
        evidence=run_dir / "evidence",
        log=log,
        verdict_id="0x" + bytes(verdict["verdictId"]).hex(),
        verdict_twin=twin,
        verdict_window=(int(verdict["windowStart"]), int(verdict["windowEnd"])),
        twin_verdicts=sum(1 for v in verdicts if int(v["args"]["twinId"]) == twin),
        penalties=penalties,
        legs=legs,
        readings=readings,
        messages=messages,
    )


def _kept_running(text: str, log: Path) -> dict[str, str]:
    """The URLs the orchestrator keeps up, once every expectation held."""
    result = RESULT_LINE.findall(text)
    if not result or result[-1][1] != "PASS":
        raise ScenarioRunError(f"the scenario did not pass its expectations:\n{_tail(log)}")
    return dict(URL_LINE.findall(text.split(KEEPS_RUNNING, 1)[1]))


def attach(log: Path, state_dir: Path) -> ScenarioRun:
    """A run started by hand with --keep-running, its output in LOG."""
    text = log.read_text(errors="replace")
    if KEEPS_RUNNING not in text:
        raise ScenarioRunError(f"{log}: the run is not (yet) kept running:\n{_tail(log)}")
    urls = _kept_running(text, log)
    name = RUN_NAME.search(text)
    if name is None:
        raise ScenarioRunError(f"{log}: no run name in the orchestrator's output")
    return _facts(state_dir / name.group(1), urls["chain"], urls["API"], log)


@contextmanager
def scenario_run(
    scenario: Path, state_dir: Path, speed: float, ports: tuple[int, int], timeout_s: float
) -> Iterator[ScenarioRun]:
    """Plays SCENARIO until the orchestrator says every expectation held and keeps it running; on exit the
    orchestrator is sent SIGTERM (it stops its children, the chain and the API last)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / "orchestrator.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "offchain.scenario",
                "run",
                str(scenario),
                "--speed",
                f"{speed:g}",
                "--keep-running",
            ],
            cwd=ROOT,
            env=orchestrator_env(state_dir, ports),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        urls = _kept_running(_wait_until_kept_running(process, log, timeout_s), log)
        runs = [p for p in state_dir.iterdir() if p.is_dir() and (p / "deployment.json").exists()]
        if len(runs) != 1:
            raise ScenarioRunError(f"expected one run folder with a deployment under {state_dir}, found {runs}")
        yield _facts(runs[0], urls["chain"], urls["API"], log)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
