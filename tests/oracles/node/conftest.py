"""Real parts for the oracle node tests: anvil, the deployed suite, the reading API, node processes.

Ports come from 9100-9199 (this part's range). Every process started here is stopped here: SIGTERM first
(graceful), SIGKILL after a timeout.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.api.client import ApiClient
from offchain.devkeys import dev_oracle_accounts
from offchain.manifest import DeploymentManifest, load_manifest
from offchain.scenario.processes import PortPool

ROOT = Path(__file__).resolve().parents[3]
ADMIN_TOKEN = "oracle-node-test-admin-token"
ORACLE_TOKEN = "oracle-node-test-oracle-token"
_PORTS = PortPool(9100, 9199)


def free_port() -> int:
    """The next port of 9100-9199 nobody listens on (never the same one twice in a session)."""
    return _PORTS.take()


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PATH": os.pathsep.join(
            [str(ROOT / "node_modules/.bin"), str(Path(sys.executable).parent), os.environ.get("PATH", "")]
        ),
        "SOLCX_BINARY_PATH": str(ROOT / "scripts" / "bin"),
        "BROWNIE_NO_UPDATE": "1",
    }


def stop_process(process: subprocess.Popen[bytes], timeout_s: float = 20.0) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    return process.returncode


def wait_until(condition: Callable[[], Any], timeout_s: float, what: str, pause_s: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(pause_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


# ---------------------------------------------------------------------- chain


@dataclass
class Chain:
    rpc_url: str
    manifest_path: Path
    manifest: DeploymentManifest
    work: Path
    w3: Web3

    def contract(self, name: str) -> Any:
        entry = self.manifest.contract(name)
        return self.w3.eth.contract(address=entry.address, abi=entry.abi)

    def new_order(
        self, origin: str = "", destination: str = "", deadline_after_s: int | None = None
    ) -> dict[str, Any]:
        """A fresh order whose goods a carrier has picked up (the state in which verdicts apply); with road
        graph places, its delivery leg has a planned corridor."""
        extra = [origin, destination, "" if deadline_after_s is None else str(deadline_after_s)]
        return _setup("order", self.rpc_url, self.manifest_path, self.work, *extra)

    def deliver(self, twin_id: int) -> None:
        """The carrier hands the goods of a ``new_order`` to its consignee."""
        _setup("deliver", self.rpc_url, self.manifest_path, self.work, str(twin_id))

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> int:
        """Move the chain clock forward and mine a block; returns the new block's timestamp."""
        self.rpc("evm_increaseTime", seconds)
        self.rpc("evm_mine")
        return self.now()

    def reroutes(self, order_id: int) -> list[Any]:
        procurement = self.contract("Procurement")
        return list(
            procurement.events.RerouteOpened.get_logs(from_block=0, argument_filters={"orderId": order_id})
        )

    def rpc(self, method: str, *params: Any) -> Any:
        response = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        if "error" in response:
            raise RuntimeError(f"{method}: {response['error']}")
        return response["result"]

    def verdicts(self, order_id: int) -> list[Any]:
        hub = self.contract("VerdictHub")
        return list(hub.events.VerdictAccepted.get_logs(from_block=0, argument_filters={"orderId": order_id}))

    def penalties(self, order_id: int) -> list[Any]:
        escrow = self.contract("Escrow")
        return list(
            escrow.events.PenaltyApplied.get_logs(from_block=0, argument_filters={"orderId": order_id})
        )


def _setup(command: str, rpc_url: str, manifest: Path, work: Path, *extra: str) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("chain_setup.py")),
            command,
            rpc_url,
            str(manifest),
            str(work),
            *extra,
        ],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"chain_setup {command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="session")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    port = free_port()
    directory = tmp_path_factory.mktemp("chain")
    anvil = subprocess.Popen(
        [str(ROOT / "node_modules" / ".bin" / "anvil"), "--port", str(port), "--silent", "--accounts", "10"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        rpc_url = f"http://127.0.0.1:{port}"
        w3 = Web3(Web3.HTTPProvider(rpc_url))
        wait_until(lambda: _answers(w3), 20, "anvil")
        manifest_path = directory / "manifest.json"
        work = tmp_path_factory.getbasetemp() / "brownie-project"
        _setup("deploy", rpc_url, manifest_path, work)
        yield Chain(rpc_url, manifest_path, load_manifest(manifest_path), work, w3)
    finally:
        stop_process(anvil)


def _answers(w3: Web3) -> bool:
    try:
        return bool(w3.eth.chain_id)
    except (OSError, httpx.HTTPError, Exception):
        return False


# ---------------------------------------------------------------------- API


@dataclass
class Api:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def client(self) -> ApiClient:
        return ApiClient(self.base_url, admin_token=ADMIN_TOKEN, oracle_token=ORACLE_TOKEN)

    def device_for(self, shipment_id: str) -> LocalAccount:
        device = Account.create()
        with self.client() as api:
            api.register_device(f"reefer-{shipment_id}", device.address, shipments=[shipment_id])
        return device

    def post(self, shipment_id: str, device: LocalAccount, readings: list[dict[str, int]]) -> None:
        with self.client() as api:
            api.post_readings(f"reefer-{shipment_id}", shipment_id, next(self._seq), readings, device.key)


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    directory = tmp_path_factory.mktemp("api")
    port = free_port()
    env = {
        **_env(),
        "ASC_API_ADMIN_TOKEN": ADMIN_TOKEN,
        "ASC_API_ORACLE_TOKEN": ORACLE_TOKEN,
        "ASC_API_DATA_DIR": str(directory),
        "ASC_API_PORT": str(port),
        # The test chain's clock runs hours ahead of the wall clock (every sealed-bid round moves it), and
        # readings taken "during" a shipment carry chain-clock times.
        "ASC_API_MAX_FUTURE_MS": str(30 * 24 * 3600 * 1000),
    }
    log_path = directory / "api.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "offchain.api"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    running = Api(f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_until(lambda: _ready(running.base_url) or process.poll() is not None, 30, "the API")
        if process.poll() is not None:
            raise RuntimeError(f"API exited:\n{log_path.read_text()}")
        yield running
    finally:
        stop_process(process)


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/ready", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def excursion_readings(
    start_ms: int, normal: int = 10, hot: int = 20, step_ms: int = 60_000, hot_centi_c: int = 900
) -> list[dict[str, int]]:
    """`normal` in-range readings, then `hot` readings at `hot_centi_c`, one a minute, standing still."""
    return [
        {
            "ts_ms": start_ms + i * step_ms,
            "temp_centi_c": 300 if i < normal else hot_centi_c,
            "humidity_bp": 8000,
            "light_lux": 0,
            "shock_milli_g": 30,
            "lat_e7": 522_000_000,
            "lon_e7": 1_200_000,
        }
        for i in range(normal + hot)
    ]


def order_with_excursion(chain: Chain, api: Api) -> tuple[dict[str, Any], str]:
    """A fresh picked-up order whose device reported a 20-minute excursion through the real API: (order, shipment)."""
    order = chain.new_order()
    shipment = str(order["twin_id"])
    api.post(shipment, api.device_for(shipment), excursion_readings(now_ms() - 40 * 60_000))
    return order, shipment


# ---------------------------------------------------------------------- oracle nodes


@dataclass
class NodeSpec:
    key: LocalAccount
    port: int
    data_dir: Path


@dataclass
class NodeProcess:
    spec: NodeSpec
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        return stop_process(self.process)


class Nodes:
    """Start/stop node processes; every one started is stopped at teardown."""

    def __init__(self, chain: Chain, api: Api, directory: Path) -> None:
        self.chain, self.api, self.directory = chain, api, directory
        self.running: list[NodeProcess] = []

    def specs(self, count: int, keys: list[LocalAccount] | None = None) -> list[NodeSpec]:
        keys = keys or dev_oracle_accounts(count, 31337)
        return [
            NodeSpec(key, free_port(), self.directory / f"node-{i}") for i, key in enumerate(keys[:count])
        ]

    def start(self, spec: NodeSpec, peers: list[NodeSpec], shipment: str | None, **extra: str) -> NodeProcess:
        """A node process; ``shipment`` narrows it to one shipment, None lets it watch every one it discovers."""
        spec.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **_env(),
            "ASC_ORACLE_MANIFEST_PATH": str(self.chain.manifest_path),
            "ASC_ORACLE_RPC_URL": self.chain.rpc_url,
            "ASC_ORACLE_PRIVATE_KEY": "0x" + bytes(spec.key.key).hex(),
            "ASC_ORACLE_SHIPMENTS": shipment or "",
            "ASC_ORACLE_PEERS": ",".join(f"http://127.0.0.1:{p.port}" for p in peers if p is not spec),
            "ASC_ORACLE_LISTEN_PORT": str(spec.port),
            "ASC_ORACLE_API_URL": self.api.base_url,
            "ASC_ORACLE_API_ORACLE_TOKEN": ORACLE_TOKEN,
            "ASC_ORACLE_DATA_DIR": str(spec.data_dir),
            "ASC_STORAGE_DIRECTORY": str(spec.data_dir / "evidence"),
            **{f"ASC_ORACLE_{k.upper()}": v for k, v in extra.items()},
        }
        env.pop("ASC_ORACLE_CRASH_AT", None) if "crash_at" not in extra else None
        log_path = spec.data_dir / f"node-{len(self.running)}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "oracles.node"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        node = NodeProcess(spec, process, log_path)
        self.running.append(node)
        return node

    def stop_all(self) -> None:
        for node in self.running:
            node.stop()


@pytest.fixture
def nodes(chain: Chain, api: Api, tmp_path: Path) -> Iterator[Nodes]:
    manager = Nodes(chain, api, tmp_path)
    try:
        yield manager
    finally:
        manager.stop_all()
