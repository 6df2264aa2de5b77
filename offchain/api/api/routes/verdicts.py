"""Verdict notifications from oracle nodes: stored, listed and streamed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from ...schemas import Problem, VerdictIn, VerdictPublic
from ..deps import HubDep, OracleDep, SettingsDep, StoreDep

router = APIRouter(prefix="/verdicts", tags=["verdicts"])


@router.post(
    "",
    response_model=VerdictPublic,
    status_code=201,
    dependencies=[OracleDep],
    summary="Record an accepted verdict (oracle token)",
    description=(
        "Idempotent on `verdict_id`: the same verdict posted again (by any node) is 200 with the stored "
        "record; a different body under a recorded id is 409. New verdicts are streamed on /ws/feed."
    ),
    responses={
        200: {"model": VerdictPublic, "description": "Already recorded."},
        401: {"model": Problem},
        403: {"model": Problem},
        409: {"model": Problem},
        422: {"model": Problem},
    },
)
async def post_verdict(body: VerdictIn, store: StoreDep, hub: HubDep, response: Response) -> VerdictPublic:
    verdict, created = await run_in_threadpool(store.record_verdict, body)
    if created:
        hub.publish_verdict(verdict)
    else:
        response.status_code = 200
    return verdict


@router.get("", response_model=list[VerdictPublic], summary="Recorded verdicts, oldest first")
async def list_verdicts(
    store: StoreDep,
    settings: SettingsDep,
    shipment_id: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1)] = 100,
) -> list[VerdictPublic]:
    return await run_in_threadpool(store.list_verdicts, shipment_id, min(limit, settings.page_limit_max))
