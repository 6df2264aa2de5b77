"""NAB scoring (Lavin & Ahmad 2015; numenta/NAB ``nab/sweeper.py``), reimplemented row for row.

Per file and cost profile:

* each labelled window scores once: ``A_TP * sigma(p) / sigma(-1)`` at its earliest detection, where
  ``p = -(right - i + 1) / width`` is the row's position relative to the window's right edge and
  ``sigma(p) = 2 / (1 + exp(5 p)) - 1`` (NAB's scaled sigmoid, -1 for ``p >= 3``); a window without any
  detection costs ``-A_FN``;
* each detection outside every window costs ``A_FP * sigma(d)`` with
  ``d = |prev_right - i| / (prev_width - 1)``, its distance past the preceding window (``sigma(3) = -1``,
  the full penalty, when no window precedes it);
* rows before the probationary length ``min(floor(0.15 n), 0.15 * 5000)`` (NAB ``util.getProbationPeriod``)
  are not scored, and a window with no row after it is not counted.

Normalised score: ``100 * (raw - null) / (perfect - null)`` with ``null = -A_FN * windows`` (the detector
that never fires) and ``perfect = A_TP * windows`` (each window caught at its first row), summed over files.
A row is a detection when its anomaly score is ``>= threshold`` (NAB's ``scoreDataSet`` matching rule).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CostProfile:
    """NAB application profile (``config/profiles.json``)."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


PROFILES: tuple[CostProfile, ...] = (
    CostProfile("standard", tp_weight=1.0, fp_weight=0.11, fn_weight=1.0),
    CostProfile("reward_low_FP_rate", tp_weight=1.0, fp_weight=0.22, fn_weight=1.0),
    CostProfile("reward_low_FN_rate", tp_weight=1.0, fp_weight=0.11, fn_weight=2.0),
)


class NabScoringError(ValueError):
    """Inputs that NAB scoring cannot interpret (length mismatch, windows out of order, ...)."""


def scaled_sigmoid(relative_position: float) -> float:
    """NAB's ``scaledSigmoid``: 0.98661 at -1 (left window edge), 0 at the right edge, -1 from 3 on."""
    if relative_position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * relative_position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probationary_length(num_rows: int, probation_percent: float = 0.15) -> float:
    """NAB ``getProbationPeriod``: rows with index below this are not scored."""
    return min(math.floor(probation_percent * num_rows), probation_percent * 5000)


def window_row_ranges(
    timestamps: Sequence[datetime], windows: Sequence[tuple[datetime, datetime]]
) -> list[tuple[int, int]]:
    """Inclusive row index ranges ``(left, right)`` of each window, in row order as NAB's sweep walks them.

    A window opens at the first row (after the previous window) whose timestamp lies in it and runs while
    timestamps stay in it. Timestamps need not be monotonic: NAB's own files repeat or step back an hour
    at clock changes. Windows holding no row are dropped; windows out of order or overlapping raise
    ``NabScoringError``.
    """
    ranges: list[tuple[int, int]] = []
    previous_end: datetime | None = None
    cursor = 0
    for start, end in windows:
        if end < start:
            raise NabScoringError(f"window ends before it starts: {start} .. {end}")
        if previous_end is not None and start <= previous_end:
            raise NabScoringError(f"windows overlap or are out of order at {start}")
        previous_end = end
        while cursor < len(timestamps) and not start <= timestamps[cursor] <= end:
            cursor += 1
        left = cursor
        while cursor < len(timestamps) and start <= timestamps[cursor] <= end:
            cursor += 1
        if cursor > left:
            ranges.append((left, cursor - 1))
    return ranges


@dataclass(frozen=True, slots=True)
class FileScore:
    """Raw NAB score of one file under one profile, with the null and perfect scores it normalises by."""

    raw: float
    null: float
    perfect: float
    windows: int
    detected_windows: int
    false_positive_rows: int

    @property
    def normalised(self) -> float | None:
        """100 = perfect, 0 = the null detector; None for a file without scored windows."""
        if self.perfect == self.null:
            return None
        return 100.0 * (self.raw - self.null) / (self.perfect - self.null)


def score_file(
    detections: Sequence[bool],
    windows: Sequence[tuple[int, int]],
    profile: CostProfile,
    probation_percent: float = 0.15,
) -> FileScore:
    """Score one file's boolean detections against its window row ranges under ``profile``."""
    num_rows = len(detections)
    probation = probationary_length(num_rows, probation_percent)
    for left, right in windows:
        if not 0 <= left <= right < num_rows:
            raise NabScoringError(f"window rows {left}..{right} outside 0..{num_rows - 1}")
    best_in_window: dict[int, float] = {}
    counted_windows = [k for k, (_left, right) in enumerate(windows) if right >= probation]
    fp_total = 0.0
    fp_rows = 0
    window_iter = iter(enumerate(windows))
    upcoming = next(window_iter, None)
    current: tuple[int, int, int] | None = None  # (window id, left, right)
    previous: tuple[int, int] | None = None  # (right, width) of the last window passed
    for i, detected in enumerate(detections):
        if current is None and upcoming is not None and upcoming[1][0] == i:
            current = (upcoming[0], upcoming[1][0], upcoming[1][1])
            upcoming = next(window_iter, None)
        if detected and i >= probation:
            if current is not None:
                window_id, left, right = current
                width = right - left + 1
                weighted = scaled_sigmoid(-(right - i + 1) / width) * profile.tp_weight / MAX_TP
                best_in_window[window_id] = max(best_in_window.get(window_id, -math.inf), weighted)
            else:
                if previous is None:
                    position = 3.0
                else:
                    prev_right, prev_width = previous
                    # NAB divides by (width - 1); a one-row window would divide by zero there.
                    position = abs(prev_right - i) / max(prev_width - 1, 1)
                fp_total += scaled_sigmoid(position) * profile.fp_weight
                fp_rows += 1
        if current is not None and i == current[2]:
            previous = (current[2], current[2] - current[1] + 1)
            current = None
    window_total = sum(best_in_window.get(k, -profile.fn_weight) for k in counted_windows)
    count = len(counted_windows)
    return FileScore(
        raw=window_total + fp_total,
        null=-profile.fn_weight * count,
        perfect=profile.tp_weight * count,
        windows=count,
        detected_windows=sum(1 for k in counted_windows if k in best_in_window),
        false_positive_rows=fp_rows,
    )


def normalised_total(scores: Sequence[FileScore]) -> float | None:
    """NAB's corpus score: raw, null and perfect summed over files, then normalised."""
    raw = sum(s.raw for s in scores)
    null = sum(s.null for s in scores)
    perfect = sum(s.perfect for s in scores)
    if perfect == null:
        return None
    return 100.0 * (raw - null) / (perfect - null)


@dataclass(frozen=True, slots=True)
class EventMetrics:
    """Event-level counts: a window is found if any scored row in it is detected; an alarm event is a
    maximal run of detected rows and is false when it touches no window."""

    windows: int
    detected_windows: int
    alarm_events: int
    false_alarm_events: int
    delays_rows: tuple[int, ...]
    delays_s: tuple[float, ...]

    @property
    def precision(self) -> float | None:
        if self.alarm_events == 0:
            return None
        return (self.alarm_events - self.false_alarm_events) / self.alarm_events

    @property
    def recall(self) -> float | None:
        if self.windows == 0:
            return None
        return self.detected_windows / self.windows


def f1_score(precision: float | None, recall: float | None) -> float | None:
    """Harmonic mean; 0 when either side is 0 or undefined but the other is defined."""
    if precision is None and recall is None:
        return None
    p, r = precision or 0.0, recall or 0.0
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def event_metrics(
    detections: Sequence[bool],
    windows: Sequence[tuple[int, int]],
    timestamps: Sequence[datetime],
    probation_percent: float = 0.15,
) -> EventMetrics:
    """Event precision/recall and detection delays over the scored (post-probation) rows."""
    num_rows = len(detections)
    if len(timestamps) != num_rows:
        raise NabScoringError("timestamps and detections differ in length")
    probation = probationary_length(num_rows, probation_percent)
    in_window = [False] * num_rows
    for left, right in windows:
        for i in range(left, right + 1):
            in_window[i] = True
    counted = [(left, right) for left, right in windows if right >= probation]
    delays_rows: list[int] = []
    delays_s: list[float] = []
    for left, right in counted:
        first_scored = max(left, math.ceil(probation))
        hit = next((i for i in range(first_scored, right + 1) if detections[i]), None)
        if hit is not None:
            delays_rows.append(hit - left)
            delays_s.append((timestamps[hit] - timestamps[left]).total_seconds())
    events = 0
    false_events = 0
    i = math.ceil(probation)
    while i < num_rows:
        if not detections[i]:
            i += 1
            continue
        touches_window = False
        while i < num_rows and detections[i]:
            touches_window = touches_window or in_window[i]
            i += 1
        events += 1
        false_events += 0 if touches_window else 1
    return EventMetrics(
        windows=len(counted),
        detected_windows=len(delays_rows),
        alarm_events=events,
        false_alarm_events=false_events,
        delays_rows=tuple(delays_rows),
        delays_s=tuple(delays_s),
    )


@dataclass(frozen=True, slots=True)
class PointMetrics:
    """Row-level confusion counts over scored rows (SKAB's outlier-detection F1 is row-level)."""

    true_positive: int
    false_positive: int
    false_negative: int

    @property
    def precision(self) -> float | None:
        flagged = self.true_positive + self.false_positive
        return None if flagged == 0 else self.true_positive / flagged

    @property
    def recall(self) -> float | None:
        actual = self.true_positive + self.false_negative
        return None if actual == 0 else self.true_positive / actual


def point_metrics(
    flagged: Sequence[bool], windows: Sequence[tuple[int, int]], probation_percent: float = 0.15
) -> PointMetrics:
    """Row-level counts of ``flagged`` against window membership, after the probationary period."""
    num_rows = len(flagged)
    probation = probationary_length(num_rows, probation_percent)
    label = [False] * num_rows
    for left, right in windows:
        for i in range(left, right + 1):
            label[i] = True
    tp = fp = fn = 0
    for i in range(math.ceil(probation), num_rows):
        if flagged[i] and label[i]:
            tp += 1
        elif flagged[i]:
            fp += 1
        elif label[i]:
            fn += 1
    return PointMetrics(tp, fp, fn)
