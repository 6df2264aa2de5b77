"""Where a node reads a shipment's accepted readings: the API (acceptance order) or, in tests, memory.

The API only ever returns readings it accepted (device signature, registration, plausibility checked). A node
reads them in acceptance order (ids greater than the last it read, ``after_id``), so a reading accepted after
newer ones (a logger uploading its backlog late) is still read, and each reading is read exactly once across
restarts. Timestamps are only increasing per device: readings of different devices may come back in time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import httpx

from offchain.api.client import ApiClient, ApiError
from offchain.api.schemas import ReadingPublic

log = logging.getLogger("asc.oracle.source")


class SourceUnavailableError(Exception):
    """The reading source cannot be reached right now; try again later."""


class ReadingSource(Protocol):
    def fetch(self, shipment_id: str, after_id: int | None, limit: int) -> list[ReadingPublic]:
        """Up to ``limit`` readings of the shipment with an id greater than ``after_id`` (None: from the
        first), in acceptance (id) order."""

    def close(self) -> None: ...


class ApiSource:
    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self._client = ApiClient(base_url, timeout_s=timeout_s)

    def fetch(self, shipment_id: str, after_id: int | None, limit: int) -> list[ReadingPublic]:
        after = after_id or 0
        try:
            items = self._client.readings_page(shipment_id, after_id=after, limit=limit).items
        except httpx.TransportError as exc:
            raise SourceUnavailableError(f"API unreachable: {type(exc).__name__}") from exc
        except ApiError as exc:
            if exc.status >= 500:
                raise SourceUnavailableError(str(exc)) from exc
            raise
        ids = [r.id for r in items]
        if any(i <= after for i in ids) or ids != sorted(set(ids)):
            # An API from before ``after_id`` ignores it and answers in time order from the start: reading on
            # would feed the same readings twice.
            raise SourceUnavailableError(
                f"the API at {self._client.base_url} does not answer in acceptance order (after_id={after}); "
                "it needs the after_id query of the readings endpoint"
            )
        return items

    def close(self) -> None:
        self._client.close()


class MemorySource:
    """In-process source with the API's acceptance-order semantics (unit tests of the daemon loop)."""

    def __init__(self, readings: Sequence[ReadingPublic] = ()) -> None:
        self._readings: list[ReadingPublic] = []
        self.add(readings)

    def add(self, readings: Sequence[ReadingPublic]) -> None:
        self._readings.extend(readings)
        self._readings.sort(key=lambda r: r.id)

    def fetch(self, shipment_id: str, after_id: int | None, limit: int) -> list[ReadingPublic]:
        own = (r for r in self._readings if r.shipment_id == shipment_id)
        return [r for r in own if after_id is None or r.id > after_id][:limit]

    def close(self) -> None:
        return None
