"""The custom-error assertion helper itself must fail on a wrong error, wrong data or no revert."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import SUPPLIER, reverts_with

SERVICE = (b"\0" * 32, b"\0" * 32, 1, "")


def test_reverts_with_rejects_other_arguments(registry: Any, supplier: Any, outsider: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    with (
        pytest.raises(AssertionError),
        reverts_with("ParticipantRegistryAlreadyRegistered", outsider.address),
    ):
        registry.register(SUPPLIER, SERVICE, {"from": supplier})


def test_reverts_with_rejects_other_error(registry: Any, supplier: Any) -> None:
    registry.register(SUPPLIER, SERVICE, {"from": supplier})
    with pytest.raises(AssertionError), reverts_with("ParticipantRegistryNotRegistered", supplier.address):
        registry.register(SUPPLIER, SERVICE, {"from": supplier})


def test_reverts_with_rejects_success(registry: Any, supplier: Any) -> None:
    with (
        pytest.raises(AssertionError),
        reverts_with("ParticipantRegistryAlreadyRegistered", supplier.address),
    ):
        registry.register(SUPPLIER, SERVICE, {"from": supplier})
