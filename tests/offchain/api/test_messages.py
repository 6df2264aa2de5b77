"""The agents' transcript against a real server (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from offchain.api.agent_signing import object_id, sign
from offchain.api.client import ApiClient, ApiError

from .agent_data import account, as_json, message
from .conftest import RunningApi, unique


def problem_type(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return str(response.json()["type"])


def test_new_message_is_201_with_its_content_address(http: httpx.Client) -> None:
    body = message(account())
    response = http.post("/messages", json=as_json(body))
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["id"] == object_id(body)
    assert {k: stored[k] for k in as_json(body)} == as_json(body)


def test_same_message_again_is_200_with_the_same_record(http: httpx.Client) -> None:
    body = as_json(message(account()))
    first = http.post("/messages", json=body).json()
    again = http.post("/messages", json=body)
    assert again.status_code == 200
    assert again.json() == first


def test_message_signed_by_someone_else_is_401(http: httpx.Client) -> None:
    body = as_json(message(account()))
    body["signature"] = sign({k: v for k, v in body.items() if k != "signature"}, account())
    response = http.post("/messages", json=body)
    assert response.status_code == 401
    assert problem_type(response) == "urn:asc:problem:bad-signature"
    assert response.json()["errors"][0]["field"] == "signature"


def test_message_changed_after_signing_is_401(http: httpx.Client) -> None:
    body = as_json(message(account()))
    body["content"]["pallets"] = 41
    assert http.post("/messages", json=body).status_code == 401


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sender", "0x" + "ab" * 20),  # lower case: not EIP-55
        ("receiver", "everyone"),
        ("performative", "threaten"),
        ("tx_hash", "0x1234"),
        ("conversation", ""),
        ("content", {"price": 1.5}),
        ("content", {"blob": "x" * 9000}),
        ("sent_ms", "1"),
    ],
)
def test_malformed_message_is_422_naming_the_field(http: httpx.Client, field: str, value: Any) -> None:
    body = as_json(message(account()))
    body[field] = value
    response = http.post("/messages", json=body)
    assert response.status_code == 422
    assert problem_type(response) == "urn:asc:problem:malformed"
    assert any(item["field"].split(".")[0] == field for item in response.json()["errors"])


def test_message_without_a_nullable_field_is_422(http: httpx.Client) -> None:
    body = as_json(message(account()))
    del body["tx_hash"]
    response = http.post("/messages", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "tx_hash"


def test_conversation_pages_oldest_first_until_next_after_is_null(api: RunningApi) -> None:
    sender, conversation = account(), unique("cfp:31337")
    with ApiClient(api.base_url) as client:
        posted = [client.post_message(message(sender, conversation, sent_ms=i)) for i in range(5)]
        client.post_message(message(sender))  # another conversation
        pages = [client.list_messages(conversation=conversation, limit=2)]
        while pages[-1].next_after is not None:
            pages.append(client.list_messages(conversation=conversation, after=pages[-1].next_after, limit=2))
    assert [len(page.items) for page in pages] == [2, 2, 1]
    assert [item.id for page in pages for item in page.items] == [m.id for m in posted]


def test_participant_matches_sender_or_receiver(api: RunningApi) -> None:
    buyer, carrier, other = account(), account(), account()
    conversation = unique("cfp:31337")
    with ApiClient(api.base_url) as client:
        sent = client.post_message(message(buyer, conversation, receiver=carrier.address))
        answered = client.post_message(message(carrier, conversation, receiver=buyer.address, performative="propose"))
        client.post_message(message(other, conversation))
        page = client.list_messages(participant=carrier.address)
    assert [item.id for item in page.items] == [sent.id, answered.id]


def test_client_raises_api_error_with_the_problem(api: RunningApi) -> None:
    body = message(account())
    forged = body.model_copy(update={"sent_ms": body.sent_ms + 1})
    with ApiClient(api.base_url) as client, pytest.raises(ApiError) as raised:
        client.post_message(forged)
    assert (raised.value.status, raised.value.kind) == (401, "bad-signature")


def test_participant_must_be_an_address(http: httpx.Client) -> None:
    response = http.get("/messages", params={"participant": "bob"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "participant"
