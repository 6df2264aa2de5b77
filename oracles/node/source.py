"""Where a node reads a shipment's accepted readings: the API (cursor queries) or, in tests, memory.

The API only ever returns readings it accepted (device signature, registration, plausibility checked), in a
total order (timestamp, then id); a node resumes from the (timestamp, id) cursor in its checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import httpx

from offchain.api.client import ApiClient, ApiError
from offchain.api.schemas import ReadingPublic
from offchain.api.store import encode_cursor

log = logging.getLogger("asc.oracle.source")


class SourceUnavailableError(Exception):
    """The reading source cannot be reached right now; try again later."""


class ReadingSource(Protocol):
    def fetch(self, shipment_id: str, after: tuple[int, int] | None, limit: int) -> list[ReadingPublic]:
        """Up to ``limit`` readings of the shipment strictly after the (ts_ms, id) cursor, in order."""

    def close(self) -> None: ...


class ApiSource:
    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self._client = ApiClient(base_url, timeout_s=timeout_s)

    def fetch(self, shipment_id: str, after: tuple[int, int] | None, limit: int) -> list[ReadingPublic]:
        cursor = None if after is None else encode_cursor(*after)
        try:
            return self._client.readings_page(shipment_id, cursor=cursor, limit=limit).items
        except httpx.TransportError as exc:
            raise SourceUnavailableError(f"API unreachable: {type(exc).__name__}") from exc
        except ApiError as exc:
            if exc.status >= 500:
                raise SourceUnavailableError(str(exc)) from exc
            raise

    def close(self) -> None:
        self._client.close()


class MemorySource:
    """In-process source with the API's ordering and cursor semantics (unit tests of the daemon loop)."""

    def __init__(self, readings: Sequence[ReadingPublic] = ()) -> None:
        self._readings: list[ReadingPublic] = []
        self.add(readings)

    def add(self, readings: Sequence[ReadingPublic]) -> None:
        self._readings.extend(readings)
        self._readings.sort(key=lambda r: (r.ts_ms, r.id))

    def fetch(self, shipment_id: str, after: tuple[int, int] | None, limit: int) -> list[ReadingPublic]:
        own = (r for r in self._readings if r.shipment_id == shipment_id)
        later = [r for r in own if after is None or (r.ts_ms, r.id) > after]
        return later[:limit]

    def close(self) -> None:
        return None
