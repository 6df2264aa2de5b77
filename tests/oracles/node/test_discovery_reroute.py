"""Discovery of custody and reroutes, keyed to chain time: the plan of a reading does not depend on when a node
learned of the events. Logs are served by an in-memory chain with the ChainClient's log interface (the real
chain plays the whole story in the default scenario)."""

from __future__ import annotations

from typing import Any

from oracles.node.discovery import DELIVERY, GOODS, ChainView
from oracles.node.routing import encode_place
from oracles.node.terms import RerouteState

SELLER, FENLAND, CITY_CHILL, BUYER = "0xSeller", "0xFenland", "0xCityChill", "0xBuyer"
SLA = (0, 500, 6000, 9500, 5000, 600)
ZERO_PLACE = b"\0" * 32


def _event(block: int, **args: Any) -> dict[str, Any]:
    return {"blockNumber": block, "logIndex": 0, "args": args}


def _cfp(block: int, cfp_id: int, kind: int, parent: int, origin: bytes, destination: bytes) -> dict[str, Any]:
    params = {"kind": kind, "origin": origin, "destination": destination, "sla": SLA}
    return _event(block, cfpId=cfp_id, parentOrderId=parent, params=params)


def _handoff(block: int, sender: str, receiver: str, place: str) -> dict[str, Any]:
    parties = {"from": sender, "to": receiver}
    return _event(block, twinId=1, **parties, timestamp=block * 10, location=encode_place(place))


class _Chain:
    """Blocks 10 s apart; the log table of one order (1) and its twin (1) through a reroute at block 40."""

    custody, escrow, procurement = "custody", "escrow", "procurement"

    def __init__(self) -> None:
        self.head_block = 100
        self.table: dict[str, list[dict[str, Any]]] = {
            "TwinMinted": [_event(5, twinId=1, orderId=1, holder=SELLER)],
            "CfpOpened": [
                _cfp(1, 1, GOODS, 0, ZERO_PLACE, encode_place("wholesaler_cambridge")),
                _cfp(6, 2, DELIVERY, 1, encode_place("supplier_ely"), encode_place("wholesaler_cambridge")),
                _cfp(40, 4, DELIVERY, 1, ZERO_PLACE, encode_place("wholesaler_cambridge")),
            ],
            "CfpAwarded": [_event(8, cfpId=2, twinIdOrLegIndex=0), _event(50, cfpId=4, twinIdOrLegIndex=1)],
            "RerouteOpened": [_event(40, cfpId=4, orderId=1, sourceCfpId=2)],
            "HandoffOffered": [
                _handoff(9, SELLER, FENLAND, "supplier_ely"),
                _handoff(51, FENLAND, CITY_CHILL, "crossdock_bar_hill"),
                _handoff(70, CITY_CHILL, BUYER, "wholesaler_cambridge"),
            ],
            "HandoffAccepted": [
                _handoff(10, SELLER, FENLAND, "supplier_ely"),
                _handoff(60, FENLAND, CITY_CHILL, "crossdock_bar_hill"),
            ],
        }

    def head(self) -> tuple[int, int]:
        return self.head_block, self.head_block * 10

    def block_time(self, number: int) -> int:
        return number * 10

    def logs(self, contract: str, event: str, start: int, end: int) -> list[dict[str, Any]]:
        return [e for e in self.table.get(event, []) if start <= e["blockNumber"] <= end]


def _view(chunk_blocks: int = 1000) -> ChainView:
    view = ChainView(_Chain(), 0, chunk_blocks, 0)  # type: ignore[arg-type]
    view.refresh()
    return view


def test_the_holder_is_the_one_that_accepted_last_by_then() -> None:
    view = _view()
    assert view.holder_at(1, 50) == (SELLER, 0)
    assert view.holder_at(1, 100) == (FENLAND, 100)
    assert view.holder_at(1, 599) == (FENLAND, 100)
    assert view.holder_at(1, 600) == (CITY_CHILL, 600)


def test_a_reroute_is_not_in_force_before_it_was_opened() -> None:
    assert _view().reroutes_at(1, 1, 399) == []


def test_an_ordered_reroute_names_no_place_until_the_holder_offers_the_goods() -> None:
    assert _view().reroutes_at(1, 1, 509) == [RerouteState(4, 400, "wholesaler_cambridge", 0)]


def test_the_holders_offer_names_the_handover_place() -> None:
    (reroute,) = _view().reroutes_at(1, 1, 510)
    assert (reroute.handover_place, reroute.taken_over_at_s) == ("crossdock_bar_hill", 0)


def test_the_relief_leg_runs_from_the_handover_accepted_from_the_old_holder() -> None:
    # The relief carrier's own delivery offer (block 70) changes nothing.
    assert _view().reroutes_at(1, 1, 900) == [
        RerouteState(4, 400, "wholesaler_cambridge", 0, "crossdock_bar_hill", 600)
    ]


def test_a_reroute_leg_is_not_a_planned_leg() -> None:
    assert [leg.cfp_id for leg in _view().legs(1)] == [2]


def test_the_same_logs_in_small_chunks_give_the_same_view() -> None:
    whole, chunked = _view(), _view(chunk_blocks=7)
    for at_s in (0, 100, 400, 510, 600, 900):
        assert whole.reroutes_at(1, 1, at_s) == chunked.reroutes_at(1, 1, at_s)
        assert whole.holder_at(1, at_s) == chunked.holder_at(1, at_s)
