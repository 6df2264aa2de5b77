"""Route geometry: haversine distances, distance to a polyline, route metres left."""

import numpy as np
import pytest

from oracles.detect.geo import EARTH_RADIUS_M, Polyline, haversine_m

ONE_DEGREE_M = EARTH_RADIUS_M * np.pi / 180  # 111.195 km along a meridian


def test_haversine_one_degree_of_latitude():
    assert haversine_m(50.0, 10.0, 51.0, 10.0) == pytest.approx(ONE_DEGREE_M, rel=1e-9)


def test_haversine_same_point_is_zero():
    assert haversine_m(50.0, 10.0, 50.0, 10.0) == 0.0


def test_point_beside_segment_measures_perpendicular_distance():
    route = Polyline([(50.0, 10.0), (51.0, 10.0)])
    # 0.01 degree of longitude at 50.5 N is ~707 m east of the meridian.
    expected = haversine_m(50.5, 10.0, 50.5, 10.01)
    position = route.locate(np.array([50.5]), np.array([10.01]))
    assert position.off_route_m[0] == pytest.approx(expected, rel=1e-3)


def test_point_past_the_end_measures_to_the_end_vertex():
    route = Polyline([(50.0, 10.0), (51.0, 10.0)])
    assert route.locate(np.array([51.1]), np.array([10.0])).off_route_m[0] == pytest.approx(
        0.1 * ONE_DEGREE_M, rel=1e-6
    )


def test_remaining_distance_follows_the_route_through_vertices():
    route = Polyline([(50.0, 10.0), (51.0, 10.0), (51.0, 11.0)])
    second_leg = haversine_m(51.0, 10.0, 51.0, 11.0)
    remaining = route.locate(np.array([50.5]), np.array([10.0])).remaining_m[0]
    assert remaining == pytest.approx(0.5 * ONE_DEGREE_M + second_leg, rel=1e-6)


def test_route_length_sums_segments():
    route = Polyline([(50.0, 10.0), (50.5, 10.0), (51.0, 10.0)])
    assert route.length_m == pytest.approx(ONE_DEGREE_M, rel=1e-9)


def test_polyline_needs_two_vertices():
    with pytest.raises(ValueError, match="two vertices"):
        Polyline([(50.0, 10.0)])


def test_polyline_rejects_out_of_range_latitude():
    with pytest.raises(ValueError, match="latitude"):
        Polyline([(95.0, 10.0), (50.0, 10.0)])
