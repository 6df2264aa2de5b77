"""Evidence objects and the action policy: byte-identical across nodes, explainable, policy per kind/severity."""

from __future__ import annotations

from offchain.storage.canonical import decode
from offchain.storage.cid import cid_to_bytes32
from oracles.node.evidence import KIND_NAMES, build_evidence, model_version
from oracles.node.tracker import BreachWindow
from oracles.verdicts import Action, Kind
from tests.oracles.node.helpers import DETECT, excursion, policy, reading, tracker

HUB = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
MODEL = model_version(DETECT, use_isolation_forest=False)


def _window(readings: list, kind: Kind = Kind.TEMPERATURE) -> BreachWindow:
    found = [w for _, w in tracker().feed(readings) if w.kind is kind]
    assert found, "no window decided"
    return found[0]


def _package(window: BreachWindow, epoch: int = 1, **policy_overrides: object):
    return build_evidence(
        chain_id=31337,
        hub_address=HUB,
        order_id=3,
        twin_id=7,
        window=window,
        policy=policy(**policy_overrides),
        epoch=epoch,
        model=MODEL,
    )


def _hot(hot_centi_c: int = 900):
    return _package(_window(excursion(hot_centi_c=hot_centi_c)))


def test_same_readings_give_byte_identical_evidence_and_the_same_verdict() -> None:
    # Two independent trackers, as on two nodes.
    assert _hot() == _hot()


def test_verdict_carries_the_cid_digest_of_the_evidence() -> None:
    package = _hot()
    assert package.verdict.evidence_hash == cid_to_bytes32(package.cid)


def test_window_comes_from_the_readings() -> None:
    package = _hot()
    evidence = decode(package.data)
    assert (
        package.verdict.window_start
        == evidence["window"]["start_s"]
        == evidence["readings"][0]["ts_ms"] // 1000
    )
    assert package.verdict.window_end == evidence["readings"][-1]["ts_ms"] // 1000
    assert evidence["model_version"] == MODEL
    assert evidence["sla_terms"]["excursion_grace_s"] == 900


def test_evidence_names_the_rule_every_detector_score_and_the_decision() -> None:
    evidence = decode(_hot().data)
    assert evidence["detector"]["rule"] == "sla.temperature_excursion"
    detectors = {(s["detector"], s["signal"]) for s in evidence["detector_scores"]}
    assert ("sla", "temperature") in detectors and ("robust_baseline", "temp_c") in detectors
    assert evidence["decision"]["action"] == "penalty"
    assert evidence["decision"]["reason"].startswith("temperature_excursion: peak excess 400 centi_c")


def test_model_version_changes_with_the_detector_settings() -> None:
    assert model_version(DETECT.model_copy(update={"baseline_window": 512}), False) != MODEL
    assert model_version(DETECT, True) != MODEL


def test_severity_grows_with_the_peak_excess_up_to_the_cap() -> None:
    assert _hot(hot_centi_c=600).verdict.severity == 1  # 100 beyond the range
    assert _hot(hot_centi_c=900).verdict.severity == 3  # 400 beyond: 1 + 400 // 200
    assert _hot(hot_centi_c=5000).verdict.severity == 5


def test_another_epoch_is_another_verdict_with_the_same_evidence() -> None:
    window = _window(excursion())
    one, two = _package(window, epoch=1), _package(window, epoch=2)
    assert one.data == two.data and one.verdict != two.verdict


def _failing_reefer() -> list:
    """100 readings at 3.00 degC (the learned baselines' history), then a steady climb of 0.25 degC a minute."""
    steady = [reading(i, temp=300 + (i % 3)) for i in range(100)]
    climb = [reading(100 + i, temp=320 + 25 * i) for i in range(40)]
    return steady + climb


def test_a_steadily_warming_reefer_flagged_by_a_learned_detector_is_rerouted() -> None:
    package = _package(_window(_failing_reefer()))
    evidence = decode(package.data)
    assert package.verdict.action is Action.REROUTE
    assert evidence["decision"]["facts"]["reefer_failing"] is True
    assert evidence["decision"]["facts"]["learned_detectors"]
    assert evidence["decision"]["reason"].startswith("reefer failing: temperature rose")
    assert any("temp_c" in a["signal"] for a in evidence["learned_alerts"])


def test_a_warming_reefer_without_learned_corroboration_is_a_penalty_when_the_policy_needs_it() -> None:
    # The learned baselines need 64 rows of history: a climb from the start has no learned alert.
    climb = [reading(i, temp=320 + 25 * i) for i in range(40)]
    package = _package(_window(climb))
    assert package.verdict.action is Action.PENALTY
    assert _package(_window(climb), reefer_failure_needs_learned=False).verdict.action is Action.REROUTE


def test_a_flat_excursion_such_as_an_open_door_is_a_penalty_not_a_reroute() -> None:
    steady = [reading(i, temp=300 + (i % 3)) for i in range(100)]
    door = [reading(100 + i, temp=900) for i in range(20)]
    package = _package(_window(steady + door))
    assert package.verdict.action is Action.PENALTY
    assert decode(package.data)["decision"]["facts"]["reefer_failing"] is False


def test_the_reefer_failure_action_is_a_setting() -> None:
    package = _package(_window(_failing_reefer()), reefer_failure_action="hold")
    assert package.verdict.action is Action.HOLD


def test_a_shock_escalates_to_hold_from_the_configured_severity() -> None:
    window = _window([reading(0), reading(1, shock=15_000)], kind=Kind.SHOCK)  # 10 g beyond: severity 5
    assert _package(window).verdict.action is Action.PENALTY
    assert _package(window, shock_hold_from_severity=3).verdict.action is Action.HOLD


def test_every_kind_has_a_name_the_api_accepts() -> None:
    assert set(KIND_NAMES) == set(Kind)
