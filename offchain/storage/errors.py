"""Errors of the evidence store. Each one names the CID involved so a caller can log or retry precisely."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every evidence-store error."""


class InvalidCidError(StorageError, ValueError):
    """A CID (or on-chain bytes32) that cannot be parsed or has parameters the store does not use."""


class ContentNotFoundError(StorageError, LookupError):
    """The store does not hold (or could not fetch in time) the content of a CID."""

    def __init__(self, cid: str, detail: str = "") -> None:
        self.cid = cid
        super().__init__(f"content {cid} not found" + (f": {detail}" if detail else ""))


class IntegrityError(StorageError):
    """Bytes that do not hash to the CID they were stored or served under. They are never returned."""

    def __init__(self, expected_cid: str, actual_cid: str, source: str) -> None:
        self.expected_cid = expected_cid
        self.actual_cid = actual_cid
        super().__init__(f"{source} holds bytes for {actual_cid} under {expected_cid}: content altered")


class CidMismatchError(StorageError):
    """The node computed another CID for the bytes we added than the local computation."""

    def __init__(self, local_cid: str, node_cid: str) -> None:
        self.local_cid = local_cid
        self.node_cid = node_cid
        super().__init__(
            f"IPFS node returned {node_cid} but the local computation gives {local_cid}: the node does not "
            "use cid-version=1, raw-leaves, 256 KiB chunks and sha2-256 as requested"
        )


class StoreUnavailableError(StorageError):
    """The store could not be reached (after retries)."""
