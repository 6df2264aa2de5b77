"""Evidence fetched from a real IPFS node (the js-ipfs test rig of offchain/storage), not only the embedded store.

Skipped, with the reason, when the rig is not installed; ASC_TEST_REQUIRE_IPFS=1 makes that a failure (CI).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from offchain.storage.cid import parse_cid
from offchain.storage.ipfs_node import INSTALL_SCRIPT, IpfsNode, is_installed
from offchain.storage.store import EmbeddedStore, IpfsStore
from tests.offchain.audit.conftest import Deployment, run_audit_cli


@pytest.fixture(scope="module")
def node_with_evidence(deployment: Deployment) -> Iterator[IpfsNode]:
    if not is_installed():
        reason = f"js-ipfs test node not installed: run {INSTALL_SCRIPT}"
        if os.environ.get("ASC_TEST_REQUIRE_IPFS") == "1":
            pytest.fail(reason + " (ASC_TEST_REQUIRE_IPFS=1)")
        pytest.skip(reason)
    with IpfsNode() as node:
        store = IpfsStore(node.api_multiaddr)
        try:
            store.put(EmbeddedStore(deployment.evidence).get(deployment.summary["evidence_cid"]))
        finally:
            store.close()
        yield node


def _ipfs_env(deployment: Deployment, node: IpfsNode) -> dict[str, str]:
    # Short node-side timeouts: an offline node never finds missing content, it only waits for it.
    return deployment.env(
        ASC_STORAGE_BACKEND="ipfs",
        ASC_STORAGE_IPFS_API=node.api_multiaddr,
        ASC_STORAGE_IPFS_FETCH_TIMEOUT_S="2",
        ASC_STORAGE_IPFS_HTTP_TIMEOUT_S="30",
    )


def test_evidence_fetched_from_an_ipfs_node_passes(deployment: Deployment, node_with_evidence: IpfsNode) -> None:
    run = run_audit_cli("--manifest", str(deployment.manifest), "--json", env=_ipfs_env(deployment, node_with_evidence))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.check("evidence")["status"] == "PASS"


def test_a_block_altered_on_the_ipfs_node_fails_naming_the_cid(
    deployment: Deployment, node_with_evidence: IpfsNode
) -> None:
    cid = deployment.summary["evidence_cid"]
    block = node_with_evidence.block_file(parse_cid(cid))
    original = block.read_bytes()
    try:
        block.write_bytes(original.replace(b'"temp_centi_c":650', b'"temp_centi_c":450'))
        run = run_audit_cli(
            "--manifest", str(deployment.manifest), "--json", env=_ipfs_env(deployment, node_with_evidence)
        )
    finally:
        block.write_bytes(original)
    assert run.returncode == 1
    (failure,) = run.failures("evidence")
    assert "altered" in failure["what"] and cid in failure["where"]
