"""A shipment's reading ids become visible in id order, on SQLite and on PostgreSQL: a follower reading by
``after_id`` never skips a reading that commits after a greater id of the same shipment."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from offchain.api.client import sign_batch
from offchain.api.ingestion import accept_batch
from offchain.api.schemas import BatchIn, DeviceRegister
from offchain.api.signing import batch_hash, canonical_batch_bytes, recover_signer
from offchain.api.store import Store, open_store

from .conftest import Device, make_readings, new_device, now_ms


@pytest.fixture
def store(backend_url: str) -> Iterator[Store]:
    opened = open_store(backend_url, max_future_ms=300_000, max_speed_kmh=250)
    yield opened
    opened.close()


def _registered(store: Store, device: Device) -> None:
    store.register_device(device.device_id, DeviceRegister(address=device.address, shipments=[device.shipment_id]))


def _batch(device: Device, start_ms: int, seq: int = 1) -> BatchIn:
    return sign_batch(device.device_id, device.shipment_id, seq, make_readings(5, start_ms=start_ms), device.key)


def test_a_second_devices_batch_waits_for_the_open_one_and_draws_greater_ids(store: Store) -> None:
    first = new_device()
    second = new_device([first.shipment_id])
    for device in (first, second):
        _registered(store, device)
    start = now_ms() - 3_600_000
    earlier = [r.id for r in store.ingest(_batch(first, start + 600_000)).readings]
    # The second device uploads an older backlog while the first device's next batch is being written.
    held, racing = _batch(first, start + 1_200_000, seq=2), _batch(second, start)
    readings = [r.model_dump() for r in held.readings]
    canonical = canonical_batch_bytes(held.device_id, held.shipment_id, held.seq, readings)
    finished = threading.Event()
    racing_ids: list[int] = []

    def ingest_racing() -> None:
        accepted = store.ingest(racing)
        racing_ids.extend(r.id for r in accepted.readings)
        finished.set()

    with store.writing() as session:
        accepted = accept_batch(
            session, held, batch_hash(canonical), recover_signer(canonical, held.signature), store._limits()
        )
        held_ids = [r.id for r in accepted.readings]
        worker = threading.Thread(target=ingest_racing)
        worker.start()
        # Ids are drawn; until this transaction commits, the other device's batch must not commit.
        assert not finished.wait(1.5)
    worker.join(timeout=30)
    assert finished.is_set()
    assert min(racing_ids) > max(held_ids)
    page = store.readings_page(first.shipment_id, from_ms=None, to_ms=None, cursor=None, limit=100, after_id=0)
    assert [r.id for r in page.items] == earlier + held_ids + racing_ids
