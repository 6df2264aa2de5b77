"""Pure-Python CIDs that match what an IPFS node computes for the same bytes.

The parameters are the ones the store always asks the node for (``cid-version=1``, ``raw-leaves=true``,
``chunker=size-262144``, sha2-256, balanced layout):

* data that fits one 256 KiB chunk (including the empty string) is a single raw block:
  ``CIDv1(raw, sha2-256(data))``;
* larger data is cut into 256 KiB raw leaves and linked by dag-pb/UnixFS ``File`` nodes of at most 174 links,
  built bottom-up in consecutive groups (the balanced layout of Kubo and js-ipfs), the root being
  ``CIDv1(dag-pb, sha2-256(root block))``.

On-chain form (``cid_to_bytes32`` / ``bytes32_to_cid``): a verdict carries ``bytes32 evidenceHash``, the raw
sha2-256 digest of the evidence bytes. For a one-block object this is exactly the digest inside its CID, and
the codec (raw) and hash function (sha2-256) are fixed by this convention, so an auditor rebuilds the CID from
the bytes32 alone: ``CIDv1(raw, multihash(sha2-256, bytes32))``. A multi-block CID cannot be recovered from 32
bytes without also knowing it is dag-pb, and its digest is not the hash of the content, so evidence objects
are kept to one block (``MAX_ONE_BLOCK_BYTES``) and ``cid_to_bytes32`` refuses anything else with a clear
error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from multiformats import CID, multihash

from offchain.storage.errors import InvalidCidError

CHUNK_SIZE_BYTES = 262_144
MAX_LINKS_PER_NODE = 174
MAX_ONE_BLOCK_BYTES = CHUNK_SIZE_BYTES

RAW_CODEC = "raw"
DAG_PB_CODEC = "dag-pb"
HASH_FUNCTION = "sha2-256"
CID_BASE = "base32"

_UNIXFS_TYPE_FILE = 2

CidLike = CID | str | bytes


@dataclass(frozen=True)
class _DagNode:
    cid: CID
    file_size: int  # bytes of content below this node
    tree_size: int  # block size plus the sizes of all blocks below: dag-pb's Tsize


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_bytes(field_number: int, payload: bytes) -> bytes:
    return _varint(field_number << 3 | 2) + _varint(len(payload)) + payload


def _field_varint(field_number: int, value: int) -> bytes:
    return _varint(field_number << 3) + _varint(value)


def _make_cid(codec: str, block: bytes) -> CID:
    digest = hashlib.sha256(block).digest()
    return CID(CID_BASE, 1, codec, multihash.wrap(digest, HASH_FUNCTION))


def _encode_file_node(children: Sequence[_DagNode]) -> bytes:
    # UnixFS Data (Type, filesize, blocksizes unpacked as proto2 does) inside a PBNode whose Links come before
    # Data on the wire, each link with an empty Name: the byte layout both Kubo and @ipld/dag-pb write.
    unixfs = _field_varint(1, _UNIXFS_TYPE_FILE) + _field_varint(3, sum(c.file_size for c in children))
    unixfs += b"".join(_field_varint(4, child.file_size) for child in children)
    links = b"".join(
        _field_bytes(
            2, _field_bytes(1, bytes(child.cid)) + _field_bytes(2, b"") + _field_varint(3, child.tree_size)
        )
        for child in children
    )
    return links + _field_bytes(1, unixfs)


def _parent(children: Sequence[_DagNode]) -> _DagNode:
    block = _encode_file_node(children)
    return _DagNode(
        cid=_make_cid(DAG_PB_CODEC, block),
        file_size=sum(c.file_size for c in children),
        tree_size=len(block) + sum(c.tree_size for c in children),
    )


def compute_cid(data: bytes) -> CID:
    """The CIDv1 an IPFS node returns for ``add(data, cid-version=1, raw-leaves=true)``."""
    if len(data) <= CHUNK_SIZE_BYTES:
        return _make_cid(RAW_CODEC, data)
    level = [
        _DagNode(_make_cid(RAW_CODEC, chunk), len(chunk), len(chunk))
        for chunk in (data[i : i + CHUNK_SIZE_BYTES] for i in range(0, len(data), CHUNK_SIZE_BYTES))
    ]
    while len(level) > 1:
        level = [_parent(level[i : i + MAX_LINKS_PER_NODE]) for i in range(0, len(level), MAX_LINKS_PER_NODE)]
    return level[0].cid


def parse_cid(value: CidLike) -> CID:
    """A CID from its text form (any multibase, CIDv0 or v1), its binary form, or a CID object."""
    if isinstance(value, CID):
        return value
    try:
        return CID.decode(value)
    except Exception as exc:  # multiformats raises several unrelated types for malformed input
        raise InvalidCidError(f"not a valid CID: {value!r}: {exc}") from exc


def cid_to_text(value: CidLike) -> str:
    """The canonical text form used in logs, file names and events: CIDv1, base32."""
    cid = parse_cid(value)
    if cid.version == 0:
        cid = cid.set(version=1)
    return str(cid.set(base=CID_BASE))


def cid_to_bytes32(value: CidLike) -> bytes:
    """The 32 bytes put on-chain for a one-block (raw, sha2-256) CID: the sha2-256 digest of the content."""
    cid = parse_cid(value)
    if cid.codec.name != RAW_CODEC or cid.hashfun.name != HASH_FUNCTION:
        raise InvalidCidError(
            f"{cid} is {cid.codec.name}/{cid.hashfun.name}; only one-block raw sha2-256 CIDs fit the "
            f"on-chain bytes32 (evidence objects must be at most {MAX_ONE_BLOCK_BYTES} bytes)"
        )
    return bytes(cid.raw_digest)


def bytes32_to_cid(value: bytes) -> CID:
    """The CID an on-chain bytes32 stands for: CIDv1(raw, sha2-256 digest = the bytes32)."""
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise InvalidCidError(f"an on-chain evidence hash is exactly 32 bytes, got {value!r}")
    return CID(CID_BASE, 1, RAW_CODEC, multihash.wrap(bytes(value), HASH_FUNCTION))
