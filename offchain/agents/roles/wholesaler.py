"""The wholesaler: sells to retailers from stock and replenishes from suppliers when the stock position falls
below the reorder point its demand forecast gives."""

from __future__ import annotations

from .buying import GoodsBuyer
from .delivery import DeliveryBuyer
from .selling import GoodsSeller


class WholesalerRole(GoodsSeller, GoodsBuyer, DeliveryBuyer):
    seller_roles = 1  # calls suppliers
