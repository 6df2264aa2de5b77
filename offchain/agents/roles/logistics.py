"""The logistics provider: buys delivery for the sellers that name it, and re-tenders rerouted legs."""

from __future__ import annotations

from .delivery import DeliveryBuyer


class LogisticsRole(DeliveryBuyer):
    pass
