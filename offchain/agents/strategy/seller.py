"""A seller (supplier, or a wholesaler answering a retailer) prices a goods CFP from its stock and margin."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GoodsRequest:
    cfp_id: int
    product: str
    quantity: int
    max_unit_price: int
    window_end_s: int


@dataclass(frozen=True)
class SellerBid:
    unit_price: int
    eta_s: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class NoBid:
    reasons: tuple[str, ...]


# Above this share of the free stock an order is priced at a premium: what is left must cover other buyers.
SCARCITY_SHARE = 0.5


def seller_bid(
    request: GoodsRequest,
    *,
    available: int,
    unit_cost: int,
    margin_bp: int,
    capacity: int,
    lead_time_s: int,
    now_s: int,
) -> SellerBid | NoBid:
    """Bid cost plus margin, plus up to half the margin again as the order eats into scarce stock; never
    below cost, never above the buyer's maximum, never more than the stock or the capacity allow."""
    if request.quantity > available:
        return NoBid((f"only {available} {request.product} free for an order of {request.quantity}",))
    if request.quantity > capacity:
        return NoBid((f"{request.quantity} units exceed the capacity of {capacity} per window",))
    eta = now_s + lead_time_s
    if eta > request.window_end_s:
        return NoBid((f"cannot deliver before the deadline: lead time {lead_time_s // 3600} h",))
    share = request.quantity / available
    premium_bp = 0 if share <= SCARCITY_SHARE else round(margin_bp / 2 * (share - SCARCITY_SHARE) / SCARCITY_SHARE)
    price = unit_cost * (10_000 + margin_bp + premium_bp) // 10_000
    reasons = [f"cost {unit_cost} + margin {margin_bp / 100:.1f} %"]
    if premium_bp:
        reasons.append(f"scarcity premium {premium_bp / 100:.1f} %: the order takes {share:.0%} of free stock")
    if price > request.max_unit_price:
        if request.max_unit_price < unit_cost:
            return NoBid((f"the buyer's maximum {request.max_unit_price} is below our cost {unit_cost}",))
        price = request.max_unit_price
        reasons.append("capped at the buyer's maximum (margin reduced)")
    return SellerBid(unit_price=max(price, 1), eta_s=eta, reasons=tuple(reasons))
