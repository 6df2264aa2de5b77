"""PCA T²+Q: catches a broken relation, ignores signals moving together, no look-ahead, checkpoints, bad input."""

import json

import numpy as np
import pytest
from pydantic import ValidationError

from oracles.detect.baseline import DetectorInputError
from oracles.detect.multivariate import PcaT2Q
from oracles.settings import DetectSettings

SETTINGS = DetectSettings()
WARMUP = SETTINGS.multivariate_warmup_rows
COLUMNS = ["temp_c", "humidity_pct", "door_lux"]
ONSET = 1200


def related(n: int = 2000, seed: int = 1) -> np.ndarray:
    """Three signals driven by one slow cycle (a reefer's defrost cycle) plus independent sensor noise."""
    rng = np.random.default_rng(seed)
    latent = 3.0 * np.sin(np.arange(n) * 2 * np.pi / 150)
    temp = 4.0 + latent + rng.normal(0, 0.2, n)
    humidity = 80.0 + 2.0 * latent + rng.normal(0, 0.4, n)
    light = 10.0 - 0.5 * latent + rng.normal(0, 0.1, n)
    return np.column_stack([temp, humidity, light])


def run(values: np.ndarray, settings: DetectSettings = SETTINGS):
    return PcaT2Q(COLUMNS[: values.shape[1]], settings).score_batch(values)


@pytest.mark.parametrize("seed", range(4))
def test_signals_moving_together_raise_no_alert(seed):
    assert not run(related(seed=seed)).alert.any()


@pytest.mark.parametrize("seed", range(4))
def test_humidity_no_longer_following_temperature_alerts_on_q_naming_humidity(seed):
    values = related(seed=seed)
    # The compressor fails: humidity stops following the cycle and stays where it was.
    values[ONSET:, 1] = values[ONSET - 1, 1] + np.random.default_rng(seed).normal(0, 0.4, 2000 - ONSET)
    batch = run(values)
    assert not batch.alert[:ONSET].any()
    alerts = [a for a in batch.alerts if a.row >= ONSET]
    assert alerts and alerts[0].row - ONSET <= 40
    assert alerts[0].detector == "pca_q"
    assert alerts[0].contributions[0][0] == "humidity_pct"
    assert alerts[0].signal.startswith("humidity_pct")


def test_broken_relation_of_two_signals_alerts_while_their_joint_movement_does_not():
    rng = np.random.default_rng(7)
    latent = 3.0 * np.sin(np.arange(2000) * 2 * np.pi / 150)
    together = np.column_stack([latent + rng.normal(0, 0.2, 2000), 2 * latent + rng.normal(0, 0.4, 2000)])
    assert not run(together).alert.any()
    broken = together.copy()
    broken[ONSET:, 1] = -2 * latent[ONSET:] + rng.normal(0, 0.4, 2000 - ONSET)  # now opposite
    alert_rows = np.flatnonzero(run(broken).alert)
    assert alert_rows.size and ONSET <= alert_rows[0] <= ONSET + 40


def test_all_signals_moving_together_past_the_warmup_range_alerts_on_t2():
    values = related()
    values[ONSET:] += 8.0 * np.array([1.0, 2.0, -0.5])  # the cycle's own direction, past its amplitude 3
    alerts = [a for a in run(values).alerts if a.row >= ONSET]
    assert alerts and alerts[0].row - ONSET <= 20
    assert alerts[0].detector == "pca_t2"


def test_no_row_before_the_warmup_is_scored_or_alerts():
    values = related()
    values[100:300] += 50.0  # a wild warm-up is learned from, never reported
    batch = run(values)
    assert not batch.statistic[:WARMUP].any()
    assert not batch.alert[:WARMUP].any()


def test_a_longer_warmup_from_the_caller_is_honoured():
    detector = PcaT2Q(COLUMNS, SETTINGS, warmup_rows=900)
    batch = detector.score_batch(related())
    assert not batch.statistic[:900].any() and detector.fitted


def test_no_look_ahead_later_rows_do_not_change_earlier_scores():
    values = related()
    changed = values.copy()
    changed[1500:] += 100.0
    first, second = run(values), run(changed)
    np.testing.assert_array_equal(first.statistic[:1500], second.statistic[:1500])


@pytest.mark.parametrize("cuts", [[1], [7, 393, 1, 1000], [399, 2, 600], [400]])
def test_batches_of_any_size_give_bit_identical_results(cuts):
    values = related()
    whole = run(values)
    detector = PcaT2Q(COLUMNS, SETTINGS)
    parts, start = [], 0
    sizes = cuts * (len(values) // sum(cuts) + 1)
    for size in sizes:
        if start >= len(values):
            break
        parts.append(detector.score_batch(values[start : start + size]))
        start += size
    np.testing.assert_array_equal(np.concatenate([p.statistic for p in parts]), whole.statistic)
    np.testing.assert_array_equal(np.concatenate([p.alert for p in parts]), whole.alert)


def test_two_detectors_on_the_same_rows_agree_exactly():
    values = related()
    values[ONSET:, 1] += 5.0
    first, second = run(values), run(values)
    np.testing.assert_array_equal(first.statistic, second.statistic)
    assert first.alerts == second.alerts


@pytest.mark.parametrize("split", [150, 400, 1300])
def test_state_round_trips_through_json_mid_stream(split):
    values = related()
    values[ONSET:, 1] += 5.0
    whole = run(values)
    detector = PcaT2Q(COLUMNS, SETTINGS)
    head = detector.score_batch(values[:split])
    restored = PcaT2Q(COLUMNS, SETTINGS)
    restored.load_state(json.loads(json.dumps(detector.state_dict())))
    tail = restored.score_batch(values[split:])
    np.testing.assert_array_equal(np.concatenate([head.statistic, tail.statistic]), whole.statistic)
    np.testing.assert_array_equal(np.concatenate([head.alert, tail.alert]), whole.alert)


def test_a_signal_flat_during_warmup_that_moves_later_is_caught():
    values = related()
    values[:, 2] = 32.0  # a flow meter stuck on one value
    values[ONSET:, 2] = 31.0
    alerts = [a for a in run(values).alerts if a.row >= ONSET]
    assert alerts and alerts[0].row - ONSET <= 10 and "door_lux" in alerts[0].signal


def test_severity_is_one_half_exactly_at_the_threshold():
    detector = PcaT2Q(COLUMNS, SETTINGS)
    batch = detector.score_batch(related())
    ratio = batch.statistic / detector.threshold
    np.testing.assert_allclose(batch.value, ratio / (1 + ratio))
    assert np.all((batch.value >= 0.5) == (batch.statistic >= detector.threshold))


@pytest.mark.parametrize("columns", [["only"], ["a", "a"], []])
def test_fewer_than_two_distinct_columns_are_refused(columns):
    with pytest.raises(DetectorInputError, match="at least two distinct columns"):
        PcaT2Q(columns, SETTINGS)


def test_a_warmup_too_short_for_the_signals_is_refused():
    with pytest.raises(DetectorInputError, match="too short"):
        PcaT2Q([f"s{i}" for i in range(8)], DetectSettings(multivariate_warmup_rows=16))


@pytest.mark.parametrize(
    "field, value",
    [
        ("multivariate_variance", 1.0),
        ("multivariate_variance", 0.0),
        ("multivariate_z_threshold", 0.0),
        ("multivariate_smooth_rows", 0),
        ("multivariate_warmup_rows", 4),
        ("multivariate_refractory_rows", -1),
        ("multivariate_explain_top", 0),
        ("multivariate_root_scale_floor", 0.0),
    ],
)
def test_bad_settings_are_refused(field, value):
    with pytest.raises(ValidationError, match=field):
        DetectSettings(**{field: value})


def test_rows_of_the_wrong_width_are_refused():
    with pytest.raises(DetectorInputError, match="expected rows x 3 columns"):
        PcaT2Q(COLUMNS, SETTINGS).score_batch(np.zeros((5, 2)))


def test_a_non_finite_value_is_refused_and_named():
    values = related(10)
    values[4, 1] = np.nan
    with pytest.raises(DetectorInputError, match="batch row 4"):
        PcaT2Q(COLUMNS, SETTINGS).score_batch(values)


def test_state_of_other_columns_is_refused():
    state = PcaT2Q(COLUMNS, SETTINGS).state_dict()
    with pytest.raises(DetectorInputError, match="other columns"):
        PcaT2Q(["x", "y", "z"], SETTINGS).load_state(state)


def test_state_with_a_malformed_model_is_refused():
    detector = PcaT2Q(COLUMNS, SETTINGS)
    detector.score_batch(related(500))
    state = json.loads(json.dumps(detector.state_dict()))
    state["model"]["scale"][0] = 0.0
    with pytest.raises(DetectorInputError, match="model state is malformed"):
        PcaT2Q(COLUMNS, SETTINGS).load_state(state)


def test_state_whose_row_count_does_not_match_is_refused():
    detector = PcaT2Q(COLUMNS, SETTINGS)
    detector.score_batch(related(100))
    state = detector.state_dict()
    state["rows"] = state["rows"][:-1]
    with pytest.raises(DetectorInputError, match="state is malformed"):
        PcaT2Q(COLUMNS, SETTINGS).load_state(state)
