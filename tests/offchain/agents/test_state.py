"""Local state: inventory movements apply once, stock never goes negative, bid secrets are never replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from offchain.agents.state import AgentState, InsufficientStockError


@pytest.fixture
def state(tmp_path: Path) -> AgentState:
    return AgentState(f"sqlite:///{tmp_path / 's.sqlite'}")


def test_a_movement_applies_once(state: AgentState) -> None:
    assert state.move("received:1", "beef", 100, "received")
    assert not state.move("received:1", "beef", 100, "received")
    assert state.stock("beef").on_hand == 100


def test_a_dispatch_releases_its_reservation(state: AgentState) -> None:
    state.move("initial", "beef", 100, "initial")
    state.move("reserve:1", "beef", 0, "reserve", reserve=30)
    assert state.available("beef") == 70
    state.move("dispatch:1", "beef", -30, "dispatched", reserve=-30)
    assert (state.stock("beef").on_hand, state.stock("beef").reserved) == (70, 0)


def test_stock_never_goes_negative(state: AgentState) -> None:
    with pytest.raises(InsufficientStockError, match="cannot apply"):
        state.move("dispatch:1", "beef", -1, "dispatched")
    assert state.movements() == []


def test_the_first_bid_secret_is_kept(state: AgentState) -> None:
    state.save_bid(7, 100, 200, "0x" + "11" * 32, {})
    kept = state.save_bid(7, 999, 999, "0x" + "22" * 32, {})
    assert (kept.unit_price, kept.salt) == (100, "0x" + "11" * 32)


def test_facts_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    first = AgentState(url)
    first.put_fact("order", 3, {"status": "active"})
    first.update_fact("order", 3, picked_up=True)
    first.close()
    assert AgentState(url).fact("order", 3) == {"status": "active", "picked_up": True}
