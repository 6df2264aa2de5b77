"""Process 3, self-healing, on a real chain: a REROUTE verdict re-tenders the remaining leg and a new carrier
takes over at the handover point; a seller that wins and never ships is replaced by the next-best seller."""

from __future__ import annotations

from tests.offchain.agents import configs as c
from tests.offchain.agents.harness import UNIT, World, submit_verdict

REROUTE = 3


def _replenishment_agents(world: World, *, supplier_faults: dict[str, bool] | None = None) -> None:
    world.add(c.wholesaler(), 1)
    world.add(c.supplier("supplier-ely", "supplier_ely", cost=40 * UNIT, faults=supplier_faults or {}), 2)
    world.add(c.supplier("supplier-newmarket", "supplier_newmarket", cost=44 * UNIT), 3)
    world.add(c.logistics(), 4)
    world.add(c.carrier("carrier-a", ["truck-a1"]), 5)
    world.add(c.carrier("carrier-b", ["truck-b1"]), 6)


def test_a_reroute_verdict_hands_the_goods_to_a_new_carrier(world: World) -> None:
    _replenishment_agents(world)
    carrier_b = world.agents["carrier-b"].ctx.state
    world.run_until(lambda: any(j["status"] == "carrying" for j in carrier_b.facts("job").values()))
    job = next(iter(carrier_b.facts("job").values()))
    world.sim.fail_compressor("truck-b1")
    submit_verdict(world, int(job["order"]), int(job["twin"]), action=REROUTE, severity=2)

    wholesaler = world.agents["wholesaler"].ctx.state
    world.run_until(lambda: wholesaler.stock(c.BEEF).on_hand == 120)

    order = wholesaler.fact("order", job["order"]) or {}
    carriers = [leg["carrier"] for _, leg in sorted(order["legs"].items())]
    assert carriers == [world.account(6).address, world.account(5).address]
    assert order["status"] == "settled"
    handoffs = world.chain.custody.events.HandoffAccepted().get_logs(from_block=0)
    chain_of_custody = [(h.args["from"], h.args["to"]) for h in handoffs if h.args["twinId"] == job["twin"]]
    assert chain_of_custody == [
        (world.account(2).address, world.account(6).address),
        (world.account(6).address, world.account(5).address),
        (world.account(5).address, world.account(1).address),
    ]
    freight = world.chain.escrow.functions.leg(job["order"], 0).call()
    settled = world.chain.escrow.events.PenaltySettled().get_logs(from_block=0)
    # severity 2 x 150.00 is claimed from the carrier liable at the verdict, charged at most its freight
    assert [(s.args["liable"], s.args["claimed"], s.args["charged"]) for s in settled] == [
        (world.account(6).address, 300 * UNIT, min(300 * UNIT, freight[1]))
    ]
    assert world.sim.vehicle_state("truck-b1").shipments == ()


def test_a_seller_that_does_not_ship_is_replaced_by_the_next_best(world: World) -> None:
    _replenishment_agents(world, supplier_faults={"no_show": True})
    wholesaler = world.agents["wholesaler"].ctx.state
    world.run_until(lambda: wholesaler.stock(c.BEEF).on_hand == 120)

    orders = sorted(wholesaler.facts("order").values(), key=lambda o: o["id"])
    assert [o["seller"] for o in orders] == [world.account(2).address, world.account(3).address]
    assert orders[1]["status"] == "settled"
    fallback = [m for m in wholesaler.all_messages() if "next-best" in m["content"]["summary"]]
    assert len(fallback) == 1


def test_a_silent_supplier_is_not_waited_for(world: World) -> None:
    _replenishment_agents(world, supplier_faults={"silent": True})
    wholesaler = world.agents["wholesaler"].ctx.state
    world.run_until(lambda: wholesaler.stock(c.BEEF).on_hand == 120)
    (order,) = wholesaler.facts("order").values()
    assert order["seller"] == world.account(3).address


def test_a_carrier_that_does_not_show_up_is_replaced(world: World) -> None:
    world.add(c.wholesaler(), 1)
    world.add(c.supplier("supplier-ely", "supplier_ely", cost=40 * UNIT), 2)
    world.add(c.logistics(), 4)
    world.add(c.carrier("carrier-a", ["truck-a1"]), 5)
    world.add(c.carrier("carrier-b", ["truck-b1"], faults={"no_show": True}), 6)  # the cheaper one
    wholesaler = world.agents["wholesaler"].ctx.state
    world.run_until(lambda: wholesaler.stock(c.BEEF).on_hand == 120)

    (order,) = wholesaler.facts("order").values()
    carriers = [leg["carrier"] for _, leg in sorted(order["legs"].items())]
    assert carriers == [world.account(6).address, world.account(5).address]
    handoffs = world.chain.custody.events.HandoffAccepted().get_logs(from_block=0)
    assert [(h.args["from"], h.args["to"]) for h in handoffs] == [
        (world.account(2).address, world.account(5).address),
        (world.account(5).address, world.account(1).address),
    ]
