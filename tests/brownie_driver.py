"""The start every brownie test driver shares (tests/frontend/scenario.py, tests/offchain/audit/scenario.py): the
repository's project loaded and connected to a declared network, the suite deployed by scripts/deploy.py with the
dev oracle set, the manifest written."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Deployed:
    project: Any
    suite: Any
    deployer: Any
    accounts: Any
    oracles: list[Any]


def deploy_on(
    network_name: str, manifest_path: Path, project_name: str, token: Callable[[Any, Any], Any] | None = None
) -> Deployed:
    """`token(project, deployer)` deploys the escrow token (None: the suite's TestStablecoin)."""
    from brownie import network, project

    loaded = project.load(ROOT, name=project_name)
    loaded._add_to_main_namespace()  # scripts.deploy imports the containers from `brownie`, as `brownie run` does
    network.connect(network_name)

    from brownie import accounts, web3

    from offchain.devkeys import dev_oracle_accounts
    from offchain.manifest import write_manifest
    from scripts.deploy import DEV_ORACLES, DEV_THRESHOLD, build_manifest, deploy_suite

    deployer = accounts[0]
    oracles = dev_oracle_accounts(DEV_ORACLES, web3.eth.chain_id)
    with contextlib.redirect_stdout(io.StringIO()):
        escrow_token = token(loaded, deployer) if token is not None else None
        suite = deploy_suite(deployer, escrow_token, [o.address for o in oracles], DEV_THRESHOLD)
    write_manifest(build_manifest(suite, deployer.address, network_name, web3.provider.endpoint_uri), manifest_path)
    return Deployed(loaded, suite, deployer, accounts, oracles)
