"""Process 1, replenishment, on a real chain: the wholesaler's stock is below its reorder point -> goods CFP
to suppliers -> sealed bids -> award + escrow -> the supplier names its logistics provider -> delivery CFP ->
a carrier wins and dispatches a truck (LocalWorld) -> pickup handoff -> delivery handoff -> settlement ->
inventories updated on both sides."""

from __future__ import annotations

from tests.offchain.agents import configs as c
from tests.offchain.agents.harness import UNIT, World


def _agents(world: World) -> None:
    world.add(c.wholesaler(), 1)
    world.add(c.supplier("supplier-ely", "supplier_ely", cost=40 * UNIT), 2)
    world.add(c.supplier("supplier-newmarket", "supplier_newmarket", cost=44 * UNIT), 3)
    world.add(c.logistics(), 4)
    world.add(c.carrier("carrier-a", ["truck-a1"]), 5)
    world.add(c.carrier("carrier-b", ["truck-b1"]), 6)


def test_wholesaler_below_reorder_point_is_replenished_end_to_end(world: World) -> None:
    _agents(world)
    wholesaler = world.agents["wholesaler"].ctx.state
    rounds = world.run_until(lambda: wholesaler.stock(c.BEEF).on_hand == 120)

    order = next(iter(wholesaler.facts("order").values()))
    assert order["status"] == "settled"
    assert order["seller"] == world.account(2).address  # the cheaper supplier with a spotless record
    escrow_order = world.chain.escrow.functions.order(order["id"]).call()
    assert escrow_order[0] == 2  # Settled
    supplier = world.agents["supplier-ely"].ctx.state
    assert supplier.stock(c.BEEF).on_hand == 400 and supplier.stock(c.BEEF).reserved == 0
    assert rounds < 300


def test_every_step_is_in_the_transcripts(world: World) -> None:
    _agents(world)
    wholesaler = world.agents["wholesaler"].ctx.state
    world.run_until(lambda: wholesaler.stock(c.BEEF).on_hand == 120)
    messages = [m for a in world.agents.values() for m in a.ctx.state.all_messages()]
    performatives = {m["performative"] for m in messages}
    assert performatives >= {"cfp", "propose", "accept", "decline", "inform"}
    assert all(m["content"]["summary"] and m["signature"].startswith("0x") for m in messages)
    cfp = next(m for m in messages if m["performative"] == "cfp" and m["sender"] == world.account(1).address)
    assert cfp["tx_hash"] is not None and cfp["receiver"] == "broadcast"
