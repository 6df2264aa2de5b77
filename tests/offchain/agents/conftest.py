"""Real parts for the agent tests: one anvil (ports 9200-9299), the suite deployed once per session, and an
`evm_snapshot`/`evm_revert` around every test that needs the chain, so each starts from the fresh deployment."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from offchain.manifest import DeploymentManifest, load_manifest
from tests.chain_support import ROOT, anvil, free_port, tool_env

CHAIN_ID = 31337
PORTS = range(9200, 9300)


class Node:
    def __init__(self, url: str, manifest: DeploymentManifest) -> None:
        self.url = url
        self.manifest = manifest
        self.w3 = Web3(Web3.HTTPProvider(url))

    def rpc(self, method: str, *params: Any) -> Any:
        response = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        if "error" in response:
            raise RuntimeError(f"{method}: {response['error']}")
        return response["result"]


def _build_cache() -> Path:
    """A compiled copy of the contracts kept between sessions, named by a hash of the sources (a change
    compiles a fresh copy): compiling costs ~30 s of a shared CPU."""
    digest = hashlib.sha256()
    for path in sorted([*(ROOT / "contracts").rglob("*.sol"), *(ROOT / "interfaces").rglob("*.sol"),
                        ROOT / "brownie-config.yaml"]):
        digest.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    return ROOT / ".state" / "test-cache" / f"agents-{digest.hexdigest()[:16]}"


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    work = tmp_path_factory.mktemp("agents-chain")
    manifest = work / "manifest.json"
    project = _build_cache()
    with anvil(free_port(PORTS), CHAIN_ID) as url:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("chain_setup.py")), url, str(manifest),
             str(project)],
            cwd=ROOT, env=tool_env(PYTHONPATH=str(ROOT), BROWNIE_NO_UPDATE="1"), capture_output=True, text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"deploying the suite failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        yield Node(url, load_manifest(manifest))


@pytest.fixture
def chain_node(node: Node) -> Iterator[Node]:
    """The deployed chain, reverted after the test to the state before it."""
    snapshot = node.rpc("evm_snapshot")
    try:
        yield node
    finally:
        node.rpc("evm_revert", snapshot)


@pytest.fixture
def world(chain_node: Node, tmp_path: Path) -> Any:
    """Agents + LocalWorld on the fresh chain: two carriers' trucks; the wholesaler and the retailer funded."""
    from tests.offchain.agents.harness import UNIT, World

    w = World(chain_node.url, chain_node.manifest, tmp_path)
    w.sim.add_vehicle("truck-a1", carrier="carrier-a", at="crossdock_bar_hill", precooled_c=2.0)
    w.sim.add_vehicle("truck-b1", carrier="carrier-b", at="supplier_newmarket", precooled_c=2.0)
    w.mint(w.account(1).address, 1_000 * 60 * UNIT)
    w.mint(w.account(7).address, 100 * 80 * UNIT)
    return w
