"""Agent chat, Settlement, Audit and Network pages against the session's real chain and API."""

from __future__ import annotations

import pytest

from offchain.api.client import ApiClient, ApiError
from tests.frontend.apptest import open_page, unlock
from tests.frontend.conftest import PASSWORD, PORTS


def _texts(at) -> list[str]:
    return [
        e.value for kind in ("success", "error", "info", "warning", "markdown", "caption") for e in getattr(at, kind)
    ]


def test_chat_shows_the_negotiation_in_order(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "chat")
    assert not at.exception
    messages = at.get("chat_message")
    assert len(messages) == len(world.messages)
    text = "\n".join(_texts(at))
    assert text.index("Wholesaler calls for 100 cases") < text.index("Awarded to supplier 2")
    assert "*propose*" in text and "supplier" in text  # names from the registry, the performative


def test_settlement_shows_the_penalty_with_its_verdict_and_evidence(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "settlement")
    assert not at.exception
    text = "\n".join(_texts(at))
    assert "300.00 claimed from carrier" in text and "temperature verdict, severity 2" in text
    assert world.summary["verdict_id"] in text
    assert any(b.label.startswith("Evidence bafkrei") for b in at.get("download_button"))


def test_withdraw_with_nothing_to_withdraw_is_a_sentence(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "settlement")
    unlock(at, world.keystores["supplier"], PASSWORD)
    at.button(key="withdraw").click().run()
    assert any(
        e.value == "Withdrawing your credit failed: Account 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC has nothing to "
        "withdraw from escrow."
        for e in at.error
    ), _texts(at)


def test_audit_of_the_delivered_shipment_passes(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "audit")
    at.selectbox(key="audit_order").set_value(world.summary["order_id"])
    at.button(key="verify").click().run()
    assert not at.exception
    assert at.success and at.success[0].value.startswith("PASS:"), _texts(at)
    assert len(at.expander) == 6


def test_audit_of_every_shipment_passes(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "audit")
    at.button(key="verify").click().run()
    assert at.success and at.success[0].value.startswith("PASS:") and "every order" in at.success[0].value, _texts(at)


def test_network_lists_every_registered_participant(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "network")
    table = at.dataframe[0].value
    assert len(table) == 6  # wholesaler, 3 suppliers, 2 carriers
    wholesaler = table[table["account"] == world.summary["wholesaler"]].iloc[0]
    assert wholesaler["roles"] == "wholesaler" and wholesaler["services"] == "ipfs://wholesaler"
    assert wholesaler["last agent message received (UTC)"]
    assert wholesaler["name"].startswith("wholesaler ")  # no agent name registered: roles and short address


def test_only_a_named_approver_may_decide(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "network")
    unlock(at, world.keystores["supplier"], PASSWORD)
    assert any(t.startswith("Only 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 may decide this") for t in _texts(at))


def test_the_approver_approves_and_the_api_holds_the_signed_decision(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "network")
    unlock(at, world.keystores["wholesaler"], PASSWORD)
    request = world.approvals[0]
    at.text_input(key=f"comment-{request}").set_value("agreed")
    at.button(key=f"approve-{request}").click().run()
    assert any(e.value.startswith("You approved cfp:31337:") for e in at.success), _texts(at)
    with ApiClient(world.api_url) as api:
        decided = api.get_approval(request)
    assert decided.status == "decided"
    assert decided.decision is not None
    assert (decided.decision.decision, decided.decision.approver, decided.decision.comment) == (
        "approve",
        world.summary["wholesaler"],
        "agreed",
    )


def test_a_missing_manifest_is_a_sentence_on_every_page(world, monkeypatch, tmp_path) -> None:
    missing = tmp_path / "none.json"
    at = open_page(world, monkeypatch, "shipments", ASC_DAPP_MANIFESTS=str(missing))
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"The deployment manifest cannot be used: no deployment manifest at {missing} (run `make deploy` or "
        "scripts/deploy.py)"
    ]


def test_an_unreachable_node_is_a_sentence(world, monkeypatch) -> None:
    from tests.chain_support import free_port

    url = f"http://127.0.0.1:{free_port(PORTS)}"
    at = open_page(world, monkeypatch, "settlement", ASC_DAPP_RPC_URL=url)
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("The chain's node does not answer")


def test_the_approver_rejects_and_a_second_decision_is_refused_in_a_sentence(world, monkeypatch) -> None:
    at = open_page(world, monkeypatch, "network")
    unlock(at, world.keystores["wholesaler"], PASSWORD)
    request = world.approvals[1]
    at.button(key=f"reject-{request}").click().run()
    assert any(e.value.startswith("You rejected cfp:31337:") for e in at.success), _texts(at)
    # the request left the pending list, so the page offers no second decision
    assert not [b for b in at.button if b.key == f"approve-{request}"]
    # a second decision through the same signing path is refused by the API: shown as a sentence
    from frontend.api import DappApi
    from frontend.errors import explain
    from frontend.wallet import unlock as unlock_keystore

    wallet = unlock_keystore(world.keystores["wholesaler"], PASSWORD)
    with pytest.raises(ApiError) as raised:
        DappApi(world.api_url).decide(request, "approve", wallet)
    assert raised.value.status == 409
    assert explain(raised.value).startswith("The ASC API refused the request (409): ")
