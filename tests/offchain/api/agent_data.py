"""Signed agent bodies for the API tests: fresh accounts, unique conversations."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from offchain.api.agent_schemas import ApprovalIn, MessageIn
from offchain.api.agent_signing import sign, signed_approval, signed_message

from .conftest import unique


def account() -> LocalAccount:
    return Account.create()


def message(sender: LocalAccount, conversation: str | None = None, **overrides: Any) -> MessageIn:
    fields: dict[str, Any] = {
        "conversation": conversation or unique("cfp:31337"),
        "receiver": "broadcast",
        "performative": "cfp",
        "content": {"summary": "Need 40 pallets of chilled yoghurt moved Leeds to York", "pallets": 40},
        "tx_hash": None,
        **overrides,
    }
    return signed_message(sender, **fields)


def approval(agent: LocalAccount, approvers: list[LocalAccount], **overrides: Any) -> ApprovalIn:
    fields: dict[str, Any] = {
        "kind": "award",
        "subject": unique("cfp:31337"),
        "summary": "Award the delivery to carrier B for 1,250.000000 USDC",
        "recommendation": {"award_to": approvers[0].address, "price": 1_250_000_000},
        "reasons": ["Lowest risk-adjusted cost", "Above the 1,000 USDC award limit"],
        "value": 1_250_000_000,
        "severity": None,
        **overrides,
    }
    return signed_approval(agent, approvers=[a.address for a in approvers], **fields)


def as_json(body: MessageIn | ApprovalIn) -> dict[str, Any]:
    return body.model_dump(mode="json")


def resigned(body: dict[str, Any], signer: LocalAccount, **changes: Any) -> dict[str, Any]:
    """`body` with `changes`, signed again by `signer`: bypasses the helpers' own validation."""
    unsigned = {key: value for key, value in body.items() if key != "signature"} | changes
    return unsigned | {"signature": sign(unsigned, signer)}
