"""Evaluate the streaming detector on labelled data in NAB layout.

    python -m oracles.evaluate DATA_DIR [--json] [--results-dir OUT]
                                        [--detector auto|novelty|multivariate|baseline] [--isolation-forest]

DATA_DIR holds CSV files (a ``timestamp`` column and numeric columns) in sub-folders and, at its root,
``combined_windows.json`` mapping each file's relative path to its inclusive anomaly windows. Every file
listed there is replayed row by row through a fresh detector (no look-ahead; thresholds from
``DetectSettings``, never fitted here; NAB's probationary rows are the detector's warm-up and never
alert). The default ``auto`` picks by the file's width alone, a rule fixed in config: PCA T²+Q
(``PcaT2Q``) for files with at least ``multivariate_min_columns`` columns, window novelty
(``NoveltyStream``) for narrower ones; ``--detector`` forces one, or the robust-baseline
``StreamDetector``) and scored with NAB's scorer,
event-level precision/recall/F1, detection delay and row-level F1. ``--results-dir`` writes NAB results
files so NAB's own scorer can re-check the numbers.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oracles.detect.baseline import DetectorInputError, FloatArray
from oracles.detect.ensemble import StreamDetector, season_rows_for
from oracles.detect.multivariate import MultivariateAlert, PcaT2Q
from oracles.detect.novelty import NoveltyStream
from oracles.nab_scoring import (
    PROFILES,
    FileScore,
    event_metrics,
    f1_score,
    normalised_total,
    point_metrics,
    probationary_length,
    score_file,
    window_row_ranges,
)
from oracles.settings import DetectSettings

logger = logging.getLogger("oracles.evaluate")

WINDOWS_FILE = "combined_windows.json"
# Rows per batch fed to the detector: the streaming state is carried between batches exactly.
REPLAY_BATCH = 4096
DETECTORS = ("auto", "novelty", "multivariate", "baseline")


class EvaluationInputError(ValueError):
    """The data folder is not in NAB layout or a file cannot be read as numeric sensor data."""


@dataclass(frozen=True, slots=True)
class LabelledFile:
    relative_path: str
    timestamps: list[datetime]
    columns: list[str]
    values: FloatArray
    windows: list[tuple[int, int]]


def _parse_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise EvaluationInputError(f"window timestamp {text!r} is not ISO formatted") from exc


def load_windows(data_dir: Path) -> dict[str, list[tuple[datetime, datetime]]]:
    path = data_dir / WINDOWS_FILE
    if not path.is_file():
        raise EvaluationInputError(f"{path} not found: DATA_DIR must hold {WINDOWS_FILE} at its root")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise EvaluationInputError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise EvaluationInputError(f"{path} must map relative paths to lists of windows")
    windows: dict[str, list[tuple[datetime, datetime]]] = {}
    for relative, pairs in raw.items():
        if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise EvaluationInputError(f"{path}: windows of {relative!r} must be [[start, end], ...]")
        windows[relative] = sorted((_parse_time(start), _parse_time(end)) for start, end in pairs)
    return windows


def load_file(data_dir: Path, relative: str, windows: list[tuple[datetime, datetime]]) -> LabelledFile:
    path = data_dir / relative
    if not path.is_file():
        raise EvaluationInputError(f"{relative} is labelled in {WINDOWS_FILE} but {path} does not exist")
    frame = pd.read_csv(path)
    if "timestamp" not in frame.columns:
        raise EvaluationInputError(f"{relative}: no 'timestamp' column (columns: {list(frame.columns)})")
    columns = [c for c in frame.columns if c != "timestamp"]
    if frame.shape[0] < 2:
        raise EvaluationInputError(f"{relative}: needs at least two data rows, has {frame.shape[0]}")
    if not columns:
        raise EvaluationInputError(f"{relative}: no numeric column besides 'timestamp'")
    for column in columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise EvaluationInputError(f"{relative}: column {column!r} is not numeric")
    values = frame[columns].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        row = int(np.flatnonzero(~np.all(np.isfinite(values), axis=1))[0])
        raise EvaluationInputError(f"{relative}: data row {row + 1} has a missing or non-finite value")
    try:
        stamps = [datetime.fromisoformat(str(t).strip()) for t in frame["timestamp"]]
    except ValueError as exc:
        raise EvaluationInputError(f"{relative}: unparseable timestamp: {exc}") from exc
    try:
        ranges = window_row_ranges(stamps, windows)
    except ValueError as exc:
        raise EvaluationInputError(f"{relative}: {exc}") from exc
    return LabelledFile(relative, stamps, columns, values, ranges)


@dataclass(frozen=True, slots=True)
class Replayed:
    """Per-row anomaly_score and state value of a replay, and the explanation of every alert row."""

    scores: FloatArray
    state: FloatArray
    alerts: list[dict[str, Any]]


def resolve_detector(detector_name: str, columns: int, settings: DetectSettings) -> str:
    """The detector ``auto`` stands for on a file of ``columns`` numeric columns; others unchanged."""
    if detector_name != "auto":
        return detector_name
    return "multivariate" if columns >= settings.multivariate_min_columns else "novelty"


def replay(
    file: LabelledFile, settings: DetectSettings, use_isolation_forest: bool, detector_name: str = "auto"
) -> Replayed:
    """Stream the file through a fresh detector, in batches, each row seeing only the rows before it."""
    # Detectors learn on the rows NAB does not score, as NAB's own detectors do with the probation period.
    warmup = max(math.ceil(probationary_length(len(file.timestamps), settings.nab_probation_percent)), 1)
    detector_name = resolve_detector(detector_name, len(file.columns), settings)
    if detector_name == "novelty":
        return _run(NoveltyStream(file.columns, settings, min_history=warmup), file)
    if detector_name == "multivariate":
        if len(file.columns) < 2:
            raise EvaluationInputError(
                f"{file.relative_path}: the multivariate detector needs two or more columns"
            )
        return _run(PcaT2Q(file.columns, settings, warmup_rows=warmup), file)
    if detector_name != "baseline":
        raise EvaluationInputError(f"unknown detector {detector_name!r}; choose one of {DETECTORS}")
    forest = use_isolation_forest and warmup >= settings.iforest_window + 8
    if use_isolation_forest and not forest:
        logger.warning("%s: too short for the isolation forest warm-up; baseline only", file.relative_path)
    # Sampling interval from the warm-up prefix only: the season length must not peek at later rows.
    prefix = file.timestamps[: max(warmup, 2)]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(prefix)]
    season = season_rows_for(statistics.median(gaps), settings) if gaps else None
    detector = StreamDetector(
        file.columns, settings, use_isolation_forest=forest, warmup_rows=warmup, season_rows=season
    )
    return _run(detector, file)


def _run(detector: StreamDetector | NoveltyStream | PcaT2Q, file: LabelledFile) -> Replayed:
    scores = np.empty(file.values.shape[0])
    state = np.empty(file.values.shape[0])
    alerts: list[dict[str, Any]] = []
    for start in range(0, file.values.shape[0], REPLAY_BATCH):
        result = detector.score_batch(file.values[start : start + REPLAY_BATCH])
        scores[start : start + result.anomaly_score.shape[0]] = result.anomaly_score
        state[start : start + result.value.shape[0]] = result.value
        # Only the components that fired on a row that opened an episode of the stream: what the
        # detection reported to a partner would say.
        alerts.extend(
            {
                "row": start + a.row,
                "timestamp": file.timestamps[start + a.row].isoformat(sep=" "),
                "detector": a.detector,
                "signal": a.signal,
                "severity": a.value,
                "statistic": a.statistic,
                # Which signals drove a multivariate statistic, with their shares of it.
                **({"contributions": dict(a.contributions)} if isinstance(a, MultivariateAlert) else {}),
            }
            for a in result.alerts
            if result.alert[a.row]
        )
    return Replayed(scores, state, alerts)


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def evaluate_file(
    file: LabelledFile, scores: FloatArray, state: FloatArray, settings: DetectSettings
) -> dict[str, Any]:
    """NAB scores per profile, event and row metrics of one file's replay."""
    detections = [bool(s >= settings.detection_threshold) for s in scores]
    flagged = [bool(v >= settings.detection_threshold) for v in state]
    nab = {p.name: score_file(detections, file.windows, p, settings.nab_probation_percent) for p in PROFILES}
    events = event_metrics(detections, file.windows, file.timestamps, settings.nab_probation_percent)
    points = point_metrics(flagged, file.windows, settings.nab_probation_percent)
    return {
        "file": file.relative_path,
        "rows": len(detections),
        "nab": {name: s.normalised for name, s in nab.items()},
        "nab_raw": {name: s.raw for name, s in nab.items()},
        "_nab_scores": nab,
        "windows": events.windows,
        "detected_windows": events.detected_windows,
        "alarm_events": events.alarm_events,
        "false_alarm_events": events.false_alarm_events,
        "precision": events.precision,
        "recall": events.recall,
        "f1": f1_score(events.precision, events.recall),
        "mean_delay_rows": _mean(events.delays_rows),
        "mean_delay_s": _mean(events.delays_s),
        "_delays_rows": events.delays_rows,
        "_delays_s": events.delays_s,
        "point": {"tp": points.true_positive, "fp": points.false_positive, "fn": points.false_negative},
        "point_f1": f1_score(points.precision, points.recall),
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    windows = sum(r["windows"] for r in rows)
    detected = sum(r["detected_windows"] for r in rows)
    events = sum(r["alarm_events"] for r in rows)
    false_events = sum(r["false_alarm_events"] for r in rows)
    precision = None if events == 0 else (events - false_events) / events
    recall = None if windows == 0 else detected / windows
    tp = sum(r["point"]["tp"] for r in rows)
    fp = sum(r["point"]["fp"] for r in rows)
    fn = sum(r["point"]["fn"] for r in rows)
    nab: dict[str, float | None] = {}
    for profile in PROFILES:
        per_file: list[FileScore] = [r["_nab_scores"][profile.name] for r in rows]
        nab[profile.name] = normalised_total(per_file)
    return {
        "files": len(rows),
        "rows": sum(r["rows"] for r in rows),
        "nab": nab,
        "windows": windows,
        "detected_windows": detected,
        "alarm_events": events,
        "false_alarm_events": false_events,
        "precision": precision,
        "recall": recall,
        "f1": f1_score(precision, recall),
        "mean_delay_rows": _mean([d for r in rows for d in r["_delays_rows"]]),
        "mean_delay_s": _mean([d for r in rows for d in r["_delays_s"]]),
        "point_f1": f1_score(
            None if tp + fp == 0 else tp / (tp + fp), None if tp + fn == 0 else tp / (tp + fn)
        ),
    }


def write_results(out_dir: Path, file: LabelledFile, scores: FloatArray) -> None:
    """NAB results file: timestamp,value,anomaly_score,label (value = first numeric column)."""
    label = np.zeros(len(file.timestamps), dtype=np.int64)
    for left, right in file.windows:
        label[left : right + 1] = 1
    target = out_dir / file.relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "timestamp": [t.strftime("%Y-%m-%d %H:%M:%S") for t in file.timestamps],
            "value": file.values[:, 0],
            "anomaly_score": scores,
            "label": label,
        }
    ).to_csv(target, index=False)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(rows: list[dict[str, Any]], total: dict[str, Any]) -> str:
    header = (
        f"{'file':<58} {'rows':>6} {'std':>6} {'lowFP':>6} {'lowFN':>6}"
        f" {'P':>5} {'R':>5} {'F1':>5} {'delay':>7} {'pF1':>5}"
    )
    lines = [header, "-" * len(header)]
    for r in [*rows, {**total, "file": "TOTAL"}]:
        nab = r["nab"]
        lines.append(
            f"{r['file']:<58} {r['rows']:>6} {_fmt(nab['standard']):>6} {_fmt(nab['reward_low_FP_rate']):>6}"
            f" {_fmt(nab['reward_low_FN_rate']):>6} {_fmt(r['precision'], 2):>5} {_fmt(r['recall'], 2):>5}"
            f" {_fmt(r['f1'], 2):>5} {_fmt(r['mean_delay_rows'], 0):>7} {_fmt(r['point_f1'], 2):>5}"
        )
    lines.append(
        "NAB scores normalised (0 = null detector, 100 = perfect); P/R/F1 event-level; delay in rows;"
    )
    lines.append("pF1 = row-level F1 of rows at or above the threshold (SKAB's outlier metric).")
    return "\n".join(lines)


def describe_detector(settings: DetectSettings, use_isolation_forest: bool, detector_name: str) -> str:
    if detector_name == "auto":
        novelty = describe_detector(settings, use_isolation_forest, "novelty")
        return f"auto: pca_t2q if >= {settings.multivariate_min_columns} columns, else {novelty}"
    if detector_name == "multivariate":
        return f"pca_t2q(variance={settings.multivariate_variance}, smooth={settings.multivariate_smooth_rows})"
    if detector_name == "novelty":
        return "+".join(f"window_novelty{w}" for w in settings.novelty_windows)
    parts = ["robust_baseline"]
    if settings.slow_span_rows >= 2:
        parts.append(f"slow_median{settings.slow_span_rows}")
    if use_isolation_forest:
        parts.append("isolation_forest")
    return "+".join(parts)


def evaluate(
    data_dir: Path,
    settings: DetectSettings,
    *,
    results_dir: Path | None = None,
    use_isolation_forest: bool = False,
    detector: str = "auto",
    progress: bool = True,
) -> dict[str, Any]:
    if detector not in DETECTORS:
        raise EvaluationInputError(f"unknown detector {detector!r}; choose one of {DETECTORS}")
    if use_isolation_forest and detector != "baseline":
        raise EvaluationInputError("the isolation forest is part of the baseline detector only")
    windows = load_windows(data_dir)
    labelled = set(windows)
    own_output = results_dir.resolve() if results_dir is not None else None
    for csv_path in sorted(data_dir.rglob("*.csv")):
        relative = csv_path.relative_to(data_dir).as_posix()
        if relative in labelled or (own_output is not None and own_output in csv_path.resolve().parents):
            continue
        logger.warning("%s has no entry in %s; skipped", relative, WINDOWS_FILE)
    rows: list[dict[str, Any]] = []
    for index, relative in enumerate(sorted(windows), start=1):
        started = time.perf_counter()
        file = load_file(data_dir, relative, windows[relative])
        replayed = replay(file, settings, use_isolation_forest, detector)
        rows.append({**evaluate_file(file, replayed.scores, replayed.state, settings), "alerts": replayed.alerts})
        if results_dir is not None:
            write_results(results_dir, file, replayed.scores)
        if progress:
            elapsed = time.perf_counter() - started
            sys.stderr.write(
                f"[{index}/{len(windows)}] {relative}: {len(file.timestamps)} rows in {elapsed:.2f} s\n"
            )
            sys.stderr.flush()
    total = summarise(rows)
    public_rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    return {
        "data_dir": str(data_dir),
        "detector": describe_detector(settings, use_isolation_forest, detector),
        "settings": settings.model_dump(),
        "files": public_rows,
        "total": total,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oracles.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path, help="folder in NAB layout with combined_windows.json")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.add_argument("--results-dir", type=Path, help="write NAB results files here")
    parser.add_argument(
        "--detector",
        choices=DETECTORS,
        default="auto",
        help=(
            "auto (default): multivariate for files of >= multivariate_min_columns columns, novelty"
            " otherwise; novelty: multi-scale window novelty; multivariate: PCA T²+Q; baseline: robust"
            " median/MAD baselines"
        ),
    )
    parser.add_argument(
        "--isolation-forest",
        action="store_true",
        help="add the window IsolationForest to --detector baseline (off by default: lowered NAB dev scores)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = DetectSettings()
    try:
        report = evaluate(
            args.data_dir,
            settings,
            results_dir=args.results_dir,
            use_isolation_forest=args.isolation_forest,
            detector=args.detector,
        )
    except (EvaluationInputError, DetectorInputError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    sys.stdout.write(format_table(report["files"], report["total"]) + "\n")
    if args.json:
        sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
