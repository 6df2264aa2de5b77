"""A node whose key is outside the on-chain oracle set cannot get a verdict accepted."""

from __future__ import annotations

import time

import httpx

from offchain.devkeys import dev_oracle_accounts
from oracles.node.wire import verdict_to_dict
from oracles.verdicts import Action, Kind, make_verdict, sign_verdict
from tests.oracles.node.conftest import Api, Chain, Nodes, excursion_readings, now_ms, wait_until


def _peer_up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_peers_refuse_a_signature_from_outside_the_oracle_set(chain: Chain, api: Api, nodes: Nodes) -> None:
    order = chain.new_order()
    shipment = str(order["twin_id"])
    member = nodes.specs(1)[0]
    nodes.start(member, [member], shipment)
    wait_until(lambda: _peer_up(member.port), 30, "the member's peer endpoint")
    outsider = dev_oracle_accounts(4, 31337)[3]
    epoch = chain.contract("VerdictHub").functions.oracleConfig().call()[0]
    verdict = make_verdict(
        order_id=order["order_id"],
        twin_id=order["twin_id"],
        kind=Kind.TEMPERATURE,
        severity=1,
        action=Action.PENALTY,
        window_start=1,
        window_end=2,
        evidence_hash=b"\x01" * 32,
        epoch=epoch,
    )
    signature = sign_verdict(
        verdict, outsider.key, chain.manifest.chain_id, chain.manifest.contract("VerdictHub").address
    )

    response = httpx.post(
        f"http://127.0.0.1:{member.port}/signatures",
        json={"verdict": verdict_to_dict(verdict), "signature": "0x" + signature.hex()},
    )

    assert response.status_code == 403
    assert outsider.address in response.json()["detail"]


def test_a_node_with_a_key_outside_the_set_gets_no_verdict_accepted(
    chain: Chain, api: Api, nodes: Nodes
) -> None:
    order = chain.new_order()
    shipment = str(order["twin_id"])
    api.post(shipment, api.device_for(shipment), excursion_readings(now_ms() - 40 * 60_000))
    member_key, outsider_key = dev_oracle_accounts(4, 31337)[0], dev_oracle_accounts(4, 31337)[3]
    member, outsider = nodes.specs(2, keys=[member_key, outsider_key])
    honest = nodes.start(member, [member, outsider], shipment)
    rogue = nodes.start(outsider, [member, outsider], shipment)

    wait_until(lambda: "not in the oracle set" in rogue.log(), 60, "the outsider to detect the window")
    wait_until(lambda: "signed verdict" in honest.log(), 60, "the member to sign")
    time.sleep(5)

    assert chain.verdicts(order["order_id"]) == []
    assert "not signing" in rogue.log()
    # The outsider never sent a transaction: the hub never saw its key.
    assert chain.w3.eth.get_transaction_count(outsider_key.address) == 0
