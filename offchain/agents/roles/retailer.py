"""The retailer: orders from wholesalers when its shelf stock runs low."""

from __future__ import annotations

from .buying import GoodsBuyer


class RetailerRole(GoodsBuyer):
    seller_roles = 2  # calls wholesalers
