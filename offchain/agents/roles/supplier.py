"""The supplier: sells from stock (bids, reserves, ships through its logistics provider)."""

from __future__ import annotations

from .delivery import DeliveryBuyer
from .selling import GoodsSeller


class SupplierRole(GoodsSeller, DeliveryBuyer):
    """Tenders delivery itself only when no logistics provider is registered."""
