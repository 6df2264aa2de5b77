"""The peer endpoint against a fixed oracle set (the chain reader is injected; the HTTP stack is real)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from offchain.devkeys import dev_oracle_accounts
from oracles.node.chain import OracleSet
from oracles.node.checkpoint import Checkpoint
from oracles.node.peers import PeerClient, create_peer_app
from oracles.node.wire import verdict_to_dict
from oracles.verdicts import Action, Kind, make_verdict, sign_verdict, verdict_id
from tests.oracles.node.conftest import free_port

CHAIN_ID, HUB = 31337, "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
KEYS = dev_oracle_accounts(4, CHAIN_ID)
SET = OracleSet(epoch=2, threshold=2, signers=tuple(k.address for k in KEYS[:3]))
VERDICT = make_verdict(
    order_id=3,
    twin_id=7,
    kind=Kind.TEMPERATURE,
    severity=2,
    action=Action.PENALTY,
    window_start=100,
    window_end=200,
    evidence_hash=b"\xab" * 32,
    epoch=2,
)


@pytest.fixture
def checkpoint(tmp_path: Path) -> Checkpoint:
    return Checkpoint(tmp_path / "c.sqlite3")


@pytest.fixture
def client(checkpoint: Checkpoint) -> TestClient:
    return TestClient(create_peer_app(checkpoint, lambda: SET, CHAIN_ID, HUB))


def _body(key_index: int, verdict=VERDICT) -> dict:
    signature = sign_verdict(verdict, KEYS[key_index].key, CHAIN_ID, HUB)
    return {"verdict": verdict_to_dict(verdict), "signature": "0x" + signature.hex()}


def test_member_signature_is_kept(client: TestClient, checkpoint: Checkpoint) -> None:
    response = client.post("/signatures", json=_body(1))
    assert response.status_code == 202
    vid = "0x" + verdict_id(VERDICT, CHAIN_ID, HUB).hex()
    assert response.json() == {"verdict_id": vid, "signer": KEYS[1].address, "new": True}
    assert list(checkpoint.signatures(vid)) == [KEYS[1].address]


def test_repeated_signature_is_not_new(client: TestClient) -> None:
    client.post("/signatures", json=_body(1))
    assert client.post("/signatures", json=_body(1)).json()["new"] is False


def test_outsider_signature_is_refused_and_not_kept(client: TestClient, checkpoint: Checkpoint) -> None:
    response = client.post("/signatures", json=_body(3))
    assert response.status_code == 403
    assert checkpoint.signatures("0x" + verdict_id(VERDICT, CHAIN_ID, HUB).hex()) == {}


def test_other_epoch_is_refused(client: TestClient) -> None:
    stale = make_verdict(**{**VERDICT.model_dump(), "epoch": 1})
    response = client.post("/signatures", json=_body(1, stale))
    assert response.status_code == 409


def test_signature_over_other_fields_recovers_to_a_stranger(client: TestClient) -> None:
    body = _body(1)
    body["verdict"]["severity"] = 5  # tampered after signing
    assert client.post("/signatures", json=body).status_code == 403


def test_malformed_verdict_is_refused(client: TestClient) -> None:
    body = _body(1)
    body["verdict"]["kind"] = 9
    assert client.post("/signatures", json=body).status_code == 422


def test_high_s_signature_is_refused(client: TestClient) -> None:
    body = _body(1)
    raw = bytes.fromhex(body["signature"][2:])
    high = (int.from_bytes(raw[32:], "big") | ((1 << 255) - 1)).to_bytes(32, "big")
    body["signature"] = "0x" + (raw[:32] + high).hex()
    assert client.post("/signatures", json=body).status_code == 422


def test_send_to_an_unreachable_peer_asks_for_a_retry() -> None:
    client = PeerClient([], timeout_s=1)
    try:
        signature = sign_verdict(VERDICT, KEYS[0].key, CHAIN_ID, HUB)
        assert client.send(f"http://127.0.0.1:{free_port()}", VERDICT, signature) is False
    finally:
        client.close()
