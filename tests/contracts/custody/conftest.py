"""Fixtures for CustodyTwin unit tests: named accounts, a mock Escrow, and twin factories."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from brownie import CustodyTwin, MockEscrowHooks, ReentrantCustodyActor, web3

PRODUCT = web3.to_hex(web3.keccak(text="GTIN 04012345000016"))
OTHER_PRODUCT = web3.to_hex(web3.keccak(text="GTIN 04012345000023"))


def b32(text: str) -> str:
    """A short ASCII label (e.g. a geohash) as a right-padded bytes32 hex string."""
    return "0x" + text.encode().ljust(32, b"\0").hex()


@pytest.fixture(scope="module")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="module")
def minter(accounts):
    """Stands in for Procurement (the immutable MINTER)."""
    return accounts[1]


@pytest.fixture(scope="module")
def seller(accounts):
    return accounts[2]


@pytest.fixture(scope="module")
def carrier(accounts):
    return accounts[3]


@pytest.fixture(scope="module")
def buyer(accounts):
    return accounts[4]


@pytest.fixture(scope="module")
def stranger(accounts):
    return accounts[5]


@pytest.fixture(scope="module")
def hold_keeper(accounts):
    """Stands in for VerdictHub (the immutable HOLD_KEEPER)."""
    return accounts[6]


@pytest.fixture(scope="module")
def escrow(admin):
    return MockEscrowHooks.deploy(1_000_000, {"from": admin})


@pytest.fixture(scope="module")
def custody(admin, minter, hold_keeper, escrow):
    return CustodyTwin.deploy(admin, escrow, minter, hold_keeper, {"from": admin})


@pytest.fixture(scope="module")
def actor(admin):
    return ReentrantCustodyActor.deploy({"from": admin})


@pytest.fixture(scope="module")
def mint(custody, minter, seller, buyer) -> Callable[..., int]:
    """Mints a twin for an order and returns its id."""

    def _mint(order_id=1, holder=None, consignee=None, quantity=100, product=PRODUCT):
        tx = custody.mintTwin(
            order_id, holder or seller, consignee or buyer, quantity, product, {"from": minter}
        )
        return tx.events["TwinMinted"]["twinId"]

    return _mint


@pytest.fixture(scope="module")
def handoff(custody) -> Callable[..., object]:
    """Offer by `frm`, acceptance by `to`; returns the acceptance transaction."""

    def _handoff(twin_id, frm, to, location="u4pruyd", condition="ok"):
        custody.offerHandoff(twin_id, to, b32(location), b32(condition), {"from": frm})
        return custody.acceptHandoff(twin_id, b32(location), b32(condition), {"from": to})

    return _handoff


@pytest.fixture
def twin_id(mint) -> int:
    """A twin of order 1, held by the seller, bound to the order (buyer is consignee)."""
    return mint()


@pytest.fixture
def delivered(mint, handoff, seller, buyer) -> Callable[..., int]:
    """Mints a twin and delivers it to the buyer (no longer in an active order); returns its id."""

    def _delivered(order_id=1, quantity=100, product=PRODUCT):
        twin = mint(order_id=order_id, quantity=quantity, product=product)
        handoff(twin, seller, buyer)
        return twin

    return _delivered


def plain(value):
    """A brownie return value as plain Python (tuples, int, str, bool; bytes as 0x-hex) for `==`."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list | tuple):
        return tuple(plain(item) for item in value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value
