"""Human in the loop: an agent asks for approval and waits for a verified decision.

The request (interfaces/agents/README.md) is signed by the agent and posted to `POST /approvals`; the agent
then polls `GET /approvals/{id}`. A decision counts only when its signature recovers to one of the approvers
named in the agent's own config and it names this request: the API is a relay, not an authority.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx
from eth_utils.address import to_checksum_address

from .signing import SignatureError, object_id, recover_signer, sign_object
from .state import AgentState

log = logging.getLogger("asc.agents.approvals")

Kind = Literal["award", "verdict_action"]


class ApprovalError(RuntimeError):
    """The approvals API refused a request or answered something unreadable."""


class ApprovalsApi(Protocol):
    def post_request(self, request: dict[str, Any]) -> None: ...
    def get(self, approval_id: str) -> dict[str, Any] | None: ...


class HttpApprovalsApi:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def post_request(self, request: dict[str, Any]) -> None:
        response = self.client.post("/approvals", json=request)
        if response.status_code not in (200, 201):
            raise ApprovalError(f"POST /approvals answered {response.status_code}: {response.text[:300]}")

    def get(self, approval_id: str) -> dict[str, Any] | None:
        response = self.client.get(f"/approvals/{approval_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ApprovalError(f"GET /approvals/{approval_id} answered {response.status_code}: {response.text[:300]}")
        return dict(response.json())


@dataclass(frozen=True)
class Decision:
    approval_id: str
    decision: Literal["approve", "reject"]
    approver: str
    comment: str

    @property
    def approved(self) -> bool:
        return self.decision == "approve"


class ApprovalDesk:
    def __init__(
        self, state: AgentState, agent: str, private_key: bytes, approvers: list[str], api: ApprovalsApi | None
    ) -> None:
        self.state = state
        self.agent = agent
        self._key = private_key
        self.approvers = [to_checksum_address(a) for a in approvers]
        self.api = api

    def ask(
        self,
        kind: Kind,
        subject: str,
        summary: str,
        recommendation: dict[str, Any],
        reasons: list[str],
        *,
        value: int | None,
        severity: int | None,
        created_ms: int,
    ) -> str:
        """Post the request once per subject (a restart re-posts the same signed bytes); returns its id."""
        known = self.state.fact("approval", subject)
        if known is not None:
            request = known["request"]
        else:
            request = sign_object(
                {
                    "agent": self.agent,
                    "approvers": self.approvers,
                    "kind": kind,
                    "subject": subject,
                    "summary": summary,
                    "recommendation": recommendation,
                    "reasons": reasons,
                    "value": value,
                    "severity": severity,
                    "created_ms": created_ms,
                },
                self._key,
            )
            self.state.put_fact("approval", subject, {"id": object_id(request), "request": request, "posted": False})
        approval_id = object_id(request)
        if self.api is None:
            raise ApprovalError(f"approval {approval_id} for {subject} needs the agents API (ASC_AGENT_API_URL)")
        if not (known or {}).get("posted"):
            self.api.post_request(request)
            self.state.update_fact("approval", subject, posted=True)
            log.info("approval %s asked for %s: %s", approval_id, subject, summary)
        return approval_id

    def decision(self, subject: str) -> Decision | None:
        """The verified decision for `subject`, or None while nobody (valid) has decided."""
        known = self.state.fact("approval", subject)
        if known is None:
            raise KeyError(f"no approval was asked for {subject}")
        if "decision" in known:
            return Decision(**known["decision"])
        if self.api is None:
            return None
        record = self.api.get(known["id"])
        raw = None if record is None else record.get("decision")
        if not raw:
            return None
        decision = self.verify(known["id"], raw)
        if decision is None:
            return None
        self.state.update_fact("approval", subject, decision=decision.__dict__)
        log.info("approval %s: %s by %s", known["id"], decision.decision, decision.approver)
        return decision

    def verify(self, approval_id: str, raw: dict[str, Any]) -> Decision | None:
        """A decision we may act on, or None (logged) when it is not for us, not signed by an approver."""
        try:
            signer = recover_signer(raw)
        except SignatureError as exc:
            log.error("approval %s: decision ignored, %s", approval_id, exc)
            return None
        if raw.get("approval_id") != approval_id:
            log.error("approval %s: decision names %s; ignored", approval_id, raw.get("approval_id"))
            return None
        if signer not in self.approvers or to_checksum_address(str(raw.get("approver"))) != signer:
            log.error("approval %s: decision signed by %s, not an approver of this agent; ignored", approval_id, signer)
            return None
        if raw.get("decision") not in ("approve", "reject"):
            log.error("approval %s: unknown decision %r; ignored", approval_id, raw.get("decision"))
            return None
        return Decision(approval_id, raw["decision"], signer, str(raw.get("comment", "")))


def sign_decision(
    approval_id: str, decision: Literal["approve", "reject"], approver_key: bytes | str, approver: str,
    comment: str, decided_ms: int,
) -> dict[str, Any]:
    return sign_object(
        {
            "approval_id": approval_id,
            "decision": decision,
            "approver": to_checksum_address(approver),
            "comment": comment,
            "decided_ms": decided_ms,
        },
        approver_key,
    )
