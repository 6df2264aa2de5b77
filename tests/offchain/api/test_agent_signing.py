"""Canonical bytes, ids and signatures of agent bodies, and the agent-side check of a decision."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from offchain.api.agent_schemas import ApprovalPublic, DecisionPublic
from offchain.api.agent_signing import (
    AgentSignatureError,
    canonical_bytes,
    object_id,
    recover,
    signed_decision,
    signed_message,
    verify,
    verify_decision,
)

from .agent_data import account, approval

# anvil's first development key: public, used here only to pin bytes and signatures.
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def test_canonical_bytes_sort_keys_keep_nulls_and_drop_the_signature() -> None:
    body = {"signature": "0x00", "sent_ms": 5, "content": {"b": 1, "a": "x"}, "tx_hash": None}
    assert canonical_bytes(body) == b'{"content":{"a":"x","b":1},"sent_ms":5,"tx_hash":null}'


def test_id_is_keccak_of_the_canonical_bytes_and_ignores_the_signature() -> None:
    sender = Account.from_key(DEV_KEY)
    first = signed_message(sender, conversation="cfp:31337:1", receiver="broadcast", performative="cfp",
                           content={"summary": "s"}, sent_ms=1)
    again = first.model_copy(update={"signature": "0x" + "11" * 65})
    assert object_id(first) == object_id(again)
    assert object_id(first) == "0x" + keccak(canonical_bytes(first)).hex()


def test_signature_recovers_the_sender() -> None:
    sender = Account.from_key(DEV_KEY)
    message = signed_message(sender, conversation="c", receiver="broadcast", performative="inform",
                             content={"summary": "s"}, sent_ms=1)
    assert recover(message, message.signature) == sender.address


def test_verify_rejects_a_changed_body() -> None:
    sender = account()
    message = signed_message(sender, conversation="c", receiver="broadcast", performative="inform",
                             content={"summary": "pay 1"}, sent_ms=1)
    tampered = message.model_copy(update={"content": {"summary": "pay 2"}})
    with pytest.raises(AgentSignatureError, match="not by"):
        verify(tampered, message.signature, sender.address)


def test_recover_rejects_a_malformed_signature() -> None:
    with pytest.raises(AgentSignatureError, match="cannot be recovered"):
        recover({"a": 1}, "0x" + "00" * 65)


def test_floats_are_refused_in_content() -> None:
    with pytest.raises(ValueError, match="float"):
        signed_message(account(), conversation="c", receiver="broadcast", performative="inform",
                       content={"price": 1.5}, sent_ms=1)


def _decided(agent_key: str | None = None, approver_in_list: bool = True, tamper: bool = False) -> ApprovalPublic:
    agent = Account.from_key(agent_key) if agent_key else account()
    approver, outsider = account(), account()
    request = approval(agent, [approver])
    decider = approver if approver_in_list else outsider
    decision = signed_decision(decider, approval_id=object_id(request), decision="approve", comment="ok")
    decision_public = DecisionPublic(**decision.model_dump(mode="json"))
    if tamper:
        decision_public = decision_public.model_copy(update={"decision": "reject"})
    return ApprovalPublic(**request.model_dump(mode="json"), seq=1, id=object_id(request), received_ms=1,
                          status="decided", decision=decision_public, decision_received_ms=2)


def test_verify_decision_accepts_a_listed_approvers_signed_decision() -> None:
    approval_ = _decided(DEV_KEY)
    assert verify_decision(approval_, expected_agent=Account.from_key(DEV_KEY).address)


def test_verify_decision_rejects_an_approver_not_in_the_list() -> None:
    approval_ = _decided(DEV_KEY, approver_in_list=False)
    assert not verify_decision(approval_, expected_agent=Account.from_key(DEV_KEY).address)


def test_verify_decision_rejects_a_decision_changed_after_signing() -> None:
    approval_ = _decided(DEV_KEY, tamper=True)
    assert not verify_decision(approval_, expected_agent=Account.from_key(DEV_KEY).address)


def test_verify_decision_rejects_a_request_from_another_agent() -> None:
    approval_ = _decided(DEV_KEY)
    assert not verify_decision(approval_, expected_agent=account().address)


def test_verify_decision_is_false_while_pending() -> None:
    approval_ = _decided(DEV_KEY).model_copy(update={"decision": None, "status": "pending"})
    assert not verify_decision(approval_, expected_agent=Account.from_key(DEV_KEY).address)
