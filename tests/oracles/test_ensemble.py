"""Combined detectors: the column ensemble used by evaluate and the per-shipment monitor of oracle nodes."""

import json

import numpy as np
import pytest

from oracles.detect.baseline import DetectorInputError
from oracles.detect.ensemble import ShipmentMonitor, StreamDetector, season_rows_for
from oracles.detect.sla import SlaTerms
from oracles.detect.types import Reading
from oracles.settings import DetectSettings

SETTINGS = DetectSettings(
    baseline_window=64,
    baseline_stride=4,
    baseline_min_history=32,
    refractory_rows=30,
    iforest_window=4,
    iforest_warmup_rows=100,
    iforest_trees=50,
    relation_warmup_rows=100,
)


def columns(n: int, seed: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([1.0 + rng.normal(0, 0.01, n), 32.0 + rng.normal(0, 0.1, n)])


def test_row_alert_is_the_only_score_at_or_above_half():
    rows = columns(300)
    rows[200, 0] += 1.0
    result = StreamDetector(("pressure", "flow"), SETTINGS, use_isolation_forest=False).score_batch(rows)
    assert list(np.flatnonzero(result.anomaly_score >= 0.5)) == list(np.flatnonzero(result.alert)) == [200]


def test_component_alerts_name_detector_and_signal():
    rows = columns(300)
    rows[200, 0] += 1.0
    result = StreamDetector(("pressure", "flow"), SETTINGS, use_isolation_forest=False).score_batch(rows)
    assert [(a.row, a.detector, a.signal) for a in result.alerts] == [(200, "robust_baseline", "pressure")]


def test_simultaneous_component_alerts_open_one_row_alert():
    rows = columns(300)
    rows[200] += (1.0, 10.0)
    result = StreamDetector(("pressure", "flow"), SETTINGS, use_isolation_forest=False).score_batch(rows)
    assert result.alert.sum() == 1 and len(result.alerts) == 2


def test_stream_checkpoint_with_forest_resumes_exactly():
    rows = columns(400)
    rows[300:, 1] += 2.0
    whole = StreamDetector(("pressure", "flow"), SETTINGS, use_isolation_forest=True).score_batch(rows)
    first = StreamDetector(("pressure", "flow"), SETTINGS, use_isolation_forest=True)
    first.score_batch(rows[:150])
    restored = StreamDetector(("pressure", "flow"), SETTINGS, use_isolation_forest=True)
    restored.load_state(json.loads(json.dumps(first.state_dict())))
    assert np.array_equal(restored.score_batch(rows[150:]).anomaly_score, whole.anomaly_score[150:])


def test_duplicate_columns_are_rejected():
    with pytest.raises(DetectorInputError, match="distinct"):
        StreamDetector(("flow", "flow"), SETTINGS)


def test_rows_of_wrong_width_are_rejected():
    with pytest.raises(DetectorInputError, match="columns"):
        StreamDetector(("pressure", "flow"), SETTINGS).score_batch(np.zeros((4, 3)))


def test_state_without_forest_is_rejected_by_detector_with_forest():
    state = StreamDetector(("pressure", "flow"), SETTINGS).state_dict()
    with pytest.raises(DetectorInputError, match="isolation forest"):
        StreamDetector(("pressure", "flow"), SETTINGS, use_isolation_forest=True).load_state(state)


TERMS = SlaTerms(
    temp_min_centi_c=0,
    temp_max_centi_c=800,
    humidity_min_bp=5000,
    humidity_max_bp=9500,
    shock_limit_milli_g=3000,
    excursion_grace_s=600,
    corridor=((50_000_000, 10_000_000), (51_000_000, 10_000_000)),
    corridor_width_m=2000,
    delivery_deadline_s=1_700_000_000 + 86_400,
)


def reefer(n: int, failing_from: int | None = None, shock_at: int | None = None) -> list[Reading]:
    """Parked-at-origin reefer with wandering temperature and coupled humidity; optionally a compressor
    whose humidity drifts off its coupling to temperature (still inside the SLA range)."""
    rng = np.random.default_rng(8)
    temp = 400 + np.cumsum(rng.normal(0, 3, n))
    hum = 8000 - 4 * (temp - 400) + rng.normal(0, 5, n)
    if failing_from is not None:
        hum[failing_from:] -= np.minimum(np.arange(n - failing_from) * 5.0, 400)
    return [
        Reading(
            timestamp_s=1_700_000_000 + 60 * i,
            temp_centi_c=int(temp[i]),
            humidity_bp=int(hum[i]),
            light_lux=0,
            shock_milli_g=4000 if i == shock_at else 50,
            lat_e6=50_000_000,
            lon_e6=10_000_000,
        )
        for i in range(n)
    ]


def test_monitor_reports_shock_from_the_sla_rules():
    detections = ShipmentMonitor(TERMS, SETTINGS).score_batch(reefer(300, shock_at=250)).detections
    assert [(d.detector, d.signal) for d in detections] == [("sla", "shock")]


def test_monitor_reports_a_drifting_relation_no_rule_names():
    detections = ShipmentMonitor(TERMS, SETTINGS).score_batch(reefer(600, failing_from=400)).detections
    relation = [d for d in detections if d.detector == "relation_baseline"]
    assert relation and relation[0].signal == "humidity_pct~temp_c"
    assert 1_700_000_000 + 60 * 400 <= relation[0].timestamp_s <= 1_700_000_000 + 60 * 420
    assert not [d for d in detections if d.detector == "sla"]


def test_monitor_checkpoint_resumes_with_identical_detections():
    readings = reefer(600, failing_from=400, shock_at=500)
    whole = ShipmentMonitor(TERMS, SETTINGS, use_isolation_forest=True).score_batch(readings).detections
    first = ShipmentMonitor(TERMS, SETTINGS, use_isolation_forest=True)
    head = first.score_batch(readings[:250]).detections
    restored = ShipmentMonitor(TERMS, SETTINGS, use_isolation_forest=True)
    restored.load_state(json.loads(json.dumps(first.state_dict())))
    assert head + restored.score_batch(readings[250:]).detections == whole


def test_monitor_state_version_is_checked():
    with pytest.raises(DetectorInputError, match="version"):
        ShipmentMonitor(TERMS, SETTINGS).load_state({"version": 7})


def test_season_rows_for_five_minute_sampling_is_one_day():
    assert season_rows_for(300.0, DetectSettings()) == 288


def test_season_rows_for_one_second_sampling_is_too_long_to_keep():
    assert season_rows_for(1.0, DetectSettings()) is None


def test_season_rows_for_irregular_zero_interval_is_none():
    assert season_rows_for(0.0, DetectSettings()) is None


def test_monitor_single_reading_calls_match_one_batch():
    readings = reefer(450, failing_from=400, shock_at=420)
    whole = ShipmentMonitor(TERMS, SETTINGS).score_batch(readings).detections
    monitor = ShipmentMonitor(TERMS, SETTINGS)
    one_by_one = tuple(d for r in readings for d in monitor.score(r).detections)
    assert one_by_one == whole


def cycling_reefer(n: int, failing_from: int | None = None) -> list[Reading]:
    """A reefer whose compressor cycles temperature around its setpoint with humidity following it; optionally
    humidity leaves that coupling (still inside the SLA range) from ``failing_from`` on."""
    rng = np.random.default_rng(11)
    temp = 400 + 40 * np.sin(np.arange(n) * 2 * np.pi / 60) + rng.normal(0, 3, n)
    hum = 8000 - 4 * (temp - 400) + rng.normal(0, 5, n)
    if failing_from is not None:
        hum[failing_from:] -= np.minimum(np.arange(n - failing_from) * 5.0, 400)
    return [Reading(1_700_000_000 + 60 * i, int(temp[i]), int(hum[i]), 0, 50, 50_000_000, 10_000_000) for i in range(n)]


def test_monitor_reports_a_broken_relation_with_pca_q_after_its_warm_up():
    detections = ShipmentMonitor(TERMS, SETTINGS).score_batch(cycling_reefer(800, failing_from=550)).detections
    pca = [d for d in detections if d.detector.startswith("pca_")]
    assert pca and pca[0].detector == "pca_q"
    assert 1_700_000_000 + 60 * 550 <= pca[0].timestamp_s <= 1_700_000_000 + 60 * 580
    assert set(pca[0].signal.split("+")) <= {"temp_c", "humidity_pct"}
    assert "relation left its warm-up model" in pca[0].reason
    assert pca[0].details and all(key.startswith("share_") for key in pca[0].details)


def test_monitor_pca_is_silent_on_a_healthy_reefer():
    detections = ShipmentMonitor(TERMS, SETTINGS).score_batch(cycling_reefer(800)).detections
    assert not [d for d in detections if d.detector.startswith("pca_")]


def test_monitor_checkpoint_after_pca_warm_up_resumes_with_identical_scores():
    readings = cycling_reefer(800, failing_from=550)
    whole = ShipmentMonitor(TERMS, SETTINGS).score_batch(readings)
    first = ShipmentMonitor(TERMS, SETTINGS)
    head = first.score_batch(readings[:450])
    restored = ShipmentMonitor(TERMS, SETTINGS)
    restored.load_state(json.loads(json.dumps(first.state_dict())))
    tail = restored.score_batch(readings[450:])
    assert head.detections + tail.detections == whole.detections
    key = ("pca_t2q", "temp_c+humidity_pct")
    joined = np.concatenate([head.scores[key].statistic, tail.scores[key].statistic])
    assert np.array_equal(joined, whole.scores[key].statistic)
    assert restored.state_dict() == first_whole_state(readings)


def first_whole_state(readings: list[Reading]) -> dict:
    monitor = ShipmentMonitor(TERMS, SETTINGS)
    monitor.score_batch(readings)
    return json.loads(json.dumps(monitor.state_dict()))


def test_monitor_refuses_a_version_1_state_without_pca():
    monitor = ShipmentMonitor(TERMS, SETTINGS)
    old = monitor.state_dict()
    old["version"] = 1
    del old["pca"]
    with pytest.raises(DetectorInputError, match="version 1"):
        ShipmentMonitor(TERMS, SETTINGS).load_state(old)
