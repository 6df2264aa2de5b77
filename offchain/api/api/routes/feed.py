"""The live feed: accepted readings and verdicts over a WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from ...feed import Subscription, gap_text, reading_text
from ...store import Store
from ..deps import HubDep, StoreDep

logger = logging.getLogger(__name__)
router = APIRouter(tags=["feed"])

_CATCH_UP_PAGE = 1000


async def _catch_up(websocket: WebSocket, store: Store, after_id: int, shipment_id: str | None) -> int:
    """Send stored readings after `after_id`; returns the last id sent."""
    last_sent = after_id
    while True:
        page = await run_in_threadpool(store.readings_after, last_sent, shipment_id, _CATCH_UP_PAGE)
        for reading in page:
            await websocket.send_text(reading_text(reading))
            last_sent = reading.id
        if len(page) < _CATCH_UP_PAGE:
            return last_sent


async def _pump(websocket: WebSocket, subscription: Subscription, skip_up_to: int) -> None:
    while True:
        dropped, item = await subscription.take()
        if item is None:
            return
        if dropped:
            await websocket.send_text(gap_text(dropped))
        if item.reading_id is not None and item.reading_id <= skip_up_to:
            continue  # already sent during catch-up
        await websocket.send_text(item.text)


async def _drain_until_disconnect(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()


@router.websocket("/ws/feed")
async def feed(
    websocket: WebSocket,
    store: StoreDep,
    hub: HubDep,
    shipment_id: Annotated[str | None, Query(max_length=80)] = None,
    after_id: Annotated[int | None, Query(ge=0)] = None,
) -> None:
    await websocket.accept()
    # Subscribe before catching up so nothing accepted in between is missed; duplicates are skipped.
    subscription = hub.subscribe(shipment_id)
    tasks: list[asyncio.Task[None]] = []
    try:
        skip_up_to = -1
        if after_id is not None:
            skip_up_to = await _catch_up(websocket, store, after_id, shipment_id)
        tasks = [
            asyncio.create_task(_pump(websocket, subscription, skip_up_to)),
            asyncio.create_task(_drain_until_disconnect(websocket)),
        ]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                logger.info("feed client ended: %r", task.exception())
    except WebSocketDisconnect:
        pass
    finally:
        for task in tasks:
            task.cancel()
        hub.unsubscribe(subscription)
        if subscription.closed:
            with contextlib.suppress(Exception):
                await websocket.close(code=1001)
