"""Liveness and readiness."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from ...schemas import Health, Readiness
from ..deps import StoreDep

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="The process is up")
async def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    summary="The database answers",
    responses={503: {"model": Readiness, "description": "The database does not answer."}},
)
async def ready(store: StoreDep) -> Readiness | JSONResponse:
    try:
        await run_in_threadpool(store.ping)
    except SQLAlchemyError as exc:
        logger.warning("readiness check failed: %s", type(exc).__name__)
        body = Readiness(status="unavailable", database=store.display_url)
        return JSONResponse(body.model_dump(), status_code=503)
    return Readiness(status="ready", database=store.display_url)
