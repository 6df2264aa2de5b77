"""The deployed, wired suite (scripts/deploy.py) carries one shipment through its whole life."""

from __future__ import annotations

import pytest
from brownie import accounts, web3

from offchain.devkeys import dev_oracle_accounts
from scripts import deploy as deploy_module
from scripts.deploy import DEV_ORACLES, DEV_THRESHOLD, deploy_suite
from scripts.lifecycle import UNIT, Actors, register_participants, run_lifecycle


@pytest.fixture(scope="module")
def oracles():
    return dev_oracle_accounts(DEV_ORACLES, web3.eth.chain_id)


@pytest.fixture(scope="module")
def suite(oracles):
    return deploy_suite(accounts[0], oracles=[o.address for o in oracles], threshold=DEV_THRESHOLD)


@pytest.fixture(scope="module")
def actors(suite):
    actors = Actors(wholesaler=accounts[1], suppliers=list(accounts[2:5]), carriers=list(accounts[5:7]))
    register_participants(suite, actors)
    return actors


def test_every_party_ends_with_its_share_after_a_penalised_shipment(suite, actors, oracles):
    balances = {a.address: suite.token.balanceOf(a) for a in [actors.wholesaler, *actors.suppliers, *actors.carriers]}
    result = run_lifecycle(suite, accounts[0], actors, oracles, progress=lambda _: None)

    gained = {a: suite.token.balanceOf(a) - before for a, before in balances.items()}
    winner, carrier1, carrier2 = actors.suppliers[1], actors.carriers[0], actors.carriers[1]
    # 100 cases at 48.00; legs of 400.00 and 500.00; a severity-2 excursion at 150.00 each on carrier 1.
    assert gained[winner.address] == (4_800 - 400 - 500) * UNIT
    assert gained[carrier1.address] == (400 - 300) * UNIT
    assert gained[carrier2.address] == 500 * UNIT
    # the wholesaler was minted 6,000.00, paid 4,800.00 and got the 300.00 penalty back
    assert gained[actors.wholesaler.address] == (6_000 - 4_800 + 300) * UNIT
    assert gained[actors.suppliers[0].address] == gained[actors.suppliers[2].address] == 0
    assert suite.token.balanceOf(suite.escrow) == suite.escrow.outstanding() == 0
    assert suite.custody.holderOf(result.twin_id) == actors.wholesaler


def test_the_verdict_is_traceable_from_the_penalty_event(suite, actors, oracles):
    result = run_lifecycle(suite, accounts[0], actors, oracles, progress=lambda _: None)
    verdict_tx = result.steps["verdict_3_of_5"][0]
    penalty = verdict_tx.events["PenaltyApplied"]
    assert bytes(penalty["verdictId"]) == result.verdict_id
    assert suite.escrow.leg(result.order_id, penalty["legIndex"])["carrier"] == actors.carriers[0]
    assert penalty["orderId"] == result.order_id
    assert bin(verdict_tx.events["VerdictAccepted"]["signersBitmap"]).count("1") == DEV_THRESHOLD


def test_settlement_reports_the_charge_of_the_penalised_carrier(suite, actors, oracles):
    result = run_lifecycle(suite, accounts[0], actors, oracles, progress=lambda _: None)
    txs = result.steps["delivery_settlement"]
    settled = [e for tx in txs for e in tx.events if e.name == "PenaltySettled"]
    assert [(e["orderId"], e["liable"], e["claimed"], e["charged"]) for e in settled] == [
        (result.order_id, actors.carriers[0], 300 * UNIT, 300 * UNIT)
    ]


def test_escrow_callers_are_the_deployed_contracts(suite):
    escrow = suite.escrow
    assert (escrow.PROCUREMENT(), escrow.CUSTODY(), escrow.VERDICT_HUB()) == (
        suite.procurement.address,
        suite.custody.address,
        suite.hub.address,
    )


def test_custody_callers_are_the_deployed_contracts(suite):
    custody = suite.custody
    assert (custody.escrow(), custody.MINTER(), custody.HOLD_KEEPER()) == (
        suite.escrow.address,
        suite.procurement.address,
        suite.hub.address,
    )


def test_create_address_predicts_a_deployment():
    deployer = accounts[0]
    planned = deploy_module.create_address(deployer.address, deployer.nonce)
    assert deploy_module.ParticipantRegistry.deploy(deployer, {"from": deployer}).address == planned


def test_deploy_suite_fails_loudly_when_a_nonce_is_spent_midway(monkeypatch):
    deployer = accounts[0]
    real = deploy_module.CustodyTwin

    class NonceThief:
        """Sends one unrelated transaction before deploying CustodyTwin: every later address shifts."""

        @staticmethod
        def deploy(*args):
            deployer.transfer(accounts[1], 0)
            return real.deploy(*args)

    monkeypatch.setattr(deploy_module, "CustodyTwin", NonceThief)
    with pytest.raises(deploy_module.DeployError, match="CustodyTwin deployed at"):
        deploy_module.deploy_suite(deployer)
