"""Agent messages and approvals on the live feed, over a real WebSocket."""

from __future__ import annotations

import json
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from offchain.api.agent_schemas import ApprovalPublic, MessagePublic
from offchain.api.agent_signing import object_id, signed_decision
from offchain.api.client import ApiClient, feed_url
from offchain.api.schemas import FeedMessage

from .agent_data import account, approval, as_json, message
from .conftest import RunningApi, make_readings, new_device, register


def next_frame(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv(timeout=10))
    return frame


def test_new_message_is_streamed_as_a_message_frame(sqlite_api: RunningApi) -> None:
    body = message(account())
    with connect(feed_url(sqlite_api.base_url)) as ws, httpx.Client(base_url=sqlite_api.base_url) as http:
        http.post("/messages", json=as_json(body)).raise_for_status()
        frame = next_frame(ws)
    assert frame["type"] == "message"
    assert frame["data"]["id"] == object_id(body)
    assert frame["data"]["content"] == body.content


def test_reposted_message_is_not_streamed_twice(sqlite_api: RunningApi) -> None:
    first, second = as_json(message(account())), as_json(message(account()))
    with connect(feed_url(sqlite_api.base_url)) as ws, httpx.Client(base_url=sqlite_api.base_url) as http:
        http.post("/messages", json=first).raise_for_status()
        http.post("/messages", json=first).raise_for_status()
        http.post("/messages", json=second).raise_for_status()
        frames = [next_frame(ws), next_frame(ws)]
    assert [f["data"]["id"] for f in frames] == [object_id(first), object_id(second)]


def test_approval_is_streamed_when_requested_and_when_decided(sqlite_api: RunningApi) -> None:
    approver = account()
    request = approval(account(), [approver])
    with connect(feed_url(sqlite_api.base_url)) as ws, ApiClient(sqlite_api.base_url) as client:
        client.post_approval(request)
        client.post_decision(signed_decision(approver, approval_id=object_id(request), decision="approve"))
        frames = [next_frame(ws), next_frame(ws)]
    assert [f["type"] for f in frames] == ["approval", "approval"]
    assert [f["data"]["status"] for f in frames] == ["pending", "decided"]
    assert frames[1]["data"]["decision"]["approver"] == approver.address


def test_shipment_filtered_clients_get_no_agent_frames(sqlite_api: RunningApi) -> None:
    device = new_device()
    with httpx.Client(base_url=sqlite_api.base_url) as http:
        register(http, device).raise_for_status()
        with connect(feed_url(sqlite_api.base_url, device.shipment_id)) as ws, ApiClient(sqlite_api.base_url) as client:
            client.post_message(message(account()))
            client.post_readings(device.device_id, device.shipment_id, 1, make_readings(1), device.key)
            frame = next_frame(ws)
    assert frame["type"] == "reading"


def test_feed_frames_parse_as_typed_messages_and_approvals(sqlite_api: RunningApi) -> None:
    approver = account()
    with connect(feed_url(sqlite_api.base_url)) as ws, ApiClient(sqlite_api.base_url) as client:
        client.post_message(message(account()))
        client.post_approval(approval(account(), [approver]))
        parsed = [FeedMessage.model_validate(next_frame(ws)) for _ in range(2)]
    assert isinstance(parsed[0].data, MessagePublic)
    assert isinstance(parsed[1].data, ApprovalPublic)
