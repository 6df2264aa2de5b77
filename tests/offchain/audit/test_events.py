from __future__ import annotations

import pytest
from web3 import Web3

from offchain.audit.events import AuditRpcError, EventReader, RpcClient


def _flaky(failures: int) -> tuple[list[int], object]:
    calls: list[int] = []

    def request() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise OSError("connection reset")
        return "answer"

    return calls, request


def test_a_request_is_retried_until_it_answers() -> None:
    calls, request = _flaky(2)
    assert RpcClient(Web3(), retries=2, backoff_s=0).call("test", request) == "answer"  # type: ignore[arg-type]
    assert len(calls) == 3


def test_the_last_failure_is_reported_with_what_was_asked() -> None:
    calls, request = _flaky(5)
    with pytest.raises(AuditRpcError, match="eth_getLogs 1-2 failed after 2 attempts: connection reset"):
        RpcClient(Web3(), retries=1, backoff_s=0).call("eth_getLogs 1-2", request)  # type: ignore[arg-type]
    assert len(calls) == 2


class _CappedNode:
    """Answers eth_getLogs like a provider that refuses ranges wider than `cap` blocks (one log per block)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.asked: list[tuple[int, int]] = []
        self.eth = self

    def get_logs(self, params: dict[str, int]) -> list[int]:
        start, end = params["fromBlock"], params["toBlock"]
        self.asked.append((start, end))
        if end - start + 1 > self.cap:
            raise ValueError({"code": -32005, "message": "query returned more than 10000 results"})
        return list(range(start, end + 1))


def test_a_refused_range_is_asked_again_in_halves() -> None:
    node = _CappedNode(cap=3)
    reader = EventReader(RpcClient(node, retries=0, backoff_s=0), to_block=10)  # type: ignore[arg-type]
    assert reader._logs("0x" + "00" * 20, 0, 9) == list(range(10))
    assert node.asked == [(0, 9), (0, 4), (0, 2), (3, 4), (5, 9), (5, 7), (8, 9)]


def test_a_single_block_the_node_refuses_is_an_error() -> None:
    reader = EventReader(RpcClient(_CappedNode(cap=0), retries=0, backoff_s=0), to_block=5)  # type: ignore[arg-type]
    with pytest.raises(AuditRpcError, match=r"eth_getLogs .* 5-5 refused"):
        reader._logs("0x" + "00" * 20, 5, 5)


class _TopicNode:
    """Answers eth_getLogs with one log per block whose topic is not in the ABI, recording each query's topics."""

    def __init__(self) -> None:
        self.asked_topics: list[object] = []
        self.eth = self
        self.contract = Web3().eth.contract

    def get_logs(self, params: dict[str, object]) -> list[dict[str, object]]:
        self.asked_topics.append(params.get("topics"))
        start, end = int(params["fromBlock"]), int(params["toBlock"])  # type: ignore[call-overload]
        return [{"topics": [bytes([block]) * 32], "blockNumber": block} for block in range(start, end + 1)]


def test_every_chunk_is_asked_with_the_callers_topic_filter() -> None:
    # Regression: the loop once rebound `topics` to the last log's topics, narrowing every later chunk's query.
    node = _TopicNode()
    reader = EventReader(RpcClient(node, retries=0, backoff_s=0), to_block=5, chunk_blocks=2)  # type: ignore[arg-type]
    wanted = ["0x" + "ab" * 32]
    assert reader.fetch("Hub", "0x" + "11" * 20, [], 0, wanted) == []
    assert node.asked_topics == [wanted, wanted, wanted]
