"""Device registration (admin) and listing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from starlette.concurrency import run_in_threadpool

from ...problems import ProblemError
from ...schemas import DevicePublic, DeviceRegister, Problem
from ..deps import AdminDep, StoreDep

router = APIRouter(prefix="/devices", tags=["devices"])
DeviceIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,79}$")]


@router.put(
    "/{device_id}",
    response_model=DevicePublic,
    status_code=200,
    dependencies=[AdminDep],
    summary="Register a device's key and the shipments it may report for (admin)",
    description=(
        "Creates the device (201) or replaces its address and shipments (200, e.g. key rotation). The "
        "device's sequence state is kept, so a rotated key continues after the last accepted batch."
    ),
    responses={
        201: {"model": DevicePublic, "description": "Device created."},
        401: {"model": Problem},
        403: {"model": Problem},
    },
)
async def register_device(
    device_id: DeviceIdPath, body: DeviceRegister, store: StoreDep, response: Response
) -> DevicePublic:
    device, created = await run_in_threadpool(store.register_device, device_id, body)
    if created:
        response.status_code = 201
    return device


@router.get("", response_model=list[DevicePublic], summary="All registered devices")
async def list_devices(store: StoreDep) -> list[DevicePublic]:
    return await run_in_threadpool(store.list_devices)


@router.get(
    "/{device_id}",
    response_model=DevicePublic,
    summary="One device, with its last accepted seq and timestamp",
    responses={404: {"model": Problem}},
)
async def get_device(device_id: DeviceIdPath, store: StoreDep) -> DevicePublic:
    device = await run_in_threadpool(store.get_device, device_id)
    if device is None:
        raise ProblemError(404, "not-found", "Unknown device", f"device {device_id} is not registered")
    return device
