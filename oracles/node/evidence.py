"""The evidence object of a verdict, the action policy, and the verdict built from them, identically on every node.

Same readings + same terms + same plan + same policy + same detector settings => byte-identical canonical JSON
(offchain.storage.canonical: sorted keys, integers only) => same CID => same evidenceHash => same verdict =>
same EIP-712 digest, so signatures made independently by different nodes add up on-chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import sklearn

from offchain.storage.canonical import encode_evidence, evidence_hash
from offchain.storage.cid import cid_to_text, compute_cid
from oracles.node.terms import ChainTerms
from oracles.node.tracker import BreachWindow
from oracles.settings import DetectSettings
from oracles.verdicts import Action, Kind, Verdict, make_verdict

EVIDENCE_SCHEMA = "asc-evidence/2"
# Bump when the window rules or the policy change: it is part of what every node must agree on.
NODE_MODEL = "asc-oracle-node/3 (sla-monitor/3, policy/3)"

KIND_NAMES = {
    Kind.TEMPERATURE: "temperature_excursion",
    Kind.HUMIDITY: "humidity_excursion",
    Kind.SHOCK: "shock",
    Kind.ROUTE_DEVIATION: "route_deviation",
    Kind.DELAY: "delay",
}
KIND_UNITS = {
    Kind.TEMPERATURE: "centi_c",
    Kind.HUMIDITY: "bp",
    Kind.SHOCK: "milli_g",
    Kind.ROUTE_DEVIATION: "m_beyond_half_width",
    Kind.DELAY: "s_forecast_past_deadline",
}
ACTIONS = {"penalty": Action.PENALTY, "hold": Action.HOLD, "reroute": Action.REROUTE}


def model_version(detect: DetectSettings, use_isolation_forest: bool) -> str:
    """Names the node's rules, the detectors' settings and the library that fits the forest: nodes whose
    versions differ would build different evidence, so the version is in the evidence."""
    settings = json.dumps(detect.model_dump(mode="json"), sort_keys=True).encode()
    digest = hashlib.sha256(settings).hexdigest()[:12]
    forest = f"iforest/sklearn-{sklearn.__version__}" if use_isolation_forest else "iforest/off"
    return f"{NODE_MODEL}; detect-settings/{digest}; {forest}"


@dataclass(frozen=True, slots=True)
class ReeferFailureRule:
    """When a temperature excursion means the reefer unit is failing (the goods must change vehicle)."""

    action: Action
    min_rise_centi_c: int  # the temperature rose at least this much across the window ...
    min_rising_percent: int  # ... in a sustained way: this share of reading-to-reading steps went up ...
    needs_learned: bool  # ... and a learned detector flagged the temperature around the window

    def as_evidence(self) -> dict[str, Any]:
        return {
            "action": self.action.name.lower(),
            "min_rise_centi_c": self.min_rise_centi_c,
            "min_rising_percent": self.min_rising_percent,
            "needs_learned": self.needs_learned,
        }


@dataclass(frozen=True, slots=True)
class Ruling:
    action: Action
    severity: int
    reason: str
    facts: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Policy:
    """What each breach kind does on-chain, how severe it is, and when it escalates."""

    actions: dict[Kind, Action]
    severity_steps: dict[Kind, int]  # excess (in the kind's unit) per extra severity level
    max_severity: int
    hold_from_severity: dict[Kind, int]  # HOLD instead of the kind's action from this severity; 0 = never
    reefer_failure: ReeferFailureRule

    def severity(self, kind: Kind, peak_excess: int) -> int:
        return min(self.max_severity, 1 + peak_excess // self.severity_steps[kind])

    def rule(self, window: BreachWindow, terms: ChainTerms) -> Ruling:
        kind = window.kind
        severity = self.severity(kind, window.peak_excess)
        unit = KIND_UNITS[kind]
        facts: dict[str, Any] = {}
        if kind is Kind.TEMPERATURE:
            failing, facts = self._reefer_failing(window, terms)
            if failing:
                return Ruling(
                    self.reefer_failure.action,
                    severity,
                    f"reefer failing: temperature rose {facts['rise_centi_c']} centi_c across the excursion "
                    f"({facts['rising_percent']}% of steps rising), flagged by "
                    f"{', '.join(facts['learned_detectors']) or 'no learned detector'}",
                    facts,
                )
        hold_from = self.hold_from_severity.get(kind, 0)
        if hold_from and severity >= hold_from:
            return Ruling(
                Action.HOLD,
                severity,
                f"{KIND_NAMES[kind]} of severity {severity} (>= {hold_from}): peak excess {window.peak_excess} {unit}",
                facts,
            )
        return Ruling(
            self.actions[kind],
            severity,
            f"{KIND_NAMES[kind]}: peak excess {window.peak_excess} {unit}",
            facts,
        )

    def _reefer_failing(self, window: BreachWindow, terms: ChainTerms) -> tuple[bool, dict[str, Any]]:
        temps = [r.temp_centi_c for r in window.readings]
        steps = len(temps) - 1
        rising = sum(1 for a, b in pairwise(temps) if b > a)
        rise = temps[-1] - temps[0]
        rising_percent = 100 * rising // steps if steps else 0
        learned = sorted({a.detector for a in window.learned if "temp_c" in a.signal})
        rule = self.reefer_failure
        # Too warm, not too cold: a unit that stops cooling lets the load warm up.
        too_warm = window.readings[0].temp_centi_c > terms.temp_max_centi_c
        failing = (
            too_warm
            and rise >= rule.min_rise_centi_c
            and rising_percent >= rule.min_rising_percent
            and (bool(learned) or not rule.needs_learned)
        )
        return failing, {
            "reefer_failing": failing,
            "rise_centi_c": rise,
            "rising_percent": rising_percent,
            "learned_detectors": learned,
        }

    def as_evidence(self, kind: Kind) -> dict[str, Any]:
        described: dict[str, Any] = {
            "action": self.actions[kind].name.lower(),
            "severity_step": self.severity_steps[kind],
            "max_severity": self.max_severity,
            "hold_from_severity": self.hold_from_severity.get(kind, 0),
        }
        if kind is Kind.TEMPERATURE:
            described["reefer_failure"] = self.reefer_failure.as_evidence()
        return described


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
    window: BreachWindow,
    policy: Policy,
    epoch: int,
    model: str,
) -> EvidencePackage:
    """The evidence object of ``window`` and its verdict for ``epoch``."""
    terms = window.plan.terms
    ruling = policy.rule(window, terms)
    kind = KIND_NAMES[window.kind]
    evidence: dict[str, Any] = {
        "schema": EVIDENCE_SCHEMA,
        "model_version": model,
        "chain_id": chain_id,
        "verdict_hub": hub_address,
        "order_id": order_id,
        "shipment_id": str(twin_id),
        "kind": kind,
        "sla_terms": terms.as_evidence(),
        "plan": window.plan.as_evidence(),
        "policy": policy.as_evidence(window.kind),
        "decision": {
            "action": ruling.action.name.lower(),
            "severity": ruling.severity,
            "reason": ruling.reason,
            "facts": ruling.facts,
        },
        "window": {
            "start_s": window.window_start_s,
            "end_s": window.window_end_s,
            "first_reading_id": window.readings[0].id,
            "last_reading_id": window.readings[-1].id,
            "readings_total": window.readings_total,
            "readings_kept": len(window.readings),
        },
        "detector": {
            "rule": f"sla.{kind}",
            "peak_excess": window.peak_excess,
            "unit": KIND_UNITS[window.kind],
            "statistic_milli": window.statistic_milli,
            "out_of_range_ms": window.out_of_range_ms,
        },
        "detector_scores": [s.as_evidence() for s in window.scores],
        "learned_alerts": [a.as_evidence() for a in window.learned],
        "readings": [_reading(r) for r in window.readings],
        "context_readings": [_reading(r) for r in window.context],
    }
    data = encode_evidence(evidence)
    verdict = make_verdict(
        order_id=order_id,
        twin_id=twin_id,
        kind=window.kind,
        severity=ruling.severity,
        action=ruling.action,
        window_start=window.window_start_s,
        window_end=window.window_end_s,
        evidence_hash=evidence_hash(data),
        epoch=epoch,
    )
    return EvidencePackage(data=data, cid=cid_to_text(compute_cid(data)), verdict=verdict)
