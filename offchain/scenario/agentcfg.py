"""Agent configs generated from a scenario's organisations (the schema is offchain/agents/config.py).

A retailer's `demand:` sets its product's stock to 0 and its reorder point and order quantity to the demand.
Scenario faults that are agent behaviour become config knobs: `supplier_silence` at a supplier's place makes
that supplier `silent` (it never bids), `carrier_no_show` naming a carrier makes it `no_show` (it wins and
never collects). An organisation with `approvals:` names as approvers the addresses of the people who decide
for it (offchain/scenario/approvals.py). Each organisation's `config:` is merged in last, key by key, for
anything the scenario schema does not name (e.g. a retailer's `demand_profiles`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from offchain.agents.config import AgentConfig
from offchain.sim.scenario import CarrierNoShow, Scenario, SupplierSilence
from offchain.sim.story import OrganisationSpec


class AgentConfigError(ValueError):
    """A generated agent config is invalid; the message names the scenario file and the organisation."""


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def agent_config(scenario: Scenario, org: OrganisationSpec, approvers: list[str] | None) -> dict[str, Any]:
    silent = any(isinstance(f, SupplierSilence) and f.supplier == org.place for f in scenario.faults)
    no_show = any(isinstance(f, CarrierNoShow) and f.carrier == org.name for f in scenario.faults)
    demand = {d.product: d for d in scenario.demand if d.retailer == org.name}
    products = []
    for p in org.products:
        row = {
            "product": p.product,
            "initial_stock": p.stock,
            "unit_cost": p.unit_cost,
            "margin_bp": p.margin_bp,
            "max_unit_price": p.max_unit_price,
            "reorder_point": p.reorder_point,
            "order_quantity": p.order_quantity,
            "lead_time_s": p.lead_time_s,
            "setpoint_centi_c": round(p.setpoint_c * 100),
            "mass_kg_per_unit": p.mass_kg_per_unit,
        }
        if p.product in demand:
            # The retailer joins with none on hand and orders exactly the demand (see DemandSpec).
            quantity = demand[p.product].quantity
            row |= {"initial_stock": 0, "reorder_point": quantity, "order_quantity": quantity}
        products.append(row)
    config: dict[str, Any] = {
        "kind": org.kind,
        "name": org.name,
        "region": org.place,
        "products": products,
        "faults": {"silent": silent and org.kind == "supplier", "no_show": no_show},
    }
    if org.kind == "carrier":
        config["fleet"] = {"vehicles": [{"id": v} for v in org.fleet], "carrier_name": org.name}
    if org.approvals is not None and approvers:
        config["approvals"] = {
            "approvers": list(approvers),
            "award_value_limit": org.approvals.award_limit,
            "verdict_severity": org.approvals.verdict_severity,
        }
    return _merge(config, org.config)


def write_agent_configs(
    scenario: Scenario, source: str, out_dir: Path, approvers: Mapping[str, list[str]] | None
) -> dict[str, Path]:
    """One validated YAML per organisation in `out_dir`; {organisation name: path}. `approvers`: {organisation:
    the addresses that decide its approvals} (offchain/scenario/approvals.py)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for i, org in enumerate(scenario.organisations):
        data = agent_config(scenario, org, (approvers or {}).get(org.name))
        try:
            AgentConfig.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
            raise AgentConfigError(
                f"{source}: organisations.{i} ({org.name}): agent config invalid: {problems}"
            ) from None
        path = out_dir / f"{org.name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        paths[org.name] = path
    return paths
