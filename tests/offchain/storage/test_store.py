from __future__ import annotations

import json
import logging
import random
import stat
from contextlib import ExitStack
from pathlib import Path

import ipfshttpclient
import pytest

from offchain.storage.cid import CHUNK_SIZE_BYTES, cid_to_text, compute_cid
from offchain.storage.errors import (
    CidMismatchError,
    ContentNotFoundError,
    IntegrityError,
    InvalidCidError,
    StoreUnavailableError,
)
from offchain.storage.ipfs_node import IpfsNode
from offchain.storage.settings import StorageSettings
from offchain.storage.store import EmbeddedStore, EvidenceStore, IpfsStore, open_store
from tests.chain_support import free_port
from tests.offchain.storage.rewriting_proxy import proxy_multiaddr, rewriting_proxy

EVIDENCE = b'{"model_version":"iforest-3","temp_mC":9100}'
MULTI_BLOCK = random.Random(1).randbytes(1 << 20)  # four distinct leaves under one dag-pb node
ABSENT_CID = compute_cid(b"never stored anywhere")


def _overwrite(path: Path, data: bytes) -> None:
    path.chmod(0o644)
    path.write_bytes(data)


def _object_file(store_dir: Path, data: bytes) -> Path:
    text = cid_to_text(compute_cid(data))
    return store_dir / "objects" / text[-3:-1] / text


# ---------------------------------------------------------------- embedded store


def test_embedded_store_is_an_evidence_store(embedded_store: EmbeddedStore) -> None:
    assert isinstance(embedded_store, EvidenceStore)


def test_embedded_put_returns_the_computed_cid(embedded_store: EmbeddedStore) -> None:
    assert embedded_store.put(EVIDENCE) == compute_cid(EVIDENCE)


def test_embedded_round_trip(embedded_store: EmbeddedStore) -> None:
    assert embedded_store.get(embedded_store.put(EVIDENCE)) == EVIDENCE


def test_embedded_round_trip_multi_block(embedded_store: EmbeddedStore) -> None:
    assert embedded_store.get(embedded_store.put(MULTI_BLOCK)) == MULTI_BLOCK


def test_embedded_round_trip_empty(embedded_store: EmbeddedStore) -> None:
    assert embedded_store.get(embedded_store.put(b"")) == b""


def test_embedded_get_accepts_any_cid_form(embedded_store: EmbeddedStore) -> None:
    cid = embedded_store.put(EVIDENCE)
    assert embedded_store.get(cid.encode("base58btc")) == EVIDENCE
    assert embedded_store.get(bytes(cid)) == EVIDENCE


def test_embedded_objects_survive_a_new_instance(tmp_path: Path) -> None:
    cid = EmbeddedStore(tmp_path).put(EVIDENCE)
    assert EmbeddedStore(tmp_path).get(cid) == EVIDENCE


def test_embedded_put_is_idempotent(embedded_store: EmbeddedStore, tmp_path: Path) -> None:
    embedded_store.put(EVIDENCE)
    assert embedded_store.put(EVIDENCE) == compute_cid(EVIDENCE)
    assert _object_file(tmp_path / "evidence", EVIDENCE).read_bytes() == EVIDENCE


def test_embedded_objects_are_read_only(embedded_store: EmbeddedStore, tmp_path: Path) -> None:
    embedded_store.put(EVIDENCE)
    mode = _object_file(tmp_path / "evidence", EVIDENCE).stat().st_mode
    assert stat.S_IMODE(mode) == 0o444


def test_embedded_put_leaves_no_temporary_files(embedded_store: EmbeddedStore, tmp_path: Path) -> None:
    embedded_store.put(EVIDENCE)
    embedded_store.put(MULTI_BLOCK)
    files = sorted(p.name for p in (tmp_path / "evidence").rglob("*") if p.is_file())
    assert files == sorted([cid_to_text(compute_cid(EVIDENCE)), cid_to_text(compute_cid(MULTI_BLOCK))])


def test_embedded_get_detects_altered_bytes(embedded_store: EmbeddedStore, tmp_path: Path) -> None:
    cid = embedded_store.put(EVIDENCE)
    altered = EVIDENCE.replace(b"9100", b"2100")
    _overwrite(_object_file(tmp_path / "evidence", EVIDENCE), altered)
    with pytest.raises(IntegrityError, match="content altered") as info:
        embedded_store.get(cid)
    assert (info.value.expected_cid, info.value.actual_cid) == (
        cid_to_text(cid),
        cid_to_text(compute_cid(altered)),
    )


def test_embedded_get_detects_truncated_bytes(embedded_store: EmbeddedStore, tmp_path: Path) -> None:
    cid = embedded_store.put(MULTI_BLOCK)
    _overwrite(_object_file(tmp_path / "evidence", MULTI_BLOCK), MULTI_BLOCK[:-1])
    with pytest.raises(IntegrityError):
        embedded_store.get(cid)


def test_embedded_put_replaces_an_altered_copy(
    embedded_store: EmbeddedStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cid = embedded_store.put(EVIDENCE)
    _overwrite(_object_file(tmp_path / "evidence", EVIDENCE), b"garbage")
    with caplog.at_level(logging.WARNING, logger="offchain.storage.store"):
        embedded_store.put(EVIDENCE)
    assert embedded_store.get(cid) == EVIDENCE
    assert f"replacing altered copy of {cid_to_text(cid)}" in caplog.text


def test_embedded_get_missing_raises_not_found(embedded_store: EmbeddedStore) -> None:
    with pytest.raises(ContentNotFoundError, match=f"content {cid_to_text(ABSENT_CID)} not found") as info:
        embedded_store.get(ABSENT_CID)
    assert info.value.cid == cid_to_text(ABSENT_CID)


def test_embedded_get_rejects_invalid_cid(embedded_store: EmbeddedStore) -> None:
    with pytest.raises(InvalidCidError):
        embedded_store.get("not-a-cid")


def test_embedded_has_stored_object(embedded_store: EmbeddedStore) -> None:
    assert embedded_store.has(embedded_store.put(EVIDENCE))


def test_embedded_has_not_absent_object(embedded_store: EmbeddedStore) -> None:
    assert not embedded_store.has(ABSENT_CID)


def test_embedded_pin_accepts_stored_object(embedded_store: EmbeddedStore) -> None:
    cid = embedded_store.put(EVIDENCE)
    embedded_store.pin(cid)
    assert embedded_store.get(cid) == EVIDENCE


def test_embedded_pin_missing_raises_not_found(embedded_store: EmbeddedStore) -> None:
    with pytest.raises(ContentNotFoundError):
        embedded_store.pin(ABSENT_CID)


def test_embedded_pin_detects_altered_bytes(embedded_store: EmbeddedStore, tmp_path: Path) -> None:
    cid = embedded_store.put(EVIDENCE)
    _overwrite(_object_file(tmp_path / "evidence", EVIDENCE), b"garbage")
    with pytest.raises(IntegrityError):
        embedded_store.pin(cid)


# ---------------------------------------------------------------- IPFS store against the real node


def test_ipfs_store_is_an_evidence_store(ipfs_store: IpfsStore) -> None:
    assert isinstance(ipfs_store, EvidenceStore)


def test_ipfs_put_returns_the_computed_cid(ipfs_store: IpfsStore) -> None:
    assert ipfs_store.put(EVIDENCE) == compute_cid(EVIDENCE)


def test_ipfs_round_trip(ipfs_store: IpfsStore) -> None:
    assert ipfs_store.get(ipfs_store.put(EVIDENCE)) == EVIDENCE


def test_ipfs_round_trip_multi_block(ipfs_store: IpfsStore) -> None:
    assert ipfs_store.get(ipfs_store.put(MULTI_BLOCK)) == MULTI_BLOCK


def test_ipfs_and_embedded_stores_agree_on_cids(ipfs_store: IpfsStore, embedded_store: EmbeddedStore) -> None:
    assert ipfs_store.put(MULTI_BLOCK) == embedded_store.put(MULTI_BLOCK)


def test_ipfs_get_missing_raises_not_found(ipfs_store: IpfsStore) -> None:
    with pytest.raises(ContentNotFoundError, match=f"content {cid_to_text(ABSENT_CID)} not found: IPFS node"):
        ipfs_store.get(ABSENT_CID)


def test_ipfs_get_rejects_invalid_cid(ipfs_store: IpfsStore) -> None:
    with pytest.raises(InvalidCidError):
        ipfs_store.get("not-a-cid")


def test_ipfs_has_stored_object(ipfs_store: IpfsStore) -> None:
    assert ipfs_store.has(ipfs_store.put(EVIDENCE))


def test_ipfs_has_not_absent_object(ipfs_store: IpfsStore) -> None:
    assert not ipfs_store.has(ABSENT_CID)


def _pinned_on_node(node: IpfsNode, text: str) -> bool:
    with ipfshttpclient.Client(node.api_multiaddr, timeout=30) as client:
        try:
            client.pin.ls(text, type="recursive")
        except ipfshttpclient.exceptions.ErrorResponse:
            return False
        return True


def test_ipfs_put_pins_on_the_node(ipfs_store: IpfsStore, ipfs_node: IpfsNode) -> None:
    cid = ipfs_store.put(b"pinned by put")
    assert _pinned_on_node(ipfs_node, cid_to_text(cid))


def test_ipfs_pin_pins_content_added_without_pin(ipfs_store: IpfsStore, ipfs_node: IpfsNode) -> None:
    data = b"added elsewhere without a pin"
    with ipfshttpclient.Client(ipfs_node.api_multiaddr, timeout=30) as client:
        text = client.add_bytes(data, opts={**IpfsStore.ADD_OPTIONS, "pin": "false"})
    assert not _pinned_on_node(ipfs_node, text)
    ipfs_store.pin(text)
    assert _pinned_on_node(ipfs_node, text)


def test_ipfs_pin_missing_raises_not_found(ipfs_store: IpfsStore) -> None:
    with pytest.raises(ContentNotFoundError, match="cannot pin it"):
        ipfs_store.pin(ABSENT_CID)


def test_ipfs_get_detects_a_block_altered_on_the_node(ipfs_store: IpfsStore, ipfs_node: IpfsNode) -> None:
    data = b'{"temp_mC":9100,"tampered":false}'
    cid = ipfs_store.put(data)
    ipfs_node.block_file(cid).write_bytes(data.replace(b"9100", b"2100"))
    with pytest.raises(IntegrityError, match=r"IPFS node at .* content altered"):
        ipfs_store.get(cid)


def test_ipfs_get_detects_a_leaf_altered_on_the_node(ipfs_store: IpfsStore, ipfs_node: IpfsNode) -> None:
    data = random.Random(2).randbytes(1 << 20)
    cid = ipfs_store.put(data)
    second_leaf = data[CHUNK_SIZE_BYTES : 2 * CHUNK_SIZE_BYTES]
    ipfs_node.block_file(compute_cid(second_leaf)).write_bytes(b"\x00" * CHUNK_SIZE_BYTES)
    with pytest.raises(IntegrityError):
        ipfs_store.get(cid)


def _flip_last_byte_of_cat(path: str, body: bytes) -> bytes:
    return body[:-1] + bytes([body[-1] ^ 1]) if path == "/api/v0/cat" and body else body


def test_ipfs_get_detects_wrong_bytes_served_by_the_node(ipfs_store: IpfsStore, ipfs_node: IpfsNode) -> None:
    cid = ipfs_store.put(EVIDENCE)
    with rewriting_proxy(ipfs_node.api_multiaddr, _flip_last_byte_of_cat) as proxy:
        lying_store = IpfsStore(proxy_multiaddr(proxy))
        with pytest.raises(IntegrityError):
            lying_store.get(cid)


def _substitute_added_cid(path: str, body: bytes) -> bytes:
    if path != "/api/v0/add":
        return body
    entries = [json.loads(line) for line in body.splitlines() if line.strip()]
    for entry in entries:
        entry["Hash"] = cid_to_text(ABSENT_CID)
    return b"\n".join(json.dumps(entry).encode() for entry in entries) + b"\n"


def test_ipfs_put_detects_a_node_returning_another_cid(ipfs_node: IpfsNode) -> None:
    with rewriting_proxy(ipfs_node.api_multiaddr, _substitute_added_cid) as proxy:
        lying_store = IpfsStore(proxy_multiaddr(proxy))
        with pytest.raises(CidMismatchError, match=f"returned {cid_to_text(ABSENT_CID)}") as info:
            lying_store.put(EVIDENCE)
    assert info.value.local_cid == cid_to_text(compute_cid(EVIDENCE))


def test_ipfs_unreachable_node_raises_after_backing_off() -> None:
    delays: list[float] = []
    store = IpfsStore(
        f"/ip4/127.0.0.1/tcp/{free_port()}/http", retries=3, backoff_s=0.01, sleep=delays.append
    )
    with pytest.raises(StoreUnavailableError, match="unreachable for add after 4 attempts"):
        store.put(EVIDENCE)
    assert delays == [0.01, 0.02, 0.04]


def test_ipfs_store_retries_until_the_node_is_reachable(ipfs_node: IpfsNode) -> None:
    port = free_port()
    with ExitStack() as stack:

        def node_comes_up_while_waiting(_delay: float) -> None:
            # The first connection was refused; the node's API appears on that port during the back-off.
            stack.enter_context(rewriting_proxy(ipfs_node.api_multiaddr, lambda _path, body: body, port=port))

        store = IpfsStore(f"/ip4/127.0.0.1/tcp/{port}/http", retries=1, sleep=node_comes_up_while_waiting)
        assert store.get(store.put(EVIDENCE)) == EVIDENCE


# ---------------------------------------------------------------- choosing a store


def test_open_store_defaults_to_embedded(tmp_path: Path) -> None:
    store = open_store(StorageSettings(directory=tmp_path))
    assert isinstance(store, EmbeddedStore)


def test_open_store_uses_the_node_when_an_api_is_configured(ipfs_node: IpfsNode) -> None:
    store = open_store(StorageSettings(ipfs_api=ipfs_node.api_multiaddr))
    assert isinstance(store, IpfsStore)
    assert store.get(store.put(EVIDENCE)) == EVIDENCE
    store.close()
