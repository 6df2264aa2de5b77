"""Every failure a partner can meet becomes one plain sentence: reverts decoded with the manifest ABIs (on the
session's real chain), wrong network, insufficient funds, a locked keystore, the API down."""

from __future__ import annotations

import json

import httpx
import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractLogicError

from frontend.api import DappApi
from frontend.chain import Chain
from frontend.errors import ApiUnavailableError, ErrorDecoder, WrongNetworkError, explain
from frontend.wallet import Wallet, WalletError, WalletLockedError, require
from offchain.api.client import ApiError
from offchain.manifest import ManifestError, load_manifest
from tests.chain_support import free_port
from tests.frontend.conftest import PORTS


@pytest.fixture
def chain(world) -> Chain:
    return Chain(load_manifest(world.manifest), world.rpc_url)


def _wallet(index_key: str | None = None) -> Wallet:
    account = Account.create() if index_key is None else Account.from_key(index_key)
    return Wallet(account, "test")


def test_a_custom_error_with_its_own_sentence(chain) -> None:
    unfunded = _wallet()
    with pytest.raises(ContractLogicError) as raised:
        chain.send(unfunded, "Withdrawing", chain.contract("Escrow").functions.withdraw())
    assert explain(raised.value, chain.errors) == f"Account {unfunded.address} has nothing to withdraw from escrow."


def test_any_other_custom_error_is_spelled_out_from_its_name_and_arguments(chain) -> None:
    with pytest.raises(ContractLogicError) as raised:
        chain.contract("Procurement").functions.slaTerms(999).call()
    assert explain(raised.value, chain.errors) == "The Procurement contract refused: unknown order (orderId 999)."
    with pytest.raises(ContractLogicError) as raised:
        chain.contract("CustodyTwin").functions.ownerOf(999).call()
    assert explain(raised.value, chain.errors) == (
        "The CustodyTwin contract refused: erc721 nonexistent token (tokenId 999)."
    )


def test_an_undecodable_revert_keeps_the_nodes_message() -> None:
    error = ContractLogicError("execution reverted: custom text", data="0xdeadbeef")
    assert explain(error, ErrorDecoder([])) == "The transaction was reverted: custom text."


def test_a_wrong_network(world) -> None:
    manifest = load_manifest(world.manifest).model_copy(update={"chain_id": 4242})
    with pytest.raises(WrongNetworkError) as raised:
        Chain(manifest, world.rpc_url).check_network()
    assert explain(raised.value) == (
        f"Wrong network: the node at {world.rpc_url} is chain 31337, but the deployment you picked is on chain 4242. "
        "Pick the matching deployment or point the dapp at the right node."
    )


def test_insufficient_funds_for_gas(chain, world) -> None:
    # A fresh account with no ether: the node refuses the signed transaction.
    poor = _wallet()
    token = chain.token
    with pytest.raises(Exception) as raised:
        chain.send(poor, "Approving", token.functions.approve(chain.contract("Escrow").address, 1))
    assert explain(raised.value, chain.errors).startswith("Insufficient funds: your account does not hold enough")


def test_a_locked_keystore() -> None:
    with pytest.raises(WalletLockedError) as raised:
        require({})
    assert explain(raised.value) == (
        "Your keystore is locked: unlock it in the sidebar with its password before signing anything."
    )


def test_a_keystore_problem_is_its_own_sentence() -> None:
    assert explain(WalletError("The password does not unlock the keystore a.json.")) == (
        "The password does not unlock the keystore a.json."
    )


def test_the_api_down() -> None:
    api = DappApi(f"http://127.0.0.1:{free_port(PORTS)}", timeout_s=2)
    with pytest.raises(httpx.TransportError) as raised:
        api.readings("1")
    assert explain(raised.value).startswith("The ASC API does not answer (ConnectError")


def test_no_api_configured() -> None:
    with pytest.raises(ApiUnavailableError) as raised:
        DappApi(None)
    assert explain(raised.value) == "The ASC API is not available: no API URL is configured (set ASC_DAPP_API_URL)."


def test_the_api_refusing_a_request_names_its_reason() -> None:
    error = ApiError(409, {"type": "urn:asc:problem:already-decided", "detail": "another decision came first"})
    assert explain(error) == "The ASC API refused the request (409): another decision came first"


def test_the_chains_node_down(world) -> None:
    manifest = load_manifest(world.manifest)
    dead = Chain(manifest, f"http://127.0.0.1:{free_port(PORTS)}")
    with pytest.raises(Exception) as raised:
        dead.check_network()
    assert "The chain's node does not answer" in explain(raised.value)


def test_a_bad_manifest(tmp_path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"schema": "nope"}))
    with pytest.raises(ManifestError) as raised:
        load_manifest(bad)
    assert explain(raised.value).startswith(
        f"The deployment manifest cannot be used: invalid deployment manifest {bad}"
    )


def test_decoder_reads_tuple_arguments_of_the_manifest_abis(world) -> None:
    decoder = ErrorDecoder.from_manifest(load_manifest(world.manifest))
    selector = Web3.keccak(text="EscrowNothingToWithdraw(address)")[:4]
    decoded = decoder.decode(selector + bytes(12) + bytes.fromhex("11" * 20))
    assert decoded is not None
    spec, args = decoded
    assert (spec.contract, spec.name, args) == ("Escrow", "EscrowNothingToWithdraw", {"account": "0x" + "11" * 20})
