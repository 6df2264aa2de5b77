"""IsolationForest over windows: warm-up only fit, alerts on unseen behaviour, deterministic checkpoints."""

import json

import numpy as np
import pytest

from oracles.detect.baseline import DetectorInputError
from oracles.detect.learned import WindowIsolationForest
from oracles.settings import DetectSettings

SETTINGS = DetectSettings(iforest_window=4, iforest_warmup_rows=200, iforest_trees=50, refractory_rows=50)
COLUMNS = ("temp_c", "humidity_pct")


def normal_rows(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    temp = 4.0 + rng.normal(0, 0.1, n)
    return np.column_stack([temp, 80.0 + 2.0 * (temp - 4.0) + rng.normal(0, 0.1, n)])


def test_warmup_rows_score_zero_and_never_alert():
    result = WindowIsolationForest(COLUMNS, SETTINGS).score_batch(normal_rows(200))
    assert not result.statistic.any() and not result.alert.any()


def test_forest_is_fitted_when_warmup_completes():
    detector = WindowIsolationForest(COLUMNS, SETTINGS)
    detector.score_batch(normal_rows(199))
    assert not detector.fitted
    detector.score_batch(normal_rows(1, seed=9))
    assert detector.fitted


def test_broken_relation_after_warmup_alerts():
    rows = normal_rows(400)
    rows[300:, 1] -= 15.0  # humidity leaves its relation to temperature: a failing unit, not a rule
    sensitive = SETTINGS.model_copy(update={"iforest_score_threshold": 0.62})
    result = WindowIsolationForest(COLUMNS, sensitive).score_batch(rows)
    assert np.flatnonzero(result.alert)[0] == 300


def test_broken_relation_scores_above_every_warmup_free_normal_row():
    rows = normal_rows(400)
    rows[300:, 1] -= 15.0
    result = WindowIsolationForest(COLUMNS, SETTINGS).score_batch(rows)
    assert result.statistic[301] > result.statistic[200:300].max()


def test_normal_rows_after_warmup_mostly_stay_below_threshold():
    result = WindowIsolationForest(COLUMNS, SETTINGS).score_batch(normal_rows(2000))
    assert (result.statistic[200:] >= SETTINGS.iforest_score_threshold).mean() < 0.01


def test_batches_match_one_pass():
    rows = normal_rows(500)
    whole = WindowIsolationForest(COLUMNS, SETTINGS).score_batch(rows)
    detector = WindowIsolationForest(COLUMNS, SETTINGS)
    parts = [detector.score_batch(rows[i : i + 37]) for i in range(0, 500, 37)]
    assert np.array_equal(np.concatenate([p.statistic for p in parts]), whole.statistic)


def test_checkpoint_through_json_refits_the_same_forest():
    rows = normal_rows(500)
    rows[400:, 0] += 1.0
    whole = WindowIsolationForest(COLUMNS, SETTINGS).score_batch(rows)
    first = WindowIsolationForest(COLUMNS, SETTINGS)
    first.score_batch(rows[:333])
    restored = WindowIsolationForest(COLUMNS, SETTINGS)
    restored.load_state(json.loads(json.dumps(first.state_dict())))
    assert np.array_equal(restored.score_batch(rows[333:]).statistic, whole.statistic[333:])


def test_wrong_column_count_is_rejected():
    with pytest.raises(DetectorInputError, match="columns"):
        WindowIsolationForest(COLUMNS, SETTINGS).score_batch(np.zeros((5, 3)))


def test_non_finite_row_is_rejected():
    rows = normal_rows(5)
    rows[3, 1] = np.inf
    with pytest.raises(DetectorInputError, match="row 3"):
        WindowIsolationForest(COLUMNS, SETTINGS).score_batch(rows)


def test_warmup_shorter_than_window_is_rejected():
    with pytest.raises(DetectorInputError, match="too short"):
        WindowIsolationForest(COLUMNS, SETTINGS, warmup_rows=5)


def test_no_columns_is_rejected():
    with pytest.raises(DetectorInputError, match="at least one column"):
        WindowIsolationForest((), SETTINGS)


def test_state_for_other_columns_is_rejected():
    state = WindowIsolationForest(COLUMNS, SETTINGS).state_dict()
    with pytest.raises(DetectorInputError, match="other columns"):
        WindowIsolationForest(("temp_c",), SETTINGS).load_state(state)
