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

    def __post_init__(self) -> None:
        if not 0 <= self.humidity_bp <= 10_000:
            raise ValueError(f"humidity_bp {self.humidity_bp} outside 0..10000")
        if self.shock_milli_g < 0 or self.light_lux < 0:
            raise ValueError("shock_milli_g and light_lux must not be negative")
        if not -90_000_000 <= self.lat_e6 <= 90_000_000 or not -180_000_000 <= self.lon_e6 <= 180_000_000:
            raise ValueError(f"position ({self.lat_e6}, {self.lon_e6}) outside latitude/longitude range")


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
