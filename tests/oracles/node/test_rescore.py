"""Upgrade safety: a node whose checkpoint holds a detector state it cannot load (another state version
after an upgrade, an undecodable blob) rescores the shipment from its first reading, catches up, and signs
nothing it already signed or the chain already has: still one verdict."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oracles.node.tracker import ShipmentTracker
from tests.oracles.node.conftest import Api, Chain, Nodes, NodeSpec, excursion_readings, now_ms, wait_until

SETTLE_S = 3.0  # after catching up: time for a second signature or submission to show up if there were one
RESCORE_WARNING = "rescoring it from its first reading with fresh detectors"


def _checkpoint(spec: NodeSpec) -> Path:
    return spec.data_dir / "checkpoint.sqlite3"


def _stream(spec: NodeSpec, shipment: str) -> tuple[int | None, str]:
    with sqlite3.connect(_checkpoint(spec)) as db:
        row = db.execute("SELECT after_id, tracker_state FROM shipments WHERE shipment_id = ?", (shipment,)).fetchone()
    return (None, "") if row is None else (row[0], row[1])


def _set_tracker_state(spec: NodeSpec, shipment: str, blob: str) -> None:
    with sqlite3.connect(_checkpoint(spec)) as db:
        db.execute("UPDATE shipments SET tracker_state = ? WHERE shipment_id = ?", (blob, shipment))


def _older_version(spec: NodeSpec, shipment: str) -> None:
    """The state as the previous release wrote it: same shape, the version before the current one."""
    state: dict[str, Any] = json.loads(_stream(spec, shipment)[1])
    state["version"] = ShipmentTracker.STATE_VERSION - 1
    _set_tracker_state(spec, shipment, json.dumps(state))


def _time_cursor_of_an_older_node(spec: NodeSpec, shipment: str) -> None:
    """The row as a node from before acceptance order left it: a (ts_ms, id) cursor, no after_id."""
    with sqlite3.connect(_checkpoint(spec)) as db:
        db.execute(
            "UPDATE shipments SET cursor_ts_ms = frontier_ms, cursor_id = after_id, after_id = NULL, "
            "frontier_ms = NULL, late_state = NULL WHERE shipment_id = ?",
            (shipment,),
        )


def _verdict_rows(spec: NodeSpec) -> list[tuple[str, str]]:
    try:
        with sqlite3.connect(f"file:{_checkpoint(spec)}?mode=ro", uri=True) as db:
            return db.execute("SELECT verdict_id, status FROM verdicts").fetchall()
    except sqlite3.OperationalError:  # the node has not created its checkpoint yet
        return []


def _signature_rows(spec: NodeSpec) -> int:
    with sqlite3.connect(_checkpoint(spec)) as db:
        return int(db.execute("SELECT COUNT(*) FROM signatures").fetchone()[0])


def _last_reading_id(api: Api, shipment: str) -> int:
    with api.client() as client:
        return client.readings_page(shipment, after_id=0, limit=1000).items[-1].id


def _caught_up(specs: list[NodeSpec], shipment: str, last_id: int) -> bool:
    return all(_stream(spec, shipment)[0] == last_id for spec in specs)


def _shipment_with_excursion(chain: Chain, api: Api) -> tuple[dict[str, Any], str, Any]:
    order = chain.new_order()
    shipment = str(order["twin_id"])
    device = api.device_for(shipment)
    api.post(shipment, device, excursion_readings(now_ms() - 60 * 60_000))
    return order, shipment, device


def _more_readings(api: Api, shipment: str, device: Any) -> None:
    """Ten in-range readings after the excursion: what the restarted node must catch up on."""
    api.post(shipment, device, excursion_readings(now_ms() - 20 * 60_000, normal=10, hot=0))


def test_older_and_undecodable_states_are_rescored_without_a_second_verdict(
    chain: Chain, api: Api, nodes: Nodes
) -> None:
    order, shipment, device = _shipment_with_excursion(chain, api)
    specs = nodes.specs(2)
    first_run = [nodes.start(spec, specs, shipment) for spec in specs]
    wait_until(lambda: chain.verdicts(order["order_id"]), 60, "a VerdictAccepted")
    wait_until(lambda: all(rows and rows[0][1] == "done" for rows in map(_verdict_rows, specs)), 30, "both nodes done")
    for node in first_run:
        assert node.stop() == 0, node.log()
    recorded = [_verdict_rows(spec) for spec in specs]
    signatures = [_signature_rows(spec) for spec in specs]

    _older_version(specs[0], shipment)
    _set_tracker_state(specs[1], shipment, '{"version": 2, "monitor": {"sla": ')  # cut short mid-write
    _more_readings(api, shipment, device)
    last_id = _last_reading_id(api, shipment)
    restarted = [nodes.start(spec, specs, shipment) for spec in specs]

    wait_until(lambda: _caught_up(specs, shipment, last_id), 60, "both nodes to catch up")
    time.sleep(SETTLE_S)
    older, undecodable = (node.log() for node in restarted)
    assert f"WARNING asc.oracle.node: shipment {shipment}: its saved detector state cannot be loaded" in older
    assert f"unsupported shipment tracker state version {ShipmentTracker.STATE_VERSION - 1}" in older
    assert f"shipment {shipment}: its saved detector state is undecodable (not JSON" in undecodable
    for log in (older, undecodable):
        assert log.count(RESCORE_WARNING) == 1
        assert "temperature_excursion window" in log and "not signing it again" in log
        assert "signed verdict" not in log and "submitted with" not in log
    assert len(chain.verdicts(order["order_id"])) == 1
    assert len(chain.penalties(order["order_id"])) == 1
    assert [_verdict_rows(spec) for spec in specs] == recorded
    assert [_signature_rows(spec) for spec in specs] == signatures
    # The rescored state is the current version again: a later restart resumes it without rescoring.
    assert all(json.loads(_stream(spec, shipment)[1])["version"] == ShipmentTracker.STATE_VERSION for spec in specs)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_older_version, "its saved detector state cannot be loaded"),
        (_time_cursor_of_an_older_node, "its checkpoint holds the time cursor"),
    ],
    ids=["older-state-version", "time-cursor"],
)
def test_a_verdict_signed_but_not_yet_accepted_is_not_signed_again_after_a_rescore(
    chain: Chain, api: Api, nodes: Nodes, damage: Callable[[NodeSpec, str], None], reason: str
) -> None:
    order, shipment, device = _shipment_with_excursion(chain, api)
    first, second = nodes.specs(2)
    alone = nodes.start(first, [first, second], shipment)  # k = 2: alone it signs and waits
    wait_until(lambda: _verdict_rows(first), 60, "the first node to sign")
    assert alone.stop() == 0, alone.log()
    [(verdict_id, status)] = _verdict_rows(first)
    assert status == "signed"

    damage(first, shipment)
    _more_readings(api, shipment, device)
    last_id = _last_reading_id(api, shipment)
    rescoring = nodes.start(first, [first, second], shipment)
    wait_until(lambda: _caught_up([first], shipment, last_id), 60, "the node to catch up")
    assert reason in rescoring.log() and RESCORE_WARNING in rescoring.log()
    assert f"recorded here as verdict {verdict_id} (signed)" in rescoring.log()
    assert "signed verdict" not in rescoring.log()
    assert _verdict_rows(first) == [(verdict_id, "signed")]
    assert _signature_rows(first) == 1

    # The recorded verdict is still the one offered: with the second node's signature it is accepted, once.
    nodes.start(second, [first, second], shipment)
    wait_until(lambda: chain.verdicts(order["order_id"]), 60, "a VerdictAccepted")
    time.sleep(SETTLE_S)
    [accepted] = chain.verdicts(order["order_id"])
    assert "0x" + bytes(accepted["args"]["verdictId"]).hex() == verdict_id
