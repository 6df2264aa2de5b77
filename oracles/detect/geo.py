"""Great-circle geometry for route corridors: haversine distance from points to a planned polyline and
the distance still to drive along it. Vectorised over points (numpy), O(points x segments)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean Earth radius


def haversine_m(
    lat1: FloatArray | float, lon1: FloatArray | float, lat2: FloatArray | float, lon2: FloatArray | float
) -> FloatArray:
    """Great-circle distance in metres between points given in degrees (broadcasts)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class RoutePosition:
    """Where points lie relative to a route: haversine distance off it and route metres left to its end."""

    off_route_m: FloatArray
    remaining_m: FloatArray


class Polyline:
    """A planned route (vertices in degrees) with its segment lengths precomputed."""

    def __init__(self, vertices: Sequence[tuple[float, float]]) -> None:
        if len(vertices) < 2:
            raise ValueError("a route polyline needs at least two vertices")
        points = np.asarray(vertices, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2 or not np.all(np.isfinite(points)):
            raise ValueError("route vertices must be finite (lat, lon) pairs")
        if np.any(np.abs(points[:, 0]) > 90) or np.any(np.abs(points[:, 1]) > 180):
            raise ValueError("route vertex outside latitude [-90, 90] or longitude [-180, 180]")
        self.lat = points[:, 0]
        self.lon = points[:, 1]
        self.segment_m = haversine_m(self.lat[:-1], self.lon[:-1], self.lat[1:], self.lon[1:])
        # Route metres from the end of each segment to the end of the route.
        self.after_segment_m = np.concatenate([np.cumsum(self.segment_m[::-1])[::-1][1:], [0.0]])
        self.length_m = float(self.segment_m.sum())

    def locate(self, lat: FloatArray, lon: FloatArray) -> RoutePosition:
        """Distance of each point to the route and route distance left from its nearest route point.

        The nearest point of each segment is found by projecting in a local equirectangular frame around
        the query point (exact enough for segments of tens of kilometres); the distance to it is then
        measured with haversine.
        """
        lat = np.asarray(lat, dtype=np.float64)[:, None]
        lon = np.asarray(lon, dtype=np.float64)[:, None]
        coslat = np.cos(np.radians(lat))
        ax, ay = (self.lon[:-1] - lon) * coslat, self.lat[:-1] - lat
        bx, by = (self.lon[1:] - lon) * coslat, self.lat[1:] - lat
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(length2 > 0, -(ax * dx + ay * dy) / length2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        near_lat = self.lat[:-1] + t * (self.lat[1:] - self.lat[:-1])
        near_lon = self.lon[:-1] + t * (self.lon[1:] - self.lon[:-1])
        distance = haversine_m(lat, lon, near_lat, near_lon)
        best = np.argmin(distance, axis=1)
        rows = np.arange(best.shape[0])
        remaining = (1.0 - t[rows, best]) * self.segment_m[best] + self.after_segment_m[best]
        return RoutePosition(off_route_m=distance[rows, best], remaining_m=remaining)
