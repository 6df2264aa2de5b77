"""oracles/verdicts.py: typed data from the published schema, digests, compact signatures (pure Python).

Cross-checks use independent code paths: the EIP-712 digest is rebuilt by hand from the type string and
`eth_abi`, and signatures are recovered with `eth_keys`, not with the module under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_abi import encode
from eth_account import Account
from eth_keys import KeyAPI
from eth_utils import keccak

from oracles import verdicts
from oracles.verdicts import Action, Kind, VerdictError

CHAIN_ID = 31337
HUB = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
KEY = "0x" + "11" * 32
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
TYPE = (
    "Verdict(uint256 orderId,uint256 twinId,uint8 kind,uint8 severity,uint8 action,uint64 windowStart,"
    "uint64 windowEnd,bytes32 evidenceHash,uint32 epoch)"
)
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


def verdict(**overrides):
    fields = {
        "order_id": 7,
        "twin_id": 3,
        "kind": Kind.SHOCK,
        "severity": 2,
        "action": Action.PENALTY,
        "window_start": 1_700_000_000,
        "window_end": 1_700_000_600,
        "evidence_hash": "0x" + "ab" * 32,
        "epoch": 1,
    }
    fields.update(overrides)
    return verdicts.make_verdict(**fields)


def manual_digest(v, chain_id=CHAIN_ID, hub=HUB) -> bytes:
    domain = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [keccak(text=DOMAIN_TYPE), keccak(text="ASC VerdictHub"), keccak(text="1"), chain_id, hub],
        )
    )
    types = ["bytes32", "uint256", "uint256", "uint8", "uint8", "uint8"]
    types += ["uint64", "uint64", "bytes32", "uint32"]
    struct = keccak(encode(types, [keccak(text=TYPE), *v.as_tuple()]))
    return keccak(b"\x19\x01" + domain + struct)


def recover_with_eth_keys(digest: bytes, signature: bytes) -> str:
    v, r, s = verdicts.from_compact(signature)
    return KeyAPI.Signature(vrs=(v - 27, r, s)).recover_public_key_from_msg_hash(digest).to_checksum_address()


# ---------------------------------------------------------------- schema


def test_default_schema_matches_contract_type_string():
    schema = verdicts.default_schema()
    fields = ",".join(f"{f['type']} {f['name']}" for f in schema.types["Verdict"])
    assert f"Verdict({fields})" == TYPE
    assert schema.domain == {"name": "ASC VerdictHub", "version": "1"}


def test_load_schema_reports_missing_file(tmp_path):
    with pytest.raises(VerdictError, match="cannot read verdict schema"):
        verdicts.load_schema(tmp_path / "absent.json")


def test_load_schema_reports_invalid_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(VerdictError, match="cannot read verdict schema"):
        verdicts.load_schema(path)


def test_load_schema_refuses_drifted_fields(tmp_path):
    raw = json.loads(verdicts.SCHEMA_PATH.read_text())
    raw["types"]["Verdict"] = raw["types"]["Verdict"][:-1]
    path = tmp_path / "drifted.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(VerdictError, match="differ from"):
        verdicts.load_schema(path)


def test_load_schema_refuses_domain_with_chain_fields(tmp_path):
    raw = json.loads(verdicts.SCHEMA_PATH.read_text())
    raw["domain"]["chainId"] = "1"
    path = tmp_path / "domain.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(VerdictError, match="domain template"):
        verdicts.load_schema(path)


def test_schema_file_documents_every_code():
    raw = json.loads(Path(verdicts.SCHEMA_PATH).read_text())
    assert set(raw["x-asc"]["codes"]["kind"]) == {str(k.value) for k in Kind}
    assert set(raw["x-asc"]["codes"]["action"]) == {str(a.value) for a in Action}
    assert set(raw["x-asc"]["fields"]) == {f["name"] for f in raw["types"]["Verdict"]}


# ---------------------------------------------------------------- verdict model


def test_make_verdict_accepts_hex_or_bytes_evidence():
    assert verdict(evidence_hash=b"\xab" * 32) == verdict()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", 0),
        ("kind", 6),
        ("action", 4),
        ("severity", 256),
        ("severity", -1),
        ("order_id", 2**256),
        ("window_end", 2**64),
        ("epoch", 0),
        ("epoch", 2**32),
        ("evidence_hash", "0x1234"),
        ("evidence_hash", "0x" + "zz" * 32),
        ("order_id", "7"),
    ],
)
def test_make_verdict_refuses_out_of_range_field(field, value):
    with pytest.raises(VerdictError, match=field):
        verdict(**{field: value})


def test_make_verdict_refuses_inverted_window():
    with pytest.raises(VerdictError, match="window_start"):
        verdict(window_start=10, window_end=9)


def test_make_verdict_refuses_penalty_without_severity():
    with pytest.raises(VerdictError, match="severity >= 1"):
        verdict(severity=0)


def test_make_verdict_allows_hold_without_severity():
    assert verdict(action=Action.HOLD, severity=0).severity == 0


def test_message_uses_schema_names_in_struct_order():
    message = verdict().message()
    assert list(message) == [f["name"] for f in verdicts.default_schema().types["Verdict"]]
    assert message["kind"] == 3 and message["evidenceHash"] == b"\xab" * 32


# ---------------------------------------------------------------- typed data and digest


def test_typed_data_fills_domain_from_chain_and_hub():
    data = verdicts.typed_data(verdict(), CHAIN_ID, HUB.lower())
    assert data["domain"] == {
        "name": "ASC VerdictHub",
        "version": "1",
        "chainId": CHAIN_ID,
        "verifyingContract": HUB,
    }
    assert data["primaryType"] == "Verdict"


@pytest.mark.parametrize("chain_id", [0, -1, True, "1"])
def test_typed_data_refuses_bad_chain_id(chain_id):
    with pytest.raises(VerdictError, match="chain id"):
        verdicts.typed_data(verdict(), chain_id, HUB)


@pytest.mark.parametrize("hub", ["0x1234", "not an address", 42])
def test_typed_data_refuses_bad_hub_address(hub):
    with pytest.raises(VerdictError, match="hub address"):
        verdicts.typed_data(verdict(), CHAIN_ID, hub)


def test_verdict_id_matches_manual_eip712_digest():
    v = verdict(order_id=2**255 + 1, kind=Kind.DELAY, severity=255, epoch=2**32 - 1)
    assert verdicts.verdict_id(v, CHAIN_ID, HUB) == manual_digest(v)


def test_verdict_id_binds_chain_and_hub():
    v = verdict()
    other_hub = "0x" + "22" * 20
    ids = {
        verdicts.verdict_id(v, CHAIN_ID, HUB),
        verdicts.verdict_id(v, CHAIN_ID + 1, HUB),
        verdicts.verdict_id(v, CHAIN_ID, other_hub),
    }
    assert len(ids) == 3


# ---------------------------------------------------------------- signatures


def test_sign_verdict_returns_compact_signature_of_the_key():
    v = verdict()
    signature = verdicts.sign_verdict(v, KEY, CHAIN_ID, HUB)

    assert len(signature) == 64
    assert recover_with_eth_keys(manual_digest(v), signature) == Account.from_key(KEY).address


def test_sign_verdict_is_low_s():
    for index in range(20):
        signature = verdicts.sign_verdict(verdict(order_id=index), KEY, CHAIN_ID, HUB)
        _, _, s = verdicts.from_compact(signature)
        assert s <= N // 2


def test_sign_verdict_reports_bad_key_without_echoing_it():
    with pytest.raises(VerdictError) as info:
        verdicts.sign_verdict(verdict(), "0x1234", CHAIN_ID, HUB)
    assert "1234" not in str(info.value)


def test_recover_signer_returns_signing_address():
    v = verdict()
    signature = verdicts.sign_verdict(v, KEY, CHAIN_ID, HUB)
    assert verdicts.recover_signer(v, signature, CHAIN_ID, HUB) == Account.from_key(KEY).address


def test_recover_signer_of_other_verdict_is_someone_else():
    signature = verdicts.sign_verdict(verdict(severity=1), KEY, CHAIN_ID, HUB)
    recovered = verdicts.recover_signer(verdict(severity=2), signature, CHAIN_ID, HUB)
    assert recovered != Account.from_key(KEY).address


def test_recover_signer_refuses_high_s():
    r = 1
    high_s = N // 2 + 1
    signature = r.to_bytes(32, "big") + high_s.to_bytes(32, "big")
    with pytest.raises(VerdictError, match="high"):
        verdicts.recover_signer(verdict(), signature, CHAIN_ID, HUB)


def test_compact_round_trip():
    for v_byte in (27, 28):
        assert verdicts.from_compact(verdicts.to_compact(v_byte, 5, 9)) == (v_byte, 5, 9)


@pytest.mark.parametrize(
    ("v", "r", "s", "message"),
    [
        (26, 1, 1, "v must be"),
        (27, 0, 1, "r is out of range"),
        (27, N, 1, "r is out of range"),
        (27, 1, 0, "high"),
        (27, 1, N // 2 + 1, "high"),
    ],
)
def test_to_compact_refuses_invalid_parts(v, r, s, message):
    with pytest.raises(VerdictError, match=message):
        verdicts.to_compact(v, r, s)


def test_from_compact_refuses_wrong_length():
    with pytest.raises(VerdictError, match="64 bytes"):
        verdicts.from_compact(b"\x01" * 65)


def test_pack_signatures_concatenates():
    assert verdicts.pack_signatures([b"\x01" * 64, b"\x02" * 64]) == b"\x01" * 64 + b"\x02" * 64


def test_pack_signatures_refuses_wrong_length_and_names_it():
    with pytest.raises(VerdictError, match="signature 1 is 65 bytes"):
        verdicts.pack_signatures([b"\x01" * 64, b"\x02" * 65])


def test_in_member_order_sorts_by_oracle_set_position():
    members = ["0x" + f"{i:040x}" for i in range(1, 6)]
    by_signer = {members[4]: b"e" * 64, members[0]: b"a" * 64, members[2].lower(): b"c" * 64}
    assert verdicts.in_member_order(by_signer, members) == [b"a" * 64, b"c" * 64, b"e" * 64]


def test_in_member_order_refuses_non_member():
    members = ["0x" + f"{i:040x}" for i in range(1, 4)]
    with pytest.raises(VerdictError, match="not a member"):
        verdicts.in_member_order({"0x" + "99" * 20: b"x" * 64}, members)
