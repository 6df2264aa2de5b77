"""The node's IsolationForest scoring path: the direct tree walk must equal scikit-learn's score_samples."""

import numpy as np
import pytest

from oracles.detect.learned import WindowIsolationForest, _TreeScorer, window_features
from oracles.settings import DetectSettings

SETTINGS = DetectSettings(iforest_window=4, iforest_warmup_rows=100, iforest_trees=50)


def fitted(max_features: float = 1.0) -> tuple[WindowIsolationForest, np.ndarray]:
    rng = np.random.default_rng(3)
    rows = np.column_stack([4 + rng.normal(0, 0.3, 400), 80 + rng.normal(0, 1.0, 400)])
    detector = WindowIsolationForest(("temp_c", "humidity_pct"), SETTINGS)
    detector.score_batch(rows[:100])
    assert detector._forest is not None
    if max_features != 1.0:
        detector._forest.set_params(max_features=max_features)
        detector._forest.fit(window_features(rows[:100], 4))
        detector._scorer = _TreeScorer(detector._forest, 4)
    return detector, window_features(rows[100:], 4)


def test_tree_walk_scores_equal_score_samples_bit_for_bit():
    detector, features = fitted()
    assert detector._forest is not None and detector._scorer is not None
    expected = -detector._forest.score_samples(features)
    assert np.array_equal(detector._scorer.scores(features), expected)


def test_tree_walk_equals_score_samples_when_trees_see_a_subset_of_features():
    detector, features = fitted(max_features=0.5)
    assert detector._forest is not None and detector._scorer is not None
    expected = -detector._forest.score_samples(features)
    assert np.array_equal(detector._scorer.scores(features), expected)


@pytest.mark.parametrize("page", [1, 7, 500])
def test_forest_scores_do_not_depend_on_page_size(page: int):
    rng = np.random.default_rng(5)
    rows = np.column_stack([4 + rng.normal(0, 0.3, 600), 80 + rng.normal(0, 1.0, 600)])
    whole = WindowIsolationForest(("a", "b"), SETTINGS).score_batch(rows).statistic
    paged = WindowIsolationForest(("a", "b"), SETTINGS)
    parts = [paged.score_batch(rows[i : i + page]).statistic for i in range(0, 600, page)]
    assert np.array_equal(np.concatenate(parts), whole)
