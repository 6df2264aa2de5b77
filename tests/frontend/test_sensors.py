"""Readings in physical units, SLA bands from on-chain terms, statistics and excursions."""

from __future__ import annotations

from frontend.sensors import Band, bands, excursions, frame, statistics
from offchain.api.schemas import ReadingPublic

SLA = {
    "tempMinCentiC": 0,
    "tempMaxCentiC": 500,
    "humidityMinBp": 6000,
    "humidityMaxBp": 9500,
    "shockLimitMilliG": 5000,
    "excursionGraceSeconds": 900,
}


def _reading(i: int, temp: int, shock: int = 40) -> ReadingPublic:
    return ReadingPublic(
        id=i,
        shipment_id="1",
        device_id="d",
        batch_seq=1,
        ts_ms=i * 60_000,
        temp_centi_c=temp,
        humidity_bp=7000,
        light_lux=0,
        shock_milli_g=shock,
        lat_e7=522_000_000,
        lon_e7=1_000_000,
        received_at_ms=0,
    )


def test_bands_come_from_the_on_chain_terms_in_physical_units() -> None:
    assert bands(SLA) == {"temperature": Band(0.0, 5.0), "humidity": Band(60.0, 95.0), "shock": Band(None, 5.0)}


def test_frame_converts_fixed_point_to_physical_units() -> None:
    table = frame([_reading(1, 425, 1500)])
    row = table.iloc[0]
    assert (row["temperature"], row["humidity"], row["shock"], row["lat"], row["lon"]) == (4.25, 70.0, 1.5, 52.2, 0.1)


def test_statistics_per_metric() -> None:
    stats = {s.metric: s for s in statistics(frame([_reading(i, t) for i, t in enumerate([100, 300, 500])]))}
    assert (stats["temperature"].low, stats["temperature"].mean, stats["temperature"].high) == (1.0, 3.0, 5.0)
    assert stats["temperature"].count == 3


def test_excursions_are_runs_outside_the_band() -> None:
    temps = [300, 600, 700, 300, 300, -100, 300, 650]
    found = excursions(frame([_reading(i, t) for i, t in enumerate(temps)]), bands(SLA))
    assert [(x.metric, x.start_ms // 60_000, x.end_ms // 60_000, x.readings, x.worst) for x in found] == [
        ("temperature", 1, 2, 2, 7.0),
        ("temperature", 5, 5, 1, -1.0),
        ("temperature", 7, 7, 1, 6.5),  # a run still open at the end counts
    ]


def test_a_shock_above_its_limit_is_an_excursion() -> None:
    found = excursions(frame([_reading(0, 300, 40), _reading(1, 300, 6200)]), bands(SLA))
    assert [(x.metric, x.worst) for x in found] == [("shock", 6.2)]


def test_no_readings_no_statistics() -> None:
    assert statistics(frame([])) == []
