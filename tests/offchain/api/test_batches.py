"""POST /batches against a real server, on SQLite and PostgreSQL: acceptance and every rejection path."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from eth_account import Account

from offchain.api.client import sign_batch

from .conftest import Device, make_readings, new_device, now_ms, register


def signed(
    device: Device, seq: int, readings: list[dict[str, int]], key: str | None = None
) -> dict[str, Any]:
    batch = sign_batch(device.device_id, device.shipment_id, seq, readings, key or device.key)
    return batch.model_dump()


def problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:asc:problem:{kind}", body
    return body


def stored_count(http: httpx.Client, shipment_id: str) -> int:
    return len(http.get(f"/shipments/{shipment_id}/readings", params={"limit": 1000}).json()["items"])


@pytest.fixture
def device(http: httpx.Client) -> Device:
    fresh = new_device()
    assert register(http, fresh).status_code == 201
    return fresh


def test_signed_batch_is_accepted(http: httpx.Client, device: Device) -> None:
    response = http.post("/batches", json=signed(device, 1, make_readings(3)))
    assert response.status_code == 201, response.text
    result = response.json()
    assert (result["device_id"], result["seq"], result["reading_count"]) == (device.device_id, 1, 3)
    assert result["last_reading_id"] - result["first_reading_id"] == 2
    assert stored_count(http, device.shipment_id) == 3


def test_device_state_follows_accepted_batch(http: httpx.Client, device: Device) -> None:
    readings = make_readings(2)
    http.post("/batches", json=signed(device, 7, readings)).raise_for_status()
    state = http.get(f"/devices/{device.device_id}").json()
    assert (state["last_seq"], state["last_ts_ms"]) == (7, readings[-1]["ts_ms"])


def test_repost_of_accepted_batch_is_idempotent(http: httpx.Client, device: Device) -> None:
    body = signed(device, 1, make_readings(2))
    first = http.post("/batches", json=body)
    again = http.post("/batches", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert stored_count(http, device.shipment_id) == 2


def test_different_batch_with_used_seq_is_conflict(http: httpx.Client, device: Device) -> None:
    readings = make_readings(2)
    http.post("/batches", json=signed(device, 1, readings)).raise_for_status()
    later = make_readings(1, start_ms=readings[-1]["ts_ms"] + 60_000)
    body = problem(http.post("/batches", json=signed(device, 1, later)), 409, "duplicate-seq")
    assert body["errors"][0]["field"] == "seq"


def test_seq_below_last_accepted_is_conflict(http: httpx.Client, device: Device) -> None:
    readings = make_readings(2)
    http.post("/batches", json=signed(device, 5, readings)).raise_for_status()
    later = make_readings(1, start_ms=readings[-1]["ts_ms"] + 60_000)
    body = problem(http.post("/batches", json=signed(device, 4, later)), 409, "stale-seq")
    assert "must be > 5" in body["errors"][0]["reason"]


def test_batch_signed_by_other_key_is_forged(http: httpx.Client, device: Device) -> None:
    other_key = "0x" + bytes(Account.create().key).hex()
    response = http.post("/batches", json=signed(device, 1, make_readings(2), key=other_key))
    body = problem(response, 401, "bad-signature")
    assert body["errors"][0]["field"] == "signature"
    assert stored_count(http, device.shipment_id) == 0


def test_batch_altered_after_signing_is_forged(http: httpx.Client, device: Device) -> None:
    body = signed(device, 1, make_readings(2))
    body["readings"][1]["temp_centi_c"] += 1
    problem(http.post("/batches", json=body), 401, "bad-signature")
    assert stored_count(http, device.shipment_id) == 0


def test_unrecoverable_signature_is_forged(http: httpx.Client, device: Device) -> None:
    body = signed(device, 1, make_readings(1))
    body["signature"] = "0x" + "00" * 65
    problem(http.post("/batches", json=body), 401, "bad-signature")


def test_unknown_device_is_rejected(http: httpx.Client) -> None:
    stranger = new_device()
    body = problem(http.post("/batches", json=signed(stranger, 1, make_readings(1))), 401, "unknown-device")
    assert body["errors"][0]["field"] == "device_id"


def test_device_not_allowed_for_shipment_is_rejected(http: httpx.Client, device: Device) -> None:
    elsewhere = Device(device.device_id, "some-other-shipment", device.key, device.address)
    body = problem(
        http.post("/batches", json=signed(elsewhere, 1, make_readings(1))), 403, "shipment-not-allowed"
    )
    assert body["errors"][0]["field"] == "shipment_id"


def test_device_registered_for_any_shipment_may_report_for_any(http: httpx.Client) -> None:
    roaming = new_device()
    assert register(http, roaming, shipments=None).status_code == 201
    assert http.post("/batches", json=signed(roaming, 1, make_readings(1))).status_code == 201


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r.update(temp_centi_c=4.5), "readings.1.temp_centi_c"),
        (lambda r: r.update(humidity_bp="6500"), "readings.1.humidity_bp"),
        (lambda r: r.pop("lat_e7"), "readings.1.lat_e7"),
        (lambda r: r.update(pressure_pa=101_325), "readings.1.pressure_pa"),
        (lambda r: r.update(ts_ms=-5), "readings.1.ts_ms"),
    ],
    ids=["float", "string", "missing", "extra", "negative-ts"],
)
def test_malformed_reading_names_reading_and_field(
    http: httpx.Client, device: Device, mutate: Any, field: str
) -> None:
    body = signed(device, 1, make_readings(2))
    mutate(body["readings"][1])
    result = problem(http.post("/batches", json=body), 422, "malformed")
    assert [(e["reading"], e["field"]) for e in result["errors"]] == [(1, field)]
    assert stored_count(http, device.shipment_id) == 0


def test_empty_batch_is_malformed(http: httpx.Client, device: Device) -> None:
    body = signed(device, 1, make_readings(1))
    body["readings"] = []
    result = problem(http.post("/batches", json=body), 422, "malformed")
    assert result["errors"][0]["field"] == "readings"


def test_non_json_body_is_malformed(http: httpx.Client) -> None:
    response = http.post("/batches", content=b"{not json", headers={"content-type": "application/json"})
    problem(response, 422, "malformed")


def test_timestamps_not_increasing_within_batch_are_out_of_order(http: httpx.Client, device: Device) -> None:
    readings = make_readings(3)
    readings[2]["ts_ms"] = readings[1]["ts_ms"]
    result = problem(http.post("/batches", json=signed(device, 1, readings)), 422, "out-of-order")
    assert [(e["reading"], e["field"]) for e in result["errors"]] == [(2, "readings.2.ts_ms")]
    assert stored_count(http, device.shipment_id) == 0


def test_reading_not_after_last_accepted_is_out_of_order(http: httpx.Client, device: Device) -> None:
    readings = make_readings(3)
    http.post("/batches", json=signed(device, 1, readings[1:])).raise_for_status()
    result = problem(http.post("/batches", json=signed(device, 2, readings[:1])), 422, "out-of-order")
    assert result["errors"][0]["reading"] == 0


def test_reading_already_accepted_is_duplicate(http: httpx.Client, device: Device) -> None:
    readings = make_readings(2)
    http.post("/batches", json=signed(device, 1, readings)).raise_for_status()
    result = problem(http.post("/batches", json=signed(device, 2, readings[1:])), 409, "duplicate-reading")
    assert result["errors"][0]["reading"] == 0
    assert stored_count(http, device.shipment_id) == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temp_centi_c", 8001),
        ("temp_centi_c", -6001),
        ("humidity_bp", 10_001),
        ("humidity_bp", -1),
        ("shock_milli_g", -1),
        ("shock_milli_g", 200_001),
        ("light_lux", -1),
        ("lat_e7", 900_000_001),
        ("lon_e7", -1_800_000_001),
    ],
)
def test_physically_impossible_value_is_implausible(
    http: httpx.Client, device: Device, field: str, value: int
) -> None:
    readings = make_readings(3)
    readings[1][field] = value
    result = problem(http.post("/batches", json=signed(device, 1, readings)), 422, "implausible")
    assert [(e["reading"], e["field"]) for e in result["errors"]] == [(1, f"readings.1.{field}")]
    assert stored_count(http, device.shipment_id) == 0


def test_boundary_values_are_plausible(http: httpx.Client, device: Device) -> None:
    readings = make_readings(2)
    readings[0].update(temp_centi_c=-6000, humidity_bp=0, shock_milli_g=200_000)
    readings[1].update(temp_centi_c=8000, humidity_bp=10_000, shock_milli_g=0)
    assert http.post("/batches", json=signed(device, 1, readings)).status_code == 201


def test_timestamp_far_in_future_is_implausible(http: httpx.Client, device: Device) -> None:
    readings = make_readings(1, start_ms=now_ms() + 3_600_000)
    result = problem(http.post("/batches", json=signed(device, 1, readings)), 422, "implausible")
    assert result["errors"][0]["field"] == "readings.0.ts_ms"


def test_teleport_between_fixes_is_implausible(http: httpx.Client, device: Device) -> None:
    readings = make_readings(2)
    readings[1]["lat_e7"] = readings[0]["lat_e7"] + 10_000_000  # ~111 km in one minute
    result = problem(http.post("/batches", json=signed(device, 1, readings)), 422, "implausible")
    assert "km/h" in result["errors"][0]["reason"]


def test_teleport_from_last_accepted_fix_is_implausible(http: httpx.Client, device: Device) -> None:
    readings = make_readings(2)
    http.post("/batches", json=signed(device, 1, readings[:1])).raise_for_status()
    readings[1]["lon_e7"] += 50_000_000
    result = problem(http.post("/batches", json=signed(device, 2, readings[1:])), 422, "implausible")
    assert result["errors"][0]["reading"] == 0


def test_every_violation_is_reported(http: httpx.Client, device: Device) -> None:
    readings = make_readings(4)
    readings[0]["humidity_bp"] = 20_000
    readings[3]["ts_ms"] = readings[2]["ts_ms"]
    result = problem(http.post("/batches", json=signed(device, 1, readings)), 422, "rejected-readings")
    assert sorted(e["reading"] for e in result["errors"]) == [0, 3]


def test_rejected_batch_leaves_nothing_behind(http: httpx.Client, device: Device) -> None:
    readings = make_readings(5)
    bad = [dict(r) for r in readings]
    bad[4]["temp_centi_c"] = 9_999
    problem(http.post("/batches", json=signed(device, 1, bad)), 422, "implausible")
    assert stored_count(http, device.shipment_id) == 0
    assert http.get(f"/devices/{device.device_id}").json()["last_seq"] is None
    assert http.post("/batches", json=signed(device, 1, readings)).status_code == 201


def test_batch_over_size_limit_is_rejected(http: httpx.Client, device: Device) -> None:
    readings = make_readings(1001, step_ms=1_000)
    problem(http.post("/batches", json=signed(device, 1, readings)), 413, "batch-too-large")


def test_oversized_body_is_refused_before_parsing(http: httpx.Client) -> None:
    response = http.post("/batches", content=b" " * 600_000, headers={"content-type": "application/json"})
    problem(response, 413, "batch-too-large")
