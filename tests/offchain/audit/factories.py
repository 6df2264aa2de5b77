"""Synthetic chain events for the unit tests of the checks (the end-to-end tests use a real chain)."""

from __future__ import annotations

from itertools import count
from typing import Any

from offchain.audit.events import ChainEvent
from offchain.audit.history import History, rebuild

_positions = count(1)

SELLER = "0x" + "11" * 20
CARRIER = "0x" + "22" * 20
BUYER = "0x" + "33" * 20
STRANGER = "0x" + "44" * 20
ESCROW = "0x" + "55" * 20


def event(contract: str, name: str, tx: str | None = None, **args: Any) -> ChainEvent:
    position = next(_positions)
    return ChainEvent(
        contract=contract,
        name=name,
        args=args,
        block_number=position,
        log_index=0,
        tx_hash=tx or f"0x{position:064x}",
        address="0x" + "99" * 20,
    )


def history(*events: ChainEvent, transfers: tuple[ChainEvent, ...] = ()) -> History:
    return rebuild(31337, 1_000, list(events), list(transfers))
