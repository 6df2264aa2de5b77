"""Human in the loop: requests are signed and posted once; only a decision signed by a configured approver for
this very request counts; an award above the limit waits for it on a real chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from offchain.agents.approvals import ApprovalDesk, ApprovalError, sign_decision
from offchain.agents.signing import recover_signer
from offchain.agents.state import AgentState
from offchain.devkeys import dev_account
from tests.offchain.agents import configs as c
from tests.offchain.agents.fake_approvals import FakeApprovalsApi
from tests.offchain.agents.harness import UNIT, World

AGENT, APPROVER, STRANGER = (dev_account(i, 31337) for i in (1, 9, 8))


@pytest.fixture
def desk(tmp_path: Path) -> tuple[ApprovalDesk, FakeApprovalsApi]:
    api = FakeApprovalsApi()
    state = AgentState(f"sqlite:///{tmp_path / 'a.sqlite'}")
    return ApprovalDesk(state, AGENT.address, bytes(AGENT.key), [APPROVER.address], api), api


def _ask(desk: ApprovalDesk) -> str:
    return desk.ask("award", "cfp:31337:1", "award CFP 1", {"award_to": "0xB"}, ["cheapest"], value=5,
                    severity=None, created_ms=1)


def test_a_request_is_signed_by_the_agent_and_posted_once(desk: tuple[ApprovalDesk, FakeApprovalsApi]) -> None:
    approvals, api = desk
    first, second = _ask(approvals), _ask(approvals)
    assert first == second and list(api.requests) == [first]
    assert recover_signer(api.requests[first]) == AGENT.address


def test_no_decision_means_waiting(desk: tuple[ApprovalDesk, FakeApprovalsApi]) -> None:
    approvals, _ = desk
    _ask(approvals)
    assert approvals.decision("cfp:31337:1") is None


def test_an_approvers_decision_is_acted_on(desk: tuple[ApprovalDesk, FakeApprovalsApi]) -> None:
    approvals, api = desk
    approval_id = _ask(approvals)
    api.decide(sign_decision(approval_id, "approve", bytes(APPROVER.key), APPROVER.address, "ok", 2))
    decision = approvals.decision("cfp:31337:1")
    assert decision is not None and decision.approved and decision.approver == APPROVER.address


def test_a_rejection_is_acted_on(desk: tuple[ApprovalDesk, FakeApprovalsApi]) -> None:
    approvals, api = desk
    approval_id = _ask(approvals)
    api.decide(sign_decision(approval_id, "reject", bytes(APPROVER.key), APPROVER.address, "too dear", 2))
    decision = approvals.decision("cfp:31337:1")
    assert decision is not None and not decision.approved


def test_a_decision_by_someone_not_an_approver_is_ignored(desk: tuple[ApprovalDesk, FakeApprovalsApi]) -> None:
    approvals, api = desk
    approval_id = _ask(approvals)
    api.decide(sign_decision(approval_id, "approve", bytes(STRANGER.key), STRANGER.address, "", 2))
    assert approvals.decision("cfp:31337:1") is None


def test_a_decision_claiming_an_approver_it_is_not_signed_by_is_ignored(
    desk: tuple[ApprovalDesk, FakeApprovalsApi],
) -> None:
    approvals, api = desk
    approval_id = _ask(approvals)
    forged = sign_decision(approval_id, "approve", bytes(STRANGER.key), APPROVER.address, "", 2)
    api.decide(forged)
    assert approvals.decision("cfp:31337:1") is None


def test_a_decision_for_another_request_is_ignored(desk: tuple[ApprovalDesk, FakeApprovalsApi]) -> None:
    approvals, api = desk
    approval_id = _ask(approvals)
    other = sign_decision("0x" + "ab" * 32, "approve", bytes(APPROVER.key), APPROVER.address, "", 2)
    api.decisions[approval_id] = other
    assert approvals.decision("cfp:31337:1") is None


def test_a_garbled_signature_is_ignored(desk: tuple[ApprovalDesk, FakeApprovalsApi]) -> None:
    approvals, api = desk
    approval_id = _ask(approvals)
    decision = sign_decision(approval_id, "approve", bytes(APPROVER.key), APPROVER.address, "", 2)
    api.decide({**decision, "signature": "0x1234"})
    assert approvals.decision("cfp:31337:1") is None


def test_asking_without_an_api_is_an_error(tmp_path: Path) -> None:
    state = AgentState(f"sqlite:///{tmp_path / 'b.sqlite'}")
    desk = ApprovalDesk(state, AGENT.address, bytes(AGENT.key), [APPROVER.address], None)
    with pytest.raises(ApprovalError, match="needs the agents API"):
        _ask(desk)


def test_an_award_above_the_limit_waits_for_the_approver(world: World) -> None:
    api = FakeApprovalsApi()
    world.approvals_api = api
    limits = {"approvers": [APPROVER.address], "award_value_limit": 1_000 * UNIT}
    world.add(c.wholesaler(approvals=limits), 1)
    world.add(c.supplier("supplier-ely", "supplier_ely", cost=40 * UNIT), 2)
    world.add(c.logistics(), 4)
    world.add(c.carrier("carrier-b", ["truck-b1"]), 6)
    world.run_until(lambda: bool(api.requests), seconds=60)
    for _ in range(3):  # still within the award phase (600 s)
        world.step(60)
    wholesaler = world.agents["wholesaler"].ctx.state
    assert [i["status"] for i in wholesaler.facts("intent").values()] == ["open"]  # nothing awarded yet
    (approval_id, request), = api.requests.items()
    assert request["kind"] == "award" and request["value"] == 100 * 46 * UNIT
    assert request["recommendation"]["award_to"] == world.account(2).address and request["reasons"]

    api.decide(sign_decision(approval_id, "approve", bytes(APPROVER.key), APPROVER.address, "go", 1))
    world.run_until(lambda: wholesaler.stock(c.BEEF).on_hand == 120)


def test_a_reroute_after_a_severe_verdict_waits_for_the_approver(world: World) -> None:
    from tests.offchain.agents.harness import submit_verdict

    api = FakeApprovalsApi()
    world.approvals_api = api
    world.add(c.wholesaler(), 1)
    world.add(c.supplier("supplier-ely", "supplier_ely", cost=40 * UNIT), 2)
    world.add(c.logistics(approvals={"approvers": [APPROVER.address], "verdict_severity": 2}), 4)
    world.add(c.carrier("carrier-a", ["truck-a1"]), 5)
    world.add(c.carrier("carrier-b", ["truck-b1"]), 6)
    carrier_b = world.agents["carrier-b"].ctx.state
    world.run_until(lambda: any(j["status"] == "carrying" for j in carrier_b.facts("job").values()))
    job = next(iter(carrier_b.facts("job").values()))
    world.sim.fail_compressor("truck-b1")
    submit_verdict(world, int(job["order"]), int(job["twin"]), action=3, severity=2)
    world.run_until(lambda: bool(api.requests), seconds=60)
    (approval_id, request), = api.requests.items()
    assert request["kind"] == "verdict_action" and request["severity"] == 2
    assert request["recommendation"]["award_to"] == world.account(5).address

    api.decide(sign_decision(approval_id, "approve", bytes(APPROVER.key), APPROVER.address, "reroute", 1))
    wholesaler = world.agents["wholesaler"].ctx.state
    world.run_until(lambda: wholesaler.stock(c.BEEF).on_hand == 120, seconds=120)
    order = wholesaler.fact("order", job["order"]) or {}
    assert [leg["carrier"] for _, leg in sorted(order["legs"].items())][-1] == world.account(5).address
