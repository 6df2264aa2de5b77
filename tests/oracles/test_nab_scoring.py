"""NAB scorer on tiny cases whose scores were worked out by hand from NAB's formulas."""

from datetime import datetime, timedelta

import pytest

from oracles.nab_scoring import (
    PROFILES,
    NabScoringError,
    event_metrics,
    f1_score,
    normalised_total,
    point_metrics,
    probationary_length,
    scaled_sigmoid,
    score_file,
    window_row_ranges,
)

STANDARD, LOW_FP, LOW_FN = PROFILES
WINDOW = [(40, 49)]  # 10 rows; 100-row files have a 15-row probation


def detections_at(*rows: int, n: int = 100) -> list[bool]:
    return [i in rows for i in range(n)]


def test_scaled_sigmoid_left_edge_is_0_98661():
    assert scaled_sigmoid(-1.0) == pytest.approx(0.9866143, abs=1e-7)


def test_scaled_sigmoid_right_edge_is_zero():
    assert scaled_sigmoid(0.0) == 0.0


def test_scaled_sigmoid_is_minus_one_from_three():
    assert scaled_sigmoid(3.0) == -1.0


def test_probationary_length_is_15_percent():
    assert probationary_length(100) == 15


def test_probationary_length_caps_at_750_rows():
    assert probationary_length(10_000) == 750


def test_detection_at_window_start_scores_perfect():
    score = score_file(detections_at(40), WINDOW, STANDARD)
    assert score.raw == pytest.approx(1.0)
    assert score.normalised == pytest.approx(100.0)


def test_no_detection_scores_null():
    score = score_file(detections_at(), WINDOW, STANDARD)
    assert score.raw == -1.0
    assert score.normalised == 0.0


def test_detection_halfway_scores_sigmoid_of_position():
    # position = -(49 - 45 + 1) / 10 = -0.5 -> 0.848284 / 0.986614
    assert score_file(detections_at(45), WINDOW, STANDARD).raw == pytest.approx(0.8597926, abs=1e-7)


def test_only_earliest_detection_in_window_counts():
    assert score_file(detections_at(45, 40, 48), WINDOW, STANDARD).raw == pytest.approx(1.0)


def test_false_positive_before_any_window_costs_full_fp_weight():
    assert score_file(detections_at(20), WINDOW, STANDARD).raw == pytest.approx(-1.11)


def test_false_positive_after_window_is_weighted_by_distance():
    # |49 - 52| / (10 - 1) = 1/3 -> scaled sigmoid -0.682262, times A_FP 0.11, plus the missed window
    assert score_file(detections_at(52), WINDOW, STANDARD).raw == pytest.approx(
        -1 - 0.11 * 0.6822618, abs=1e-7
    )


def test_reward_low_fp_profile_doubles_fp_cost():
    assert score_file(detections_at(20, 40), WINDOW, LOW_FP).raw == pytest.approx(1.0 - 0.22)


def test_reward_low_fn_profile_doubles_miss_cost():
    score = score_file(detections_at(), WINDOW, LOW_FN)
    assert (score.raw, score.null, score.normalised) == (-2.0, -2.0, 0.0)


def test_detections_in_probation_are_not_scored():
    assert score_file(detections_at(10), WINDOW, STANDARD).false_positive_rows == 0


def test_window_inside_probation_is_not_counted():
    score = score_file(detections_at(), [(2, 5)], STANDARD)
    assert score.windows == 0
    assert score.normalised is None


def test_window_outside_file_is_rejected():
    with pytest.raises(NabScoringError, match="outside"):
        score_file(detections_at(), [(95, 120)], STANDARD)


def test_normalised_total_sums_raw_null_and_perfect():
    perfect = score_file(detections_at(40), WINDOW, STANDARD)
    missed = score_file(detections_at(), WINDOW, STANDARD)
    assert normalised_total([perfect, missed]) == pytest.approx(50.0)


def stamps(n: int) -> list[datetime]:
    return [datetime(2024, 1, 1) + timedelta(minutes=5 * i) for i in range(n)]


def test_window_row_ranges_are_inclusive():
    ts = stamps(10)
    assert window_row_ranges(ts, [(ts[2], ts[4])]) == [(2, 4)]


def test_window_row_ranges_accept_a_clock_step_back():
    ts = stamps(6)
    ts[4] = ts[1]  # NAB files step back at clock changes
    assert window_row_ranges(ts, [(ts[2], ts[3])]) == [(2, 3)]


def test_window_row_ranges_reject_overlapping_windows():
    ts = stamps(10)
    with pytest.raises(NabScoringError, match="overlap"):
        window_row_ranges(ts, [(ts[2], ts[5]), (ts[4], ts[6])])


def test_window_row_ranges_reject_reversed_window():
    ts = stamps(10)
    with pytest.raises(NabScoringError, match="ends before"):
        window_row_ranges(ts, [(ts[5], ts[2])])


def test_event_metrics_count_true_and_false_alarm_events():
    metrics = event_metrics(detections_at(20, 21, 45, 46, 80), WINDOW, stamps(100))
    assert (metrics.alarm_events, metrics.false_alarm_events, metrics.detected_windows) == (3, 2, 1)
    assert metrics.precision == pytest.approx(1 / 3)
    assert metrics.recall == 1.0


def test_event_metrics_delay_from_window_start():
    metrics = event_metrics(detections_at(45), WINDOW, stamps(100))
    assert metrics.delays_rows == (5,)
    assert metrics.delays_s == (1500.0,)


def test_event_metrics_reject_length_mismatch():
    with pytest.raises(NabScoringError, match="length"):
        event_metrics(detections_at(), WINDOW, stamps(99))


def test_point_metrics_count_rows():
    metrics = point_metrics(detections_at(20, 40, 41), WINDOW)
    assert (metrics.true_positive, metrics.false_positive, metrics.false_negative) == (2, 1, 8)


def test_f1_of_half_precision_full_recall():
    assert f1_score(0.5, 1.0) == pytest.approx(2 / 3)


def test_f1_undefined_without_events_or_windows():
    assert f1_score(None, None) is None
