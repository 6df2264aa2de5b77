"""The held-out protocol of bench/nab_heldout.py: fold selection, the fast gating replica, committees."""

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bench.nab_heldout import (
    Rule,
    Statistics,
    committee_alerts,
    crossings,
    detections,
    main,
    pick_per_fold,
    running_quantile,
    warmup_rows,
)
from oracles.detect.novelty import NoveltyStream
from oracles.evaluate import LabelledFile
from oracles.nab_scoring import FileScore
from oracles.settings import DetectSettings

ROWS = 1200


def file_score(raw: float) -> FileScore:
    """One window per file: null -1, perfect +1, so the normalised score is 50 * (raw + 1)."""
    return FileScore(raw=raw, null=-1.0, perfect=1.0, windows=1, detected_windows=1, false_positive_rows=0)


def test_pick_per_fold_uses_only_the_other_files() -> None:
    # Config 1 is perfect on file 0 and wins wherever file 0 is a training file, but not where it is
    # the held-out one: there config 0 is better on files 1 and 2.
    standard = [
        [file_score(-1.0), file_score(0.5), file_score(0.5)],
        [file_score(1.0), file_score(0.0), file_score(0.0)],
    ]
    assert pick_per_fold(standard) == [0, 1, 1]


def test_pick_per_fold_follows_the_training_files_when_they_disagree() -> None:
    standard = [
        [file_score(1.0), file_score(1.0), file_score(-1.0)],
        [file_score(-1.0), file_score(-1.0), file_score(1.0)],
    ]
    # Held out 0: others are files 1, 2 (tie 0 vs 0 -> first config); held out 2: config 0 wins on 0, 1.
    assert pick_per_fold(standard) == [0, 0, 0]
    standard[1][1] = file_score(1.0)
    assert pick_per_fold(standard) == [1, 0, 0]


def labelled_file() -> LabelledFile:
    rng = np.random.default_rng(3)
    t = np.arange(ROWS)
    values = 10 + 2 * np.sin(2 * np.pi * t / 48) + rng.normal(0, 0.3, ROWS)
    values[900:] += 4.0
    stamps = [datetime(2024, 1, 1) + timedelta(minutes=5 * i) for i in range(ROWS)]
    return LabelledFile("synthetic/shift.csv", stamps, ["value"], values[:, None], [(860, 940)])


SETTINGS = DetectSettings(novelty_windows=(8, 16), novelty_memory_rows=600, novelty_calibration_rows=300)


@pytest.mark.parametrize(
    "rule",
    [Rule((8, 16), "any", 4.0, 200, 300, 600), Rule((8, 16), "mean", 2.5, 100, 300, 600)],
    ids=["any", "mean"],
)
def test_fast_replica_alerts_where_novelty_stream_alerts(rule: Rule) -> None:
    file = labelled_file()
    settings = rule.settings(SETTINGS)
    assert settings is not None
    warmup = warmup_rows(ROWS, settings)
    stream = NoveltyStream(["value"], settings, min_history=warmup).score_batch(file.values)
    fast = detections(crossings(Statistics([file], SETTINGS), 0, rule, warmup), rule.refractory)
    assert np.flatnonzero(stream.alert).tolist() == np.flatnonzero(fast).tolist()
    assert any(fast[900:1000])


@pytest.mark.parametrize(
    "rule",
    [
        Rule((8, 16), "vote", 3.0, 200),
        Rule((8, 16), "any", 4.0, 200, transforms=("raw", "diff")),
        Rule((8, 16), "any", 4.0, 200, quantile=0.99),
    ],
    ids=["vote", "diff", "quantile"],
)
def test_rules_without_a_detector_setting_are_not_replayed(rule: Rule) -> None:
    assert rule.settings(SETTINGS) is None


def test_crossings_stay_silent_in_the_warm_up() -> None:
    file = labelled_file()
    crossed = crossings(Statistics([file], SETTINGS), 0, Rule((8, 16), "any", 0.0, 10, 300, 600), 950)
    assert not crossed[:950].any()
    assert crossed[950:].all()


def test_running_quantile_reads_only_earlier_rows() -> None:
    fused = np.random.default_rng(1).normal(size=1000)
    changed = fused.copy()
    changed[700:] += 50.0
    before, after = running_quantile(fused, 0.99, 100), running_quantile(changed, 0.99, 100)
    # Boundaries at 356 + 16k: the one at 708 is the first whose past holds row 700.
    assert np.array_equal(before[:708], after[:708])
    assert after[720] > before[720]


def test_running_quantile_has_no_threshold_before_enough_rows() -> None:
    out = running_quantile(np.ones(600), 0.99, 100)
    assert np.all(np.isneginf(out[:356]))
    assert out[356] == 1.0


def test_committee_crosses_on_half_of_the_votes_and_gates_by_the_median_refractory() -> None:
    rules = [Rule((8,), "any", 4.0, r) for r in (10, 20, 400)]
    crossed = [np.zeros(100, dtype=np.bool_) for _ in rules]
    crossed[0][[5, 40]] = True
    crossed[1][[5, 40]] = True
    crossed[2][60] = True  # one vote of three: not enough
    alerts = committee_alerts(crossed, rules)
    assert np.flatnonzero(alerts).tolist() == [5, 40]  # refractory 20 (median), so 40 opens a new episode


def test_main_rejects_a_folder_without_nab_windows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "out.json")]) == 2
    assert "combined_windows.json" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()
