from __future__ import annotations

import pytest
from web3 import Web3

from offchain.audit.events import AuditRpcError, RpcClient


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
