"""The agents' transcript: signed messages (cfp, propose, accept, decline, inform), kept for the chat view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from ...agent_schemas import Address, MessageIn, MessagePage, MessagePublic
from ...schemas import Problem
from ..deps import AgentStoreDep, HubDep, SettingsDep

router = APIRouter(prefix="/messages", tags=["agents"])


@router.post(
    "",
    response_model=MessagePublic,
    status_code=201,
    summary="Record a message between agents (signed by its sender)",
    description=(
        "EIP-191 signature of the canonical JSON (RFC 8785, integers only) of the body without "
        "`signature`; id = keccak256 of those bytes. Re-posting a message is 200 with the stored record. "
        "New messages are streamed on /ws/feed as `message` frames to clients without a shipment filter."
    ),
    responses={
        200: {"model": MessagePublic, "description": "Already recorded."},
        401: {"model": Problem, "description": "The signature is not the sender's."},
        422: {"model": Problem},
    },
)
async def post_message(body: MessageIn, store: AgentStoreDep, hub: HubDep, response: Response) -> MessagePublic:
    message, created = await run_in_threadpool(store.record_message, body)
    if created:
        hub.publish_message(message)
    else:
        response.status_code = 200
    return message


@router.get(
    "",
    response_model=MessagePage,
    summary="Transcript, oldest first",
    description="`participant` matches sender or receiver. Follow `next_after` until it is null.",
    responses={422: {"model": Problem}},
)
async def list_messages(
    store: AgentStoreDep,
    settings: SettingsDep,
    conversation: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    participant: Annotated[Address | None, Query()] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1)] = 100,
) -> MessagePage:
    return await run_in_threadpool(
        store.list_messages,
        conversation=conversation,
        participant=participant,
        after=after,
        limit=min(limit, settings.page_limit_max),
    )
