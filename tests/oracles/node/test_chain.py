"""The chain client: back-off through an RPC outage, start-up wiring checks, consumed-window detection."""

from __future__ import annotations

import logging
import subprocess
import threading

import pytest
from eth_account import Account

from oracles.node.chain import ChainClient, ChainError, NodeStoppingError, SubmitStatus
from oracles.verdicts import Action, Kind, make_verdict
from tests.oracles.node.conftest import ROOT, Chain, free_port, stop_process


def test_calls_wait_out_an_rpc_outage(chain: Chain, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    client = ChainClient(
        f"http://127.0.0.1:{port}",
        chain.manifest,
        Account.create(),
        threading.Event(),
        backoff_initial_s=0.1,
        backoff_max_s=0.4,
    )
    anvil: list[subprocess.Popen[bytes]] = []
    # The node comes up 1.5 s after the first call: the call must keep retrying, then succeed.
    timer = threading.Timer(
        1.5,
        lambda: anvil.append(
            subprocess.Popen(
                [str(ROOT / "node_modules" / ".bin" / "anvil"), "--port", str(port), "--silent"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        ),
    )
    timer.start()
    try:
        with caplog.at_level(logging.WARNING, logger="asc.oracle.chain"):
            assert client.call("eth_chainId", lambda: client.w3.eth.chain_id) == 31337
    finally:
        timer.join()
        for process in anvil:
            stop_process(process)
    retries = [r for r in caplog.records if "RPC unavailable during eth_chainId" in r.getMessage()]
    assert len(retries) >= 3


def test_shutdown_interrupts_the_back_off(chain: Chain) -> None:
    stop = threading.Event()
    client = ChainClient(
        f"http://127.0.0.1:{free_port()}",
        chain.manifest,
        Account.create(),
        stop,
        backoff_initial_s=0.1,
        backoff_max_s=0.2,
    )
    threading.Timer(0.5, stop.set).start()
    with pytest.raises(NodeStoppingError):
        client.oracle_set()


def test_wiring_check_refuses_a_chain_without_the_hub(chain: Chain) -> None:
    port = free_port()
    anvil = subprocess.Popen(
        [str(ROOT / "node_modules" / ".bin" / "anvil"), "--port", str(port), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = ChainClient(f"http://127.0.0.1:{port}", chain.manifest, Account.create(), threading.Event())
        with pytest.raises(ChainError, match="no VerdictHub code"):
            client.check_wiring()
    finally:
        stop_process(anvil)


def test_reads_the_oracle_set_and_terms(chain: Chain) -> None:
    order = chain.new_order()
    client = ChainClient(chain.rpc_url, chain.manifest, Account.create(), threading.Event())
    client.check_wiring()
    oracle_set = client.oracle_set()
    assert (oracle_set.threshold, len(oracle_set.signers)) == (2, 3)
    assert client.order_of_twin(order["twin_id"]) == order["order_id"]
    terms = client.sla_terms(order["order_id"])
    assert (terms.temp_min_centi_c, terms.temp_max_centi_c, terms.excursion_grace_s) == (0, 500, 900)


def test_window_end_in_the_chain_future_is_not_yet_due(chain: Chain) -> None:
    order = chain.new_order()
    client = ChainClient(chain.rpc_url, chain.manifest, Account.create(), threading.Event())
    far = 2**40
    verdict = make_verdict(
        order_id=order["order_id"],
        twin_id=order["twin_id"],
        kind=Kind.TEMPERATURE,
        severity=1,
        action=Action.PENALTY,
        window_start=far - 10,
        window_end=far,
        evidence_hash=b"\x01" * 32,
        epoch=client.oracle_set().epoch,
    )
    assert client.prepare_submission(verdict, b"\0" * 128).status is SubmitStatus.NOT_YET
