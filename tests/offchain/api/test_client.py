"""The typed client against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from eth_account import Account

from offchain.api.client import ApiClient, ApiError, feed_url, subscribe_feed
from offchain.api.schemas import ReadingPublic, VerdictIn

from .conftest import ADMIN_TOKEN, ORACLE_TOKEN, Device, RunningApi, make_readings, new_device
from .test_verdicts import verdict


@pytest.fixture
def client(sqlite_api: RunningApi) -> Iterator[ApiClient]:
    with ApiClient(sqlite_api.base_url, admin_token=ADMIN_TOKEN, oracle_token=ORACLE_TOKEN) as api:
        yield api


@pytest.fixture
def device(client: ApiClient) -> Device:
    fresh = new_device()
    client.register_device(fresh.device_id, fresh.address, [fresh.shipment_id])
    return fresh


def test_registered_device_is_listed(client: ApiClient, device: Device) -> None:
    assert device.device_id in {d.device_id for d in client.list_devices()}


def test_admin_call_without_admin_token_fails_before_sending(sqlite_api: RunningApi) -> None:
    with ApiClient(sqlite_api.base_url) as anonymous, pytest.raises(ValueError, match="admin_token"):
        anonymous.register_device("x", new_device().address, None)


def test_post_readings_signs_and_posts(client: ApiClient, device: Device) -> None:
    result = client.post_readings(device.device_id, device.shipment_id, 1, make_readings(3), device.key)
    assert (result.seq, result.reading_count) == (1, 3)


def test_rejection_raises_api_error_with_problem(client: ApiClient, device: Device) -> None:
    other_key = bytes(Account.create().key)
    with pytest.raises(ApiError) as raised:
        client.post_readings(device.device_id, device.shipment_id, 1, make_readings(1), other_key)
    assert (raised.value.status, raised.value.kind) == (401, "bad-signature")
    assert raised.value.problem["errors"][0]["field"] == "signature"


def test_readings_iterator_follows_pages(client: ApiClient, device: Device) -> None:
    readings = make_readings(5)
    client.post_readings(device.device_id, device.shipment_id, 1, readings, device.key)
    got = list(client.readings(device.shipment_id, page_size=2))
    assert [r.ts_ms for r in got] == [r["ts_ms"] for r in readings]


def test_positions_include_latest_fix(client: ApiClient, device: Device) -> None:
    readings = make_readings(2)
    client.post_readings(device.device_id, device.shipment_id, 1, readings, device.key)
    assert {p.shipment_id: p.ts_ms for p in client.positions()}[device.shipment_id] == readings[-1]["ts_ms"]


def test_post_verdict_round_trips(client: ApiClient) -> None:
    body = VerdictIn.model_validate(verdict())
    recorded = client.post_verdict(body)
    assert recorded.verdict_id == body.verdict_id
    assert [v.verdict_id for v in client.verdicts(body.shipment_id)] == [body.verdict_id]


def test_async_feed_subscription_receives_readings(client: ApiClient, device: Device) -> None:
    readings = make_readings(2)
    client.post_readings(device.device_id, device.shipment_id, 1, readings, device.key)

    async def first_two() -> list[int]:
        stream = subscribe_feed(client.base_url, device.shipment_id, after_id=0)
        got = []
        async for message in stream:
            assert isinstance(message.data, ReadingPublic)
            got.append(message.data.ts_ms)
            if len(got) == 2:
                break
        await stream.aclose()
        return got

    assert asyncio.run(asyncio.wait_for(first_two(), timeout=15)) == [r["ts_ms"] for r in readings]


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://h:1", "ws://h:1/ws/feed?shipment_id=s&after_id=3"),
        ("https://h/", "wss://h/ws/feed?shipment_id=s&after_id=3"),
    ],
)
def test_feed_url_maps_scheme(base: str, expected: str) -> None:
    assert feed_url(base, "s", 3) == expected
