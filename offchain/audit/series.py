"""Sensor series of a shipment from the ASC API (`GET /shipments/{twinId}/readings`, cursor pages)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

PAGE_LIMIT = 500
MAX_PAGES = 1_000  # 500k readings: far beyond one shipment; stops a misbehaving cursor from looping forever


class SeriesError(RuntimeError):
    """The API could not deliver the series."""


@dataclass(frozen=True)
class Reading:
    ts_ms: int
    temp_centi_c: int
    humidity_bp: int
    shock_milli_g: int


def fetch_readings(api_url: str, shipment_id: int, from_ms: int, to_ms: int, timeout_s: float = 30.0) -> list[Reading]:
    readings: list[Reading] = []
    cursor: str | None = None
    url = f"{api_url.rstrip('/')}/shipments/{shipment_id}/readings"
    with httpx.Client(timeout=timeout_s) as client:
        for _ in range(MAX_PAGES):
            params: dict[str, str | int] = {"from_ms": from_ms, "to_ms": to_ms, "limit": PAGE_LIMIT}
            if cursor:
                params["cursor"] = cursor
            try:
                response = client.get(url, params=params)
                response.raise_for_status()
                page = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise SeriesError(f"GET {url}: {exc}") from exc
            readings += [
                Reading(int(r["ts_ms"]), int(r["temp_centi_c"]), int(r["humidity_bp"]), int(r["shock_milli_g"]))
                for r in page["items"]
            ]
            cursor = page.get("next_cursor")
            if not cursor:
                return readings
    raise SeriesError(f"GET {url}: more than {MAX_PAGES} pages")
