"""Shared fixtures: the packaged road graph, quick worlds, and a real API server started the way the API's
own suite starts it (tests/offchain/api/conftest.py: `python -m offchain.api --fd N` on a socket bound by the
test, so there is no race for the port)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from offchain.sim.environment import Weather
from offchain.sim.roads import RoadGraph
from offchain.sim.world import Simulator, TrafficParams
from tests.offchain.api.conftest import RunningApi, start_api

REPO_ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = REPO_ROOT / "offchain" / "sim" / "scenarios"
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


def bound_port() -> socket.socket:
    """A loopback socket bound to a free port, not listening: connections to it are refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    data_dir = tmp_path_factory.mktemp("api")
    running = start_api(f"sqlite:///{data_dir / 'api.sqlite3'}", data_dir)
    try:
        yield running
    finally:
        running.stop()
