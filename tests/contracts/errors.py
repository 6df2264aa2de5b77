"""Assert a revert by its custom error and exact arguments: one helper for every contract test suite.

brownie 1.22 decodes a typed error into `revert_msg` as "Name: arg, ..." with the error ABIs it has seen.
`reverts(name, *args)` ABI-encodes the expected error from the project's own error ABIs (so a wrong name,
selector or argument type fails loudly) and decodes it the same way brownie does, then compares. Arguments may
be plain values, brownie accounts or contracts (their address), and bytes or hex strings for `bytesN`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import eth_abi
from brownie import project
from brownie.exceptions import VirtualMachineError, decode_typed_error
from eth_utils import keccak
from hexbytes import HexBytes


@cache
def _error_abis() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for container in project.get_loaded_projects()[0]:
        for item in container.abi:
            if item.get("type") == "error":
                found.setdefault(item["name"], item)
    return found


def _types(inputs: list[dict[str, Any]]) -> list[str]:
    out = []
    for i in inputs:
        if i["type"].startswith("tuple"):
            out.append("(" + ",".join(_types(i["components"])) + ")" + i["type"][5:])
        else:
            out.append(i["type"])
    return out


def _plain(value: Any, abi_type: str) -> Any:
    if hasattr(value, "address"):
        return value.address
    if abi_type.startswith("bytes") and isinstance(value, str):
        return bytes(HexBytes(value))
    return value


def error_data(name: str, *args: Any) -> str:
    """Revert data of custom error `name(args)`, from the project's ABIs."""
    abi = _error_abis()[name]
    types = _types(abi["inputs"])
    selector = keccak(text=f"{name}({','.join(types)})")[:4]
    values = [_plain(v, t) for v, t in zip(args, types, strict=True)]
    return "0x" + (selector + eth_abi.encode(types, values)).hex()


@contextmanager
def reverts(name: str, *args: Any) -> Iterator[None]:
    """Asserts the block reverts with custom error `name` carrying exactly `args`."""
    try:
        yield
    except VirtualMachineError as exc:
        expected = decode_typed_error(error_data(name, *args))
        assert exc.revert_msg == expected, f"reverted with {exc.revert_msg!r}, expected {expected!r}"
    else:
        raise AssertionError(f"did not revert (expected {name})")
