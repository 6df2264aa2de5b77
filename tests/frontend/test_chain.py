"""The dapp's view of the chain: signed writes with their outcome, incremental event reads."""

from __future__ import annotations

from frontend.chain import Chain
from frontend.wallet import Wallet
from offchain.devkeys import dev_account
from offchain.manifest import load_manifest


def test_send_signs_locally_and_reports_hash_gas_outcome_and_events(world) -> None:
    chain = Chain(load_manifest(world.manifest), world.rpc_url)
    supplier = Wallet(dev_account(4, chain.manifest.chain_id), "dev")
    escrow = chain.contract("Escrow").address
    outcome = chain.send(supplier, "Approving", chain.token.functions.approve(escrow, 12345))
    assert outcome.succeeded and outcome.gas_used > 21_000 and outcome.tx_hash.startswith("0x")
    receipt = chain.w3.eth.get_transaction_receipt(outcome.tx_hash)
    assert (receipt["from"], receipt["gasUsed"], receipt["blockNumber"]) == (
        supplier.address,
        outcome.gas_used,
        outcome.block,
    )
    assert ("TestStablecoin.Approval", {"owner": supplier.address, "spender": escrow, "value": 12345}) in outcome.events
    assert outcome.sentence.startswith(f"Approving succeeded in block {outcome.block}: transaction 0x")


def test_events_are_read_incrementally(world) -> None:
    chain = Chain(load_manifest(world.manifest), world.rpc_url)
    first = chain.events()
    supplier = Wallet(dev_account(4, chain.manifest.chain_id), "dev")
    chain.send(supplier, "Approving", chain.token.functions.approve(chain.contract("Escrow").address, 777))
    second = chain.events()
    assert second[: len(first)] == first and len(second) == len(first) + 1  # only the new block was read
    assert (second[-1].contract, second[-1].name, second[-1].args["value"]) == ("TestStablecoin", "Approval", 777)
    assert chain.events() == second


def test_a_reset_chain_is_read_afresh(world) -> None:
    """A Chain that read up to block N sees a node now behind N (local chain reset): it reads from scratch."""
    chain = Chain(load_manifest(world.manifest), world.rpc_url)
    before = chain.events()
    chain._scanned_to = {name: block + 1_000_000 for name, block in chain._scanned_to.items()}
    assert chain.events() == before
