"""Shared fixtures: the packaged road graph, quick worlds, and a real API server on a port in 8900-8999.

The server is started as tests/offchain/api/conftest.py does (`python -m offchain.api --fd N` on a socket
bound here, so there is no race for the port), but on the port range this suite is allotted.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from offchain.sim.environment import Weather
from offchain.sim.roads import RoadGraph
from offchain.sim.world import Simulator, TrafficParams

REPO_ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = REPO_ROOT / "offchain" / "sim" / "scenarios"
ADMIN_TOKEN = "sim-test-admin-token-0123456789"
ORACLE_TOKEN = "sim-test-oracle-token-0123456789"
PORTS = range(8900, 9000)
# 02:00 UTC: no rush hour, so free-flow timings are exact.
NIGHT_MS = int(datetime(2026, 6, 15, 2, 0, tzinfo=UTC).timestamp() * 1000)
NO_TRAFFIC = TrafficParams(incidents_per_100km=0.0, potholes_per_km=0.0)


@pytest.fixture(scope="session")
def graph() -> RoadGraph:
    return RoadGraph.load()


def quiet_world(
    graph: RoadGraph,
    *,
    start_ms: int = NIGHT_MS,
    seed: int = 1,
    traffic: TrafficParams = NO_TRAFFIC,
    weather: Weather | None = None,
) -> Simulator:
    """A world without incidents or potholes, on a mild, steady night unless told otherwise."""
    return Simulator(
        graph,
        seed=seed,
        start_ms=start_ms,
        traffic=traffic,
        weather=weather or Weather(mean_c=15.0, amplitude_c=0.0),
    )


@dataclass
class RunningApi:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode


def bound_port_in_range() -> socket.socket:
    """A loopback socket bound to a free port of this suite's range (not yet listening)."""
    for port in PORTS:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        return sock
    raise RuntimeError(f"no free loopback port in {PORTS.start}-{PORTS.stop - 1}")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    data_dir = tmp_path_factory.mktemp("api")
    listener = bound_port_in_range()
    listener.listen(128)
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "ASC_API_ADMIN_TOKEN": ADMIN_TOKEN,
        "ASC_API_ORACLE_TOKEN": ORACLE_TOKEN,
        "ASC_API_DATABASE_URL": f"sqlite:///{data_dir / 'api.sqlite3'}",
        "ASC_API_DATA_DIR": str(data_dir),
    }
    log_path = data_dir / "api.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "offchain.api", "--fd", str(listener.fileno())],
            pass_fds=[listener.fileno()],
            env=env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    listener.close()
    running = RunningApi(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 30
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"API exited with {process.returncode}:\n{running.log()}")
            try:
                if httpx.get(f"{running.base_url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"API not ready after 30 s:\n{running.log()}")
            time.sleep(0.1)
        yield running
    finally:
        running.stop()
