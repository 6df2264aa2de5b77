"""Ingestion throughput of the API over HTTP: readings/s and batches/s for batch sizes 1, 100 and 1000.

    python bench/api_ingest.py [--database-url URL] [--output bench/results/api_ingest.json]

Starts the API (uvicorn, one process) on a free loopback port with a fresh SQLite database in a temp
dir (or the given database), pre-signs every batch (device-side signing is not part of the API's cost),
then posts them one after another over one keep-alive connection and times the server's answers.
Each batch is a fresh device's next seq, so every post is a real acceptance (201), never a re-post.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from offchain.api.client import sign_batch  # noqa: E402
from offchain.api.schemas import BatchIn  # noqa: E402

ADMIN_TOKEN = "bench-admin-token-" + os.urandom(8).hex()
ORACLE_TOKEN = "bench-oracle-token-" + os.urandom(8).hex()
# (batch size, timed batches): about the same wall time per size on a laptop-class core.
PLAN = [(1, 600), (100, 120), (1000, 20)]
WARMUP_BATCHES = 3


def start_server(database_url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "ASC_API_ADMIN_TOKEN": ADMIN_TOKEN,
        "ASC_API_ORACLE_TOKEN": ORACLE_TOKEN,
        "ASC_API_DATABASE_URL": database_url,
        "ASC_API_DATA_DIR": str(workdir),
    }
    log = (workdir / "api.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "offchain.api", "--fd", str(listener.fileno()), "--log-level", "warning"],
        pass_fds=[listener.fileno()],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    listener.close()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/ready", timeout=1).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("API did not become ready")


def signed_batches(http: httpx.Client, batch_size: int, count: int) -> list[BatchIn]:
    account = Account.create()
    device_id = f"bench-{batch_size}-{os.urandom(4).hex()}"
    shipment_id = f"ship-{device_id}"
    http.put(
        f"/devices/{device_id}",
        json={"address": account.address, "shipments": [shipment_id]},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).raise_for_status()
    total = batch_size * count
    start_ms = int(time.time() * 1000) - total * 1000
    batches = []
    for seq in range(count):
        readings = [
            {
                "ts_ms": start_ms + (seq * batch_size + i) * 1000,
                "temp_centi_c": 400 + i % 50,
                "humidity_bp": 6000,
                "light_lux": 0,
                "shock_milli_g": 25,
                "lat_e7": 515_000_000 + (seq * batch_size + i) * 50,
                "lon_e7": -1_200_000,
            }
            for i in range(batch_size)
        ]
        batches.append(sign_batch(device_id, shipment_id, seq + 1, readings, account.key))
    return batches


def measure(http: httpx.Client, batch_size: int, count: int) -> dict[str, Any]:
    batches = signed_batches(http, batch_size, WARMUP_BATCHES + count)
    bodies = [json.dumps(batch.model_dump()).encode() for batch in batches]
    headers = {"content-type": "application/json"}
    for body in bodies[:WARMUP_BATCHES]:
        http.post("/batches", content=body, headers=headers).raise_for_status()
    latencies = []
    started = time.perf_counter()
    for body in bodies[WARMUP_BATCHES:]:
        sent = time.perf_counter()
        response = http.post("/batches", content=body, headers=headers)
        latencies.append(time.perf_counter() - sent)
        if response.status_code != 201:
            raise RuntimeError(f"unexpected {response.status_code}: {response.text[:500]}")
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "batch_size": batch_size,
        "batches": count,
        "readings": count * batch_size,
        "seconds": round(elapsed, 3),
        "batches_per_s": round(count / elapsed, 1),
        "readings_per_s": round(count * batch_size / elapsed, 1),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "latency_p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="default: SQLite (WAL) in a fresh temp dir")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "bench" / "results" / "api_ingest.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="asc-bench-api-") as tmp:
        workdir = Path(tmp)
        database_url = args.database_url or f"sqlite:///{workdir / 'api.sqlite3'}"
        backend = database_url.split(":", 1)[0].split("+", 1)[0]
        process, base_url = start_server(database_url, workdir)
        try:
            with httpx.Client(base_url=base_url, timeout=120) as http:
                results = []
                for batch_size, count in PLAN:
                    result = measure(http, batch_size, count)
                    results.append(result)
                    print(
                        f"batch {batch_size:>5}: {result['batches_per_s']:>8.1f} batches/s "
                        f"{result['readings_per_s']:>10.1f} readings/s  "
                        f"p50 {result['latency_p50_ms']:.1f} ms  p95 {result['latency_p95_ms']:.1f} ms"
                    )
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    report = {
        "benchmark": "api_ingest",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": backend,
        "server": "python -m offchain.api (uvicorn, 1 process)",
        "client": "1 sequential httpx client, keep-alive, pre-signed batches",
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    existing: dict[str, Any] = {}
    if args.output.exists():
        existing = json.loads(args.output.read_text(encoding="utf-8"))
    runs = existing.get("runs", {}) if isinstance(existing.get("runs"), dict) else {}
    runs[backend] = report
    args.output.write_text(json.dumps({"runs": runs}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"saved {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
