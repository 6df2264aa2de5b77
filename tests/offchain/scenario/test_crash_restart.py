"""An agent killed (SIGKILL) mid-scenario is restarted by the orchestrator and the scenario still completes, with
no duplicated bid and no duplicated transaction: the carrier that wins the first delivery is killed right after
its sealed bid is committed (its salt must survive for the reveal), and again after it took custody (its
dispatch must not be sent twice)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import REPO_ROOT, SCENARIOS, orchestrator_env

AGENT = "agent-fenland-haulage"
KILL_AFTER = (
    "sealed bid on CFP #2 committed by fenland-haulage",
    "custody of twin #1 accepted supplier-ely -> fenland-haulage",
)


@pytest.mark.timeout(1200)
def test_carrier_killed_twice_mid_scenario_completes_without_duplicates(tmp_path: Path) -> None:
    state = tmp_path / "state"
    summary_path = tmp_path / "summary.json"
    speed = os.environ.get("ASC_TEST_SCENARIO_SPEED", "60")
    argv = [
        sys.executable,
        "-m",
        "offchain.scenario",
        "run",
        str(SCENARIOS / "default.yaml"),
        "--speed",
        speed,
        "--json",
        str(summary_path),
        "--run",
        "crash",
    ]
    proc = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        env=orchestrator_env(state, (9370, 9399)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    killed: list[int] = []
    deadline = time.monotonic() + 1100
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if len(killed) < len(KILL_AFTER) and KILL_AFTER[len(killed)] in line:
                pid = json.loads((state / "crash" / "pids.json").read_text())[AGENT]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            assert time.monotonic() < deadline, "".join(output[-50:])
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    text = "".join(output)
    assert len(killed) == 2, text[-6000:]
    assert code == 0, text[-6000:]
    assert text.count(f"{AGENT} exited with -9: restarting it") == 2
    summary = json.loads(summary_path.read_text())
    assert summary["agent_restarts"][AGENT] == 2
    held = {e["name"]: e["held"] for e in summary["expectations"]}
    assert held["no_duplicate_bids"] and held["no_duplicate_transactions"]
    carrier = next(r for r in summary["transactions"] if r["agent"] == "fenland-haulage")
    assert carrier["mined"] >= 3 and carrier["ok"]  # registration, commit, reveal, custody at least
