"""TestStablecoin: 6 decimals, owner-only minting."""

from __future__ import annotations

from typing import Any

from brownie import TestStablecoin

from .helpers import ZERO, plain, reverts_with


def test_metadata(token: Any) -> None:
    assert (token.name(), token.symbol(), token.decimals()) == ("ASC Test USD", "tUSD", 6)


def test_owner_mints_and_emits_transfer(token: Any, admin: Any, outsider: Any) -> None:
    tx = token.mint(outsider, 123, {"from": admin})
    assert token.balanceOf(outsider) == 123
    assert plain(tx.events["Transfer"].values()) == (ZERO, outsider.address, 123)


def test_mint_by_non_owner_reverts(token: Any, outsider: Any) -> None:
    with reverts_with("OwnableUnauthorizedAccount", outsider.address):
        token.mint(outsider, 1, {"from": outsider})


def test_owner_is_constructor_argument(admin: Any, outsider: Any) -> None:
    assert TestStablecoin.deploy(outsider, {"from": admin}).owner() == outsider
