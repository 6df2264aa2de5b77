"""Signing and verifying agent messages, approval requests and decisions.

    signed bytes = offchain.storage.canonical.encode(body without "signature")   # RFC 8785, integers only
    id           = "0x" + keccak256(signed bytes)
    signature    = EIP-191 personal_sign(signed bytes), 65 bytes r || s || v as 0x-hex

The body is every field of interfaces/agents/README.md's table, nulls included (`"tx_hash": null`), so
the API verifies exactly what was posted. An agent acting on a decision re-checks it with
`verify_decision` rather than trusting the API:

    message = signed_message(account, conversation="cfp:31337:12", receiver="broadcast",
                             performative="cfp", content={"summary": "..."}, tx_hash=None)
    api.post_message(message)
    request = signed_approval(account, approvers=[...], kind="award", subject=..., summary=...,
                              recommendation={...}, reasons=[...], value=123, severity=None)
    ...
    approval = api.get_approval(object_id(request))
    if approval.decision and verify_decision(approval, expected_agent=account.address): ...
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from pydantic import BaseModel

from offchain.storage.canonical import encode

from .agent_schemas import ApprovalIn, ApprovalPublic, DecisionIn, MessageIn, Performative


class AgentSignatureError(ValueError):
    """A signature that cannot be recovered, or recovers to someone other than the claimed signer."""


def _unsigned(body: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else dict(body)
    data.pop("signature", None)
    return data


def canonical_bytes(body: BaseModel | Mapping[str, Any]) -> bytes:
    """The signed bytes of a message, approval request or decision (its `signature` left out)."""
    return encode(_unsigned(body))


def object_id(body: BaseModel | Mapping[str, Any]) -> str:
    """The content address of a message or approval request: 0x + keccak256 of its signed bytes."""
    return "0x" + keccak(canonical_bytes(body)).hex()


def sign(body: BaseModel | Mapping[str, Any], account: LocalAccount) -> str:
    signed = account.sign_message(encode_defunct(primitive=canonical_bytes(body)))
    return "0x" + bytes(signed.signature).hex()


def recover(body: BaseModel | Mapping[str, Any], signature: str) -> str:
    """Checksummed address that signed the body; AgentSignatureError if the signature is malformed."""
    try:
        return str(Account.recover_message(encode_defunct(primitive=canonical_bytes(body)), signature=signature))
    except Exception as exc:  # eth-keys raises several unrelated types for bad r/s/v
        raise AgentSignatureError(f"signature cannot be recovered: {exc}") from exc


def verify(body: BaseModel | Mapping[str, Any], signature: str, expected_signer: str) -> None:
    """Raises AgentSignatureError unless `signature` over the body was made by `expected_signer`."""
    signer = recover(body, signature)
    if signer.lower() != expected_signer.lower():
        raise AgentSignatureError(f"signed by {signer}, not by {expected_signer}")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def signed_message(
    account: LocalAccount,
    *,
    conversation: str,
    receiver: str,
    performative: Performative,
    content: Mapping[str, Any],
    tx_hash: str | None = None,
    sent_ms: int | None = None,
) -> MessageIn:
    """A transcript message from `account`, signed (sender = the account's address)."""
    body: dict[str, Any] = {
        "conversation": conversation,
        "sender": account.address,
        "receiver": receiver,
        "performative": performative,
        "content": dict(content),
        "tx_hash": tx_hash,
        "sent_ms": _now_ms() if sent_ms is None else sent_ms,
    }
    return MessageIn.model_validate({**body, "signature": sign(body, account)})


def signed_approval(
    account: LocalAccount,
    *,
    approvers: Sequence[str],
    kind: Literal["award", "verdict_action"],
    subject: str,
    summary: str,
    recommendation: Mapping[str, Any],
    reasons: Sequence[str],
    value: int | None,
    severity: int | None,
    created_ms: int | None = None,
) -> ApprovalIn:
    """An approval request from `account` (agent = the account's address), signed."""
    body: dict[str, Any] = {
        "agent": account.address,
        "approvers": list(approvers),
        "kind": kind,
        "subject": subject,
        "summary": summary,
        "recommendation": dict(recommendation),
        "reasons": list(reasons),
        "value": value,
        "severity": severity,
        "created_ms": _now_ms() if created_ms is None else created_ms,
    }
    return ApprovalIn.model_validate({**body, "signature": sign(body, account)})


def signed_decision(
    account: LocalAccount,
    *,
    approval_id: str,
    decision: Literal["approve", "reject"],
    comment: str = "",
    decided_ms: int | None = None,
) -> DecisionIn:
    """A decision by `account` (approver = the account's address) on approval `approval_id`, signed."""
    body: dict[str, Any] = {
        "approval_id": approval_id,
        "decision": decision,
        "approver": account.address,
        "comment": comment,
        "decided_ms": _now_ms() if decided_ms is None else decided_ms,
    }
    return DecisionIn.model_validate({**body, "signature": sign(body, account)})


_REQUEST_FIELDS = tuple(name for name in ApprovalIn.model_fields if name != "signature")
_DECISION_FIELDS = tuple(name for name in DecisionIn.model_fields if name != "signature")


def verify_decision(approval: ApprovalPublic, *, expected_agent: str) -> bool:
    """True when `approval` carries a decision an agent may act on, checked without trusting the API.

    Checks: the request is the one `expected_agent` signed (its id and signature), the decision names
    this request, its approver is in the request's list, and the approver's signature is valid.
    """
    if approval.decision is None:
        return False
    request = {name: getattr(approval, name) for name in _REQUEST_FIELDS}
    decision = {name: getattr(approval.decision, name) for name in _DECISION_FIELDS}
    try:
        verify(request, approval.signature, expected_agent)
        verify(decision, approval.decision.signature, approval.decision.approver)
    except AgentSignatureError:
        return False
    approvers = {address.lower() for address in approval.approvers}
    return (
        object_id(request) == approval.id
        and approval.decision.approval_id == approval.id
        and approval.decision.approver.lower() in approvers
    )
