"""Weather and traffic as deterministic functions of time (plus seeded incidents drawn by the caller)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .roads import RoadClass

MS_PER_HOUR = 3_600_000
MS_PER_DAY = 24 * MS_PER_HOUR


def hour_of_day(ts_ms: int) -> float:
    """UTC hour of day; the scenarios are in the UK, where GMT is close enough for traffic and sun."""
    return (ts_ms % MS_PER_DAY) / MS_PER_HOUR


@dataclass(frozen=True)
class Weather:
    mean_c: float = 10.0
    amplitude_c: float = 4.0
    relative_humidity: float = 0.8
    warmest_hour: float = 15.0
    daylight_lux: float = 20_000.0
    dock_lux: float = 300.0  # artificial light at a loading bay at night
    # Meat is loaded through chilled, sealed bays (12 C or less in UK cutting plants and depots).
    dock_c: float = 10.0
    dock_relative_humidity: float = 0.7

    def ambient_c(self, ts_ms: int) -> float:
        phase = 2 * math.pi * (hour_of_day(ts_ms) - self.warmest_hour) / 24
        return self.mean_c + self.amplitude_c * math.cos(phase)

    def outdoor_lux(self, ts_ms: int) -> float:
        """Daylight on a rough sunrise-06/sunset-18 arch; a loading bay is never darker than its lamps."""
        hour = hour_of_day(ts_ms)
        sun = math.sin(math.pi * (hour - 6) / 12) if 6 <= hour <= 18 else 0.0
        return max(self.dock_lux, self.daylight_lux * sun)


# Fraction of the free-flow speed kept in the peaks (07-09:30, 16-18:30 UTC) and off-peak by day.
_PEAK = {
    RoadClass.MOTORWAY: 0.7,
    RoadClass.TRUNK: 0.65,
    RoadClass.PRIMARY: 0.7,
    RoadClass.SECONDARY: 0.8,
    RoadClass.URBAN: 0.45,
}
_DAY = {
    RoadClass.MOTORWAY: 0.95,
    RoadClass.TRUNK: 0.9,
    RoadClass.PRIMARY: 0.9,
    RoadClass.SECONDARY: 0.95,
    RoadClass.URBAN: 0.75,
}


def traffic_factor(road_class: RoadClass, ts_ms: int) -> float:
    hour = hour_of_day(ts_ms)
    if 7.0 <= hour < 9.5 or 16.0 <= hour < 18.5:
        return _PEAK[road_class]
    if 6.0 <= hour < 20.0:
        return _DAY[road_class]
    return 1.0
