"""Constants and helpers of the market contract tests: custom-error assertion, CFP building, commitments."""

from __future__ import annotations

from typing import Any

import eth_abi
from brownie import chain, web3
from eth_utils import keccak

from tests.contracts.errors import reverts

SUPPLIER, WHOLESALER, RETAILER, LOGISTICS, CARRIER, ORACLE, AUDITOR = 1, 2, 4, 8, 16, 32, 64
GOODS, DELIVERY = 0, 1
PRODUCT = b"vaccine-2-8C".ljust(32, b"\0")
REGION = b"u33d".ljust(32, b"\0")
ORIGIN = b"u33db".ljust(32, b"\0")
DESTINATION = b"u281z".ljust(32, b"\0")
SLA = (200, 800, 3000, 7000, 2500, 600)  # 2-8 degC, 30-70 % RH, 2.5 g, 10 min grace
DELIVERY_GRACE = 7 * 24 * 3600
REROUTE_PERIODS = (600, 600, 600)
ZERO = "0x0000000000000000000000000000000000000000"
UNIT = 10**6  # one token (6 decimals)


# ---------------------------------------------------------------------- custom errors
# The market tests call the shared custom-error assertion `reverts_with`.
reverts_with = reverts


# ---------------------------------------------------------------------- time
def set_next_block_time(timestamp: int) -> None:
    """The next mined block (the next transaction) gets exactly `timestamp`."""
    web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])


def advance_to(timestamp: int) -> None:
    """Mines an empty block at exactly `timestamp` (anvil rejects brownie's `chain.mine(timestamp=...)`)."""
    set_next_block_time(timestamp)
    chain.mine()


# ---------------------------------------------------------------------- CFP helpers
def money_terms(
    deadline: int, per_hour: int = 10 * UNIT, per_excursion: int = 50 * UNIT, cap: int = 300 * UNIT
) -> tuple:
    return (deadline, per_hour, per_excursion, cap)


def cfp_params(kind: int = GOODS, parent: int = 0, **overrides: Any) -> dict[str, Any]:
    """CfpParams as a dict (see `as_tuple`), deadlines relative to the chain's clock."""
    now = chain.time()
    window_end = now + 5 * 24 * 3600
    params: dict[str, Any] = {
        "kind": kind,
        "parentOrderId": parent,
        "productType": PRODUCT,
        "quantity": 10,
        "maxUnitPrice": 100 * UNIT,
        "windowStart": now + 3600,
        "windowEnd": window_end,
        "origin": ORIGIN,
        "destination": DESTINATION,
        "eligibleRoles": SUPPLIER if kind == GOODS else CARRIER,
        "commitDeadline": now + 1000,
        "revealDeadline": now + 2000,
        "awardDeadline": now + 3000,
        "sla": SLA,
        "money": money_terms(window_end) if kind == GOODS else (0, 0, 0, 0),
    }
    params.update(overrides)
    return params


FIELDS = [
    "kind", "parentOrderId", "productType", "quantity", "maxUnitPrice", "windowStart", "windowEnd", "origin",
    "destination", "eligibleRoles", "commitDeadline", "revealDeadline", "awardDeadline", "sla", "money",
]  # fmt: skip


def as_tuple(params: dict[str, Any]) -> tuple:
    return tuple(params[f] for f in FIELDS)


def salt_for(bidder: Any, n: int = 0) -> bytes:
    return keccak(text=f"salt-{bidder.address}-{n}")


def commitment(cfp_id: int, bidder: Any, unit_price: int, eta: int, salt: bytes) -> bytes:
    return keccak(
        eth_abi.encode(
            ["uint256", "address", "uint96", "uint64", "bytes32"],
            [cfp_id, bidder.address, unit_price, eta, salt],
        )
    )


# ---------------------------------------------------------------------- values
def plain(value: Any) -> Any:
    """Brownie return values as plain Python (tuples, int, bool, str) so `==` compares by value."""
    if isinstance(value, list | tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    return value


def h32(value: bytes) -> str:
    """A bytes32 as brownie reports it in events and return values ("0x" + 64 hex digits)."""
    return "0x" + bytes(value).hex()
