"""Shipments: live map (vehicle, trail, planned route), sensor charts with SLA bands and verdicts, custody
chain, and the delivery report once delivered."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from frontend import context, ledger, names, report, sensors
from frontend.chain import Chain
from frontend.errors import explain
from frontend.places import planned_route, resolve, route_points
from offchain.api.schemas import PositionPublic
from offchain.sim.roads import RoadGraph

LINE_COLOUR = "#1f77b4"
ROUTE_COLOURS = [[30, 110, 200], [120, 60, 180], [0, 150, 140], [200, 120, 0]]


@st.cache_resource
def road_graph() -> RoadGraph:
    return RoadGraph.load()


def map_layers(
    legs: list[ledger.CfpRow], readings: pd.DataFrame, others: list[PositionPublic]
) -> tuple[list[pdk.Layer], list[tuple[float, float]]]:
    """Layers of the chosen shipment (planned legs, trail, vehicle, places) and the other vehicles (grey)."""
    graph = road_graph()
    layers: list[pdk.Layer] = []
    points: list[tuple[float, float]] = []
    places = []
    for index, leg in enumerate(legs):
        route = planned_route(graph, leg.origin, leg.destination)
        for name in (leg.origin, leg.destination):
            found = resolve(graph, name)
            if found is not None:
                places.append({"name": name, "position": [found.node.lon, found.node.lat]})
        if route is None:
            continue
        path = route_points(route)
        points += path
        layers.append(
            pdk.Layer(
                "PathLayer",
                data=[
                    {
                        "name": f"planned leg {index + 1}: {leg.origin} → {leg.destination}",
                        "path": path,
                        "color": ROUTE_COLOURS[index % len(ROUTE_COLOURS)],
                    }
                ],
                id=f"planned-{index}",
                get_path="path",
                get_color="color",
                # wider than the trail, which is drawn over it: where the truck kept to the plan the route
                # shows as a blue edge, a detour shows as red away from the blue
                width_min_pixels=9,
                opacity=1.0,
                pickable=True,
            )
        )
    if not readings.empty:
        trail = [[lon, lat] for lon, lat in zip(readings["lon"], readings["lat"], strict=True)]
        points += [(p[0], p[1]) for p in trail]
        layers.append(
            pdk.Layer(
                "PathLayer",
                data=[{"name": "trail", "path": trail}],
                id="trail",
                get_path="path",
                get_color=[220, 40, 40],
                width_min_pixels=3,
                opacity=1.0,
                pickable=True,
            )
        )
        last = readings.groupby("device_id").tail(1)
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                data=[
                    {"name": f"vehicle with {d}", "position": [lon, lat]}
                    for d, lon, lat in zip(last["device_id"], last["lon"], last["lat"], strict=True)
                ],
                id="vehicles",
                get_position="position",
                get_fill_color=[220, 40, 40],
                radius_min_pixels=8,
                pickable=True,
            )
        )
    if others:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                data=[
                    {"name": f"shipment {p.shipment_id} ({p.device_id})", "position": [p.lon_e7 / 1e7, p.lat_e7 / 1e7]}
                    for p in others
                ],
                id="other-vehicles",
                get_position="position",
                get_fill_color=[140, 140, 140],
                radius_min_pixels=6,
                pickable=True,
            )
        )
    if places:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer",
                data=places,
                id="places",
                get_position="position",
                get_fill_color=[40, 40, 40],
                radius_min_pixels=5,
                pickable=True,
            )
        )
    return layers, points


def chart(metric: str, readings: pd.DataFrame, band: sensors.Band | None, windows: pd.DataFrame) -> alt.LayerChart:
    label, unit = sensors.METRICS[metric][:2]
    line = (
        alt.Chart(readings)
        .mark_line(color=LINE_COLOUR)
        .encode(x=alt.X("time:T", title="time (UTC)"), y=alt.Y(f"{metric}:Q", title=f"{label} ({unit})"))
    )
    layers: list[alt.Chart] = []
    if band is not None:
        low = band.low if band.low is not None else min(0.0, float(readings[metric].min()))
        limits = pd.DataFrame({"low": [low], "high": [band.high]})
        layers.append(alt.Chart(limits).mark_rect(color="green", opacity=0.12).encode(y="low:Q", y2="high:Q"))
    if not windows.empty:
        layers.append(
            alt.Chart(windows).mark_rect(color="red", opacity=0.25).encode(x="start:T", x2="end:T", tooltip=["verdict"])
        )
    return alt.LayerChart(layer=[*layers, line]).properties(height=220, title=label)


def delivery_report_links(current: Chain, view: ledger.Shipment, readings: pd.DataFrame) -> None:
    written = report.write_for(current.manifest.network, view, readings, context.settings().report_dir)
    if written is None:
        st.caption("The delivery report is written once the order is delivered and settled.")
        return
    md, page = written
    st.subheader("Delivery report")
    st.caption(f"Written to {md} and {page}")
    c1, c2 = st.columns(2)
    c1.download_button(
        "Delivery report (Markdown)", md.read_bytes(), file_name=md.name, mime="text/markdown", key="report_md"
    )
    c2.download_button(
        "Delivery report (HTML)", page.read_bytes(), file_name=page.name, mime="text/html", key="report_html"
    )


current = context.chain()
api = context.api()
st.title("Shipments")
history = current.history()
twins = sorted(history.twins)
if not twins:
    st.info("No shipment (custody twin) on this deployment yet.")
    st.stop()
# ?twin=N opens that shipment: a link to one shipment can be shared (and the e2e test opens the rerouted one)
asked = st.query_params.get("twin")
start = twins.index(int(asked)) if asked is not None and asked.isdigit() and int(asked) in twins else 0
twin_id = st.selectbox("Shipment (custody twin)", twins, index=start, key="twin")


@st.fragment(run_every=context.settings().refresh_s)
@context.guarded
def live(twin_id: int) -> None:
    view = ledger.shipment(current.history(), lambda order: current.call("Procurement", "slaTerms", order), twin_id)
    order_id, legs, sla, verdicts, custody = view.order_id, view.legs, view.sla, view.verdicts, view.custody
    directory = names.directory(current.history())
    readings = pd.DataFrame()
    if api is not None:
        try:
            readings = sensors.frame(api.readings(str(twin_id)))
        except Exception as exc:
            st.warning(explain(exc))
    st.caption(
        f"order {order_id} · {len(readings)} readings · {len(verdicts)} verdicts · chain time "
        f"{context.when(current.now())} UTC · refreshed every {context.settings().refresh_s:g} s"
    )

    others: list[PositionPublic] = []
    if api is not None:
        try:
            others = [p for p in api.positions() if p.shipment_id != str(twin_id)]
        except Exception as exc:
            st.warning(explain(exc))
    layers, points = map_layers(legs, readings, others)
    if points:
        lon = sum(p[0] for p in points) / len(points)
        lat = sum(p[1] for p in points) / len(points)
        deck = pdk.Deck(
            layers=layers,
            initial_view_state=pdk.ViewState(latitude=lat, longitude=lon, zoom=9),
            map_style=context.settings().map_style,
            tooltip={"text": "{name}"},
        )
        st.pydeck_chart(deck, key="map")
    else:
        st.info("Nothing to draw yet: no readings with positions and no leg whose places are on the road map.")

    if readings.empty:
        st.info("The API holds no readings for this shipment yet.")
    else:
        limits = sensors.bands(sla) if sla else {}
        windows = pd.DataFrame(
            [
                {
                    "start": pd.Timestamp(v.window_start, unit="s", tz="UTC"),
                    "end": pd.Timestamp(v.window_end, unit="s", tz="UTC"),
                    "verdict": f"{v.kind} verdict, severity {v.severity}, penalty {context.money(v.penalty)}",
                }
                for v in verdicts
            ],
            columns=["start", "end", "verdict"],
        )
        left, right = st.columns(2)
        for index, metric in enumerate(sensors.METRICS):
            (left if index % 2 == 0 else right).altair_chart(
                chart(metric, readings, limits.get(metric), windows), width="stretch", key=f"chart-{metric}"
            )

    st.subheader("Custody chain")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "step": r.step,
                    "time (UTC)": context.when(r.timestamp),
                    "from": names.name(directory, r.holder_before) if r.holder_before else "",
                    "to": names.name(directory, r.holder_after) if r.holder_after else "",
                    "place": r.place,
                    "transaction": r.tx_hash,
                }
                for r in custody
            ],
            columns=["step", "time (UTC)", "from", "to", "place", "transaction"],
        ),
        hide_index=True,
        width="stretch",
        key="custody",
    )
    delivery_report_links(current, view, readings)


live(twin_id)
