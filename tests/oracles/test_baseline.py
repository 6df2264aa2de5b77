"""Robust adaptive baseline: alerts, no look-ahead, batch/stream equivalence, checkpoints, bad input."""

import json

import numpy as np
import pytest

from oracles.detect.baseline import DetectorInputError, RelationBaseline, RobustBaseline
from oracles.settings import DetectSettings

SETTINGS = DetectSettings(baseline_window=64, baseline_stride=4, baseline_min_history=32, refractory_rows=20)


def noise(n: int, seed: int = 1) -> np.ndarray:
    return 20.0 + np.random.default_rng(seed).normal(0.0, 0.1, size=n)


def test_spike_raises_alert_on_its_row():
    values = noise(200)
    values[150] += 5.0
    result = RobustBaseline("temp_c", SETTINGS).score_batch(values)
    assert list(np.flatnonzero(result.alert)) == [150]


def test_alert_row_statistic_is_above_threshold_and_value_above_half():
    values = noise(200)
    values[150] += 5.0
    result = RobustBaseline("temp_c", SETTINGS).score_batch(values)
    assert result.statistic[150] >= SETTINGS.baseline_z_threshold
    assert result.value[150] > 0.5


def test_gaussian_noise_raises_no_alert():
    assert not RobustBaseline("temp_c", SETTINGS).score_batch(noise(3000)).alert.any()


def test_no_alert_before_min_history():
    values = noise(200)
    values[10] += 5.0
    assert not RobustBaseline("temp_c", SETTINGS).score_batch(values).alert[:32].any()


def test_second_spike_within_refractory_does_not_realert():
    values = noise(200)
    values[[150, 160]] += 5.0
    assert RobustBaseline("temp_c", SETTINGS).score_batch(values).alert.sum() == 1


def test_second_spike_after_refractory_realerts():
    values = noise(200)
    values[[150, 180]] += 5.0
    assert RobustBaseline("temp_c", SETTINGS).score_batch(values).alert.sum() == 2


def test_future_rows_do_not_change_past_scores():
    values = noise(300)
    prefix = RobustBaseline("temp_c", SETTINGS).score_batch(values[:150])
    whole = RobustBaseline("temp_c", SETTINGS).score_batch(values)
    assert np.array_equal(prefix.statistic, whole.statistic[:150])


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 500])
def test_batches_of_any_size_match_one_pass(chunk):
    values = noise(500)
    values[[100, 300]] += 3.0
    whole = RobustBaseline("temp_c", SETTINGS).score_batch(values)
    detector = RobustBaseline("temp_c", SETTINGS)
    parts = [detector.score_batch(values[i : i + chunk]) for i in range(0, 500, chunk)]
    assert np.array_equal(np.concatenate([p.statistic for p in parts]), whole.statistic)
    assert np.array_equal(np.concatenate([p.alert for p in parts]), whole.alert)


def test_single_row_score_matches_batch():
    values = noise(120)
    whole = RobustBaseline("temp_c", SETTINGS).score_batch(values)
    detector = RobustBaseline("temp_c", SETTINGS)
    scores = [detector.score(float(v)) for v in values]
    assert [s.statistic for s in scores] == list(whole.statistic)
    assert scores[0].detector == "robust_baseline" and scores[0].signal == "temp_c"


def test_checkpoint_through_json_resumes_exactly():
    values = noise(400)
    values[[250, 350]] += 4.0
    whole = RobustBaseline("temp_c", SETTINGS).score_batch(values)
    first = RobustBaseline("temp_c", SETTINGS)
    first.score_batch(values[:201])
    restored = RobustBaseline("temp_c", SETTINGS)
    restored.load_state(json.loads(json.dumps(first.state_dict())))
    rest = restored.score_batch(values[201:])
    assert np.array_equal(rest.statistic, whole.statistic[201:])
    assert np.array_equal(rest.alert, whole.alert[201:])


def test_flat_signal_does_not_divide_by_zero():
    result = RobustBaseline("flow", SETTINGS).score_batch(np.full(200, 32.0))
    assert np.all(np.isfinite(result.statistic)) and not result.alert.any()


def test_non_finite_value_is_rejected_with_its_row():
    with pytest.raises(DetectorInputError, match="row 2"):
        RobustBaseline("temp_c", SETTINGS).score_batch([1.0, 2.0, float("nan")])


def test_two_dimensional_batch_is_rejected():
    with pytest.raises(DetectorInputError, match="1-D"):
        RobustBaseline("temp_c", SETTINGS).score_batch(np.zeros((3, 2)))


def test_state_of_other_signal_is_rejected():
    state = RobustBaseline("temp_c", SETTINGS).state_dict()
    with pytest.raises(DetectorInputError, match="signal"):
        RobustBaseline("humidity_pct", SETTINGS).load_state(state)


def test_state_of_unknown_version_is_rejected():
    state = {**RobustBaseline("temp_c", SETTINGS).state_dict(), "version": 99}
    with pytest.raises(DetectorInputError, match="version"):
        RobustBaseline("temp_c", SETTINGS).load_state(state)


def test_state_with_overlong_history_is_rejected():
    state = {**RobustBaseline("temp_c", SETTINGS).state_dict(), "history": [1.0] * 100, "seen": 100}
    with pytest.raises(DetectorInputError, match="malformed"):
        RobustBaseline("temp_c", SETTINGS).load_state(state)


RELATION_SETTINGS = DetectSettings(baseline_window=64, baseline_stride=4, baseline_min_history=32)


def coupled(n: int, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    temp = 4.0 + np.cumsum(rng.normal(0, 0.05, n))  # wanders, so each signal alone looks unremarkable
    return temp, 85.0 - 3.0 * (temp - 4.0) + rng.normal(0, 0.05, n)


def test_relation_is_silent_while_the_coupling_holds():
    temp, hum = coupled(1000)
    assert (
        not RelationBaseline("temp_c", "humidity_pct", RELATION_SETTINGS, 100)
        .score_batch(temp, hum)
        .alert.any()
    )


def test_relation_alerts_when_the_coupling_breaks():
    temp, hum = coupled(1000)
    hum[600:] += 1.0  # 20 noise sigmas off the line, yet well inside the humidity wander
    result = RelationBaseline("temp_c", "humidity_pct", RELATION_SETTINGS, 100).score_batch(temp, hum)
    assert np.flatnonzero(result.alert)[0] == 600


def test_relation_warmup_rows_score_zero():
    temp, hum = coupled(200)
    result = RelationBaseline("temp_c", "humidity_pct", RELATION_SETTINGS, 100).score_batch(temp, hum)
    assert not result.statistic[:100].any()


def test_relation_checkpoint_resumes_exactly():
    temp, hum = coupled(800)
    hum[600:] += 1.0
    whole = RelationBaseline("temp_c", "humidity_pct", RELATION_SETTINGS, 100).score_batch(temp, hum)
    first = RelationBaseline("temp_c", "humidity_pct", RELATION_SETTINGS, 100)
    first.score_batch(temp[:50], hum[:50])  # stop inside the warm-up
    restored = RelationBaseline("temp_c", "humidity_pct", RELATION_SETTINGS, 100)
    restored.load_state(json.loads(json.dumps(first.state_dict())))
    assert np.array_equal(restored.score_batch(temp[50:], hum[50:]).statistic, whole.statistic[50:])


def test_relation_rejects_unequal_inputs():
    with pytest.raises(DetectorInputError, match="equally long"):
        RelationBaseline("temp_c", "humidity_pct", RELATION_SETTINGS, 100).score_batch([1.0, 2.0], [1.0])


def test_relation_rejects_state_of_other_pair():
    state = RelationBaseline("temp_c", "humidity_pct", RELATION_SETTINGS, 100).state_dict()
    with pytest.raises(DetectorInputError, match="signal pair"):
        RelationBaseline("temp_c", "light_lux", RELATION_SETTINGS, 100).load_state(state)
