"""Approval requests and decisions against a real server (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from offchain.api.agent_signing import object_id, recover, sign, signed_decision, verify_decision
from offchain.api.client import ApiClient, ApiError

from .agent_data import account, approval, as_json, resigned
from .conftest import RunningApi


def test_new_request_is_201_pending(http: httpx.Client) -> None:
    body = approval(account(), [account()])
    response = http.post("/approvals", json=as_json(body))
    assert response.status_code == 201, response.text
    stored = response.json()
    assert (stored["id"], stored["status"], stored["decision"]) == (object_id(body), "pending", None)


def test_same_request_again_is_200_with_the_same_record(http: httpx.Client) -> None:
    body = as_json(approval(account(), [account()]))
    first = http.post("/approvals", json=body).json()
    again = http.post("/approvals", json=body)
    assert again.status_code == 200
    assert again.json() == first


def test_request_signed_by_someone_else_is_401(http: httpx.Client) -> None:
    body = as_json(approval(account(), [account()]))
    body["signature"] = sign({k: v for k, v in body.items() if k != "signature"}, account())
    response = http.post("/approvals", json=body)
    assert response.status_code == 401
    assert response.json()["type"] == "urn:asc:problem:bad-signature"


def test_request_with_repeated_approvers_is_422(http: httpx.Client) -> None:
    agent, approver = account(), account()
    body = resigned(as_json(approval(agent, [approver])), agent, approvers=[approver.address] * 2)
    response = http.post("/approvals", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "approvers"


def test_request_with_too_many_approvers_is_422(http: httpx.Client) -> None:
    agent = account()
    body = resigned(as_json(approval(agent, [account()])), agent, approvers=[account().address for _ in range(17)])
    response = http.post("/approvals", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "approvers"


def test_unknown_request_is_404(http: httpx.Client) -> None:
    response = http.get("/approvals/0x" + "00" * 32)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:asc:problem:not-found"


def test_decision_by_a_listed_approver_is_201_and_verifiable(api: RunningApi) -> None:
    agent, approver = account(), account()
    with ApiClient(api.base_url) as client:
        request = client.post_approval(approval(agent, [account(), approver]))
        decided = client.post_decision(signed_decision(approver, approval_id=request.id, decision="approve"))
        fetched = client.get_approval(request.id)
    assert decided.status == "decided" and decided.decision is not None
    assert decided.decision.approver == approver.address
    assert fetched == decided
    assert verify_decision(fetched, expected_agent=agent.address)


def test_served_decision_object_is_exactly_the_signed_one(http: httpx.Client) -> None:
    approver = account()
    request = approval(account(), [approver])
    http.post("/approvals", json=as_json(request)).raise_for_status()
    decision = signed_decision(approver, approval_id=object_id(request), decision="approve", comment="fine")
    http.post(f"/approvals/{object_id(request)}/decision", json=decision.model_dump()).raise_for_status()
    served = http.get(f"/approvals/{object_id(request)}").json()
    assert served["decision"] == decision.model_dump()
    assert recover(served["decision"], served["decision"]["signature"]) == approver.address


def test_decision_by_someone_not_listed_is_403(http: httpx.Client) -> None:
    request = approval(account(), [account()])
    http.post("/approvals", json=as_json(request)).raise_for_status()
    decision = signed_decision(account(), approval_id=object_id(request), decision="approve")
    response = http.post(f"/approvals/{object_id(request)}/decision", json=decision.model_dump())
    assert response.status_code == 403
    assert response.json()["type"] == "urn:asc:problem:not-an-approver"
    assert http.get(f"/approvals/{object_id(request)}").json()["status"] == "pending"


def test_decision_with_a_forged_signature_is_401(http: httpx.Client) -> None:
    approver = account()
    request = approval(account(), [approver])
    http.post("/approvals", json=as_json(request)).raise_for_status()
    body = signed_decision(approver, approval_id=object_id(request), decision="reject").model_dump()
    body["decision"] = "approve"  # changed after signing
    response = http.post(f"/approvals/{object_id(request)}/decision", json=body)
    assert response.status_code == 401
    assert response.json()["type"] == "urn:asc:problem:bad-signature"


def test_decision_on_an_unknown_request_is_404(http: httpx.Client) -> None:
    unknown = "0x" + "ab" * 32
    decision = signed_decision(account(), approval_id=unknown, decision="approve")
    assert http.post(f"/approvals/{unknown}/decision", json=decision.model_dump()).status_code == 404


def test_decision_naming_another_request_is_422(http: httpx.Client) -> None:
    approver = account()
    request = approval(account(), [approver])
    http.post("/approvals", json=as_json(request)).raise_for_status()
    decision = signed_decision(approver, approval_id="0x" + "cd" * 32, decision="approve")
    response = http.post(f"/approvals/{object_id(request)}/decision", json=decision.model_dump())
    assert response.status_code == 422
    assert response.json()["type"] == "urn:asc:problem:id-mismatch"


def test_second_different_decision_is_409_and_the_first_stands(http: httpx.Client) -> None:
    first_approver, second_approver = account(), account()
    request = approval(account(), [first_approver, second_approver])
    approval_id = object_id(request)
    http.post("/approvals", json=as_json(request)).raise_for_status()
    first = signed_decision(first_approver, approval_id=approval_id, decision="approve")
    second = signed_decision(second_approver, approval_id=approval_id, decision="reject")
    assert http.post(f"/approvals/{approval_id}/decision", json=first.model_dump()).status_code == 201
    response = http.post(f"/approvals/{approval_id}/decision", json=second.model_dump())
    assert response.status_code == 409
    assert response.json()["type"] == "urn:asc:problem:already-decided"
    assert http.get(f"/approvals/{approval_id}").json()["decision"]["decision"] == "approve"


def test_same_decision_again_is_200(http: httpx.Client) -> None:
    approver = account()
    request = approval(account(), [approver])
    http.post("/approvals", json=as_json(request)).raise_for_status()
    decision = signed_decision(approver, approval_id=object_id(request), decision="approve").model_dump()
    first = http.post(f"/approvals/{object_id(request)}/decision", json=decision)
    again = http.post(f"/approvals/{object_id(request)}/decision", json=decision)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_concurrent_decisions_have_exactly_one_winner(http: httpx.Client) -> None:
    approvers = [account() for _ in range(8)]
    request = approval(account(), approvers)
    approval_id = object_id(request)
    http.post("/approvals", json=as_json(request)).raise_for_status()
    decisions = [signed_decision(a, approval_id=approval_id, decision="approve").model_dump() for a in approvers]
    with ThreadPoolExecutor(len(decisions)) as pool:
        codes = list(pool.map(lambda d: http.post(f"/approvals/{approval_id}/decision", json=d).status_code, decisions))
    assert sorted(codes) == [201] + [409] * 7


def test_status_and_agent_filters_page_oldest_first(api: RunningApi) -> None:
    agent, approver = account(), account()
    with ApiClient(api.base_url) as client:
        requests = [client.post_approval(approval(agent, [approver])) for _ in range(3)]
        client.post_approval(approval(account(), [approver]))  # another agent
        client.post_decision(signed_decision(approver, approval_id=requests[1].id, decision="reject"))
        pending = client.list_approvals(status="pending", agent=agent.address)
        decided = client.list_approvals(status="decided", agent=agent.address)
        first = client.list_approvals(agent=agent.address, limit=2)
        rest = client.list_approvals(agent=agent.address, after=first.next_after, limit=2)
    assert [a.id for a in pending.items] == [requests[0].id, requests[2].id]
    assert [a.id for a in decided.items] == [requests[1].id]
    assert [a.id for a in first.items + rest.items] == [r.id for r in requests]
    assert rest.next_after is None


def test_client_raises_409_as_api_error(api: RunningApi) -> None:
    first, second = account(), account()
    with ApiClient(api.base_url) as client:
        request = client.post_approval(approval(account(), [first, second]))
        client.post_decision(signed_decision(first, approval_id=request.id, decision="approve"))
        with pytest.raises(ApiError) as raised:
            client.post_decision(signed_decision(second, approval_id=request.id, decision="approve"))
    assert (raised.value.status, raised.value.kind) == (409, "already-decided")


def test_unknown_status_filter_is_422(http: httpx.Client) -> None:
    response = http.get("/approvals", params={"status": "maybe"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"
