"""Discovery: shipments and their planned legs come from chain events; new shipments appear without restart."""

from __future__ import annotations

import threading

from eth_account import Account

from oracles.node.chain import ChainClient
from oracles.node.discovery import ChainView
from oracles.node.terms import ChainTerms
from tests.oracles.node.conftest import Api, Chain, Nodes, excursion_readings, now_ms, wait_until


def _view(chain: Chain, from_block: int = 0) -> ChainView:
    client = ChainClient(chain.rpc_url, chain.manifest, Account.create(), threading.Event())
    return ChainView(client, from_block, chunk_blocks=7, confirmations=0)


def test_a_twin_bound_to_an_order_is_in_transit_with_its_awarded_leg(chain: Chain) -> None:
    order = chain.new_order("supplier_ely", "wholesaler_cambridge")
    view = _view(chain)
    assert view.refresh()
    assert (order["twin_id"], order["order_id"]) in [(t.twin_id, t.order_id) for t in view.in_transit()]
    (leg,) = view.legs(order["order_id"])
    assert (leg.origin, leg.destination) == ("supplier_ely", "wholesaler_cambridge")
    assert leg.awarded_at_s <= order["picked_up_at"]


def test_a_delivered_twin_is_no_longer_in_transit(chain: Chain) -> None:
    order = chain.new_order()
    view = _view(chain)
    view.refresh()
    assert order["twin_id"] in [t.twin_id for t in view.in_transit()]
    chain.deliver(order["twin_id"])
    assert view.refresh()
    assert order["twin_id"] not in [t.twin_id for t in view.in_transit()]


def test_nothing_new_to_scan_is_not_a_refresh(chain: Chain) -> None:
    view = _view(chain)
    assert view.refresh()
    assert not view.refresh()


def test_a_scan_starting_after_a_mint_does_not_see_that_twin(chain: Chain) -> None:
    order = chain.new_order()
    view = _view(chain, from_block=chain.w3.eth.block_number + 1)
    chain.advance(1)
    view.refresh()
    assert order["twin_id"] not in [t.twin_id for t in view.in_transit()]


def test_nodes_pick_up_a_shipment_minted_after_they_started(chain: Chain, api: Api, nodes: Nodes) -> None:
    specs = nodes.specs(3)
    start_block = str(chain.w3.eth.block_number + 1)  # older orders of this session are not this test's
    running = [nodes.start(spec, specs, None, discovery_from_block=start_block) for spec in specs]
    wait_until(lambda: all("oracle node" in n.log() and " up:" in n.log() for n in running), 60, "nodes up")

    order = chain.new_order()
    shipment = str(order["twin_id"])
    api.post(shipment, api.device_for(shipment), excursion_readings(now_ms() - 40 * 60_000))

    verdicts = wait_until(lambda: chain.verdicts(order["order_id"]), 90, "a VerdictAccepted")
    assert len(verdicts) == 1 and verdicts[0]["args"]["kind"] == 1
    assert all(f"discovered shipment {shipment} " in n.log() for n in running)
    assert all(n.process.poll() is None for n in running)  # the same processes: no restart


def test_the_terms_in_force_come_from_the_cfp_that_rules_the_order_at_that_time(chain: Chain) -> None:
    order = chain.new_order()
    view = _view(chain)
    view.refresh()
    lifecycle_sla = ChainTerms(0, 500, 6000, 9500, 5000, 900)  # scripts/lifecycle.py SLA, goods and delivery
    assert view.terms_at(order["order_id"], 0) == lifecycle_sla  # the GOODS CFP's, before any leg
    assert view.terms_at(order["order_id"], order["picked_up_at"]) == lifecycle_sla  # the delivery CFP's
    assert view.terms_at(10**9, 0) is None  # an order the scan never saw: the caller reads slaTerms
