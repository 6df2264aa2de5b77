"""`WorldClient`: the world port (`offchain.agents.world.WorldPort`) over HTTP, against the world service
(`python -m offchain.sim serve`). The service's JSON error codes become the port's `WorldError` subclasses;
an unreachable service is a `WorldError` too, after `retries` attempts with back-off (commands are
idempotent on the service side, so a retried POST never acts twice)."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from offchain.agents.world import (
    NotArrivedError,
    NotAtSamePlaceError,
    RoutePlan,
    UnknownPlaceError,
    UnknownVehicleError,
    VehicleView,
    WorldError,
)

logger = logging.getLogger(__name__)

_ERRORS: dict[str, type[WorldError]] = {
    "unknown_vehicle": UnknownVehicleError,
    "unknown_carrier": UnknownVehicleError,
    "unknown_place": UnknownPlaceError,
    "not_together": NotAtSamePlaceError,
    "not_waiting": NotAtSamePlaceError,
    "not_loaded": NotAtSamePlaceError,
    "not_arrived": NotArrivedError,
}


class WorldClient:
    def __init__(self, base_url: str, *, timeout_s: float = 10.0, retries: int = 3) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self._retries = retries
        self.base_url = base_url

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WorldClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- the port
    def now_ms(self) -> int:
        return int(self._call("GET", "/now")["now_ms"])

    def fleet(self, carrier: str) -> list[VehicleView]:
        return [_vehicle(item) for item in self._call("GET", f"/fleet/{carrier}")]

    def vehicle(self, vehicle_id: str) -> VehicleView:
        return _vehicle(self._call("GET", f"/vehicles/{vehicle_id}"))

    def plan(self, origin: str, destination: str) -> RoutePlan:
        data = self._call("GET", "/plan", params={"origin": origin, "destination": destination})
        return RoutePlan(
            data["origin"], data["destination"], data["distance_m"], data["duration_ms"], tuple(data["path"])
        )

    def dispatch(
        self,
        vehicle_id: str,
        shipment_id: str,
        origin: str,
        destination: str,
        *,
        setpoint_centi_c: int,
        product: str,
        mass_kg: int,
    ) -> None:
        body = {
            "shipment_id": shipment_id,
            "origin": origin,
            "destination": destination,
            "setpoint_centi_c": setpoint_centi_c,
            "product": product,
            "mass_kg": mass_kg,
        }
        self._call("POST", f"/vehicles/{vehicle_id}/dispatch", json=body)

    def divert(self, vehicle_id: str, place: str) -> None:
        self._call("POST", f"/vehicles/{vehicle_id}/divert", json={"place": place})

    def transfer(self, shipment_id: str, to_vehicle_id: str) -> None:
        self._call("POST", f"/shipments/{shipment_id}/transfer", json={"to_vehicle_id": to_vehicle_id})

    def unload(self, shipment_id: str) -> None:
        self._call("POST", f"/shipments/{shipment_id}/unload")

    # -------------------------------------------------------------- beyond the port (orchestrator, tests)
    def events(self, since: int = 0) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/events", params={"since": since})
        return result

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/status")
        return result

    # -------------------------------------------------------------- plumbing
    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        for attempt in range(self._retries + 1):
            try:
                response = self._http.request(method, path, **kwargs)
                break
            except httpx.TransportError as exc:
                if attempt == self._retries:
                    raise WorldError(f"world service {self.base_url} unreachable: {exc}") from exc
                delay_s = 0.25 * 2**attempt
                logger.warning("world service %s: %s; retrying in %.2f s", self.base_url, exc, delay_s)
                time.sleep(delay_s)
        if response.status_code == 204:
            return None
        if response.is_success:
            return response.json()
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        code = problem.get("error", "") if isinstance(problem, dict) else ""
        detail = problem.get("detail", response.text) if isinstance(problem, dict) else response.text
        raise _ERRORS.get(code, WorldError)(f"{method} {path}: {response.status_code} {code or ''} {detail}".strip())


def _vehicle(data: dict[str, Any]) -> VehicleView:
    return VehicleView(
        id=data["id"],
        carrier=data["carrier"],
        status=data["status"],
        place=data["place"],
        lat_e7=data["lat_e7"],
        lon_e7=data["lon_e7"],
        eta_ms=data["eta_ms"],
        shipments=tuple(data["shipments"]),
        reefer_ok=data["reefer_ok"],
        capacity_kg=data["capacity_kg"],
    )
