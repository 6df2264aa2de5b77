"""Command line of the orchestrator.

    python -m offchain.scenario run SCENARIO.yaml [--speed N] [--json OUT] [--keep-running]
                                                  [--chain URL --manifest PATH] [--dapp] [--run NAME]
    python -m offchain.scenario check-deployment MANIFEST --rpc URL   # exit 0 when it is live there

Without --chain it starts its own anvil and deploys the suite there (a headless run); with --chain (a running
local chain, e.g. `make chain`) and --manifest (its deployment, e.g. `make deploy`) it plays the scenario
there. Exit 0 when every expectation holds, 1 when one does not (the lines above say which) or the run
failed, 2 for bad input (the message names the file and the field), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError
from web3 import Web3

from offchain.manifest import ManifestError, load_manifest

from .run import EXIT_BAD_INPUT, RunOptions, ScenarioRun
from .settings import ScenarioSettings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m offchain.scenario", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="play a scenario with every part running, check its expectations")
    r.add_argument("scenario", type=Path)
    r.add_argument("--speed", type=float, help="simulated seconds per wall second (ASC_SCENARIO_SPEED, 60)")
    r.add_argument("--json", type=Path, dest="json_out", help="also write the JSON summary here")
    r.add_argument("--keep-running", action="store_true", help="keep every process running until Ctrl-C")
    r.add_argument("--chain", help="a running local chain to play on (default: an own anvil)")
    r.add_argument("--manifest", type=Path, help="the deployment on --chain to use (default: deploy)")
    r.add_argument("--deploy-to", type=Path, help="deploy a fresh suite and write its manifest here")
    r.add_argument("--dapp", action="store_true", help="start the dapp (frontend/app.py) if it exists")
    r.add_argument("--run", dest="run_name", help="name of the run's folder under ASC_SCENARIO_STATE_DIR")
    c = sub.add_parser("check-deployment", help="exit 0 if the manifest's contracts are live on the chain, else 1")
    c.add_argument("manifest", type=Path)
    c.add_argument("--rpc", required=True, help="the chain's JSON-RPC URL")
    return p


def check_deployment(manifest_path: Path, rpc_url: str) -> int:
    """Whether every contract of the manifest still has its recorded code on the chain. Plain web3 on purpose:
    after a sped-up run the chain's clock is ahead of the wall clock, which brownie's block cache mistakes for a
    slow chain (stale reads, then a nonce clash when it deploys again)."""
    try:
        manifest = load_manifest(manifest_path)
    except ManifestError as exc:
        print(f"no usable deployment: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10}))
    if not w3.is_connected() or int(w3.eth.chain_id) != manifest.chain_id:
        print(f"{manifest_path}: chain {manifest.chain_id} does not answer at {rpc_url}", file=sys.stderr)  # noqa: T201
        return 1
    for name, entry in manifest.contracts.items():
        code = w3.eth.get_code(Web3.to_checksum_address(entry.address))
        if not code or Web3.keccak(code).hex().removeprefix("0x") != entry.runtime_code_hash.removeprefix("0x"):
            print(f"{manifest_path}: {name} at {entry.address} is not the recorded code", file=sys.stderr)  # noqa: T201
            return 1
    print(f"deployment {manifest_path} is live on chain {manifest.chain_id}")  # noqa: T201
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = ScenarioSettings()
    except ValidationError as exc:
        print(f"error: invalid ASC_SCENARIO_ settings:\n{exc}", file=sys.stderr)  # noqa: T201
        return EXIT_BAD_INPUT
    if args.command == "check-deployment":
        return check_deployment(args.manifest, args.rpc)
    if args.speed is not None and args.speed <= 0:
        print("error: --speed must be > 0", file=sys.stderr)  # noqa: T201
        return EXIT_BAD_INPUT
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The progress lines are the output; library chatter stays at warnings.
    for noisy in ("httpx", "web3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    options = RunOptions(
        scenario_path=args.scenario,
        speed=args.speed,
        json_out=args.json_out,
        keep_running=args.keep_running,
        chain_url=args.chain,
        manifest=args.manifest,
        deploy_to=args.deploy_to,
        run_name=args.run_name,
        dapp=args.dapp,
    )
    return ScenarioRun(options, settings).execute()


if __name__ == "__main__":
    sys.exit(main())
