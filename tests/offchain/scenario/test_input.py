"""Bad input ends the orchestrator with exit 2 and a message naming the file and the field, before any process
is started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO_ROOT, SCENARIOS, default_scenario, orchestrator_env, run_orchestrator, write_scenario


def test_unknown_fleet_vehicle_names_file_and_field(tmp_path: Path) -> None:
    data = default_scenario()
    data["organisations"][5]["fleet"] = ["truck-9"]
    done = run_orchestrator(write_scenario(tmp_path / "bad.yaml", data), tmp_path / "state")
    assert done.returncode == 2
    assert "bad.yaml: organisations.5.fleet.0: unknown vehicle 'truck-9'" in done.stderr


def test_schema_error_names_file_and_field(tmp_path: Path) -> None:
    data = default_scenario()
    data["demand"][0]["quantity"] = 0
    done = run_orchestrator(write_scenario(tmp_path / "bad.yaml", data), tmp_path / "state")
    assert done.returncode == 2
    assert "bad.yaml: demand.0.quantity:" in done.stderr


@pytest.mark.parametrize("field", ["penalties_on", "no_penalties_on"])
def test_unknown_expected_carrier_names_the_field(field: str, tmp_path: Path) -> None:
    data = default_scenario()
    data["expect"][field] = ["nobody"]
    done = run_orchestrator(write_scenario(tmp_path / "bad.yaml", data), tmp_path / "state")
    assert done.returncode == 2
    assert f"bad.yaml: expect.{field}.0: unknown carrier 'nobody'" in done.stderr


def test_invalid_generated_agent_config_names_the_organisation(tmp_path: Path) -> None:
    data = default_scenario()
    data["organisations"][0]["config"] = {"capacity": 0}
    done = run_orchestrator(write_scenario(tmp_path / "bad.yaml", data), tmp_path / "state")
    assert done.returncode == 2
    assert "bad.yaml: organisations.0 (supplier-ely): agent config invalid: capacity:" in done.stderr


def test_scripted_scenario_is_refused(tmp_path: Path) -> None:
    data = default_scenario()
    del data["organisations"], data["demand"], data["expect"]
    done = run_orchestrator(write_scenario(tmp_path / "scripted.yaml", data), tmp_path / "state")
    assert done.returncode == 2
    assert "scripted.yaml: organisations: the scenario names no organisations" in done.stderr


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    done = run_orchestrator(tmp_path / "nowhere.yaml", tmp_path / "state")
    assert done.returncode == 2
    assert "nowhere.yaml: cannot read" in done.stderr


def test_manifest_without_chain_is_bad_input(tmp_path: Path) -> None:
    done = run_orchestrator(SCENARIOS / "default.yaml", tmp_path / "state", "--manifest", str(tmp_path / "m.json"))
    assert done.returncode == 2
    assert "--manifest needs --chain" in done.stderr


def test_non_positive_speed_is_bad_input(tmp_path: Path) -> None:
    done = run_orchestrator(SCENARIOS / "default.yaml", tmp_path / "state", "--speed", "0")
    assert done.returncode == 2
    assert "--speed must be > 0" in done.stderr


def test_check_deployment_without_a_manifest_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "offchain.scenario",
            "check-deployment",
            str(tmp_path / "none.json"),
            "--rpc",
            "http://127.0.0.1:9",
        ],
        cwd=REPO_ROOT,
        env=orchestrator_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "no usable deployment" in done.stderr


def _with_approver(**person: object) -> dict[str, object]:
    data = default_scenario()
    data["organisations"][2]["approvals"] = {"award_limit": 1_000_000_000, "auto_approve": False}
    data["approvers"] = [{"name": "ops-manager", "approves": ["wholesaler-cambridge"]} | person]
    return data


def test_an_approver_for_an_unknown_organisation_names_the_field(tmp_path: Path) -> None:
    data = _with_approver(approves=["wholesaler-oxford"])
    done = run_orchestrator(write_scenario(tmp_path / "bad.yaml", data), tmp_path / "state")
    assert done.returncode == 2
    assert "bad.yaml: approvers.0.approves.0: unknown organisation 'wholesaler-oxford'" in done.stderr


def test_an_approver_for_an_organisation_without_limits_names_the_field(tmp_path: Path) -> None:
    data = _with_approver(approves=["wholesaler-cambridge", "cam-logistics"])
    done = run_orchestrator(write_scenario(tmp_path / "bad.yaml", data), tmp_path / "state")
    assert done.returncode == 2
    assert "bad.yaml: approvers.0.approves.1: cam-logistics has no `approvals:` limits" in done.stderr


def test_approvals_nobody_decides_name_the_organisation(tmp_path: Path) -> None:
    data = _with_approver()
    del data["approvers"]
    done = run_orchestrator(write_scenario(tmp_path / "bad.yaml", data), tmp_path / "state")
    assert done.returncode == 2
    assert "bad.yaml: organisations.2.approvals: nobody in `approvers:` decides for wholesaler-cambridge" in done.stderr


def test_an_approval_expectation_naming_an_unknown_person_names_the_field(tmp_path: Path) -> None:
    data = _with_approver()
    data["expect"]["approvals"] = [{"decision": "approve", "by": "cfo"}]
    done = run_orchestrator(write_scenario(tmp_path / "bad.yaml", data), tmp_path / "state")
    assert done.returncode == 2
    assert "bad.yaml: expect.approvals.0.by: unknown approver 'cfo'" in done.stderr
