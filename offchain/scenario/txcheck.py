"""No duplicated transactions: every transaction an agent's key got mined is checked against the chain and the
agent's own journal (offchain/agents/txs.py, table `actions`: one idempotency key, the hashes it signed).

A crash between recording an action and its receipt must never yield a second transaction for the same
action: every transaction mined from the agent's key belongs to exactly one journal key, and no key has two
mined transactions. Identical calls are counted for information only: some are legitimately repeated
(`withdraw()` after each settlement).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from web3 import Web3


def sent_transactions(w3: Web3, senders: set[str], from_block: int) -> dict[str, list[dict[str, Any]]]:
    """Every transaction mined from `senders` since `from_block`: {sender: [{hash, to, input}]}."""
    wanted = {Web3.to_checksum_address(s) for s in senders}
    found: dict[str, list[dict[str, Any]]] = {s: [] for s in wanted}
    for number in range(from_block, int(w3.eth.block_number) + 1):
        block = w3.eth.get_block(number, full_transactions=True)
        for raw in block["transactions"]:
            tx = cast(Mapping[str, Any], raw)  # full_transactions=True: mappings, not hashes
            sender = Web3.to_checksum_address(tx["from"])
            if sender in wanted:
                found[sender].append(
                    {"hash": "0x" + bytes(tx["hash"]).hex(), "to": tx["to"], "input": bytes(tx["input"]).hex()}
                )
    return found


def journal_hashes(db: Path) -> dict[str, list[str]]:
    """{idempotency key: every hash it signed} from an agent's SQLite journal (read-only)."""
    if not db.exists():
        return {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT key, tx_hash, all_hashes FROM actions").fetchall()
    keys: dict[str, list[str]] = {}
    for key, tx_hash, all_hashes in rows:
        hashes = {h.lower() for h in json.loads(all_hashes or "[]")}
        if tx_hash:
            hashes.add(tx_hash.lower())
        keys[key] = sorted(hashes)
    return keys


def check_agent(name: str, mined: list[dict[str, Any]], keys: dict[str, list[str]]) -> dict[str, Any]:
    calls = Counter((t["to"], t["input"]) for t in mined)
    repeated_calls = sum(n - 1 for n in calls.values() if n > 1)
    owner = {h: key for key, hashes in keys.items() for h in hashes}
    mined_hashes = [t["hash"].lower() for t in mined]
    unjournaled = [h for h in mined_hashes if h not in owner]
    per_key = Counter(owner[h] for h in mined_hashes if h in owner)
    keys_with_two = sorted(k for k, n in per_key.items() if n > 1)
    return {
        "agent": name,
        "mined": len(mined),
        "journal_keys": len(keys),
        "repeated_calls": repeated_calls,
        "unjournaled": unjournaled,
        "keys_with_two_transactions": keys_with_two,
        "ok": not unjournaled and not keys_with_two,
    }
