"""VerdictHub.submitVerdict: signatures made in Python (oracles/verdicts.py) verified on-chain; actions."""

from __future__ import annotations

import brownie
import pytest
from brownie import VerdictHub, chain
from brownie.exceptions import VirtualMachineError

from oracles import verdicts
from oracles.verdicts import Action, Kind
from tests.contracts.errors import reverts

from .conftest import EVIDENCE, ORACLES, PENALTY_PER_SEVERITY


def hexed(digest: bytes) -> str:
    return "0x" + digest.hex()


def test_submitVerdict_accepts_three_of_five_and_emits_every_field(hub, make, submit, verdict_id):
    verdict = make(severity=3)

    tx = submit(verdict)

    assert dict(tx.events["VerdictAccepted"]) == {
        "verdictId": hexed(verdict_id(verdict)),
        "orderId": 1,
        "twinId": 1,
        "kind": Kind.TEMPERATURE,
        "severity": 3,
        "action": Action.PENALTY,
        "windowStart": verdict.window_start,
        "windowEnd": verdict.window_end,
        "evidenceHash": EVIDENCE,
        "epoch": 1,
        "signersBitmap": 0b00111,
        "penalty": 3 * PENALTY_PER_SEVERITY,
    }


def test_submitVerdict_charges_penalty_in_escrow(hub, escrow, make, submit, verdict_id):
    verdict = make(severity=2)

    tx = submit(verdict)

    assert dict(tx.events["PenaltyApplied"]) == {
        "orderId": 1,
        "verdictId": hexed(verdict_id(verdict)),
        "severity": 2,
        "penalty": 2 * PENALTY_PER_SEVERITY,
    }


def test_submitVerdict_returns_and_records_python_verdict_id(hub, make, submit, verdict_id):
    verdict = make()

    tx = submit(verdict)

    assert tx.return_value == hexed(verdict_id(verdict))
    assert hub.verdictOfWindow(1, Kind.TEMPERATURE, verdict.window_start) == hexed(verdict_id(verdict))


def test_hashVerdict_matches_python_digest(hub, make, verdict_id):
    verdict = make(order_id=2**200, twin_id=7, kind=Kind.DELAY, severity=255, epoch=1)
    assert hub.hashVerdict(verdict.as_tuple()) == hexed(verdict_id(verdict))


def test_submitVerdict_accepts_signatures_in_any_order(hub, make, submit):
    tx = submit(make(), signers=[ORACLES[4], ORACLES[0], ORACLES[2]])
    assert tx.events["VerdictAccepted"]["signersBitmap"] == 0b10101


def test_submitVerdict_open_to_any_sender(hub, make, submit, stranger):
    tx = submit(make(), sender=stranger)
    assert "VerdictAccepted" in tx.events


def test_submitVerdict_hold_puts_twin_on_hold_and_charges_penalty(hub, custody, make, submit, verdict_id):
    verdict = make(action=Action.HOLD, severity=1)

    tx = submit(verdict)

    assert custody.twin(1)[6] is True  # held
    assert dict(tx.events["HoldSet"]) == {
        "twinId": 1,
        "held": True,
        "verdictId": hexed(verdict_id(verdict)),
        "by": hub,
        "timestamp": chain[tx.block_number].timestamp,
    }
    assert tx.events["VerdictAccepted"]["penalty"] == PENALTY_PER_SEVERITY


def test_submitVerdict_hold_without_severity_charges_nothing(hub, custody, make, submit):
    tx = submit(make(action=Action.HOLD, severity=0))

    assert custody.twin(1)[6] is True
    assert "PenaltyApplied" not in tx.events
    assert tx.events["VerdictAccepted"]["penalty"] == 0


def test_submitVerdict_reroute_opens_cfp(hub, procurement, make, submit, verdict_id):
    verdict = make(action=Action.REROUTE, kind=Kind.ROUTE_DEVIATION, severity=0)

    tx = submit(verdict)

    assert dict(tx.events["RerouteOpened"]) == {
        "orderId": 1,
        "verdictId": hexed(verdict_id(verdict)),
        "cfpId": 1001,
        "caller": hub,
    }
    assert dict(tx.events["VerdictRerouted"]) == {
        "verdictId": hexed(verdict_id(verdict)),
        "orderId": 1,
        "cfpId": 1001,
    }
    assert "PenaltyApplied" not in tx.events


def test_submitVerdict_reroute_with_severity_charges_penalty(hub, make, submit):
    tx = submit(make(action=Action.REROUTE, severity=2))

    assert tx.events["PenaltyApplied"]["penalty"] == 2 * PENALTY_PER_SEVERITY
    assert "VerdictRerouted" in tx.events


def test_submitVerdict_other_kind_or_window_of_same_order_is_accepted(hub, make, submit):
    first = make()
    submit(first)

    submit(make(kind=Kind.HUMIDITY, window_start=first.window_start))
    submit(make(window_start=first.window_start + 1))

    assert hub.verdictOfWindow(1, Kind.HUMIDITY, first.window_start) != "0x" + "00" * 32


def test_submitVerdict_reverts_on_replay(hub, make, submit, verdict_id):
    verdict = make()
    submit(verdict)

    with reverts(
        "VerdictHubWindowConsumed", 1, Kind.TEMPERATURE, verdict.window_start, hexed(verdict_id(verdict))
    ):
        submit(verdict)


def test_submitVerdict_reverts_for_resigned_variant_of_same_window(hub, make, submit, verdict_id):
    original = make(severity=1)
    submit(original)
    variant = make(severity=9, evidence_hash="0x" + "cd" * 32, window_end=original.window_end - 1)
    variant = variant.model_copy(update={"window_start": original.window_start})

    with reverts(
        "VerdictHubWindowConsumed", 1, Kind.TEMPERATURE, original.window_start, hexed(verdict_id(original))
    ):
        submit(variant)


def test_submitVerdict_reverts_for_duplicate_signer(hub, make, submit):
    with reverts("VerdictHubDuplicateSignature", ORACLES[0].address):
        submit(make(), signers=[ORACLES[0], ORACLES[1], ORACLES[0]])


def test_submitVerdict_reverts_for_non_member_signature(hub, make, submit):
    with reverts("VerdictHubUnknownSigner", ORACLES[5].address):
        submit(make(), signers=[ORACLES[0], ORACLES[5], ORACLES[1]])


def test_submitVerdict_reverts_for_signatures_over_another_verdict(hub, make, sign, submit, verdict_id):
    from .conftest import recovered

    signed = make(severity=1)
    forged = make(severity=9)
    signatures = sign(signed)

    expected = recovered(verdict_id(forged), signatures[:64])
    with reverts("VerdictHubUnknownSigner", expected):
        submit(forged, signatures=signatures)


def test_submitVerdict_reverts_for_random_signature_bytes(hub, make, submit):
    # r = 0x0102..20 is not the x coordinate of a curve point: ecrecover fails and ECDSA says so.
    junk = bytes(range(1, 65)) * 3
    with reverts("ECDSAInvalidSignature"):
        submit(make(), signatures=junk)


def test_submitVerdict_reverts_for_zero_signature(hub, make, submit):
    with reverts("ECDSAInvalidSignature"):
        submit(make(), signatures=bytes(64 * 3))


def test_submitVerdict_reverts_for_high_s_signature(hub, make, sign, submit):
    verdict = make()
    signatures = bytearray(sign(verdict))
    # s above n/2 but below 2^255 (so the v bit stays 0): the malleable half OpenZeppelin ECDSA refuses.
    high_s = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A1
    signatures[32:64] = high_s.to_bytes(32, "big")

    with reverts("ECDSAInvalidSignatureS", "0x" + high_s.to_bytes(32, "big").hex()):
        submit(verdict, signatures=bytes(signatures))


def test_submitVerdict_reverts_for_malleated_signature(hub, make, sign, submit, verdict_id):
    from .conftest import recovered

    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    verdict = make()
    signatures = bytearray(sign(verdict))
    vs = int.from_bytes(signatures[32:64], "big")
    s, v_bit = vs & ((1 << 255) - 1), vs >> 255
    # The twin (r, n - s, flipped v) of a valid signature: it does not fit EIP-2098 (n - s >= 2^255), so
    # its best encoding reads back as another (s, v) and recovers some unrelated address.
    malleated = ((n - s) | ((1 - v_bit) << 255)) % 2**256
    signatures[32:64] = malleated.to_bytes(32, "big")

    expected = recovered(verdict_id(verdict), bytes(signatures[:64]))
    assert expected != ORACLES[0].address
    with reverts("VerdictHubUnknownSigner", expected):
        submit(verdict, signatures=bytes(signatures))


def test_submitVerdict_reverts_for_wrong_chain_id_in_domain(hub, make, submit, sign, verdict_id):
    from .conftest import recovered

    verdict = make()
    signatures = sign(verdict, chain_id=chain.id + 1)

    with reverts("VerdictHubUnknownSigner", recovered(verdict_id(verdict), signatures[:64])):
        submit(verdict, signatures=signatures)


def test_submitVerdict_reverts_for_wrong_verifying_contract(hub, escrow, make, submit, sign, verdict_id):
    from .conftest import recovered

    verdict = make()
    signatures = sign(verdict, hub_address=escrow.address)

    with reverts("VerdictHubUnknownSigner", recovered(verdict_id(verdict), signatures[:64])):
        submit(verdict, signatures=signatures)


def test_submitVerdict_reverts_for_too_few_signatures(hub, make, submit):
    with reverts("VerdictHubWrongSignaturesLength", 128, 192):
        submit(make(), signers=ORACLES[:2])


def test_submitVerdict_reverts_for_too_many_signatures(hub, make, submit):
    with reverts("VerdictHubWrongSignaturesLength", 256, 192):
        submit(make(), signers=ORACLES[:4])


def test_submitVerdict_reverts_for_ragged_signature_bytes(hub, make, sign, submit):
    verdict = make()
    with reverts("VerdictHubWrongSignaturesLength", 193, 192):
        submit(verdict, signatures=sign(verdict) + b"\x1b")


def test_submitVerdict_reverts_for_future_epoch(hub, make, submit):
    with reverts("VerdictHubWrongEpoch", 2, 1):
        submit(make(epoch=2))


def test_submitVerdict_reverts_for_invalid_kind(hub, make, submit):
    for kind in (0, 6):
        verdict = make().model_copy(update={"kind": kind})
        with reverts("VerdictHubInvalidKind", kind):
            submit(verdict, signatures=b"")


def test_submitVerdict_reverts_for_invalid_action(hub, make, submit):
    for action in (0, 4):
        verdict = make().model_copy(update={"action": action})
        with reverts("VerdictHubInvalidAction", action):
            submit(verdict, signatures=b"")


def test_submitVerdict_reverts_for_penalty_without_severity(hub, make, submit):
    verdict = make().model_copy(update={"severity": 0})
    with reverts("VerdictHubZeroSeverityPenalty"):
        submit(verdict, signatures=b"")


def test_submitVerdict_reverts_for_inverted_window(hub, make, submit):
    verdict = make().model_copy(update={"window_start": 20, "window_end": 10})
    with brownie.reverts(revert_pattern=r"VerdictHubInvalidWindow: 20, 10, \d+"):
        submit(verdict, signatures=b"")


def test_submitVerdict_reverts_for_window_ending_in_future(hub, make, submit):
    end = chain.time() + 3_600
    verdict = make(window_start=100, window_end=end)
    with brownie.reverts(revert_pattern=rf"VerdictHubInvalidWindow: 100, {end}, \d+"):
        submit(verdict)


def test_submitVerdict_reverts_when_escrow_rejects_and_keeps_window_open(hub, escrow, make, submit, admin):
    verdict = make()
    escrow.setFailing(True, {"from": admin})
    with reverts("MockEscrowHooksFailing"):
        submit(verdict)

    escrow.setFailing(False, {"from": admin})
    assert "VerdictAccepted" in submit(verdict).events


def test_submitVerdict_reverts_for_hold_of_unknown_twin(hub, make, submit):
    with reverts("CustodyTwinUnknown", 99):
        submit(make(action=Action.HOLD, twin_id=99))


def test_submitVerdict_reverts_for_adjacent_duplicate_signer(hub, make, submit):
    with reverts("VerdictHubDuplicateSignature", ORACLES[0].address):
        submit(make(), signers=[ORACLES[0], ORACLES[0], ORACLES[1]])


def test_submitVerdict_accepts_python_member_order(hub, make, submitter):
    verdict = make()
    by_signer = {
        oracle.address: verdicts.sign_verdict(verdict, oracle.key, chain.id, hub.address)
        for oracle in (ORACLES[3], ORACLES[1], ORACLES[4])
    }

    ordered = verdicts.in_member_order(by_signer, list(hub.signers()))
    tx = hub.submitVerdict(verdict.as_tuple(), verdicts.pack_signatures(ordered), {"from": submitter})

    assert tx.events["VerdictAccepted"]["signersBitmap"] == 0b11010


def test_submitVerdict_reverts_for_dirty_narrow_field(hub, make, sign, submitter):
    verdict = make()
    calldata = bytearray(bytes.fromhex(hub.submitVerdict.encode_input(verdict.as_tuple(), sign(verdict))[2:]))
    kind_word = 4 + 2 * 32
    calldata[kind_word + 30] = 0x01  # kind = 0x0101: the high byte is dirty

    # Refused like Solidity's ABI decoder would (no error data), not as an out-of-range kind.
    with pytest.raises(VirtualMachineError) as info:
        submitter.transfer(hub, 0, data="0x" + calldata.hex())
    assert info.value.revert_msg is None
    assert hub.verdictOfWindow(1, Kind.TEMPERATURE, verdict.window_start) == "0x" + "00" * 32


def test_verdictOfWindow_is_zero_for_unknown_window(hub):
    assert hub.verdictOfWindow(1, Kind.TEMPERATURE, 12345) == "0x" + "00" * 32


def test_submitVerdict_reverts_when_escrow_has_no_code(admin, custody, procurement, stranger, make, sign):
    # A call to an address without code "succeeds" with no reply: the hub must not read that as penalty 0.
    hub = VerdictHub.deploy(admin, stranger, custody, procurement, {"from": admin})
    hub.setOracleSet([o.address for o in ORACLES[:5]], 3, {"from": admin})
    verdict = make()

    with pytest.raises(VirtualMachineError) as info:
        hub.submitVerdict(verdict.as_tuple(), sign(verdict, hub_address=hub.address), {"from": admin})
    assert info.value.revert_msg is None
    assert hub.verdictOfWindow(1, Kind.TEMPERATURE, verdict.window_start) == "0x" + "00" * 32
