"""Readable names for addresses: the name an agent registered under (metadata URI ``asc-agent:NAME``, see
offchain/agents/runtime.py), else the registry's roles of the account and a short address."""

from __future__ import annotations

from frontend import ledger
from offchain.audit.history import History

AGENT_URI = "asc-agent:"


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def directory(history: History) -> dict[str, str]:
    found: dict[str, str] = {}
    for p in ledger.participants(history):
        roles = "/".join(p.roles) or "participant"
        agent = p.metadata_uri[len(AGENT_URI) :].strip() if p.metadata_uri.startswith(AGENT_URI) else ""
        found[p.account] = f"{agent} ({roles})" if agent else f"{roles} {_short(p.account)}"
    return found


def name(names: dict[str, str], address: str) -> str:
    if address == "broadcast":
        return "everyone"
    return names.get(address, _short(address) if address.startswith("0x") else address)
