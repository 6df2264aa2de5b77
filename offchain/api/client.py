"""Typed client of the API (httpx), for the simulator, the oracle nodes and the dapp.

    with ApiClient("http://127.0.0.1:8000", admin_token=...) as api:
        api.register_device("reefer-7", address, shipments=["42"])
        api.post_readings("reefer-7", "42", seq=1, readings=[...], private_key=key)
        for reading in api.readings("42"):
            ...
        for message in api.feed(shipment_id="42"):
            ...
        api.post_message(signed_message(account, conversation="cfp:31337:12", ...))  # agent_signing

Errors come back as `ApiError` carrying the status and the problem details of the response.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Literal, Self
from urllib.parse import urlencode

import httpx
import websockets
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect as ws_connect

from .agent_schemas import (
    ApprovalIn,
    ApprovalPage,
    ApprovalPublic,
    DecisionIn,
    MessageIn,
    MessagePage,
    MessagePublic,
)
from .schemas import (
    BatchIn,
    BatchResult,
    DevicePublic,
    DeviceRegister,
    FeedMessage,
    PositionPublic,
    ReadingIn,
    ReadingPage,
    ReadingPublic,
    VerdictIn,
    VerdictPublic,
)
from .signing import canonical_batch_bytes, sign_canonical


class ApiError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"{status} {problem.get('type', '')}: {problem.get('detail', problem)}")

    @property
    def kind(self) -> str:
        """The problem type without its `urn:asc:problem:` prefix, e.g. `bad-signature`."""
        return str(self.problem.get("type", "")).rsplit(":", 1)[-1]


def sign_batch(
    device_id: str,
    shipment_id: str,
    seq: int,
    readings: Sequence[ReadingIn | dict[str, Any]],
    private_key: str | bytes,
) -> BatchIn:
    """A batch signed as the API expects (see `signing`)."""
    parsed = [r if isinstance(r, ReadingIn) else ReadingIn.model_validate(r) for r in readings]
    canonical = canonical_batch_bytes(device_id, shipment_id, seq, [r.model_dump() for r in parsed])
    return BatchIn(
        device_id=device_id,
        shipment_id=shipment_id,
        seq=seq,
        readings=parsed,
        signature=sign_canonical(canonical, private_key),
    )


def feed_url(base_url: str, shipment_id: str | None = None, after_id: int | None = None) -> str:
    query = {
        key: value
        for key, value in (("shipment_id", shipment_id), ("after_id", after_id))
        if value is not None
    }
    ws_base = base_url.rstrip("/").replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return f"{ws_base}/ws/feed" + (f"?{urlencode(query)}" if query else "")


async def subscribe_feed(
    base_url: str, shipment_id: str | None = None, after_id: int | None = None
) -> AsyncIterator[FeedMessage]:
    """Async iterator over feed messages until the server closes the socket."""
    async with websockets.connect(feed_url(base_url, shipment_id, after_id)) as socket:
        async for frame in socket:
            yield FeedMessage.model_validate(json.loads(frame))


class ApiClient:
    def __init__(
        self,
        base_url: str,
        *,
        admin_token: str | None = None,
        oracle_token: str | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._admin_token = admin_token
        self._oracle_token = oracle_token
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        response = self._http.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text}
            raise ApiError(response.status_code, problem)
        return response

    @staticmethod
    def _required(token: str | None, name: str) -> str:
        if token is None:
            raise ValueError(f"this call needs the client to be created with {name}")
        return token

    # health
    def ready(self) -> dict[str, Any]:
        body: dict[str, Any] = self._request("GET", "/ready").json()
        return body

    # devices
    def register_device(self, device_id: str, address: str, shipments: Sequence[str] | None) -> DevicePublic:
        body = DeviceRegister(address=address, shipments=list(shipments) if shipments is not None else None)
        response = self._request(
            "PUT",
            f"/devices/{device_id}",
            token=self._required(self._admin_token, "admin_token"),
            json=body.model_dump(),
        )
        return DevicePublic.model_validate(response.json())

    def get_device(self, device_id: str) -> DevicePublic:
        return DevicePublic.model_validate(self._request("GET", f"/devices/{device_id}").json())

    def list_devices(self) -> list[DevicePublic]:
        return [DevicePublic.model_validate(item) for item in self._request("GET", "/devices").json()]

    # ingestion
    def post_batch(self, batch: BatchIn) -> BatchResult:
        response = self._request("POST", "/batches", json=batch.model_dump())
        return BatchResult.model_validate(response.json())

    def post_readings(
        self,
        device_id: str,
        shipment_id: str,
        seq: int,
        readings: Sequence[ReadingIn | dict[str, Any]],
        private_key: str | bytes,
    ) -> BatchResult:
        return self.post_batch(sign_batch(device_id, shipment_id, seq, readings, private_key))

    # queries
    def readings_page(
        self,
        shipment_id: str,
        *,
        from_ms: int | None = None,
        to_ms: int | None = None,
        cursor: str | None = None,
        limit: int = 100,
        after_id: int | None = None,
    ) -> ReadingPage:
        """Time order with ``cursor``; acceptance order (ids greater than ``after_id``) with ``after_id``."""
        params = {
            "from_ms": from_ms,
            "to_ms": to_ms,
            "cursor": cursor,
            "limit": limit,
            "after_id": after_id,
        }
        response = self._request(
            "GET",
            f"/shipments/{shipment_id}/readings",
            params={key: value for key, value in params.items() if value is not None},
        )
        return ReadingPage.model_validate(response.json())

    def readings(
        self, shipment_id: str, *, from_ms: int | None = None, to_ms: int | None = None, page_size: int = 500
    ) -> Iterator[ReadingPublic]:
        """Every reading in the range, oldest first, following the cursor across pages."""
        cursor: str | None = None
        while True:
            page = self.readings_page(
                shipment_id, from_ms=from_ms, to_ms=to_ms, cursor=cursor, limit=page_size
            )
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def position(self, shipment_id: str) -> PositionPublic:
        response = self._request("GET", f"/shipments/{shipment_id}/position")
        return PositionPublic.model_validate(response.json())

    def positions(self) -> list[PositionPublic]:
        return [PositionPublic.model_validate(item) for item in self._request("GET", "/positions").json()]

    # verdicts
    def post_verdict(self, verdict: VerdictIn) -> VerdictPublic:
        response = self._request(
            "POST",
            "/verdicts",
            token=self._required(self._oracle_token, "oracle_token"),
            json=verdict.model_dump(mode="json"),
        )
        return VerdictPublic.model_validate(response.json())

    def verdicts(self, shipment_id: str | None = None, limit: int = 100) -> list[VerdictPublic]:
        params: dict[str, Any] = {"limit": limit}
        if shipment_id is not None:
            params["shipment_id"] = shipment_id
        response = self._request("GET", "/verdicts", params=params)
        return [VerdictPublic.model_validate(item) for item in response.json()]

    # agent transcript and approvals (signed bodies: see agent_signing.signed_message & co.)
    def post_message(self, message: MessageIn) -> MessagePublic:
        """Records a signed message; posting the same message again returns the stored record."""
        response = self._request("POST", "/messages", json=message.model_dump(mode="json"))
        return MessagePublic.model_validate(response.json())

    def list_messages(
        self,
        *,
        conversation: str | None = None,
        participant: str | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> MessagePage:
        """One page, oldest first; pass `next_after` back as `after` until it is None."""
        params = {"conversation": conversation, "participant": participant, "after": after, "limit": limit}
        response = self._request(
            "GET", "/messages", params={key: value for key, value in params.items() if value is not None}
        )
        return MessagePage.model_validate(response.json())

    def post_approval(self, request: ApprovalIn) -> ApprovalPublic:
        """Records a signed approval request (pending); posting it again returns the stored record."""
        response = self._request("POST", "/approvals", json=request.model_dump(mode="json"))
        return ApprovalPublic.model_validate(response.json())

    def list_approvals(
        self,
        *,
        status: Literal["pending", "decided"] | None = None,
        agent: str | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> ApprovalPage:
        params = {"status": status, "agent": agent, "after": after, "limit": limit}
        response = self._request(
            "GET", "/approvals", params={key: value for key, value in params.items() if value is not None}
        )
        return ApprovalPage.model_validate(response.json())

    def get_approval(self, approval_id: str) -> ApprovalPublic:
        """The request and its decision (None while pending); check it with `agent_signing.verify_decision`."""
        return ApprovalPublic.model_validate(self._request("GET", f"/approvals/{approval_id}").json())

    def post_decision(self, decision: DecisionIn) -> ApprovalPublic:
        """Records a signed decision; ApiError 409 (`already-decided`) if another decision came first."""
        response = self._request(
            "POST", f"/approvals/{decision.approval_id}/decision", json=decision.model_dump(mode="json")
        )
        return ApprovalPublic.model_validate(response.json())

    # live feed
    def feed(
        self, shipment_id: str | None = None, after_id: int | None = None, timeout_s: float | None = None
    ) -> Iterator[FeedMessage]:
        """Blocking iterator over feed messages; `timeout_s` bounds the wait for each message."""
        with ws_connect(feed_url(self.base_url, shipment_id, after_id)) as socket:
            while True:
                try:
                    frame = socket.recv(timeout=timeout_s)
                except ConnectionClosedOK:
                    return
                yield FeedMessage.model_validate(json.loads(frame))
