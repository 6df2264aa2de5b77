"""Deploy the suite for the agent tests, as a subprocess (brownie as a library):

    python tests/offchain/agents/chain_setup.py RPC_URL MANIFEST WORK

The wiring that ships (scripts/deploy.py `deploy_suite`, `build_manifest`) with a 3-of-5 dev oracle set. The
contract sources are compiled in a copy at WORK with its own build folder (kept between sessions), so a brownie
run going on beside never shares the repository's build/. The network is declared in memory only.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NETWORK = "asc-agents-test"


def main(rpc_url: str, manifest_path: str, work: str) -> None:
    sys.path.insert(0, str(ROOT))
    from brownie import network, project
    from brownie._config import CONFIG

    from offchain.scenario.deploy import project_copy

    copy = project_copy(Path(work))
    # brownie caches live deployments per chain id and crashes on connect when a cached address has no code
    # (every session starts a new chain with the same id); the manifest is our record, not that cache.
    shutil.rmtree(copy / "build" / "deployments", ignore_errors=True)
    proj = project.load(copy, name="AscAgentsProject")
    proj.load_config()
    proj._add_to_main_namespace()
    CONFIG.argv["silent"] = True
    CONFIG.networks[NETWORK] = {"id": NETWORK, "host": rpc_url, "chainid": "31337", "name": NETWORK}
    network.connect(NETWORK)

    from brownie import accounts, web3

    from offchain.devkeys import dev_oracle_accounts
    from offchain.manifest import write_manifest
    from scripts.deploy import DEV_ORACLES, DEV_THRESHOLD, build_manifest, deploy_suite

    oracles = dev_oracle_accounts(DEV_ORACLES, web3.eth.chain_id)
    with contextlib.redirect_stdout(io.StringIO()):
        suite = deploy_suite(accounts[0], oracles=[o.address for o in oracles], threshold=DEV_THRESHOLD)
    write_manifest(build_manifest(suite, accounts[0].address, NETWORK, rpc_url), manifest_path)
    print(json.dumps({"hub": suite.hub.address}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
