"""`python -m offchain.sim serve` as a real process: the world port over HTTP through `WorldClient`, signed
readings landing in a real API, a real anvil whose clock follows the simulated one, graceful SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from web3 import Web3

from offchain.agents.world import NotArrivedError, UnknownPlaceError, UnknownVehicleError
from offchain.api.client import ApiClient
from offchain.sim.client import WorldClient
from offchain.sim.clock import ChainClock, ClockError, aligned_start_ms
from tests.chain_support import BIN, free_port
from tests.offchain.api.conftest import ADMIN_TOKEN, RunningApi

from .conftest import REPO_ROOT
from .test_service import agent_scenario

PORTS = range(9360, 9380)
START_S = 1781488800  # 2026-06-15T02:00:00Z, the test scenario's start
DAY_MS = 86_400_000


@pytest.fixture
def chain() -> Iterator[str]:
    yield from _anvil(31337, START_S - 60)


def _anvil(chain_id: int, timestamp: int) -> Iterator[str]:
    port = free_port(PORTS)
    proc = subprocess.Popen(
        [
            str(BIN / "anvil"),
            "--port",
            str(port),
            "--chain-id",
            str(chain_id),
            "--timestamp",
            str(timestamp),
            "--silent",
        ],
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not Web3(Web3.HTTPProvider(url)).is_connected():
            assert proc.poll() is None and time.monotonic() < deadline, "anvil did not start"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _serve(scenario_path: Path, tmp: Path, *extra: str, api: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port(PORTS)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "ASC_SIM_ADMIN_TOKEN": ADMIN_TOKEN,
        "ASC_SIM_DATA_DIR": str(tmp / "sim"),
    }
    argv = [sys.executable, "-m", "offchain.sim", "serve", str(scenario_path), "--port", str(port), *extra]
    if api:
        argv += ["--api", api]
    log = (tmp / f"world-{port}.log").open("wb")
    proc = subprocess.Popen(argv, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def _ready(proc: subprocess.Popen[bytes], url: str, tmp: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            logs = "".join(p.read_text() for p in tmp.glob("world-*.log"))
            raise AssertionError(f"world service exited {proc.returncode}:\n{logs}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("world service not ready")


def _stop(proc: subprocess.Popen[bytes], tmp: Path) -> None:
    """SIGTERM ends the service gracefully: uvicorn finishes the lifespan (pacer stopped, readings flushed),
    then re-raises the signal, so the exit status is -SIGTERM."""
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in "".join(p.read_text() for p in tmp.glob("world-*.log"))


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "svc.yaml"
    path.write_text(yaml.safe_dump(agent_scenario()))
    return path


def test_served_world_posts_readings_and_the_chain_follows_its_clock(
    api: RunningApi, chain: str, scenario_file: Path, tmp_path: Path
) -> None:
    proc, url = _serve(scenario_file, tmp_path, "--speed", "600", "--seed", "3", "--chain", chain, api=api.base_url)
    try:
        _ready(proc, url, tmp_path)
        with WorldClient(url) as world:
            world.dispatch(
                "truck-1",
                "41",
                "supplier_ely",
                "wholesaler_cambridge",
                setpoint_centi_c=200,
                product="beef",
                mass_kg=400,
            )
            deadline = time.monotonic() + 120
            while world.vehicle("truck-1").status != "arrived":
                assert time.monotonic() < deadline, world.vehicle("truck-1")
                time.sleep(0.2)
            world.unload("41")
            # The world runs on at 600x while we read: the chain time is read first and the world's after it,
            # so the chain (which follows the world) can only be behind.
            chain_now_ms = Web3(Web3.HTTPProvider(chain)).eth.get_block("latest")["timestamp"] * 1000
            sim_now = world.now_ms()
        with ApiClient(api.base_url, admin_token=ADMIN_TOKEN) as client:
            readings = list(client.readings("41"))
        assert len(readings) >= 15 and readings[0].device_id == "logger-41"
        # The chain followed the world forward (within a warp step and a pacing step of 600x).
        assert START_S * 1000 + 10 * 60_000 < chain_now_ms <= sim_now + 1000
    finally:
        _stop(proc, tmp_path)


def test_client_raises_the_port_errors(scenario_file: Path, tmp_path: Path) -> None:
    proc, url = _serve(scenario_file, tmp_path, "--speed", "60")
    try:
        _ready(proc, url, tmp_path)
        with WorldClient(url) as world:
            assert [v.id for v in world.fleet("haul")] == ["truck-1"]
            assert world.plan("supplier_ely", "wholesaler_cambridge").distance_m > 20_000
            with pytest.raises(UnknownVehicleError):
                world.vehicle("truck-9")
            with pytest.raises(UnknownPlaceError):
                world.divert("truck-1", "atlantis")
            world.dispatch(
                "truck-1",
                "5",
                "supplier_ely",
                "wholesaler_cambridge",
                setpoint_centi_c=200,
                product="beef",
                mass_kg=10,
            )
            with pytest.raises(NotArrivedError):
                world.unload("5")
    finally:
        _stop(proc, tmp_path)


def test_serve_refuses_a_chain_that_is_not_local(scenario_file: Path, tmp_path: Path) -> None:
    for url in _anvil(4242, START_S):
        proc, _ = _serve(scenario_file, tmp_path, "--speed", "60", "--chain", url)
        assert proc.wait(timeout=30) == 2
        assert "not a local development chain" in "".join(p.read_text() for p in tmp_path.glob("world-*.log"))


def test_serve_needs_a_positive_speed(scenario_file: Path, tmp_path: Path) -> None:
    proc, _ = _serve(scenario_file, tmp_path, "--speed", "0")
    assert proc.wait(timeout=30) == 2


def test_clock_never_goes_back(chain: str) -> None:
    clock = ChainClock(chain, warp_min_s=1)
    assert clock.follow((START_S + 3600) * 1000)
    assert clock.chain_now_s() == START_S + 3600
    assert not clock.follow((START_S + 60) * 1000)
    assert clock.chain_now_s() >= START_S + 3600


def test_clock_refuses_an_unreachable_chain() -> None:
    with pytest.raises(ClockError, match="unreachable"):
        ChainClock(f"http://127.0.0.1:{free_port(PORTS)}", timeout_s=1)


def test_aligned_start_keeps_the_scenarios_start_when_the_chain_is_behind() -> None:
    assert aligned_start_ms(START_S * 1000, START_S * 1000 - 1) == START_S * 1000


def test_aligned_start_moves_to_the_same_time_of_day_after_the_chain() -> None:
    chain_ms = START_S * 1000 + 3 * DAY_MS + 5 * 3_600_000
    assert aligned_start_ms(START_S * 1000, chain_ms) == START_S * 1000 + 4 * DAY_MS
