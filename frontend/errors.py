"""Every failure a partner can meet, as one plain sentence (never a traceback).

Reverts carry the contracts' custom errors; they are decoded with the ABIs of the deployment manifest, so the
sentence names the contract, the rule and the values. The few errors a partner meets in normal use have their
own sentence; any other custom error is spelled out from its name and arguments.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import requests
from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.exceptions import ContractLogicError, ContractPanicError, TimeExhausted, Web3Exception, Web3RPCError

from frontend.wallet import WalletError, WalletLockedError
from offchain.api.client import ApiError
from offchain.manifest import DeploymentManifest, ManifestError

UNIT = 10**6  # the settlement token's base units per whole token (TestStablecoin: 6 decimals)

# OpenZeppelin 5's ERC-20 errors: an external settlement token need not be in the manifest.
ERC20_ERRORS: list[dict[str, Any]] = [
    {
        "type": "error",
        "name": name,
        "inputs": [{"name": n, "type": t} for n, t in inputs],
    }
    for name, inputs in (
        ("ERC20InsufficientBalance", [("sender", "address"), ("balance", "uint256"), ("needed", "uint256")]),
        ("ERC20InsufficientAllowance", [("spender", "address"), ("allowance", "uint256"), ("needed", "uint256")]),
    )
]


class WrongNetworkError(RuntimeError):
    """The node answers with another chain id than the manifest's."""

    def __init__(self, expected: int, actual: int, url: str) -> None:
        self.expected, self.actual, self.url = expected, actual, url
        super().__init__(f"node {url} is chain {actual}, the manifest is for chain {expected}")


class ApiUnavailableError(RuntimeError):
    """No API URL is configured, or the API does not answer."""


def _money(value: int) -> str:
    return f"{value / UNIT:,.2f}"


def _when(value: int) -> str:
    return dt.datetime.fromtimestamp(int(value), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


# The custom errors a partner meets in normal use, as sentences (arguments by name).
SENTENCES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "ProcurementCommitClosed": lambda a: (
        f"Bids on call {a['cfpId']} closed at {_when(a['commitDeadline'])}; no more sealed bids are accepted."
    ),
    "ProcurementRevealClosed": lambda a: (
        f"Bids on call {a['cfpId']} can only be revealed between {_when(a['commitDeadline'])} "
        f"and {_when(a['revealDeadline'])}."
    ),
    "ProcurementAwardClosed": lambda a: (
        f"Call {a['cfpId']} can only be awarded between {_when(a['revealDeadline'])} and {_when(a['awardDeadline'])}."
    ),
    "ProcurementNotBuyer": lambda a: f"Only the buyer who opened call {a['cfpId']} may do this; you are {a['caller']}.",
    "ProcurementNotEligible": lambda a: (
        f"Account {a['account']} is not registered with the roles this needs (roles bitmask {a['roles']})."
    ),
    "ProcurementCfpNotOpen": lambda a: f"Call {a['cfpId']} is not open any more.",
    "ProcurementInvalidTiming": lambda a: (
        "The call's times are not in order: now < commit deadline < reveal deadline < award deadline, "
        "and the delivery window must end after it starts."
    ),
    "ProcurementUnknownCfp": lambda a: f"There is no call for proposals {a['cfpId']}.",
    "EscrowNothingToWithdraw": lambda a: f"Account {a['account']} has nothing to withdraw from escrow.",
    "ERC20InsufficientAllowance": lambda a: (
        f"The escrow may only take {_money(a['allowance'])} of your tokens but needs {_money(a['needed'])}: "
        "approve the escrow for the order's amount first."
    ),
    "ERC20InsufficientBalance": lambda a: (
        f"Your token balance is {_money(a['balance'])} but {_money(a['needed'])} is needed."
    ),
    "CustodyTwinNotHolder": lambda a: (
        f"Only the holder of shipment {a['twinId']} ({a['holder']}) may hand it off; you are {a['caller']}."
    ),
}


@dataclass(frozen=True)
class CustomErrorSpec:
    contract: str
    name: str
    names: tuple[str, ...]
    types: tuple[str, ...]


class ErrorDecoder:
    """Custom errors by 4-byte selector, from ABIs."""

    def __init__(self, abis: Iterable[tuple[str, list[dict[str, Any]]]]) -> None:
        self._specs: dict[bytes, CustomErrorSpec] = {}
        for contract, abi in abis:
            for entry in abi:
                if entry.get("type") != "error":
                    continue
                types = tuple(_abi_type(i) for i in entry["inputs"])
                selector = keccak(text=f"{entry['name']}({','.join(types)})")[:4]
                names = tuple(i["name"] or f"arg{n}" for n, i in enumerate(entry["inputs"]))
                self._specs.setdefault(selector, CustomErrorSpec(contract, entry["name"], names, types))

    @classmethod
    def from_manifest(cls, manifest: DeploymentManifest) -> ErrorDecoder:
        return cls([*((name, c.abi) for name, c in manifest.contracts.items()), ("token", ERC20_ERRORS)])

    def decode(self, data: bytes) -> tuple[CustomErrorSpec, dict[str, Any]] | None:
        spec = self._specs.get(data[:4])
        if spec is None:
            return None
        try:
            values = abi_decode(list(spec.types), data[4:])
        except (DecodingError, ValueError):
            return None
        shown = [to_checksum_address(v) if t == "address" else v for t, v in zip(spec.types, values, strict=True)]
        return spec, dict(zip(spec.names, shown, strict=True))


def _abi_type(entry: Mapping[str, Any]) -> str:
    """Canonical type of an ABI input, tuples expanded (selectors hash the expanded form)."""
    kind = str(entry["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in entry["components"]) + ")" + kind[len("tuple") :]
    return kind


def _words(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()


def _custom_error_sentence(spec: CustomErrorSpec, args: Mapping[str, Any]) -> str:
    if spec.name in SENTENCES:
        return SENTENCES[spec.name](args)
    problem = (
        _words(spec.name.removeprefix(spec.contract)) if spec.name.startswith(spec.contract) else _words(spec.name)
    )
    detail = ", ".join(f"{k} {_show(v)}" for k, v in args.items())
    return f"The {spec.contract} contract refused: {problem}" + (f" ({detail})." if detail else ".")


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _revert_data(exc: ContractLogicError) -> bytes | None:
    data = exc.data
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None


def explain(exc: BaseException, decoder: ErrorDecoder | None = None) -> str:
    """One plain sentence for `exc`; nothing is lost: unknown errors keep their own message."""
    if isinstance(exc, WalletLockedError):
        return "Your keystore is locked: unlock it in the sidebar with its password before signing anything."
    if isinstance(exc, WalletError):
        return str(exc)
    if isinstance(exc, WrongNetworkError):
        return (
            f"Wrong network: the node at {exc.url} is chain {exc.actual}, but the deployment you picked is on "
            f"chain {exc.expected}. Pick the matching deployment or point the dapp at the right node."
        )
    if isinstance(exc, ManifestError):
        return f"The deployment manifest cannot be used: {exc}"
    if isinstance(exc, ApiUnavailableError):
        return f"The ASC API is not available: {exc}."
    if isinstance(exc, ApiError):
        detail = exc.problem.get("detail") or exc.problem.get("title") or exc.problem
        return f"The ASC API refused the request ({exc.status}): {detail}"
    if isinstance(exc, httpx.TransportError):
        return f"The ASC API does not answer ({type(exc).__name__}: {exc}); is it running at the configured URL?"
    if isinstance(exc, ContractPanicError):
        return f"The contract stopped with a panic: {exc.message or exc}."
    if isinstance(exc, ContractLogicError):
        data = _revert_data(exc)
        decoded = decoder.decode(data) if decoder is not None and data else None
        if decoded is not None:
            return _custom_error_sentence(*decoded)
        reason = (exc.message or str(exc)).removeprefix("execution reverted: ").removeprefix("execution reverted")
        return f"The transaction was reverted: {reason.strip() or 'no reason given'}."
    message = str(exc)
    if isinstance(exc, Web3RPCError | ValueError):
        if "insufficient funds" in message.lower():
            return (
                "Insufficient funds: your account does not hold enough of the chain's native currency to pay "
                "for gas (and any value sent)."
            )
        if "nonce" in message.lower():
            return (
                f"The node refused the transaction's nonce ({message}); another transaction from this account "
                "may be pending."
            )
    if isinstance(exc, TimeExhausted):
        return f"The transaction was sent but not mined in time: {message}. Check it on the chain before retrying."
    if isinstance(exc, (requests.ConnectionError, ConnectionError)):
        return f"The chain's node does not answer ({message}); is the RPC URL right and the node running?"
    if isinstance(exc, Web3Exception):
        return f"The node reported an error: {message}"
    return f"Unexpected error ({type(exc).__name__}): {message}"
