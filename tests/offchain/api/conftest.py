"""Real servers for the API tests: uvicorn in a subprocess on a free loopback port, SQLite or PostgreSQL.

The listening socket is bound here and inherited by the server (`--fd`), so there is no race for the
port. PostgreSQL runs as a throwaway cluster (initdb in a temp dir, pg_ctl on a loopback port); its tests
are skipped, with the reason, only when the PostgreSQL server binaries are not installed.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

REPO_ROOT = Path(__file__).resolve().parents[3]
ADMIN_TOKEN = "test-admin-token-0123456789"
ORACLE_TOKEN = "test-oracle-token-0123456789"
PG_BIN_DIRS = [Path("/usr/lib/postgresql") / v / "bin" for v in ("17", "16", "15", "14")]


@dataclass
class RunningApi:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

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


def start_api(database_url: str, log_dir: Path, **settings: Any) -> RunningApi:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "ASC_API_ADMIN_TOKEN": ADMIN_TOKEN,
        "ASC_API_ORACLE_TOKEN": ORACLE_TOKEN,
        "ASC_API_DATABASE_URL": database_url,
        "ASC_API_DATA_DIR": str(log_dir),
        **{f"ASC_API_{key.upper()}": str(value) for key, value in settings.items()},
    }
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"api-{port}.log"
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
    api = RunningApi(f"http://127.0.0.1:{port}", process, log_path, env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"API exited with {process.returncode}:\n{api.log()}")
        try:
            if httpx.get(f"{api.base_url}/ready", timeout=1).status_code == 200:
                return api
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    api.stop()
    raise RuntimeError(f"API not ready after 30 s:\n{api.log()}")


# ------------------------------------------------------------------ PostgreSQL


def _pg_bin() -> Path | None:
    for directory in PG_BIN_DIRS:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    return None


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb refuses to run as root; the Debian package creates the `postgres` system user.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries not installed (Debian packages postgresql, postgresql-contrib)"
        )
    pytest.importorskip("psycopg", reason="psycopg (v3) not installed")
    root = Path(tempfile.mkdtemp(prefix="asc-api-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run(
        _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-U", "asc", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(root / "pg.log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://asc@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------ servers


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'api.sqlite3'}"


@pytest.fixture(scope="module")
def api(backend_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    """One server per test module and backend; tests keep apart by using fresh device/shipment ids."""
    running = start_api(backend_url, tmp_path_factory.mktemp("api"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def sqlite_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    running = start_api(
        f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'api.sqlite3'}", tmp_path_factory.mktemp("api")
    )
    yield running
    running.stop()


@pytest.fixture
def http(api: RunningApi) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.base_url, timeout=30) as client:
        yield client


# ------------------------------------------------------------------ data

_ids = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{next(_ids)}-{time.monotonic_ns() % 1_000_000}"


@dataclass
class Device:
    device_id: str
    shipment_id: str
    key: str
    address: str


def new_device(shipments: list[str] | None = None) -> Device:
    account = Account.create()
    shipment_id = shipments[0] if shipments else unique("ship")
    return Device(unique("dev"), shipment_id, "0x" + bytes(account.key).hex(), account.address)


def register(http: httpx.Client, device: Device, shipments: list[str] | str | None = "own") -> httpx.Response:
    allowed = [device.shipment_id] if shipments == "own" else shipments
    return http.put(
        f"/devices/{device.device_id}",
        json={"address": device.address, "shipments": allowed},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def make_readings(
    count: int, start_ms: int | None = None, step_ms: int = 60_000, **overrides: int
) -> list[dict[str, int]]:
    """Plausible readings `step_ms` apart (default one minute), moving northwards at 27 km/h."""
    start = start_ms if start_ms is not None else now_ms() - count * step_ms
    return [
        {
            "ts_ms": start + i * step_ms,
            "temp_centi_c": 450 + i % 7,
            "humidity_bp": 6500,
            "light_lux": 0,
            "shock_milli_g": 30,
            "lat_e7": 515_000_000 + i * step_ms * 3 // 4,
            "lon_e7": -1_200_000,
            **overrides,
        }
        for i in range(count)
    ]
