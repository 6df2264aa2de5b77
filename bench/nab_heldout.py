"""Held-out NAB figures of the window-novelty detector, and the unseen checks that go with them.

    python bench/nab_heldout.py [--data DIR] [--out FILE] [--skip-unseen]

Leave-one-file-out on DIR/nab: for each of the six files, every configuration of a protocol's grid is
scored on the five others by pooled NAB standard score, the best one (ties: first in grid order) is
applied to the sixth, and that file's score is the held-out one. Reported per protocol: the pooled
held-out score (NAB corpus style, all three profiles), the mean of held-out files, each fold's pick and
held-out score, and the best configuration on all six files (tuned on the test, never to be quoted as
a result). A protocol is a family of detection rules on the same window-novelty statistics:

* ``any`` / ``any_mean``: the grids of ``bench/oracle_detect.py`` (window sets x z thresholds x
  refractory, one window crossing or the mean over windows crossing); the figures quoted before.
* ``calibration``, ``memory``, ``long_windows``, ``vote``, ``differenced``, ``past_quantile``: ``any_mean``
  plus one idea each (longer calibration of the robust z, a 12,000-row nearest-neighbour memory, windows
  of 128/256 rows, two windows crossing, the first difference of the series as a second signal, a
  threshold raised to the running quantile of the file's own past fused statistic).
* ``committee_K``: not one configuration but the K best of ``any_mean`` on the five files, a row
  crossing when at least half of them cross; ``committee_nested`` picks K itself per fold by an inner
  leave-one-file-out on the five training files.

Selection uses fast replicas of ``NoveltyStream``'s gating on precomputed per-window statistics; every
held-out pick that is a ``DetectSettings`` configuration is then replayed through the real detector
(``oracles.evaluate.replay``) and the reported held-out score is that replay's. Unseen checks (defaults,
and each ``DetectSettings`` configuration the ``any_mean`` protocol picked): the seeded synthetic series
with anomaly kinds NAB lacks, white noise, SKAB (all columns as one stream, and each column on its own
as an extra univariate series). Writes bench/results/nab_heldout.json.
"""

from __future__ import annotations

import os

# One core: pin numerical libraries to one thread before numpy loads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Mapping, Sequence  # noqa: E402
from dataclasses import asdict, dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.oracle_detect import PUBLISHED_NAB_STANDARD, synthetic_check  # noqa: E402
from oracles.detect.baseline import BoolArray, FloatArray, gate_alerts  # noqa: E402
from oracles.detect.novelty import WindowNovelty  # noqa: E402
from oracles.evaluate import LabelledFile, evaluate, evaluate_file, load_file, load_windows, replay  # noqa: E402
from oracles.nab_scoring import PROFILES, FileScore, normalised_total, probationary_length, score_file  # noqa: E402
from oracles.settings import DetectSettings  # noqa: E402

logger = logging.getLogger("bench.nab_heldout")

RESULTS = Path(__file__).resolve().parent / "results"
STANDARD = "standard"

# The grids of bench/oracle_detect.py: each value a plausible a-priori choice, few of them, so that
# picking on five files cannot memorise the sixth.
WINDOW_SETS: tuple[tuple[int, ...], ...] = ((16,), (16, 32), (16, 32, 64), (8, 16, 32, 64))
Z_THRESHOLDS = (3.5, 4.0, 4.5, 5.0)
REFRACTORY = (200, 500)
# A mean of several z values spreads less than their maximum: 'mean' and 'vote' use the thresholds x 0.75.
MEAN_THRESHOLD_SCALE = 0.75
DEFAULT_CALIBRATION = 1000
DEFAULT_MEMORY = 4000
# Refresh of the running quantile threshold (rows) and the fewest past rows it is computed from.
QUANTILE_STRIDE = 16
QUANTILE_MIN_ROWS = 256


@dataclass(frozen=True, slots=True)
class Rule:
    """One detection rule on window-novelty statistics.

    ``fusion``: 'any' (some window's z >= z), 'mean' (mean z over the windows >= z), 'vote' (at least
    two windows' z >= z). ``transforms``: 'raw' and optionally 'diff' (first difference), a row crossing
    when either crosses. ``quantile``: the threshold is raised to this running quantile of the fused
    statistic over the file's rows after the warm-up and before the row.
    """

    windows: tuple[int, ...]
    fusion: str
    z: float
    refractory: int
    calibration_rows: int = DEFAULT_CALIBRATION
    memory_rows: int = DEFAULT_MEMORY
    transforms: tuple[str, ...] = ("raw",)
    quantile: float | None = None

    def settings(self, base: DetectSettings) -> DetectSettings | None:
        """The ``DetectSettings`` running this rule in ``NoveltyStream``, or None if no setting does."""
        if self.fusion not in ("any", "mean") or self.transforms != ("raw",) or self.quantile is not None:
            return None
        threshold = {"novelty_z_threshold": self.z} if self.fusion == "any" else {"novelty_mean_z_threshold": self.z}
        return base.model_copy(
            update={
                "novelty_windows": self.windows,
                "novelty_fusion": self.fusion,
                "novelty_refractory_rows": self.refractory,
                "novelty_calibration_rows": self.calibration_rows,
                "novelty_memory_rows": self.memory_rows,
                **threshold,
            }
        )

    def describe(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def base_grid(fusions: Sequence[str], **extra: Any) -> list[Rule]:
    rules = [
        Rule(windows, fusion, z * (1.0 if fusion == "any" else MEAN_THRESHOLD_SCALE), refractory)
        for windows, fusion, z, refractory in itertools.product(WINDOW_SETS, fusions, Z_THRESHOLDS, REFRACTORY)
        if not (fusion == "vote" and len(windows) < 2)
    ]
    return [replace(rule, **extra) for rule in rules]


def protocols() -> dict[str, list[Rule]]:
    any_mean = base_grid(("any", "mean"))
    long_sets = ((16, 32, 64, 128), (16, 32, 64, 128, 256))
    return {
        "any": base_grid(("any",)),
        "any_mean": any_mean,
        "calibration": [replace(r, calibration_rows=c) for c in (1000, 4000, 20_000) for r in any_mean],
        "memory": any_mean + [replace(r, memory_rows=12_000) for r in any_mean],
        "long_windows": any_mean
        + [replace(r, windows=w) for w in long_sets for r in any_mean if r.windows == WINDOW_SETS[-1]],
        "vote": any_mean + base_grid(("vote",)),
        "differenced": any_mean + [replace(r, transforms=("raw", "diff")) for r in any_mean],
        "past_quantile": any_mean + [replace(r, quantile=q) for q in (0.99, 0.995, 0.999) for r in any_mean],
    }


COMMITTEE_SIZES = (1, 3, 5, 9)


class Statistics:
    """Window-novelty z per (file, transform, window, calibration rows), computed once each."""

    def __init__(self, files: Sequence[LabelledFile], settings: DetectSettings) -> None:
        self.files = files
        self._settings = settings
        self._cache: dict[tuple[int, str, int, int, int], FloatArray] = {}
        self._quantiles: dict[tuple[Any, ...], FloatArray] = {}
        self._replays: dict[tuple[int, str], dict[str, FileScore]] = {}

    def z(self, file_index: int, transform: str, window: int, calibration_rows: int, memory_rows: int) -> FloatArray:
        key = (file_index, transform, window, calibration_rows, memory_rows)
        if key not in self._cache:
            values = self.files[file_index].values[:, 0]
            if transform == "diff":
                values = np.concatenate([[0.0], np.diff(values)])
            settings = self._settings.model_copy(
                update={"novelty_calibration_rows": calibration_rows, "novelty_memory_rows": memory_rows}
            )
            self._cache[key] = WindowNovelty("value", settings, window).score_batch(values).statistic
        return self._cache[key]

    def quantile_threshold(
        self, file_index: int, rule: Rule, transform: str, fused: FloatArray, warmup: int
    ) -> FloatArray:
        """``running_quantile`` of a rule's fused statistic; it does not depend on z or refractory."""
        assert rule.quantile is not None
        key = (file_index, transform, rule.windows, rule.fusion, rule.calibration_rows, rule.memory_rows, rule.quantile)
        if key not in self._quantiles:
            self._quantiles[key] = running_quantile(fused, rule.quantile, warmup)
        return self._quantiles[key]

    def replayed(self, file_index: int, settings: DetectSettings) -> dict[str, FileScore]:
        """NAB scores of the real ``NoveltyStream`` (via ``oracles.evaluate``) on one file."""
        key = (file_index, settings.model_dump_json())
        if key not in self._replays:
            file = self.files[file_index]
            run = replay(file, settings, False, "novelty")
            self._replays[key] = evaluate_file(file, run.scores, run.state, settings)["_nab_scores"]
        return self._replays[key]


def warmup_rows(rows: int, settings: DetectSettings) -> int:
    """What ``oracles.evaluate`` passes the detector: NAB's probationary length, at least one row."""
    return max(math.ceil(probationary_length(rows, settings.nab_probation_percent)), 1)


def running_quantile(fused: FloatArray, quantile: float, start: int) -> FloatArray:
    """Per row, the quantile of ``fused[start:b]`` for the stride boundary ``b`` at or before it."""
    out = np.full(fused.shape[0], -np.inf)
    for boundary in range(start + QUANTILE_MIN_ROWS, fused.shape[0], QUANTILE_STRIDE):
        out[boundary : boundary + QUANTILE_STRIDE] = np.quantile(fused[start:boundary], quantile)
    return out


def crossings(stats: Statistics, file_index: int, rule: Rule, warmup: int) -> BoolArray:
    """Rows where ``rule`` crosses (before gating), none in the warm-up: ``NoveltyStream``'s logic."""
    rows = stats.files[file_index].values.shape[0]
    crossed = np.zeros(rows, dtype=np.bool_)
    for transform in rule.transforms:
        z = np.stack([stats.z(file_index, transform, w, rule.calibration_rows, rule.memory_rows) for w in rule.windows])
        if rule.fusion == "vote":
            crossed |= np.sum(z >= rule.z, axis=0) >= 2
            continue
        if rule.fusion == "mean":
            # Summed in window order then divided, as NoveltyStream does (bit-identical statistic).
            fused: FloatArray = np.sum(z, axis=0) / len(rule.windows)
        else:
            fused = np.max(z, axis=0)
        threshold: FloatArray | float = rule.z
        if rule.quantile is not None:
            threshold = np.maximum(rule.z, stats.quantile_threshold(file_index, rule, transform, fused, warmup))
        crossed |= fused >= threshold
    crossed[:warmup] = False
    return crossed


def detections(crossed: BoolArray, refractory: int) -> list[bool]:
    alert, _ = gate_alerts(crossed, 0, refractory)
    return [bool(a) for a in alert]


def nab_scores(file: LabelledFile, detected: Sequence[bool], settings: DetectSettings) -> dict[str, FileScore]:
    return {p.name: score_file(detected, file.windows, p, settings.nab_probation_percent) for p in PROFILES}


def pooled_standard(scores: Sequence[FileScore]) -> float:
    value = normalised_total(list(scores))
    return -math.inf if value is None else value


def pick_per_fold(standard: Sequence[Sequence[FileScore]]) -> list[int]:
    """``standard[config][file]``: for each file, the config with the best pooled score on the others.

    Ties go to the first config in grid order, so the pick does not depend on anything but the grid.
    """
    configs, files = len(standard), len(standard[0])
    picks = []
    for held_out in range(files):
        others = [j for j in range(files) if j != held_out]
        picks.append(max(range(configs), key=lambda c: (pooled_standard([standard[c][j] for j in others]), -c)))
    return picks


def held_out_summary(per_file: Sequence[Mapping[str, FileScore]]) -> dict[str, Any]:
    standard = [s[STANDARD].normalised for s in per_file]
    return {
        "pooled": {p.name: normalised_total([s[p.name] for s in per_file]) for p in PROFILES},
        "mean_of_files_standard": statistics.fmean(v for v in standard if v is not None),
    }


def run_protocol(name: str, grid: Sequence[Rule], stats: Statistics, settings: DetectSettings) -> dict[str, Any]:
    files = stats.files
    warmups = [warmup_rows(f.values.shape[0], settings) for f in files]
    standard = [
        [
            score_file(detections(crossings(stats, i, rule, warmups[i]), rule.refractory), f.windows, PROFILES[0])
            for i, f in enumerate(files)
        ]
        for rule in grid
    ]
    picks = pick_per_fold(standard)
    folds: list[dict[str, Any]] = []
    held: list[dict[str, FileScore]] = []
    for i, (f, pick) in enumerate(zip(files, picks, strict=True)):
        rule = grid[pick]
        fast = nab_scores(f, detections(crossings(stats, i, rule, warmups[i]), rule.refractory), settings)
        scores, checked = fast, False
        detector_settings = rule.settings(settings)
        if detector_settings is not None:
            # The real streaming detector on the held-out file: its score is the one reported.
            real = stats.replayed(i, detector_settings)
            if real[STANDARD].raw != fast[STANDARD].raw:
                logger.warning("%s: fast replica and NoveltyStream differ on %s", name, f.relative_path)
            scores, checked = real, True
        held.append(scores)
        others = [j for j in range(len(files)) if j != i]
        folds.append(
            {
                "held_out": f.relative_path,
                "picked": rule.describe(),
                "picked_on_others_standard": pooled_standard([standard[pick][j] for j in others]),
                "held_out_standard": scores[STANDARD].normalised,
                "replayed_through_novelty_stream": checked,
            }
        )
    everything = range(len(files))
    tuned = max(range(len(grid)), key=lambda c: (pooled_standard([standard[c][j] for j in everything]), -c))
    return {
        "grid_size": len(grid),
        "folds": folds,
        **held_out_summary(held),
        "best_on_all_files_tuned_on_test_do_not_quote": {
            "rule": grid[tuned].describe(),
            "standard": pooled_standard([standard[tuned][j] for j in everything]),
        },
        "_picks": [grid[p] for p in picks],
    }


def committee_members(standard: Sequence[Sequence[FileScore]], training: Sequence[int], size: int) -> list[int]:
    """The ``size`` rules with the best pooled standard score on ``training`` (ties: grid order)."""
    ranked = sorted(range(len(standard)), key=lambda c: (-pooled_standard([standard[c][j] for j in training]), c))
    return ranked[:size]


def committee_alerts(crossed: Sequence[BoolArray], rules: Sequence[Rule]) -> list[bool]:
    """A row crosses when at least half of the rules cross; the members' median refractory gates it."""
    votes = np.sum(np.stack(crossed), axis=0)
    refractory = int(statistics.median(rule.refractory for rule in rules))
    return detections(votes >= len(rules) / 2, refractory)


def run_committee(
    sizes: Sequence[int], grid: Sequence[Rule], stats: Statistics, settings: DetectSettings
) -> dict[str, Any]:
    """Committees of the best rules on the training files, for each size, and nested: the size itself
    picked per outer fold by an inner leave-one-file-out on the five training files."""
    files = stats.files
    warmups = [warmup_rows(f.values.shape[0], settings) for f in files]
    crossed = [[crossings(stats, i, rule, warmups[i]) for i in range(len(files))] for rule in grid]
    standard = [
        [score_file(detections(crossed[c][i], grid[c].refractory), f.windows, PROFILES[0]) for i, f in enumerate(files)]
        for c in range(len(grid))
    ]

    def score(held_out: int, training: Sequence[int], size: int) -> tuple[list[int], dict[str, FileScore]]:
        members = committee_members(standard, training, size)
        alerts = committee_alerts([crossed[c][held_out] for c in members], [grid[c] for c in members])
        return members, nab_scores(files[held_out], alerts, settings)

    out: dict[str, Any] = {}
    everyone = range(len(files))
    for size in sizes:
        folds: list[dict[str, Any]] = []
        held: list[dict[str, FileScore]] = []
        for i in everyone:
            members, scores = score(i, [j for j in everyone if j != i], size)
            held.append(scores)
            folds.append(
                {
                    "held_out": files[i].relative_path,
                    "members": [grid[c].describe() for c in members],
                    "held_out_standard": scores[STANDARD].normalised,
                }
            )
        out[f"committee_{size}"] = {"folds": folds, **held_out_summary(held)}
    folds, held = [], []
    for i in everyone:
        training = [j for j in everyone if j != i]
        inner = {
            size: pooled_standard([score(j, [k for k in training if k != j], size)[1][STANDARD] for j in training])
            for size in sizes
        }
        size = max(sizes, key=lambda k: (inner[k], -k))  # ties: the smaller committee
        _, scores = score(i, training, size)
        held.append(scores)
        folds.append(
            {
                "held_out": files[i].relative_path,
                "inner_pooled_by_size": {str(k): v for k, v in inner.items()},
                "picked_size": size,
                "held_out_standard": scores[STANDARD].normalised,
            }
        )
    out["committee_nested"] = {"sizes": list(sizes), "folds": folds, **held_out_summary(held)}
    return out


def skab_columns_folder(skab: Path, target: Path) -> None:
    """Each numeric column of each SKAB file as its own one-column file (NAB layout), same windows."""
    windows = json.loads((skab / "combined_windows.json").read_text(encoding="utf-8"))
    out: dict[str, Any] = {}
    for relative, pairs in windows.items():
        frame = pd.read_csv(skab / relative)
        for column in (c for c in frame.columns if c != "timestamp"):
            name = f"{Path(relative).parent.name}_{Path(relative).stem}_{column}".replace(" ", "_")
            path = target / "columns" / f"{name}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            frame[["timestamp", column]].rename(columns={column: "value"}).to_csv(path, index=False)
            out[f"columns/{name}.csv"] = pairs
    (target / "combined_windows.json").write_text(json.dumps(out), encoding="utf-8")


def summary_row(total: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("nab", "windows", "detected_windows", "alarm_events", "false_alarm_events", "precision", "recall", "f1")
    return {**{k: total[k] for k in keys}, "row_f1": total["point_f1"], "mean_delay_rows": total["mean_delay_rows"]}


def unseen_checks(data: Path, settings: DetectSettings) -> dict[str, Any]:
    synthetic = synthetic_check(settings, detectors=("novelty",))
    by_kind = synthetic["novelty"]["by_kind"]
    out: dict[str, Any] = {
        "synthetic": {
            "nab_standard": synthetic["novelty"]["total"]["nab"][STANDARD],
            "windows_found": sum(v["detected_windows"] for v in by_kind.values()),
            "windows": sum(v["windows"] for v in by_kind.values()),
            "by_kind": by_kind,
        },
        "white_noise": synthetic["white_noise_novelty"],
    }
    skab = data / "skab"
    if (skab / "combined_windows.json").is_file():
        together = evaluate(skab, settings, detector="novelty", progress=False)
        out["skab_all_columns_one_stream"] = summary_row(together["total"])
        with tempfile.TemporaryDirectory() as tmp:
            skab_columns_folder(skab, Path(tmp))
            alone = evaluate(Path(tmp), settings, detector="novelty", progress=False)
        out["skab_each_column_alone"] = summary_row(alone["total"])
    return out


def label_of(rule: Rule) -> str:
    return f"{rule.fusion} windows {'/'.join(map(str, rule.windows))} z {rule.z:g} refractory {rule.refractory}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/anomaly"))
    parser.add_argument("--out", type=Path, default=RESULTS / "nab_heldout.json")
    parser.add_argument("--skip-unseen", action="store_true", help="only the NAB leave-one-file-out part")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = DetectSettings()
    nab = args.data / "nab"
    if not (nab / "combined_windows.json").is_file():
        sys.stderr.write(f"error: {nab} holds no combined_windows.json\n")
        return 2
    started = time.process_time()
    windows = load_windows(nab)
    files = [load_file(nab, relative, windows[relative]) for relative in sorted(windows)]
    stats = Statistics(files, settings)
    defaults = evaluate(nab, settings, detector="novelty", progress=False)
    result: dict[str, Any] = {
        "protocol": __doc__.split("\n\n", 2)[2].strip(),
        "published_nab_standard": PUBLISHED_NAB_STANDARD,
        "defaults_in_sample_do_not_quote_as_held_out": {
            "nab": defaults["total"]["nab"],
            "files": {r["file"]: r["nab"][STANDARD] for r in defaults["files"]},
        },
        "protocols": {},
    }
    picked_settings: dict[str, DetectSettings] = {}
    for name, grid in protocols().items():
        report = run_protocol(name, grid, stats, settings)
        for rule in report.pop("_picks"):
            detector_settings = rule.settings(settings)
            if name == "any_mean" and detector_settings is not None:
                picked_settings[label_of(rule)] = detector_settings
        result["protocols"][name] = report
        pooled = report["pooled"]
        print(
            f"{name:<15} grid {len(grid):>4}  held-out pooled std {pooled[STANDARD]:5.1f}"
            f" lowFP {pooled['reward_low_FP_rate']:5.1f} lowFN {pooled['reward_low_FN_rate']:5.1f}"
            f"  mean of files {report['mean_of_files_standard']:5.1f}"
        )
        for fold in report["folds"]:
            print(f"    {fold['held_out']:<56} {fold['held_out_standard']:6.1f}")
    for name, report in run_committee(COMMITTEE_SIZES, protocols()["any_mean"], stats, settings).items():
        result["protocols"][name] = report
        print(
            f"{name:<24} held-out pooled std {report['pooled'][STANDARD]:5.1f}"
            f"  mean of files {report['mean_of_files_standard']:5.1f}"
        )
        for fold in report["folds"]:
            print(f"    {fold['held_out']:<56} {fold['held_out_standard']:6.1f} {fold.get('picked_size', '')}")
    if not args.skip_unseen:
        unseen = {"defaults": unseen_checks(args.data, settings)}
        for label, detector_settings in picked_settings.items():
            if detector_settings.model_dump() != settings.model_dump():
                unseen[label] = unseen_checks(args.data, detector_settings)
        result["unseen"] = unseen
        for label, checks in unseen.items():
            syn, noise = checks["synthetic"], checks["white_noise"]
            line = (
                f"unseen, {label}: synthetic {syn['windows_found']}/{syn['windows']} windows, NAB std"
                f" {syn['nab_standard']:.1f}, false alarms on anomaly-free"
                f" {syn['by_kind']['none']['false_alarm_events']}; white noise"
                f" {noise['alerts_per_10k_rows']:.1f} alerts/10k rows"
            )
            for key in ("skab_all_columns_one_stream", "skab_each_column_alone"):
                if key in checks:
                    line += f"; {key} event F1 {checks[key]['f1']:.2f} row F1 {checks[key]['row_f1']:.2f}"
            print(line)
    result["cpu_s"] = time.process_time() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({result['cpu_s']:.0f} CPU-s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
