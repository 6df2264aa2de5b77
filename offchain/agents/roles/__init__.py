"""The five organisations, composed from shared behaviours (selling, buying goods, buying delivery, carrying)."""

from __future__ import annotations

from ..config import AgentKind
from ..runtime import AgentContext
from .base import Role
from .carrier import CarrierRole
from .logistics import LogisticsRole
from .retailer import RetailerRole
from .supplier import SupplierRole
from .wholesaler import WholesalerRole

ROLES: dict[AgentKind, type[Role]] = {
    AgentKind.SUPPLIER: SupplierRole,
    AgentKind.WHOLESALER: WholesalerRole,
    AgentKind.RETAILER: RetailerRole,
    AgentKind.LOGISTICS: LogisticsRole,
    AgentKind.CARRIER: CarrierRole,
}


def make_role(ctx: AgentContext) -> Role:
    return ROLES[ctx.config.kind](ctx)
