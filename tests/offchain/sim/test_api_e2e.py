"""The simulator against a real API server: signed batches go in, the same readings come back out."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from offchain.api.client import ApiClient
from offchain.sim.devices import ApiPublisher, KeyStore, PublishError
from offchain.sim.roads import RoadGraph
from offchain.sim.runner import MS_PER_MIN, MemorySink, build_simulator, run
from offchain.sim.scenario import load_scenario
from tests.offchain.api.conftest import ADMIN_TOKEN, RunningApi

from .conftest import REPO_ROOT, SCENARIOS, bound_port


@pytest.fixture
def client(api: RunningApi) -> Iterator[ApiClient]:
    with ApiClient(api.base_url, admin_token=ADMIN_TOKEN) as c:
        yield c


def test_readings_posted_as_signed_batches_read_back_identically(
    api: RunningApi, client: ApiClient, graph: RoadGraph, tmp_path: Path
) -> None:
    scenario = load_scenario(SCENARIOS / "default.yaml", graph)
    sim = build_simulator(scenario, graph, 7)
    local = MemorySink()
    publisher = ApiPublisher(client, KeyStore(tmp_path / "keys.json"), batch_size=25)
    run(sim, scenario.start_ms + round(scenario.duration_min * MS_PER_MIN), [local, publisher])

    stored = list(client.readings("ship-1"))
    assert [
        (
            r.device_id,
            r.ts_ms,
            r.temp_centi_c,
            r.humidity_bp,
            r.light_lux,
            r.shock_milli_g,
            r.lat_e7,
            r.lon_e7,
        )
        for r in stored
    ] == [
        (
            s.device_id,
            *(
                getattr(s.reading, f)
                for f in (
                    "ts_ms",
                    "temp_centi_c",
                    "humidity_bp",
                    "light_lux",
                    "shock_milli_g",
                    "lat_e7",
                    "lon_e7",
                )
            ),
        )
        for s in local.samples
    ]
    device = client.get_device("logger-ship-1")
    assert device.address == KeyStore(tmp_path / "keys.json").address_for("logger-ship-1")
    assert device.last_seq == publisher.batches_posted == -(-len(local.samples) // 25)


def test_a_restarted_publisher_continues_the_sequence(
    api: RunningApi, client: ApiClient, graph: RoadGraph, tmp_path: Path
) -> None:
    scenario = load_scenario(SCENARIOS / "road_closure.yaml", graph)
    sim = build_simulator(scenario, graph, 7)
    keys = tmp_path / "keys.json"
    first = ApiPublisher(client, KeyStore(keys), batch_size=10)
    run(sim, scenario.start_ms + 30 * MS_PER_MIN, [first])
    # a new process: a fresh publisher and key store on the same key file, the world carrying on
    second = ApiPublisher(client, KeyStore(keys), batch_size=10)
    run(sim, scenario.start_ms + round(scenario.duration_min * MS_PER_MIN), [second])
    seqs = sorted({r.batch_seq for r in client.readings("ship-10")})
    assert seqs == list(range(1, first.batches_posted + second.batches_posted + 1))
    assert first.batches_posted and second.batches_posted


def test_a_batch_the_api_rejects_stops_the_publisher_with_its_problem(
    api: RunningApi, client: ApiClient, graph: RoadGraph, tmp_path: Path
) -> None:
    scenario = load_scenario(SCENARIOS / "degraded_compressor.yaml", graph)
    keys = tmp_path / "keys.json"
    for attempt in range(2):  # the second run replays readings the API already holds
        sim = build_simulator(scenario, graph, 7)
        publisher = ApiPublisher(client, KeyStore(keys), batch_size=50)
        if attempt == 0:
            run(sim, scenario.start_ms + 20 * MS_PER_MIN, [publisher])
        else:
            with pytest.raises(PublishError, match=r"batch logger-ship-30#2: the API refused it: 4\d\d"):
                run(sim, scenario.start_ms + 20 * MS_PER_MIN, [publisher])


def test_an_unreachable_api_is_reported_after_the_retries(graph: RoadGraph, tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "degraded_compressor.yaml", graph)
    sim = build_simulator(scenario, graph, 7)
    closed = bound_port()  # bound but not listening: connections are refused
    port = closed.getsockname()[1]
    with closed, ApiClient(f"http://127.0.0.1:{port}", admin_token=ADMIN_TOKEN, timeout_s=1) as dead:
        publisher = ApiPublisher(dead, KeyStore(tmp_path / "keys.json"), retries=1)
        with pytest.raises(PublishError, match="register logger-ship-30: API unreachable after 2 attempts"):
            run(sim, scenario.start_ms + 5 * MS_PER_MIN, [publisher])


def test_the_cli_posts_a_scenario_to_the_api(api: RunningApi, client: ApiClient, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "ASC_SIM_ADMIN_TOKEN": ADMIN_TOKEN,
        "ASC_SIM_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "offchain.sim",
            "run",
            str(SCENARIOS / "wholesale_no_show.yaml"),
            "--api",
            api.base_url,
            "--seed",
            "3",
            "--out",
            str(tmp_path / "r.csv"),
        ],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert ADMIN_TOKEN not in done.stdout + done.stderr
    rows = (tmp_path / "r.csv").read_text().count("\n") - 1
    assert f"posted {rows} readings" in done.stdout
    assert len(list(client.readings("ship-20"))) == rows
    assert httpx.get(f"{api.base_url}/shipments/ship-20/position").status_code == 200
