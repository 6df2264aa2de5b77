"""A figure of a run: temperature against the allowed band, humidity, shock and light, and the route map.

Reads the CSV written by `run --out` (or any CSV in the replay format). matplotlib is imported here only,
so the rest of the simulator does not need it.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .roads import RoadGraph


class PlotInputError(ValueError):
    """The readings file is missing, empty or lacks a column."""


@dataclass
class _Series:
    minutes: list[float] = field(default_factory=list)
    temp_c: list[float] = field(default_factory=list)
    humidity_pct: list[float] = field(default_factory=list)
    shock_g: list[float] = field(default_factory=list)
    light_lux: list[int] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)


_NEEDED = ("ts", "shipment", "temp_centi_c", "humidity_bp", "shock_milli_g", "light_lux", "lat_e7", "lon_e7")


def read_series(path: Path) -> dict[str, _Series]:
    if not path.is_file():
        raise PlotInputError(f"{path}: no such file")
    by_shipment: dict[str, _Series] = defaultdict(_Series)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in _NEEDED if c not in (reader.fieldnames or [])]
        if missing:
            raise PlotInputError(f"{path}: missing column(s) {', '.join(missing)}")
        rows = list(reader)
    if not rows:
        raise PlotInputError(f"{path}: no readings")
    try:
        first_ms = min(int(row["ts"]) for row in rows)
        for row in rows:
            s = by_shipment[row["shipment"]]
            s.minutes.append((int(row["ts"]) - first_ms) / 60_000)
            s.temp_c.append(int(row["temp_centi_c"]) / 100)
            s.humidity_pct.append(int(row["humidity_bp"]) / 100)
            s.shock_g.append(int(row["shock_milli_g"]) / 1000)
            s.light_lux.append(int(row["light_lux"]))
            s.lat.append(int(row["lat_e7"]) / 1e7)
            s.lon.append(int(row["lon_e7"]) / 1e7)
    except ValueError as exc:
        raise PlotInputError(f"{path}: not an integer reading: {exc}") from exc
    return dict(by_shipment)


def plot_run(readings_csv: Path, out: Path, band_c: tuple[float, float], graph: RoadGraph) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and in CI
    import matplotlib.pyplot as plt

    series = read_series(readings_csv)
    fig = plt.figure(figsize=(15, 9), layout="constrained")
    grid = fig.add_gridspec(3, 2, width_ratios=[1.4, 1])
    ax_temp = fig.add_subplot(grid[0, 0])
    ax_rh = fig.add_subplot(grid[1, 0], sharex=ax_temp)
    ax_shock = fig.add_subplot(grid[2, 0], sharex=ax_temp)
    ax_map = fig.add_subplot(grid[:, 1])

    low, high = band_c
    ax_temp.axhspan(low, high, color="tab:green", alpha=0.12, label=f"allowed {low:g}..{high:g} C")
    for name, s in sorted(series.items()):
        ax_temp.plot(s.minutes, s.temp_c, label=name)
        ax_rh.plot(s.minutes, s.humidity_pct, label=name)
        ax_shock.plot(s.minutes, s.shock_g, label=f"{name} shock")
        breach = [(m, t) for m, t in zip(s.minutes, s.temp_c, strict=True) if not low <= t <= high]
        if breach:
            breach_min, breach_c = zip(*breach, strict=True)
            ax_temp.scatter(breach_min, breach_c, color="tab:red", s=10, zorder=3)
    ax_temp.set_ylabel("air temperature (C)")
    ax_temp.set_title(f"{readings_csv.name}: temperature (red: outside the band)")
    ax_temp.legend(loc="upper left", fontsize=8)
    ax_rh.set_ylabel("relative humidity (%)")
    ax_shock.set_ylabel("peak shock (g)")
    ax_shock.set_xlabel("minutes since the first reading")
    ax_light = ax_shock.twinx()
    for s in series.values():
        ax_light.fill_between(s.minutes, s.light_lux, step="mid", color="gold", alpha=0.3)
    ax_light.set_ylabel("light (lux, shaded: door open)")

    for edge in graph.edges.values():
        lats, lons = zip(*edge.points, strict=True)
        ax_map.plot(lons, lats, color="0.75", linewidth=1, zorder=1)
    for node in graph.nodes.values():
        if node.kind != "junction":
            ax_map.scatter(node.lon, node.lat, color="black", s=12, zorder=2)
            ax_map.annotate(
                node.id, (node.lon, node.lat), fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
    temps = [t for s in series.values() for t in s.temp_c]
    points = None
    for track in series.values():
        points = ax_map.scatter(
            track.lon,
            track.lat,
            c=track.temp_c,
            cmap="coolwarm",
            vmin=min(temps),
            vmax=max(temps),
            s=10,
            zorder=3,
        )
    if points is not None:
        fig.colorbar(points, ax=ax_map, label="air temperature (C)", shrink=0.6)
    ax_map.set_aspect(1 / 0.61)  # cos(52.2 deg): equal metres on both axes
    ax_map.set_xlabel("longitude")
    ax_map.set_ylabel("latitude")
    ax_map.set_title("route (readings coloured by temperature)")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
