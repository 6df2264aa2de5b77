"""A real world for the dapp tests, once per session: anvil on a port in 9500-9599, the suite deployed and the
scripted shipment of scripts/lifecycle.py played (tests/frontend/scenario.py), the real API (uvicorn, SQLite)
holding the shipment's signed readings along its road route, keystores of the partners."""

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
from eth_account import Account
from web3 import Web3

from frontend.places import label, planned_route, route_points
from offchain.api.client import ApiClient
from offchain.devkeys import dev_account
from offchain.manifest import load_manifest
from offchain.sim.roads import RoadGraph
from tests.chain_support import ROOT, anvil, brownie_network, free_port, tool_env
from tests.offchain.api.conftest import ADMIN_TOKEN, RunningApi, start_api

CHAIN_ID = 31337
PORTS = range(9500, 9600)
PASSWORD = "dapp test password"
# Chain time runs hours ahead of the wall clock after the scripted time jumps: the API must accept it.
API_SETTINGS = {"max_future_ms": 30 * 24 * 3600 * 1000}


@dataclass(frozen=True)
class World:
    rpc_url: str
    manifest: Path
    evidence: Path
    api_url: str
    summary: dict[str, Any]
    keystores: dict[str, Path]  # role name -> encrypted keystore (PASSWORD)
    readings: int

    def env(self, **extra: str) -> dict[str, str]:
        settings = {
            "ASC_DAPP_MANIFESTS": str(self.manifest),
            "ASC_DAPP_RPC_URL": self.rpc_url,
            "ASC_DAPP_API_URL": self.api_url,
            "ASC_STORAGE_BACKEND": "embedded",
            "ASC_STORAGE_DIRECTORY": str(self.evidence),
        }
        return settings | extra


@pytest.fixture(scope="session")
def node() -> Iterator[str]:
    with anvil(free_port(PORTS), CHAIN_ID) as url:
        yield url


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    folder = tmp_path_factory.mktemp("dapp-api")
    running = start_api(f"sqlite:///{folder / 'api.sqlite3'}", folder, **API_SETTINGS)
    yield running
    running.stop()


def _keystore(folder: Path, name: str, index: int) -> Path:
    # pbkdf2 with few iterations: the tests unlock many times; real keystores use scrypt (same code path).
    account = dev_account(index, CHAIN_ID)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(Account.encrypt(account.key, PASSWORD, kdf="pbkdf2", iterations=2)))
    return path


@pytest.fixture(scope="session")
def world(node: str, api_server: RunningApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("dapp")
    manifest, evidence = folder / "manifest.json", folder / "evidence"
    with brownie_network(f"asc-dapp-test-{os.getpid()}", node, CHAIN_ID) as network_name:
        played = subprocess.run(
            [sys.executable, "-m", "tests.frontend.scenario", network_name, str(manifest), str(evidence)],
            cwd=ROOT,
            env=tool_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert played.returncode == 0, played.stdout[-3000:] + played.stderr[-3000:]
    summary = json.loads(played.stdout.strip().splitlines()[-1])
    count = post_readings(node, manifest, api_server.base_url, summary)
    keystores = {name: _keystore(folder, name, index) for name, index in (("wholesaler", 1), ("supplier", 2))}
    yield World(node, manifest, evidence, api_server.base_url, summary, keystores, count)


def post_readings(rpc_url: str, manifest_path: Path, api_url: str, summary: dict[str, Any]) -> int:
    """One signed reading a minute from pickup to delivery, along the road route of each leg, 3 degC except
    8.5 degC inside the verdict's window (the excursion the oracles signed)."""
    manifest = load_manifest(manifest_path)
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    custody = w3.eth.contract(address=manifest.contract("CustodyTwin").address, abi=manifest.contract("CustodyTwin").abi)
    hub = w3.eth.contract(address=manifest.contract("VerdictHub").address, abi=manifest.contract("VerdictHub").abi)
    twin = summary["twin_id"]
    accepted = custody.events.HandoffAccepted().get_logs(from_block=0, argument_filters={"twinId": twin})
    verdict = hub.events.VerdictAccepted().get_logs(from_block=0)[0]["args"]
    graph = RoadGraph.load()
    readings: list[dict[str, int]] = []
    for start, end in zip(accepted, accepted[1:], strict=False):
        route = planned_route(graph, label(start["args"]["location"]), label(end["args"]["location"]))
        assert route is not None
        points = route_points(route)
        t0, t1 = int(start["args"]["timestamp"]), int(end["args"]["timestamp"])
        for t in range(t0, t1, 60):
            lon, lat = points[min(len(points) - 1, (t - t0) * len(points) // (t1 - t0))]
            hot = verdict["windowStart"] <= t <= verdict["windowEnd"]
            readings.append(
                {
                    "ts_ms": t * 1000,
                    "temp_centi_c": 850 if hot else 300,
                    "humidity_bp": 7200,
                    "light_lux": 0,
                    "shock_milli_g": 40,
                    "lat_e7": round(lat * 1e7),
                    "lon_e7": round(lon * 1e7),
                }
            )
    device = Account.create()
    with ApiClient(api_url, admin_token=ADMIN_TOKEN) as api:
        api.register_device("logger-dapp-1", device.address, [str(twin)])
        for seq, first in enumerate(range(0, len(readings), 200), start=1):
            api.post_readings("logger-dapp-1", str(twin), seq, readings[first : first + 200], device.key)
    return len(readings)
