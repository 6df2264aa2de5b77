"""JSON forms of a verdict and of a signature message (checkpoint rows and the peer protocol share them)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from oracles.verdicts import Verdict, make_verdict

Hex32 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")]
Hex64 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{128}$")]


def verdict_to_dict(verdict: Verdict) -> dict[str, Any]:
    """Plain JSON values; the evidence hash as 0x-hex (bytes do not survive JSON)."""
    fields = verdict.model_dump()
    fields["kind"] = int(verdict.kind)
    fields["action"] = int(verdict.action)
    fields["evidence_hash"] = "0x" + verdict.evidence_hash.hex()
    return fields


def verdict_from_dict(fields: dict[str, Any]) -> Verdict:
    """Raises ``oracles.verdicts.VerdictError`` naming every bad field."""
    return make_verdict(**fields)


class SignatureMessage(BaseModel):
    """What a node POSTs to its peers: a verdict and its compact EIP-712 signature by the sender."""

    model_config = ConfigDict(extra="forbid")

    verdict: dict[str, Any]
    signature: Hex64
