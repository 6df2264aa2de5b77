"""In-process fan-out of accepted readings and verdicts to WebSocket clients.

Back-pressure policy: publishing never waits. Each client has a bounded buffer (`feed_queue_size`
messages); when it is full the oldest message is dropped and counted, and before its next message the
client receives `{"type": "gap", "dropped": N}`. A slow client therefore loses old messages (and is told
how many), never slows ingestion, and never grows the server's memory. It can fill the gap from the query
endpoints, or reconnect with `after_id` set to the last reading id it saw.

Agent messages and approval requests (frames `message` and `approval`) are not about one shipment: they
go to clients that subscribed without a `shipment_id` filter.

Each message is serialised once and the same text is shared by every client. The hub sees what this
process accepts; several API processes behind a load balancer each feed their own clients, and a client
that needs everything reconnects with `after_id`, which replays from the database.

Caveat on `after_id`: reading ids follow commit order on SQLite (writers are serialised), but on
PostgreSQL two concurrent batches can commit out of id order, so a replay from an id may miss a batch
that committed just after the reconnect. Exact reconciliation uses the per-shipment query endpoint.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from dataclasses import dataclass, field

from .agent_schemas import ApprovalPublic, MessagePublic
from .schemas import ReadingPublic, VerdictPublic

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedItem:
    # None: not about one shipment (agent messages, approvals); only unfiltered clients get it.
    shipment_id: str | None
    reading_id: int | None
    text: str


@dataclass(eq=False)
class Subscription:
    shipment_id: str | None
    capacity: int
    dropped: int = 0
    closed: bool = False
    _items: deque[FeedItem] = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, item: FeedItem) -> None:
        if self.shipment_id is not None and item.shipment_id != self.shipment_id:
            return
        if len(self._items) >= self.capacity:
            self._items.popleft()
            if self.dropped == 0:
                logger.info("feed client too slow: dropping its oldest messages (buffer %d)", self.capacity)
            self.dropped += 1
        self._items.append(item)
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def take(self) -> tuple[int, FeedItem | None]:
        """The next message and how many were dropped just before it; (0, None) once closed.

        Messages are taken one at a time so that the bounded deque stays the client's only buffer.
        """
        while not self._items and not self.closed:
            self._ready.clear()
            await self._ready.wait()
        if not self._items:
            return 0, None
        dropped, self.dropped = self.dropped, 0
        return dropped, self._items.popleft()


def reading_text(reading: ReadingPublic) -> str:
    return json.dumps({"type": "reading", "data": reading.model_dump(mode="json"), "dropped": None})


def verdict_text(verdict: VerdictPublic) -> str:
    return json.dumps({"type": "verdict", "data": verdict.model_dump(mode="json"), "dropped": None})


def message_text(message: MessagePublic) -> str:
    return json.dumps({"type": "message", "data": message.model_dump(mode="json"), "dropped": None})


def approval_text(approval: ApprovalPublic) -> str:
    return json.dumps({"type": "approval", "data": approval.model_dump(mode="json"), "dropped": None})


def gap_text(dropped: int) -> str:
    return json.dumps({"type": "gap", "data": None, "dropped": dropped})


class FeedHub:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._subscriptions: set[Subscription] = set()

    @property
    def client_count(self) -> int:
        return len(self._subscriptions)

    def subscribe(self, shipment_id: str | None) -> Subscription:
        subscription = Subscription(shipment_id=shipment_id, capacity=self.capacity)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
        if subscription.dropped:
            logger.info("feed client left with %d undelivered messages dropped", subscription.dropped)

    def close(self) -> None:
        for subscription in list(self._subscriptions):
            subscription.close()

    def publish_readings(self, readings: list[ReadingPublic]) -> None:
        if not self._subscriptions:
            return  # nobody listens: skip serialising
        for reading in readings:
            self._offer(FeedItem(reading.shipment_id, reading.id, reading_text(reading)))

    def publish_verdict(self, verdict: VerdictPublic) -> None:
        self._offer(FeedItem(verdict.shipment_id, None, verdict_text(verdict)))

    def publish_message(self, message: MessagePublic) -> None:
        if self._subscriptions:
            self._offer(FeedItem(None, None, message_text(message)))

    def publish_approval(self, approval: ApprovalPublic) -> None:
        """Sent when a request arrives and again when it is decided."""
        if self._subscriptions:
            self._offer(FeedItem(None, None, approval_text(approval)))

    def _offer(self, item: FeedItem) -> None:
        for subscription in self._subscriptions:
            subscription.offer(item)
