"""Queries by shipment against a real server: time range, cursor pagination, latest positions."""

from __future__ import annotations

import httpx
import pytest

from offchain.api.client import sign_batch

from .conftest import Device, make_readings, new_device, now_ms, register


@pytest.fixture
def shipment(http: httpx.Client) -> tuple[Device, list[dict[str, int]]]:
    """A shipment with 25 readings posted as 3 batches."""
    device = new_device()
    register(http, device).raise_for_status()
    readings = make_readings(25)
    for seq, chunk in enumerate((readings[:10], readings[10:20], readings[20:]), start=1):
        batch = sign_batch(device.device_id, device.shipment_id, seq, chunk, device.key)
        http.post("/batches", json=batch.model_dump()).raise_for_status()
    return device, readings


def test_pages_follow_cursor_to_every_reading_in_order(
    http: httpx.Client, shipment: tuple[Device, list[dict[str, int]]]
) -> None:
    device, readings = shipment
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        page = http.get(f"/shipments/{device.shipment_id}/readings", params=params).json()
        seen += [item["ts_ms"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [r["ts_ms"] for r in readings]
    assert pages == 4


def test_readings_carry_their_values_and_origin(
    http: httpx.Client, shipment: tuple[Device, list[dict[str, int]]]
) -> None:
    device, readings = shipment
    item = http.get(f"/shipments/{device.shipment_id}/readings", params={"limit": 1}).json()["items"][0]
    assert {key: item[key] for key in readings[0]} == readings[0]
    assert (item["device_id"], item["batch_seq"]) == (device.device_id, 1)


def test_time_range_is_inclusive_start_exclusive_end(
    http: httpx.Client, shipment: tuple[Device, list[dict[str, int]]]
) -> None:
    device, readings = shipment
    params = {"from_ms": readings[5]["ts_ms"], "to_ms": readings[9]["ts_ms"]}
    items = http.get(f"/shipments/{device.shipment_id}/readings", params=params).json()["items"]
    assert [i["ts_ms"] for i in items] == [r["ts_ms"] for r in readings[5:9]]


def test_unknown_shipment_has_no_readings(http: httpx.Client) -> None:
    page = http.get("/shipments/nothing-here/readings").json()
    assert page == {"items": [], "next_cursor": None}


def test_forged_cursor_is_malformed(http: httpx.Client) -> None:
    response = http.get("/shipments/any/readings", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


def test_limit_below_one_is_malformed(http: httpx.Client) -> None:
    response = http.get("/shipments/any/readings", params={"limit": 0})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


def test_position_is_latest_fix(http: httpx.Client, shipment: tuple[Device, list[dict[str, int]]]) -> None:
    device, readings = shipment
    position = http.get(f"/shipments/{device.shipment_id}/position").json()
    assert (position["ts_ms"], position["lat_e7"], position["lon_e7"]) == (
        readings[-1]["ts_ms"],
        readings[-1]["lat_e7"],
        readings[-1]["lon_e7"],
    )
    assert position["device_id"] == device.device_id


def test_position_is_listed_among_all_positions(
    http: httpx.Client, shipment: tuple[Device, list[dict[str, int]]]
) -> None:
    device, readings = shipment
    positions = {p["shipment_id"]: p for p in http.get("/positions").json()}
    assert positions[device.shipment_id]["ts_ms"] == readings[-1]["ts_ms"]


def test_position_ignores_older_fix_from_second_device(
    http: httpx.Client, shipment: tuple[Device, list[dict[str, int]]]
) -> None:
    device, readings = shipment
    second = new_device(shipments=[device.shipment_id])
    register(http, second).raise_for_status()
    late = make_readings(1, start_ms=readings[0]["ts_ms"] - 1)
    batch = sign_batch(second.device_id, second.shipment_id, 1, late, second.key)
    http.post("/batches", json=batch.model_dump()).raise_for_status()
    assert http.get(f"/shipments/{device.shipment_id}/position").json()["device_id"] == device.device_id


def test_position_of_unknown_shipment_is_not_found(http: httpx.Client) -> None:
    assert http.get("/shipments/nothing-here/position").status_code == 404


@pytest.fixture
def late_backlog(http: httpx.Client) -> tuple[Device, Device, list[dict[str, int]], list[dict[str, int]]]:
    """Two devices of one shipment: the first uploads 10 readings, then the second its older backlog of 8."""
    first = new_device()
    second = new_device([first.shipment_id])
    for device in (first, second):
        register(http, device).raise_for_status()
    start = now_ms() - 60 * 60_000
    recent = make_readings(10, start_ms=start + 30 * 60_000)
    backlog = make_readings(8, start_ms=start)
    for device, readings in ((first, recent), (second, backlog)):
        batch = sign_batch(device.device_id, device.shipment_id, 1, readings, device.key)
        http.post("/batches", json=batch.model_dump()).raise_for_status()
    return first, second, recent, backlog


def test_after_id_reads_in_acceptance_order_including_a_late_backlog(
    http: httpx.Client, late_backlog: tuple[Device, Device, list[dict[str, int]], list[dict[str, int]]]
) -> None:
    first, second, recent, backlog = late_backlog
    page = http.get(f"/shipments/{first.shipment_id}/readings", params={"after_id": 0, "limit": 100}).json()
    expected = [(first.device_id, r["ts_ms"]) for r in recent] + [(second.device_id, r["ts_ms"]) for r in backlog]
    assert [(i["device_id"], i["ts_ms"]) for i in page["items"]] == expected
    assert page["next_cursor"] is None


def test_time_order_puts_the_late_backlog_first(
    http: httpx.Client, late_backlog: tuple[Device, Device, list[dict[str, int]], list[dict[str, int]]]
) -> None:
    first, second, _, _ = late_backlog
    items = http.get(f"/shipments/{first.shipment_id}/readings", params={"limit": 100}).json()["items"]
    assert [i["device_id"] for i in items] == [second.device_id] * 8 + [first.device_id] * 10


def test_following_after_id_page_by_page_reads_every_reading_once(
    http: httpx.Client, late_backlog: tuple[Device, Device, list[dict[str, int]], list[dict[str, int]]]
) -> None:
    first, _, recent, backlog = late_backlog
    seen: list[int] = []
    after_id = 0
    while True:
        params = {"after_id": after_id, "limit": 7}
        items = http.get(f"/shipments/{first.shipment_id}/readings", params=params).json()["items"]
        if not items:
            break
        seen += [item["id"] for item in items]
        after_id = items[-1]["id"]
    assert len(seen) == len(recent) + len(backlog)
    assert seen == sorted(set(seen))


def test_after_id_with_a_cursor_is_malformed(http: httpx.Client) -> None:
    response = http.get("/shipments/any/readings", params={"after_id": 0, "cursor": "MTox"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "after_id"


def test_negative_after_id_is_malformed(http: httpx.Client) -> None:
    response = http.get("/shipments/any/readings", params={"after_id": -1})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "after_id"
