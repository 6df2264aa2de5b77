"""SlaMath: lateness hours rounded up, severity scaling, cap and share clamping."""

from __future__ import annotations

from typing import Any

import pytest
from brownie import SlaMathHarness

DEADLINE = 1_800_000_000
MAX96 = 2**96 - 1


@pytest.fixture(scope="module")
def sla_math(admin: Any) -> Any:
    return SlaMathHarness.deploy({"from": admin})


@pytest.mark.parametrize(
    ("delivered", "hours"),
    [
        (DEADLINE - 1, 0),
        (DEADLINE, 0),
        (DEADLINE + 1, 1),
        (DEADLINE + 3600, 1),
        (DEADLINE + 3601, 2),
        (DEADLINE + 10 * 3600, 10),
    ],
)
def test_hours_late_rounds_started_hours_up(sla_math: Any, delivered: int, hours: int) -> None:
    assert sla_math.hoursLate(DEADLINE, delivered) == hours


def test_hours_late_extreme_times(sla_math: Any) -> None:
    assert sla_math.hoursLate(0, 2**64 - 1) == (2**64 - 1 + 3599) // 3600


def test_lateness_penalty_is_hours_times_rate(sla_math: Any) -> None:
    assert sla_math.latenessPenalty(DEADLINE, DEADLINE + 7201, 25) == 3 * 25


def test_lateness_penalty_zero_when_on_time(sla_math: Any) -> None:
    assert sla_math.latenessPenalty(DEADLINE, DEADLINE, MAX96) == 0


def test_lateness_penalty_does_not_overflow(sla_math: Any) -> None:
    assert sla_math.latenessPenalty(0, 2**64 - 1, MAX96) == ((2**64 - 1 + 3599) // 3600) * MAX96


@pytest.mark.parametrize("severity", [0, 1, 3, 255])
def test_excursion_penalty_scales_with_severity(sla_math: Any, severity: int) -> None:
    assert sla_math.excursionPenalty(MAX96, severity) == MAX96 * severity


def test_clamp_passes_small_penalty(sla_math: Any) -> None:
    assert sla_math.clamp(10, 100, 20, 50) == 10


def test_clamp_to_cap_room(sla_math: Any) -> None:
    assert sla_math.clamp(90, 100, 20, 500) == 80


def test_clamp_to_share(sla_math: Any) -> None:
    assert sla_math.clamp(90, 1000, 20, 30) == 30


def test_clamp_cap_exhausted(sla_math: Any) -> None:
    assert sla_math.clamp(90, 100, 100, 500) == 0


def test_clamp_huge_penalty(sla_math: Any) -> None:
    assert sla_math.clamp(2**256 - 1, MAX96, 0, MAX96) == MAX96
