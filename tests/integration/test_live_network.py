"""scripts/deploy.py against a separately started node declared as a brownie *live* network.

A node we start ourselves (anvil on a free port, chain id 4242: not a local development chain, so the deploy
script refuses development keys), an encrypted keystore deployer, an existing ERC-20, then:
1. `brownie run scripts/deploy.py --network <live>` deploys and writes the manifest;
2. a second process, knowing nothing but the manifest, reconnects and reads state and events back;
3. running the deploy again is idempotent (nothing redeployed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from tests.chain_support import ROOT, anvil, brownie_network, free_port, tool_env

CHAIN_ID = 4242
PASSWORD = "correct horse battery staple"


def _brownie(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["brownie", *args], cwd=ROOT, env=env or tool_env(), capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def node() -> Iterator[str]:
    with anvil(free_port(), CHAIN_ID) as url:
        yield url


@pytest.fixture(scope="module")
def live_network(node: str) -> Iterator[str]:
    with brownie_network(f"asc-live-test-{os.getpid()}", node, CHAIN_ID) as name:
        yield name


@pytest.fixture(scope="module")
def deployer(node: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A fresh key, funded on the node, saved as an encrypted keystore."""
    account = Account.create()
    w3 = Web3(Web3.HTTPProvider(node))
    w3.provider.make_request("anvil_setBalance", [account.address, hex(10**20)])  # type: ignore[arg-type]
    keystore = tmp_path_factory.mktemp("keys") / "deployer.json"
    keystore.write_text(json.dumps(Account.encrypt(account.key, PASSWORD)))
    return account.address, keystore


@pytest.fixture(scope="module")
def token(node: str, deployer: tuple[str, Path]) -> str:
    """An ERC-20 that exists before the suite (deployed here with the test stablecoin's compiled artefact)."""
    compiled = _brownie("compile")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    artefact = json.loads((ROOT / "build" / "contracts" / "TestStablecoin.json").read_text())
    w3 = Web3(Web3.HTTPProvider(node))
    funder = w3.eth.accounts[0]
    factory = w3.eth.contract(abi=artefact["abi"], bytecode=artefact["bytecode"])
    tx = factory.constructor(funder).transact({"from": funder})
    return str(w3.eth.wait_for_transaction_receipt(tx)["contractAddress"])


@pytest.fixture(scope="module")
def deployment(
    live_network: str, deployer: tuple[str, Path], token: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str], subprocess.CompletedProcess[str]]:
    manifest = tmp_path_factory.mktemp("deploy") / "manifest.json"
    oracles = [Account.create().address for _ in range(3)]
    env = tool_env() | {
        "ASC_DEPLOYER_KEYSTORE": str(deployer[1]),
        "ASC_DEPLOYER_PASSWORD": PASSWORD,
        "ASC_TOKEN": token,
        "ASC_ORACLES": ",".join(oracles),
        "ASC_ORACLE_THRESHOLD": "2",
        "ASC_MANIFEST": str(manifest),
    }
    result = _brownie("run", "scripts/deploy.py", "--network", live_network, "--silent", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return manifest, env, result


def test_the_manifest_describes_the_live_deployment(deployment, deployer, token) -> None:
    manifest = json.loads(deployment[0].read_text())
    assert manifest["chain_id"] == CHAIN_ID
    assert manifest["deployer"] == deployer[0]
    assert manifest["token"] == token
    assert "TestStablecoin" not in manifest["contracts"]  # the existing token is used, not a new one
    assert set(manifest["contracts"]) == {"ParticipantRegistry", "Escrow", "CustodyTwin", "Procurement", "VerdictHub"}


READER = """
import json, sys
from web3 import Web3
from offchain.manifest import load_manifest
m = load_manifest(sys.argv[1])
w3 = Web3(Web3.HTTPProvider(sys.argv[2]))
assert w3.eth.chain_id == m.chain_id
hub_entry = m.contract("VerdictHub")
hub = w3.eth.contract(address=hub_entry.address, abi=hub_entry.abi)
escrow = w3.eth.contract(address=m.contract("Escrow").address, abi=m.contract("Escrow").abi)
events = hub.events.OracleSetChanged().get_logs(from_block=m.first_block)
print(json.dumps({
    "threshold": hub.functions.oracleConfig().call()[1],
    "signers": hub.functions.signers().call(),
    "oracle_set_events": len(events),
    "escrow_token": escrow.functions.token().call(),
    "escrow_trusts_the_hub": escrow.functions.VERDICT_HUB().call() == hub.address,
    "code_matches": all(
        Web3.keccak(w3.eth.get_code(c.address)).hex() == c.runtime_code_hash for c in m.contracts.values()),
}))
"""


def test_a_second_process_reconnects_from_the_manifest_alone(deployment, node, token) -> None:
    out = subprocess.run(
        [sys.executable, "-c", READER, str(deployment[0]), node],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=tool_env(),
    )
    assert out.returncode == 0, out.stderr
    state = json.loads(out.stdout.strip().splitlines()[-1])
    assert state["threshold"] == 2 and len(state["signers"]) == 3
    assert state["oracle_set_events"] == 1
    assert state["escrow_token"] == token
    assert state["escrow_trusts_the_hub"] is True
    assert state["code_matches"] is True


def test_deploying_again_is_idempotent(deployment, live_network) -> None:
    before = deployment[0].read_text()
    again = _brownie("run", "scripts/deploy.py", "--network", live_network, "--silent", env=deployment[1])
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to do" in again.stderr
    assert deployment[0].read_text() == before


def test_development_keys_are_refused_without_a_keystore(live_network, deployment, tmp_path) -> None:
    env = {k: v for k, v in deployment[1].items() if k != "ASC_DEPLOYER_KEYSTORE"}
    env["ASC_MANIFEST"] = str(tmp_path / "other.json")
    refused = _brownie("run", "scripts/deploy.py", "--network", live_network, "--silent", env=env)
    assert refused.returncode != 0
    assert "ASC_DEPLOYER_KEYSTORE must be set" in refused.stdout + refused.stderr
