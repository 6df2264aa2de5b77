"""Fixtures of the market contract tests (registry, procurement, escrow).

Accounts are named by role. Two wirings are deployed:
- `escrow` alone, its hooks called by plain accounts (`procurement_hook`, `custody_hook`, `verdict_hook`), for
  the Escrow unit tests;
- `market`: registry + procurement + an escrow whose Procurement caller is the Procurement contract, and a
  MockCustody standing in for CustodyTwin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from brownie import Escrow, MockCustody, ParticipantRegistry, Procurement, TestStablecoin, accounts

from scripts.deploy import create_address

from .helpers import (
    CARRIER,
    DELIVERY_GRACE,
    LOGISTICS,
    PRODUCT,
    REGION,
    REROUTE_PERIODS,
    RETAILER,
    SUPPLIER,
    UNIT,
    WHOLESALER,
)


# ---------------------------------------------------------------------- accounts
@pytest.fixture(scope="module")
def admin() -> Any:
    return accounts[0]


@pytest.fixture(scope="module")
def buyer() -> Any:
    return accounts[1]


@pytest.fixture(scope="module")
def supplier() -> Any:
    return accounts[2]


@pytest.fixture(scope="module")
def supplier2() -> Any:
    return accounts[3]


@pytest.fixture(scope="module")
def carrier() -> Any:
    return accounts[4]


@pytest.fixture(scope="module")
def carrier2() -> Any:
    return accounts[5]


@pytest.fixture(scope="module")
def logistics() -> Any:
    return accounts[6]


@pytest.fixture(scope="module")
def outsider() -> Any:
    return accounts[7]


@pytest.fixture(scope="module")
def procurement_hook() -> Any:
    return accounts[8]


@pytest.fixture(scope="module")
def custody_hook() -> Any:
    return accounts[9]


@pytest.fixture(scope="module")
def verdict_hook(admin: Any) -> Any:
    extra = accounts.add()
    admin.transfer(extra, 10**18)
    return extra


# ---------------------------------------------------------------------- contracts
@pytest.fixture(scope="module")
def token(admin: Any, buyer: Any) -> Any:
    stablecoin = TestStablecoin.deploy(admin, {"from": admin})
    stablecoin.mint(buyer, 10**9 * UNIT, {"from": admin})
    return stablecoin


@pytest.fixture(scope="module")
def escrow(
    token: Any, admin: Any, buyer: Any, procurement_hook: Any, custody_hook: Any, verdict_hook: Any
) -> Any:
    deployed = Escrow.deploy(
        token, DELIVERY_GRACE, procurement_hook, custody_hook, verdict_hook, {"from": admin}
    )
    token.approve(deployed, 2**256 - 1, {"from": buyer})
    return deployed


@pytest.fixture(scope="module")
def registry(admin: Any) -> Any:
    return ParticipantRegistry.deploy(admin, {"from": admin})


@dataclass
class Market:
    registry: Any
    procurement: Any
    escrow: Any
    custody: Any
    token: Any


@pytest.fixture(scope="module")
def market(
    admin: Any,
    buyer: Any,
    supplier: Any,
    supplier2: Any,
    carrier: Any,
    carrier2: Any,
    logistics: Any,
    registry: Any,
    token: Any,
    custody_hook: Any,
    verdict_hook: Any,
) -> Market:
    custody = MockCustody.deploy({"from": admin})
    # Procurement is deployed right after Escrow, which needs its address first (immutable caller).
    planned = create_address(admin.address, admin.nonce + 1)
    market_escrow = Escrow.deploy(
        token, DELIVERY_GRACE, planned, custody_hook, verdict_hook, {"from": admin}
    )
    procurement = Procurement.deploy(
        registry, market_escrow, custody, admin, REROUTE_PERIODS, {"from": admin}
    )
    assert procurement.address == planned
    procurement.grantRole(procurement.REROUTE_ROLE(), verdict_hook, {"from": admin})
    service = (PRODUCT, REGION, 1000, "ipfs://service")
    registry.register(RETAILER, service, {"from": buyer})
    registry.register(SUPPLIER, service, {"from": supplier})
    registry.register(SUPPLIER | WHOLESALER, service, {"from": supplier2})
    registry.register(CARRIER, service, {"from": carrier})
    registry.register(CARRIER, service, {"from": carrier2})
    registry.register(LOGISTICS, service, {"from": logistics})
    token.approve(market_escrow, 2**256 - 1, {"from": buyer})
    return Market(registry, procurement, market_escrow, custody, token)
