"""Transcript and approvals through the real API service (offchain/api, SQLite), and the approval CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from offchain.agents.approvals import ApprovalDesk, HttpApprovalsApi
from offchain.agents.signing import object_id
from offchain.agents.state import AgentState
from offchain.agents.transcript import ApiMessageSink, Performative, Transcript
from offchain.devkeys import dev_account
from tests.chain_support import ROOT
from tests.offchain.api.conftest import RunningApi, start_api

AGENT, APPROVER, STRANGER = (dev_account(i, 31337) for i in (1, 9, 8))
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    folder = tmp_path_factory.mktemp("agents-api")
    running = start_api(f"sqlite:///{folder / 'api.sqlite'}", folder)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def state(tmp_path: Path) -> AgentState:
    return AgentState(f"sqlite:///{tmp_path / 'agent.sqlite'}")


def _transcript(state: AgentState, url: str) -> Transcript:
    return Transcript(state, AGENT.address, bytes(AGENT.key), ApiMessageSink(httpx.Client(base_url=url, timeout=5)))


def test_messages_reach_the_api_with_the_ids_the_agent_computed(api: RunningApi, state: AgentState) -> None:
    transcript = _transcript(state, api.base_url)
    sent = transcript.say("cfp:31337:900", "broadcast", Performative.CFP, "we call for 100 cases", sent_ms=1,
                          tx_hash="0x" + "ab" * 32, quantity=100)
    assert transcript.flush() == 1
    items = httpx.get(f"{api.base_url}/messages", params={"conversation": "cfp:31337:900"}).json()["items"]
    assert [(m["id"], m["performative"], m["content"]["summary"]) for m in items] == [
        (object_id(sent), "cfp", "we call for 100 cases")
    ]


def test_a_message_posted_again_after_a_crash_is_stored_once(api: RunningApi, state: AgentState) -> None:
    transcript = _transcript(state, api.base_url)
    transcript.say("cfp:31337:901", "broadcast", Performative.INFORM, "once", sent_ms=2)
    transcript.flush()
    row = state.all_messages()[0]
    state.enqueue_message(row)  # as if the agent died before marking it posted
    assert transcript.flush() == 1
    items = httpx.get(f"{api.base_url}/messages", params={"conversation": "cfp:31337:901"}).json()["items"]
    assert len(items) == 1


def test_messages_wait_in_the_outbox_while_the_api_is_down(api: RunningApi, state: AgentState) -> None:
    down = _transcript(state, "http://127.0.0.1:9")
    down.say("cfp:31337:902", "broadcast", Performative.INFORM, "kept", sent_ms=3)
    assert down.flush() == 0 and len(state.pending_messages()) == 1
    assert _transcript(state, api.base_url).flush() == 1 and state.pending_messages() == []


def _keystore(tmp_path: Path, key: bytes) -> Path:
    path = tmp_path / "approver.json"
    path.write_text(json.dumps(Account.encrypt(key, PASSWORD)))
    return path


def _cli(api: RunningApi, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASC_AGENT_API_URL": api.base_url,
           "ASC_AGENT_KEYSTORE_PASSWORD": PASSWORD}
    return subprocess.run([sys.executable, "-m", "offchain.agents", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def _desk(state: AgentState, api: RunningApi) -> ApprovalDesk:
    client = httpx.Client(base_url=api.base_url, timeout=5)
    return ApprovalDesk(state, AGENT.address, bytes(AGENT.key), [APPROVER.address], HttpApprovalsApi(client))


def test_an_approver_decides_with_the_cli_and_the_agent_verifies_it(
    api: RunningApi, state: AgentState, tmp_path: Path
) -> None:
    desk = _desk(state, api)
    approval_id = desk.ask("award", "cfp:31337:903:0xB", "award CFP 903", {"award_to": "0xB"}, ["cheapest"],
                           value=10, severity=None, created_ms=4)
    listed = _cli(api, "pending", "--agent", AGENT.address)
    assert listed.returncode == 0 and approval_id in listed.stdout and "cheapest" in listed.stdout
    assert desk.decision("cfp:31337:903:0xB") is None
    done = _cli(api, "approve", approval_id, "--keystore", str(_keystore(tmp_path, bytes(APPROVER.key))))
    assert done.returncode == 0, done.stderr
    decision = desk.decision("cfp:31337:903:0xB")
    assert decision is not None and decision.approved and decision.approver == APPROVER.address


def test_the_cli_reports_a_decision_the_api_refuses(api: RunningApi, state: AgentState, tmp_path: Path) -> None:
    approval_id = _desk(state, api).ask("award", "cfp:31337:904:0xB", "award CFP 904", {}, ["x"], value=1,
                                        severity=None, created_ms=5)
    done = _cli(api, "approve", approval_id, "--keystore", str(_keystore(tmp_path, bytes(STRANGER.key))))
    assert done.returncode == 1 and "403" in done.stderr


def test_the_cli_refuses_a_wrong_keystore_password(api: RunningApi, tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text(json.dumps(Account.encrypt(bytes(APPROVER.key), "other password")))
    done = _cli(api, "approve", "0x" + "00" * 32, "--keystore", str(path))
    assert done.returncode == 2 and "cannot decrypt keystore" in done.stderr
