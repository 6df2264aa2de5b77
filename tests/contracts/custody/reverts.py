"""Assert a revert by its custom error, the way brownie 1.22 reports it.

Brownie decodes a custom error from the ABIs it has seen into `"<Name>: <arg>, <arg>"` with addresses in
lower case and bytes32 as a Python bytes literal (errors without arguments read `"<Name>: "`).
`reverts("CustodyTwinNotHolder", twin_id, caller, holder)` builds that exact string from plain values,
accounts, hex strings or bytes, so every test names the error and its data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import brownie
from hexbytes import HexBytes


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "address"):
        value = value.address
    if isinstance(value, str) and value.startswith("0x"):
        if len(value) == 42:
            return value.lower()
        return str(bytes(HexBytes(value)))
    if isinstance(value, bytes | bytearray):
        return str(bytes(value))
    return str(value)


def error_message(name: str, *args: Any) -> str:
    """The revert message brownie shows for custom error `name(args)`."""
    return f"{name}: {', '.join(_format(a) for a in args)}"


@contextmanager
def reverts(name: str, *args: Any) -> Iterator[None]:
    """Expect the block to revert with custom error `name` carrying exactly `args`."""
    with brownie.reverts(error_message(name, *args)):
        yield
