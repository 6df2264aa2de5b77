"""Real multi-node runs on a local chain: 3 node processes, k = 2, readings through the real API."""

from __future__ import annotations

import time

from oracles.node.checkpoint import Checkpoint, VerdictStatus
from tests.oracles.node.conftest import (
    Api,
    Chain,
    Nodes,
    NodeSpec,
    order_with_excursion,
    wait_until,
)

SETTLE_S = 3.0  # after the verdict: time for a late, duplicate submission to show up if there were one


def test_three_nodes_one_verdict_and_the_penalty_on_chain(chain: Chain, api: Api, nodes: Nodes) -> None:
    order, shipment = order_with_excursion(chain, api)
    specs = nodes.specs(3)
    running = [nodes.start(spec, specs, shipment) for spec in specs]

    verdicts = wait_until(lambda: chain.verdicts(order["order_id"]), 60, "a VerdictAccepted")
    time.sleep(SETTLE_S)

    verdicts = chain.verdicts(order["order_id"])
    assert len(verdicts) == 1, [n.log() for n in running]
    accepted = verdicts[0]["args"]
    assert accepted["kind"] == 1 and accepted["action"] == 1 and accepted["severity"] >= 1
    assert bin(accepted["signersBitmap"]).count("1") == 2
    penalties = chain.penalties(order["order_id"])
    assert len(penalties) == 1
    assert penalties[0]["args"]["verdictId"] == accepted["verdictId"]
    # the claim is recorded against the leg that held the goods: the carrier's
    leg = chain.contract("Escrow").functions.leg(order["order_id"], penalties[0]["args"]["legIndex"]).call()
    assert leg[0] == order["carrier"]
    assert penalties[0]["args"]["amount"] == accepted["penalty"] > 0


def test_the_submitting_node_posts_the_verdict_to_the_api(chain: Chain, api: Api, nodes: Nodes) -> None:
    order, shipment = order_with_excursion(chain, api)
    specs = nodes.specs(3)
    for spec in specs:
        nodes.start(spec, specs, shipment)
    wait_until(lambda: chain.verdicts(order["order_id"]), 60, "a VerdictAccepted")
    verdict_id = "0x" + bytes(chain.verdicts(order["order_id"])[0]["args"]["verdictId"]).hex()

    with api.client() as client:
        posted = wait_until(lambda: client.verdicts(shipment), 30, "the verdict on the API")
    assert [(v.verdict_id, v.kind) for v in posted] == [(verdict_id, "temperature_excursion")]
    assert posted[0].tx_hash is not None


def test_every_node_stops_once_the_window_is_consumed(chain: Chain, api: Api, nodes: Nodes) -> None:
    order, shipment = order_with_excursion(chain, api)
    specs = nodes.specs(3)
    running = [nodes.start(spec, specs, shipment) for spec in specs]
    wait_until(lambda: chain.verdicts(order["order_id"]), 60, "a VerdictAccepted")
    verdict_id = "0x" + bytes(chain.verdicts(order["order_id"])[0]["args"]["verdictId"]).hex()

    def settled(spec: NodeSpec) -> bool:
        checkpoint = Checkpoint(spec.data_dir / "checkpoint.sqlite3")
        try:
            records = checkpoint.verdicts()
        finally:
            checkpoint.close()
        return bool(records) and all(
            r.status is VerdictStatus.DONE and r.accepted_id == verdict_id for r in records
        )

    for spec in specs:
        wait_until(lambda s=spec: settled(s), 30, "every node to record the window as settled")
    for node in running:
        assert node.stop() == 0, node.log()
        assert "stopped" in node.log()
