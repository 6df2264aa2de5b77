"""Process 2, wholesale: a retailer orders from the wholesaler, whose sale drops it below its reorder point, which
starts a replenishment from the suppliers; both deliveries run through the logistics agent and the carriers."""

from __future__ import annotations

from tests.offchain.agents import configs as c
from tests.offchain.agents.harness import UNIT, World


def test_a_retail_order_is_served_from_stock_and_triggers_replenishment(world: World) -> None:
    world.add(c.wholesaler(stock=60, reorder_point=50, quantity=100), 1)
    world.add(c.supplier("supplier-ely", "supplier_ely", cost=40 * UNIT), 2)
    world.add(c.logistics(), 4)
    world.add(c.carrier("carrier-a", ["truck-a1"]), 5)
    world.add(c.carrier("carrier-b", ["truck-b1"]), 6)
    world.add(c.retailer(reorder_point=10, quantity=30), 7)
    retailer = world.agents["retailer"].ctx.state
    wholesaler = world.agents["wholesaler"].ctx.state

    world.run_until(lambda: retailer.stock(c.BEEF).on_hand == 30 and wholesaler.stock(c.BEEF).on_hand == 130)

    sale = next(o for o in retailer.facts("order").values() if o["buyer"] == world.account(7).address)
    assert sale["seller"] == world.account(1).address and sale["status"] == "settled"
    replenishment = next(o for o in wholesaler.facts("order").values() if o["buyer"] == world.account(1).address)
    assert replenishment["seller"] == world.account(2).address and replenishment["status"] == "settled"
    intent = next(iter(wholesaler.facts("intent").values()))
    assert "reorder point 50" in intent["why"][0]
    kinds = [m.reason for m in wholesaler.movements(c.BEEF)]
    assert kinds == ["initial", "reserve", "dispatched", "received"] or kinds == [
        "initial", "reserve", "received", "dispatched"
    ]
