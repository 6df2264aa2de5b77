"""A carrier never promises one truck twice: a truck named in a bid on an open CFP, or in a job not yet
finished, is not offered again (found when many shipments were in flight in bench/agents.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from offchain.agents.roles.carrier import CarrierRole
from offchain.agents.state import AgentState


def _carrier(tmp_path: Path) -> CarrierRole:
    state = AgentState(f"sqlite:///{tmp_path / 'carrier.sqlite'}")
    ctx = SimpleNamespace(state=state, config=None, address="0x" + "11" * 20, risk=object())
    return CarrierRole(ctx)  # type: ignore[arg-type]


def test_a_truck_in_a_bid_on_an_open_cfp_is_promised(tmp_path: Path) -> None:
    carrier = _carrier(tmp_path)
    carrier.state.put_fact("cfp", 7, {"status": "open"})
    carrier.state.save_bid(7, 50, 1, "0x" + "00" * 32, {"vehicle": "van-1"})
    assert carrier._promised_vehicles(exclude_cfp=8) == {"van-1"}
    # re-planning the same CFP (a restart) does not count its own bid against itself
    assert carrier._promised_vehicles(exclude_cfp=7) == set()


def test_a_truck_is_free_again_once_its_cfp_is_decided_for_someone_else_or_expired(tmp_path: Path) -> None:
    carrier = _carrier(tmp_path)
    for cfp, status in ((7, "awarded"), (9, "expired"), (11, "cancelled")):
        carrier.state.put_fact("cfp", cfp, {"status": status})
        carrier.state.save_bid(cfp, 50, 1, "0x" + "00" * 32, {"vehicle": f"van-{cfp}"})
    assert carrier._promised_vehicles(exclude_cfp=0) == set()


def test_a_truck_with_an_unfinished_job_is_promised_until_the_job_ends(tmp_path: Path) -> None:
    carrier = _carrier(tmp_path)
    carrier.state.put_fact("job", 3, {"vehicle": "van-1", "status": "awarded"})
    carrier.state.put_fact("job", 4, {"vehicle": "van-2", "status": "carrying"})
    carrier.state.put_fact("job", 5, {"vehicle": "van-3", "status": "delivered"})
    carrier.state.put_fact("job", 6, {"vehicle": "van-4", "status": "no_show"})
    assert carrier._promised_vehicles(exclude_cfp=0) == {"van-1", "van-2"}
    carrier.state.update_fact("job", 3, status="paid")
    assert carrier._promised_vehicles(exclude_cfp=0) == {"van-2"}
