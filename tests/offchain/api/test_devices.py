"""Device registration (admin token) and listing, against a real server."""

from __future__ import annotations

import httpx
import pytest
from eth_account import Account

from offchain.api.client import sign_batch

from .conftest import ADMIN_TOKEN, ORACLE_TOKEN, make_readings, new_device, register


def test_registration_creates_device(http: httpx.Client) -> None:
    device = new_device()
    response = register(http, device)
    assert response.status_code == 201
    assert response.json()["address"] == device.address
    assert response.json()["shipments"] == [device.shipment_id]


def test_registering_again_updates_device(http: httpx.Client) -> None:
    device = new_device()
    register(http, device).raise_for_status()
    response = register(http, device, shipments=None)
    assert response.status_code == 200
    assert response.json()["shipments"] is None


def test_key_rotation_keeps_sequence_and_retires_old_key(http: httpx.Client) -> None:
    device = new_device()
    register(http, device).raise_for_status()
    readings = make_readings(3)
    first = sign_batch(device.device_id, device.shipment_id, 1, readings[:1], device.key)
    http.post("/batches", json=first.model_dump()).raise_for_status()
    new_account = Account.create()
    http.put(
        f"/devices/{device.device_id}",
        json={"address": new_account.address, "shipments": [device.shipment_id]},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).raise_for_status()
    old = sign_batch(device.device_id, device.shipment_id, 2, readings[1:2], device.key)
    assert http.post("/batches", json=old.model_dump()).status_code == 401
    new = sign_batch(device.device_id, device.shipment_id, 2, readings[1:2], new_account.key)
    assert http.post("/batches", json=new.model_dump()).status_code == 201


def test_registration_without_token_is_unauthorized(http: httpx.Client) -> None:
    device = new_device()
    response = http.put(f"/devices/{device.device_id}", json={"address": device.address, "shipments": None})
    assert response.status_code == 401
    assert response.json()["type"] == "urn:asc:problem:unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("token", [ORACLE_TOKEN, ADMIN_TOKEN + "x", "short"])
def test_registration_with_wrong_token_is_forbidden(http: httpx.Client, token: str) -> None:
    device = new_device()
    response = http.put(
        f"/devices/{device.device_id}",
        json={"address": device.address, "shipments": None},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    assert response.json()["type"] == "urn:asc:problem:forbidden"
    assert http.get(f"/devices/{device.device_id}").status_code == 404


def test_registration_with_bad_address_is_malformed(http: httpx.Client) -> None:
    device = new_device()
    response = http.put(
        f"/devices/{device.device_id}",
        json={"address": "0x1234", "shipments": None},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "address"


def test_registration_with_bad_device_id_is_malformed(http: httpx.Client) -> None:
    response = http.put(
        "/devices/bad%20id",
        json={"address": new_device().address, "shipments": None},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "device_id"


def test_device_list_includes_registered_devices(http: httpx.Client) -> None:
    devices = [new_device(), new_device()]
    for device in devices:
        register(http, device).raise_for_status()
    listed = {item["device_id"]: item["address"] for item in http.get("/devices").json()}
    assert all(listed[d.device_id] == d.address for d in devices)


def test_unknown_device_is_not_found(http: httpx.Client) -> None:
    response = http.get("/devices/never-registered")
    assert response.status_code == 404
    assert response.json()["type"] == "urn:asc:problem:not-found"
