"""Wire types of agent messages, approval requests and decisions (interfaces/agents/README.md).

Every signed body is exactly the object that was signed plus its `signature`: all fields are required
(nullable ones as an explicit `null`), so the server verifies the very bytes the agent signed. JSON
values inside (`content`, `recommendation`) must be canonical-encodable (integers only, no floats).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from eth_utils.address import is_checksum_address
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from offchain.storage.canonical import CanonicalJsonError, encode

# Same shapes as in schemas.py (which imports this module for the feed frames, hence not imported here).
Bytes32Hex = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")]
SignatureHex = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{130}$")]
NonNegInt64 = Annotated[int, Field(strict=True, ge=0, le=2**63 - 1)]

MAX_CONTENT_BYTES = 8 * 1024
MAX_APPROVERS = 16


def _checksummed(value: str) -> str:
    if not is_checksum_address(value):
        raise ValueError("address must be EIP-55 checksummed (mixed case)")
    return value


def _canonical_object(value: dict[str, Any]) -> dict[str, Any]:
    try:
        size = len(encode(value))
    except CanonicalJsonError as exc:
        raise ValueError(f"not canonical JSON: {exc}") from exc
    if size > MAX_CONTENT_BYTES:
        raise ValueError(f"canonical size {size} bytes exceeds {MAX_CONTENT_BYTES}")
    return value


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("approvers must not repeat")
    return values


Address = Annotated[
    str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$"), AfterValidator(_checksummed)
]
Receiver = Address | Literal["broadcast"]
Conversation = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Performative = Literal["cfp", "propose", "accept", "decline", "inform"]
ApprovalKind = Literal["award", "verdict_action"]
CanonicalObject = Annotated[dict[str, Any], AfterValidator(_canonical_object)]
Sentence = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
# Money and severities are canonical integers: JSON parsers outside Python read them exactly up to 2**53.
SafeInt = Annotated[int, Field(strict=True, ge=0, le=2**53 - 1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageIn(_Strict):
    """A transcript message, signed by `sender`."""

    conversation: Conversation = Field(description="e.g. `cfp:31337:12` (chain id, CFP id).")
    sender: Address
    receiver: Receiver = Field(description='An address, or "broadcast".')
    performative: Performative
    content: CanonicalObject = Field(
        description="Human-readable keys; `summary` is one sentence for the chat view. Canonical size <= 8 KiB."
    )
    tx_hash: Bytes32Hex | None = Field(description="Transaction that carried the act on-chain, or null.")
    sent_ms: NonNegInt64
    signature: SignatureHex = Field(description="EIP-191 signature of the canonical JSON without `signature`.")


class MessagePublic(BaseModel):
    seq: int = Field(description="Arrival order; pass the last one seen as `after`.")
    id: str = Field(description="0x + keccak256 of the canonical message without `signature`.")
    received_ms: int
    conversation: str
    sender: str
    receiver: str
    performative: Performative
    content: dict[str, Any]
    tx_hash: str | None
    sent_ms: int
    signature: str


class MessagePage(BaseModel):
    items: list[MessagePublic]
    next_after: int | None = Field(description="Pass as `after` for the next page; null at the end.")


class ApprovalIn(_Strict):
    """A decision an agent waits for, signed by `agent`."""

    agent: Address
    approvers: Annotated[list[Address], AfterValidator(_unique)] = Field(
        min_length=1, max_length=MAX_APPROVERS, description="Who may decide (from the agent's config)."
    )
    kind: ApprovalKind
    subject: Conversation = Field(description="e.g. `cfp:31337:12`.")
    summary: Sentence
    recommendation: CanonicalObject = Field(description='What the agent would do, e.g. {"award_to": ...}.')
    reasons: list[Sentence] = Field(max_length=64, description="Why, in plain sentences.")
    value: SafeInt | None = Field(description="Money at stake in token base units, or null.")
    severity: SafeInt | None = Field(description="Verdict severity for `verdict_action`, or null.")
    created_ms: NonNegInt64
    signature: SignatureHex


class DecisionIn(_Strict):
    """A person's decision on an approval request, signed by `approver`."""

    approval_id: Bytes32Hex
    decision: Literal["approve", "reject"]
    approver: Address
    comment: Annotated[str, StringConstraints(max_length=2000)]
    decided_ms: NonNegInt64
    signature: SignatureHex


class DecisionPublic(BaseModel):
    """Exactly the signed decision: a verifier can recover the approver from this object as it is."""

    approval_id: str
    decision: Literal["approve", "reject"]
    approver: str
    comment: str
    decided_ms: int
    signature: str


class ApprovalPublic(BaseModel):
    seq: int = Field(description="Arrival order; pass the last one seen as `after`.")
    id: str = Field(description="0x + keccak256 of the canonical request without `signature`.")
    received_ms: int
    status: Literal["pending", "decided"]
    agent: str
    approvers: list[str]
    kind: ApprovalKind
    subject: str
    summary: str
    recommendation: dict[str, Any]
    reasons: list[str]
    value: int | None
    severity: int | None
    created_ms: int
    signature: str
    decision: DecisionPublic | None = Field(description="The decision that counts, or null while pending.")
    decision_received_ms: int | None = Field(description="When the API recorded the decision.")


class ApprovalPage(BaseModel):
    items: list[ApprovalPublic]
    next_after: int | None = Field(description="Pass as `after` for the next page; null at the end.")

