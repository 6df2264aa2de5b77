"""The delivery report without the UI: python -m frontend.report on the session's chain and API."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.chain_support import ROOT
from tests.frontend.conftest import PORTS


def _report(world, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **world.env(), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "frontend.report", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_writes_the_report_of_a_delivered_shipment(world, tmp_path) -> None:
    done = _report(world, "--twin", str(world.summary["twin_id"]), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    md, page = done.stdout.split()
    assert md.endswith(f"-order-{world.summary['order_id']}.md") and page.endswith(".html")
    text = (tmp_path / md.rsplit("/", 1)[1]).read_text()
    assert "## Excursions" in text and "| temperature |" in text
    assert "buyer refund 300.00" in text


def test_nothing_before_delivery(world, tmp_path) -> None:
    done = _report(world, "--twin", str(world.summary["funded_twin"]), "--out", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.strip() == f"report: shipment {world.summary['funded_twin']} is not delivered and settled yet"
    assert not list(tmp_path.iterdir())


def test_an_unknown_shipment_is_bad_input(world, tmp_path) -> None:
    done = _report(world, "--twin", "999", "--out", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().startswith("report: no shipment (custody twin) 999 on ")


def test_an_unreachable_node_is_bad_input(world, tmp_path) -> None:
    from tests.chain_support import free_port

    url = f"http://127.0.0.1:{free_port(PORTS)}"
    env_world = world
    done = subprocess.run(
        [sys.executable, "-m", "frontend.report", "--twin", "1"],
        cwd=ROOT,
        env={**os.environ, **env_world.env(ASC_DAPP_RPC_URL=url), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("report: The chain's node does not answer")
