"""SLA rules from an order's terms, evaluated reading by reading (or batch by batch, same results).

Rules (each one an independent ``Score`` per reading, alerting once per episode):

* ``temperature`` / ``humidity``: out of the agreed range for longer than the grace period;
* ``shock``: a shock above the limit (every such reading is its own event);
* ``route``: farther from the planned corridor's centre line (or from every ordered diversion) than half the
  corridor width for at least the route grace period (a single stray GPS fix is not a deviation);
* ``late_arrival``: the arrival forecast (route metres left / average progress speed over the recent
  window since the goods last stood still, times a safety factor) falls after the delivery deadline -- raised
  before the deadline passes; no forecast until the goods have moved ``eta_min_moving_s`` since they last
  stood still.

The corridor and the deadline are optional (an order whose delivery leg is not awarded yet has neither):
without a corridor the ``route`` and ``late_arrival`` rules score 0 and never alert; without a deadline
(``delivery_deadline_s == 0``) or while ``eta_paused`` (an ordered diversion and handover: the goods leave the
planned route on purpose) only ``late_arrival`` is off. ``SlaMonitor.replan`` swaps them mid-stream when
a new leg is awarded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from oracles.detect.baseline import BatchScores, BoolArray, DetectorInputError, FloatArray, severity_array
from oracles.detect.geo import Polyline
from oracles.detect.types import Detection, Reading, Score
from oracles.settings import DetectSettings

RULES = ("temperature", "humidity", "shock", "route", "late_arrival")


@dataclass(frozen=True, slots=True)
class SlaTerms:
    """An order's monitoring terms, in the fixed-point units the contracts use."""

    temp_min_centi_c: int
    temp_max_centi_c: int
    humidity_min_bp: int
    humidity_max_bp: int
    shock_limit_milli_g: int
    excursion_grace_s: int
    corridor: tuple[tuple[int, int], ...] = ()  # planned route vertices (lat_e6, lon_e6); () = none
    corridor_width_m: int = 1
    delivery_deadline_s: int = 0  # unix seconds; 0 = no deadline
    # Ordered diversions (vertices as for ``corridor``): on-route for the ``route`` rule, never for the forecast.
    diversions: tuple[tuple[tuple[int, int], ...], ...] = ()
    eta_paused: bool = False
    route_grace_s: int = 0  # how long the goods must stay off every corridor before ``route`` alerts

    @property
    def has_corridor(self) -> bool:
        return len(self.corridor) >= 2

    @property
    def has_deadline(self) -> bool:
        return self.has_corridor and self.delivery_deadline_s > 0 and not self.eta_paused

    def __post_init__(self) -> None:
        if self.temp_min_centi_c > self.temp_max_centi_c:
            raise ValueError("temp_min_centi_c exceeds temp_max_centi_c")
        if not 0 <= self.humidity_min_bp <= self.humidity_max_bp <= 10_000:
            raise ValueError("humidity bounds must satisfy 0 <= min <= max <= 10000 bp")
        if self.shock_limit_milli_g <= 0:
            raise ValueError("shock_limit_milli_g must be positive")
        if self.excursion_grace_s < 0:
            raise ValueError("excursion_grace_s must not be negative")
        if len(self.corridor) == 1:
            raise ValueError("corridor needs at least two vertices (or none)")
        if self.corridor_width_m <= 0:
            raise ValueError("corridor_width_m must be positive")
        if any(len(path) < 2 for path in self.diversions):
            raise ValueError("a diversion needs at least two vertices")
        if self.diversions and not self.has_corridor:
            raise ValueError("diversions need a corridor to leave from")
        if self.route_grace_s < 0:
            raise ValueError("route_grace_s must not be negative")


class _Excursion:
    """Grace-period tracking for one range rule; state is the start of the current excursion."""

    def __init__(self) -> None:
        self.start_s: int | None = None
        self.breached = False

    def run(
        self, t: FloatArray, out: BoolArray, grace_s: int, *, inclusive: bool = False
    ) -> tuple[FloatArray, BoolArray, BoolArray]:
        """Returns (seconds out of range, breach, alert) per row; a breach lasts longer than the grace (at
        least the grace when ``inclusive``: a zero grace then breaches at the first row out)."""
        prev_out = np.concatenate([[self.start_s is not None], out[:-1]])
        starts = out & ~prev_out
        carried = -np.inf if self.start_s is None else float(self.start_s)
        # Timestamps do not decrease, so an out-of-range row's excursion began at the latest run start
        # at or before it; a run still open from the previous batch began at the carried start.
        run_start = np.maximum.accumulate(np.maximum(np.where(starts, t, -np.inf), carried))
        duration = np.where(out, t - run_start, 0.0)
        breach = out & ((duration >= grace_s) if inclusive else (duration > grace_s))
        prev_breach = np.concatenate([[self.breached], breach[:-1]])
        alert = breach & ~prev_breach
        if out.shape[0]:
            self.start_s = int(run_start[-1]) if out[-1] else None
            self.breached = bool(breach[-1])
        return duration, breach, alert


class SlaMonitor:
    """Streaming SLA rules for one shipment; deterministic and checkpointable (O(speed window) state)."""

    name = "sla"
    STATE_VERSION = 2

    def __init__(self, terms: SlaTerms, settings: DetectSettings) -> None:
        self.terms = terms
        self._route = _polyline(terms)
        self._diversions = _diversions(terms)
        self._speed_window_s = settings.eta_speed_window_s
        self._min_speed = settings.eta_min_speed_mps
        self._safety = settings.eta_safety_factor
        self._min_moving_s = min(settings.eta_min_moving_s, settings.eta_speed_window_s)
        self._temp = _Excursion()
        self._humidity = _Excursion()
        self._off_route = _Excursion()
        self._late = False
        self._last_s: int | None = None
        self._progress: list[tuple[int, float]] = []  # (timestamp_s, remaining_m) inside the speed window

    def replan(self, terms: SlaTerms) -> None:
        """New terms from the next reading on (a delivery leg was awarded or rerouted). Open excursions and
        the off-route/late episode flags carry over; the speed history is dropped because its route metres
        were measured along the old corridor."""
        self.terms = terms
        self._route = _polyline(terms)
        self._diversions = _diversions(terms)
        self._progress = []

    def score(self, reading: Reading) -> list[Score]:
        """Score one reading; returns one Score per rule."""
        batch = self.score_batch([reading])
        return [
            Score(self.name, rule, float(s.value[0]), float(s.statistic[0]), bool(s.alert[0]))
            for rule, s in batch.items()
        ]

    def score_batch(self, readings: Sequence[Reading]) -> dict[str, BatchScores]:
        """Score readings in time order; each reading sees only itself and earlier readings."""
        if not readings:
            return {rule: BatchScores(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.bool_)) for rule in RULES}
        t = np.fromiter((r.timestamp_s for r in readings), dtype=np.float64, count=len(readings))
        previous = -np.inf if self._last_s is None else self._last_s
        if np.any(np.diff(np.concatenate([[previous], t])) < 0):
            raise DetectorInputError("readings must be in non-decreasing timestamp order")
        terms = self.terms
        temp = np.fromiter((r.temp_centi_c for r in readings), dtype=np.float64, count=len(readings))
        hum = np.fromiter((r.humidity_bp for r in readings), dtype=np.float64, count=len(readings))
        shock = np.fromiter((r.shock_milli_g for r in readings), dtype=np.float64, count=len(readings))
        lat = np.fromiter((r.lat_e6 for r in readings), dtype=np.float64, count=len(readings)) / 1e6
        lon = np.fromiter((r.lon_e6 for r in readings), dtype=np.float64, count=len(readings)) / 1e6

        grace = terms.excursion_grace_s
        out_t = (temp < terms.temp_min_centi_c) | (temp > terms.temp_max_centi_c)
        dur_t, _, alert_t = self._temp.run(t, out_t, grace)
        out_h = (hum < terms.humidity_min_bp) | (hum > terms.humidity_max_bp)
        dur_h, _, alert_h = self._humidity.run(t, out_h, grace)
        # With zero grace any time out of range breaches: count the excursion from one second.
        grace_scale = max(grace, 1)

        over = shock > terms.shock_limit_milli_g

        half_width = terms.corridor_width_m / 2
        if self._route is not None:
            position = self._route.locate(lat, lon)
            off_route_m, remaining_m = position.off_route_m, position.remaining_m
            for diversion in self._diversions:
                off_route_m = np.minimum(off_route_m, diversion.locate(lat, lon).off_route_m)
        else:
            off_route_m, remaining_m = np.zeros_like(t), np.zeros_like(t)
        off = off_route_m > half_width
        _, _, alert_route = self._off_route.run(t, off, terms.route_grace_s, inclusive=True)

        if terms.has_deadline:
            late_stat, late_value, alert_late = self._forecast(t, remaining_m, half_width)
        else:
            late_stat, late_value = np.zeros_like(t), np.zeros_like(t)
            alert_late = np.zeros(t.shape[0], dtype=np.bool_)
        self._last_s = int(t[-1])
        return {
            "temperature": BatchScores(dur_t, severity_array(dur_t, grace_scale), alert_t),
            "humidity": BatchScores(dur_h, severity_array(dur_h, grace_scale), alert_h),
            "shock": BatchScores(shock, severity_array(shock, terms.shock_limit_milli_g), over),
            "route": BatchScores(off_route_m, severity_array(off_route_m, half_width), alert_route),
            "late_arrival": BatchScores(late_stat, late_value, alert_late),
        }

    def _forecast(
        self, t: FloatArray, remaining: FloatArray, arrived_within_m: float
    ) -> tuple[FloatArray, FloatArray, BoolArray]:
        """Forecast lateness per reading: (forecast arrival - deadline) seconds, severity, alert."""
        hist_t = np.array([p[0] for p in self._progress], dtype=np.float64)
        hist_r = np.array([p[1] for p in self._progress], dtype=np.float64)
        all_t = np.concatenate([hist_t, t])
        all_r = np.concatenate([hist_r, remaining])
        # The reference point is the oldest reading inside the speed window before each reading, but not
        # before the goods last stood still: a dwell (loading, a handover, a rest stop) averaged into the
        # speed would forecast a truck back on the road as late as a crawling one.
        ref = np.searchsorted(all_t, t - self._speed_window_s, side="left")
        rows = np.arange(all_t.shape[0])
        step_s = np.diff(all_t, prepend=-np.inf)
        stood = (step_s > 0) & (all_r[np.maximum(rows - 1, 0)] - all_r < self._min_speed * step_s)
        last_stop = np.maximum.accumulate(np.where(stood, rows, 0))
        ref = np.maximum(ref, last_stop[hist_t.shape[0] :])
        elapsed = t - all_t[ref]
        progress = all_r[ref] - remaining
        with np.errstate(invalid="ignore", divide="ignore"):
            speed = np.where(elapsed > 0, progress / elapsed, 0.0)
        deadline = float(self.terms.delivery_deadline_s)
        arrived = remaining <= arrived_within_m
        moving = (speed >= self._min_speed) & (elapsed >= self._min_moving_s)
        past_deadline = t > deadline
        travel = remaining / np.where(moving, speed, 1.0) * self._safety  # meaningful only where moving
        time_left = deadline - t
        # A stopped truck gets no forecast (a rest stop is not lateness) until the deadline itself passes.
        late = ~arrived & (past_deadline | (moving & (t + travel > deadline)))
        statistic = np.where(
            arrived, 0.0, np.where(moving, t + travel - deadline, np.where(past_deadline, t - deadline, 0.0))
        )
        ratio = np.where(moving & (time_left > 0), travel / np.where(time_left > 0, time_left, 1.0), 0.0)
        value = np.where(arrived, 0.0, np.where(past_deadline, 1.0, ratio / (1.0 + ratio)))
        prev_late = np.concatenate([[self._late], late[:-1]])
        alert = late & ~prev_late
        self._late = bool(late[-1])
        keep_from = np.searchsorted(all_t, all_t[-1] - self._speed_window_s, side="left")
        self._progress = [(int(a), float(b)) for a, b in zip(all_t[keep_from:], all_r[keep_from:], strict=True)]
        return statistic, value, alert

    def detections(self, readings: Sequence[Reading], scores: dict[str, BatchScores]) -> list[Detection]:
        """Explainable detections for the alerting rows of a scored batch."""
        units = {
            "temperature": "s out of range",
            "humidity": "s out of range",
            "shock": "milli-g",
            "route": "m from corridor centre line",
            "late_arrival": "s forecast past deadline",
        }
        found: list[Detection] = []
        for rule, batch in scores.items():
            for row in np.flatnonzero(batch.alert):
                found.append(
                    Detection(
                        detector=self.name,
                        signal=rule,
                        timestamp_s=readings[int(row)].timestamp_s,
                        value=float(batch.value[row]),
                        statistic=float(batch.statistic[row]),
                        reason=f"{rule}: {batch.statistic[row]:.0f} {units[rule]}",
                    )
                )
        return sorted(found, key=lambda d: (d.timestamp_s, d.signal))

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": self.STATE_VERSION,
            "temp": [self._temp.start_s, self._temp.breached],
            "humidity": [self._humidity.start_s, self._humidity.breached],
            "off_route": [self._off_route.start_s, self._off_route.breached],
            "late": self._late,
            "last_s": self._last_s,
            "progress": [list(p) for p in self._progress],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != self.STATE_VERSION:
            raise DetectorInputError(f"unsupported SLA state version {state.get('version')!r}")
        self._temp.start_s, self._temp.breached = state["temp"][0], bool(state["temp"][1])
        self._humidity.start_s, self._humidity.breached = state["humidity"][0], bool(state["humidity"][1])
        self._off_route.start_s, self._off_route.breached = state["off_route"][0], bool(state["off_route"][1])
        self._late = bool(state["late"])
        self._last_s = state["last_s"]
        self._progress = [(int(a), float(b)) for a, b in state["progress"]]


def _diversions(terms: SlaTerms) -> tuple[Polyline, ...]:
    return tuple(Polyline([(lat / 1e6, lon / 1e6) for lat, lon in path]) for path in terms.diversions)


def _polyline(terms: SlaTerms) -> Polyline | None:
    if not terms.has_corridor:
        return None
    return Polyline([(lat / 1e6, lon / 1e6) for lat, lon in terms.corridor])
