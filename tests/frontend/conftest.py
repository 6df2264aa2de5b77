"""A real world for the dapp tests, once per session: anvil on a port in 9500-9539, the suite deployed and the
scripted shipment of scripts/lifecycle.py played (tests/frontend/scenario.py), the real API (uvicorn, SQLite)
holding the shipment's signed readings along its road route, keystores of the partners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from frontend.places import label, planned_route, route_points
from offchain.api.agent_signing import signed_approval, signed_message
from offchain.api.client import ApiClient
from offchain.devkeys import dev_account
from offchain.manifest import load_manifest
from offchain.sim.roads import RoadGraph
from tests.chain_support import ROOT, anvil, brownie_network, free_port, tool_env
from tests.offchain.api.conftest import ADMIN_TOKEN, RunningApi, start_api

CHAIN_ID = 31337
PORTS = range(9500, 9540)  # 9540-9599: the e2e test (its dapp, then its scenario run)
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
    reports: Path  # delivery reports written by the dapp under test
    messages: list[str]  # ids of the transcript posted for order 1's call for proposals
    approvals: list[str]  # ids of the pending approval requests, both naming the wholesaler as approver

    def env(self, **extra: str) -> dict[str, str]:
        settings = {
            "ASC_DAPP_MANIFESTS": str(self.manifest),
            "ASC_DAPP_RPC_URL": self.rpc_url,
            "ASC_DAPP_API_URL": self.api_url,
            "ASC_DAPP_REPORT_DIR": str(self.reports),
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
    messages, approvals = post_agent_traffic(api_server.base_url, summary)
    keystores = {name: _keystore(folder, name, index) for name, index in (("wholesaler", 1), ("supplier", 2))}
    yield World(
        node,
        manifest,
        evidence,
        api_server.base_url,
        summary,
        keystores,
        count,
        folder / "reports",
        messages,
        approvals,
    )


def post_agent_traffic(api_url: str, summary: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The negotiation of order 1 as the agents would publish it (signed by the partners' dev keys), and two
    approval requests from the wholesaler's agent (dev key 7) waiting for the wholesaler (dev key 1)."""
    wholesaler, agent = dev_account(1, CHAIN_ID), dev_account(7, CHAIN_ID)
    suppliers = [dev_account(i, CHAIN_ID) for i in (2, 3, 4)]
    conversation = f"cfp:{CHAIN_ID}:{summary['order_id']}"
    script = [
        (wholesaler, "broadcast", "cfp", "Wholesaler calls for 100 cases of chilled beef, delivery within 48 h."),
        (suppliers[0], wholesaler.address, "propose", "Supplier 1 sealed a bid (commitment on chain)."),
        (suppliers[1], wholesaler.address, "propose", "Supplier 2 sealed a bid at 48.00 per case."),
        (suppliers[2], wholesaler.address, "propose", "Supplier 3 sealed a bid (commitment on chain)."),
        (wholesaler, suppliers[1].address, "accept", "Awarded to supplier 2 at 48.00 per case; escrow funded."),
        (wholesaler, suppliers[0].address, "decline", "Supplier 1's bid was not the best."),
    ]
    message_ids, approval_ids = [], []
    start_ms = 1_700_000_000_000
    with ApiClient(api_url) as api:
        for index, (sender, receiver, act, summary_text) in enumerate(script):
            message = signed_message(
                sender,
                conversation=conversation,
                receiver=receiver,
                performative=act,
                content={"summary": summary_text},
                sent_ms=start_ms + index * 60_000,
            )
            message_ids.append(api.post_message(message).id)
        for subject, price in (
            (f"cfp:{CHAIN_ID}:{summary['awaiting_award_cfp']}", 49),
            (f"cfp:{CHAIN_ID}:{summary['collecting_cfp']}", 50),
        ):
            request = signed_approval(
                agent,
                approvers=[wholesaler.address],
                kind="award",
                subject=subject,
                summary=f"Award {subject} to the best bid at {price}.00 per case.",
                recommendation={"award_to": suppliers[1].address, "price": price * 10**6},
                reasons=["It is the lowest revealed price.", "The supplier delivered on time before."],
                value=20 * price * 10**6,
                severity=None,
            )
            approval_ids.append(api.post_approval(request).id)
    return message_ids, approval_ids


def post_readings(rpc_url: str, manifest_path: Path, api_url: str, summary: dict[str, Any]) -> int:
    """One signed reading a minute from pickup to delivery, along the road route of each leg, 3 degC except
    8.5 degC inside the verdict's window (the excursion the oracles signed)."""
    manifest = load_manifest(manifest_path)
    w3 = Web3(Web3.HTTPProvider(rpc_url))
    custody = w3.eth.contract(
        address=manifest.contract("CustodyTwin").address, abi=manifest.contract("CustodyTwin").abi
    )
    hub = w3.eth.contract(address=manifest.contract("VerdictHub").address, abi=manifest.contract("VerdictHub").abi)
    twin = summary["twin_id"]
    accepted = custody.events.HandoffAccepted().get_logs(from_block=0, argument_filters={"twinId": twin})
    verdict = hub.events.VerdictAccepted().get_logs(from_block=0)[0]["args"]
    graph = RoadGraph.load()
    readings: list[dict[str, int]] = []
    for start, end in pairwise(accepted):
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
    device, waiting = Account.create(), Account.create()
    farm = graph.node("supplier_ely")
    with ApiClient(api_url, admin_token=ADMIN_TOKEN) as api:
        api.register_device("logger-dapp-1", device.address, [str(twin)])
        for seq, first in enumerate(range(0, len(readings), 200), start=1):
            api.post_readings("logger-dapp-1", str(twin), seq, readings[first : first + 200], device.key)
        # the funded order's goods wait at the farm: another vehicle on the map
        funded = str(summary["funded_twin"])
        api.register_device("logger-dapp-2", waiting.address, [funded])
        at_farm = {**readings[-1], "lat_e7": round(farm.lat * 1e7), "lon_e7": round(farm.lon * 1e7)}
        api.post_readings("logger-dapp-2", funded, 1, [at_farm], waiting.key)
    return len(readings)
