"""Test driver: deploy the suite on a brownie network, register the partners, play the scripted shipment of
scripts/lifecycle.py (its evidence object stored in an EmbeddedStore), then leave two more calls for
proposals: one awarded and funded but not delivered, one whose bids are revealed and which waits for its
award, and one still collecting sealed commitments.

    python -m tests.frontend.scenario NETWORK MANIFEST EVIDENCE_DIR     (prints a JSON summary last)
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

    deployed = deploy_on(network_name, manifest_path, "AscDappScenario")
    suite, deployer, accounts, oracles = deployed.suite, deployed.deployer, deployed.accounts, deployed.oracles

    import scripts.lifecycle as lifecycle
    from offchain.storage.store import EmbeddedStore

    actors = lifecycle.Actors(wholesaler=accounts[1], suppliers=list(accounts[2:5]), carriers=list(accounts[5:7]))
    with contextlib.redirect_stdout(io.StringIO()):
        lifecycle.register_participants(suite, actors)
        result = lifecycle.run_lifecycle(
            suite, deployer, actors, oracles, progress=lambda _: None, store=EmbeddedStore(evidence_dir)
        )
        suite.token.mint(actors.wholesaler, 2 * 20 * 60 * lifecycle.UNIT, {"from": deployer})  # two more orders
        funded = _call(suite, deployer, actors, lifecycle, reveal=True)
        suite.token.approve(suite.escrow, 20 * 49 * lifecycle.UNIT, {"from": actors.wholesaler})
        funded_twin = int(
            suite.procurement.awardBest(funded, {"from": actors.wholesaler}).events["TwinMinted"]["twinId"]
        )
        awaiting = _call(suite, deployer, actors, lifecycle, reveal=True)
        collecting = _call(suite, deployer, actors, lifecycle, reveal=False)
        # The lifecycle left an allowance over; the award test starts from none, as a new buyer would.
        suite.token.approve(suite.escrow, 0, {"from": actors.wholesaler})
    return {
        "order_id": result.order_id,
        "twin_id": result.twin_id,
        "verdict_id": "0x" + result.verdict_id.hex(),
        "funded_cfp": funded,
        "funded_twin": funded_twin,
        "awaiting_award_cfp": awaiting,
        "collecting_cfp": collecting,
        "wholesaler": actors.wholesaler.address,
        "suppliers": [s.address for s in actors.suppliers],
        "carriers": [c.address for c in actors.carriers],
    }


def _call(suite: Any, deployer: Any, actors: Any, lifecycle: Any, *, reveal: bool) -> int:
    """A GOODS call by the wholesaler with two sealed bids: revealed and past the reveal deadline (ready to
    award), or only committed (the commit phase still open)."""
    quantity, max_price = 20, 60 * lifecycle.UNIT
    deadline = lifecycle.now() + 48 * lifecycle.HOUR
    params = lifecycle._cfp_params(
        lifecycle.GOODS,
        0,
        quantity,
        max_price,
        lifecycle.FARM,
        lifecycle.WHOLESALE,
        lifecycle.SUPPLIER,
        (deadline, 0, 0, 0),
        deadline,
    )
    record = lifecycle.LifecycleResult(order_id=0, twin_id=0, verdict_id=b"")
    cfp_id = int(lifecycle._open_cfp(suite, actors.wholesaler, record, "cfp", params))
    bids = [
        (actors.suppliers[0], 51 * lifecycle.UNIT, deadline - 6 * lifecycle.HOUR),
        (actors.suppliers[1], 49 * lifecycle.UNIT, deadline - 5 * lifecycle.HOUR),
    ]
    if reveal:
        lifecycle._sealed_round(suite, record, cfp_id, bids, "bid")
    else:
        for index, (bidder, price, eta) in enumerate(bids):
            salt = web3_keccak(f"salt-{cfp_id}-{index}")
            suite.procurement.commitBid(
                cfp_id, suite.procurement.commitmentOf(cfp_id, bidder, price, eta, salt), {"from": bidder}
            )
    return cfp_id


def web3_keccak(text: str) -> bytes:
    from brownie import web3

    return bytes(web3.keccak(text=text))


if __name__ == "__main__":
    summary = main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
    print(json.dumps(summary))
