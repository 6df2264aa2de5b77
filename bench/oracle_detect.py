"""Benchmark of the oracle's detectors: streaming throughput per core and detection quality.

    python bench/oracle_detect.py [--data DIR] [--readings N]

* Throughput: a synthetic reefer shipment (route of 40 vertices, temperature/humidity with a slow
  compressor failure, shocks, a detour) scored in device-sized batches on one core, for each path an
  oracle node can run; plus the one-reading-at-a-time path.
* Quality: ``oracles.evaluate`` on DIR/nab and DIR/skab (NAB score, event P/R/F1, delay, row F1).

Prints a summary and writes bench/results/detect.json and bench/results/nab_scores.json (per-file rows).
"""

from __future__ import annotations

import os

# One core: pin numerical libraries to one thread before numpy loads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oracles.detect.baseline import RelationBaseline, RobustBaseline, SmoothedBaseline  # noqa: E402
from oracles.detect.ensemble import ShipmentMonitor  # noqa: E402
from oracles.detect.learned import WindowIsolationForest  # noqa: E402
from oracles.detect.sla import SlaMonitor, SlaTerms  # noqa: E402
from oracles.detect.types import Reading  # noqa: E402
from oracles.evaluate import evaluate  # noqa: E402
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
    return out


def quality(data: Path, settings: DetectSettings) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    summary: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for source in ("nab", "skab"):
        folder = data / source
        if not (folder / "combined_windows.json").is_file():
            sys.stderr.write(f"skipping {folder}: no combined_windows.json\n")
            continue
        for use_forest in (False, True):
            label = f"{source}/{'baseline+iforest' if use_forest else 'baseline'}"
            started = time.perf_counter()
            report = evaluate(folder, settings, use_isolation_forest=use_forest, progress=False)
            summary[label] = {**report["total"], "seconds": time.perf_counter() - started}
            rows.extend({"source": source, "detector": report["detector"], **f} for f in report["files"])
    return summary, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/anomaly"))
    parser.add_argument("--readings", type=int, default=200_000)
    args = parser.parse_args()
    settings = DetectSettings()
    speed = throughput(args.readings, settings)
    scores, per_file = quality(args.data, settings)
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
            f"{label:<25} NAB std {nab['standard']:.1f} lowFP {nab['reward_low_FP_rate']:.1f} "
            f"lowFN {nab['reward_low_FN_rate']:.1f}  event F1 {total['f1']:.2f} "
            f"(P {total['precision']:.2f} R {total['recall']:.2f})  row F1 {total['point_f1']:.2f}  "
            f"delay {total['mean_delay_rows']:.0f} rows"
        )
    print(f"wrote {RESULTS / 'detect.json'} and {RESULTS / 'nab_scores.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
