"""Window novelty: what it catches, what it ignores, no look-ahead, determinism, checkpoints, bad input."""

import json

import numpy as np
import pytest
from pydantic import ValidationError

from oracles.detect.baseline import DetectorInputError, gate_alerts
from oracles.detect.novelty import NoveltyStream, WindowNovelty
from oracles.detect.synthetic import NORMAL, labelled_series
from oracles.settings import DetectSettings

# The shipped configuration with a shorter memory and warm-up, so that each test runs in well under a second.
SETTINGS = DetectSettings(
    novelty_memory_rows=1000,
    novelty_calibration_rows=500,
    novelty_min_history=300,
    novelty_refractory_rows=100,
)
ONSET = 3000


def noise(n: int = 4000, seed: int = 1) -> np.ndarray:
    return 10.0 + np.random.default_rng(seed).normal(0.0, 1.0, size=n)


def alert_rows(values: np.ndarray, settings: DetectSettings = SETTINGS) -> list[int]:
    return [int(r) for r in np.flatnonzero(NoveltyStream(["v"], settings).score_batch(values[:, None]).alert)]


def first_crossing_after(values: np.ndarray, row: int) -> int | None:
    """First row at or after ``row`` whose statistic crosses the threshold on some window (an alert there
    may be held back by the refractory period of an earlier one, which other tests cover)."""
    crossed = NoveltyStream(["v"], SETTINGS).score_batch(values[:, None]).value >= 0.5
    return next((int(r) for r in np.flatnonzero(crossed) if r >= row), None)


@pytest.mark.parametrize("seed", range(4))
def test_level_shift_of_three_sigma_crosses_within_ten_rows(seed):
    values = noise(seed=seed)
    values[ONSET:] += 3.0
    hit = first_crossing_after(values, ONSET)
    assert hit is not None and hit - ONSET <= 10


@pytest.mark.parametrize("seed", range(4))
def test_single_spike_of_twelve_sigma_crosses_on_its_row(seed):
    # Segment means halve a one-row spike in the 16-row window: spikes under ~10 sigma are left to the
    # robust baseline (README: what each detector is for).
    values = noise(seed=seed)
    values[ONSET] += 12.0
    assert first_crossing_after(values, ONSET) == ONSET


@pytest.mark.parametrize("seed", range(4))
def test_slow_drift_crosses_before_it_reaches_three_sigma(seed):
    values = noise(seed=seed)
    values[ONSET:] += np.arange(values.shape[0] - ONSET) * 0.03  # 3 sigma after 100 rows
    hit = first_crossing_after(values, ONSET)
    assert hit is not None and hit - ONSET < 100


def test_changed_daily_shape_crosses():
    series = labelled_series("seasonality_break", seed=3)
    hit = first_crossing_after(series.values, series.onset)
    assert hit is not None and hit - series.onset <= 64


@pytest.mark.parametrize("seed", range(1, 5))
def test_anomaly_free_daily_cycle_with_noise_raises_no_alert(seed):
    assert alert_rows(labelled_series(NORMAL, seed).values, DetectSettings()) == []


def test_white_noise_false_alarm_rate_stays_below_one_per_thousand_rows():
    # Pure white noise has no pattern to learn, so each row is a fresh draw for the nearest-neighbour
    # search; the calibrated z still keeps alerts rare (measured about 0.3 per 1000 scored rows).
    settings = DetectSettings()
    alerts = sum(len(alert_rows(noise(seed=seed), settings)) for seed in range(10))
    scored_rows = 10 * (4000 - settings.novelty_min_history)
    assert alerts <= scored_rows / 1000


def test_no_alert_before_min_history():
    values = noise(1000)
    values[200] += 20.0
    assert all(r >= SETTINGS.novelty_min_history for r in alert_rows(values))


def test_future_rows_do_not_change_past_scores():
    values = noise(3000)
    changed = values.copy()
    changed[2000:] = 0.0  # a violent change of the future
    first = WindowNovelty("v", SETTINGS, 16).score_batch(values)
    second = WindowNovelty("v", SETTINGS, 16).score_batch(changed)
    assert np.array_equal(first.statistic[:2000], second.statistic[:2000])
    assert not np.array_equal(first.statistic[2000:], second.statistic[2000:])


def test_same_input_gives_bit_identical_scores():
    values = noise(2500)
    first = NoveltyStream(["v"], SETTINGS).score_batch(values[:, None])
    second = NoveltyStream(["v"], SETTINGS).score_batch(values[:, None])
    assert np.array_equal(first.value, second.value) and np.array_equal(first.alert, second.alert)


@pytest.mark.parametrize("chunk", [1, 7, 100, 777])
def test_batches_of_any_size_match_one_pass(chunk):
    values = noise(2200)
    values[1500:] += 3.0
    whole = WindowNovelty("v", SETTINGS, 32).score_batch(values)
    detector = WindowNovelty("v", SETTINGS, 32)
    parts = [detector.score_batch(values[i : i + chunk]) for i in range(0, values.shape[0], chunk)]
    assert np.array_equal(np.concatenate([p.statistic for p in parts]), whole.statistic)
    assert np.array_equal(np.concatenate([p.alert for p in parts]), whole.alert)


def test_single_row_score_names_detector_and_window():
    detector = WindowNovelty("temp_c", SETTINGS, 16)
    score = detector.score(4.0)
    assert (score.detector, score.signal, score.statistic) == ("window_novelty", "temp_c@window16", 0.0)


def test_alert_explains_signal_window_and_statistic():
    values = noise()
    values[ONSET:] += 3.0
    result = NoveltyStream(["v"], SETTINGS).score_batch(values[:, None])
    explained = [a for a in result.alerts if a.row >= ONSET]
    assert explained and all(a.statistic >= SETTINGS.novelty_z_threshold for a in explained)
    assert {a.signal for a in explained} <= {f"v@window{w}" for w in SETTINGS.novelty_windows}
    assert all(result.anomaly_score[a.row] >= 0.5 for a in explained)


def test_anomaly_score_is_below_half_on_rows_that_open_no_episode():
    values = noise()
    values[ONSET:] += 3.0
    result = NoveltyStream(["v"], SETTINGS).score_batch(values[:, None])
    assert np.all(result.anomaly_score[~result.alert] < 0.5)
    assert np.all((result.anomaly_score >= 0) & (result.anomaly_score <= 1))


def test_each_column_is_scored_on_its_own():
    rows = np.column_stack([noise(seed=1), noise(seed=2)])
    rows[ONSET:, 1] += 3.0
    result = NoveltyStream(["a", "b"], SETTINGS).score_batch(rows)
    named_b = [a.row for a in result.alerts if a.row >= ONSET and a.signal.startswith("b@")]
    # At most one refractory period late: a false alarm just before the shift can hold the alert back.
    assert named_b and named_b[0] - ONSET <= SETTINGS.novelty_refractory_rows + 10


def test_state_round_trip_through_json_resumes_exactly():
    values = noise(2600)
    values[2200:] += 3.0
    whole = NoveltyStream(["v"], SETTINGS).score_batch(values[:, None])
    first = NoveltyStream(["v"], SETTINGS)
    head = first.score_batch(values[:1300, None])
    resumed = NoveltyStream(["v"], SETTINGS)
    resumed.load_state(json.loads(json.dumps(first.state_dict())))
    tail = resumed.score_batch(values[1300:, None])
    assert np.array_equal(np.concatenate([head.value, tail.value]), whole.value)
    assert np.array_equal(np.concatenate([head.alert, tail.alert]), whole.alert)


def test_non_finite_value_is_rejected_with_its_row():
    with pytest.raises(DetectorInputError, match="batch row 2 is not finite"):
        WindowNovelty("v", SETTINGS, 16).score_batch([1.0, 2.0, float("nan")])


def test_two_dimensional_batch_is_rejected():
    with pytest.raises(DetectorInputError, match="expected a 1-D batch"):
        WindowNovelty("v", SETTINGS, 16).score_batch([[1.0, 2.0]])


def test_window_that_is_not_a_multiple_of_the_segments_is_rejected():
    with pytest.raises(DetectorInputError, match="not a multiple of 8 segments"):
        WindowNovelty("v", SETTINGS, 12)


def test_stream_rejects_rows_with_the_wrong_number_of_columns():
    with pytest.raises(DetectorInputError, match="expected rows x 2 columns"):
        NoveltyStream(["a", "b"], SETTINGS).score_batch([[1.0, 2.0, 3.0]])


@pytest.mark.parametrize("columns", [[], ["a", "a"]])
def test_stream_rejects_empty_or_repeated_columns(columns):
    with pytest.raises(DetectorInputError, match="non-empty and distinct"):
        NoveltyStream(columns, SETTINGS)


def test_state_of_another_version_is_rejected():
    detector = WindowNovelty("v", SETTINGS, 16)
    state = {**detector.state_dict(), "version": 99}
    with pytest.raises(DetectorInputError, match="unsupported window novelty state version 99"):
        detector.load_state(state)


def test_state_of_another_signal_is_rejected():
    state = WindowNovelty("v", SETTINGS, 16).state_dict()
    with pytest.raises(DetectorInputError, match="is for signal 'v@window16'"):
        WindowNovelty("v", SETTINGS, 32).load_state(state)


def test_state_with_inconsistent_counters_is_rejected():
    detector = WindowNovelty("v", SETTINGS, 16)
    detector.score_batch(noise(100))
    state = {**detector.state_dict(), "seen": 5}
    with pytest.raises(DetectorInputError, match="malformed"):
        WindowNovelty("v", SETTINGS, 16).load_state(state)


def test_stream_state_with_other_windows_is_rejected():
    state = NoveltyStream(["v"], SETTINGS).state_dict()
    other = DetectSettings(novelty_windows=(16,))
    with pytest.raises(DetectorInputError, match="other window lengths"):
        NoveltyStream(["v"], other).load_state(state)


MEAN = SETTINGS.model_copy(update={"novelty_fusion": "mean", "novelty_windows": (16, 32)})


def two_signals_with_a_shift() -> np.ndarray:
    values = np.column_stack([noise(seed=3), noise(seed=4)])
    values[ONSET:, 1] += 2.5
    return values


def test_mean_fusion_alerts_where_a_signals_mean_window_z_crosses_and_nowhere_else():
    values = two_signals_with_a_shift()
    batch = NoveltyStream(["a", "b"], MEAN).score_batch(values)
    means = [
        np.mean([WindowNovelty(c, MEAN, w).score_batch(values[:, k]).statistic for w in (16, 32)], axis=0)
        for k, c in enumerate("ab")
    ]
    crossed = np.any(np.stack(means) >= MEAN.novelty_mean_z_threshold, axis=0)
    crossed[: MEAN.novelty_min_history] = False
    expected, _ = gate_alerts(crossed, 0, MEAN.novelty_refractory_rows)
    assert np.array_equal(batch.alert, expected) and expected[ONSET:].any()
    first = next(a for a in batch.alerts if a.row >= ONSET)
    assert first.signal == "b@windows16+32" and first.detector == "window_novelty"
    assert first.statistic == pytest.approx(means[1][first.row]) and first.value >= 0.5


def test_mean_fusion_value_reaches_one_half_exactly_where_a_mean_reaches_the_threshold():
    values = two_signals_with_a_shift()
    batch = NoveltyStream(["a", "b"], MEAN).score_batch(values)
    means = np.stack(
        [
            np.mean([WindowNovelty(c, MEAN, w).score_batch(values[:, k]).statistic for w in (16, 32)], axis=0)
            for k, c in enumerate("ab")
        ]
    )
    assert np.array_equal(batch.value >= 0.5, np.any(means >= MEAN.novelty_mean_z_threshold, axis=0))


@pytest.mark.parametrize("chunk", [1, 97, 1000])
def test_mean_fusion_batches_of_any_size_match_one_pass(chunk):
    values = two_signals_with_a_shift()[:3400]
    whole = NoveltyStream(["a", "b"], MEAN).score_batch(values)
    stream = NoveltyStream(["a", "b"], MEAN)
    parts = [stream.score_batch(values[i : i + chunk]) for i in range(0, values.shape[0], chunk)]
    assert np.array_equal(np.concatenate([p.value for p in parts]), whole.value)
    assert np.array_equal(np.concatenate([p.alert for p in parts]), whole.alert)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("novelty_windows", (12,), "distinct multiples of novelty_segments=8"),
        ("novelty_windows", (16, 16), "distinct multiples"),
        ("novelty_windows", (), "at least 1 item"),
        ("novelty_z_threshold", 0.0, "greater than 0"),
        ("novelty_memory_rows", 8, "greater than or equal to 16"),
        ("novelty_refractory_rows", -1, "greater than or equal to 0"),
        ("novelty_fusion", "median", "'any' or 'mean'"),
        ("novelty_mean_z_threshold", 0.0, "greater than 0"),
    ],
)
def test_invalid_novelty_settings_are_rejected(field, value, message):
    with pytest.raises(ValidationError, match=message):
        DetectSettings(**{field: value})


def test_novelty_threshold_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("ASC_DETECT_NOVELTY_Z_THRESHOLD", "5.5")
    assert DetectSettings().novelty_z_threshold == 5.5
