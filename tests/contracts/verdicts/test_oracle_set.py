"""VerdictHub oracle sets: rotation by epochs, their checks, and what rotation does to old signatures."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS, VerdictHub, chain

from tests.contracts.errors import reverts

from .conftest import ORACLES

MEMBERS = [o.address for o in ORACLES[:5]]


def test_setOracleSet_starts_epoch_one(hub):
    assert tuple(hub.oracleConfig()) == (1, 3, 5)
    assert list(hub.signers()) == MEMBERS


def test_setOracleSet_emits_OracleSetChanged(hub, admin):
    tx = hub.setOracleSet(MEMBERS[:3], 2, {"from": admin})

    assert tx.events["OracleSetChanged"]["epoch"] == 2
    assert list(tx.events["OracleSetChanged"]["signers"]) == MEMBERS[:3]
    assert tx.events["OracleSetChanged"]["threshold"] == 2
    assert tuple(hub.oracleConfig()) == (2, 2, 3)
    assert list(hub.signers()) == MEMBERS[:3]


def test_setOracleSet_accepts_max_signers(hub, admin, accounts):
    signers = [f"0x{i:040x}" for i in range(1, 33)]
    hub.setOracleSet(signers, 17, {"from": admin})
    assert tuple(hub.oracleConfig()) == (2, 17, 32)


def test_setOracleSet_reverts_for_non_admin(hub, stranger):
    with reverts("AccessControlUnauthorizedAccount", stranger, hub.DEFAULT_ADMIN_ROLE()):
        hub.setOracleSet(MEMBERS, 3, {"from": stranger})


@pytest.mark.parametrize("count", [0, 33])
def test_setOracleSet_reverts_for_bad_signer_count(hub, admin, count):
    signers = [f"0x{i:040x}" for i in range(1, count + 1)]
    with reverts("VerdictHubInvalidSignerCount", count):
        hub.setOracleSet(signers, 1, {"from": admin})


@pytest.mark.parametrize(("threshold", "count"), [(0, 5), (6, 5), (2, 5), (2, 4), (1, 2)])
def test_setOracleSet_reverts_for_threshold_outside_majority(hub, admin, threshold, count):
    with reverts("VerdictHubInvalidThreshold", threshold, count):
        hub.setOracleSet(MEMBERS[:count], threshold, {"from": admin})


def test_setOracleSet_reverts_for_zero_signer(hub, admin):
    with reverts("VerdictHubZeroSigner"):
        hub.setOracleSet([*MEMBERS[:2], ZERO_ADDRESS], 2, {"from": admin})


def test_setOracleSet_reverts_for_duplicate_signer(hub, admin):
    with reverts("VerdictHubDuplicateSigner", MEMBERS[1]):
        hub.setOracleSet([MEMBERS[0], MEMBERS[1], MEMBERS[1]], 2, {"from": admin})


def test_submitVerdict_reverts_for_signatures_of_retired_epoch(hub, admin, make, submit):
    verdict = make(epoch=1)
    hub.setOracleSet(MEMBERS, 3, {"from": admin})  # same members, epoch 2

    with reverts("VerdictHubWrongEpoch", 1, 2):
        submit(verdict)


def test_submitVerdict_accepts_same_members_resigning_for_new_epoch(hub, admin, make, submit):
    hub.setOracleSet(MEMBERS, 3, {"from": admin})

    tx = submit(make(epoch=2))

    assert tx.events["VerdictAccepted"]["epoch"] == 2


def test_submitVerdict_reverts_for_member_removed_by_rotation(hub, admin, make, submit):
    hub.setOracleSet(MEMBERS[:4], 3, {"from": admin})

    with reverts("VerdictHubUnknownSigner", MEMBERS[4]):
        submit(make(epoch=2), signers=[ORACLES[0], ORACLES[4], ORACLES[1]])


def test_rotation_reindexes_signers_bitmap(hub, admin, make, submit):
    hub.setOracleSet(list(reversed(MEMBERS)), 3, {"from": admin})

    tx = submit(make(epoch=2), signers=ORACLES[:3])

    assert tx.events["VerdictAccepted"]["signersBitmap"] == 0b11100


def test_submitVerdict_reverts_before_any_oracle_set(admin, escrow, custody, procurement, make, sign):
    fresh = VerdictHub.deploy(admin, escrow, custody, procurement, {"from": admin})
    verdict = make()
    with reverts("VerdictHubNoOracleSet"):
        fresh.submitVerdict(verdict.as_tuple(), sign(verdict, hub_address=fresh.address), {"from": admin})


@pytest.mark.parametrize("position", range(4))
def test_constructor_reverts_for_zero_address(admin, escrow, custody, procurement, position):
    args = [admin, escrow, custody, procurement]
    args[position] = ZERO_ADDRESS
    with reverts("VerdictHubZeroAddress"):
        VerdictHub.deploy(*args, {"from": admin})


def test_constructor_wires_hooks_and_admin(hub, admin, escrow, custody, procurement):
    assert (hub.escrow(), hub.custody(), hub.procurement()) == (escrow, custody, procurement)
    assert hub.hasRole(hub.DEFAULT_ADMIN_ROLE(), admin)
    assert tuple(VerdictHub.deploy(admin, escrow, custody, procurement, {"from": admin}).oracleConfig()) == (
        0,
        0,
        0,
    )


def test_eip712Domain_reports_name_version_chain_and_hub(hub):
    domain = hub.eip712Domain()
    assert (domain[1], domain[2], domain[3], domain[4]) == ("ASC VerdictHub", "1", chain.id, hub.address)


def test_domainSeparator_matches_python(hub, make):
    from eth_account.messages import encode_typed_data

    from oracles import verdicts

    signable = encode_typed_data(full_message=verdicts.typed_data(make(), chain.id, hub.address))
    assert hub.domainSeparator() == "0x" + bytes(signable.header).hex()


def test_VERDICT_TYPEHASH_matches_schema(hub):
    from brownie import web3

    from oracles import verdicts

    fields = ",".join(f"{f['type']} {f['name']}" for f in verdicts.default_schema().types["Verdict"])
    assert hub.VERDICT_TYPEHASH() == web3.to_hex(web3.keccak(text=f"Verdict({fields})"))
