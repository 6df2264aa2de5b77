from __future__ import annotations

from offchain.storage.canonical import decode
from offchain.storage.cid import cid_to_bytes32
from oracles.node.evidence import MODEL_VERSION, Policy, build_evidence
from oracles.node.windows import WindowTracker
from oracles.verdicts import Action, Kind
from tests.oracles.node.helpers import TERMS, excursion

HUB = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
POLICY = Policy(
    actions={Kind.TEMPERATURE: Action.PENALTY, Kind.HUMIDITY: Action.HOLD, Kind.SHOCK: Action.PENALTY},
    severity_steps={Kind.TEMPERATURE: 200, Kind.HUMIDITY: 1000, Kind.SHOCK: 2000},
    max_severity=5,
)


def _package(hot_centi_c: int = 900, epoch: int = 1):
    tracker = WindowTracker(TERMS)
    window = next(w for r in excursion(hot_centi_c=hot_centi_c) for w in tracker.feed(r))
    return build_evidence(
        chain_id=31337,
        hub_address=HUB,
        order_id=3,
        twin_id=7,
        terms=TERMS,
        window=window,
        policy=POLICY,
        epoch=epoch,
    )


def test_same_readings_give_byte_identical_evidence_and_the_same_verdict() -> None:
    # Two independent trackers, as on two nodes.
    assert _package() == _package()


def test_verdict_carries_the_cid_digest_of_the_evidence() -> None:
    package = _package()
    assert package.verdict.evidence_hash == cid_to_bytes32(package.cid)


def test_window_comes_from_the_readings() -> None:
    package = _package()
    evidence = decode(package.data)
    assert (
        package.verdict.window_start
        == evidence["window"]["start_s"]
        == evidence["readings"][0]["ts_ms"] // 1000
    )
    assert package.verdict.window_end == evidence["readings"][-1]["ts_ms"] // 1000
    assert evidence["model_version"] == MODEL_VERSION
    assert evidence["sla_terms"]["excursion_grace_s"] == 900


def test_severity_grows_with_the_peak_excess_up_to_the_cap() -> None:
    assert _package(hot_centi_c=600).verdict.severity == 1  # 100 beyond the range
    assert _package(hot_centi_c=900).verdict.severity == 3  # 400 beyond: 1 + 400 // 200
    assert _package(hot_centi_c=5000).verdict.severity == 5


def test_another_epoch_is_another_verdict_with_the_same_evidence() -> None:
    one, two = _package(epoch=1), _package(epoch=2)
    assert one.data == two.data and one.verdict != two.verdict
