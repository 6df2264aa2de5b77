"""Evidence stores: put bytes, get them back only if they still hash to their CID.

Two implementations share the CIDs of ``offchain.storage.cid``:

* ``EmbeddedStore``: a local content-addressed directory (the default when no IPFS node is configured);
* ``IpfsStore``: an IPFS node's RPC API (Kubo in production, js-ipfs in the tests).

Neither ever returns bytes that do not match the requested CID: an altered object raises ``IntegrityError``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import ipfshttpclient
from multiformats import CID

from offchain.storage.cid import CHUNK_SIZE_BYTES, CidLike, cid_to_text, compute_cid, parse_cid
from offchain.storage.errors import (
    CidMismatchError,
    ContentNotFoundError,
    IntegrityError,
    StoreUnavailableError,
)
from offchain.storage.settings import StorageSettings

logger = logging.getLogger(__name__)

T = TypeVar("T")


@runtime_checkable
class EvidenceStore(Protocol):
    def put(self, data: bytes) -> CID:
        """Store ``data`` and return its CID (idempotent)."""

    def get(self, cid: CidLike) -> bytes:
        """The bytes of ``cid``, verified against it (else ``ContentNotFoundError`` / ``IntegrityError``)."""

    def has(self, cid: CidLike) -> bool:
        """Whether the store holds ``cid`` now (without fetching it from elsewhere)."""

    def pin(self, cid: CidLike) -> None:
        """Make sure ``cid`` stays retrievable from this store; ``ContentNotFoundError`` if it is absent."""

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""


def _verified(cid: CID, data: bytes, source: str) -> bytes:
    actual = compute_cid(data)
    if actual != cid:
        raise IntegrityError(cid_to_text(cid), cid_to_text(actual), source)
    return data


class EmbeddedStore:
    """Objects as read-only files ``<directory>/objects/<shard>/<cid>``, written atomically.

    Nothing is ever garbage-collected here, so ``pin`` only checks that the object is present and intact.
    """

    def __init__(self, directory: Path) -> None:
        self._objects = Path(directory) / "objects"
        self._objects.mkdir(parents=True, exist_ok=True)

    def _path(self, cid: CID) -> Path:
        text = cid_to_text(cid)
        # Every base32 CID starts alike, so shard on the end, like IPFS's flatfs (next-to-last/2).
        return self._objects / text[-3:-1] / text

    def put(self, data: bytes) -> CID:
        cid = compute_cid(data)
        path = self._path(cid)
        if path.exists():
            if path.read_bytes() == data:
                return cid
            logger.warning("replacing altered copy of %s in %s", cid_to_text(cid), self._objects)
        self._write_atomically(path, data)
        return cid

    def _write_atomically(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp_name, 0o444)
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def get(self, cid: CidLike) -> bytes:
        parsed = parse_cid(cid)
        try:
            data = self._path(parsed).read_bytes()
        except FileNotFoundError:
            raise ContentNotFoundError(cid_to_text(parsed), f"not in {self._objects}") from None
        return _verified(parsed, data, f"embedded store {self._objects}")

    def has(self, cid: CidLike) -> bool:
        return self._path(parse_cid(cid)).is_file()

    def pin(self, cid: CidLike) -> None:
        self.get(cid)

    def close(self) -> None:
        """Nothing to release: every write is already durable."""


class IpfsStore:
    """An IPFS node's RPC API through ipfshttpclient.

    ``ipfshttpclient.connect()`` refuses daemons newer than 0.8 (js-ipfs reports 0.18), so the client is built
    directly; the RPC calls used here (add, cat, block/stat, pin/add) are the same on Kubo and js-ipfs.
    """

    ADD_OPTIONS: ClassVar[dict[str, str | int]] = {
        "cid-version": 1,
        "raw-leaves": "true",
        "chunker": f"size-{CHUNK_SIZE_BYTES}",
        "hash": "sha2-256",
        "pin": "true",
    }

    def __init__(
        self,
        api_multiaddr: str,
        *,
        http_timeout_s: float = 60.0,
        fetch_timeout_s: float = 20.0,
        has_timeout_s: float = 2.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api = api_multiaddr
        self._client = ipfshttpclient.Client(api_multiaddr, timeout=http_timeout_s)
        self._fetch_timeout = f"{fetch_timeout_s}s"
        self._has_timeout = f"{has_timeout_s}s"
        self._retries = retries
        self._backoff_s = backoff_s
        self._sleep = sleep

    def _call(self, action: str, request: Callable[[], T]) -> T:
        """Run one RPC call, retrying with exponential back-off while the node cannot be reached.

        Retrying is safe for every call here: adding, reading and pinning content-addressed data are
        idempotent.
        """
        for attempt in range(self._retries + 1):
            try:
                return request()
            except (ipfshttpclient.exceptions.ConnectionError, ipfshttpclient.exceptions.TimeoutError) as exc:
                if attempt == self._retries:
                    raise StoreUnavailableError(
                        f"IPFS node at {self._api} unreachable for {action} after {attempt + 1} attempts: "
                        f"{exc}"
                    ) from exc
                delay = self._backoff_s * 2**attempt
                logger.warning("IPFS %s failed (%s); retry %d in %.2fs", action, exc, attempt + 1, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")  # the loop either returns or raises

    def put(self, data: bytes) -> CID:
        local = compute_cid(data)
        returned: Any = self._call("add", lambda: self._client.add_bytes(data, opts=self.ADD_OPTIONS))
        node_cid = parse_cid(str(returned))
        if node_cid != local:
            raise CidMismatchError(cid_to_text(local), cid_to_text(node_cid))
        return local

    def get(self, cid: CidLike) -> bytes:
        parsed = parse_cid(cid)
        text = cid_to_text(parsed)
        try:
            data: bytes = self._call(
                "cat", lambda: self._client.cat(text, opts={"timeout": self._fetch_timeout})
            )
        except ipfshttpclient.exceptions.ErrorResponse as exc:
            raise ContentNotFoundError(text, f"IPFS node at {self._api}: {exc}") from exc
        return _verified(parsed, data, f"IPFS node at {self._api}")

    def has(self, cid: CidLike) -> bool:
        text = cid_to_text(cid)
        # Kubo answers from its local blockstore with offline=true; js-ipfs ignores the flag and waits for the
        # block, so there absence shows up as the node-side timeout.
        options = {"offline": "true", "timeout": self._has_timeout}
        try:
            self._call("block/stat", lambda: self._client.block.stat(text, opts=options))
        except ipfshttpclient.exceptions.ErrorResponse:
            return False
        return True

    def pin(self, cid: CidLike) -> None:
        text = cid_to_text(cid)
        try:
            self._call("pin/add", lambda: self._client.pin.add(text, opts={"timeout": self._fetch_timeout}))
        except ipfshttpclient.exceptions.ErrorResponse as exc:
            raise ContentNotFoundError(text, f"IPFS node at {self._api} cannot pin it: {exc}") from exc

    def close(self) -> None:
        self._client.close()


def open_store(settings: StorageSettings | None = None) -> EvidenceStore:
    """The store the settings describe (embedded unless an IPFS API is configured)."""
    settings = settings if settings is not None else StorageSettings()
    if settings.resolved_backend == "embedded":
        logger.info("evidence store: embedded directory %s", settings.directory)
        return EmbeddedStore(settings.directory)
    assert settings.ipfs_api is not None  # enforced by StorageSettings
    logger.info("evidence store: IPFS node at %s", settings.ipfs_api)
    return IpfsStore(
        settings.ipfs_api,
        http_timeout_s=settings.ipfs_http_timeout_s,
        fetch_timeout_s=settings.ipfs_fetch_timeout_s,
        has_timeout_s=settings.ipfs_has_timeout_s,
        retries=settings.ipfs_retries,
        backoff_s=settings.ipfs_backoff_s,
    )
