"""A real chain for the audit tests: our own anvil (ports 9000-9099), a brownie network declared for it, and
the scenario of tests/offchain/audit/scenario.py played once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.chain_support import ROOT, anvil, brownie_network, free_port
from tests.chain_support import tool_env as base_tool_env

CHAIN_ID = 31337
PORTS = range(9000, 9100)


def tool_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in base_tool_env().items() if not k.startswith(("ASC_AUDIT_", "ASC_STORAGE_"))}
    return env | extra


@dataclass(frozen=True)
class Deployment:
    rpc_url: str
    manifest: Path
    evidence: Path
    build_cache: Path
    summary: dict[str, Any]

    def env(self, **extra: str) -> dict[str, str]:
        settings = {
            "ASC_AUDIT_RPC_URL": self.rpc_url,
            "ASC_AUDIT_BUILD_CACHE": str(self.build_cache),
            "ASC_STORAGE_BACKEND": "embedded",
            "ASC_STORAGE_DIRECTORY": str(self.evidence),
        }
        return tool_env(**(settings | extra))


@pytest.fixture(scope="session")
def node() -> Iterator[str]:
    with anvil(free_port(PORTS), CHAIN_ID) as url:
        yield url


@pytest.fixture(scope="session")
def network_name(node: str) -> Iterator[str]:
    with brownie_network(f"asc-audit-test-{os.getpid()}", node, CHAIN_ID) as name:
        yield name


@pytest.fixture(scope="session")
def deployment(node: str, network_name: str, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    folder = tmp_path_factory.mktemp("audit")
    manifest, evidence = folder / "manifest.json", folder / "evidence"
    played = subprocess.run(
        [sys.executable, "-m", "tests.offchain.audit.scenario", network_name, str(manifest), str(evidence)],
        cwd=ROOT,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert played.returncode == 0, played.stdout[-3000:] + played.stderr[-3000:]
    summary = json.loads(played.stdout.strip().splitlines()[-1])
    return Deployment(node, manifest, evidence, folder / "build-cache", summary)


@dataclass(frozen=True)
class AuditRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        return dict(json.loads(self.stdout))

    def check(self, name: str) -> dict[str, Any]:
        return next(c for c in self.result["checks"] if c["name"] == name)

    def failures(self, name: str) -> list[dict[str, str]]:
        return [f for f in self.check(name)["findings"] if f["status"] == "FAIL"]


def run_audit_cli(*args: str, env: dict[str, str]) -> AuditRun:
    done = subprocess.run(
        [sys.executable, "-m", "offchain.audit", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return AuditRun(done.returncode, done.stdout, done.stderr)
