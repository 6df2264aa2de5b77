"""The Orders page against the session's real chain and API."""

from __future__ import annotations

from tests.frontend.apptest import open_page, unlock
from tests.frontend.conftest import PASSWORD


def _texts(at) -> str:
    return "\n".join(
        e.value for kind in ("success", "error", "info", "markdown", "subheader") for e in getattr(at, kind)
    )


def test_lists_every_call_for_proposals(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "orders")
    table = at.dataframe[0].value
    assert sorted(table["call"]) == [1, 2, 3, 4, 5, 6]
    assert not at.exception


def test_shows_sealed_commitments_before_any_reveal(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "orders")
    at.selectbox(key="call").set_value(world.summary["collecting_cfp"]).run()
    bids = at.dataframe[1].value
    assert len(bids) == 2
    assert not bids["revealed"].any()
    assert "collecting sealed bids" in _texts(at)


def test_award_needs_the_buyers_keystore(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "orders")
    at.selectbox(key="call").set_value(world.summary["awaiting_award_cfp"]).run()
    assert "Only the buyer" in _texts(at)


def test_a_wrong_password_is_a_sentence(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "orders")
    unlock(at, world.keystores["wholesaler"], "not the password")
    assert "The password does not unlock the keystore wholesaler.json." in [e.value for e in at.sidebar.error]
    assert not at.exception


def test_the_buyer_approves_then_awards_and_funds_the_escrow(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "orders")
    unlock(at, world.keystores["wholesaler"], PASSWORD)
    at.selectbox(key="call").set_value(world.summary["awaiting_award_cfp"]).run()
    assert "ready to award" in _texts(at)
    at.button(key="approve").click().run()
    assert any("Approving the escrow succeeded" in e.value and "gas" in e.value for e in at.success), _texts(at)
    at.button(key="award").click().run()
    awarded = [e.value for e in at.success if "Awarding call" in e.value]
    assert awarded and "succeeded" in awarded[0] and " gas" in awarded[0], _texts(at)
    at.run()
    table = at.dataframe[0].value
    assert table[table["call"] == world.summary["awaiting_award_cfp"]]["status"].item() == "awarded"


def test_a_refused_transaction_shows_the_contracts_reason(world, monkeypatch) -> None:
    """A delivery call for an order that does not exist: the revert is decoded into a sentence."""
    at = open_page(world, monkeypatch, "orders")
    unlock(at, world.keystores["supplier"], PASSWORD)
    at.selectbox(key="cfp_kind").set_value("delivery")
    at.number_input(key="cfp_parent").set_value(99)
    at.multiselect(key="cfp_roles").set_value(["carrier"])
    at.button(key="open_cfp_submit").click().run()
    errors = [e.value for e in at.error]
    assert errors == [
        "Opening the call for proposals failed: The Procurement contract refused: unknown order (orderId 99)."
    ], _texts(at)
