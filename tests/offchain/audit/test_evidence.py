from __future__ import annotations

import stat
from pathlib import Path

from offchain.audit.checks import evidence
from offchain.audit.findings import Status
from offchain.storage.canonical import encode_evidence, evidence_hash
from offchain.storage.cid import cid_to_text
from offchain.storage.store import EmbeddedStore
from tests.offchain.audit.factories import event, history

OBJECT = encode_evidence({"order_id": 1, "readings": [{"temp_centi_c": 700, "ts_ms": 1}]})


def _accepted(data: bytes = OBJECT):  # type: ignore[no-untyped-def]
    return event(
        "VerdictHub",
        "VerdictAccepted",
        verdictId=b"\x0a" * 32,
        orderId=1,
        twinId=1,
        kind=1,
        severity=1,
        action=1,
        windowStart=1,
        windowEnd=2,
        evidenceHash=evidence_hash(data),
        epoch=1,
        signersBitmap=7,
        penalty=0,
    )


def test_a_stored_canonical_object_passes(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.put(OBJECT)
    result = evidence.check(history(_accepted()), store)
    assert result.status is Status.PASS and result.checked == 1


def test_an_altered_object_fails_naming_the_cid(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    cid = store.put(OBJECT)
    path = store._path(cid)
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    path.write_bytes(OBJECT.replace(b"700", b"500"))
    (failure,) = evidence.check(history(_accepted()), store).failures
    assert "altered" in failure.what and cid_to_text(cid) in failure.where and "0x" + "0a" * 32 in failure.where


def test_a_missing_object_fails(tmp_path: Path) -> None:
    (failure,) = evidence.check(history(_accepted()), EmbeddedStore(tmp_path)).failures
    assert "missing" in failure.what


def test_bytes_that_are_not_canonical_json_fail(tmp_path: Path) -> None:
    loose = b'{ "order_id": 1 }'
    store = EmbeddedStore(tmp_path)
    store.put(loose)
    (failure,) = evidence.check(history(_accepted(loose)), store).failures
    assert "not canonical JSON" in failure.what
