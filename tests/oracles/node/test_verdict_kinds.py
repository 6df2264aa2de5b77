"""Real multi-node runs (3 node processes, k = 2, readings through the real API) for the verdict kinds that
need the planned route: route deviation, predicted late arrival, and the reroute of a failing reefer.

The orders' delivery legs run between road graph places, so every node derives the same corridor from the
chain. Readings carry chain-clock times (the test chain runs hours ahead of the wall clock) taken after the
pickup; the chain clock is moved past them so the nodes may read them.
"""

from __future__ import annotations

import time
from typing import Any

from offchain.sim.roads import RoadGraph
from offchain.storage.canonical import decode
from offchain.storage.store import EmbeddedStore
from oracles.detect.geo import Polyline
from oracles.node.checkpoint import Checkpoint
from oracles.node.routing import Planner
from oracles.node.terms import ChainTerms, PlannedLeg
from oracles.verdicts import Action, Kind
from tests.oracles.node.conftest import Api, Chain, Nodes, NodeSpec, wait_until

ORIGIN, DESTINATION = "supplier_ely", "wholesaler_cambridge"
STEP_S = 60
SETTLE_S = 3.0
ROUTE = Polyline(
    [
        (lat / 1e6, lon / 1e6)
        for lat, lon in Planner(RoadGraph.load(), 2000)
        .plan(ChainTerms(0, 500, 6000, 9500, 5000, 900), [PlannedLeg(1, 0, ORIGIN, DESTINATION, 0)], 0)
        .corridor
    ]
)


def _point(along_m: float) -> tuple[int, int]:
    """(lat_e7, lon_e7) of the point ``along_m`` metres along the planned route."""
    along = min(along_m, ROUTE.length_m)
    seg = 0
    while seg < len(ROUTE.segment_m) - 1 and along > ROUTE.segment_m[: seg + 1].sum():
        seg += 1
    f = (along - ROUTE.segment_m[:seg].sum()) / ROUTE.segment_m[seg]
    lat = ROUTE.lat[seg] + (ROUTE.lat[seg + 1] - ROUTE.lat[seg]) * f
    lon = ROUTE.lon[seg] + (ROUTE.lon[seg + 1] - ROUTE.lon[seg]) * f
    return round(lat * 1e7), round(lon * 1e7)


def _reading(ts_s: int, lat_e7: int, lon_e7: int, temp_centi_c: int = 300) -> dict[str, int]:
    return {
        "ts_ms": ts_s * 1000,
        "temp_centi_c": temp_centi_c,
        "humidity_bp": 8000,
        "light_lux": 0,
        "shock_milli_g": 30,
        "lat_e7": lat_e7,
        "lon_e7": lon_e7,
    }


def _post(api: Api, shipment: str, readings: list[dict[str, int]]) -> None:
    device = api.device_for(shipment)
    for start in range(0, len(readings), 100):
        api.post(shipment, device, readings[start : start + 100])


def _run_three(nodes: Nodes, shipment: str) -> list[NodeSpec]:
    specs = nodes.specs(3)
    for spec in specs:
        nodes.start(spec, specs, shipment)
    return specs


def _one_verdict(chain: Chain, order_id: int) -> Any:
    wait_until(lambda: chain.verdicts(order_id), 90, "a VerdictAccepted")
    time.sleep(SETTLE_S)
    verdicts = chain.verdicts(order_id)
    assert len(verdicts) == 1, verdicts
    return verdicts[0]


def _decided(spec: NodeSpec) -> list[tuple[str, str]]:
    checkpoint = Checkpoint(spec.data_dir / "checkpoint.sqlite3")
    try:
        return [(r.verdict_id, r.evidence_cid) for r in checkpoint.verdicts()]
    finally:
        checkpoint.close()


def _evidence(spec: NodeSpec, cid: str) -> bytes:
    store = EmbeddedStore(spec.data_dir / "evidence")
    try:
        return store.get(cid)
    finally:
        store.close()


def test_leaving_the_planned_corridor_ends_in_one_route_deviation_verdict_built_alike_by_every_node(
    chain: Chain, api: Api, nodes: Nodes
) -> None:
    order = chain.new_order(ORIGIN, DESTINATION)
    shipment, start = str(order["twin_id"]), order["picked_up_at"] + STEP_S
    on_route = [_reading(start + i * STEP_S, *_point(i * 500.0)) for i in range(10)]
    lat, lon = on_route[-1]["lat_e7"], on_route[-1]["lon_e7"]
    # Then 1.5 km east of the A10 (a plausible minute's move, not a GPS teleport), kept there for 6 minutes.
    away = [_reading(start + (10 + i) * STEP_S, lat, lon + 220_000) for i in range(7)]
    chain.advance(3600)
    _post(api, shipment, on_route + away)
    specs = _run_three(nodes, shipment)

    accepted = _one_verdict(chain, order["order_id"])["args"]
    assert accepted["kind"] == Kind.ROUTE_DEVIATION and accepted["action"] == Action.PENALTY
    # from the first reading 1.5 km east of the road (beyond the corridor's half width, 1 km) to the one that
    # keeps it off the corridor for the route grace (300 s)
    assert accepted["windowStart"] == start + 10 * STEP_S
    assert accepted["windowEnd"] == start + 15 * STEP_S
    penalties = chain.penalties(order["order_id"])
    assert [p["args"]["verdictId"] for p in penalties] == [accepted["verdictId"]]

    # Every node built the same verdict from the same evidence bytes, stored in its own evidence store.
    wait_until(lambda: all(_decided(s) for s in specs), 30, "every node to record the window")
    decided = [_decided(spec) for spec in specs]
    assert decided[0] == decided[1] == decided[2]
    (verdict_id, cid), *_ = decided[0]
    assert verdict_id == "0x" + bytes(accepted["verdictId"]).hex()
    data = [_evidence(spec, cid) for spec in specs]
    assert data[0] == data[1] == data[2]
    evidence = decode(data[0])
    assert evidence["kind"] == "route_deviation"
    assert [leg["origin"] for leg in evidence["plan"]["legs"]] == [ORIGIN]
    # ... and the node that got it mined posted it to the API's live feed
    with api.client() as client:
        posted = wait_until(lambda: client.verdicts(shipment), 30, "the verdict on the API")
    assert [(v.verdict_id, v.kind, v.evidence_cid) for v in posted] == [(verdict_id, "route_deviation", cid)]


def test_a_crawling_truck_gets_a_delay_verdict_before_its_deadline(chain: Chain, api: Api, nodes: Nodes) -> None:
    # The delivery deadline is 6 h after the order opened; the pickup comes ~4 h in (the sealed-bid rounds).
    order = chain.new_order(ORIGIN, DESTINATION, deadline_after_s=6 * 3600)
    deadline = chain.contract("Escrow").functions.order(order["order_id"]).call()[8]
    shipment, start = str(order["twin_id"]), order["picked_up_at"] + STEP_S
    # 20 km to drive at 1 m/s: the forecast (~6 h) is far past the deadline (<2 h away).
    crawl = [_reading(start + i * STEP_S, *_point(i * 60.0)) for i in range(30)]
    chain.advance(1800)
    _post(api, shipment, crawl)
    _run_three(nodes, shipment)

    verdict = _one_verdict(chain, order["order_id"])
    accepted = verdict["args"]
    assert accepted["kind"] == Kind.DELAY and accepted["action"] == Action.PENALTY
    assert accepted["windowEnd"] < deadline
    mined_at = chain.w3.eth.get_block(verdict["blockNumber"])["timestamp"]
    assert mined_at < deadline  # raised before the breach, not after
    assert len(chain.penalties(order["order_id"])) == 1


def test_a_failing_reefer_is_rerouted_and_a_reroute_cfp_opens_on_chain(chain: Chain, api: Api, nodes: Nodes) -> None:
    order = chain.new_order(ORIGIN, DESTINATION)
    shipment, start = str(order["twin_id"]), order["picked_up_at"] + STEP_S
    depot = _point(0.0)
    # 100 minutes holding 3.0 degC (the learned baselines' history), then the unit stops cooling: +0.25 degC
    # a minute, steadily, until the excursion outlasts the 15-minute grace.
    steady = [_reading(start + i * STEP_S, *depot, temp_centi_c=300 + i % 3) for i in range(100)]
    warming = [_reading(start + (100 + i) * STEP_S, *depot, temp_centi_c=320 + 25 * i) for i in range(40)]
    chain.advance(3 * 3600)
    _post(api, shipment, steady + warming)
    _run_three(nodes, shipment)

    accepted = _one_verdict(chain, order["order_id"])["args"]
    assert accepted["kind"] == Kind.TEMPERATURE and accepted["action"] == Action.REROUTE
    reroutes = chain.reroutes(order["order_id"])
    assert [r["args"]["verdictId"] for r in reroutes] == [accepted["verdictId"]]
    cfp = chain.contract("Procurement").functions.cfp(reroutes[0]["args"]["cfpId"]).call()
    assert cfp[1] == 1 and cfp[2] == 1  # a DELIVERY CFP, open for carriers' bids
