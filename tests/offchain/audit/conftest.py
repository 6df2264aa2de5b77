"""A real chain for the audit tests: our own anvil (ports 9000-9099), a brownie network declared for it, and
the scenario of tests/offchain/audit/scenario.py played once per session."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

ROOT = Path(__file__).resolve().parents[3]
BIN = ROOT / "node_modules" / ".bin"
CHAIN_ID = 31337
PORTS = range(9000, 9100)


def _port_in_range() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in 9000-9099 for anvil")


def tool_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}:{Path(sys.executable).parent}:{env['PATH']}"
    env["SOLCX_BINARY_PATH"] = str(ROOT / "scripts" / "bin")
    env = {k: v for k, v in env.items() if not k.startswith(("ASC_AUDIT_", "ASC_STORAGE_"))}
    return env | extra


def _forget_brownie_deployments() -> None:
    """brownie caches live deployments per chain id and crashes on connect when a cached address has no code
    (every session starts a new chain with the same id); the manifest is our record, not that cache."""
    shutil.rmtree(ROOT / "build" / "deployments", ignore_errors=True)


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
    port = _port_in_range()
    proc = subprocess.Popen(
        [str(BIN / "anvil"), "--port", str(port), "--chain-id", str(CHAIN_ID), "--silent"], start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    w3 = Web3(Web3.HTTPProvider(url))
    deadline = time.monotonic() + 20
    while not w3.is_connected():
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("anvil did not start")
        time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def network_name(node: str) -> Iterator[str]:
    _forget_brownie_deployments()
    name = f"asc-audit-test-{os.getpid()}"
    added = subprocess.run(
        ["brownie", "networks", "add", "Ethereum", name, f"host={node}", f"chainid={CHAIN_ID}"],
        cwd=ROOT,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert added.returncode == 0, added.stdout + added.stderr
    try:
        yield name
    finally:
        subprocess.run(["brownie", "networks", "delete", name], cwd=ROOT, env=tool_env(), capture_output=True)
        _forget_brownie_deployments()


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
