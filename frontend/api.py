"""What the dapp reads from the ASC API, and the one thing it writes there: a person's signed decision.

Readings, verdicts, agent messages and approval requests come through the shared typed client
(`offchain.api.client`); messages and approvals follow interfaces/agents/README.md.
"""

from __future__ import annotations

import time
from typing import Literal

from frontend.errors import ApiUnavailableError
from frontend.wallet import Wallet
from offchain.api.agent_schemas import ApprovalPublic, DecisionIn, MessagePublic
from offchain.api.agent_signing import canonical_bytes
from offchain.api.client import ApiClient
from offchain.api.schemas import PositionPublic, ReadingPublic, VerdictPublic


class DappApi:
    def __init__(self, base_url: str | None, timeout_s: float = 10.0) -> None:
        if not base_url:
            raise ApiUnavailableError("no API URL is configured (set ASC_DAPP_API_URL)")
        self.base_url = base_url.rstrip("/")
        self._client = ApiClient(self.base_url, timeout_s=timeout_s)

    def close(self) -> None:
        self._client.close()

    # sensors
    def readings(self, shipment_id: str, from_ms: int | None = None, to_ms: int | None = None) -> list[ReadingPublic]:
        return list(self._client.readings(shipment_id, from_ms=from_ms, to_ms=to_ms, page_size=1000))

    def positions(self) -> list[PositionPublic]:
        """The latest position of every shipment the API has readings for."""
        return self._client.positions()

    def verdicts(self, shipment_id: str | None = None) -> list[VerdictPublic]:
        return self._client.verdicts(shipment_id, limit=1000)

    # agents (interfaces/agents/README.md)
    def messages(self, conversation: str | None = None, participant: str | None = None) -> list[MessagePublic]:
        """Every message, oldest first, following `next_after` across pages."""
        items: list[MessagePublic] = []
        after: int | None = None
        while True:
            page = self._client.list_messages(
                conversation=conversation, participant=participant, after=after, limit=500
            )
            items += page.items
            if page.next_after is None or not page.items:
                return items
            after = page.next_after

    def approvals(self, status: Literal["pending", "decided"] | None = "pending") -> list[ApprovalPublic]:
        items: list[ApprovalPublic] = []
        after: int | None = None
        while True:
            page = self._client.list_approvals(status=status, after=after, limit=500)
            items += page.items
            if page.next_after is None or not page.items:
                return items
            after = page.next_after

    def decide(
        self, approval_id: str, decision: Literal["approve", "reject"], wallet: Wallet, comment: str = ""
    ) -> ApprovalPublic:
        """Sign the decision with the partner's key (EIP-191 over its canonical JSON) and post it."""
        body = {
            "approval_id": approval_id,
            "decision": decision,
            "approver": wallet.address,
            "comment": comment,
            "decided_ms": time.time_ns() // 1_000_000,
        }
        signed = DecisionIn.model_validate(body | {"signature": wallet.sign_message(canonical_bytes(body))})
        return self._client.post_decision(signed)
