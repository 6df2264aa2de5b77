"""Benchmark of the oracle's detectors: streaming throughput per core and detection quality.

    python bench/oracle_detect.py [--data DIR] [--readings N]

* Throughput: a synthetic reefer shipment (route of 40 vertices, temperature/humidity with a slow
  compressor failure, shocks, a detour) scored in device-sized batches on one core, for each path an
  oracle node can run; plus the one-reading-at-a-time path.
* Quality: ``oracles.evaluate`` on DIR/nab and DIR/skab (NAB score, event P/R/F1, delay, row F1) for the
  window-novelty detector (the fixed configuration in ``DetectSettings``) and the robust baselines.
* Honesty: leave-one-file-out on DIR/nab (novelty hyperparameters picked on five files by NAB standard
  score, the sixth scored with them; the mean and pooled held-out scores are the honest figures), and an
  unseen check on seeded synthetic series with anomaly kinds the dev files lack (plus anomaly-free series:
  false alarms per 10,000 rows).

Prints a summary and writes bench/results/detect.json and bench/results/nab_scores.json (per-file rows).
"""

from __future__ import annotations

import os

# One core: pin numerical libraries to one thread before numpy loads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oracles.detect.baseline import (  # noqa: E402
    FloatArray,
    RelationBaseline,
    RobustBaseline,
    SmoothedBaseline,
    gate_alerts,
)
from oracles.detect.ensemble import ShipmentMonitor  # noqa: E402
from oracles.detect.learned import WindowIsolationForest  # noqa: E402
from oracles.detect.multivariate import PcaT2Q  # noqa: E402
from oracles.detect.novelty import NoveltyStream, WindowNovelty  # noqa: E402
from oracles.detect.sla import SlaMonitor, SlaTerms  # noqa: E402
from oracles.detect.synthetic import KINDS, NORMAL, labelled_series, write_nab_folder  # noqa: E402
from oracles.detect.types import Reading  # noqa: E402
from oracles.evaluate import LabelledFile, evaluate, load_file, load_windows  # noqa: E402
from oracles.nab_scoring import PROFILES, FileScore, normalised_total, probationary_length, score_file  # noqa: E402
from oracles.settings import DetectSettings  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DEVICE_BATCH = 1000  # readings per signed device batch scored at once
START_S = 1_700_000_000

# Published figures quoted for comparison (not measured here): NAB standard on exactly the nab/ dev
# files with NAB's own scorer, and SKAB authors' outlier-detection F1 on the full SKAB.
PUBLISHED_NAB_STANDARD = {
    "ARTime": 84.6,
    "HTM Java": 72.6,
    "Numenta HTM": 70.2,
    "Relative Entropy": 60.7,
    "Context OSE": 56.0,
    "KNN CAD": 49.2,
    "Random Cut Forest": 44.3,
    "Windowed Gaussian": 15.7,
}
PUBLISHED_SKAB_F1 = {"Conv-AE": 0.78, "MSET": 0.78, "T2+Q": 0.76, "Isolation Forest": 0.29}

# Leave-one-out grid for the novelty detector: small on purpose (32 configurations), each value a
# plausible a-priori choice, so picking on five files cannot memorise the sixth.
LOO_WINDOWS: tuple[tuple[int, ...], ...] = ((16,), (16, 32), (16, 32, 64), (8, 16, 32, 64))
LOO_THRESHOLDS = (3.5, 4.0, 4.5, 5.0)
LOO_REFRACTORY = (200, 500)
# Second leave-one-out: the window-length fusion is a grid dimension too. 'mean' uses the same four
# thresholds scaled by 0.75 (a mean of several z values spreads less than their maximum).
LOO_FUSIONS = ("any", "mean")
MEAN_THRESHOLD_SCALE = 0.75
SYNTHETIC_SEEDS = range(1, 5)


def synthetic_shipment(n: int, seed: int = 11) -> tuple[SlaTerms, list[Reading]]:
    """A reefer truck on a 40-vertex route at ~22 m/s, one reading every 10 s."""
    rng = np.random.default_rng(seed)
    vertices_lat = 48.0 + np.linspace(0, 2.0, 40)
    vertices_lon = 9.0 + np.cumsum(rng.normal(0.02, 0.01, 40))
    corridor = tuple(
        (round(a * 1e6), round(b * 1e6)) for a, b in zip(vertices_lat, vertices_lon, strict=True)
    )
    fraction = np.clip(np.arange(n) / n, 0, 1)
    seg = np.minimum((fraction * 39).astype(int), 38)
    local = fraction * 39 - seg
    lat = vertices_lat[seg] + local * (vertices_lat[seg + 1] - vertices_lat[seg])
    lon = vertices_lon[seg] + local * (vertices_lon[seg + 1] - vertices_lon[seg])
    lon[n // 3 : n // 3 + 50] += 0.05  # a detour
    # Thermostat-controlled cargo: AR(1) around the 4 degC set point (centi-degC), then a failing
    # compressor lets it drift up over the last fifth of the trip.
    noise = rng.normal(0, 5, n)
    temp = np.empty(n)
    temp[0] = 400.0
    for i in range(1, n):
        temp[i] = 400.0 + 0.98 * (temp[i - 1] - 400.0) + noise[i]
    temp[int(n * 0.8) :] += np.arange(n - int(n * 0.8)) * 0.02
    hum = 8000 - 3 * (temp - 400) + rng.normal(0, 10, n)
    shock = rng.integers(20, 400, n)
    shock[rng.integers(0, n, 5)] = 5000
    terms = SlaTerms(
        temp_min_centi_c=0,
        temp_max_centi_c=800,
        humidity_min_bp=5000,
        humidity_max_bp=9500,
        shock_limit_milli_g=3000,
        excursion_grace_s=900,
        corridor=corridor,
        corridor_width_m=2000,
        delivery_deadline_s=START_S + 10 * n + 3600,
    )
    readings = [
        Reading(
            START_S + 10 * i,
            int(temp[i]),
            int(hum[i]),
            0,
            int(shock[i]),
            round(lat[i] * 1e6),
            round(lon[i] * 1e6),
        )
        for i in range(n)
    ]
    return terms, readings


def per_core_rate(run: Callable[[], None], readings: int) -> dict[str, float]:
    """Readings per second of wall time and of this process's CPU time (one thread)."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    run()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "readings": readings,
        "wall_s": wall,
        "cpu_s": cpu,
        "readings_per_s": readings / wall,
        "readings_per_cpu_s": readings / cpu,
    }


def batches(readings: list[Reading]) -> list[list[Reading]]:
    return [readings[i : i + DEVICE_BATCH] for i in range(0, len(readings), DEVICE_BATCH)]


def throughput(n: int, settings: DetectSettings) -> dict[str, Any]:
    terms, readings = synthetic_shipment(n)
    chunks = batches(readings)
    temp = np.array([r.temp_centi_c for r in readings], dtype=np.float64) / 100
    hum = np.array([r.humidity_bp for r in readings], dtype=np.float64) / 100
    out: dict[str, Any] = {}

    def sla_only() -> None:
        monitor = SlaMonitor(terms, settings)
        for chunk in chunks:
            monitor.score_batch(chunk)

    def baselines_only() -> None:
        t, h = RobustBaseline("temp_c", settings), RobustBaseline("humidity_pct", settings)
        t_slow = SmoothedBaseline("temp_c", settings, settings.slow_span_rows)
        h_slow = SmoothedBaseline("humidity_pct", settings, settings.slow_span_rows)
        relation = RelationBaseline("temp_c", "humidity_pct", settings, settings.relation_warmup_rows)
        for i in range(0, n, DEVICE_BATCH):
            t.score_batch(temp[i : i + DEVICE_BATCH])
            h.score_batch(hum[i : i + DEVICE_BATCH])
            t_slow.score_batch(temp[i : i + DEVICE_BATCH])
            h_slow.score_batch(hum[i : i + DEVICE_BATCH])
            relation.score_batch(temp[i : i + DEVICE_BATCH], hum[i : i + DEVICE_BATCH])

    def forest_only() -> None:
        forest = WindowIsolationForest(("temp_c", "humidity_pct"), settings)
        rows = np.column_stack([temp, hum])
        for i in range(0, n, DEVICE_BATCH):
            forest.score_batch(rows[i : i + DEVICE_BATCH])

    def monitor(use_forest: bool) -> Callable[[], None]:
        def run() -> None:
            m = ShipmentMonitor(terms, settings, use_isolation_forest=use_forest)
            for chunk in chunks:
                m.score_batch(chunk)

        return run

    detections = ShipmentMonitor(terms, settings).score_batch(readings).detections
    out["synthetic_stream"] = {
        "readings": n,
        "device_batch": DEVICE_BATCH,
        "detections": [f"{d.detector}/{d.signal}@{(d.timestamp_s - START_S) // 10}" for d in detections],
    }
    out["sla_rules"] = per_core_rate(sla_only, n)
    out["robust_baselines_fast_slow_relation"] = per_core_rate(baselines_only, n)
    out["oracle_path_sla_plus_baselines"] = per_core_rate(monitor(False), n)
    out["isolation_forest_only"] = per_core_rate(forest_only, n)
    out["oracle_path_with_isolation_forest"] = per_core_rate(monitor(True), n)
    single = readings[: min(n, 5000)]

    def one_at_a_time() -> None:
        m = ShipmentMonitor(terms, settings)
        for reading in single:
            m.score_batch([reading])

    out["oracle_path_one_reading_per_call"] = per_core_rate(one_at_a_time, len(single))
    # The novelty search is far costlier per row than the node's path: timed on a shorter stream.
    novelty_rows = min(n, 20_000)

    def novelty_two_signals() -> None:
        stream = NoveltyStream(("temp_c", "humidity_pct"), settings)
        rows = np.column_stack([temp[:novelty_rows], hum[:novelty_rows]])
        for i in range(0, novelty_rows, DEVICE_BATCH):
            stream.score_batch(rows[i : i + DEVICE_BATCH])

    out["window_novelty_two_signals"] = per_core_rate(novelty_two_signals, novelty_rows)
    pair = np.column_stack([temp, hum])

    def pca_two_signals() -> None:
        detector = PcaT2Q(("temp_c", "humidity_pct"), settings)
        for i in range(0, n, DEVICE_BATCH):
            detector.score_batch(pair[i : i + DEVICE_BATCH])

    def pca_one_reading_per_call() -> None:
        detector = PcaT2Q(("temp_c", "humidity_pct"), settings)
        for i in range(len(single)):
            detector.score_batch(pair[i : i + 1])

    eight = np.random.default_rng(3).normal(size=(n, 8)) + temp[:, None]

    def pca_eight_signals() -> None:
        detector = PcaT2Q([f"s{k}" for k in range(8)], settings)
        for i in range(0, n, DEVICE_BATCH):
            detector.score_batch(eight[i : i + DEVICE_BATCH])

    out["pca_t2q_two_signals"] = per_core_rate(pca_two_signals, n)
    out["pca_t2q_two_signals_one_reading_per_call"] = per_core_rate(pca_one_reading_per_call, len(single))
    out["pca_t2q_eight_signals"] = per_core_rate(pca_eight_signals, n)
    return out


# "auto" is window novelty on NAB's one-column files and PCA T²+Q on SKAB's eight-column ones.
DETECTOR_RUNS = {
    "nab": (("auto", False), ("baseline", False), ("baseline", True)),
    "skab": (("auto", False), ("novelty", False), ("baseline", False), ("baseline", True)),
}


def quality(data: Path, settings: DetectSettings) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    summary: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for source in ("nab", "skab"):
        folder = data / source
        if not (folder / "combined_windows.json").is_file():
            sys.stderr.write(f"skipping {folder}: no combined_windows.json\n")
            continue
        for detector, use_forest in DETECTOR_RUNS[source]:
            label = f"{source}/{detector}{'+iforest' if use_forest else ''}"
            started = time.process_time()
            report = evaluate(
                folder, settings, use_isolation_forest=use_forest, detector=detector, progress=False
            )
            cpu = time.process_time() - started
            summary[label] = {**report["total"], "cpu_s": cpu, "rows_per_cpu_s": report["total"]["rows"] / cpu}
            rows.extend({"source": source, "detector": report["detector"], **f} for f in report["files"])
    return summary, rows


def novelty_statistics(file: LabelledFile, settings: DetectSettings, window: int) -> FloatArray:
    """Statistic per row and column of one window length (threshold and refractory do not change it)."""
    columns = []
    for k, column in enumerate(file.columns):
        detector = WindowNovelty(column, settings, window)
        columns.append(detector.score_batch(file.values[:, k]).statistic)
    return np.column_stack(columns)


def gated_detections(
    stats: dict[int, FloatArray],
    windows: tuple[int, ...],
    threshold: float,
    refractory: int,
    warmup: int,
    fusion: str = "any",
) -> list[bool]:
    """What ``NoveltyStream`` alerts with these settings, one per episode: 'any' (column, window) crossing
    ``threshold``, or some column's 'mean' over the windows crossing ``threshold * MEAN_THRESHOLD_SCALE``."""
    if fusion == "mean":
        mean = np.mean(np.stack([stats[w] for w in windows]), axis=0)  # (rows, columns)
        crossed = np.any(mean >= threshold * MEAN_THRESHOLD_SCALE, axis=1)
    else:
        crossed = np.any(np.concatenate([stats[w] for w in windows], axis=1) >= threshold, axis=1)
    crossed[:warmup] = False
    alert, _ = gate_alerts(crossed, 0, refractory)
    return [bool(a) for a in alert]


def leave_one_out(
    folder: Path, settings: DetectSettings, fusions: tuple[str, ...] = ("any",)
) -> dict[str, Any]:
    """Pick novelty settings on all files but one by NAB standard score, score the one left out."""
    windows_by_file = load_windows(folder)
    files = [load_file(folder, relative, windows_by_file[relative]) for relative in sorted(windows_by_file)]
    lengths = sorted({w for combo in LOO_WINDOWS for w in combo})
    stats = [{w: novelty_statistics(f, settings, w) for w in lengths} for f in files]
    grid = list(itertools.product(LOO_WINDOWS, LOO_THRESHOLDS, LOO_REFRACTORY, fusions))
    # scores[config][file][profile]
    scores: list[list[dict[str, FileScore]]] = []
    for windows, threshold, refractory, fusion in grid:
        per_file = []
        for f, s in zip(files, stats, strict=True):
            warmup = max(math.ceil(probationary_length(len(f.timestamps), settings.nab_probation_percent)), 1)
            detections = gated_detections(s, windows, threshold, refractory, warmup, fusion)
            per_file.append(
                {p.name: score_file(detections, f.windows, p, settings.nab_probation_percent) for p in PROFILES}
            )
        scores.append(per_file)

    def total(config: int, included: list[int], profile: str = "standard") -> float:
        value = normalised_total([scores[config][i][profile] for i in included])
        return -math.inf if value is None else value

    folds: list[dict[str, Any]] = []
    held_out: list[dict[str, FileScore]] = []
    for i, f in enumerate(files):
        others = [j for j in range(len(files)) if j != i]
        best = max(range(len(grid)), key=lambda c: (total(c, others), -c))  # ties: first in grid order
        windows, threshold, refractory, fusion = grid[best]
        held_out.append(scores[best][i])
        folds.append(
            {
                "held_out": f.relative_path,
                "picked": {
                    "windows": list(windows),
                    "fusion": fusion,
                    "z_threshold": threshold * (MEAN_THRESHOLD_SCALE if fusion == "mean" else 1.0),
                    "refractory_rows": refractory,
                },
                "picked_on_others_standard": total(best, others),
                "held_out_standard": scores[best][i]["standard"].normalised,
            }
        )
    everything = list(range(len(files)))
    tuned = max(range(len(grid)), key=lambda c: (total(c, everything), -c))
    chosen = (
        settings.novelty_windows,
        settings.novelty_z_threshold,
        settings.novelty_refractory_rows,
        settings.novelty_fusion,
    )
    fixed = grid.index(chosen) if chosen in grid else None
    held = [fold["held_out_standard"] for fold in folds if fold["held_out_standard"] is not None]
    return {
        "grid": {
            "windows": [list(w) for w in LOO_WINDOWS],
            "z_threshold": list(LOO_THRESHOLDS),
            "refractory_rows": list(LOO_REFRACTORY),
            "fusion": list(fusions),
            "mean_threshold_scale": MEAN_THRESHOLD_SCALE,
        },
        "folds": folds,
        "held_out_mean_standard": statistics.fmean(held),
        "held_out_pooled": {
            p.name: normalised_total([h[p.name] for h in held_out]) for p in PROFILES
        },
        "fixed_config_all_files": (
            None if fixed is None else {p.name: total(fixed, everything, p.name) for p in PROFILES}
        ),
        "best_on_all_files_tuned_on_test_do_not_quote": {
            "config": {
                "windows": list(grid[tuned][0]),
                "z_threshold": grid[tuned][1],
                "refractory_rows": grid[tuned][2],
                "fusion": grid[tuned][3],
            },
            "standard": total(tuned, everything),
        },
    }


def mean_fusion(settings: DetectSettings) -> DetectSettings:
    """The 'mean' fusion option as leave-one-file-out picked it (five of six folds), for comparison."""
    return settings.model_copy(
        update={"novelty_fusion": "mean", "novelty_windows": (16, 32), "novelty_mean_z_threshold": 3.0}
    )


def synthetic_check(settings: DetectSettings, detectors: tuple[str, ...] = ("novelty", "baseline")) -> dict[str, Any]:
    """Seeded synthetic series (kinds absent from the dev set, plus anomaly-free ones), fixed settings."""
    series = [labelled_series(kind, seed) for kind in (*KINDS, NORMAL) for seed in SYNTHETIC_SEEDS]
    out: dict[str, Any] = {"seeds": list(SYNTHETIC_SEEDS), "rows_per_series": int(series[0].values.shape[0])}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_nab_folder(folder, series)
        for detector in detectors:
            report = evaluate(folder, settings, detector=detector, progress=False)
            by_kind: dict[str, dict[str, Any]] = {}
            for kind in (*KINDS, NORMAL):
                files = [r for r in report["files"] if Path(r["file"]).stem.rsplit("_", 1)[0] == kind]
                scored_rows = sum(r["rows"] - math.floor(probationary_length(r["rows"])) for r in files)
                by_kind[kind] = {
                    "windows": sum(r["windows"] for r in files),
                    "detected_windows": sum(r["detected_windows"] for r in files),
                    "false_alarm_events": sum(r["false_alarm_events"] for r in files),
                    "false_alarms_per_10k_rows": 1e4 * sum(r["false_alarm_events"] for r in files) / scored_rows,
                    "mean_delay_rows": statistics.fmean(
                        [r["mean_delay_rows"] for r in files if r["mean_delay_rows"] is not None] or [math.nan]
                    ),
                }
            out[detector] = {"total": report["total"], "by_kind": by_kind}
    out["white_noise_novelty"] = white_noise_false_alarms(settings)
    out["multivariate"] = multivariate_check(settings)
    return out


def related_signals(rng: np.random.Generator, rows: int, signals: int) -> FloatArray:
    """Signals driven by one shared AR(1) state (a thermostat cycle) with their own gains and noise."""
    state = np.zeros(rows)
    shocks = rng.normal(0, 1, rows)
    for i in range(1, rows):
        state[i] = 0.98 * state[i - 1] + shocks[i]
    gains = rng.uniform(0.5, 2.0, signals) * rng.choice([-1.0, 1.0], signals)
    values: FloatArray = state[:, None] * gains + rng.normal(0, 1.0, (rows, signals))
    return values


def multivariate_check(settings: DetectSettings, series: int = 10, rows: int = 4032) -> dict[str, Any]:
    """PCA T²+Q, fixed settings, on seeded related signals (generated once, never adjusted after a score):
    false alarms with nothing to find, and the first alert after one signal leaves the shared state."""
    false_alarms, delays, missed = 0, [], 0
    onset = rows // 2
    for seed in range(series):
        rng = np.random.default_rng(2000 + seed)
        signals = 2 + seed % 4
        normal = related_signals(rng, rows, signals)
        false_alarms += int(PcaT2Q([f"s{k}" for k in range(signals)], settings).score_batch(normal).alert.sum())
        broken = normal.copy()
        # The first signal stops following the shared state (a failed sensor or compressor): its own
        # noise around its last level.
        broken[onset:, 0] = broken[onset - 1, 0] + rng.normal(0, 1.0, rows - onset)
        batch = PcaT2Q([f"s{k}" for k in range(signals)], settings).score_batch(broken)
        hits = [a for a in batch.alerts if a.row >= onset]
        if hits:
            delays.append(hits[0].row - onset)
        else:
            missed += 1
    scored = series * (rows - settings.multivariate_warmup_rows)
    return {
        "series": series,
        "rows_per_series": rows,
        "signals": "2 to 5",
        "false_alarms_anomaly_free": false_alarms,
        "false_alarms_per_10k_rows": 1e4 * false_alarms / scored,
        "relation_breaks": series,
        "relation_breaks_found": series - missed,
        "delay_rows": delays,
    }


def white_noise_false_alarms(settings: DetectSettings, series: int = 10, rows: int = 4032) -> dict[str, Any]:
    """Novelty alerts on i.i.d. Gaussian noise (nothing to learn, nothing to find), fixed settings."""
    alerts = 0
    for seed in range(series):
        values = np.random.default_rng(1000 + seed).normal(0.0, 1.0, size=(rows, 1))
        alerts += int(NoveltyStream(["noise"], settings).score_batch(values).alert.sum())
    scored = series * (rows - settings.novelty_min_history)
    return {"series": series, "rows_per_series": rows, "alerts": alerts, "alerts_per_10k_rows": 1e4 * alerts / scored}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/anomaly"))
    parser.add_argument("--readings", type=int, default=200_000)
    args = parser.parse_args()
    settings = DetectSettings()
    speed = throughput(args.readings, settings)
    scores, per_file = quality(args.data, settings)
    honesty: dict[str, Any] = {
        "protocol": (
            "Thresholds fixed in DetectSettings before scoring; NAB probationary rows are warm-up only."
            " The novelty design and defaults were explored on the NAB dev files, so their all-files score"
            " is optimistic. Less biased: the leave-one-file-out held-out scores (parameters picked on five"
            " files, the sixth scored with them) and the seeded synthetic series; the disjoint HOLDOUT set"
            " kept elsewhere remains the real test. SKAB uses the same fixed settings."
        ),
    }
    if (args.data / "nab" / "combined_windows.json").is_file():
        honesty["nab_leave_one_out"] = leave_one_out(args.data / "nab", settings)
        honesty["nab_leave_one_out_with_fusion"] = leave_one_out(args.data / "nab", settings, LOO_FUSIONS)
        mean_report = evaluate(args.data / "nab", mean_fusion(settings), detector="novelty", progress=False)
        honesty["nab_mean_fusion_16_32_dev"] = mean_report["total"]
    honesty["synthetic_unseen"] = synthetic_check(settings)
    honesty["synthetic_unseen_mean_fusion"] = synthetic_check(mean_fusion(settings), detectors=("novelty",))
    result = {
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "sklearn": sklearn.__version__,
            "cpu": platform.processor() or platform.machine(),
            "threads": 1,
        },
        "settings": settings.model_dump(),
        "throughput": speed,
        "quality": scores,
        "honesty": honesty,
        "published_for_comparison": {
            "nab_standard": PUBLISHED_NAB_STANDARD,
            "skab_outlier_f1": PUBLISHED_SKAB_F1,
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "detect.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    (RESULTS / "nab_scores.json").write_text(json.dumps(per_file, indent=2, sort_keys=True) + "\n")
    for name, figures in speed.items():
        if "readings_per_s" in figures:
            print(
                f"{name:<45} {figures['readings_per_s']:>12,.0f} readings/s  "
                f"({figures['readings_per_cpu_s']:,.0f} per CPU-s, {figures['readings']} readings)"
            )
    for label, total in scores.items():
        nab = total["nab"]
        print(
            f"{label:<25} {total['rows_per_cpu_s']:>9,.0f} rows/CPU-s NAB std {nab['standard']:.1f}"
            f" lowFP {nab['reward_low_FP_rate']:.1f} "
            f"lowFN {nab['reward_low_FN_rate']:.1f}  event F1 {total['f1']:.2f} "
            f"(P {total['precision']:.2f} R {total['recall']:.2f})  row F1 {total['point_f1']:.2f}  "
            f"delay {total['mean_delay_rows']:.0f} rows"
        )
    for key in ("nab_leave_one_out", "nab_leave_one_out_with_fusion"):
        loo = honesty.get(key)
        if loo is None:
            continue
        pooled = loo["held_out_pooled"]
        print(
            f"{key}: held-out mean std {loo['held_out_mean_standard']:.1f}; pooled std"
            f" {pooled['standard']:.1f} lowFP {pooled['reward_low_FP_rate']:.1f}"
            f" lowFN {pooled['reward_low_FN_rate']:.1f}"
        )
        for fold in loo["folds"]:
            print(f"  {fold['held_out']:<56} {fold['held_out_standard']:6.1f}  picked {fold['picked']}")
    if "nab_mean_fusion_16_32_dev" in honesty:
        nab = honesty["nab_mean_fusion_16_32_dev"]["nab"]
        print(f"NAB dev, mean fusion (16, 32) z 3.0: std {nab['standard']:.1f}")
    for key, detector in (
        ("synthetic_unseen", "novelty"),
        ("synthetic_unseen", "baseline"),
        ("synthetic_unseen_mean_fusion", "novelty"),
    ):
        synthetic = honesty[key][detector]
        kinds = ", ".join(
            f"{k} {v['detected_windows']}/{v['windows']}"
            if k != NORMAL
            else f"none {v['false_alarms_per_10k_rows']:.1f} false alarms/10k rows"
            for k, v in synthetic["by_kind"].items()
        )
        label = "novelty-mean" if key.endswith("mean_fusion") else detector
        print(f"synthetic {label:<12} NAB std {synthetic['total']['nab']['standard']:.1f}  {kinds}")
    for key in ("synthetic_unseen", "synthetic_unseen_mean_fusion"):
        noise = honesty[key]["white_noise_novelty"]
        print(
            f"white noise, {key}: {noise['alerts']} alerts, {noise['alerts_per_10k_rows']:.1f} per 10k scored rows"
        )
    mv = honesty["synthetic_unseen"]["multivariate"]
    print(
        f"related signals, PCA T²+Q: {mv['false_alarms_anomaly_free']} false alarms"
        f" ({mv['false_alarms_per_10k_rows']:.1f} per 10k rows); relation breaks found"
        f" {mv['relation_breaks_found']}/{mv['relation_breaks']}, delays {mv['delay_rows']} rows"
    )
    print(f"wrote {RESULTS / 'detect.json'} and {RESULTS / 'nab_scores.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
