"""Readable names for addresses: the registry's roles of the account, or a short address."""

from __future__ import annotations

from frontend import ledger
from offchain.audit.history import History


def directory(history: History) -> dict[str, str]:
    return {
        p.account: f"{'/'.join(p.roles) or 'participant'} {p.account[:6]}…{p.account[-4:]}"
        for p in ledger.participants(history)
    }


def name(names: dict[str, str], address: str) -> str:
    if address == "broadcast":
        return "everyone"
    return names.get(address, f"{address[:6]}…{address[-4:]}" if address.startswith("0x") else address)
