"""The API goes down under running nodes and comes back (same database): the nodes keep running, then read
on from where they were, without a gap, and decide the excursion that arrived after the restart."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.oracles.node.conftest import (
    ADMIN_TOKEN,
    ORACLE_TOKEN,
    ROOT,
    Api,
    Chain,
    Nodes,
    NodeSpec,
    _env,
    _ready,
    excursion_readings,
    free_port,
    now_ms,
    stop_process,
    wait_until,
)

MINUTE_MS = 60_000
OUTAGE_S = 8.0


def _launch(directory: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **_env(),
        "ASC_API_ADMIN_TOKEN": ADMIN_TOKEN,
        "ASC_API_ORACLE_TOKEN": ORACLE_TOKEN,
        "ASC_API_DATA_DIR": str(directory),
        "ASC_API_PORT": str(port),
        "ASC_API_MAX_FUTURE_MS": str(30 * 24 * 3600 * 1000),  # the test chain's clock runs ahead
    }
    with (directory / "api.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "offchain.api"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    wait_until(lambda: _ready(f"http://127.0.0.1:{port}") or process.poll() is not None, 30, "the API")
    assert process.poll() is None, (directory / "api.log").read_text()
    return process


@pytest.fixture
def own_api(tmp_path: Path) -> Iterator[Api]:
    """An API of this test alone: stopping it does not disturb the session's."""
    directory = tmp_path / "api"
    directory.mkdir()
    port = free_port()
    api = Api(f"http://127.0.0.1:{port}", _launch(directory, port), directory / "api.log")
    try:
        yield api
    finally:
        stop_process(api.process)


def _after_id(spec: NodeSpec, shipment: str) -> int | None:
    try:
        with sqlite3.connect(f"file:{spec.data_dir / 'checkpoint.sqlite3'}?mode=ro", uri=True) as db:
            row = db.execute("SELECT after_id FROM shipments WHERE shipment_id = ?", (shipment,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else row[0]


def test_nodes_survive_an_api_restart_and_read_on_without_a_gap(chain: Chain, own_api: Api, tmp_path: Path) -> None:
    nodes = Nodes(chain, own_api, tmp_path / "nodes")
    try:
        order = chain.new_order()
        shipment = str(order["twin_id"])
        start_ms = now_ms() - 120 * MINUTE_MS
        device = own_api.device_for(shipment)
        own_api.post(shipment, device, excursion_readings(start_ms, normal=10, hot=0))
        specs = nodes.specs(2)
        running = [nodes.start(spec, specs, shipment) for spec in specs]
        with own_api.client() as client:
            first_last = client.readings_page(shipment, after_id=0, limit=1000).items[-1].id
        wait_until(lambda: all(_after_id(s, shipment) == first_last for s in specs), 60, "the first readings read")

        stop_process(own_api.process)
        time.sleep(OUTAGE_S)
        assert all(node.process.poll() is None for node in running), [n.log() for n in running]
        own_api.process = _launch(own_api.log_path.parent, int(own_api.base_url.rsplit(":", 1)[1]))

        hot = excursion_readings(start_ms + 10 * MINUTE_MS, normal=0, hot=20)
        own_api.post(shipment, device, hot)
        [verdict] = wait_until(lambda: chain.verdicts(order["order_id"]), 60, "a VerdictAccepted after the outage")
        with own_api.client() as client:
            items = client.readings_page(shipment, after_id=0, limit=1000).items
        wait_until(lambda: all(_after_id(s, shipment) == items[-1].id for s in specs), 30, "every reading read")
        assert verdict["args"]["windowStart"] == hot[0]["ts_ms"] // 1000
        for node in running:
            assert node.process.poll() is None
            assert node.log().count("API unreachable") == 1
            assert "the reading source answers again after" in node.log()
    finally:
        nodes.stop_all()
