"""An in-memory stand-in for the approvals endpoints of the agents API (interfaces/agents/README.md), for tests
until the API's own endpoints are merged: it stores requests by id and relays decisions without judging them
(the agent must verify them itself)."""

from __future__ import annotations

from typing import Any

from offchain.agents.signing import object_id


class FakeApprovalsApi:
    def __init__(self) -> None:
        self.requests: dict[str, dict[str, Any]] = {}
        self.decisions: dict[str, dict[str, Any]] = {}

    def post_request(self, request: dict[str, Any]) -> None:
        self.requests[object_id(request)] = request

    def get(self, approval_id: str) -> dict[str, Any] | None:
        if approval_id not in self.requests:
            return None
        return {**self.requests[approval_id], "id": approval_id, "decision": self.decisions.get(approval_id)}

    def decide(self, decision: dict[str, Any]) -> None:
        self.decisions[decision["approval_id"]] = decision
