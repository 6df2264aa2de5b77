"""Test driver: deploy the suite on a brownie network with the backdoor token as the escrow token, play the
lifecycle of scripts/lifecycle.py with a REAL evidence object, then leave a second order funded in escrow.

    python -m tests.offchain.audit.scenario NETWORK MANIFEST EVIDENCE_DIR     (prints a JSON summary last)

scripts/lifecycle.py submits a made-up evidence hash; here its `submit_verdict` is wrapped so the verdict
carries the sha-256 of a canonical evidence object stored in an EmbeddedStore, as an oracle node would do.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any


def main(network_name: str, manifest_path: Path, evidence_dir: Path) -> dict[str, Any]:
    from tests.brownie_driver import deploy_on

    deployed = deploy_on(
        network_name, manifest_path, "AscAuditScenario", token=lambda p, d: p.BackdoorToken.deploy(d, {"from": d})
    )
    suite, deployer, accounts, oracles = deployed.suite, deployed.deployer, deployed.accounts, deployed.oracles
    token = suite.token

    import scripts.lifecycle as lifecycle
    from offchain.storage.canonical import encode_evidence, evidence_hash
    from offchain.storage.cid import cid_to_text
    from offchain.storage.store import EmbeddedStore

    store = EmbeddedStore(evidence_dir)
    stored: dict[str, Any] = {}
    original_submit = lifecycle.submit_verdict

    def submit_with_evidence(suite: Any, oracles: Any, order_id: int, twin_id: int, window: Any, *rest: Any) -> Any:
        submitter, _made_up_hash = rest
        evidence = {
            "schema": "asc-evidence/test",
            "order_id": order_id,
            "twin_id": twin_id,
            "window_start_s": window[0],
            "window_end_s": window[1],
            "readings": [{"ts_ms": (window[0] + 60 * i) * 1000, "temp_centi_c": 650 + 10 * i} for i in range(30)],
            "detector": {"name": "sla-band", "score_milli": 1000},
            "model_version": "test-1",
        }
        data = encode_evidence(evidence)
        stored["cid"] = cid_to_text(store.put(data))
        stored["window"] = list(window)
        return original_submit(suite, oracles, order_id, twin_id, window, submitter, evidence_hash(data))

    lifecycle.submit_verdict = submit_with_evidence
    actors = lifecycle.Actors(wholesaler=accounts[1], suppliers=list(accounts[2:5]), carriers=list(accounts[5:7]))
    with contextlib.redirect_stdout(io.StringIO()):
        lifecycle.register_participants(suite, actors)
        result = lifecycle.run_lifecycle(suite, deployer, actors, oracles, progress=lambda _: None)
        funded = _fund_second_order(suite, deployer, actors, lifecycle)
    return {
        "order_id": result.order_id,
        "twin_id": result.twin_id,
        "verdict_id": "0x" + result.verdict_id.hex(),
        "evidence_cid": stored["cid"],
        "verdict_window": stored["window"],
        "funded_order_id": funded,
        "escrow": suite.escrow.address,
        "token": token.address,
        "registry": suite.registry.address,
        "deployer": deployer.address,
    }


def _fund_second_order(suite: Any, deployer: Any, actors: Any, lifecycle: Any) -> int:
    """A GOODS order awarded and funded, not yet delivered: money Escrow must still hold."""
    quantity, price = 10, 50 * lifecycle.UNIT
    buyer, supplier = actors.wholesaler, actors.suppliers[0]
    deadline = lifecycle.now() + 48 * lifecycle.HOUR
    suite.token.mint(buyer, quantity * price, {"from": deployer})
    suite.token.approve(suite.escrow, quantity * price, {"from": buyer})
    record = lifecycle.LifecycleResult(order_id=0, twin_id=0, verdict_id=b"")
    params = lifecycle._cfp_params(
        lifecycle.GOODS,
        0,
        quantity,
        price,
        lifecycle.FARM,
        lifecycle.WHOLESALE,
        lifecycle.SUPPLIER,
        (deadline, 0, 0, 0),
        deadline,
    )
    order_id = lifecycle._open_cfp(suite, buyer, record, "cfp", params)
    lifecycle._sealed_round(suite, record, order_id, [(supplier, price, deadline - lifecycle.HOUR)], "bid")
    suite.procurement.awardBest(order_id, {"from": buyer})
    return int(order_id)


if __name__ == "__main__":
    summary = main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
    print(json.dumps(summary))
