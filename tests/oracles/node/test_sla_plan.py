"""oracles.detect.sla as the node uses it: a corridor and a deadline that may be absent, and replanning.

(The SLA rules' own tests are tests/oracles/test_sla.py; these cover what the node added to sla.py.)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from oracles.detect.sla import SlaMonitor
from tests.oracles.test_sla import SETTINGS, START_S, terms, trip


def _alerts(result: dict, rule: str) -> list[int]:
    return [int(i) for i in np.flatnonzero(result[rule].alert)]


def test_without_a_corridor_the_route_and_delay_rules_stay_silent() -> None:
    monitor = SlaMonitor(terms(corridor=(), delivery_deadline_s=START_S + 60), SETTINGS)
    far = [dataclasses.replace(r, lon_e6=20_000_000) for r in trip(30, speed_mps=1.0)]
    result = monitor.score_batch(far)
    assert _alerts(result, "route") == [] and _alerts(result, "late_arrival") == []
    assert not result["route"].value.any() and not result["late_arrival"].value.any()


def test_without_a_deadline_only_the_delay_rule_is_off() -> None:
    monitor = SlaMonitor(terms(delivery_deadline_s=0), SETTINGS)
    crawl = trip(30, speed_mps=1.0)
    off = [dataclasses.replace(r, lon_e6=10_100_000) for r in crawl[-3:]]
    result = monitor.score_batch(crawl[:-3] + off)
    assert _alerts(result, "late_arrival") == []
    assert _alerts(result, "route") == [27]


def test_a_single_vertex_corridor_is_refused() -> None:
    with pytest.raises(ValueError, match="two vertices"):
        terms(corridor=((50_000_000, 10_000_000),))


def test_replanning_keeps_an_open_excursion_running() -> None:
    hot = trip(10, temp_centi_c=[900] * 10)
    whole = SlaMonitor(terms(), SETTINGS).score_batch(hot)
    replanned = SlaMonitor(terms(corridor=()), SETTINGS)
    first = replanned.score_batch(hot[:4])
    replanned.replan(terms())
    second = replanned.score_batch(hot[4:])
    assert _alerts(whole, "temperature") == [6]
    assert _alerts(first, "temperature") + [4 + i for i in _alerts(second, "temperature")] == [6]


def test_replanning_turns_the_route_rule_on_from_the_next_reading() -> None:
    readings = [dataclasses.replace(r, lon_e6=10_100_000) for r in trip(6)]
    monitor = SlaMonitor(terms(corridor=()), SETTINGS)
    assert _alerts(monitor.score_batch(readings[:3]), "route") == []
    monitor.replan(terms())
    assert _alerts(monitor.score_batch(readings[3:]), "route") == [0]
