"""Deploy the suite for a scenario run on its own local chain, as a subprocess (brownie as a library):

    python -m offchain.scenario.deploy RPC_URL MANIFEST PROJECT_DIR --oracles 3 --threshold 2

It calls scripts/deploy.py's `deploy_suite` and `build_manifest` (the wiring that ships) with an oracle set of
the first `--oracles` development oracle keys, funds those keys with ether for their submissions, and writes
the manifest. The network is declared in memory only (nothing lands in the machine-wide brownie network list)
and the contracts are compiled in PROJECT_DIR, a copy of the sources with a build folder of its own, so a run
never races a brownie run in the repository over build/; the copy persists, so it compiles once.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NETWORK = "asc-scenario"
ORACLE_ETHER_WEI = 10**19


def project_copy(work: Path) -> Path:
    """A copy of the contract sources with a build folder of its own, so a brownie run in a subprocess never
    shares (or races on) the repository's build/ with another run beside it. Made in a staging folder and
    renamed into place, so an interrupted copy is never taken for a finished one; it persists, so it compiles
    once."""
    if not (work / "brownie-config.yaml").exists():
        staging = work.with_name(work.name + ".staging")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        shutil.copytree(ROOT / "contracts", staging / "contracts")
        shutil.copytree(ROOT / "interfaces", staging / "interfaces", ignore=shutil.ignore_patterns("*.json"))
        shutil.copy(ROOT / "brownie-config.yaml", staging / "brownie-config.yaml")
        (staging / "node_modules").symlink_to(ROOT / "node_modules")
        staging.rename(work)
    return work


def deploy(rpc_url: str, manifest_path: Path, work: Path, oracles: int, threshold: int) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from brownie import network, project
    from brownie._config import CONFIG

    work.parent.mkdir(parents=True, exist_ok=True)
    with (work.parent / f"{work.name}.lock").open("w") as lock:
        # One run at a time uses the shared copy, from compile to the last deployment: brownie records live
        # deployments in its build folder whatever we patch, and a run beside would load those records.
        fcntl.flock(lock, fcntl.LOCK_EX)
        project_copy(work)
        os.chdir(work)  # brownie resolves the copy's `node_modules/...` remappings from the working directory
        # brownie caches live deployments per chain id and fails to connect once a cached address has no code
        # (every run starts a new chain with the same id); the manifest is the record, not that cache.
        shutil.rmtree(work / "build" / "deployments", ignore_errors=True)
        proj = project.load(work, name="AscScenarioProject")
        proj.load_config()
        proj._add_to_main_namespace()
        CONFIG.argv["silent"] = True
        # A chain whose clock a sped-up run moved ahead of the wall clock looks like a slow chain to brownie,
        # which then caches block queries: a stale nonce breaks the address prediction of deploy_suite.
        CONFIG.settings["eager_caching"] = False
        import brownie.network.contract as contract_module

        # brownie 1.22.2's compiled deployment cache raises in a thread for every contract on live networks
        # (the README's quirks); the manifest is the record, so that cache is not written at all.
        contract_module._add_deployment = lambda *_args, **_kwargs: None  # type: ignore[attr-defined]
        CONFIG.networks[NETWORK] = {"id": NETWORK, "host": rpc_url, "chainid": "31337", "name": NETWORK}
        network.connect(NETWORK)

        from brownie import accounts, web3

        from offchain.devkeys import dev_oracle_accounts
        from offchain.manifest import write_manifest
        from scripts.deploy import build_manifest, deploy_suite

        signers = dev_oracle_accounts(oracles, web3.eth.chain_id)
        with contextlib.redirect_stdout(io.StringIO()):  # brownie's per-transaction banners
            suite = deploy_suite(accounts[0], oracles=[o.address for o in signers], threshold=threshold)
            for signer in signers:
                accounts[0].transfer(signer.address, ORACLE_ETHER_WEI)
        manifest = build_manifest(suite, accounts[0].address, NETWORK, rpc_url)
        write_manifest(manifest, manifest_path)
        return {"manifest": str(manifest_path), "chain_id": manifest.chain_id, "oracles": len(signers),
                "k": threshold}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m offchain.scenario.deploy")
    parser.add_argument("rpc_url")
    parser.add_argument("manifest", type=Path)
    parser.add_argument("project_dir", type=Path)
    parser.add_argument("--oracles", type=int, default=3)
    parser.add_argument("--threshold", type=int, default=2)
    args = parser.parse_args()
    result = deploy(args.rpc_url, args.manifest.resolve(), args.project_dir.resolve(), args.oracles, args.threshold)
    print(json.dumps(result))  # noqa: T201 (the result read by the orchestrator)


if __name__ == "__main__":
    main()
