"""Refrigerated box physics: a first-order thermal model of air and cargo, moisture, door and compressor.

Air exchanges heat with the ambient through the walls (time constant `wall_tau_s`), with the cargo
(`air_cargo_tau_s`) and, while the door is open, with the air outside the door (a chilled loading bay,
or the open road). The cargo
follows the air slowly (`cargo_tau_s`, hours: a tonne of meat). The compressor removes heat at a fixed
rate (degrees per second of air) scaled by its health, switched by a thermostat with hysteresis.

Moisture is carried as vapour density (g/m3) so that warming air without adding water lowers relative
humidity, as it does in a real box: the cargo surface evaporates toward saturation at cargo temperature,
the running evaporator coil condenses toward saturation at coil temperature, an open door mixes with
the outside air. Incoming air brings its moisture faster than its heat (`door_moisture_tau_s` <
`door_heat_tau_s`) because the cold walls and cargo cool it on the way in: warm humid air entering a
cold box drives the relative humidity up, toward fog.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def saturation_vapour_g_m3(temp_c: float) -> float:
    """Saturation vapour density (Magnus formula over water, ideal gas)."""
    pressure_hpa = 6.112 * math.exp(17.62 * temp_c / (243.12 + temp_c))
    return 216.7 * pressure_hpa / (273.15 + temp_c)


@dataclass(frozen=True)
class ReeferParams:
    wall_tau_s: float = 90 * 60.0
    air_cargo_tau_s: float = 120 * 60.0
    cargo_tau_s: float = 300 * 60.0
    door_heat_tau_s: float = 10 * 60.0
    door_moisture_tau_s: float = 2 * 60.0
    cooling_c_per_s: float = 0.5 / 60.0  # full-health compressor: half a degree per minute of air
    hysteresis_c: float = 1.0  # total band: on above setpoint + half, off below setpoint - half
    coil_below_air_c: float = 6.0
    coil_tau_s: float = 15 * 60.0
    evaporation_tau_s: float = 30 * 60.0
    cargo_surface_saturation: float = 0.95  # chilled meat surfaces are wet but not dripping


@dataclass
class Reefer:
    """State of one box. `step` advances it; the caller sets `door_open`, `setpoint_c` and `health`."""

    setpoint_c: float
    air_c: float
    cargo_c: float
    vapour_g_m3: float
    params: ReeferParams
    compressor_on: bool = False
    door_open: bool = False
    health: float = 1.0  # fraction of cooling capacity left; 0 = compressor failed
    loaded: bool = True

    @classmethod
    def at_setpoint(cls, setpoint_c: float, relative_humidity: float, params: ReeferParams) -> Reefer:
        vapour = relative_humidity * saturation_vapour_g_m3(setpoint_c)
        return cls(setpoint_c, setpoint_c, setpoint_c, vapour, params)

    @property
    def relative_humidity(self) -> float:
        return min(1.0, self.vapour_g_m3 / saturation_vapour_g_m3(self.air_c))

    def step(self, dt_s: float, ambient_c: float, outside_c: float, outside_rh: float) -> None:
        """Advance `dt_s`; heat leaks in from `ambient_c`, the open door faces `outside_c`/`outside_rh`."""
        p = self.params
        half_band = p.hysteresis_c / 2
        if self.air_c > self.setpoint_c + half_band:
            self.compressor_on = True
        elif self.air_c < self.setpoint_c - half_band:
            self.compressor_on = False
        cooling = p.cooling_c_per_s * self.health if self.compressor_on else 0.0

        d_air = (ambient_c - self.air_c) / p.wall_tau_s - cooling
        if self.loaded:
            d_air += (self.cargo_c - self.air_c) / p.air_cargo_tau_s
        if self.door_open:
            d_air += (outside_c - self.air_c) / p.door_heat_tau_s
        d_cargo = (self.air_c - self.cargo_c) / p.cargo_tau_s if self.loaded else 0.0

        d_vapour = 0.0
        if self.loaded:
            wet_surface = p.cargo_surface_saturation * saturation_vapour_g_m3(self.cargo_c)
            d_vapour += (wet_surface - self.vapour_g_m3) / p.evaporation_tau_s
        if self.compressor_on and cooling > 0:
            coil = saturation_vapour_g_m3(self.air_c - p.coil_below_air_c)
            if self.vapour_g_m3 > coil:
                d_vapour += (coil - self.vapour_g_m3) / p.coil_tau_s * self.health
        if self.door_open:
            outside = outside_rh * saturation_vapour_g_m3(outside_c)
            d_vapour += (outside - self.vapour_g_m3) / p.door_moisture_tau_s

        # Explicit Euler is stable: the shortest time constant (120 s) is far above the tick (1 s).
        self.air_c += d_air * dt_s
        self.cargo_c += d_cargo * dt_s
        # Water beyond saturation condenses on the walls.
        self.vapour_g_m3 = min(self.vapour_g_m3 + d_vapour * dt_s, saturation_vapour_g_m3(self.air_c))
