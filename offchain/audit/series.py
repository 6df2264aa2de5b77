"""Sensor series of a shipment (= its custody twin id) from the ASC API, through the API's own client."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from pydantic import ValidationError

from offchain.api.client import ApiClient, ApiError


class SeriesError(RuntimeError):
    """The API could not deliver the series."""


@dataclass(frozen=True)
class Reading:
    ts_ms: int
    temp_centi_c: int
    humidity_bp: int
    shock_milli_g: int


def fetch_readings(api_url: str, shipment_id: int, from_ms: int, to_ms: int, timeout_s: float = 30.0) -> list[Reading]:
    """Every reading of `shipment_id` in [from_ms, to_ms), oldest first."""
    try:
        with ApiClient(api_url, timeout_s=timeout_s) as api:
            return [
                Reading(r.ts_ms, r.temp_centi_c, r.humidity_bp, r.shock_milli_g)
                for r in api.readings(str(shipment_id), from_ms=from_ms, to_ms=to_ms)
            ]
    except ApiError as exc:
        raise SeriesError(f"the API at {api_url} refused the readings of {shipment_id}: {exc}") from exc
    except (httpx.HTTPError, ValidationError) as exc:
        raise SeriesError(f"cannot read the readings of {shipment_id} from {api_url}: {exc}") from exc
