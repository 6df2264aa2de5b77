"""The buyer's chain-fitted risk model: refitted from the deployment's events once the chain has moved on by
`refit_after_s`, not for every bidder of one award decision while blocks keep coming."""

from __future__ import annotations

from web3 import Web3

from offchain.agents.models import ChainRiskModel
from tests.offchain.agents.conftest import Node

BIDDER = "0x" + "22" * 20


def _model(chain_node: Node) -> ChainRiskModel:
    return ChainRiskModel(Web3(Web3.HTTPProvider(chain_node.url)), chain_node.manifest, failure_cost=50 * 10**6)


def test_the_first_assessment_fits_the_model(chain_node: Node) -> None:
    model = _model(chain_node)
    model.assess(BIDDER)
    assert model.fits == 1


def test_blocks_mined_within_the_refit_interval_reuse_the_fit(chain_node: Node) -> None:
    model = _model(chain_node)
    model.assess(BIDDER)
    for _ in range(3):  # an award decision over several bidders while 1 s blocks keep coming
        chain_node.rpc("evm_increaseTime", 1)
        chain_node.rpc("evm_mine")
        model.assess(BIDDER)
    assert model.fits == 1


def test_the_model_is_refitted_once_the_chain_moved_on_by_the_interval(chain_node: Node) -> None:
    model = _model(chain_node)
    model.assess(BIDDER)
    chain_node.rpc("evm_increaseTime", model.refit_after_s)
    chain_node.rpc("evm_mine")
    model.assess(BIDDER)
    assert model.fits == 2


def test_time_alone_without_a_new_block_does_not_refit(chain_node: Node) -> None:
    model = _model(chain_node)
    model.assess(BIDDER)
    chain_node.rpc("evm_increaseTime", 10 * model.refit_after_s)  # no block mined: the head is the same
    model.assess(BIDDER)
    assert model.fits == 1
