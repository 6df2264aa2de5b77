"""Verdict notifications (oracle token) against a real server."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
from multiformats import CID, multihash

from .conftest import ADMIN_TOKEN, ORACLE_TOKEN, unique

ORACLE = {"Authorization": f"Bearer {ORACLE_TOKEN}"}


def verdict(**overrides: Any) -> dict[str, Any]:
    cid = CID("base32", 1, "raw", multihash.digest(os.urandom(16), "sha2-256"))
    return {
        "verdict_id": "0x" + os.urandom(32).hex(),
        "shipment_id": unique("ship"),
        "kind": "temperature_excursion",
        "severity": "critical",
        "tx_hash": "0x" + os.urandom(32).hex(),
        "evidence_cid": str(cid),
        "detected_at_ms": 1_790_000_000_000,
        **overrides,
    }


def test_verdict_is_recorded_and_listed(http: httpx.Client) -> None:
    body = verdict()
    response = http.post("/verdicts", json=body, headers=ORACLE)
    assert response.status_code == 201, response.text
    listed = http.get("/verdicts", params={"shipment_id": body["shipment_id"]}).json()
    assert [v["verdict_id"] for v in listed] == [body["verdict_id"]]
    assert {k: listed[0][k] for k in body} == body


def test_same_verdict_again_is_idempotent(http: httpx.Client) -> None:
    body = verdict()
    first = http.post("/verdicts", json=body, headers=ORACLE)
    again = http.post("/verdicts", json=body, headers=ORACLE)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_different_verdict_under_recorded_id_is_conflict(http: httpx.Client) -> None:
    body = verdict()
    http.post("/verdicts", json=body, headers=ORACLE).raise_for_status()
    response = http.post("/verdicts", json={**body, "severity": "info"}, headers=ORACLE)
    assert response.status_code == 409
    assert [e["field"] for e in response.json()["errors"]] == ["severity"]


def test_verdict_without_token_is_unauthorized(http: httpx.Client) -> None:
    assert http.post("/verdicts", json=verdict()).status_code == 401


@pytest.mark.parametrize("token", [ADMIN_TOKEN, "wrong-token-value-123456"])
def test_verdict_with_wrong_token_is_forbidden(http: httpx.Client, token: str) -> None:
    body = verdict()
    response = http.post("/verdicts", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert http.get("/verdicts", params={"shipment_id": body["shipment_id"]}).json() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("verdict_id", "0x1234"),
        ("evidence_cid", "bafynotacid1234567"),
        ("severity", "apocalyptic"),
        ("tx_hash", "0xzz" + "0" * 62),
        ("kind", "Has Spaces"),
    ],
)
def test_malformed_verdict_names_field(http: httpx.Client, field: str, value: str) -> None:
    response = http.post("/verdicts", json=verdict(**{field: value}), headers=ORACLE)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_verdict_without_tx_hash_is_accepted(http: httpx.Client) -> None:
    body = verdict(tx_hash=None)
    assert http.post("/verdicts", json=body, headers=ORACLE).status_code == 201
