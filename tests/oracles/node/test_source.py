"""The node reads only readings the API accepted (forged device data never reaches its detectors), in
acceptance order: a backlog another device uploads late is read after what was read before, never skipped."""

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


def test_fetch_resumes_strictly_after_the_last_id_read(api: Api) -> None:
    shipment = "990002"
    device = api.device_for(shipment)
    readings = excursion_readings(now_ms() - 60 * 60_000, normal=6, hot=0)
    api.post(shipment, device, readings)
    source = ApiSource(api.base_url)
    try:
        first = source.fetch(shipment, None, 4)
        rest = source.fetch(shipment, first[-1].id, 100)
    finally:
        source.close()
    assert [r.ts_ms for r in first + rest] == [r["ts_ms"] for r in readings]


def test_a_backlog_uploaded_late_by_another_device_is_read_after_the_cursor(api: Api) -> None:
    shipment = "990003"
    recent = excursion_readings(now_ms() - 30 * 60_000, normal=5, hot=0)
    backlog = excursion_readings(now_ms() - 90 * 60_000, normal=5, hot=0)
    api.post(shipment, api.device_for(shipment), recent)
    late_device = Account.create()
    with api.client() as client:
        client.register_device(f"logger-{shipment}", late_device.address, shipments=[shipment])
    source = ApiSource(api.base_url)
    try:
        read = source.fetch(shipment, None, 100)
        with api.client() as client:
            client.post_readings(f"logger-{shipment}", shipment, 1, backlog, late_device.key)
        late = source.fetch(shipment, read[-1].id, 100)
    finally:
        source.close()
    assert [r.ts_ms for r in read] == [r["ts_ms"] for r in recent]
    assert [(r.device_id, r.ts_ms) for r in late] == [(f"logger-{shipment}", r["ts_ms"]) for r in backlog]


def test_an_api_that_ignores_after_id_is_refused(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """An API from before acceptance order ignores after_id and answers from the start: reading on would feed
    the same readings twice, so the source reports it instead."""
    shipment = "990004"
    api.post(shipment, api.device_for(shipment), excursion_readings(now_ms() - 60 * 60_000, normal=4, hot=0))
    source = ApiSource(api.base_url)
    time_ordered = source._client.readings_page
    monkeypatch.setattr(
        source._client, "readings_page", lambda shipment_id, *, after_id, limit: time_ordered(shipment_id, limit=limit)
    )
    try:
        first = source.fetch(shipment, None, 2)
        with pytest.raises(SourceUnavailableError, match="acceptance order"):
            source.fetch(shipment, first[-1].id, 2)
    finally:
        source.close()


def test_unreachable_api_is_reported_as_unavailable() -> None:
    source = ApiSource(f"http://127.0.0.1:{free_port()}", timeout_s=1)
    try:
        with pytest.raises(SourceUnavailableError):
            source.fetch("1", None, 10)
    finally:
        source.close()
