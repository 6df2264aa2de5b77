"""Replay recorded readings as signed device batches, for demos and benchmarks.

    python -m offchain.api.replay CSV_OR_DIR --device-key-file keys.json --speed 60 --api http://127.0.0.1:8000

Input: one CSV file, or a directory whose *.csv files are read in name order. Columns: `ts` (integer
milliseconds since the epoch, or ISO-8601; naive times are UTC), `shipment`, `device`, and the
fixed-point measurements `temp_centi_c`, `humidity_bp`, `light_lux`, `shock_milli_g`, `lat_e7`, `lon_e7`.
Rows of all files are replayed in timestamp order. Consecutive readings of one device for one shipment
are grouped into batches of `--batch-size`; a batch is posted when the replay clock reaches its last
reading (`--speed 60`: one recorded minute per second; `--speed 0`: as fast as possible).

The key file is JSON: {"device-id": "0x<private key>", ...}. Each device's seq continues after the last
seq the API has accepted for it. Transport failures are retried (a re-post of the same batch is
idempotent); a rejection stops the replay with the API's problem details (exit status 1).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import httpx
from pydantic import ValidationError

from .client import ApiClient, ApiError, sign_batch
from .schemas import ReadingIn
from .signing import READING_FIELDS

logger = logging.getLogger(__name__)

MEASUREMENT_COLUMNS = tuple(name for name in READING_FIELDS if name != "ts_ms")
REQUIRED_COLUMNS = ("ts", "shipment", "device", *MEASUREMENT_COLUMNS)
_RETRIES = 3


class ReplayInputError(ValueError):
    """The recorded input or the key file cannot be replayed; the message says where and why."""


@dataclass(frozen=True)
class Row:
    device_id: str
    shipment_id: str
    reading: ReadingIn


@dataclass
class PlannedBatch:
    device_id: str
    shipment_id: str
    readings: list[ReadingIn] = field(default_factory=list)

    @property
    def due_ts_ms(self) -> int:
        return self.readings[-1].ts_ms


def parse_ts(text: str) -> int:
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def csv_files(source: Path) -> list[Path]:
    if source.is_dir():
        files = sorted(source.glob("*.csv"))
        if not files:
            raise ReplayInputError(f"{source}: no *.csv files")
        return files
    if not source.is_file():
        raise ReplayInputError(f"{source}: no such file or directory")
    return [source]


def read_rows(path: Path) -> list[Row]:
    rows: list[Row] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ReplayInputError(f"{path}: missing column(s) {', '.join(missing)}")
        for line, record in enumerate(reader, start=2):
            try:
                values = {name: int(record[name]) for name in MEASUREMENT_COLUMNS}
                reading = ReadingIn(ts_ms=parse_ts(record["ts"]), **values)
            except (ValueError, ValidationError) as exc:
                raise ReplayInputError(f"{path}:{line}: {exc}") from exc
            rows.append(Row(record["device"].strip(), record["shipment"].strip(), reading))
    return rows


def load_rows(sources: Iterable[Path]) -> list[Row]:
    rows = [row for source in sources for path in csv_files(source) for row in read_rows(path)]
    rows.sort(key=lambda row: row.reading.ts_ms)  # stable: equal timestamps keep file order
    return rows


def plan_batches(rows: Sequence[Row], batch_size: int) -> list[PlannedBatch]:
    """Batches in the order they become due (the time of their last reading)."""
    open_batches: dict[str, PlannedBatch] = {}
    planned: list[PlannedBatch] = []
    for row in rows:
        current = open_batches.get(row.device_id)
        if current is not None and current.shipment_id != row.shipment_id:
            planned.append(open_batches.pop(row.device_id))
            current = None
        if current is None:
            current = open_batches[row.device_id] = PlannedBatch(row.device_id, row.shipment_id)
        current.readings.append(row.reading)
        if len(current.readings) >= batch_size:
            planned.append(open_batches.pop(row.device_id))
    planned.extend(open_batches.values())
    planned.sort(key=lambda batch: batch.due_ts_ms)
    return planned


def load_keys(path: Path, device_ids: Iterable[str]) -> dict[str, str]:
    try:
        keys = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ReplayInputError(f"{path}: cannot read key file: {exc}") from exc
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise ReplayInputError(f"{path}: expected a JSON object of device id -> private key")
    missing = sorted(set(device_ids) - set(keys))
    if missing:
        raise ReplayInputError(f"{path}: no key for device(s) {', '.join(missing)}")
    return keys


@dataclass
class Progress:
    total_batches: int
    total_readings: int
    out: TextIO
    started: float = field(default_factory=time.monotonic)
    batches: int = 0
    readings: int = 0
    _last_shown: float = 0.0

    def advance(self, readings: int) -> None:
        self.batches += 1
        self.readings += readings
        now = time.monotonic()
        if now - self._last_shown >= 1.0 or self.batches == self.total_batches:
            self._last_shown = now
            rate = self.readings / max(now - self.started, 1e-9)
            self.out.write(
                f"replay: {self.batches}/{self.total_batches} batches, "
                f"{self.readings}/{self.total_readings} readings, {rate:.0f} readings/s\n"
            )
            self.out.flush()


def _post_with_retries(client: ApiClient, batch: PlannedBatch, seq: int, key: str) -> None:
    signed = sign_batch(batch.device_id, batch.shipment_id, seq, batch.readings, key)
    for attempt in range(1, _RETRIES + 1):
        try:
            client.post_batch(signed)
            return
        except httpx.TransportError as exc:
            if attempt == _RETRIES:
                raise
            logger.warning("post of %s seq %d failed (%s); retrying", batch.device_id, seq, exc)
            time.sleep(0.5 * attempt)


def replay(
    client: ApiClient, plan: Sequence[PlannedBatch], keys: dict[str, str], speed: float, progress: Progress
) -> None:
    next_seq: dict[str, int] = {}
    for device_id in {batch.device_id for batch in plan}:
        last = client.get_device(device_id).last_seq
        next_seq[device_id] = 1 if last is None else last + 1
    if not plan:
        return
    first_ts = min(batch.readings[0].ts_ms for batch in plan)
    wall_start = time.monotonic()
    for batch in plan:
        if speed > 0:
            due = wall_start + (batch.due_ts_ms - first_ts) / 1000 / speed
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        seq = next_seq[batch.device_id]
        _post_with_retries(client, batch, seq, keys[batch.device_id])
        next_seq[batch.device_id] = seq + 1
        progress.advance(len(batch.readings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m offchain.api.replay",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sources", nargs="+", type=Path, metavar="CSV_OR_DIR")
    parser.add_argument("--device-key-file", type=Path, required=True)
    parser.add_argument("--api", default="http://127.0.0.1:8000", help="base URL of the API")
    parser.add_argument("--speed", type=float, default=60.0, help="speed-up factor; 0 = as fast as possible")
    parser.add_argument("--batch-size", type=int, default=10)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.speed < 0 or args.batch_size < 1:
        parser.error("--speed must be >= 0 and --batch-size >= 1")
    try:
        rows = load_rows(args.sources)
        keys = load_keys(args.device_key_file, {row.device_id for row in rows})
    except ReplayInputError as exc:
        logger.error("%s", exc)
        return 2
    plan = plan_batches(rows, args.batch_size)
    progress = Progress(len(plan), len(rows), sys.stderr)
    try:
        with ApiClient(args.api) as client:
            replay(client, plan, keys, args.speed, progress)
    except ApiError as exc:
        logger.error("rejected after %d batches: %s", progress.batches, json.dumps(exc.problem))
        return 1
    except httpx.TransportError as exc:
        logger.error("API unreachable at %s after %d batches: %s", args.api, progress.batches, exc)
        return 1
    elapsed = time.monotonic() - progress.started
    print(  # noqa: T201 - the command's own result line
        f"replayed {progress.readings} readings in {progress.batches} batches "
        f"from {len({b.device_id for b in plan})} devices in {elapsed:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
