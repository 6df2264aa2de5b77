"""`make bench-agents` still works: the bench run with the agents' runtime at N=3 carriers for one shipment
(a real anvil on 9400-9499, the suite deployed, real agents and a LocalWorld), in a subprocess as make runs it.
A cold compile of the contracts adds ~30 s once (kept in .state/bench-cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _bench(*args: str, timeout: int = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(ROOT / "bench" / "agents.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "agents.json"
    done = _bench("--series", "runtime", "--carriers", "3", "--shipments", "1", "--runtime-in-flight", "1",
                  "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    return {"result": json.loads(out.read_text()), "out": out, "stderr": done.stderr}


def test_three_carrier_agents_all_bid_and_the_logistics_agent_awards(small_run: dict[str, Any]) -> None:
    measured = small_run["result"]["runtime"]["cfp_to_award"]["3"]
    assert measured["bids_committed"] == measured["bids_revealed"] == 3
    # commit phase, reveal phase, then the award: at least one block each
    assert measured["blocks"] >= 3 and measured["chain_s"] >= 3


def test_one_shipment_is_completed_by_the_agents(small_run: dict[str, Any]) -> None:
    (row,) = small_run["result"]["runtime"]["shipments"]
    assert row["shipments"] == 1 and row["carriers_bidding"] == 3
    assert row["rounds"] > 0 and row["per_minute"] > 0


def test_the_plot_is_written_beside_the_results(small_run: dict[str, Any]) -> None:
    png = small_run["out"].with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_is_printed_while_it_runs(small_run: dict[str, Any]) -> None:
    assert "agents' runtime, 3 carriers" in small_run["stderr"]
    assert "agents' runtime, 1 in flight" in small_run["stderr"]


def test_an_unknown_series_is_refused_with_the_choices() -> None:
    done = _bench("--series", "runtime,magic", timeout=60)
    assert done.returncode == 2
    assert "unknown series ['magic']" in done.stderr and "harness" in done.stderr


def test_a_market_no_phase_length_fits_is_recorded_as_not_measured(tmp_path: Path) -> None:
    out = tmp_path / "agents.json"
    # the first guess is 2 s at least: a 1 s ceiling leaves no phase length to try
    done = _bench("--series", "runtime", "--carriers", "3", "--runtime-in-flight", "", "--max-window", "1",
                  "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    row = json.loads(out.read_text())["runtime"]["cfp_to_award"]["3"]
    assert row == {"not_measured": "3 carriers: no phase length up to 1 s fitted: {}"}
    assert "agents' runtime, 3 carriers: not measured" in done.stderr
