"""The replay CLI end to end against a real server, plus its batching rules."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from offchain.api.replay import REQUIRED_COLUMNS, Row, parse_ts, plan_batches
from offchain.api.schemas import ReadingIn

from .conftest import REPO_ROOT, Device, RunningApi, make_readings, new_device, register


def write_csv(path: Path, rows: list[tuple[Device, dict[str, int]]], iso: bool = False) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=REQUIRED_COLUMNS)
        writer.writeheader()
        for device, reading in rows:
            ts = reading["ts_ms"]
            writer.writerow(
                {
                    **{k: v for k, v in reading.items() if k != "ts_ms"},
                    "ts": datetime.fromtimestamp(ts / 1000, UTC).isoformat(timespec="milliseconds")
                    if iso
                    else ts,
                    "shipment": device.shipment_id,
                    "device": device.device_id,
                }
            )


def run_replay(api: RunningApi, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offchain.api.replay", *args, "--api", api.base_url],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def recording(sqlite_api: RunningApi, tmp_path: Path) -> tuple[list[Device], Path, Path]:
    """Two registered devices, 15 readings each, in two CSV files (one with ISO timestamps)."""
    devices = [new_device(), new_device()]
    with httpx.Client(base_url=sqlite_api.base_url) as http:
        for device in devices:
            register(http, device).raise_for_status()
    start = int(time.time() * 1000) - 3_600_000
    folder = tmp_path / "recorded"
    folder.mkdir()
    for index, device in enumerate(devices):
        readings = make_readings(15, start_ms=start + index * 1_000)
        write_csv(folder / f"{index}.csv", [(device, r) for r in readings], iso=index == 1)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({d.device_id: d.key for d in devices}), encoding="utf-8")
    return devices, folder, keys


def shipment_ts(api: RunningApi, shipment_id: str) -> list[int]:
    page = httpx.get(f"{api.base_url}/shipments/{shipment_id}/readings", params={"limit": 1000}).json()
    return [item["ts_ms"] for item in page["items"]]


def test_replay_posts_every_reading_as_signed_batches(
    sqlite_api: RunningApi, recording: tuple[list[Device], Path, Path]
) -> None:
    devices, folder, keys = recording
    result = run_replay(
        sqlite_api, str(folder), "--device-key-file", str(keys), "--speed", "0", "--batch-size", "4"
    )
    assert result.returncode == 0, result.stderr
    assert "replayed 30 readings in 8 batches from 2 devices" in result.stdout
    assert "8/8 batches, 30/30 readings" in result.stderr
    for device in devices:
        assert len(shipment_ts(sqlite_api, device.shipment_id)) == 15
        assert httpx.get(f"{sqlite_api.base_url}/devices/{device.device_id}").json()["last_seq"] == 4


def test_replay_paces_batches_by_recorded_time(
    sqlite_api: RunningApi, recording: tuple[list[Device], Path, Path]
) -> None:
    _, folder, keys = recording
    started = time.monotonic()
    # 14 recorded minutes at 1680x take at least 0.5 s of wall time.
    result = run_replay(sqlite_api, str(folder), "--device-key-file", str(keys), "--speed", "1680")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 0.5


def test_replay_continues_after_devices_last_seq(
    sqlite_api: RunningApi, recording: tuple[list[Device], Path, Path], tmp_path: Path
) -> None:
    devices, folder, keys = recording
    assert (
        run_replay(
            sqlite_api, str(folder / "0.csv"), "--device-key-file", str(keys), "--speed", "0"
        ).returncode
        == 0
    )
    later = make_readings(3, start_ms=int(time.time() * 1000) - 60_000)
    write_csv(tmp_path / "later.csv", [(devices[0], r) for r in later])
    result = run_replay(
        sqlite_api, str(tmp_path / "later.csv"), "--device-key-file", str(keys), "--speed", "0"
    )
    assert result.returncode == 0, result.stderr
    assert httpx.get(f"{sqlite_api.base_url}/devices/{devices[0].device_id}").json()["last_seq"] == 3


def test_replay_stops_with_problem_details_on_rejection(
    sqlite_api: RunningApi, recording: tuple[list[Device], Path, Path]
) -> None:
    _, folder, keys = recording
    assert run_replay(sqlite_api, str(folder), "--device-key-file", str(keys), "--speed", "0").returncode == 0
    again = run_replay(sqlite_api, str(folder), "--device-key-file", str(keys), "--speed", "0")
    assert again.returncode == 1
    assert "urn:asc:problem:duplicate-reading" in again.stderr


def test_replay_refuses_devices_without_keys(
    sqlite_api: RunningApi, recording: tuple[list[Device], Path, Path], tmp_path: Path
) -> None:
    devices, folder, _ = recording
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({devices[0].device_id: devices[0].key}), encoding="utf-8")
    result = run_replay(sqlite_api, str(folder), "--device-key-file", str(partial), "--speed", "0")
    assert result.returncode == 2
    assert devices[1].device_id in result.stderr
    assert devices[0].key not in result.stderr
    assert shipment_ts(sqlite_api, devices[0].shipment_id) == []


def test_replay_names_file_and_line_of_bad_row(sqlite_api: RunningApi, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(REQUIRED_COLUMNS) + "\n1000,s,d,4.5,1,1,1,1,1\n", encoding="utf-8")
    keys = tmp_path / "keys.json"
    keys.write_text("{}", encoding="utf-8")
    result = run_replay(sqlite_api, str(bad), "--device-key-file", str(keys))
    assert result.returncode == 2
    assert f"{bad}:2" in result.stderr


def test_replay_refuses_csv_without_required_columns(sqlite_api: RunningApi, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ts,device\n1,d\n", encoding="utf-8")
    result = run_replay(sqlite_api, str(bad), "--device-key-file", str(tmp_path / "none.json"))
    assert result.returncode == 2
    assert "missing column(s) shipment" in result.stderr


def reading(ts_ms: int) -> ReadingIn:
    return ReadingIn(**make_readings(1, start_ms=ts_ms)[0])


def test_batches_split_at_size_and_shipment_change() -> None:
    rows = [Row("d1", "s1", reading(t)) for t in (1, 2, 3)] + [Row("d1", "s2", reading(4))]
    plan = plan_batches(rows, batch_size=2)
    assert [(b.shipment_id, [r.ts_ms for r in b.readings]) for b in plan] == [
        ("s1", [1, 2]),
        ("s1", [3]),
        ("s2", [4]),
    ]


def test_batches_are_due_in_order_of_their_last_reading() -> None:
    rows = [Row("a", "s", reading(1)), Row("b", "s", reading(2)), Row("a", "s", reading(3))]
    plan = plan_batches(rows, batch_size=2)
    assert [(b.device_id, b.due_ts_ms) for b in plan] == [("b", 2), ("a", 3)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1700000000123", 1_700_000_000_123),
        ("2023-11-14T22:13:20.123Z", 1_700_000_000_123),
        ("2023-11-14T22:13:20.123", 1_700_000_000_123),
        ("2023-11-14T23:13:20.123+01:00", 1_700_000_000_123),
    ],
)
def test_timestamps_parse_as_epoch_ms(text: str, expected: int) -> None:
    assert parse_ts(text) == expected
