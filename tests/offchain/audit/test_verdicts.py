from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_account import Account

from offchain.audit.checks import verdicts
from offchain.audit.events import ChainEvent
from offchain.audit.findings import Status
from oracles.verdicts import Action, Kind, make_verdict, pack_signatures, sign_verdict, verdict_id
from tests.offchain.audit.factories import event, history

HUB = "0x" + "ab" * 20
CHAIN = 31337
ORACLES = [Account.from_key(bytes([i + 1]) * 32) for i in range(5)]
OUTSIDER = Account.from_key(b"\x77" * 32)


# Events take chain positions in creation order: create oracle sets before the verdicts they sign.
def _oracle_set(epoch: int = 1, members: list[Any] = ORACLES, threshold: int = 3) -> ChainEvent:
    return event(
        "VerdictHub", "OracleSetChanged", epoch=epoch, signers=[m.address for m in members], threshold=threshold
    )


def _verdict_and_call(
    signers: list[Any], epoch: int = 1, bitmap: int | None = None
) -> tuple[ChainEvent, dict[str, tuple[str, Mapping[str, Any]]]]:
    verdict = make_verdict(
        order_id=1,
        twin_id=1,
        kind=Kind.TEMPERATURE,
        severity=2,
        action=Action.PENALTY,
        window_start=10,
        window_end=20,
        evidence_hash=b"\x05" * 32,
        epoch=epoch,
    )
    signatures = pack_signatures([sign_verdict(verdict, s.key, CHAIN, HUB) for s in signers])
    if bitmap is None:
        bitmap = sum(1 << ORACLES.index(s) for s in signers if s in ORACLES)
    accepted = event(
        "VerdictHub",
        "VerdictAccepted",
        verdictId=verdict_id(verdict, CHAIN, HUB),
        orderId=1,
        twinId=1,
        kind=1,
        severity=2,
        action=1,
        windowStart=10,
        windowEnd=20,
        evidenceHash=b"\x05" * 32,
        epoch=epoch,
        signersBitmap=bitmap,
        penalty=0,
    )
    call = {"verdict": verdict.as_tuple(), "signatures": signatures}
    return accepted, {accepted.tx_hash: ("submitVerdict", call)}


def _check(*events: ChainEvent, calls: dict[str, tuple[str, Mapping[str, Any]]]) -> verdicts.CheckResult:
    return verdicts.check(history(*events), HUB, lambda tx: calls.get(tx))


def test_three_member_signatures_pass_and_are_named() -> None:
    office = _oracle_set()
    accepted, calls = _verdict_and_call(ORACLES[:3])
    result = _check(office, accepted, calls=calls)
    assert result.status is Status.PASS
    (ok,) = [f for f in result.findings if f.status is Status.PASS]
    assert ok.what.startswith("3-of-5 epoch 1") and ORACLES[0].address in ok.what


def test_a_signature_by_an_outsider_fails() -> None:
    office = _oracle_set()
    accepted, calls = _verdict_and_call([ORACLES[0], ORACLES[1], OUTSIDER], bitmap=0b111)
    failures = _check(office, accepted, calls=calls).failures
    assert any(OUTSIDER.address in f.what and "not a member of epoch 1" in f.what for f in failures)


def test_a_duplicate_signer_fails() -> None:
    office = _oracle_set()
    accepted, calls = _verdict_and_call([ORACLES[0], ORACLES[0], ORACLES[1]], bitmap=0b11)
    failures = _check(office, accepted, calls=calls).failures
    assert any("signed twice" in f.what for f in failures)


def test_a_bitmap_that_does_not_name_the_signers_fails() -> None:
    office = _oracle_set()
    accepted, calls = _verdict_and_call(ORACLES[:3], bitmap=0b11010)
    (failure,) = _check(office, accepted, calls=calls).failures
    assert "signers bitmap 0x1a" in failure.what


def test_a_verdict_of_a_retired_epoch_fails() -> None:
    first, rotated = _oracle_set(), _oracle_set(epoch=2)
    accepted, calls = _verdict_and_call(ORACLES[:3], epoch=1)
    (failure,) = _check(first, rotated, accepted, calls=calls).failures
    assert "epoch 1 accepted while epoch 2 was in office" in failure.what


def test_signatures_by_members_of_a_previous_set_fail() -> None:
    newcomers = [Account.from_key(bytes([0x40 + i]) * 32) for i in range(3)]
    first, second = _oracle_set(), _oracle_set(epoch=2, members=newcomers, threshold=3)
    accepted, calls = _verdict_and_call(ORACLES[:3], epoch=2, bitmap=0b111)
    failures = _check(first, second, accepted, calls=calls).failures
    assert [f.what for f in failures][:3] == [
        f"signature {i} is by {ORACLES[i].address}, not a member of epoch 2" for i in range(3)
    ]


def test_a_verdict_not_submitted_through_the_hub_cannot_be_verified() -> None:
    office = _oracle_set()
    accepted, _ = _verdict_and_call(ORACLES[:3])
    (failure,) = _check(office, accepted, calls={}).failures
    assert "not submitVerdict on the hub" in failure.what


def test_an_event_whose_id_is_not_the_digest_fails() -> None:
    office = _oracle_set()
    accepted, calls = _verdict_and_call(ORACLES[:3])
    forged = ChainEvent(
        **{
            **{
                k: getattr(accepted, k) for k in ("contract", "name", "block_number", "log_index", "tx_hash", "address")
            },
            "args": {**accepted.args, "severity": 9},
        }
    )
    (failure,) = _check(office, forged, calls=calls).failures
    assert "not the EIP-712 digest" in failure.what
