"""What a rejected award does, on a real chain: the buyer asks about the next-best bid of the same call; when
every bid is rejected it withdraws the call at once and tenders afresh (interfaces/agents/README.md)."""

from __future__ import annotations

from typing import Any

from offchain.agents.approvals import sign_decision
from offchain.devkeys import dev_account
from tests.offchain.agents import configs as c
from tests.offchain.agents.fake_approvals import FakeApprovalsApi
from tests.offchain.agents.harness import UNIT, World

APPROVER = dev_account(9, 31337)
LIMITS = {"approvers": [APPROVER.address], "award_value_limit": 1_000 * UNIT}


def _decide(api: FakeApprovalsApi, approval_id: str, decision: str) -> None:
    api.decide(sign_decision(approval_id, decision, bytes(APPROVER.key), APPROVER.address, "", 1))  # type: ignore[arg-type]


def _waiting(api: FakeApprovalsApi) -> list[tuple[str, dict[str, Any]]]:
    return [(i, r) for i, r in api.requests.items() if i not in api.decisions]


def test_a_rejected_award_goes_to_the_next_best_bid(world: World) -> None:
    api = FakeApprovalsApi()
    world.approvals_api = api
    world.add(c.wholesaler(approvals=LIMITS), 1)
    world.add(c.supplier("supplier-ely", "supplier_ely", cost=40 * UNIT), 2)
    world.add(c.supplier("supplier-newmarket", "supplier_newmarket", cost=43 * UNIT), 3)
    world.run_until(lambda: bool(api.requests), seconds=60)
    (first_id, first), = api.requests.items()
    assert first["recommendation"]["award_to"] == world.account(2).address  # the cheaper one ranks first

    _decide(api, first_id, "reject")
    world.run_until(lambda: bool(_waiting(api)), seconds=60)
    (second_id, second), = _waiting(api)
    assert second["recommendation"]["award_to"] == world.account(3).address
    assert second["subject"].rsplit(":", 1)[0] == first["subject"].rsplit(":", 1)[0]  # the same call

    _decide(api, second_id, "approve")
    wholesaler = world.agents["wholesaler"].ctx.state
    world.run_until(lambda: any(i["status"] == "awarded" for i in wholesaler.facts("intent").values()), seconds=60)
    (order,) = wholesaler.facts("order").values()
    assert order["seller"] == world.account(3).address


def test_a_call_whose_every_bid_is_rejected_is_withdrawn_and_tendered_again(world: World) -> None:
    api = FakeApprovalsApi()
    world.approvals_api = api
    world.add(c.wholesaler(approvals=LIMITS), 1)
    world.add(c.supplier("supplier-ely", "supplier_ely", cost=40 * UNIT), 2)
    world.run_until(lambda: bool(api.requests), seconds=60)
    (first_id, first), = api.requests.items()
    _decide(api, first_id, "reject")

    wholesaler = world.agents["wholesaler"].ctx.state
    world.run_until(lambda: len(wholesaler.facts("intent")) == 2, seconds=60)
    first_intent, second_intent = (wholesaler.fact("intent", n) for n in (1, 2))
    assert first_intent is not None and second_intent is not None
    assert first_intent["status"] == "failed" and first_intent["error"] == "every revealed bid was rejected"
    cfp = wholesaler.fact("cfp", first_intent["cfp"]) or {}
    assert cfp["status"] == "cancelled"  # withdrawn on-chain before its award deadline, not left to expire
    said = [m["content"]["summary"] for m in wholesaler.all_messages() if m["performative"] == "inform"]
    assert any(f"withdraws CFP {first_intent['cfp']}" in s for s in said)

    world.run_until(lambda: len(api.requests) == 2, seconds=60)  # the fresh call asks the person again
    (_, again), = _waiting(api)
    assert again["subject"] != first["subject"]
