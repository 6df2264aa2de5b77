"""Agent configs for the process tests: Cambridge chilled beef, short CFP phases so a test runs in seconds."""

from __future__ import annotations

from typing import Any

from offchain.agents.config import AgentConfig

UNIT = 10**6
FAST = {"commit_s": 600, "reveal_s": 600, "award_s": 600, "delivery_within_s": 48 * 3600, "ship_grace_s": 3 * 3600}
BEEF = "beef-chilled"
HANDOVER = ["crossdock_bar_hill", "crossdock_cambourne"]


def supplier(name: str, region: str, *, cost: int = 40 * UNIT, stock: int = 500, **extra: Any) -> AgentConfig:
    return AgentConfig.model_validate({
        "kind": "supplier", "name": name, "region": region,
        "products": [{"product": BEEF, "initial_stock": stock, "unit_cost": cost, "margin_bp": 1500,
                      "lead_time_s": 12 * 3600}],
        "buying": FAST, **extra,
    })


def wholesaler(name: str = "wholesaler", *, stock: int = 20, reorder_point: int = 50, quantity: int = 100,
               **extra: Any) -> AgentConfig:
    return AgentConfig.model_validate({
        "kind": "wholesaler", "name": name, "region": "wholesaler_cambridge",
        "products": [{"product": BEEF, "initial_stock": stock, "unit_cost": 50 * UNIT, "margin_bp": 2000,
                      "max_unit_price": 60 * UNIT, "reorder_point": reorder_point, "order_quantity": quantity,
                      "lead_time_s": 6 * 3600}],
        "buying": FAST, **extra,
    })


def retailer(name: str = "retailer", *, reorder_point: int = 10, quantity: int = 30) -> AgentConfig:
    return AgentConfig.model_validate({
        "kind": "retailer", "name": name, "region": "retailer_mill_road",
        "products": [{"product": BEEF, "initial_stock": 0, "max_unit_price": 80 * UNIT,
                      "reorder_point": reorder_point, "order_quantity": quantity}],
        "buying": FAST,
    })


def logistics(name: str = "logistics", **extra: Any) -> AgentConfig:
    return AgentConfig.model_validate(
        {"kind": "logistics", "name": name, "region": "wholesaler_cambridge", "buying": FAST, **extra}
    )


def carrier(name: str, vehicles: list[str], **extra: Any) -> AgentConfig:
    return AgentConfig.model_validate({
        "kind": "carrier", "name": name, "region": "crossdock_bar_hill",
        "fleet": {"carrier_name": name, "vehicles": [{"id": v} for v in vehicles],
                  "price_per_unit_km": 30_000, "min_unit_price": 500_000, "eta_slack_s": 3600},
        "handover_places": HANDOVER, "buying": FAST, **extra,
    })
