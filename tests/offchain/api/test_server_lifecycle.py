"""The server process: durability across restarts, graceful shutdown, and refusing bad settings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from offchain.api.client import ApiClient, feed_url, sign_batch

from .conftest import ADMIN_TOKEN, ORACLE_TOKEN, REPO_ROOT, make_readings, new_device, register, start_api
from .test_verdicts import verdict


def test_accepted_data_survives_restart(backend_url: str, tmp_path: Path) -> None:
    device = new_device()
    readings = make_readings(6)
    body = verdict(shipment_id=device.shipment_id)
    first = start_api(backend_url, tmp_path / "first")
    try:
        with httpx.Client(base_url=first.base_url) as http:
            register(http, device).raise_for_status()
            for seq, chunk in ((1, readings[:3]), (2, readings[3:])):
                batch = sign_batch(device.device_id, device.shipment_id, seq, chunk, device.key)
                http.post("/batches", json=batch.model_dump()).raise_for_status()
            headers = {"Authorization": f"Bearer {ORACLE_TOKEN}"}
            http.post("/verdicts", json=body, headers=headers).raise_for_status()
    finally:
        first.stop()
    assert "Application shutdown complete" in first.log()
    second = start_api(backend_url, tmp_path / "second")
    try:
        with ApiClient(second.base_url) as api:
            assert [r.ts_ms for r in api.readings(device.shipment_id)] == [r["ts_ms"] for r in readings]
            assert api.get_device(device.device_id).last_seq == 2
            assert api.position(device.shipment_id).ts_ms == readings[-1]["ts_ms"]
            assert [v.verdict_id for v in api.verdicts(device.shipment_id)] == [body["verdict_id"]]
            replay = sign_batch(device.device_id, device.shipment_id, 2, readings[3:], device.key)
            assert api.post_batch(replay).seq == 2  # idempotent across the restart
    finally:
        second.stop()


def test_sigterm_closes_feed_clients_and_exits_cleanly(tmp_path: Path) -> None:
    api = start_api(f"sqlite:///{tmp_path / 'api.sqlite3'}", tmp_path)
    with connect(feed_url(api.base_url)) as ws:
        started = time.monotonic()
        api.process.terminate()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=15)
    # uvicorn shuts down gracefully, then re-raises the signal so supervisors see the usual status.
    assert api.process.wait(timeout=15) == -signal.SIGTERM
    assert time.monotonic() - started < 15
    assert "store closed" in api.log()
    assert "Application shutdown complete" in api.log()


def run_server_with(env_overrides: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASC_API_")}
    env.update(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "ASC_API_ADMIN_TOKEN": ADMIN_TOKEN,
            "ASC_API_ORACLE_TOKEN": ORACLE_TOKEN,
        }
    )
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-m", "offchain.api"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_server_refuses_to_start_without_admin_token() -> None:
    result = run_server_with({"ASC_API_ADMIN_TOKEN": None})
    assert result.returncode == 2
    assert "ASC_API_ADMIN_TOKEN" in result.stderr
    assert ORACLE_TOKEN not in result.stderr


def test_server_refuses_short_oracle_token_without_echoing_it() -> None:
    weak = "weak-secret"
    result = run_server_with({"ASC_API_ORACLE_TOKEN": weak})
    assert result.returncode == 2
    assert "ASC_API_ORACLE_TOKEN" in result.stderr
    assert weak not in result.stderr
    assert ADMIN_TOKEN not in result.stderr


def test_ready_reports_database_without_password(tmp_path: Path) -> None:
    api = start_api(f"sqlite:///{tmp_path / 'api.sqlite3'}", tmp_path)
    try:
        ready = httpx.get(f"{api.base_url}/ready").json()
    finally:
        api.stop()
    assert ready == {"status": "ready", "database": f"sqlite:///{tmp_path / 'api.sqlite3'}"}


def test_registration_is_logged_without_tokens(tmp_path: Path) -> None:
    api = start_api(f"sqlite:///{tmp_path / 'api.sqlite3'}", tmp_path)
    try:
        with httpx.Client(base_url=api.base_url) as http:
            register(http, new_device()).raise_for_status()
    finally:
        api.stop()
    assert "PUT /devices/" in api.log()
    assert ADMIN_TOKEN not in api.log()
    assert ORACLE_TOKEN not in api.log()
