"""The node reads only readings the API accepted: forged device data never reaches its detectors."""

from __future__ import annotations

import pytest
from eth_account import Account

from offchain.api.client import ApiError
from oracles.node.source import ApiSource, SourceUnavailableError
from tests.oracles.node.conftest import Api, excursion_readings, free_port, now_ms


def test_forged_batch_is_refused_and_never_read(api: Api) -> None:
    shipment = "990001"
    device = api.device_for(shipment)
    genuine = excursion_readings(now_ms() - 60 * 60_000, normal=5, hot=0)
    forged = excursion_readings(now_ms() - 50 * 60_000, normal=0, hot=5)
    api.post(shipment, device, genuine)
    with pytest.raises(ApiError) as refused:
        api.post(shipment, Account.create(), forged)  # signed by a key that is not the device's
    assert refused.value.status in (401, 403, 422)

    source = ApiSource(api.base_url)
    try:
        read = source.fetch(shipment, None, 100)
    finally:
        source.close()
    assert [r.ts_ms for r in read] == [r["ts_ms"] for r in genuine]
    assert all(r.temp_centi_c == 300 for r in read)


def test_fetch_resumes_strictly_after_the_cursor(api: Api) -> None:
    shipment = "990002"
    device = api.device_for(shipment)
    readings = excursion_readings(now_ms() - 60 * 60_000, normal=6, hot=0)
    api.post(shipment, device, readings)
    source = ApiSource(api.base_url)
    try:
        first = source.fetch(shipment, None, 4)
        rest = source.fetch(shipment, (first[-1].ts_ms, first[-1].id), 100)
    finally:
        source.close()
    assert [r.ts_ms for r in first + rest] == [r["ts_ms"] for r in readings]


def test_unreachable_api_is_reported_as_unavailable() -> None:
    source = ApiSource(f"http://127.0.0.1:{free_port()}", timeout_s=1)
    try:
        with pytest.raises(SourceUnavailableError):
            source.fetch("1", None, 10)
    finally:
        source.close()
