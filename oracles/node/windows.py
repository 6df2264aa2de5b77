"""Deterministic breach windows from a shipment's readings and the order's on-chain SLA terms.

Every node reads the same accepted readings in the same order (API order: timestamp, then id), so every node
finds the same windows: a range breach starts at the first out-of-range reading and is decided by the reading
that makes the excursion last longer than the grace period; a shock is decided by the reading that carries it.
The chain keeps one verdict per (orderId, kind, windowStart), so a window can never be paid twice.

The rules mirror ``oracles.detect.sla`` (same terms, same grace semantics: strictly longer than the grace);
they are kept here because ``SlaTerms`` there also needs the planned corridor and delivery deadline, which are
not on-chain, and the node only turns on-chain terms into verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from offchain.api.schemas import ReadingPublic
from oracles.verdicts import Kind

# Readings kept per evidence window: the first and the last half of this (a long excursion at a high sample
# rate must still fit one IPFS block; the count of dropped readings is recorded).
MAX_WINDOW_READINGS = 400


@dataclass(frozen=True, slots=True)
class ChainTerms:
    """An order's physical SLA terms as Procurement.slaTerms returns them (fixed-point integers)."""

    temp_min_centi_c: int
    temp_max_centi_c: int
    humidity_min_bp: int
    humidity_max_bp: int
    shock_limit_milli_g: int
    excursion_grace_s: int

    def as_evidence(self) -> dict[str, int]:
        return {
            "temp_min_centi_c": self.temp_min_centi_c,
            "temp_max_centi_c": self.temp_max_centi_c,
            "humidity_min_bp": self.humidity_min_bp,
            "humidity_max_bp": self.humidity_max_bp,
            "shock_limit_milli_g": self.shock_limit_milli_g,
            "excursion_grace_s": self.excursion_grace_s,
        }


@dataclass(frozen=True, slots=True)
class BreachWindow:
    """A decided breach: its kind, the readings that prove it and the peak excess beyond the limit."""

    kind: Kind
    readings: tuple[ReadingPublic, ...]
    readings_total: int
    peak_excess: int  # centi-degC, basis points or milli-g beyond the violated limit
    out_of_range_ms: int

    @property
    def window_start_s(self) -> int:
        return self.readings[0].ts_ms // 1000

    @property
    def window_end_s(self) -> int:
        return self.readings[-1].ts_ms // 1000


@dataclass(slots=True)
class _Excursion:
    readings: list[ReadingPublic] = field(default_factory=list)
    total: int = 0
    peak: int = 0
    decided: bool = False

    def add(self, reading: ReadingPublic, excess: int) -> None:
        self.total += 1
        self.peak = max(self.peak, excess)
        half = MAX_WINDOW_READINGS // 2
        if len(self.readings) >= MAX_WINDOW_READINGS:
            # Keep the first half (the start of the breach) and a sliding last half.
            del self.readings[half]
        self.readings.append(reading)


def _excess(value: int, low: int, high: int) -> int:
    if value < low:
        return low - value
    if value > high:
        return value - high
    return 0


class WindowTracker:
    """Per-shipment breach tracking; ``state_dict``/``load_state`` give exact resumption after a restart."""

    STATE_VERSION = 1

    def __init__(self, terms: ChainTerms) -> None:
        self.terms = terms
        self._ranges: dict[Kind, _Excursion | None] = {Kind.TEMPERATURE: None, Kind.HUMIDITY: None}

    def feed(self, reading: ReadingPublic) -> list[BreachWindow]:
        """Advance by one reading; returns the windows this reading decides."""
        terms = self.terms
        decided: list[BreachWindow] = []
        excesses = {
            Kind.TEMPERATURE: _excess(reading.temp_centi_c, terms.temp_min_centi_c, terms.temp_max_centi_c),
            Kind.HUMIDITY: _excess(reading.humidity_bp, terms.humidity_min_bp, terms.humidity_max_bp),
        }
        grace_ms = terms.excursion_grace_s * 1000
        for kind, excess in excesses.items():
            if excess == 0:
                self._ranges[kind] = None
                continue
            run = self._ranges[kind]
            if run is None:
                run = self._ranges[kind] = _Excursion()
            run.add(reading, excess)
            duration = reading.ts_ms - run.readings[0].ts_ms
            if not run.decided and duration > grace_ms:
                run.decided = True
                decided.append(BreachWindow(kind, tuple(run.readings), run.total, run.peak, duration))
        shock_excess = reading.shock_milli_g - terms.shock_limit_milli_g
        if shock_excess > 0:
            decided.append(BreachWindow(Kind.SHOCK, (reading,), 1, shock_excess, 0))
        return decided

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": self.STATE_VERSION,
            "ranges": {
                str(int(kind)): None
                if run is None
                else {
                    "readings": [r.model_dump() for r in run.readings],
                    "total": run.total,
                    "peak": run.peak,
                    "decided": run.decided,
                }
                for kind, run in self._ranges.items()
            },
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != self.STATE_VERSION:
            raise ValueError(f"unsupported window tracker state version {state.get('version')!r}")
        for key, saved in state["ranges"].items():
            kind = Kind(int(key))
            if saved is None:
                self._ranges[kind] = None
                continue
            self._ranges[kind] = _Excursion(
                readings=[ReadingPublic.model_validate(r) for r in saved["readings"]],
                total=int(saved["total"]),
                peak=int(saved["peak"]),
                decided=bool(saved["decided"]),
            )
