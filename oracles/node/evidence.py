"""The evidence object of a verdict and the verdict built from it, identically on every node.

Same readings + same terms + same policy => byte-identical canonical JSON (offchain.storage.canonical:
sorted keys, integers only) => same CID => same evidenceHash => same verdict => same EIP-712 digest, so
signatures made independently by different nodes add up on-chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offchain.storage.canonical import encode_evidence, evidence_hash
from offchain.storage.cid import cid_to_text, compute_cid
from oracles.node.windows import BreachWindow, ChainTerms
from oracles.verdicts import Action, Kind, Verdict, make_verdict

EVIDENCE_SCHEMA = "asc-evidence/1"
# Bump when the window rules or the severity policy change: it is part of what every node must agree on.
MODEL_VERSION = "asc-oracle-node/1 (sla-window/1, severity-step/1)"

KIND_NAMES = {
    Kind.TEMPERATURE: "temperature_excursion",
    Kind.HUMIDITY: "humidity_excursion",
    Kind.SHOCK: "shock",
    Kind.ROUTE_DEVIATION: "route_deviation",
    Kind.DELAY: "delay",
}
ACTIONS = {"penalty": Action.PENALTY, "hold": Action.HOLD, "reroute": Action.REROUTE}


@dataclass(frozen=True, slots=True)
class Policy:
    """What each breach kind does on-chain, and how its severity grows with the peak excess."""

    actions: dict[Kind, Action]
    severity_steps: dict[Kind, int]  # excess (in the kind's unit) per extra severity level
    max_severity: int

    def severity(self, kind: Kind, peak_excess: int) -> int:
        return min(self.max_severity, 1 + peak_excess // self.severity_steps[kind])

    def as_evidence(self, kind: Kind) -> dict[str, int | str]:
        return {
            "action": self.actions[kind].name.lower(),
            "severity_step": self.severity_steps[kind],
            "max_severity": self.max_severity,
        }


@dataclass(frozen=True, slots=True)
class EvidencePackage:
    """Canonical evidence bytes, their CID and the verdict that carries their hash."""

    data: bytes
    cid: str
    verdict: Verdict


def _reading(r: Any) -> dict[str, int | str]:
    return {
        "id": r.id,
        "device_id": r.device_id,
        "batch_seq": r.batch_seq,
        "ts_ms": r.ts_ms,
        "temp_centi_c": r.temp_centi_c,
        "humidity_bp": r.humidity_bp,
        "light_lux": r.light_lux,
        "shock_milli_g": r.shock_milli_g,
        "lat_e7": r.lat_e7,
        "lon_e7": r.lon_e7,
    }


def build_evidence(
    *,
    chain_id: int,
    hub_address: str,
    order_id: int,
    twin_id: int,
    terms: ChainTerms,
    window: BreachWindow,
    policy: Policy,
    epoch: int,
) -> EvidencePackage:
    """The evidence object of ``window`` and its verdict for ``epoch``."""
    severity = policy.severity(window.kind, window.peak_excess)
    evidence: dict[str, Any] = {
        "schema": EVIDENCE_SCHEMA,
        "model_version": MODEL_VERSION,
        "chain_id": chain_id,
        "verdict_hub": hub_address,
        "order_id": order_id,
        "shipment_id": str(twin_id),
        "kind": KIND_NAMES[window.kind],
        "sla_terms": terms.as_evidence(),
        "policy": policy.as_evidence(window.kind),
        "window": {
            "start_s": window.window_start_s,
            "end_s": window.window_end_s,
            "first_reading_id": window.readings[0].id,
            "last_reading_id": window.readings[-1].id,
            "readings_total": window.readings_total,
            "readings_kept": len(window.readings),
        },
        "detector": {
            "rule": f"sla.{KIND_NAMES[window.kind]}",
            "peak_excess": window.peak_excess,
            "out_of_range_ms": window.out_of_range_ms,
            "severity": severity,
        },
        "readings": [_reading(r) for r in window.readings],
    }
    data = encode_evidence(evidence)
    verdict = make_verdict(
        order_id=order_id,
        twin_id=twin_id,
        kind=window.kind,
        severity=severity,
        action=policy.actions[window.kind],
        window_start=window.window_start_s,
        window_end=window.window_end_s,
        evidence_hash=evidence_hash(data),
        epoch=epoch,
    )
    return EvidencePackage(data=data, cid=cid_to_text(compute_cid(data)), verdict=verdict)
