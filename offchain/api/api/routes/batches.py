"""Signed batch ingestion."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from ...problems import ProblemError
from ...schemas import BatchIn, BatchResult, Problem, ProblemItem
from ..deps import HubDep, SettingsDep, StoreDep

router = APIRouter(tags=["ingestion"])


@router.post(
    "/batches",
    response_model=BatchResult,
    status_code=201,
    summary="Post a signed batch of readings",
    description=(
        "Accepted entirely (201) or rejected entirely (4xx problem details naming each offending reading "
        "and field). Re-posting an accepted batch (same device, seq and content) returns 200 with the same "
        "result; a different batch with a used seq is 409."
    ),
    responses={
        200: {"model": BatchResult, "description": "Already accepted earlier (idempotent re-post)."},
        401: {"model": Problem, "description": "Unknown device or bad signature."},
        403: {"model": Problem, "description": "Device not allowed for the shipment."},
        409: {"model": Problem, "description": "Seq already used or not increasing, or duplicate readings."},
        413: {"model": Problem, "description": "Batch too large."},
        422: {"model": Problem, "description": "Malformed, out-of-order or implausible readings."},
    },
)
async def post_batch(
    batch: BatchIn, store: StoreDep, hub: HubDep, settings: SettingsDep, response: Response
) -> BatchResult:
    if len(batch.readings) > settings.max_batch_readings:
        raise ProblemError(
            413,
            "batch-too-large",
            "Batch too large",
            f"{len(batch.readings)} readings; at most {settings.max_batch_readings} per batch",
            [ProblemItem(reading=None, field="readings", reason="too many readings")],
        )
    accepted = await run_in_threadpool(store.ingest, batch)
    if accepted.created:
        hub.publish_readings(accepted.readings)
    else:
        response.status_code = 200
    return accepted.result
