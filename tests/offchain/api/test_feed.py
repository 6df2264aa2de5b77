"""The live feed over a real WebSocket: readings, verdicts, filtering, catch-up and slow clients."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from offchain.api.client import ApiClient, feed_url, sign_batch

from .conftest import ORACLE_TOKEN, Device, RunningApi, make_readings, new_device, register, start_api
from .test_verdicts import verdict


def post(http: httpx.Client, device: Device, seq: int, readings: list[dict[str, int]]) -> dict[str, Any]:
    batch = sign_batch(device.device_id, device.shipment_id, seq, readings, device.key)
    response = http.post("/batches", json=batch.model_dump())
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def receive(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    return [json.loads(ws.recv(timeout=10)) for _ in range(count)]


@pytest.fixture
def device(sqlite_api: RunningApi) -> Iterator[tuple[httpx.Client, Device]]:
    with httpx.Client(base_url=sqlite_api.base_url, timeout=30) as http:
        fresh = new_device()
        register(http, fresh).raise_for_status()
        yield http, fresh


def test_accepted_readings_are_streamed_in_order(
    sqlite_api: RunningApi, device: tuple[httpx.Client, Device]
) -> None:
    http, dev = device
    with connect(feed_url(sqlite_api.base_url, dev.shipment_id)) as ws:
        readings = make_readings(3)
        result = post(http, dev, 1, readings)
        messages = receive(ws, 3)
    assert [m["type"] for m in messages] == ["reading"] * 3
    assert [m["data"]["ts_ms"] for m in messages] == [r["ts_ms"] for r in readings]
    assert messages[0]["data"]["id"] == result["first_reading_id"]


def test_rejected_readings_are_not_streamed(
    sqlite_api: RunningApi, device: tuple[httpx.Client, Device]
) -> None:
    http, dev = device
    with connect(feed_url(sqlite_api.base_url, dev.shipment_id)) as ws:
        bad = make_readings(2)
        bad[1]["temp_centi_c"] = 10_000
        batch = sign_batch(dev.device_id, dev.shipment_id, 1, bad, dev.key)
        assert http.post("/batches", json=batch.model_dump()).status_code == 422
        good = make_readings(1)
        post(http, dev, 2, good)
        first = receive(ws, 1)[0]
    assert first["data"]["ts_ms"] == good[0]["ts_ms"]


def test_verdicts_are_streamed(sqlite_api: RunningApi, device: tuple[httpx.Client, Device]) -> None:
    http, dev = device
    body = verdict(shipment_id=dev.shipment_id)
    with connect(feed_url(sqlite_api.base_url, dev.shipment_id)) as ws:
        http.post(
            "/verdicts", json=body, headers={"Authorization": f"Bearer {ORACLE_TOKEN}"}
        ).raise_for_status()
        message = receive(ws, 1)[0]
    assert message["type"] == "verdict"
    assert message["data"]["verdict_id"] == body["verdict_id"]


def test_shipment_filter_excludes_other_shipments(
    sqlite_api: RunningApi, device: tuple[httpx.Client, Device]
) -> None:
    http, dev = device
    other = new_device()
    register(http, other).raise_for_status()
    with connect(feed_url(sqlite_api.base_url, dev.shipment_id)) as ws:
        post(http, other, 1, make_readings(2))
        post(http, dev, 1, make_readings(1))
        first = receive(ws, 1)[0]
    assert first["data"]["shipment_id"] == dev.shipment_id


def test_unfiltered_feed_carries_every_shipment(
    sqlite_api: RunningApi, device: tuple[httpx.Client, Device]
) -> None:
    http, dev = device
    other = new_device()
    register(http, other).raise_for_status()
    with connect(feed_url(sqlite_api.base_url)) as ws:
        post(http, other, 1, make_readings(1))
        post(http, dev, 1, make_readings(1))
        shipments = [m["data"]["shipment_id"] for m in receive(ws, 2)]
    assert shipments == [other.shipment_id, dev.shipment_id]


def test_after_id_replays_stored_readings_then_live(
    sqlite_api: RunningApi, device: tuple[httpx.Client, Device]
) -> None:
    http, dev = device
    readings = make_readings(5)
    first = post(http, dev, 1, readings[:3])
    with connect(feed_url(sqlite_api.base_url, dev.shipment_id, after_id=first["first_reading_id"])) as ws:
        replayed = receive(ws, 2)
        post(http, dev, 2, readings[3:])
        live = receive(ws, 2)
    assert [m["data"]["ts_ms"] for m in replayed + live] == [r["ts_ms"] for r in readings[1:]]


def test_client_feed_iterator_yields_typed_messages(
    sqlite_api: RunningApi, device: tuple[httpx.Client, Device]
) -> None:
    http, dev = device
    readings = make_readings(2)
    post(http, dev, 1, readings)
    with ApiClient(sqlite_api.base_url) as api:
        stream = api.feed(shipment_id=dev.shipment_id, after_id=0, timeout_s=10)
        messages = [next(stream), next(stream)]
        stream.close()
    assert [m.data.ts_ms for m in messages if m.data is not None and hasattr(m.data, "ts_ms")] == [
        r["ts_ms"] for r in readings
    ]


@pytest.fixture(scope="module")
def small_queue_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    path: Path = tmp_path_factory.mktemp("slow")
    running = start_api(f"sqlite:///{path / 'api.sqlite3'}", path, feed_queue_size=3000)
    yield running
    running.stop()


class StalledClient:
    """A feed client that stops reading after the handshake, with a tiny receive buffer.

    Built on the sans-I/O protocol of `websockets` so that nothing reads the socket behind our back.
    """

    def __init__(self, base_url: str, shipment_id: str) -> None:
        url = urlparse(base_url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((url.hostname, url.port))
        self.protocol = ClientProtocol(parse_uri(feed_url(base_url, shipment_id)))
        self.protocol.send_request(self.protocol.connect())
        self.sock.sendall(b"".join(self.protocol.data_to_send()))
        self.pending: list[dict[str, Any]] = []
        while self.protocol.handshake_exc is None and self.protocol.state is not State.OPEN:
            self._pump()
        assert self.protocol.state is State.OPEN

    def _pump(self) -> None:
        self.sock.settimeout(10)
        self.protocol.receive_data(self.sock.recv(65536))
        for event in self.protocol.events_received():
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.pending.append(json.loads(event.data))

    def recv(self) -> dict[str, Any]:
        while not self.pending:
            self._pump()
        return self.pending.pop(0)

    def close(self) -> None:
        self.sock.close()


def is_last(message: dict[str, Any], ts_ms: int) -> bool:
    return message["type"] == "reading" and message["data"]["ts_ms"] == ts_ms


def test_slow_client_loses_oldest_messages_and_never_blocks_ingestion(small_queue_api: RunningApi) -> None:
    # Enough data to fill the kernel socket buffers (the server's send buffer autotunes to ~4 MB) and
    # then the client's queue: only then does the server-side pump stall and drop.
    total_batches, per_batch = 40, 1000
    readings = make_readings(total_batches * per_batch, step_ms=1_000)
    fast_seen: list[dict[str, Any]] = []
    slow_seen: list[dict[str, Any]] = []
    with httpx.Client(base_url=small_queue_api.base_url, timeout=30) as http:
        dev = new_device()
        register(http, dev).raise_for_status()
        slow = StalledClient(small_queue_api.base_url, dev.shipment_id)
        with connect(feed_url(small_queue_api.base_url, dev.shipment_id)) as fast:
            reader = threading.Thread(
                target=lambda: fast_seen.extend(receive(fast, len(readings))), daemon=True
            )
            reader.start()
            for seq in range(total_batches):
                post(http, dev, seq + 1, readings[seq * per_batch : (seq + 1) * per_batch])
            reader.join(timeout=60)
        while not slow_seen or not is_last(slow_seen[-1], readings[-1]["ts_ms"]):
            slow_seen.append(slow.recv())
        slow.close()
    assert [m["data"]["ts_ms"] for m in fast_seen] == [r["ts_ms"] for r in readings]
    dropped = sum(m["dropped"] for m in slow_seen if m["type"] == "gap")
    delivered = [m["data"]["ts_ms"] for m in slow_seen if m["type"] == "reading"]
    assert dropped > 0
    assert len(delivered) + dropped == len(readings)
    assert delivered == sorted(delivered)


def test_feed_with_bad_query_is_refused_at_handshake(sqlite_api: RunningApi) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(feed_url(sqlite_api.base_url, after_id=-1)).close()
    assert refused.value.response.status_code == 403


def test_tokens_never_reach_the_log(sqlite_api: RunningApi) -> None:
    log = sqlite_api.log()
    assert sqlite_api.env["ASC_API_ADMIN_TOKEN"] not in log
    assert sqlite_api.env["ASC_API_ORACLE_TOKEN"] not in log
