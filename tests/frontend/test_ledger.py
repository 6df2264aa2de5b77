"""frontend/ledger.py: the places of a reroute's leg, which its call for proposals does not name on chain."""

from __future__ import annotations

from frontend.ledger import CfpRow, CustodyRow, placed_legs

FIRST, SECOND, OWNER = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20


def _leg(cfp_id: int, origin: str, destination: str, winner: str) -> CfpRow:
    return CfpRow(cfp_id, 1, "delivery", OWNER, "awarded", 100, 5, origin, destination, 0, 0, 0, {}, winner=winner)


def _accepted(holder_before: str, holder_after: str, place: str) -> CustodyRow:
    return CustodyRow(1, "accepted", 0, holder_before, holder_after, place, "0x00")


def test_a_reroute_leg_runs_from_the_handover_to_the_orders_destination() -> None:
    legs = [_leg(2, "supplier_ely", "wholesaler_cambridge", FIRST), _leg(5, "", "", SECOND)]
    custody = [_accepted(OWNER, FIRST, "supplier_ely"), _accepted(FIRST, SECOND, "crossdock_bar_hill")]
    placed = placed_legs(legs, custody)
    assert (placed[1].origin, placed[1].destination) == ("crossdock_bar_hill", "wholesaler_cambridge")
    assert placed[0] == legs[0]


def test_a_reroute_leg_before_its_handover_has_no_origin_yet() -> None:
    legs = [_leg(2, "supplier_ely", "wholesaler_cambridge", FIRST), _leg(5, "", "", SECOND)]
    placed = placed_legs(legs, [_accepted(OWNER, FIRST, "supplier_ely")])
    assert (placed[1].origin, placed[1].destination) == ("", "wholesaler_cambridge")
