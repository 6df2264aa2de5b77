"""The people the orchestrator plays, against a real API server (tests/offchain/api launcher): they wait their
delay, decide through the agents' CLI, and the agent's own desk accepts the decision as a person's. Then the
approval expectations, read against chain facts."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account.signers.local import LocalAccount

from offchain.agents.approvals import ApprovalDesk, HttpApprovalsApi, sign_decision
from offchain.agents.state import AgentState
from offchain.devkeys import dev_account
from offchain.scenario.approvals import (
    AUTO_APPROVER,
    ApprovalBoard,
    ApprovalRecord,
    approval_outcomes,
    approvers_by_organisation,
    people,
    person_account,
)
from offchain.scenario.progress import Facts
from offchain.sim.story import ApprovalExpectation, ApprovalSpec, ApproverSpec, OrganisationSpec
from tests.offchain.api.conftest import RunningApi, start_api

CHAIN_ID = 31337
AGENT, OTHER_AGENT, ELY, NEWMARKET = (dev_account(i, CHAIN_ID) for i in (1, 2, 3, 4))
NAMES: dict[str, str] = {AGENT.address: "wholesaler-cambridge", OTHER_AGENT.address: "retailer-mill-road",
         ELY.address: "supplier-ely", NEWMARKET.address: "supplier-newmarket"}
T0 = 1_781_520_000_000  # the requests' simulated time
OPS = ApproverSpec(name="ops-manager", approves=["wholesaler-cambridge"], after_s=120,
                   reject_awards_to=["supplier-newmarket"])
PERSON = person_account(0, CHAIN_ID)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[RunningApi]:
    running = start_api(f"sqlite:///{tmp_path / 'api.sqlite'}", tmp_path / "api")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def said() -> list[str]:
    return []


@pytest.fixture
def board(api: RunningApi, tmp_path: Path, said: list[str]) -> Iterator[ApprovalBoard]:
    b = ApprovalBoard(api.base_url, [OPS], CHAIN_ID, NAMES, tmp_path / "people", said.append)
    try:
        yield b
    finally:
        b.close()


def _desk(api: RunningApi, tmp_path: Path, agent: LocalAccount = AGENT) -> ApprovalDesk:
    state = AgentState(f"sqlite:///{tmp_path / (agent.address + '.sqlite')}")
    client = httpx.Client(base_url=api.base_url, timeout=10)
    return ApprovalDesk(state, agent.address, bytes(agent.key), [PERSON.address], HttpApprovalsApi(client))


def _ask(desk: ApprovalDesk, bidder: str, cfp: int = 3) -> str:
    subject = f"cfp:{CHAIN_ID}:{cfp}:{bidder}"
    desk.ask("award", subject, f"award CFP {cfp} to {bidder} for 4,600.00", {"award_to": bidder, "unit_price": 46},
             ["the cheapest bid"], value=4_600_000_000, severity=None, created_ms=T0)
    return subject


def _until_decided(board: ApprovalBoard, approval_id: str, now_ms: int, timeout_s: float = 60) -> ApprovalRecord:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        board.poll(now_ms)
        record = board.records[approval_id]
        if record.decision is not None:
            return record
        time.sleep(0.2)
    raise AssertionError(f"no decision on {approval_id} after {timeout_s} s: {board.records[approval_id]}")


def test_a_password_given_to_the_cli_does_not_stay_in_the_environment(
    api: RunningApi, board: ApprovalBoard, tmp_path: Path
) -> None:
    desk = _desk(api, tmp_path)
    subject = _ask(desk, ELY.address)
    board.poll(T0)
    _until_decided(board, desk.state.fact("approval", subject)["id"], T0 + 120_000)  # type: ignore[index]
    assert "ASC_AGENT_KEYSTORE_PASSWORD" not in os.environ


def test_a_request_waits_for_the_persons_delay(api: RunningApi, board: ApprovalBoard, tmp_path: Path) -> None:
    desk = _desk(api, tmp_path)
    approval_id = desk.ask("award", "cfp:31337:3:x", "award CFP 3", {"award_to": ELY.address}, ["cheapest"],
                           value=5, severity=None, created_ms=T0)
    board.poll(T0)
    board.poll(T0 + 119_000)
    assert board.records[approval_id].decision is None
    assert httpx.get(f"{api.base_url}/approvals/{approval_id}").json()["decision"] is None


def test_the_person_approves_through_the_cli_and_the_agent_accepts_it(
    api: RunningApi, board: ApprovalBoard, tmp_path: Path, said: list[str]
) -> None:
    desk = _desk(api, tmp_path)
    subject = _ask(desk, ELY.address)
    approval_id = desk.state.fact("approval", subject)["id"]  # type: ignore[index]
    board.poll(T0)
    record = _until_decided(board, approval_id, T0 + 120_000)
    assert (record.decision, record.decided_by, record.agent, record.award_to) == (
        "approve", "ops-manager", "wholesaler-cambridge", "supplier-ely"
    )
    decision = desk.decision(subject)  # the agent's own verification of the signature and the approver
    assert decision is not None and decision.approved and decision.approver == PERSON.address
    public = record.public()
    assert public["latency_sim_s"] == 120 and public["cfp"] == 3 and public["played_decision_ms"] == T0 + 120_000
    assert "seen_wall_s" not in public and public["latency_wall_s"] is not None
    assert any(line.startswith("approval asked by wholesaler-cambridge (award, 4,600.00 at stake)") for line in said)
    assert any(line.startswith("ops-manager approved: award CFP 3 to supplier-ely") for line in said)


def test_an_award_to_an_organisation_the_person_distrusts_is_rejected(
    api: RunningApi, board: ApprovalBoard, tmp_path: Path
) -> None:
    desk = _desk(api, tmp_path)
    subject = _ask(desk, NEWMARKET.address)
    approval_id = desk.state.fact("approval", subject)["id"]  # type: ignore[index]
    board.poll(T0)
    assert _until_decided(board, approval_id, T0 + 120_000).decision == "reject"
    decision = desk.decision(subject)
    assert decision is not None and not decision.approved


def test_requests_of_organisations_the_person_does_not_decide_for_are_left_alone(
    api: RunningApi, board: ApprovalBoard, tmp_path: Path
) -> None:
    desk = _desk(api, tmp_path, OTHER_AGENT)  # names the person as approver, but ops-manager approves for others
    approval_id = desk.ask("award", "cfp:31337:4:x", "award CFP 4", {"award_to": ELY.address}, ["cheapest"],
                           value=5, severity=None, created_ms=T0)
    board.poll(T0)
    board.poll(T0 + 3_600_000)
    assert board.records[approval_id].decision is None
    assert board.records[approval_id].agent == "retailer-mill-road"


def test_a_decision_taken_elsewhere_is_read_and_the_person_leaves_it(
    api: RunningApi, board: ApprovalBoard, tmp_path: Path, said: list[str]
) -> None:
    colleague = dev_account(60, CHAIN_ID)  # another approver of the agent, deciding on the dapp
    state = AgentState(f"sqlite:///{tmp_path / 'agent.sqlite'}")
    desk = ApprovalDesk(state, AGENT.address, bytes(AGENT.key), [PERSON.address, colleague.address],
                        HttpApprovalsApi(httpx.Client(base_url=api.base_url, timeout=10)))
    subject = _ask(desk, ELY.address)
    approval_id = state.fact("approval", subject)["id"]  # type: ignore[index]
    board.poll(T0)
    decision = sign_decision(approval_id, "reject", bytes(colleague.key), colleague.address, "no", T0)
    assert httpx.post(f"{api.base_url}/approvals/{approval_id}/decision", json=decision).status_code == 201
    record = _until_decided(board, approval_id, T0 + 60_000)  # before the person's 120 s
    assert (record.decision, record.decided_by, record.played_decision_ms) == ("reject", colleague.address[:10], None)
    board.poll(T0 + 600_000)
    assert not any(line.startswith("ops-manager could not decide") for line in said)  # it did not try


def test_the_persons_keystore_holds_their_own_key_encrypted(board: ApprovalBoard) -> None:
    (person,) = board.people
    text = person.keystore.read_text()
    assert person.account.address == PERSON.address
    assert PERSON.key.hex()[2:] not in text and (person.keystore.stat().st_mode & 0o077) == 0


# ------------------------------------------------------------------ who decides, what is expected


def _org(name: str, approvals: ApprovalSpec | None = None) -> OrganisationSpec:
    return OrganisationSpec(name=name, kind="wholesaler", place="wholesaler_cambridge", approvals=approvals)


def test_organisations_nobody_decides_for_get_the_auto_approver() -> None:
    orgs = [
        _org("wholesaler-cambridge", ApprovalSpec(award_limit=1)),
        _org("cam-logistics", ApprovalSpec(award_limit=1)),
    ]
    persons = people([OPS], orgs)
    assert [(p.name, p.approves, p.after_s) for p in persons] == [
        ("ops-manager", ["wholesaler-cambridge"], 120), (AUTO_APPROVER, ["cam-logistics"], 0)
    ]
    assert approvers_by_organisation(persons, CHAIN_ID) == {
        "wholesaler-cambridge": [person_account(0, CHAIN_ID).address],
        "cam-logistics": [person_account(1, CHAIN_ID).address],
    }


def test_organisations_without_auto_approve_get_nobody() -> None:
    orgs = [_org("cam-logistics", ApprovalSpec(award_limit=1, auto_approve=False))]
    assert people([], orgs) == []


def _record(decision: str, award_to: str, cfp: int = 3) -> ApprovalRecord:
    return ApprovalRecord(
        id="0x01", agent="wholesaler-cambridge", kind="award", subject=f"cfp:31337:{cfp}:0xB", summary="s",
        value=1, severity=None, award_to=award_to, approvers=["ops-manager"], requested_ms=T0, seen_ms=T0,
        seen_wall_s=0.0, decision=decision, decided_by="ops-manager", decided_seen_ms=T0 + 120_000,
    )


def _facts(winner: str | None) -> Facts:
    facts = Facts()
    facts.cfps[3] = {"winner": winner}
    return facts


def test_an_approved_award_holds_once_it_is_on_chain() -> None:
    want = [ApprovalExpectation(decision="approve", by="ops-manager")]
    records = [_record("approve", "supplier-ely")]
    assert not approval_outcomes(want, records, _facts(None))[0].held
    assert approval_outcomes(want, records, _facts("supplier-ely"))[0].held


def test_a_rejected_award_that_was_made_anyway_fails() -> None:
    want = [ApprovalExpectation(decision="reject")]
    records = [_record("reject", "supplier-ely")]
    assert approval_outcomes(want, records, _facts("supplier-newmarket"))[0].held
    outcome = approval_outcomes(want, records, _facts("supplier-ely"))[0]
    assert not outcome.held and "CFP #3 (supplier-ely, winner supplier-ely)" in outcome.detail


def test_too_few_decisions_fail() -> None:
    want = [ApprovalExpectation(decision="approve", min=2)]
    outcome = approval_outcomes(want, [_record("approve", "supplier-ely")], _facts("supplier-ely"))[0]
    assert not outcome.held and outcome.detail.startswith("1 award approve decision(s), 2 expected")


def test_decisions_by_someone_else_do_not_count() -> None:
    want = [ApprovalExpectation(decision="approve", by="cfo")]
    assert not approval_outcomes(want, [_record("approve", "supplier-ely")], _facts("supplier-ely"))[0].held
