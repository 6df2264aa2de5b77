"""Fixtures for VerdictHub unit tests: a 3-of-5 oracle set of eth-account keys, a real CustodyTwin (for HOLD),
mock Escrow and Procurement hooks, and helpers that sign verdicts through oracles/verdicts.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from brownie import CustodyTwin, MockEscrowHooks, MockProcurementHooks, VerdictHub, chain, web3
from eth_account import Account
from eth_keys import KeyAPI

from oracles import verdicts
from oracles.verdicts import Action, Kind, Verdict
from scripts.deploy import create_address

PENALTY_PER_SEVERITY = 1_000
EVIDENCE = "0x" + "ab" * 32
PRODUCT = web3.to_hex(web3.keccak(text="GTIN 04012345000016"))


def oracle_key(index: int) -> str:
    """Deterministic test keys, so failures are reproducible."""
    return web3.to_hex(web3.keccak(text=f"asc test oracle {index}"))


ORACLES = [Account.from_key(oracle_key(i)) for i in range(6)]  # 0..4 members, 5 an outsider


def recovered(digest: bytes, signature: bytes) -> str:
    """The address ecrecover yields for a compact signature read the way the hub reads it."""
    r = int.from_bytes(signature[:32], "big")
    vs = int.from_bytes(signature[32:], "big")
    s, v = vs & ((1 << 255) - 1), vs >> 255
    public_key = KeyAPI.Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(digest)
    return public_key.to_checksum_address()


@pytest.fixture(scope="module")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="module")
def submitter(accounts):
    return accounts[1]


@pytest.fixture(scope="module")
def stranger(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def escrow(admin):
    return MockEscrowHooks.deploy(PENALTY_PER_SEVERITY, {"from": admin})


@pytest.fixture(scope="module")
def procurement(admin):
    return MockProcurementHooks.deploy({"from": admin})


@pytest.fixture(scope="module")
def custody_and_hub(admin, escrow, procurement, accounts):
    """CustodyTwin (minter: admin) and the hub it names as HOLD_KEEPER, deployed back to back."""
    planned_hub = create_address(admin.address, admin.nonce + 1)
    twin = CustodyTwin.deploy(admin, escrow, admin, planned_hub, {"from": admin})
    deployed = VerdictHub.deploy(admin, escrow, twin, procurement, {"from": admin})
    assert deployed.address == planned_hub
    twin.mintTwin(1, accounts[2], accounts[4], 100, PRODUCT, {"from": admin})
    deployed.setOracleSet([o.address for o in ORACLES[:5]], 3, {"from": admin})
    return twin, deployed


@pytest.fixture(scope="module")
def custody(custody_and_hub):
    return custody_and_hub[0]


@pytest.fixture(scope="module")
def hub(custody_and_hub):
    return custody_and_hub[1]


@pytest.fixture(scope="module")
def make() -> Callable[..., Verdict]:
    """A valid 3-of-5 PENALTY verdict for order 1 / twin 1 in epoch 1, with `fields` overridden."""

    def _make(**fields) -> Verdict:
        now = chain.time()
        values = {
            "order_id": 1,
            "twin_id": 1,
            "kind": Kind.TEMPERATURE,
            "severity": 2,
            "action": Action.PENALTY,
            "window_start": now - 3_600,
            "window_end": now - 600,
            "evidence_hash": EVIDENCE,
            "epoch": 1,
        }
        values.update(fields)
        return verdicts.make_verdict(**values)

    return _make


@pytest.fixture(scope="module")
def sign(hub) -> Callable[..., bytes]:
    """Packed compact signatures of `signers` (default: oracles 0, 1, 2) over `verdict` for this hub."""

    def _sign(verdict: Verdict, signers=None, chain_id=None, hub_address=None) -> bytes:
        chosen = ORACLES[:3] if signers is None else signers
        return verdicts.pack_signatures(
            [
                verdicts.sign_verdict(verdict, oracle.key, chain_id or chain.id, hub_address or hub.address)
                for oracle in chosen
            ]
        )

    return _sign


@pytest.fixture(scope="module")
def submit(hub, submitter, sign) -> Callable[..., object]:
    """Signs `verdict` (unless `signatures` is given) and submits it; returns the transaction."""

    def _submit(verdict: Verdict, signatures: bytes | None = None, sender=None, **sign_options):
        packed = sign(verdict, **sign_options) if signatures is None else signatures
        return hub.submitVerdict(verdict.as_tuple(), packed, {"from": sender or submitter})

    return _submit


@pytest.fixture(scope="module")
def verdict_id(hub) -> Callable[[Verdict], bytes]:
    def _verdict_id(verdict: Verdict) -> bytes:
        return verdicts.verdict_id(verdict, chain.id, hub.address)

    return _verdict_id
