"""The readable transcript of every message an agent sends (cfp, propose, accept, decline, inform).

Messages are signed, kept in the agent's outbox (so none is lost while the API is away), and posted to the
API's `POST /messages` (interfaces/agents/README.md); re-posting is idempotent there, so a message posted
twice after a crash is stored once.
"""

from __future__ import annotations

import json
import logging
from enum import StrEnum
from typing import Any, Protocol

import httpx

from .signing import sign_object
from .state import AgentState

log = logging.getLogger("asc.agents.transcript")


class Performative(StrEnum):
    CFP = "cfp"
    PROPOSE = "propose"
    ACCEPT = "accept"
    DECLINE = "decline"
    INFORM = "inform"


BROADCAST = "broadcast"


class MessageSink(Protocol):
    def post_message(self, message: dict[str, Any]) -> None: ...


class ApiMessageSink:
    """POST /messages on the agents API; raises httpx errors for the outbox to retry later."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def post_message(self, message: dict[str, Any]) -> None:
        response = self.client.post("/messages", json=message)
        if response.status_code not in (200, 201):
            raise httpx.HTTPStatusError(
                f"POST /messages answered {response.status_code}: {response.text[:300]}",
                request=response.request,
                response=response,
            )


class Transcript:
    def __init__(self, state: AgentState, sender: str, private_key: bytes, sink: MessageSink | None) -> None:
        self.state = state
        self.sender = sender
        self._key = private_key
        self.sink = sink

    def say(
        self,
        conversation: str,
        receiver: str,
        performative: Performative,
        summary: str,
        *,
        tx_hash: str | None = None,
        sent_ms: int,
        **content: Any,
    ) -> dict[str, Any]:
        message = sign_object(
            {
                "conversation": conversation,
                "sender": self.sender,
                "receiver": receiver,
                "performative": str(performative),
                "content": {"summary": summary, **content},
                "tx_hash": tx_hash,
                "sent_ms": sent_ms,
            },
            self._key,
        )
        self.state.enqueue_message(message)
        log.info("[%s] %s -> %s %s: %s", conversation, self.sender[:10], receiver[:10], performative, summary)
        return message

    def flush(self) -> int:
        """Post what the outbox holds; returns how many were posted. Stops at the first transport error."""
        if self.sink is None:
            return 0
        posted = 0
        for row in self.state.pending_messages():
            try:
                self.sink.post_message(json.loads(row.message))
            except httpx.HTTPError as exc:
                self.state.mark_message(row.id, posted=False)
                log.warning("transcript: API unreachable or refused (%s); %s kept in the outbox", exc, row.id)
                break
            self.state.mark_message(row.id, posted=True)
            posted += 1
        return posted
