"""The main job until the agents exist: one scripted shipment through its whole life on the local chain.

    make demo        # = make deploy, then: brownie run scripts/demo.py --network asc-local

Reads the deployment manifest written by scripts/deploy.py, plays the story of scripts/lifecycle.py with
anvil's development accounts and the development oracle keys, prints each step, and writes a JSON summary to
.state/demo/order-<id>.json. The chain keeps its state on disk, so the history stays for the auditor.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from pathlib import Path

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

from offchain.devkeys import dev_oracle_accounts
from offchain.manifest import default_manifest_path, load_manifest
from offchain.storage.settings import StorageSettings
from offchain.storage.store import open_store
from scripts.deploy import DEV_ORACLES, ROOT, Suite
from scripts.lifecycle import UNIT, Actors, register_participants, run_lifecycle

log = logging.getLogger("asc.demo")


def suite_from_manifest(path: Path) -> Suite:
    manifest = load_manifest(path)
    if manifest.chain_id != web3.eth.chain_id:
        raise SystemExit(f"{path} is for chain {manifest.chain_id}, connected to {web3.eth.chain_id}")
    # persist=False: brownie 1.22.2's compiled deployment cache crashes on live networks (TOOLCHAIN.md quirks)
    at = lambda container, name: container.at(manifest.contract(name).address, persist=False)  # noqa: E731
    return Suite(
        token=TestStablecoin.at(manifest.token, persist=False),
        registry=at(ParticipantRegistry, "ParticipantRegistry"),
        escrow=at(Escrow, "Escrow"),
        custody=at(CustodyTwin, "CustodyTwin"),
        procurement=at(Procurement, "Procurement"),
        hub=at(VerdictHub, "VerdictHub"),
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = Path(os.environ.get("ASC_MANIFEST") or default_manifest_path(network.show_active(), ROOT))
    suite = suite_from_manifest(path)
    deployer = accounts[0]
    actors = Actors(wholesaler=accounts[1], suppliers=list(accounts[2:5]), carriers=list(accounts[5:7]))
    if suite.registry.participant(actors.wholesaler)["roles"] == 0:
        log.info("registering the wholesaler, 3 suppliers and 2 carriers in the participant registry")
        with contextlib.redirect_stdout(io.StringIO()):
            register_participants(suite, actors)
    oracles = dev_oracle_accounts(DEV_ORACLES, web3.eth.chain_id)
    store = open_store(StorageSettings())  # the embedded store in .state/evidence unless ASC_STORAGE_* says otherwise

    step = 0

    def progress(message: str) -> None:
        nonlocal step
        step += 1
        log.info("[%2d] %s", step, message)

    # brownie prints a banner per transaction on live networks whatever --silent says; the story's own
    # progress lines (stderr) are what a person wants to read.
    with contextlib.redirect_stdout(io.StringIO()):
        result = run_lifecycle(suite, deployer, actors, oracles, progress, store=store)
    settled = result.steps["delivery_settlement"][-1].events["OrderSettled"]
    summary = {
        "chain_id": web3.eth.chain_id,
        "manifest": str(path),
        "order_id": result.order_id,
        "twin_id": result.twin_id,
        "verdict_id": "0x" + result.verdict_id.hex(),
        "penalties_charged": settled["buyerRefund"] / UNIT,
        "settlement": {
            "supplier": settled["sellerPayout"] / UNIT,
            "carriers": settled["carriersPayout"] / UNIT,
            "wholesaler_refund": settled["buyerRefund"] / UNIT,
        },
        "transactions": {name: [tx.txid for tx in txs] for name, txs in result.steps.items()},
        "gas_used": sum(tx.gas_used for txs in result.steps.values() for tx in txs),
    }
    out = ROOT / ".state" / "demo" / f"order-{result.order_id}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    log.info("order %d delivered and settled; summary in %s", result.order_id, out)
