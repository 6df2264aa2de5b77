"""Deploy and wire the ASC suite on the active brownie network and write its deployment manifest.

    brownie run scripts/deploy.py --network asc-local      # the persistent local chain (make deploy)
    brownie run scripts/deploy.py --network my-node        # any other network: encrypted keystore required

On a local chain (chain id 1337/31337) it deploys a TestStablecoin, uses anvil's public development accounts
and a 3-of-5 development oracle set. On any other chain it needs (environment):

    ASC_DEPLOYER_KEYSTORE   encrypted JSON keystore of the deployer (password: ASC_DEPLOYER_PASSWORD or asked)
    ASC_TOKEN               address of the ERC-20 orders settle in
    ASC_ORACLES             comma-separated oracle signer addresses
    ASC_ORACLE_THRESHOLD    signatures needed per verdict
    ASC_ADMIN               optional: the admin (e.g. a multisig) that receives every admin role; the deployer
                            then renounces its own

Re-running is idempotent: when the network's manifest exists and every contract in it still has the code it
records, nothing is deployed again (ASC_REDEPLOY=1 forces a fresh suite). ASC_MANIFEST overrides where the
manifest is written (default .state/deployments/<network>.json).
"""

from __future__ import annotations

import contextlib
import getpass
import io
import logging
import os
import subprocess
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import rlp
from brownie import (
    CustodyTwin,
    Escrow,
    ParticipantRegistry,
    Procurement,
    TestStablecoin,
    VerdictHub,
    accounts,
    network,
    web3,
)
from brownie.network.account import Account as BrownieAccount
from brownie.network.contract import ProjectContract
from eth_utils.address import to_canonical_address, to_checksum_address
from eth_utils.crypto import keccak

from offchain.devkeys import LOCAL_CHAIN_IDS, dev_oracle_accounts
from offchain.manifest import (
    SCHEMA,
    DeployedContract,
    DeploymentManifest,
    ManifestError,
    default_manifest_path,
    load_manifest,
    write_manifest,
)

log = logging.getLogger("asc.deploy")

ROOT = Path(__file__).resolve().parent.parent
# After the delivery deadline plus this grace, a buyer may cancel a picked-up order that never arrived.
DELIVERY_GRACE_SECONDS = 7 * 24 * 3600
# Commit, reveal and award periods of the calls for proposals opened by a reroute verdict.
REROUTE_PERIODS = (15 * 60, 15 * 60, 30 * 60)
DEV_ORACLES = 5
DEV_THRESHOLD = 3


class DeployError(RuntimeError):
    """The deployment cannot proceed; the message says what to set or fix."""


@dataclass(frozen=True)
class Suite:
    """The deployed, wired contracts."""

    token: Any
    registry: Any
    escrow: Any
    custody: Any
    procurement: Any
    hub: Any

    def deployed_by_us(self) -> dict[str, ProjectContract]:
        named = {f.name: getattr(self, f.name) for f in fields(self)}
        by_name = {c._name: c for c in named.values() if isinstance(c, ProjectContract)}
        return by_name


def create_address(sender: str, nonce: int) -> str:
    """The address a CREATE from `sender` at `nonce` deploys to: keccak256(rlp([sender, nonce]))[12:]."""
    digest = keccak(rlp.encode([to_canonical_address(sender), nonce]))
    return to_checksum_address(digest[12:])


def deploy_suite(
    deployer: BrownieAccount,
    token: Any = None,
    oracles: list[str] | tuple[str, ...] = (),
    threshold: int = 0,
    admin: str | None = None,
) -> Suite:
    """Deploy every contract, wire them and install the oracle set.

    Used by this script, by the demo, by the benchmarks and by the integration tests, so they all test the
    wiring that ships. Escrow takes its three callers (Procurement, CustodyTwin, VerdictHub) and CustodyTwin
    its minter (Procurement) and hold keeper (VerdictHub) as immutables: they are deployed later, so their
    addresses are predicted from the deployer's nonce and checked once they exist (DeployError if anything
    else spent a nonce in between).
    """
    tx = {"from": deployer}
    if token is None:
        token = TestStablecoin.deploy(deployer, tx)
    registry = ParticipantRegistry.deploy(deployer, tx)
    nonce = deployer.nonce
    order = ("Escrow", "CustodyTwin", "Procurement", "VerdictHub")
    planned = {name: create_address(deployer.address, nonce + offset) for offset, name in enumerate(order)}
    hooks = (planned["Procurement"], planned["CustodyTwin"], planned["VerdictHub"])
    escrow = Escrow.deploy(token, DELIVERY_GRACE_SECONDS, *hooks, tx)
    custody = CustodyTwin.deploy(deployer, escrow, planned["Procurement"], planned["VerdictHub"], tx)
    procurement = Procurement.deploy(registry, escrow, custody, deployer, REROUTE_PERIODS, tx)
    hub = VerdictHub.deploy(deployer, escrow, custody, procurement, tx)
    deployed = {"Escrow": escrow, "CustodyTwin": custody, "Procurement": procurement, "VerdictHub": hub}
    for name, contract in deployed.items():
        if contract.address != planned[name]:
            raise DeployError(
                f"{name} deployed at {contract.address}, but Escrow was built for {planned[name]}: another "
                f"transaction from {deployer.address} used a nonce during the deployment; deploy again"
            )
    wiring = [
        (escrow, "PROCUREMENT", procurement),
        (escrow, "CUSTODY", custody),
        (escrow, "VERDICT_HUB", hub),
        (custody, "escrow", escrow),
        (custody, "MINTER", procurement),
        (custody, "HOLD_KEEPER", hub),
    ]
    for holder, getter, contract in wiring:
        if getattr(holder, getter)() != contract.address:
            raise DeployError(f"{holder._name}.{getter} is not {contract.address}")

    procurement.grantRole(procurement.REROUTE_ROLE(), hub, tx)
    if oracles:
        hub.setOracleSet(list(oracles), threshold, tx)

    if admin is not None and admin != deployer.address:
        # Escrow has no admin: its callers are immutable.
        for contract in (registry, custody, procurement, hub):
            role = contract.DEFAULT_ADMIN_ROLE()
            contract.grantRole(role, admin, tx)
            contract.renounceRole(role, deployer, tx)
    return Suite(token, registry, escrow, custody, procurement, hub)


def build_manifest(suite: Suite, deployer: str, network_name: str, rpc_hint: str | None) -> DeploymentManifest:
    contracts = {}
    for name, contract in suite.deployed_by_us().items():
        code = web3.eth.get_code(contract.address)
        contracts[name] = DeployedContract(
            address=contract.address,
            deploy_block=contract.tx.block_number,
            deploy_tx=contract.tx.txid,
            runtime_code_hash=web3.keccak(code).hex(),
            abi=contract.abi,
        )
    return DeploymentManifest.model_validate(
        {
            "schema": SCHEMA,
            "network": network_name,
            "chain_id": web3.eth.chain_id,
            "rpc_hint": rpc_hint,
            "deployer": deployer,
            "deployed_at": int(time.time()),
            "source_commit": _source_commit(),
            "token": suite.token.address,
            "contracts": contracts,
        }
    )


def manifest_is_live(manifest: DeploymentManifest) -> bool:
    """True when the chain still has, at every recorded address, exactly the recorded code."""
    if manifest.chain_id != web3.eth.chain_id:
        return False
    for entry in manifest.contracts.values():
        code = web3.eth.get_code(entry.address)
        if not code or web3.keccak(code).hex() != entry.runtime_code_hash:
            return False
    return True


def _source_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def _env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise DeployError(f"{name} must be set to deploy on chain {web3.eth.chain_id} (see scripts/deploy.py)")
    return value


def _live_deployer() -> BrownieAccount:
    keystore = _env("ASC_DEPLOYER_KEYSTORE")
    if not Path(keystore).is_file():
        raise DeployError(f"ASC_DEPLOYER_KEYSTORE={keystore} is not a file")
    password = os.environ.get("ASC_DEPLOYER_PASSWORD") or getpass.getpass(f"password for {keystore}: ")
    try:
        return accounts.load(keystore, password)
    except ValueError as exc:
        raise DeployError(f"cannot unlock {keystore}: {exc}") from exc


def main() -> DeploymentManifest:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    network_name = network.show_active()
    chain_id = web3.eth.chain_id
    local = chain_id in LOCAL_CHAIN_IDS
    path = Path(os.environ.get("ASC_MANIFEST") or default_manifest_path(network_name, ROOT))

    if path.exists() and os.environ.get("ASC_REDEPLOY") != "1":
        try:
            existing = load_manifest(path)
        except ManifestError as exc:
            raise DeployError(f"{exc}; fix or remove it, or set ASC_REDEPLOY=1") from exc
        if manifest_is_live(existing):
            log.info(
                "suite already deployed on %s (chain %d), manifest %s: nothing to do", network_name, chain_id, path
            )
            return existing
        log.info("manifest %s does not match chain %d any more (state reset?): deploying afresh", path, chain_id)

    if local:
        deployer = accounts[0]
        token = None
        oracles = [a.address for a in dev_oracle_accounts(DEV_ORACLES, chain_id)]
        threshold = DEV_THRESHOLD
        admin = None
    else:
        deployer = _live_deployer()
        token = _env("ASC_TOKEN")
        oracles = [a.strip() for a in _env("ASC_ORACLES").split(",") if a.strip()]
        threshold = int(_env("ASC_ORACLE_THRESHOLD"))
        admin = os.environ.get("ASC_ADMIN") or None

    log.info("deploying the ASC suite on %s (chain %d) from %s ...", network_name, chain_id, deployer.address)
    if token is not None:
        from brownie import Contract

        token = Contract.from_abi("ERC20", token, TestStablecoin.abi)
    with contextlib.redirect_stdout(io.StringIO()):  # brownie's per-transaction banners; our log says it all
        suite = deploy_suite(deployer, token, oracles, threshold, admin)
    rpc_hint = getattr(web3.provider, "endpoint_uri", None)
    manifest = build_manifest(suite, deployer.address, network_name, rpc_hint)
    write_manifest(manifest, path)
    for name, entry in sorted(manifest.contracts.items()):
        log.info("  %-20s %s (block %d)", name, entry.address, entry.deploy_block)
    log.info("oracle set: %d-of-%d; manifest written to %s", threshold, len(oracles), path)
    return manifest
