"""Value types shared by the detectors: readings in, scores and detections out."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Reading:
    """One reefer reading in fixed-point units, as devices sign them.

    Units are in the names so that evidence objects never carry floats that round differently.
    """

    timestamp_s: int
    temp_centi_c: int
    humidity_bp: int
    light_lux: int
    shock_milli_g: int
    lat_e6: int
    lon_e6: int

    @property
    def lat_deg(self) -> float:
        return self.lat_e6 / 1_000_000

    @property
    def lon_deg(self) -> float:
        return self.lon_e6 / 1_000_000

    def signals(self) -> dict[str, float]:
        """The numeric signals the learned detectors see, in engineering units."""
        return {
            "temp_c": self.temp_centi_c / 100,
            "humidity_pct": self.humidity_bp / 100,
            "light_lux": float(self.light_lux),
            "shock_g": self.shock_milli_g / 1000,
        }


@dataclass(frozen=True, slots=True)
class Score:
    """What one detector says about one row on one signal.

    ``value`` is a severity in [0, 1] where 0.5 is exactly the configured threshold; ``statistic`` is the
    detector's own raw figure (robust z, isolation score, seconds late, metres off route) for explanations.
    ``alert`` is True only on the row that opens a new episode (later rows of the same excursion do not
    re-alert).
    """

    detector: str
    signal: str
    value: float
    statistic: float
    alert: bool = False


@dataclass(frozen=True, slots=True)
class Detection:
    """An alert a partner can read: which detector fired, on which signal, when, how strongly and why."""

    detector: str
    signal: str
    timestamp_s: int
    value: float
    statistic: float
    reason: str
    details: dict[str, float | int | str] = field(default_factory=dict)


def severity(statistic: float, threshold: float) -> float:
    """Map a non-negative statistic onto [0, 1] so that ``statistic == threshold`` gives exactly 0.5."""
    if statistic <= 0.0:
        return 0.0
    ratio = statistic / threshold
    # ratio / (1 + ratio) is 0.5 at the threshold, monotone, and never saturates before the threshold.
    return ratio / (1.0 + ratio)
