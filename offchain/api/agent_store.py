"""Durable agent transcript and approvals, in the readings' database (same engine, same transactions).

Messages and approval requests are content-addressed (id = keccak256 of the signed bytes), so a re-post
is recognised and answered with the stored record. A decision is recorded by one conditional UPDATE
(`WHERE decided = false`): of two concurrent decisions, on any number of API processes, exactly one wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .agent_schemas import (
    ApprovalIn,
    ApprovalPage,
    ApprovalPublic,
    DecisionIn,
    DecisionPublic,
    MessageIn,
    MessagePage,
    MessagePublic,
)
from .agent_signing import AgentSignatureError, object_id, verify
from .ingestion import now_ms
from .models import AgentMessage, ApprovalRequest
from .problems import ProblemError
from .schemas import ProblemItem
from .store import Store

logger = logging.getLogger(__name__)

_MAX_ATTEMPTS = 5
T = TypeVar("T")


def _check_signature(body: MessageIn | ApprovalIn | DecisionIn, signer_field: str) -> None:
    signer = getattr(body, signer_field)
    try:
        verify(body, body.signature, signer)
    except AgentSignatureError as exc:
        raise ProblemError(
            401,
            "bad-signature",
            "Forged or malformed signature",
            f"the signature is not {signer_field} {signer}'s: {exc}",
            [ProblemItem(reading=None, field="signature", reason=str(exc))],
        ) from exc


def _message_public(row: AgentMessage) -> MessagePublic:
    return MessagePublic(
        seq=row.seq,
        id=row.message_id,
        received_ms=row.received_ms,
        conversation=row.conversation,
        sender=row.sender,
        receiver=row.receiver,
        performative=row.performative,  # type: ignore[arg-type]  # checked on the way in
        content=row.content,
        tx_hash=row.tx_hash,
        sent_ms=row.sent_ms,
        signature=row.signature,
    )


def _approval_public(row: ApprovalRequest) -> ApprovalPublic:
    decision = None
    if row.decided:
        decision = DecisionPublic(
            approval_id=row.approval_id,
            decision=row.decision,  # type: ignore[arg-type]
            approver=row.decision_approver or "",
            comment=row.decision_comment or "",
            decided_ms=row.decision_decided_ms or 0,
            signature=row.decision_signature or "",
        )
    return ApprovalPublic(
        seq=row.seq,
        id=row.approval_id,
        received_ms=row.received_ms,
        status="decided" if row.decided else "pending",
        agent=row.agent,
        approvers=row.approvers,
        kind=row.kind,  # type: ignore[arg-type]
        subject=row.subject,
        summary=row.summary,
        recommendation=row.recommendation,
        reasons=row.reasons,
        value=row.value,
        severity=row.severity,
        created_ms=row.created_ms,
        signature=row.signature,
        decision=decision,
        decision_received_ms=row.decision_received_ms,
    )


class AgentStore:
    """Agent messages and approvals on top of the API's `Store` (one database for everything)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _write_retrying(self, what: str, work: Callable[[Session], T]) -> T:
        for _ in range(_MAX_ATTEMPTS):
            try:
                with self._store.writing() as session:
                    return work(session)
            except IntegrityError:
                logger.info("%s raced a concurrent insert of the same id; re-reading", what)
        raise RuntimeError(f"{what} could not be recorded after {_MAX_ATTEMPTS} attempts")

    # ---------------------------------------------------------------- messages

    def record_message(self, body: MessageIn) -> tuple[MessagePublic, bool]:
        """Verifies the sender's signature and stores the message; (stored, created)."""
        _check_signature(body, "sender")
        message_id = object_id(body)

        def work(session: Session) -> tuple[MessagePublic, bool]:
            row = session.scalars(select(AgentMessage).where(AgentMessage.message_id == message_id)).first()
            if row is not None:
                return _message_public(row), False
            row = AgentMessage(
                message_id=message_id,
                **body.model_dump(mode="json"),
                received_ms=now_ms(),
            )
            session.add(row)
            session.flush()
            return _message_public(row), True

        return self._write_retrying(f"message {message_id}", work)

    def list_messages(
        self, *, conversation: str | None, participant: str | None, after: int | None, limit: int
    ) -> MessagePage:
        query = select(AgentMessage)
        if conversation is not None:
            query = query.where(AgentMessage.conversation == conversation)
        if participant is not None:
            query = query.where((AgentMessage.sender == participant) | (AgentMessage.receiver == participant))
        if after is not None:
            query = query.where(AgentMessage.seq > after)
        with self._store.reading() as session:
            rows = list(session.scalars(query.order_by(AgentMessage.seq).limit(limit + 1)))
        items = [_message_public(row) for row in rows[:limit]]
        return MessagePage(items=items, next_after=items[-1].seq if len(rows) > limit else None)

    # --------------------------------------------------------------- approvals

    def record_approval(self, body: ApprovalIn) -> tuple[ApprovalPublic, bool]:
        """Verifies the agent's signature and stores the request (pending); (stored, created)."""
        _check_signature(body, "agent")
        approval_id = object_id(body)

        def work(session: Session) -> tuple[ApprovalPublic, bool]:
            row = session.scalars(
                select(ApprovalRequest).where(ApprovalRequest.approval_id == approval_id)
            ).first()
            if row is not None:
                return _approval_public(row), False
            row = ApprovalRequest(
                approval_id=approval_id,
                **body.model_dump(mode="json"),
                received_ms=now_ms(),
                decided=False,
            )
            session.add(row)
            session.flush()
            return _approval_public(row), True

        return self._write_retrying(f"approval {approval_id}", work)

    def get_approval(self, approval_id: str) -> ApprovalPublic | None:
        with self._store.reading() as session:
            row = session.scalars(
                select(ApprovalRequest).where(ApprovalRequest.approval_id == approval_id)
            ).first()
            return _approval_public(row) if row is not None else None

    def list_approvals(
        self, *, status: str | None, agent: str | None, after: int | None, limit: int
    ) -> ApprovalPage:
        query = select(ApprovalRequest)
        if status is not None:
            query = query.where(ApprovalRequest.decided == (status == "decided"))
        if agent is not None:
            query = query.where(ApprovalRequest.agent == agent)
        if after is not None:
            query = query.where(ApprovalRequest.seq > after)
        with self._store.reading() as session:
            rows = list(session.scalars(query.order_by(ApprovalRequest.seq).limit(limit + 1)))
        items = [_approval_public(row) for row in rows[:limit]]
        return ApprovalPage(items=items, next_after=items[-1].seq if len(rows) > limit else None)

    def decide(self, approval_id: str, body: DecisionIn) -> tuple[ApprovalPublic, bool]:
        """Records the first valid decision; (approval with its decision, created).

        Re-posting the decision that won is idempotent (created = False); any other decision once one
        is recorded is 409.
        """
        if body.approval_id != approval_id:
            raise ProblemError(
                422,
                "id-mismatch",
                "Decision for another request",
                f"the body decides {body.approval_id}, the path names {approval_id}",
                [ProblemItem(reading=None, field="approval_id", reason="differs from the path")],
            )
        _check_signature(body, "approver")
        current = self.get_approval(approval_id)
        if current is None:
            raise ProblemError(404, "not-found", "No such approval request", f"no approval {approval_id}")
        if body.approver not in current.approvers:
            raise ProblemError(
                403,
                "not-an-approver",
                "Not an approver",
                f"{body.approver} is not among the approvers of {approval_id}",
                [ProblemItem(reading=None, field="approver", reason="not in the request's approvers")],
            )
        with self._store.writing() as session:
            result = session.execute(
                update(ApprovalRequest)
                .where(ApprovalRequest.approval_id == approval_id, ApprovalRequest.decided.is_(False))
                .values(
                    decided=True,
                    decision=body.decision,
                    decision_approver=body.approver,
                    decision_comment=body.comment,
                    decision_decided_ms=body.decided_ms,
                    decision_signature=body.signature,
                    decision_received_ms=now_ms(),
                )
            )
            created = result.rowcount == 1  # type: ignore[attr-defined]
        decided = self.get_approval(approval_id)
        assert decided is not None and decided.decision is not None  # rows are never deleted
        if created:
            return decided, True
        if decided.decision.model_dump() == body.model_dump(mode="json"):
            return decided, False
        raise ProblemError(
            409,
            "already-decided",
            "Already decided",
            f"{approval_id} was already decided ({decided.decision.decision} by {decided.decision.approver})",
            [ProblemItem(reading=None, field="decision", reason="the first valid decision wins")],
        )
