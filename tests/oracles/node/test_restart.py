"""Kill/restart: a node SIGKILLed right after signing resumes from its checkpoint; still one verdict."""

from __future__ import annotations

import re
import signal
import time

from tests.oracles.node.conftest import Api, Chain, Nodes, order_with_excursion, wait_until


def test_node_killed_after_signing_resumes_and_one_verdict_results(
    chain: Chain, api: Api, nodes: Nodes
) -> None:
    order, shipment = order_with_excursion(chain, api)
    # Only two of the three members run: the verdict needs the killed node's signature.
    first, second = nodes.specs(2)
    crashing = nodes.start(first, [first, second], shipment, crash_at="after_sign")
    assert crashing.process.wait(timeout=60) == -signal.SIGKILL, crashing.log()
    assert "killing this node at after_sign" in crashing.log()
    assert chain.verdicts(order["order_id"]) == []

    nodes.start(second, [first, second], shipment)
    time.sleep(3)  # the second node signs and fails to reach the dead one: still no verdict
    assert chain.verdicts(order["order_id"]) == []

    restarted = nodes.start(first, [first, second], shipment)
    wait_until(lambda: chain.verdicts(order["order_id"]), 60, "a VerdictAccepted after the restart")
    time.sleep(3)
    assert len(chain.verdicts(order["order_id"])) == 1
    assert len(chain.penalties(order["order_id"])) == 1
    assert "resuming after" in restarted.log()
    # The restarted node did not rebuild the verdict from scratch: it resumed the one it had recorded.
    assert "signed verdict" not in restarted.log()


def test_node_killed_between_sending_and_mining_resends_the_recorded_transaction(
    chain: Chain, api: Api, nodes: Nodes
) -> None:
    order, shipment = order_with_excursion(chain, api)
    first, second = nodes.specs(2)
    # The second node signs and keeps offering its signature to the first; the first never sends its own, so
    # it alone can submit, and it dies between sending the transaction and seeing it mined.
    helper = nodes.start(second, [first, second], shipment)
    wait_until(lambda: "signed verdict" in helper.log(), 60, "the second node to sign")
    # No automine: the transaction waits in the pool, then is dropped, as a node restart or an RPC failover
    # could lose it; the restarted node must re-send the bytes it recorded.
    chain.rpc("evm_setAutomine", False)
    try:
        crashing = nodes.start(first, [first], shipment, crash_at="after_send")
        assert crashing.process.wait(timeout=60) == -signal.SIGKILL, crashing.log() + helper.log()
        assert "killing this node at after_send" in crashing.log()
        tx_hash = re.search(r"submitted with 2 signatures in tx (0x[0-9a-f]{64})", crashing.log())
        assert tx_hash is not None, crashing.log()
        chain.rpc("anvil_dropTransaction", tx_hash.group(1))
        assert chain.verdicts(order["order_id"]) == []
    finally:
        chain.rpc("evm_setAutomine", True)

    restarted = nodes.start(first, [first], shipment)
    wait_until(
        lambda: "accepted on-chain" in restarted.log(), 30, "the restarted node to re-send its transaction"
    )
    time.sleep(3)
    assert f"re-sending recorded transaction {tx_hash.group(1)}" in restarted.log()
    assert "submitted with" not in restarted.log()
    assert len(chain.verdicts(order["order_id"])) == 1
