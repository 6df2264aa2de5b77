"""An expectation the run cannot meet ends the orchestrator with exit 1, naming the expectation; every process
it started is gone afterwards."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import default_scenario, run_orchestrator, write_scenario


@pytest.mark.timeout(600)
def test_unmet_expectation_exits_1_and_names_it(tmp_path: Path) -> None:
    data = default_scenario()
    data["duration_min"] = 20  # far too short for any delivery
    data["expect"] = {"delivered_min": 1, "audit_pass": False}
    summary_path = tmp_path / "summary.json"
    done = run_orchestrator(
        write_scenario(tmp_path / "short.yaml", data),
        tmp_path / "state",
        "--speed",
        "60",
        "--json",
        str(summary_path),
        ports=(9340, 9369),
        timeout_s=500,
    )
    assert done.returncode == 1, done.stdout[-4000:] + done.stderr[-2000:]
    assert "expect delivered: FAIL 0 shipment(s) delivered, at least 1 expected" in done.stdout
    summary = json.loads(summary_path.read_text())
    assert summary["result"] == "fail"
    pids = json.loads((Path(summary["run_dir"]) / "pids.json").read_text())
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
