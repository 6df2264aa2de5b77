"""Gas of every step of a shipment's life, next to the floor the EVM cost schedule allows.

    make bench-gas        # prints a table and writes bench/results/gas.json

Deploys the suite on a throwaway anvil (brownie's `development` network), plays scripts/lifecycle.py (CFP,
3 sealed bids, award + escrow funding, 2 delivery tenders, 3 custody handoffs, one 3-of-5 oracle verdict,
delivery with settlement, withdrawals) and prices every transaction against its floor (bench/gasfloor.py:
21k + calldata, 20k per new storage slot, 3k per ecrecover, log costs), from the node's own traces.
Targets (ARCHITECTURE.md): lifecycle <= 1.35x floor; a 3-of-5 verdict < 81,000 gas including the 21k base.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "gas.json"
LIFECYCLE_TARGET = 1.35
VERDICT_TARGET = 81_000

log = logging.getLogger("asc.bench.gas")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.path.insert(0, str(ROOT))
    from brownie import network, project

    proj = project.load(ROOT, name="AscProject")
    proj.load_config()
    proj._add_to_main_namespace()  # so `from brownie import Escrow` works as under `brownie run`
    network.connect(os.environ.get("ASC_BENCH_NETWORK", "development"))
    try:
        return _run(proj)
    finally:
        network.disconnect()


def _run(proj: object) -> int:
    from brownie import accounts, web3

    from bench.gasfloor import TxFloor, tx_floor
    from offchain.devkeys import dev_oracle_accounts
    from scripts.deploy import DEV_ORACLES, DEV_THRESHOLD, deploy_suite
    from scripts.lifecycle import Actors, register_participants, run_lifecycle

    oracles = dev_oracle_accounts(DEV_ORACLES, web3.eth.chain_id)
    with contextlib.redirect_stdout(io.StringIO()):  # one table at the end, not brownie's line per transaction
        suite = deploy_suite(accounts[0], oracles=[o.address for o in oracles], threshold=DEV_THRESHOLD)
        actors = Actors(wholesaler=accounts[1], suppliers=list(accounts[2:5]), carriers=list(accounts[5:7]))
        register_participants(suite, actors)
        result = run_lifecycle(suite, accounts[0], actors, oracles, progress=lambda _: None)

    steps: dict[str, dict[str, object]] = {}
    total_gas = total_floor = 0
    verdict: TxFloor | None = None
    for name, txs in result.steps.items():
        floors = [tx_floor(web3, tx.txid) for tx in txs]
        gas, floor = sum(f.gas_used for f in floors), sum(f.floor for f in floors)
        total_gas, total_floor = total_gas + gas, total_floor + floor
        steps[name] = {
            "txs": len(txs),
            "gas": gas,
            "floor": floor,
            "ratio": round(gas / floor, 4),
            "per_tx": [f.as_dict() for f in floors],
        }
        if name == "verdict_3_of_5":
            verdict = floors[0]
    assert verdict is not None

    figures = {
        "lifecycle": {
            "gas": total_gas,
            "floor": total_floor,
            "ratio": round(total_gas / total_floor, 4),
            "txs": sum(len(t) for t in result.steps.values()),
            "target_ratio": LIFECYCLE_TARGET,
        },
        "verdict_3_of_5": {"gas": verdict.gas_used, "floor": verdict.floor, "target": VERDICT_TARGET},
        "steps": {name: s["gas"] for name, s in steps.items()},
        "detail": steps,
        "chain": {"node": web3.client_version, "chain_id": web3.eth.chain_id},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n")

    log.info("%-22s %4s %10s %10s %6s", "step", "txs", "gas", "floor", "ratio")
    for name, s in steps.items():
        log.info("%-22s %4d %10d %10d %6.3f", name, s["txs"], s["gas"], s["floor"], s["ratio"])
    life = figures["lifecycle"]
    log.info(
        "%-22s %4d %10d %10d %6.3f  (target <= %.2f)",
        "LIFECYCLE",
        life["txs"],
        life["gas"],
        life["floor"],
        life["ratio"],
        LIFECYCLE_TARGET,
    )
    log.info("3-of-5 verdict: %d gas (target < %d)", verdict.gas_used, VERDICT_TARGET)
    log.info("saved %s", OUT.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
