"""ParticipantRegistry: self-registration, updates, suspension, role checks, events."""

from __future__ import annotations

from typing import Any

import pytest
from brownie import web3

from .helpers import (
    AUDITOR,
    CARRIER,
    LOGISTICS,
    PRODUCT,
    REGION,
    RETAILER,
    SUPPLIER,
    WHOLESALER,
    h32,
    plain,
    reverts_with,
)

SERVICE = (PRODUCT, REGION, 500, "ipfs://bafy-service")
OTHER_SERVICE = (b"grain".ljust(32, b"\0"), b"u0".ljust(32, b"\0"), 9000, "ipfs://bafy-other")
REASON = web3.keccak(text="fraud report 17")


def test_register_stores_roles(registry: Any, supplier: Any) -> None:
    registry.register(SUPPLIER | CARRIER, SERVICE, {"from": supplier})
    assert plain(registry.participant(supplier)) == (SUPPLIER | CARRIER, False)


def test_register_emits_every_field(registry: Any, supplier: Any) -> None:
    tx = registry.register(SUPPLIER, SERVICE, {"from": supplier})
    event = tx.events["ParticipantRegistered"]
    assert event["account"] == supplier
    assert event["roles"] == SUPPLIER
    assert event["productType"] == h32(PRODUCT)
    assert event["region"] == h32(REGION)
    assert event["capacity"] == 500
    assert event["metadataURI"] == "ipfs://bafy-service"


def test_register_twice_reverts(registry: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    with reverts_with("ParticipantRegistryAlreadyRegistered", supplier.address):
        registry.register(CARRIER, SERVICE, {"from": supplier})


@pytest.mark.parametrize("roles", [0, 128, 255])
def test_register_invalid_roles_reverts(registry: Any, supplier: Any, roles: int) -> None:
    with reverts_with("ParticipantRegistryInvalidRoles", roles):
        registry.register(roles, SERVICE, {"from": supplier})


def test_update_replaces_roles_and_emits(registry: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    tx = registry.update(WHOLESALER | RETAILER, OTHER_SERVICE, {"from": supplier})
    assert plain(registry.participant(supplier)) == (WHOLESALER | RETAILER, False)
    event = tx.events["ParticipantUpdated"]
    assert event["account"] == supplier
    assert event["roles"] == WHOLESALER | RETAILER
    assert event["productType"] == h32(OTHER_SERVICE[0])
    assert event["region"] == h32(OTHER_SERVICE[1])
    assert event["capacity"] == 9000
    assert event["metadataURI"] == "ipfs://bafy-other"


def test_update_unregistered_reverts(registry: Any, supplier: Any) -> None:
    with reverts_with("ParticipantRegistryNotRegistered", supplier.address):
        registry.update(SUPPLIER, SERVICE, {"from": supplier})


def test_update_invalid_roles_reverts(registry: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    with reverts_with("ParticipantRegistryInvalidRoles", 0):
        registry.update(0, SERVICE, {"from": supplier})


def test_update_while_suspended_reverts(registry: Any, admin: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    registry.suspend(supplier, REASON, {"from": admin})
    with reverts_with("ParticipantRegistrySuspended", supplier.address):
        registry.update(SUPPLIER, SERVICE, {"from": supplier})


def test_unregister_clears_and_emits(registry: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    tx = registry.unregister({"from": supplier})
    assert plain(registry.participant(supplier)) == (0, False)
    assert tx.events["ParticipantUnregistered"]["account"] == supplier
    assert not registry.hasRoles(supplier, 0)


def test_unregister_then_register_again(registry: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    registry.unregister({"from": supplier})
    registry.register(CARRIER, SERVICE, {"from": supplier})
    assert plain(registry.participant(supplier)) == (CARRIER, False)


def test_unregister_unregistered_reverts(registry: Any, supplier: Any) -> None:
    with reverts_with("ParticipantRegistryNotRegistered", supplier.address):
        registry.unregister({"from": supplier})


def test_unregister_while_suspended_reverts(registry: Any, admin: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    registry.suspend(supplier, REASON, {"from": admin})
    with reverts_with("ParticipantRegistrySuspended", supplier.address):
        registry.unregister({"from": supplier})


def test_suspend_sets_flag_and_emits(registry: Any, admin: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    tx = registry.suspend(supplier, REASON, {"from": admin})
    assert plain(registry.participant(supplier)) == (SUPPLIER, True)
    event = tx.events["ParticipantSuspended"]
    assert event["account"] == supplier
    assert event["admin"] == admin
    assert event["reason"] == h32(REASON)


def test_suspend_by_non_admin_reverts(registry: Any, supplier: Any, outsider: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    with reverts_with("AccessControlUnauthorizedAccount", outsider.address, b"\0" * 32):
        registry.suspend(supplier, REASON, {"from": outsider})


def test_suspend_unregistered_reverts(registry: Any, admin: Any, supplier: Any) -> None:
    with reverts_with("ParticipantRegistryNotRegistered", supplier.address):
        registry.suspend(supplier, REASON, {"from": admin})


def test_suspend_twice_reverts(registry: Any, admin: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    registry.suspend(supplier, REASON, {"from": admin})
    with reverts_with("ParticipantRegistrySuspended", supplier.address):
        registry.suspend(supplier, REASON, {"from": admin})


def test_unsuspend_restores_roles_and_emits(registry: Any, admin: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    registry.suspend(supplier, REASON, {"from": admin})
    tx = registry.unsuspend(supplier, {"from": admin})
    assert registry.hasRoles(supplier, SUPPLIER)
    event = tx.events["ParticipantUnsuspended"]
    assert event["account"] == supplier
    assert event["admin"] == admin


def test_unsuspend_by_non_admin_reverts(registry: Any, admin: Any, supplier: Any, outsider: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    registry.suspend(supplier, REASON, {"from": admin})
    with reverts_with("AccessControlUnauthorizedAccount", outsider.address, b"\0" * 32):
        registry.unsuspend(supplier, {"from": outsider})


def test_unsuspend_not_suspended_reverts(registry: Any, admin: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    with reverts_with("ParticipantRegistryNotSuspended", supplier.address):
        registry.unsuspend(supplier, {"from": admin})


def test_has_roles_requires_every_bit(registry: Any, supplier: Any) -> None:
    registry.register(SUPPLIER | LOGISTICS, SERVICE, {"from": supplier})
    assert registry.hasRoles(supplier, SUPPLIER)
    assert registry.hasRoles(supplier, SUPPLIER | LOGISTICS)
    assert not registry.hasRoles(supplier, SUPPLIER | AUDITOR)


def test_has_roles_zero_means_registered(registry: Any, supplier: Any, outsider: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    assert registry.hasRoles(supplier, 0)
    assert not registry.hasRoles(outsider, 0)


def test_has_roles_false_while_suspended(registry: Any, admin: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    registry.suspend(supplier, REASON, {"from": admin})
    assert not registry.hasRoles(supplier, SUPPLIER)
    assert not registry.hasRoles(supplier, 0)


def test_role_constants(registry: Any) -> None:
    assert [registry.SUPPLIER(), registry.WHOLESALER(), registry.RETAILER(), registry.LOGISTICS()] == [
        1,
        2,
        4,
        8,
    ]
    assert [registry.CARRIER(), registry.ORACLE(), registry.AUDITOR(), registry.ALL_ROLES()] == [
        16,
        32,
        64,
        127,
    ]
