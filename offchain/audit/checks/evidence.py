"""Evidence: every verdict's evidenceHash names a one-block CID; fetch it, re-hash it, check it is canonical JSON.

The store re-hashes on every read (`EvidenceStore.get` never returns bytes that do not match the CID), and this
check hashes the bytes once more itself, so a lenient store cannot make an altered object pass.
"""

from __future__ import annotations

import hashlib

from offchain.audit.findings import CheckResult
from offchain.audit.history import History
from offchain.storage.canonical import CanonicalJsonError, decode
from offchain.storage.cid import bytes32_to_cid, cid_to_text
from offchain.storage.errors import ContentNotFoundError, IntegrityError, StorageError
from offchain.storage.store import EvidenceStore


def check(history: History, store: EvidenceStore) -> CheckResult:
    result = CheckResult("evidence", "Evidence objects fetched, re-hashed and matched to the on-chain hash")
    for order in history.orders.values():
        for event in order.verdicts:
            if event.name != "VerdictAccepted":
                continue
            result.checked += 1
            digest = bytes(event.args["evidenceHash"])
            cid = cid_to_text(bytes32_to_cid(digest))
            vid = "0x" + bytes(event.args["verdictId"]).hex()
            where = f"verdict {vid} of order {event.args['orderId']}, evidence CID {cid} ({event.where})"
            try:
                data = store.get(cid)
            except IntegrityError as exc:
                result.fail(f"evidence object altered in the store: {exc}", where)
                continue
            except ContentNotFoundError as exc:
                result.fail(f"evidence object missing from the store: {exc}", where)
                continue
            except StorageError as exc:
                result.fail(f"evidence store error: {exc}", where)
                continue
            if hashlib.sha256(data).digest() != digest:
                result.fail("the store returned bytes whose sha-256 differs from the on-chain evidenceHash", where)
                continue
            try:
                decode(data)
            except (CanonicalJsonError, ValueError) as exc:
                result.fail(f"evidence bytes match the hash but are not canonical JSON: {exc}", where)
                continue
            result.ok(f"{len(data)} bytes, sha-256 matches, canonical JSON", where)
    if result.checked == 0:
        result.note("no verdict, so no evidence to fetch", "VerdictHub")
    return result
