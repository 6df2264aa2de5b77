"""Verdict signatures, checked without trusting the hub.

The signatures are not in the event: they are in the `submitVerdict` call. For each VerdictAccepted the check
fetches the transaction, decodes the call with the hub's ABI, rebuilds the verdict from the EVENT fields,
recomputes its EIP-712 digest (oracles.verdicts) and compares it with the event's verdictId, then recovers
every signer and checks they are `threshold` distinct members of the oracle set in office when the verdict was
accepted (rebuilt from OracleSetChanged events), and that the event's signers bitmap names exactly them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from offchain.audit.events import ChainEvent
from offchain.audit.findings import CheckResult
from offchain.audit.history import History
from oracles.verdicts import COMPACT_SIGNATURE_LENGTH, VerdictError, make_verdict, recover_signer, verdict_id

# (function name, decoded arguments) of a transaction's input, or None when it is not a hub call.
CallDecoder = Callable[[str], tuple[str, Mapping[str, Any]] | None]


@dataclass(frozen=True)
class OracleSet:
    epoch: int
    signers: tuple[str, ...]
    threshold: int
    since: tuple[int, int]  # chain position of OracleSetChanged


def oracle_sets(history: History) -> list[OracleSet]:
    return [
        OracleSet(
            epoch=int(e.args["epoch"]),
            signers=tuple(to_checksum_address(s) for s in e.args["signers"]),
            threshold=int(e.args["threshold"]),
            since=e.position,
        )
        for e in history.oracle_sets
    ]


def in_office(sets: list[OracleSet], position: tuple[int, int]) -> OracleSet | None:
    """The oracle set of the last OracleSetChanged before `position`."""
    current = None
    for candidate in sets:
        if candidate.since < position:
            current = candidate
    return current


def _field(value: Any, name: str, index: int) -> Any:
    return value[name] if isinstance(value, Mapping) else value[index]


def check(history: History, hub_address: str, decode_call: CallDecoder) -> CheckResult:
    result = CheckResult("verdicts", "Verdict signatures (k distinct members of the epoch's oracle set)")
    sets = oracle_sets(history)
    for order in history.orders.values():
        for event in order.verdicts:
            if event.name == "VerdictAccepted":
                result.checked += 1
                _check_one(event, sets, history.chain_id, hub_address, decode_call, result)
    if result.checked == 0:
        result.note("no verdict accepted on chain", "VerdictHub")
    return result


def _check_one(
    event: ChainEvent,
    sets: list[OracleSet],
    chain_id: int,
    hub: str,
    decode_call: CallDecoder,
    result: CheckResult,
) -> None:
    a = event.args
    vid = "0x" + bytes(a["verdictId"]).hex()
    where = f"verdict {vid} of order {a['orderId']} ({event.where})"
    office = in_office(sets, event.position)
    if office is None:
        result.fail("verdict accepted before any oracle set existed", where)
        return
    if int(a["epoch"]) != office.epoch:
        result.fail(f"verdict of epoch {a['epoch']} accepted while epoch {office.epoch} was in office", where)
        return
    try:
        verdict = make_verdict(
            order_id=int(a["orderId"]),
            twin_id=int(a["twinId"]),
            kind=int(a["kind"]),
            severity=int(a["severity"]),
            action=int(a["action"]),
            window_start=int(a["windowStart"]),
            window_end=int(a["windowEnd"]),
            evidence_hash=bytes(a["evidenceHash"]),
            epoch=int(a["epoch"]),
        )
    except VerdictError as exc:
        result.fail(f"event fields are not a valid verdict: {exc}", where)
        return
    digest = verdict_id(verdict, chain_id, hub)
    if digest != bytes(a["verdictId"]):
        result.fail(f"verdictId is not the EIP-712 digest of the event's fields (expected 0x{digest.hex()})", where)
        return
    decoded = decode_call(event.tx_hash)
    if decoded is None or decoded[0] != "submitVerdict":
        called = "an unknown call" if decoded is None else decoded[0]
        result.fail(f"the transaction is {called}, not submitVerdict on the hub: signatures not verifiable", where)
        return
    call_verdict, signatures = decoded[1]["verdict"], bytes(decoded[1]["signatures"])
    if tuple(_field(call_verdict, n, i) for i, n in enumerate(_CALL_FIELDS)) != verdict.as_tuple():
        result.fail("the submitted verdict differs from the accepted event", where)
        return
    if len(signatures) != COMPACT_SIGNATURE_LENGTH * office.threshold:
        result.fail(f"{len(signatures)} signature bytes; epoch {office.epoch} needs {office.threshold} x 64", where)
        return
    signed: list[str] = []
    for i in range(0, len(signatures), COMPACT_SIGNATURE_LENGTH):
        try:
            signer = to_checksum_address(recover_signer(verdict, signatures[i : i + 64], chain_id, hub))
        except VerdictError as exc:
            result.fail(f"signature {i // 64} unusable: {exc}", where)
            return
        if signer not in office.signers:
            result.fail(f"signature {i // 64} is by {signer}, not a member of epoch {office.epoch}", where)
        elif signer in signed:
            result.fail(f"{signer} signed twice", where)
        signed.append(signer)
    members = {s for s in signed if s in office.signers}
    if len(members) < office.threshold:
        result.fail(f"{len(members)} distinct member signatures, {office.threshold} needed", where)
        return
    bitmap = sum(1 << office.signers.index(s) for s in members)
    if bitmap != int(a["signersBitmap"]):
        result.fail(f"signers bitmap {a['signersBitmap']:#x} differs from the recovered signers {bitmap:#x}", where)
        return
    result.ok(f"{len(members)}-of-{len(office.signers)} epoch {office.epoch}: {', '.join(sorted(members))}", where)


_CALL_FIELDS = ("orderId", "twinId", "kind", "severity", "action", "windowStart", "windowEnd", "evidenceHash", "epoch")
