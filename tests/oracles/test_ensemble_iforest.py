"""The node's IsolationForest scoring path: the direct tree walk must equal scikit-learn's score_samples."""

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest

from oracles.detect.learned import WindowIsolationForest, _float32_floor, _TreeScorer, window_features
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


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("rows", [1, 2, 37, 500])
def test_tree_walk_equals_score_samples_on_random_forests(seed: int, rows: int):
    rng = np.random.default_rng(seed)
    train = rng.normal(0, 1 + seed, (80 + 100 * seed, 3))
    forest = IsolationForest(n_estimators=20 + 30 * seed, random_state=seed).fit(train)
    features = np.concatenate([rng.normal(0, 2 + seed, (rows, 3)), train[:rows]])
    assert np.array_equal(_TreeScorer(forest, 3).scores(features), -forest.score_samples(features))


def test_tree_walk_decides_a_value_at_a_threshold_the_way_scikit_learn_does():
    rng = np.random.default_rng(7)
    forest = IsolationForest(n_estimators=30, random_state=7).fit(rng.normal(0, 1, (200, 2)))
    # The float32s around each split's threshold: the nearest one and its neighbours fall on either side.
    split = [(t.feature[k], t.threshold[k]) for t in (e.tree_ for e in forest.estimators_) for k in range(t.node_count)]
    features = np.zeros((0, 2))
    for column, threshold in (s for s in split if s[0] >= 0):
        nearest = np.float32(threshold)
        for value in (np.nextafter(nearest, np.float32(-np.inf)), nearest, np.nextafter(nearest, np.float32(np.inf))):
            row = rng.normal(0, 1, (1, 2)).astype(np.float32)
            row[0, column] = value
            features = np.concatenate([features, row])
    assert np.array_equal(_TreeScorer(forest, 2).scores(features), -forest.score_samples(features))


def test_float32_floor_is_the_largest_float32_not_above_the_threshold():
    threshold = np.concatenate([np.random.default_rng(8).normal(0, 3, 1000), [0.0, 1.0, -2.5, 1e-30]])
    floor = _float32_floor(threshold)
    above = np.nextafter(floor, np.float32(np.inf))
    assert floor.dtype == np.float32
    assert np.all(floor.astype(np.float64) <= threshold) and np.all(above.astype(np.float64) > threshold)
