"""Scanners of one process sharing a `SharedReader`: one read of the chain per round, each scanner still handles
every log once, a reorg is still detected, and a failed read is not remembered."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

from offchain.agents.chain import Chain, ChainEvent, to_bytes32
from offchain.agents.scanner import EventScanner, NodeReader, ScanError, SharedReader
from offchain.agents.state import AgentState
from offchain.devkeys import dev_account
from tests.offchain.agents.conftest import Node


@pytest.fixture
def chain(chain_node: Node) -> Chain:
    return Chain(Web3(Web3.HTTPProvider(chain_node.url)), chain_node.manifest)


def _register(chain: Chain, index: int) -> None:
    account = dev_account(index, chain.chain_id)
    call = chain.registry.functions.register(16, (to_bytes32("beef"), to_bytes32("place"), 1, f"test-{index}"))
    tx = call.build_transaction({"from": account.address, "nonce": chain.w3.eth.get_transaction_count(account.address)})
    chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction))


def _registered(seen: list[ChainEvent]) -> list[str]:
    return [e.args["account"] for e in seen if e.name == "ParticipantRegistered"]


class Pair:
    """Two scanners (two agents' states) on one shared reader."""

    def __init__(self, chain: Chain, tmp_path: Path) -> None:
        self.reader = SharedReader(chain)
        self.seen: tuple[list[ChainEvent], list[ChainEvent]] = ([], [])
        self.scanners = [
            EventScanner(chain, AgentState(f"sqlite:///{tmp_path / f'agent-{i}.sqlite'}"), self.seen[i].append,
                         confirmations=0, reader=self.reader)
            for i in range(2)
        ]

    def round(self) -> list[int]:
        self.reader.next_round()
        return [scanner.poll() for scanner in self.scanners]


@pytest.fixture
def pair(chain: Chain, tmp_path: Path) -> Pair:
    shared = Pair(chain, tmp_path)
    shared.round()  # the deployment's own events
    return shared


def test_every_scanner_handles_a_new_log_once(chain: Chain, pair: Pair) -> None:
    _register(chain, 5)
    assert pair.round() == [1, 1]
    assert pair.round() == [0, 0]
    assert _registered(pair.seen[0]) == _registered(pair.seen[1]) == [dev_account(5, 31337).address]


def test_the_second_scanner_of_a_round_is_answered_from_memory(chain: Chain, pair: Pair) -> None:
    _register(chain, 5)
    pair.reader.next_round()
    pair.scanners[0].poll()
    reads, remembered = pair.reader.node_reads, pair.reader.answered_from_memory
    pair.scanners[1].poll()
    assert pair.reader.node_reads == reads
    assert pair.reader.answered_from_memory > remembered


def test_a_round_is_a_snapshot_until_the_next_round(chain: Chain, pair: Pair) -> None:
    pair.reader.next_round()
    assert pair.scanners[0].poll() == 0
    _register(chain, 5)  # mined after the round's head was read
    assert pair.scanners[1].poll() == 0
    assert pair.round() == [1, 1]


def test_the_shared_events_are_those_the_node_gives(chain: Chain, pair: Pair) -> None:
    _register(chain, 5)
    head = chain.w3.eth.block_number
    pair.reader.next_round()
    assert pair.reader.events(chain.first_block, head) == NodeReader(chain).events(chain.first_block, head)


def test_a_reorg_is_detected_by_every_scanner(chain: Chain, pair: Pair, chain_node: Node) -> None:
    fork_point = chain_node.rpc("evm_snapshot")
    _register(chain, 5)
    assert pair.round() == [1, 1]
    chain_node.rpc("evm_revert", fork_point)
    _register(chain, 6)  # same height, another block
    assert pair.round() == [1, 1]
    assert [s.reorgs_detected for s in pair.scanners] == [1, 1]
    assert _registered(pair.seen[1]) == [dev_account(5, 31337).address, dev_account(6, 31337).address]


def test_a_failed_read_is_not_remembered(chain: Chain, pair: Pair) -> None:
    _register(chain, 5)
    live = chain.w3.provider
    pair.reader.next_round()
    chain.w3.provider = Web3.HTTPProvider("http://127.0.0.1:9", request_kwargs={"timeout": 2})
    try:
        with pytest.raises(ScanError):
            pair.scanners[0].poll()
    finally:
        chain.w3.provider = live
    assert [scanner.poll() for scanner in pair.scanners] == [1, 1]  # same round: the node is asked again
