"""Fixtures for the evidence-store tests: a real js-ipfs node (session scoped) and stores on top of it.

The node tests are skipped only when the js-ipfs rig is not installed
(`offchain/storage/ipfs-node/install.sh`). CI installs it and sets ASC_TEST_REQUIRE_IPFS=1, which turns
that skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from offchain.storage.ipfs_node import INSTALL_SCRIPT, IpfsNode, is_installed
from offchain.storage.store import EmbeddedStore, IpfsStore


def pytest_configure(config: pytest.Config) -> None:
    # ipfshttpclient 0.7.0 still passes urllib3's removed `strict` argument on every request.
    config.addinivalue_line(
        "filterwarnings", "ignore:The 'strict' parameter is no longer needed:FutureWarning"
    )


@pytest.fixture(scope="session")
def jsipfs_installed() -> None:
    """Skip (or, with ASC_TEST_REQUIRE_IPFS=1, fail) tests that need the js-ipfs rig when it is missing."""
    if not is_installed():
        reason = f"js-ipfs test node not installed: run {INSTALL_SCRIPT}"
        if os.environ.get("ASC_TEST_REQUIRE_IPFS") == "1":
            pytest.fail(reason + " (ASC_TEST_REQUIRE_IPFS=1)")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def ipfs_node(jsipfs_installed: None) -> Iterator[IpfsNode]:
    with IpfsNode() as node:
        yield node


@pytest.fixture
def ipfs_store(ipfs_node: IpfsNode) -> Iterator[IpfsStore]:
    # Short node-side timeouts: the offline node never finds missing content, it only waits for it.
    store = IpfsStore(ipfs_node.api_multiaddr, http_timeout_s=120, fetch_timeout_s=1, has_timeout_s=0.5)
    yield store
    store.close()


@pytest.fixture
def embedded_store(tmp_path: Path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "evidence")
