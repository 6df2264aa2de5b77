"""Queries by shipment: readings (time range, cursor pagination) and latest positions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from ...problems import ProblemError
from ...schemas import PositionPublic, Problem, ReadingPage
from ..deps import SettingsDep, StoreDep

router = APIRouter(tags=["queries"])
ShipmentIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,79}$")]


@router.get(
    "/shipments/{shipment_id}/readings",
    response_model=ReadingPage,
    summary="Accepted readings of a shipment, oldest first (by time, or by acceptance with `after_id`)",
    description=(
        "`from_ms` inclusive, `to_ms` exclusive; follow `next_cursor` until it is null.\n\n"
        "With `after_id` (not combinable with `cursor`) the readings come in acceptance order instead: those "
        "with `id` greater than `after_id`, by `id`, and `next_cursor` is null; continue with the last item's "
        "`id` until a page comes back empty. A follower that keeps that id reads every accepted reading "
        "exactly once, including readings accepted after newer ones (another device uploading its backlog)."
    ),
    responses={422: {"model": Problem}},
)
async def readings(
    shipment_id: ShipmentIdPath,
    store: StoreDep,
    settings: SettingsDep,
    from_ms: Annotated[int | None, Query(ge=0)] = None,
    to_ms: Annotated[int | None, Query(ge=0)] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1)] = 100,
    after_id: Annotated[
        int | None, Query(ge=0, description="Acceptance order: readings with a greater `id`, by `id`.")
    ] = None,
) -> ReadingPage:
    return await run_in_threadpool(
        store.readings_page,
        shipment_id,
        from_ms=from_ms,
        to_ms=to_ms,
        cursor=cursor,
        limit=min(limit, settings.page_limit_max),
        after_id=after_id,
    )


@router.get(
    "/shipments/{shipment_id}/position",
    response_model=PositionPublic,
    summary="Latest position of a shipment",
    responses={404: {"model": Problem}},
)
async def position(shipment_id: ShipmentIdPath, store: StoreDep) -> PositionPublic:
    found = await run_in_threadpool(store.position, shipment_id)
    if found is None:
        raise ProblemError(404, "not-found", "No position", f"no reading accepted yet for {shipment_id}")
    return found


@router.get("/positions", response_model=list[PositionPublic], summary="Latest position of every shipment")
async def positions(store: StoreDep) -> list[PositionPublic]:
    return await run_in_threadpool(store.positions)
