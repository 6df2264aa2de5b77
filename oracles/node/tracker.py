"""Per-shipment detection in the node: ``oracles.detect.ShipmentMonitor`` over the accepted readings, its SLA
alerts turned into breach windows that carry everything their evidence needs.

Every node reads the same accepted readings in the same order (API order: timestamp, then id) and the
detectors give the same results whether readings come one by one or in pages, so every node decides the same
windows with the same evidence:

* temperature / humidity: out of range for longer than the grace period, charged to the holder the episode
  started under (see ``ShipmentTracker``); the window runs from the first out-of-range reading to the reading
  that makes the excursion last longer than the grace;
* shock: the reading above the limit;
* route deviation: farther from every corridor (the planned one, an ordered diversion) than half its width
  for at least the route grace; the window runs from the first reading off the corridor to the deciding one;
* delay: the first reading whose arrival forecast falls after the deadline (raised before the deadline);
  the window covers the readings the forecast's speed was measured over.

The learned detectors (robust adaptive baselines, the humidity~temperature relation, the IsolationForest)
never decide a window on their own: their alerts and every detector's score at the deciding reading go into
the evidence, where the policy reads them (a drifting temperature flagged by a learned detector is a failing
reefer) and a partner can check them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from offchain.api.schemas import ReadingPublic
from oracles.detect.ensemble import ShipmentMonitor
from oracles.detect.sla import SlaMonitor
from oracles.detect.types import Reading
from oracles.node.terms import ChainTerms, Plan
from oracles.settings import DetectSettings
from oracles.verdicts import Kind

# Readings kept per evidence window: the first and the last half of this (a long excursion at a high sample
# rate must still fit one IPFS block; the count of dropped readings is recorded).
MAX_WINDOW_READINGS = 400
# Learned-detector alerts remembered per shipment for the evidence of later windows.
MAX_LEARNED_ALERTS = 64

_RULE_KINDS = {
    "temperature": Kind.TEMPERATURE,
    "humidity": Kind.HUMIDITY,
    "shock": Kind.SHOCK,
    "route": Kind.ROUTE_DEVIATION,
    "late_arrival": Kind.DELAY,
}
_RULE_NAMES = {kind: rule for rule, kind in _RULE_KINDS.items()}


def fixed(value: float, scale: int) -> int | None:
    """A detector float as a fixed-point integer (evidence holds no floats); None when not finite."""
    return round(value * scale) if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class LearnedAlert:
    """A learned detector's alert: which detector, on which signal, when, how strongly."""

    timestamp_s: int
    detector: str
    signal: str
    value_ppm: int | None  # severity, 500000 = at its threshold
    statistic_milli: int | None  # the detector's own figure (robust z, isolation score) x 1000

    def as_evidence(self) -> dict[str, Any]:
        return {
            "timestamp_s": self.timestamp_s,
            "detector": self.detector,
            "signal": self.signal,
            "value_ppm": self.value_ppm,
            "statistic_milli": self.statistic_milli,
        }


@dataclass(frozen=True, slots=True)
class DetectorScore:
    detector: str
    signal: str
    value_ppm: int | None
    statistic_milli: int | None

    def as_evidence(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "signal": self.signal,
            "value_ppm": self.value_ppm,
            "statistic_milli": self.statistic_milli,
        }


@dataclass(frozen=True, slots=True)
class BreachWindow:
    """A decided breach: its kind, the readings that prove it and what the detectors said.

    ``peak_excess`` is in the kind's unit beyond the violated limit: centi-degC, basis points, milli-g,
    metres beyond the corridor's half width, or seconds the arrival forecast falls past the deadline.
    """

    kind: Kind
    plan: Plan  # what was in force at the deciding reading (terms, corridor, deadline)
    readings: tuple[ReadingPublic, ...]
    readings_total: int
    peak_excess: int
    out_of_range_ms: int
    statistic_milli: int | None = None  # the SLA rule's own statistic at the deciding reading, x 1000
    context: tuple[ReadingPublic, ...] = ()  # readings just before the window
    learned: tuple[LearnedAlert, ...] = ()
    scores: tuple[DetectorScore, ...] = ()

    @property
    def window_start_s(self) -> int:
        return self.readings[0].ts_ms // 1000

    @property
    def window_end_s(self) -> int:
        return self.readings[-1].ts_ms // 1000


@dataclass(slots=True)
class _Excursion:
    """An open episode of one signal: its readings (the window), and whether it already has its verdict
    (``decided``) or is part of another signal's episode (``folded``: never decided on its own)."""

    readings: list[ReadingPublic] = field(default_factory=list)
    total: int = 0
    peak: int = 0
    decided: bool = False
    folded: bool = False

    def add(self, reading: ReadingPublic, excess: int) -> None:
        self.total += 1
        self.peak = max(self.peak, excess)
        if len(self.readings) >= MAX_WINDOW_READINGS:
            # Keep the first half (the start of the breach) and a sliding last half.
            del self.readings[MAX_WINDOW_READINGS // 2]
        self.readings.append(reading)

    @property
    def start_s(self) -> int:
        return self.readings[0].ts_ms // 1000

    def as_state(self) -> dict[str, Any]:
        return {
            "readings": [r.model_dump() for r in self.readings],
            "total": self.total,
            "peak": self.peak,
            "decided": self.decided,
            "folded": self.folded,
        }

    @classmethod
    def from_state(cls, saved: dict[str, Any]) -> _Excursion:
        return cls(
            readings=[ReadingPublic.model_validate(r) for r in saved["readings"]],
            total=int(saved["total"]),
            peak=int(saved["peak"]),
            decided=bool(saved["decided"]),
            folded=bool(saved["folded"]),
        )


def _excess(value: int, low: int, high: int) -> int:
    if value < low:
        return low - value
    if value > high:
        return value - high
    return 0


def _side(value: int, low: int, high: int) -> int:
    """-1 below the range, +1 above it, 0 inside."""
    return -1 if value < low else 1 if value > high else 0


def detect_reading(r: ReadingPublic) -> Reading:
    """The detectors' fixed-point reading (seconds, 1e-6 degrees) of an API reading (ms, 1e-7 degrees)."""
    return Reading(
        timestamp_s=r.ts_ms // 1000,
        temp_centi_c=r.temp_centi_c,
        humidity_bp=r.humidity_bp,
        light_lux=r.light_lux,
        shock_milli_g=r.shock_milli_g,
        lat_e6=r.lat_e7 // 10,
        lon_e6=r.lon_e7 // 10,
    )


class ShipmentTracker:
    """Detection state of one shipment; ``state_dict``/``load_state`` give exact resumption after a restart.

    Temperature and humidity windows are decided here, not by the SLA rule's own alert, because liability
    follows custody (``Plan.custody_since_s``, chain time of the handoff):

    * an episode belongs to the holder in force when it started; a handover ends the old holder's episodes
      (what was decided stays decided);
    * a holder that takes a load out of range (either signal out at the last reading before its handover) is
      liable only for what is still, or again, out of range ``pull_down_allowance_s`` after its handover: its
      unit needs that long to pull the carried heat down, and a short return into range at the handover (the
      logger reading the cold relief box) does not make the heat its own;
    * one episode, one verdict per signal: a signal that comes back out within the grace after its decided
      episode ended continues that episode; a humidity excursion that starts while the temperature is out of
      range on the side that explains it (too warm -> too dry, too cold -> too damp: the same water in warmer
      or colder air) is the temperature episode seen through another signal, and the on-chain terms charge
      ``penaltyPerExcursion`` per excursion, so it gets no verdict of its own.
    """

    STATE_VERSION = 3

    def __init__(
        self,
        plan: Plan,
        detect: DetectSettings,
        *,
        use_isolation_forest: bool,
        context_readings: int,
        learned_lookback_s: int,
    ) -> None:
        self.plan = plan
        self._detect = detect
        self._monitor = ShipmentMonitor(plan.sla_terms(), detect, use_isolation_forest=use_isolation_forest)
        self._ranges: dict[Kind, _Excursion | None] = {Kind.TEMPERATURE: None, Kind.HUMIDITY: None}
        self._decided_until_s: dict[Kind, int | None] = {Kind.TEMPERATURE: None, Kind.HUMIDITY: None}
        self._off_route: _Excursion | None = None
        self._custody_since_s: int | None = None
        self._liable_from_s = 0
        self._out_of_range = False
        self._context: deque[ReadingPublic] = deque(maxlen=context_readings)
        self._learned: deque[LearnedAlert] = deque(maxlen=MAX_LEARNED_ALERTS)
        self._lookback_s = learned_lookback_s

    @property
    def terms(self) -> ChainTerms:
        return self.plan.terms

    def replan(self, plan: Plan) -> None:
        """A new plan applies from the next reading on (a leg awarded, a reroute step, a handoff). Open
        excursions carry over and are measured against the new terms from that reading on."""
        if plan != self.plan:
            self.plan = plan
            self._monitor.replan(plan.sla_terms())

    def feed(self, readings: Sequence[ReadingPublic]) -> list[tuple[int, BreachWindow]]:
        """Score readings in order; returns (index of the deciding reading, window) for each decided window."""
        if not readings:
            return []
        batch = self._monitor.score_batch([detect_reading(r) for r in readings])
        sla_rows: dict[int, list[str]] = {}
        learned_rows: dict[int, list[tuple[str, str]]] = {}
        for (detector, signal), scores in batch.scores.items():
            for row in np.flatnonzero(scores.alert):
                if detector == SlaMonitor.name:
                    sla_rows.setdefault(int(row), []).append(signal)
                else:
                    learned_rows.setdefault(int(row), []).append((detector, signal))
        off_route_m = batch.scores[(SlaMonitor.name, "route")].statistic
        half_width = self.plan.corridor_width_m / 2
        decided: list[tuple[int, BreachWindow]] = []
        for index, reading in enumerate(readings):
            self._follow_custody()
            for detector, signal in sorted(learned_rows.get(index, ())):
                scores = batch.scores[(detector, signal)]
                self._learned.append(
                    LearnedAlert(
                        reading.ts_ms // 1000,
                        detector,
                        signal,
                        fixed(float(scores.value[index]), 1_000_000),
                        fixed(float(scores.statistic[index]), 1000),
                    )
                )
            distance = float(off_route_m[index])
            if distance > half_width:
                if self._off_route is None:
                    self._off_route = _Excursion()
                self._off_route.add(reading, max(0, math.floor(distance - half_width)))
            else:
                self._off_route = None
            kinds = self._track_ranges(reading)
            kinds += [_RULE_KINDS[rule] for rule in sla_rows.get(index, ()) if rule not in ("temperature", "humidity")]
            for kind in sorted(kinds):
                decided.append((index, self._window(kind, index, reading, batch.scores)))
            self._context.append(reading)
        return decided

    def _follow_custody(self) -> None:
        """A handoff in the plan ends the old holder's episodes and sets when the new one becomes liable."""
        since = self.plan.custody_since_s
        if since == self._custody_since_s:
            return
        if self._custody_since_s is not None:
            # Carried heat is the new holder's only once its unit has had the allowance to pull it down.
            self._liable_from_s = since + (self.plan.pull_down_allowance_s if self._out_of_range else 0)
            for kind in self._ranges:
                self._ranges[kind] = None
                self._decided_until_s[kind] = None
        self._custody_since_s = since

    def _track_ranges(self, reading: ReadingPublic) -> list[Kind]:
        """Temperature/humidity episodes of the holder in force; the kinds this reading decides."""
        terms = self.terms
        at_s = reading.ts_ms // 1000
        temp_side = _side(reading.temp_centi_c, terms.temp_min_centi_c, terms.temp_max_centi_c)
        humidity_side = _side(reading.humidity_bp, terms.humidity_min_bp, terms.humidity_max_bp)
        excesses = {
            Kind.TEMPERATURE: _excess(reading.temp_centi_c, terms.temp_min_centi_c, terms.temp_max_centi_c),
            Kind.HUMIDITY: _excess(reading.humidity_bp, terms.humidity_min_bp, terms.humidity_max_bp),
        }
        self._out_of_range = any(excesses.values())
        found: list[Kind] = []
        for kind, excess in excesses.items():
            run = self._ranges[kind]
            if excess == 0 or at_s < self._liable_from_s:
                if run is not None and run.decided:
                    self._decided_until_s[kind] = run.readings[-1].ts_ms // 1000
                self._ranges[kind] = None
                continue
            if run is None:
                run = self._ranges[kind] = _Excursion()
                until = self._decided_until_s[kind]
                run.decided = until is not None and at_s - until <= terms.excursion_grace_s
                run.folded = kind is Kind.HUMIDITY and temp_side != 0 and humidity_side == -temp_side
            run.add(reading, excess)
            if not (run.decided or run.folded) and at_s - run.start_s > terms.excursion_grace_s:
                run.decided = True
                found.append(kind)
        return found

    def _window(self, kind: Kind, index: int, reading: ReadingPublic, scores: dict[Any, Any]) -> BreachWindow:
        rule = _RULE_NAMES[kind]
        statistic = float(scores[(SlaMonitor.name, rule)].statistic[index])
        terms = self.terms
        out_of_range_ms = 0
        if kind in (Kind.TEMPERATURE, Kind.HUMIDITY):
            run = self._ranges[kind]
            assert run is not None, "a range window decided outside an excursion"
            readings, total, peak = tuple(run.readings), run.total, run.peak
            out_of_range_ms = reading.ts_ms - run.readings[0].ts_ms
            # The holder's own episode: its duration, not the SLA rule's (which ignores custody).
            statistic = out_of_range_ms / 1000
        elif kind is Kind.SHOCK:
            readings, total, peak = (reading,), 1, reading.shock_milli_g - terms.shock_limit_milli_g
        elif kind is Kind.ROUTE_DEVIATION:
            run = self._off_route
            assert run is not None, "the route rule alerted on the corridor"
            readings, total, peak = tuple(run.readings), run.total, run.peak
            out_of_range_ms = reading.ts_ms - run.readings[0].ts_ms
        else:
            # The forecast's speed is measured over the speed window: those readings are its evidence.
            since_ms = reading.ts_ms - self._detect.eta_speed_window_s * 1000
            recent = [r for r in self._context if r.ts_ms >= since_ms] + [reading]
            readings = tuple(recent[:1] + recent[1:][-(MAX_WINDOW_READINGS - 1) :])
            total, peak = len(recent), max(0, math.floor(statistic))
        start_ms = readings[0].ts_ms
        context = tuple(r for r in self._context if r.ts_ms < start_ms)
        start_s, end_s = start_ms // 1000, reading.ts_ms // 1000
        learned = tuple(a for a in self._learned if start_s - self._lookback_s <= a.timestamp_s <= end_s)
        detector_scores = tuple(
            DetectorScore(
                detector,
                signal,
                fixed(float(s.value[index]), 1_000_000),
                fixed(float(s.statistic[index]), 1000),
            )
            for (detector, signal), s in sorted(scores.items())
        )
        return BreachWindow(
            kind=kind,
            plan=self.plan,
            readings=readings,
            readings_total=total,
            peak_excess=peak,
            out_of_range_ms=out_of_range_ms,
            statistic_milli=fixed(statistic, 1000),
            context=context,
            learned=learned,
            scores=detector_scores,
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": self.STATE_VERSION,
            "monitor": self._monitor.state_dict(),
            "ranges": {
                str(int(kind)): None if run is None else run.as_state() for kind, run in self._ranges.items()
            },
            "decided_until_s": {str(int(kind)): until for kind, until in self._decided_until_s.items()},
            "off_route": None if self._off_route is None else self._off_route.as_state(),
            "custody_since_s": self._custody_since_s,
            "liable_from_s": self._liable_from_s,
            "out_of_range": self._out_of_range,
            "context": [r.model_dump() for r in self._context],
            "learned": [a.as_evidence() for a in self._learned],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != self.STATE_VERSION:
            raise ValueError(f"unsupported shipment tracker state version {state.get('version')!r}")
        self._monitor.load_state(state["monitor"])
        for key, saved in state["ranges"].items():
            self._ranges[Kind(int(key))] = None if saved is None else _Excursion.from_state(saved)
        for key, until in state["decided_until_s"].items():
            self._decided_until_s[Kind(int(key))] = None if until is None else int(until)
        saved_route = state["off_route"]
        self._off_route = None if saved_route is None else _Excursion.from_state(saved_route)
        custody = state["custody_since_s"]
        self._custody_since_s = None if custody is None else int(custody)
        self._liable_from_s = int(state["liable_from_s"])
        self._out_of_range = bool(state["out_of_range"])
        self._context.clear()
        self._context.extend(ReadingPublic.model_validate(r) for r in state["context"])
        self._learned.clear()
        self._learned.extend(LearnedAlert(**a) for a in state["learned"])
