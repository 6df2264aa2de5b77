"""The retailer: sells to shoppers from its shelf (its `demand_profiles`) and orders from wholesalers when the
shelf stock runs low.

Sales are booked per period, anchored to absolute time (period k covers [k * period_s, (k + 1) * period_s)),
once the period is over on the chain's clock; a period's booking is one idempotent stock movement, so a
restart neither repeats nor skips sales. What shoppers asked for, sold or not, is the retailer's demand history
(the forecast's input); what the shelf could not serve is kept as a lost sale.
"""

from __future__ import annotations

import logging
import zlib

import numpy as np

from ..config import DemandProfileConfig
from .buying import GoodsBuyer

log = logging.getLogger("asc.agents.retailer")

DAY_S = 86_400
# A retailer that was down books what it missed, up to this many periods per round (the rest next round).
MAX_PERIODS_PER_ROUND = 24 * 7


def units_asked(profile: DemandProfileConfig, period: int) -> int:
    """Units shoppers ask for in `period` (deterministic in the profile's seed, the product and the period)."""
    start_s = period * profile.period_s
    weights = profile.hourly_weights
    hour_weight = weights[(start_s // 3600) % 24] * 24 / sum(weights)
    rate = profile.mean_per_day * profile.period_s / DAY_S * hour_weight
    product_key = zlib.crc32(profile.product.encode())
    if profile.noise_cv > 0:
        # One level per day: a busy day is busy all day (shape 1/cv^2 gives a gamma of mean 1, that cv).
        day_rng = np.random.default_rng([profile.seed, product_key, start_s // DAY_S, 1])
        shape = 1 / profile.noise_cv**2
        rate *= float(day_rng.gamma(shape, 1 / shape))
    rng = np.random.default_rng([profile.seed, product_key, period, 0])
    return int(rng.poisson(rate))


class RetailerRole(GoodsBuyer):
    seller_roles = 2  # calls wholesalers

    def act(self, now_s: int) -> None:
        for profile in self.cfg.demand_profiles:
            self._sell(profile, now_s)

    def _sell(self, profile: DemandProfileConfig, now_s: int) -> None:
        clock = self.state.fact("shelf", profile.product)
        if clock is None:  # the first period starts at the first round: no sales before the shop opened
            clock = {"next": -(-now_s // profile.period_s)}
            self.state.put_fact("shelf", profile.product, clock)
        period = int(clock["next"])
        booked = 0
        while (period + 1) * profile.period_s <= now_s and booked < MAX_PERIODS_PER_ROUND:
            self._book(profile, period)
            period += 1
            booked += 1
            self.state.put_fact("shelf", profile.product, {"next": period})

    def _book(self, profile: DemandProfileConfig, period: int) -> None:
        product = profile.product
        ref = f"sale:{product}:{period}"
        booking = self.state.fact("sale_booking", ref)
        if booking is None:  # decided once: a restart between here and the movement books the same numbers
            asked = units_asked(profile, period)
            booking = {"asked": asked, "sold": min(asked, max(0, self.state.available(product)))}
            self.state.put_fact("sale_booking", ref, booking)
        asked, sold = int(booking["asked"]), int(booking["sold"])
        if sold:
            self.state.move(ref, product, -sold, "sold")
        at_ms = period * profile.period_s * 1000
        if asked:
            self.state.put_fact("demand", ref, {"product": product, "quantity": asked, "t_ms": at_ms})
        if asked > sold:
            self.state.put_fact("lost_sale", ref, {"product": product, "quantity": asked - sold, "t_ms": at_ms})
            log.info("%s: shoppers asked for %d %s, the shelf had %d", self.cfg.name, asked, product, sold)
