"""Robust adaptive baseline: alerts, no look-ahead, batch/stream equivalence, checkpoints, bad input."""

import json

import numpy as np
import pytest

from oracles.detect.baseline import (
    DetectorInputError,
    RelationBaseline,
    RobustBaseline,
    SmoothedBaseline,
    prefix_location_scale,
    robust_location_scale,
    robust_z,
    row_medians,
)
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


def tied(n: int, seed: int = 4) -> np.ndarray:
    """Readings in centi-degrees, like the node's: few distinct values, many ties."""
    return 3.0 + np.random.default_rng(seed).integers(-30, 31, n) / 100


@pytest.mark.parametrize("width", [1, 2, 3, 31, 32, 1023, 1024])
@pytest.mark.parametrize("series", ["continuous", "tied", "padded"])
def test_row_medians_equal_numpy_median_bit_for_bit(width: int, series: str):
    values = {"continuous": noise(width + 300, seed=width), "tied": tied(width + 300, seed=width)}.get(
        series, np.concatenate([np.full(150, -np.inf), noise(width, seed=width), np.full(150, np.inf)])
    )
    windows = np.lib.stride_tricks.sliding_window_view(values, width)
    assert np.array_equal(row_medians(windows), np.median(windows, axis=1))


@pytest.mark.parametrize("series", [noise(400), tied(400), np.full(400, 32.0)])
def test_prefix_statistics_equal_each_prefix_computed_on_its_own(series: np.ndarray):
    lengths = np.random.default_rng(6).permutation(np.concatenate([np.arange(1, 400), [5, 5, 300]]))
    median, scale = prefix_location_scale(series, lengths, 1e-3, 1e-9)
    for k, m, s in zip(lengths, median, scale, strict=True):
        expected_m, expected_s = robust_location_scale(series[None, :k], 1e-3, 1e-9)
        assert (m, s) == (expected_m[0], expected_s[0]), k


def test_warm_up_rows_are_judged_against_every_earlier_row():
    values = tied(SETTINGS.baseline_window)
    statistic = RobustBaseline("temp_c", SETTINGS).score_batch(values).statistic
    expected = [0.0, 0.0] + [robust_z(values[k : k + 1], values[None, :k], 1e-3, 1e-9)[0] for k in range(2, 64)]
    assert list(statistic) == expected


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


SEASONAL_SETTINGS = DetectSettings(
    baseline_window=64, baseline_stride=4, baseline_min_history=32, refractory_rows=10
)
DAY_ROWS = 48


def daily_plateau(days: int) -> np.ndarray:
    """Flat at 20 with noise, and a two-hour plateau at 70 at the same time every day."""
    values = noise(days * DAY_ROWS, seed=6)
    for day in range(days):
        values[day * DAY_ROWS + 30 : day * DAY_ROWS + 34] += 50.0
    return values


def test_daily_pattern_alerts_without_a_season():
    result = RobustBaseline("load", SEASONAL_SETTINGS).score_batch(daily_plateau(10))
    assert result.alert[5 * DAY_ROWS :].sum() >= 4


def test_daily_pattern_is_normal_with_a_season():
    result = RobustBaseline("load", SEASONAL_SETTINGS, season_rows=DAY_ROWS).score_batch(daily_plateau(10))
    assert not result.alert[4 * DAY_ROWS :].any()


def test_break_of_the_daily_pattern_alerts_with_a_season():
    values = daily_plateau(10)
    values[8 * DAY_ROWS + 30 : 8 * DAY_ROWS + 34] += 60.0  # the plateau jumps up one day
    result = RobustBaseline("load", SEASONAL_SETTINGS, season_rows=DAY_ROWS).score_batch(values)
    assert list(np.flatnonzero(result.alert[4 * DAY_ROWS :]) + 4 * DAY_ROWS) == [8 * DAY_ROWS + 30]


def test_seasonal_checkpoint_resumes_exactly():
    values = daily_plateau(10)
    whole = RobustBaseline("load", SEASONAL_SETTINGS, season_rows=DAY_ROWS).score_batch(values)
    first = RobustBaseline("load", SEASONAL_SETTINGS, season_rows=DAY_ROWS)
    first.score_batch(values[:250])
    restored = RobustBaseline("load", SEASONAL_SETTINGS, season_rows=DAY_ROWS)
    restored.load_state(json.loads(json.dumps(first.state_dict())))
    assert np.array_equal(restored.score_batch(values[250:]).statistic, whole.statistic[250:])


def test_state_with_other_season_is_rejected():
    state = RobustBaseline("load", SEASONAL_SETTINGS, season_rows=DAY_ROWS).state_dict()
    with pytest.raises(DetectorInputError, match="season"):
        RobustBaseline("load", SEASONAL_SETTINGS).load_state(state)


def test_season_of_one_row_is_rejected():
    with pytest.raises(DetectorInputError, match="season_rows"):
        RobustBaseline("load", SEASONAL_SETTINGS, season_rows=1)


SLOW_SETTINGS = DetectSettings(
    baseline_window=64, baseline_stride=4, baseline_min_history=32, refractory_rows=100
)


def test_slow_scale_ignores_a_single_spike():
    values = noise(400)
    values[300] += 5.0
    assert not SmoothedBaseline("temp_c", SLOW_SETTINGS, span=16).score_batch(values).alert.any()


def test_slow_scale_catches_a_sustained_shift_the_fast_scale_misses():
    values = 20.0 + np.random.default_rng(9).normal(0.0, 1.0, 600)
    values[400:] += 2.0  # 2 sigma: no row is a fast-scale outlier, but the 16-row median moves far
    fast = RobustBaseline("temp_c", SLOW_SETTINGS).score_batch(values)
    slow = SmoothedBaseline("temp_c", SLOW_SETTINGS, span=16).score_batch(values)
    assert not fast.alert[400:].any()
    assert 400 <= np.flatnonzero(slow.alert)[0] < 440


def test_slow_scale_rows_before_a_full_span_score_zero():
    result = SmoothedBaseline("temp_c", SLOW_SETTINGS, span=16).score_batch(noise(40))
    assert not result.statistic[:15].any()


def test_slow_scale_signal_names_its_span():
    assert SmoothedBaseline("temp_c", SLOW_SETTINGS, span=16).signal == "temp_c@median16"


@pytest.mark.parametrize("chunk", [1, 5, 600])
def test_slow_scale_batches_match_one_pass(chunk):
    values = noise(600)
    values[400:] += 0.5
    whole = SmoothedBaseline("temp_c", SLOW_SETTINGS, span=16).score_batch(values)
    detector = SmoothedBaseline("temp_c", SLOW_SETTINGS, span=16)
    parts = [detector.score_batch(values[i : i + chunk]) for i in range(0, 600, chunk)]
    assert np.array_equal(np.concatenate([p.statistic for p in parts]), whole.statistic)


def test_slow_scale_checkpoint_resumes_exactly():
    values = noise(600)
    values[400:] += 0.5
    whole = SmoothedBaseline("temp_c", SLOW_SETTINGS, span=16).score_batch(values)
    first = SmoothedBaseline("temp_c", SLOW_SETTINGS, span=16)
    first.score_batch(values[:333])
    restored = SmoothedBaseline("temp_c", SLOW_SETTINGS, span=16)
    restored.load_state(json.loads(json.dumps(first.state_dict())))
    assert np.array_equal(restored.score_batch(values[333:]).statistic, whole.statistic[333:])


def test_slow_scale_rejects_span_below_two():
    with pytest.raises(DetectorInputError, match="span"):
        SmoothedBaseline("temp_c", SLOW_SETTINGS, span=1)


def test_slow_scale_rejects_state_of_other_span():
    state = SmoothedBaseline("temp_c", SLOW_SETTINGS, span=16).state_dict()
    with pytest.raises(DetectorInputError, match="span"):
        SmoothedBaseline("temp_c", SLOW_SETTINGS, span=8).load_state(state)


def test_state_from_other_window_settings_is_rejected():
    detector = RobustBaseline("temp_c", SETTINGS)
    detector.score_batch(noise(300))
    wider = DetectSettings(baseline_window=128, baseline_stride=4, baseline_min_history=32)
    with pytest.raises(DetectorInputError, match="inconsistent"):
        RobustBaseline("temp_c", wider).load_state(detector.state_dict())


def test_relation_single_pair_score_names_the_pair():
    temp, hum = coupled(150)
    detector = RelationBaseline("temp_c", "humidity_pct", RELATION_SETTINGS, 100)
    detector.score_batch(temp[:149], hum[:149])
    score = detector.score(float(temp[149]), float(hum[149]) + 5.0)
    assert (score.detector, score.signal) == ("relation_baseline", "humidity_pct~temp_c")


def test_slow_scale_single_value_score_matches_batch():
    values = noise(200)
    whole = SmoothedBaseline("temp_c", SLOW_SETTINGS, span=16).score_batch(values)
    detector = SmoothedBaseline("temp_c", SLOW_SETTINGS, span=16)
    assert [detector.score(float(v)).statistic for v in values] == list(whole.statistic)
