"""Shared by the orchestrator tests: the repository root, the shipped scenarios, a way to run the orchestrator
as the user does (`python -m offchain.scenario run ...`) with its files in a temporary folder and its ports
in this suite's range (9300-9399 belongs to the world/scenario suites; each test takes a slice)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = REPO_ROOT / "offchain" / "sim" / "scenarios"


def orchestrator_env(state_dir: Path, ports: tuple[int, int] = (9310, 9339), **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{REPO_ROOT / 'node_modules' / '.bin'}:{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env["SOLCX_BINARY_PATH"] = str(REPO_ROOT / "scripts" / "bin")
    env["PYTHONPATH"] = str(REPO_ROOT)
    env |= {
        "ASC_SCENARIO_STATE_DIR": str(state_dir),
        "ASC_SCENARIO_PORT_MIN": str(ports[0]),
        "ASC_SCENARIO_PORT_MAX": str(ports[1]),
    }
    return env | extra


def run_orchestrator(
    scenario: Path,
    state_dir: Path,
    *args: str,
    timeout_s: float = 900,
    ports: tuple[int, int] = (9310, 9339),
    **env: str,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offchain.scenario", "run", str(scenario), *args],
        cwd=REPO_ROOT,
        env=orchestrator_env(state_dir, ports, **env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def default_scenario() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SCENARIOS / "default.yaml").read_text())
    return data


def write_scenario(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
