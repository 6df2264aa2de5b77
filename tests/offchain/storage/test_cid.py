from __future__ import annotations

import hashlib
import random

import ipfshttpclient
import pytest
from multiformats import CID, multihash

from offchain.storage.canonical import encode_evidence
from offchain.storage.cid import (
    CHUNK_SIZE_BYTES,
    MAX_LINKS_PER_NODE,
    bytes32_to_cid,
    cid_to_bytes32,
    cid_to_text,
    compute_cid,
    parse_cid,
)
from offchain.storage.errors import InvalidCidError
from offchain.storage.ipfs_node import IpfsNode
from offchain.storage.store import IpfsStore

# Returned by js-ipfs 0.66.1 (`add`, cid-version=1, raw-leaves) for these inputs, recorded once so the pure
# computation is pinned even where no node is installed; the node tests below recompute them live.
RECORDED_NODE_CIDS = [
    (b"", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
    (b"abcdefghijklmnopqrstuvwxyz", "zb2rheJP3xD9A3QycUsb33BxCzHXitBNQtZgffiZpoRJjHABk"),
    (b"x" * CHUNK_SIZE_BYTES, "zb2rhkytez13dCiSxs7dekDx19rRVpVdW1wZ48iCH1nj4o5Va"),
    (b"x" * (CHUNK_SIZE_BYTES + 1), "zdj7Wj1P7SKDb9HrFWsiyDWTv9K4v6eyKTuXZAsg5AsRxKRq4"),
]

EVIDENCE_26_BYTES = encode_evidence({"node": "or-1", "t_mC": -12})

# Sizes around every layout boundary: empty, one small block, exactly one chunk, one byte over, several
# chunks, a full first level (174 chunks), one chunk more (second level), and 50 MB (191 chunks, two levels).
NODE_SIZES = [
    0,
    26,
    CHUNK_SIZE_BYTES,
    CHUNK_SIZE_BYTES + 1,
    1_000_000,
    MAX_LINKS_PER_NODE * CHUNK_SIZE_BYTES,
    MAX_LINKS_PER_NODE * CHUNK_SIZE_BYTES + 1,
    50_000_000,
]


def ipfs_node_add(node: IpfsNode, data: bytes) -> CID:
    """The CID the node returns, straight from its RPC API with the store's add options."""
    with ipfshttpclient.Client(node.api_multiaddr, timeout=300) as client:
        return parse_cid(client.add_bytes(data, opts=IpfsStore.ADD_OPTIONS))


def _random_bytes(size: int) -> bytes:
    # Distinct chunks, so a wrong order or grouping of leaves changes the root.
    return random.Random(size).randbytes(size)


@pytest.mark.parametrize(("data", "node_cid"), RECORDED_NODE_CIDS)
def test_compute_cid_matches_recorded_node_cids(data: bytes, node_cid: str) -> None:
    assert compute_cid(data) == parse_cid(node_cid)


def test_compute_cid_of_one_block_is_raw_sha256() -> None:
    cid = compute_cid(EVIDENCE_26_BYTES)
    assert (cid.version, cid.codec.name, cid.hashfun.name) == (1, "raw", "sha2-256")
    assert bytes(cid.raw_digest) == hashlib.sha256(EVIDENCE_26_BYTES).digest()


def test_compute_cid_of_more_than_one_block_is_dag_pb() -> None:
    assert compute_cid(b"x" * (CHUNK_SIZE_BYTES + 1)).codec.name == "dag-pb"


def test_compute_cid_depends_on_chunk_order() -> None:
    first, second = b"a" * CHUNK_SIZE_BYTES, b"b" * CHUNK_SIZE_BYTES
    assert compute_cid(first + second) != compute_cid(second + first)


def test_evidence_fixture_is_26_bytes() -> None:
    assert len(EVIDENCE_26_BYTES) == 26


@pytest.mark.parametrize("size", NODE_SIZES)
def test_compute_cid_equals_the_real_node(ipfs_node: IpfsNode, size: int) -> None:
    data = _random_bytes(size)
    node_cid = ipfs_node_add(ipfs_node, data)
    assert compute_cid(data) == node_cid


def test_compute_cid_of_26_byte_evidence_equals_the_real_node(ipfs_node: IpfsNode) -> None:
    assert compute_cid(EVIDENCE_26_BYTES) == ipfs_node_add(ipfs_node, EVIDENCE_26_BYTES)


def test_parse_cid_accepts_any_base_and_binary() -> None:
    cid = compute_cid(b"abc")
    assert parse_cid(cid.encode("base58btc")) == cid
    assert parse_cid(bytes(cid)) == cid
    assert parse_cid(cid) is cid


@pytest.mark.parametrize("value", ["", "bogus", "bafy", b"\x01\x02"])
def test_parse_cid_rejects_malformed_input(value: str | bytes) -> None:
    with pytest.raises(InvalidCidError, match="not a valid CID"):
        parse_cid(value)


def test_cid_to_text_is_base32_cidv1() -> None:
    assert cid_to_text("zb2rheJP3xD9A3QycUsb33BxCzHXitBNQtZgffiZpoRJjHABk") == (
        "bafkreidrysan7e6wvyxr56wrir6gnskslyyweggpkh6i3hwyglznv4mlom"
    )


def test_cid_to_text_upgrades_cidv0() -> None:
    cid_v0 = CID("base58btc", 0, "dag-pb", multihash.digest(b"node", "sha2-256"))
    assert cid_to_text(cid_v0).startswith("bafybei")


def test_bytes32_round_trip() -> None:
    cid = compute_cid(EVIDENCE_26_BYTES)
    assert bytes32_to_cid(cid_to_bytes32(cid)) == cid


def test_cid_to_bytes32_is_the_sha256_of_the_content() -> None:
    assert cid_to_bytes32(compute_cid(EVIDENCE_26_BYTES)) == hashlib.sha256(EVIDENCE_26_BYTES).digest()


def test_bytes32_to_cid_gives_the_text_an_auditor_looks_up() -> None:
    digest = hashlib.sha256(b"abcdefghijklmnopqrstuvwxyz").digest()
    assert str(bytes32_to_cid(digest)) == "bafkreidrysan7e6wvyxr56wrir6gnskslyyweggpkh6i3hwyglznv4mlom"


def test_cid_to_bytes32_rejects_multi_block_cids() -> None:
    with pytest.raises(InvalidCidError, match="dag-pb/sha2-256; only one-block raw sha2-256 CIDs fit"):
        cid_to_bytes32(compute_cid(b"x" * (CHUNK_SIZE_BYTES + 1)))


def test_cid_to_bytes32_rejects_other_hash_functions() -> None:
    cid = CID("base32", 1, "raw", multihash.digest(b"abc", "sha2-512"))
    with pytest.raises(InvalidCidError, match="raw/sha2-512"):
        cid_to_bytes32(cid)


@pytest.mark.parametrize("value", [b"", b"\x00" * 31, b"\x00" * 33])
def test_bytes32_to_cid_rejects_wrong_lengths(value: bytes) -> None:
    with pytest.raises(InvalidCidError, match="exactly 32 bytes"):
        bytes32_to_cid(value)


def test_bytes32_to_cid_rejects_text() -> None:
    with pytest.raises(InvalidCidError, match="exactly 32 bytes"):
        bytes32_to_cid("ab" * 16)  # type: ignore[arg-type]
