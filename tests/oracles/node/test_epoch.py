"""An oracle-set rotation between signing and acceptance: the nodes re-sign for the new epoch."""

from __future__ import annotations

import time

from tests.oracles.node.conftest import Api, Chain, Nodes, order_with_excursion, wait_until


def test_verdict_signed_before_a_rotation_is_accepted_under_the_new_epoch(
    chain: Chain, api: Api, nodes: Nodes
) -> None:
    order, shipment = order_with_excursion(chain, api)
    first, second = nodes.specs(2)
    early = nodes.start(first, [first, second], shipment)
    wait_until(lambda: "signed verdict" in early.log(), 60, "the first node to sign")

    hub = chain.contract("VerdictHub")
    old_epoch, threshold, _ = hub.functions.oracleConfig().call()
    signers = hub.functions.signers().call()
    admin = chain.w3.eth.accounts[0]
    receipt = chain.w3.eth.wait_for_transaction_receipt(
        hub.functions.setOracleSet(signers, threshold).transact({"from": admin})
    )
    assert receipt["status"] == 1

    nodes.start(second, [first, second], shipment)
    verdicts = wait_until(lambda: chain.verdicts(order["order_id"]), 60, "a VerdictAccepted")
    time.sleep(2)
    assert len(chain.verdicts(order["order_id"])) == 1
    assert verdicts[0]["args"]["epoch"] == old_epoch + 1
    assert f"re-signed for epoch {old_epoch + 1}" in early.log()
