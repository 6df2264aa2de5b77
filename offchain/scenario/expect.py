"""The scenario's `expect:` checked against the facts read from the chain (and the audit's verdict)."""

from __future__ import annotations

from dataclasses import dataclass

from offchain.sim.story import Expectations

from .progress import Facts


@dataclass(frozen=True)
class Outcome:
    name: str
    held: bool
    detail: str


def chain_outcomes(expect: Expectations, facts: Facts) -> list[Outcome]:
    """The expectations that chain events alone decide (the audit and the journals are added at the end)."""
    outcomes: list[Outcome] = []
    if expect.delivered_min:
        delivered = facts.delivered()
        outcomes.append(
            Outcome(
                "delivered",
                len(delivered) >= expect.delivered_min,
                f"{len(delivered)} shipment(s) delivered, at least {expect.delivered_min} expected",
            )
        )
    for want in expect.verdicts:
        found = [
            v for v in facts.verdicts if v["kind"] == want.kind and (want.action is None or v["action"] == want.action)
        ]
        label = f"{want.kind} verdict" + (f" with action {want.action}" if want.action else "")
        outcomes.append(
            Outcome(f"verdict:{want.kind}", len(found) >= want.min, f"{len(found)} {label}(s), {want.min} expected")
        )
    if expect.reroute_awarded:
        awarded = facts.reroutes_awarded()
        outcomes.append(
            Outcome(
                "reroute_awarded",
                bool(awarded),
                f"reroute CFP(s) awarded: {awarded or 'none'} (opened: {sorted(facts.reroute_cfps) or 'none'})",
            )
        )
    for carrier in expect.penalties_on:
        charged = [p for p in facts.penalties if p["carrier"] == carrier]
        outcomes.append(Outcome(f"penalty:{carrier}", bool(charged), f"{len(charged)} penalty record(s) on {carrier}"))
    for carrier in expect.no_penalties_on:
        charged = [p for p in facts.penalties if p["carrier"] == carrier]
        detail = f"{len(charged)} penalty record(s) on {carrier}, none allowed"
        outcomes.append(Outcome(f"no_penalty:{carrier}", not charged, detail))
    for kind in expect.no_verdicts:
        found = [v for v in facts.verdicts if v["kind"] == kind]
        outcomes.append(Outcome(f"no_verdict:{kind}", not found, f"{len(found)} {kind} verdict(s), none allowed"))
    if expect.escrows_settled:
        open_orders = facts.unsettled_orders()
        outcomes.append(
            Outcome(
                "escrows_settled",
                bool(facts.orders) and not open_orders,
                f"{len(facts.orders)} order(s), still open: {open_orders or 'none'}",
            )
        )
    if expect.no_duplicate_transactions:  # the journals' side is added by the run (txcheck.py)
        duplicates = facts.duplicate_commits()
        outcomes.append(
            Outcome("no_duplicate_bids", not duplicates, f"duplicate bid commitments: {duplicates or 'none'}")
        )
    return outcomes


def all_held(outcomes: list[Outcome]) -> bool:
    return all(o.held for o in outcomes)
