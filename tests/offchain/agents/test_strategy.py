"""The strategies are pure: the same inputs give the same decision, with reasons."""

from __future__ import annotations

from offchain.agents.strategy.buyer import (
    ConstantPolicy,
    RevealedBid,
    RiskAssessment,
    SlaRecord,
    SlaRecordRisk,
    choose_award,
    should_reorder,
)
from offchain.agents.strategy.carrier import CarrierBid, DeliveryRequest, Tariff, carrier_bid
from offchain.agents.strategy.carrier import NoBid as NoCarrierBid
from offchain.agents.strategy.seller import GoodsRequest, NoBid, SellerBid, seller_bid
from offchain.agents.world import RoutePlan, VehicleView

NOW = 1_800_000_000
UNIT = 10**6


def _goods(quantity: int = 100, max_price: int = 60 * UNIT) -> GoodsRequest:
    return GoodsRequest(1, "beef", quantity, max_price, NOW + 48 * 3600)


def _sell(request: GoodsRequest, available: int = 1000, **kw: int) -> SellerBid | NoBid:
    args = {"unit_cost": 40 * UNIT, "margin_bp": 1500, "capacity": 1000, "lead_time_s": 12 * 3600} | kw
    return seller_bid(request, available=available, now_s=NOW, **args)


def test_seller_bids_cost_plus_margin_with_plenty_of_stock() -> None:
    bid = _sell(_goods())
    assert isinstance(bid, SellerBid) and bid.unit_price == 46 * UNIT and bid.eta_s == NOW + 12 * 3600


def test_seller_adds_a_scarcity_premium_when_the_order_takes_most_of_its_stock() -> None:
    bid = _sell(_goods(quantity=100), available=100)
    assert isinstance(bid, SellerBid) and bid.unit_price == 40 * UNIT * (10_000 + 1500 + 750) // 10_000


def test_seller_does_not_bid_beyond_its_stock() -> None:
    assert isinstance(_sell(_goods(quantity=101), available=100), NoBid)


def test_seller_does_not_bid_beyond_its_capacity() -> None:
    assert isinstance(_sell(_goods(quantity=100), capacity=50), NoBid)


def test_seller_caps_at_the_buyers_maximum_and_never_sells_below_cost() -> None:
    capped = _sell(_goods(max_price=42 * UNIT))
    assert isinstance(capped, SellerBid) and capped.unit_price == 42 * UNIT
    assert isinstance(_sell(_goods(max_price=39 * UNIT)), NoBid)


def test_seller_does_not_promise_after_the_deadline() -> None:
    assert isinstance(_sell(_goods(), lead_time_s=49 * 3600), NoBid)


def _truck(vid: str, *, status: str = "idle", reefer_ok: bool = True, capacity: int = 12_000) -> VehicleView:
    return VehicleView(vid, "c", status, "a", 0, 0, None, (), reefer_ok, capacity)  # type: ignore[arg-type]


def _plan(distance_m: int, duration_ms: int) -> RoutePlan:
    return RoutePlan("x", "y", distance_m, duration_ms, ("x", "y"))


DELIVERY = DeliveryRequest(2, 100, 1000, "a", "b", 5 * UNIT, NOW + 48 * 3600, needs_reefer=True)
TARIFF = Tariff(price_per_unit_km=30_000, min_unit_price=500_000, eta_slack_s=3600)


def test_carrier_picks_the_truck_that_arrives_first_and_prices_by_distance() -> None:
    trucks = [_truck("near"), _truck("far")]
    approach = {"near": _plan(2_000, 120_000), "far": _plan(30_000, 1_800_000)}
    bid = carrier_bid(DELIVERY, trucks, approach, _plan(20_000, 1_000_000), TARIFF, NOW)
    assert isinstance(bid, CarrierBid) and bid.vehicle_id == "near"
    assert bid.unit_price == (30_000 * (20 + 1))  # 20 km loaded + half of 2 km empty
    assert bid.eta_s == NOW + (120_000 + 1_000_000) // 1000 + TARIFF.loading_s + 3600


def test_carrier_skips_a_truck_with_a_failed_reefer_for_chilled_goods() -> None:
    trucks = [_truck("broken", reefer_ok=False), _truck("ok")]
    approach = {"broken": _plan(0, 0), "ok": _plan(50_000, 3_000_000)}
    bid = carrier_bid(DELIVERY, trucks, approach, _plan(20_000, 1_000_000), TARIFF, NOW)
    assert isinstance(bid, CarrierBid) and bid.vehicle_id == "ok"


def test_carrier_does_not_bid_when_every_truck_is_busy() -> None:
    trucks = [_truck("t", status="in_transit")]
    bid = carrier_bid(DELIVERY, trucks, {"t": _plan(0, 0)}, _plan(20_000, 1_000_000), TARIFF, NOW)
    assert isinstance(bid, NoCarrierBid) and "busy" in bid.reasons[0]


def test_carrier_does_not_bid_above_the_maximum_price() -> None:
    bid = carrier_bid(DELIVERY, [_truck("t")], {"t": _plan(0, 0)}, _plan(400_000, 1_000_000), TARIFF, NOW)
    assert isinstance(bid, NoCarrierBid)


def test_carrier_does_not_bid_when_too_small() -> None:
    bid = carrier_bid(DELIVERY, [_truck("t", capacity=500)], {"t": _plan(0, 0)}, _plan(1, 1), TARIFF, NOW)
    assert isinstance(bid, NoCarrierBid)


class _Risk:
    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def assess(self, address: str) -> RiskAssessment:
        return RiskAssessment(self.scores.get(address, 0.0), ("test",))


def test_buyer_awards_the_cheapest_of_equal_bidders() -> None:
    bids = [RevealedBid("0xA", 50, NOW + 3600), RevealedBid("0xB", 48, NOW + 3600)]
    decision = choose_award(bids, now_s=NOW, deadline_s=NOW + 48 * 3600, risk=_Risk({}))
    assert decision.winner is not None and decision.winner.bidder == "0xB"


def test_buyer_does_not_award_on_price_alone_a_risky_bidder_loses() -> None:
    bids = [RevealedBid("0xRisky", 48, NOW + 3600), RevealedBid("0xSafe", 50, NOW + 3600)]
    decision = choose_award(bids, now_s=NOW, deadline_s=NOW + 48 * 3600, risk=_Risk({"0xRisky": 0.9}))
    assert decision.winner is not None and decision.winner.bidder == "0xSafe"
    assert any("preferred over the cheapest" in r for r in decision.reasons)


def test_buyer_ranks_a_late_bid_last() -> None:
    bids = [RevealedBid("0xLate", 10, NOW + 50 * 3600), RevealedBid("0xOnTime", 50, NOW + 3600)]
    decision = choose_award(bids, now_s=NOW, deadline_s=NOW + 48 * 3600, risk=_Risk({}))
    assert decision.winner is not None and decision.winner.bidder == "0xOnTime"


def test_buyer_has_no_winner_without_bids() -> None:
    assert choose_award([], now_s=NOW, deadline_s=NOW + 1, risk=_Risk({})).winner is None


def test_sla_record_risk_grows_with_penalised_jobs() -> None:
    risk = SlaRecordRisk({"0xBad": SlaRecord(jobs=4, penalties=3), "0xGood": SlaRecord(jobs=4)})
    assert risk.assess("0xBad").score > risk.assess("0xNew").score > risk.assess("0xGood").score


def test_reorder_below_the_point_counts_what_is_on_order() -> None:
    policy = ConstantPolicy(50, 100).policy("beef", [], 0)
    assert should_reorder(20, 0, policy) == 100
    assert should_reorder(20, 100, policy) == 0
    assert should_reorder(0, 0, ConstantPolicy(150, 100).policy("beef", [], 0)) == 150
