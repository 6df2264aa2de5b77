"""Human in the loop: approval requests from agents, and the one decision that counts for each."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from ...agent_schemas import Address, ApprovalIn, ApprovalPage, ApprovalPublic, DecisionIn
from ...problems import ProblemError
from ...schemas import Problem
from ..deps import AgentStoreDep, HubDep, SettingsDep

router = APIRouter(prefix="/approvals", tags=["agents"])
ApprovalIdPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$")]


@router.post(
    "",
    response_model=ApprovalPublic,
    status_code=201,
    summary="Ask for a person's approval (signed by the agent)",
    description=(
        "Signed and identified like a message. Re-posting is 200 with the stored record. Streamed on "
        "/ws/feed as an `approval` frame, and again when decided."
    ),
    responses={
        200: {"model": ApprovalPublic, "description": "Already recorded."},
        401: {"model": Problem, "description": "The signature is not the agent's."},
        422: {"model": Problem},
    },
)
async def post_approval(
    body: ApprovalIn, store: AgentStoreDep, hub: HubDep, response: Response
) -> ApprovalPublic:
    approval, created = await run_in_threadpool(store.record_approval, body)
    if created:
        hub.publish_approval(approval)
    else:
        response.status_code = 200
    return approval


@router.get(
    "",
    response_model=ApprovalPage,
    summary="Approval requests, oldest first",
    description="Follow `next_after` until it is null.",
    responses={422: {"model": Problem}},
)
async def list_approvals(
    store: AgentStoreDep,
    settings: SettingsDep,
    status: Literal["pending", "decided"] | None = None,
    agent: Annotated[Address | None, Query()] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1)] = 100,
) -> ApprovalPage:
    return await run_in_threadpool(
        store.list_approvals, status=status, agent=agent, after=after, limit=min(limit, settings.page_limit_max)
    )


@router.get(
    "/{approval_id}",
    response_model=ApprovalPublic,
    summary="One approval request with its decision (null while pending)",
    description="An agent re-verifies the decision's signature and approver itself before acting.",
    responses={404: {"model": Problem}, 422: {"model": Problem}},
)
async def get_approval(approval_id: ApprovalIdPath, store: AgentStoreDep) -> ApprovalPublic:
    found = await run_in_threadpool(store.get_approval, approval_id)
    if found is None:
        raise ProblemError(404, "not-found", "No such approval request", f"no approval {approval_id}")
    return found


@router.post(
    "/{approval_id}/decision",
    response_model=ApprovalPublic,
    status_code=201,
    summary="Decide (signed by one of the request's approvers)",
    description=(
        "The first valid decision wins. Re-posting that same decision is 200; any other is 409. "
        "Returns the request with its decision."
    ),
    responses={
        200: {"model": ApprovalPublic, "description": "This decision was already recorded."},
        401: {"model": Problem, "description": "The signature is not the approver's."},
        403: {"model": Problem, "description": "The approver is not in the request's list."},
        404: {"model": Problem},
        409: {"model": Problem, "description": "Another decision was recorded first."},
        422: {"model": Problem},
    },
)
async def post_decision(
    approval_id: ApprovalIdPath, body: DecisionIn, store: AgentStoreDep, hub: HubDep, response: Response
) -> ApprovalPublic:
    approval, created = await run_in_threadpool(store.decide, approval_id, body)
    if created:
        hub.publish_approval(approval)
    else:
        response.status_code = 200
    return approval
