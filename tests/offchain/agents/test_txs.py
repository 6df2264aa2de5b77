"""The transaction journal never sends two transactions for one key, whatever moment a crash hits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from web3 import Web3

from offchain.agents.chain import Chain
from offchain.agents.state import Action, AgentState
from offchain.agents.txs import TxJournal
from offchain.devkeys import dev_account
from tests.offchain.agents.conftest import Node


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs."""


@pytest.fixture
def parts(chain_node: Node, tmp_path: Path) -> tuple[Web3, Chain, AgentState, str]:
    w3 = Web3(Web3.HTTPProvider(chain_node.url))
    return w3, Chain(w3, chain_node.manifest), AgentState(f"sqlite:///{tmp_path / 'agent.sqlite'}"), str(tmp_path)


def _journal(w3: Web3, state: AgentState, hook: Callable[[str], None] | None = None, **kw: object) -> TxJournal:
    return TxJournal(w3, dev_account(8, 31337), state, broadcast_hook=hook, **kw)  # type: ignore[arg-type]


def _nonce(w3: Web3) -> int:
    return int(w3.eth.get_transaction_count(dev_account(8, 31337).address))


def _approve(chain: Chain, amount: int = 5):
    return chain.token.functions.approve(chain.escrow.address, amount)


def test_a_key_is_sent_once(parts: tuple[Web3, Chain, AgentState, str]) -> None:
    w3, chain, state, _ = parts
    journal, before = _journal(w3, state), _nonce(w3)
    journal.submit("k", _approve(chain))
    first = journal.wait("k")
    again = journal.submit("k", _approve(chain))
    assert first.ok and again.tx_hash == first.tx_hash and _nonce(w3) == before + 1


def test_crash_after_signing_before_broadcast_resends_the_same_bytes(
    parts: tuple[Web3, Chain, AgentState, str],
) -> None:
    w3, chain, state, _ = parts
    before = _nonce(w3)

    def die(_key: str) -> None:
        raise Crash

    with pytest.raises(Crash):
        _journal(w3, state, die).submit("k", _approve(chain))
    with state.session() as s:
        row = s.get(Action, "k")
        assert row is not None and row.status == "signed"
        stored_hash = row.tx_hash
    assert _nonce(w3) == before  # nothing reached the node
    restarted = _journal(w3, state)
    assert [o.key for o in restarted.advance_all()] == ["k"]
    outcome = restarted.wait("k")  # the node mines when it likes: wait for the receipt
    assert outcome.ok and outcome.tx_hash == stored_hash and _nonce(w3) == before + 1


def test_crash_after_broadcast_before_receipt_sends_nothing_new(parts: tuple[Web3, Chain, AgentState, str]) -> None:
    w3, chain, state, _ = parts
    before = _nonce(w3)
    sent: list[str] = []
    journal = _journal(w3, state, sent.append)
    journal._check_or_resend = lambda key, resend=True: (_ for _ in ()).throw(Crash())  # type: ignore[method-assign]
    with pytest.raises(Crash):
        journal.submit("k", _approve(chain))
    assert sent == ["k"]
    restarted = _journal(w3, state)
    restarted.submit("k", _approve(chain))
    assert restarted.wait("k").ok and _nonce(w3) == before + 1


def test_crash_before_signing_signs_once_after_restart(parts: tuple[Web3, Chain, AgentState, str]) -> None:
    w3, chain, state, _ = parts
    before = _nonce(w3)
    journal = _journal(w3, state)
    journal._sign_and_send = lambda key: (_ for _ in ()).throw(Crash())  # type: ignore[method-assign]
    with pytest.raises(Crash):
        journal.submit("k", _approve(chain))
    assert _journal(w3, state).outcome("k").status == "intended"  # type: ignore[union-attr]
    restarted = _journal(w3, state)
    assert [o.status for o in restarted.advance_all()] in (["signed"], ["mined"])
    assert restarted.wait("k").ok and _nonce(w3) == before + 1


def test_an_action_the_contract_refuses_is_rejected_without_a_transaction(
    parts: tuple[Web3, Chain, AgentState, str],
) -> None:
    w3, chain, state, _ = parts
    before = _nonce(w3)
    outcome = _journal(w3, state).submit("w", chain.escrow.functions.withdraw())
    assert outcome.status == "rejected" and outcome.tx_hash is None and _nonce(w3) == before
    assert "refused" in (outcome.error or "")


def test_an_unmined_transaction_is_replaced_with_the_same_nonce(
    chain_node: Node, parts: tuple[Web3, Chain, AgentState, str]
) -> None:
    w3, chain, state, _ = parts
    before = _nonce(w3)
    clock = [0.0]
    journal = _journal(w3, state, timeout_s=10, clock=lambda: clock[0])
    chain_node.rpc("evm_setAutomine", False)
    try:
        first = journal.submit("k", _approve(chain))
        clock[0] = 11.0
        replaced = journal.submit("k", _approve(chain))
        assert replaced.status == "signed" and replaced.tx_hash != first.tx_hash
        chain_node.rpc("evm_mine")
    finally:
        chain_node.rpc("evm_setAutomine", True)
    done = journal.wait("k")
    with state.session() as s:
        row = s.get(Action, "k")
        assert row is not None and len(json.loads(row.all_hashes)) == 2
    assert done.ok and done.tx_hash == replaced.tx_hash and _nonce(w3) == before + 1
