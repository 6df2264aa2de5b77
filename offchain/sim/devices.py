"""Loggers' keys and the publisher that signs their readings and posts them to the ingestion API.

Each logger has its own secp256k1 key, kept in a JSON key file (mode 0600) so that a restarted
simulator signs as the same device. The API remembers each device's last accepted batch seq; the
publisher asks for it when it (re-)registers a device and continues after it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
from eth_account import Account

from offchain.api.client import ApiClient, ApiError, sign_batch
from offchain.api.schemas import BatchResult, ReadingIn

from .world import Sample

logger = logging.getLogger(__name__)
T = TypeVar("T")


class KeyStoreError(RuntimeError):
    """The key file cannot be read or holds a malformed entry."""


class PublishError(RuntimeError):
    """The API rejected a batch or stayed unreachable; the message carries its problem details."""


class KeyStore:
    """Private keys by device id, created on first use and persisted atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: dict[str, str] = {}
        if path.exists():
            try:
                loaded = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError) as exc:
                raise KeyStoreError(f"{path}: cannot read the key file: {exc}") from exc
            if not isinstance(loaded, dict):
                raise KeyStoreError(f"{path}: expected a JSON object of device id -> private key")
            for device_id, key in loaded.items():
                if not (isinstance(key, str) and key.startswith("0x") and len(key) == 66):
                    raise KeyStoreError(f"{path}: entry {device_id!r} is not a 32-byte 0x-hex private key")
            self._keys = dict(loaded)

    def key_for(self, device_id: str) -> str:
        if device_id not in self._keys:
            self._keys[device_id] = "0x" + bytes(Account.create().key).hex()
            self._save()
            logger.info("new key for %s: address %s", device_id, self.address_for(device_id))
        return self._keys[device_id]

    def address_for(self, device_id: str) -> str:
        address: str = Account.from_key(self.key_for(device_id)).address
        return address

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(self._keys, handle, indent=1, sort_keys=True)
        os.replace(temporary, self.path)


@dataclass
class _DeviceQueue:
    shipment_id: str
    next_seq: int
    pending: list[ReadingIn] = field(default_factory=list)


class ApiPublisher:
    """Buffers each logger's readings and posts them as signed batches of `batch_size`."""

    def __init__(self, client: ApiClient, keys: KeyStore, *, batch_size: int = 30, retries: int = 3) -> None:
        self._client = client
        self._keys = keys
        self._batch_size = batch_size
        self._retries = retries
        self._devices: dict[str, _DeviceQueue] = {}
        self.batches_posted = 0
        self.readings_posted = 0

    def write(self, samples: Sequence[Sample]) -> None:
        for sample in samples:
            queue = self._devices.get(sample.device_id) or self._register(sample)
            if queue.shipment_id != sample.shipment_id:
                self._flush(sample.device_id, queue)
                queue = self._register(sample)
            queue.pending.append(sample.reading)
            if len(queue.pending) >= self._batch_size:
                self._flush(sample.device_id, queue)

    def close(self) -> None:
        """Post what is buffered."""
        self.flush()

    def flush(self) -> None:
        """Post what is buffered now (a live world posts every step, not only full batches)."""
        for device_id, queue in self._devices.items():
            self._flush(device_id, queue)

    def _register(self, sample: Sample) -> _DeviceQueue:
        address = self._keys.address_for(sample.device_id)
        device = self._call(
            f"register {sample.device_id}",
            lambda: self._client.register_device(sample.device_id, address, [sample.shipment_id]),
        )
        next_seq = 1 if device.last_seq is None else device.last_seq + 1
        logger.info(
            "registered %s (%s) for %s; next seq %d", sample.device_id, address, sample.shipment_id, next_seq
        )
        queue = _DeviceQueue(sample.shipment_id, next_seq)
        self._devices[sample.device_id] = queue
        return queue

    def _flush(self, device_id: str, queue: _DeviceQueue) -> None:
        if not queue.pending:
            return
        batch = sign_batch(
            device_id, queue.shipment_id, queue.next_seq, queue.pending, self._keys.key_for(device_id)
        )
        result: BatchResult = self._call(
            f"batch {device_id}#{queue.next_seq}", lambda: self._client.post_batch(batch)
        )
        self.batches_posted += 1
        self.readings_posted += result.reading_count
        queue.next_seq += 1
        queue.pending = []

    def _call(self, what: str, action: Callable[[], T]) -> T:
        for attempt in range(self._retries + 1):
            try:
                return action()
            except ApiError as exc:
                raise PublishError(
                    f"{what}: the API refused it: {exc} {exc.problem.get('errors', '')}"
                ) from exc
            except httpx.TransportError as exc:
                if attempt == self._retries:
                    raise PublishError(
                        f"{what}: API unreachable after {attempt + 1} attempts: {exc}"
                    ) from exc
                delay_s = 0.5 * 2**attempt
                logger.warning("%s: %s; retrying in %.1f s", what, exc, delay_s)
                time.sleep(delay_s)
        raise AssertionError("unreachable")
