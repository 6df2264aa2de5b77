"""Sensor series in the report, from a real API server (uvicorn, SQLite) holding signed device readings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from offchain.api.client import ApiClient
from tests.offchain.api.conftest import ADMIN_TOKEN, RunningApi, make_readings, start_api
from tests.offchain.audit.conftest import Deployment, run_audit_cli

MINUTE_MS = 60_000


@pytest.fixture(scope="module")
def api_with_readings(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    folder = tmp_path_factory.mktemp("api")
    # The chain clock ran hours ahead during the scenario: let the API take readings stamped in chain time.
    running = start_api(f"sqlite:///{folder / 'api.sqlite3'}", folder, max_future_ms=10 * 24 * 3600 * 1000)
    try:
        start, end = (t * 1000 for t in deployment.summary["verdict_window"])
        readings = make_readings(120, start_ms=start - 60 * MINUTE_MS, step_ms=MINUTE_MS)
        for reading in readings:
            if start <= reading["ts_ms"] <= end:
                reading["temp_centi_c"] = 780  # the excursion the verdict judged
        device = Account.create()
        twin = str(deployment.summary["twin_id"])
        with ApiClient(running.base_url, admin_token=ADMIN_TOKEN) as api:
            api.register_device("audit-reefer", device.address, shipments=[twin])
            api.post_readings("audit-reefer", twin, 1, readings, "0x" + bytes(device.key).hex())
        yield running
    finally:
        running.stop()


def test_the_temperature_series_is_plotted_from_the_api(
    deployment: Deployment, api_with_readings: RunningApi, tmp_path: Path
) -> None:
    env = deployment.env(ASC_AUDIT_API_URL=api_with_readings.base_url)
    run = run_audit_cli("--manifest", str(deployment.manifest), "--report", str(tmp_path / "audit.md"), env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    order, twin = deployment.summary["order_id"], deployment.summary["twin_id"]
    plot = tmp_path / "audit-plots" / f"order-{order}-twin-{twin}-temperature.png"
    assert plot.stat().st_size > 0
    markdown = (tmp_path / "audit.md").read_text()
    assert f"audit-plots/{plot.name}" in markdown
    assert "no API configured" not in markdown


def test_an_unreachable_api_is_reported_not_invented(deployment: Deployment, tmp_path: Path) -> None:
    env = deployment.env(ASC_AUDIT_API_URL="http://127.0.0.1:9")  # discard port: nothing listens
    run = run_audit_cli("--manifest", str(deployment.manifest), "--report", str(tmp_path / "audit.md"), env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    markdown = (tmp_path / "audit.md").read_text()
    assert f"sensor series of twin {deployment.summary['twin_id']} unavailable" in markdown
    assert not list((tmp_path / "audit-plots").glob("*temperature.png"))
