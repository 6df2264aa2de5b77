"""Seeded synthetic series for the unseen check: reproducible, labelled like NAB, readable by evaluate."""

import json
from pathlib import Path

import numpy as np
import pytest

from oracles.detect.synthetic import KINDS, NORMAL, labelled_series, write_nab_folder
from oracles.evaluate import load_file, load_windows


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_gives_the_same_series(kind):
    assert np.array_equal(labelled_series(kind, 3).values, labelled_series(kind, 3).values)


@pytest.mark.parametrize("kind", KINDS)
def test_window_is_a_tenth_of_the_series_around_the_onset(kind):
    series = labelled_series(kind, 2)
    left, right = series.window
    assert left <= series.onset <= right and right - left == 2 * (series.values.shape[0] // 20)


@pytest.mark.parametrize("kind", KINDS)
def test_anomaly_changes_only_rows_from_the_onset(kind):
    # Same seed: the anomaly-free series shares the cycle and noise up to the onset.
    series, normal = labelled_series(kind, 4), labelled_series(NORMAL, 4)
    assert np.array_equal(series.values[: series.onset], normal.values[: series.onset])
    assert not np.array_equal(series.values[series.onset :], normal.values[series.onset :])


def test_anomaly_free_series_has_no_window():
    assert labelled_series(NORMAL, 1).window is None


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown anomaly kind 'flatline'"):
        labelled_series("flatline", 1)


def test_folder_is_readable_by_the_evaluator(tmp_path: Path):
    series = [labelled_series("drift", 1), labelled_series(NORMAL, 1)]
    write_nab_folder(tmp_path, series)
    windows = load_windows(tmp_path)
    assert set(windows) == {"synthetic/drift_1.csv", "synthetic/none_1.csv"}
    loaded = load_file(tmp_path, "synthetic/drift_1.csv", windows["synthetic/drift_1.csv"])
    assert loaded.windows == [series[0].window]
    assert np.array_equal(loaded.values[:, 0], series[0].values)
    assert json.loads((tmp_path / "combined_windows.json").read_text())["synthetic/none_1.csv"] == []
