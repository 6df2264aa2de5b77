"""Late readings: a second device of a shipment uploads its backlog after the first device's newer readings
were read. The node reads it (acceptance order), the SLA rules judge it (a late excursion is an excursion,
its evidence is the late readings), and across a restart nothing is read twice."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from eth_account import Account

from offchain.storage.store import EmbeddedStore
from tests.oracles.node.conftest import Api, Chain, Nodes, NodeSpec, excursion_readings, now_ms, wait_until

SETTLE_S = 3.0
MINUTE_MS = 60_000


def _shipment_row(spec: NodeSpec, shipment: str) -> tuple[int | None, int | None, dict[str, Any]]:
    """(after_id, frontier_ms, late state) of the node's checkpoint; Nones before the node wrote one."""
    path = spec.data_dir / "checkpoint.sqlite3"
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            row = db.execute(
                "SELECT after_id, frontier_ms, late_state FROM shipments WHERE shipment_id = ?", (shipment,)
            ).fetchone()
    except sqlite3.OperationalError:  # not created yet
        row = None
    return (None, None, {}) if row is None else (row[0], row[1], json.loads(row[2] or "{}"))


def _last_reading_id(api: Api, shipment: str) -> int:
    with api.client() as client:
        return client.readings_page(shipment, after_id=0, limit=1000).items[-1].id


def _caught_up(specs: list[NodeSpec], shipment: str, last_id: int) -> bool:
    return all(_shipment_row(spec, shipment)[0] == last_id for spec in specs)


def _evidence(spec: NodeSpec) -> dict[str, Any]:
    with sqlite3.connect(spec.data_dir / "checkpoint.sqlite3") as db:
        [(cid,)] = db.execute("SELECT evidence_cid FROM verdicts").fetchall()
    store = EmbeddedStore(Path(spec.data_dir / "evidence"))
    try:
        evidence: dict[str, Any] = json.loads(store.get(cid))
    finally:
        store.close()
    return evidence


def test_a_late_backlog_of_another_device_is_read_once_and_its_excursion_judged(
    chain: Chain, api: Api, nodes: Nodes
) -> None:
    order = chain.new_order()
    shipment = str(order["twin_id"])
    start_ms = now_ms() - 120 * MINUTE_MS
    reefer = api.device_for(shipment)
    api.post(shipment, reefer, excursion_readings(start_ms, normal=30, hot=0))
    specs = nodes.specs(2)
    first_run = [nodes.start(spec, specs, shipment) for spec in specs]
    wait_until(lambda: _caught_up(specs, shipment, _last_reading_id(api, shipment)), 60, "the reefer's readings read")
    frontier_ms = start_ms + 29 * MINUTE_MS
    assert all(_shipment_row(spec, shipment)[1] == frontier_ms for spec in specs)

    # A logger that was offline uploads 20 minutes of out-of-range readings taken while the reefer reported.
    logger = Account.create()
    logger_id = f"logger-{shipment}"
    backlog = excursion_readings(start_ms + 5 * MINUTE_MS, normal=0, hot=20)
    with api.client() as client:
        client.register_device(logger_id, logger.address, shipments=[shipment])
        client.post_readings(logger_id, shipment, 1, backlog, logger.key)

    [verdict] = wait_until(lambda: chain.verdicts(order["order_id"]), 60, "a VerdictAccepted for the backlog")
    time.sleep(SETTLE_S)
    assert len(chain.verdicts(order["order_id"])) == 1
    args = verdict["args"]
    assert args["kind"] == 1
    assert args["windowStart"] == backlog[0]["ts_ms"] // 1000
    assert backlog[0]["ts_ms"] // 1000 < args["windowEnd"] <= backlog[-1]["ts_ms"] // 1000
    evidence = _evidence(specs[0])
    assert {r["device_id"] for r in evidence["readings"]} == {logger_id}
    assert evidence["window"]["start_s"] == args["windowStart"]
    for spec, node in zip(specs, first_run, strict=True):
        after_id, frontier, late = _shipment_row(spec, shipment)
        assert (after_id, frontier, late["rows"]) == (_last_reading_id(api, shipment), frontier_ms, 20), node.log()
        assert "scored by their device's late tracker" in node.log()

    # Restart both nodes, then the reefer carries on: every new reading is read, nothing is read twice.
    for node in first_run:
        assert node.stop() == 0, node.log()
    api.post(shipment, reefer, excursion_readings(start_ms + 30 * MINUTE_MS, normal=5, hot=0))
    last_id = _last_reading_id(api, shipment)
    restarted = [nodes.start(spec, specs, shipment) for spec in specs]
    wait_until(lambda: _caught_up(specs, shipment, last_id), 60, "the restarted nodes to catch up")
    time.sleep(SETTLE_S)
    for spec, node in zip(specs, restarted, strict=True):
        _, frontier, late = _shipment_row(spec, shipment)
        assert (frontier, late["rows"], list(late["devices"])) == (start_ms + 34 * MINUTE_MS, 20, [logger_id])
        assert "scored by their device's late tracker" not in node.log()
        assert "signed verdict" not in node.log()
        assert "20 late reading(s) from 1 device(s)" in node.log()
    assert len(chain.verdicts(order["order_id"])) == 1


def test_a_late_excursion_overlapping_a_verdict_of_the_same_kind_is_not_a_second_verdict(
    chain: Chain, api: Api, nodes: Nodes
) -> None:
    order = chain.new_order()
    shipment = str(order["twin_id"])
    start_ms = now_ms() - 120 * MINUTE_MS
    reefer = api.device_for(shipment)
    api.post(shipment, reefer, excursion_readings(start_ms, normal=10, hot=20))  # hot from minute 10 to 29
    specs = nodes.specs(2)
    running = [nodes.start(spec, specs, shipment) for spec in specs]
    [verdict] = wait_until(lambda: chain.verdicts(order["order_id"]), 60, "the reefer's VerdictAccepted")

    # The logger saw the same excursion (minutes 12 to 28) and uploads it late.
    logger = Account.create()
    logger_id = f"logger-{shipment}"
    with api.client() as client:
        client.register_device(logger_id, logger.address, shipments=[shipment])
        client.post_readings(
            logger_id, shipment, 1, excursion_readings(start_ms + 12 * MINUTE_MS, normal=0, hot=17), logger.key
        )
    last_id = _last_reading_id(api, shipment)
    wait_until(lambda: _caught_up(specs, shipment, last_id), 60, "the backlog read")
    time.sleep(SETTLE_S)
    assert chain.verdicts(order["order_id"]) == [verdict]
    window = f"[{verdict['args']['windowStart']}, {verdict['args']['windowEnd']}] of the same kind"
    for spec, node in zip(specs, running, strict=True):
        assert _shipment_row(spec, shipment)[2]["rows"] == 17
        assert f"(late readings) overlaps verdict 0x{bytes(verdict['args']['verdictId']).hex()} {window}" in node.log()
