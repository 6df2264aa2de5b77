"""Each shipped scenario played headless and sped up by the real orchestrator: its own anvil, the suite, the API,
three oracle nodes, the world service and one process per agent; the run must meet the scenario's `expect:`
(exit 0) and write the JSON summary. Minutes each: run this folder on its own (`make test-scenarios`).

ASC_TEST_SCENARIO_SPEED sets the speed-up (default 90 simulated seconds per wall second)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import SCENARIOS, run_orchestrator

SPEED = os.environ.get("ASC_TEST_SCENARIO_SPEED", "90")
AGENT_SCENARIOS = sorted(p.name for p in SCENARIOS.glob("*.yaml"))


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("name", AGENT_SCENARIOS)
def test_scenario_meets_its_expectations(name: str, tmp_path: Path) -> None:
    summary_path = tmp_path / "summary.json"
    done = run_orchestrator(
        SCENARIOS / name, tmp_path / "state", "--speed", SPEED, "--json", str(summary_path), timeout_s=1100
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    summary = json.loads(summary_path.read_text())
    assert summary["result"] == "pass"
    assert summary["chain_id"] == 31337 and Path(summary["manifest"]).exists()
    assert all(e["held"] for e in summary["expectations"])
    assert summary["audit"]["passed"]
    assert all(a["decision"] for a in summary["approvals"]), "an approval was left waiting"
