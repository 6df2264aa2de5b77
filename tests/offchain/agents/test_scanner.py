"""The event scanner: once per log, only confirmed logs, rescans after a reorg, survives the node going away."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from offchain.agents.chain import Chain, ChainEvent, to_bytes32
from offchain.agents.scanner import Backoff, EventScanner, ScanError
from offchain.agents.state import AgentState
from offchain.devkeys import dev_account
from tests.offchain.agents.conftest import Node


@pytest.fixture
def chain(chain_node: Node) -> Chain:
    return Chain(Web3(Web3.HTTPProvider(chain_node.url)), chain_node.manifest)


@pytest.fixture
def state(tmp_path: Path) -> AgentState:
    return AgentState(f"sqlite:///{tmp_path / 'scan.sqlite'}")


def _register(chain: Chain, index: int) -> None:
    account = dev_account(index, chain.chain_id)
    call = chain.registry.functions.register(16, (to_bytes32("beef"), to_bytes32("place"), 1, f"test-{index}"))
    tx = call.build_transaction({"from": account.address, "nonce": chain.w3.eth.get_transaction_count(account.address)})
    chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction))


def _scanner(chain: Chain, state: AgentState, seen: list[ChainEvent], **kw: Any) -> EventScanner:
    return EventScanner(chain, state, seen.append, **({"confirmations": 0} | kw))


def _accounts(seen: list[ChainEvent]) -> list[str]:
    return [e.args["account"] for e in seen if e.name == "ParticipantRegistered"]


def test_each_log_is_handled_once(chain: Chain, state: AgentState) -> None:
    seen: list[ChainEvent] = []
    scanner = _scanner(chain, state, seen)
    scanner.poll()
    _register(chain, 5)
    assert scanner.poll() == 1 and scanner.poll() == 0
    assert _accounts(seen) == [dev_account(5, 31337).address]


def test_a_log_seen_twice_is_handled_once(chain: Chain, state: AgentState) -> None:
    seen: list[ChainEvent] = []
    scanner = _scanner(chain, state, seen)
    _register(chain, 5)
    scanner.poll()
    state.save_cursor("suite", chain.first_block - 1, {}, keep=12)  # as if the cursor were lost: rescan it all
    assert scanner.poll() == 0 and len(_accounts(seen)) == 1


def test_a_log_waits_for_its_confirmations(chain: Chain, state: AgentState, chain_node: Node) -> None:
    seen: list[ChainEvent] = []
    scanner = _scanner(chain, state, seen, confirmations=2)
    chain_node.rpc("evm_mine")
    chain_node.rpc("evm_mine")
    scanner.poll()  # the deployment's own events
    _register(chain, 5)
    assert scanner.poll() == 0
    chain_node.rpc("evm_mine")
    chain_node.rpc("evm_mine")
    assert scanner.poll() == 1


def test_a_reorg_is_detected_and_the_new_branch_is_handled(chain: Chain, state: AgentState, chain_node: Node) -> None:
    seen: list[ChainEvent] = []
    scanner = _scanner(chain, state, seen)
    scanner.poll()
    fork_point = chain_node.rpc("evm_snapshot")
    _register(chain, 5)
    assert scanner.poll() == 1
    chain_node.rpc("evm_revert", fork_point)  # the block with account 5's registration is gone...
    _register(chain, 6)  # ...and another block of the same height replaces it
    assert scanner.poll() == 1
    assert scanner.reorgs_detected == 1
    assert _accounts(seen) == [dev_account(5, 31337).address, dev_account(6, 31337).address]


def test_a_handler_that_fails_sees_the_event_again(chain: Chain, state: AgentState) -> None:
    calls: list[str] = []
    armed = [False]

    def flaky(event: ChainEvent) -> None:
        if not armed[0]:
            return
        calls.append(event.name)
        if len(calls) == 1:
            raise RuntimeError("handler failed")

    scanner = EventScanner(chain, state, flaky, confirmations=0)
    scanner.poll()
    armed[0] = True
    _register(chain, 5)
    with pytest.raises(RuntimeError):
        scanner.poll()
    assert scanner.poll() == 1 and calls == ["ParticipantRegistered", "ParticipantRegistered"]


def test_the_node_going_away_raises_scan_error_and_loses_nothing(chain: Chain, state: AgentState) -> None:
    seen: list[ChainEvent] = []
    scanner = _scanner(chain, state, seen)
    scanner.poll()
    _register(chain, 5)
    live = chain.w3.provider
    chain.w3.provider = Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 2})
    try:
        cursor = scanner.last_block
        with pytest.raises(ScanError):
            scanner.poll()
        assert scanner.last_block == cursor
    finally:
        chain.w3.provider = live
    assert scanner.poll() == 1


def test_backoff_doubles_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(base_s=0.5, cap_s=3.0)
    assert [backoff.failed() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.succeeded()
    assert backoff.failed() == 0.5
