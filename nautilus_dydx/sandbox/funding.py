# SPDX-License-Identifier: Apache-2.0
"""Hourly funding on the chain's block clock: seeded premium samples, rates and payments."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from typing import TYPE_CHECKING

from nautilus_dydx.sandbox.events import BalanceEvent
from nautilus_dydx.sandbox.events import FundingEvent
from nautilus_dydx.sandbox.events import PremiumSampleEvent


if TYPE_CHECKING:
    from nautilus_dydx.sandbox.chain import ChainState
    from nautilus_dydx.sandbox.chain import Market


MINUTE_NS = 60_000_000_000
HOUR_NS = 3_600_000_000_000
# The interest component added to the premium, per 8 hours (0.01 %, as on mainnet)
DEFAULT_FUNDING_PPM = 100
# |rate| <= factor × (initial - maintenance margin fraction), as the protocol clamps it
FUNDING_CLAMP_FACTOR_PPM = 6_000_000
# Seeded noise added to each sample so rates are non-zero even on an empty book
_NOISE_LOW_PPM = -60
_NOISE_SPAN_PPM = 241


def sample_noise_ppm(seed: int, ticker: str, minute: int) -> int:
    """
    Return the deterministic premium noise of `ticker` for a minute of block time.

    Parameters
    ----------
    seed : int
        The sandbox seed.
    ticker : str
        The market ticker.
    minute : int
        The block-time minute index (unix seconds // 60).

    Returns
    -------
    int

    """
    digest = hashlib.sha256(f"funding:{seed}:{ticker}:{minute}".encode()).digest()
    return _NOISE_LOW_PPM + int.from_bytes(digest[:8], "big") % _NOISE_SPAN_PPM


def clamp_ppm(market: Market) -> int:
    """
    Return the largest absolute 8-hour funding rate of `market` in ppm.

    Parameters
    ----------
    market : Market
        The market.

    Returns
    -------
    int

    """
    c = market.config
    spread = max(c.initial_margin_ppm - c.maintenance_margin_ppm, 0)
    return spread * FUNDING_CLAMP_FACTOR_PPM // 1_000_000


def predicted_rate_ppm(samples: list[int], clamp: int) -> Fraction:
    """
    Return the 8-hour rate the samples so far predict: their mean plus the interest component.

    Parameters
    ----------
    samples : list[int]
        The premium samples in ppm (empty gives the interest component alone).
    clamp : int
        The largest absolute rate in ppm.

    Returns
    -------
    Fraction

    """
    mean = Fraction(sum(samples), len(samples)) if samples else Fraction(0)
    rate = mean + DEFAULT_FUNDING_PPM
    return max(min(rate, Fraction(clamp)), Fraction(-clamp))


class FundingModel:
    """
    Premium samples every minute and funding payments every hour of block time.

    A sample is the book's mid-to-oracle premium (0 when a side is empty) plus seeded noise.
    At each hour boundary the rate is the rounded mean of the hour's samples plus the interest
    component; every open position pays `size × oracle × rate / 8` (longs pay positive rates),
    rounded against the subaccount to whole quote quantums.

    Parameters
    ----------
    chain : ChainState
        The chain whose subaccounts are charged.

    """

    def __init__(self, chain: ChainState) -> None:
        self.chain = chain
        self.samples: dict[int, list[int]] = {cid: [] for cid in chain.markets}
        self._last_time_ns = chain.time_ns

    def on_block(self, height: int, time_ns: int) -> None:
        """
        Sample premiums when a minute boundary passed and settle funding at an hour boundary.

        Parameters
        ----------
        height : int
            The block height.
        time_ns : int
            The block time.

        """
        previous = self._last_time_ns
        self._last_time_ns = time_ns
        if time_ns // MINUTE_NS != previous // MINUTE_NS:
            self._sample(height, time_ns)
        if time_ns // HOUR_NS != previous // HOUR_NS:
            self._settle(height, time_ns)

    def _sample(self, height: int, time_ns: int) -> None:
        minute = time_ns // MINUTE_NS
        for cid, market in sorted(self.chain.markets.items()):
            premium = self._book_premium_ppm(market)
            premium += sample_noise_ppm(self.chain.config.seed, market.config.ticker, minute)
            clamp = clamp_ppm(market)
            premium = max(min(premium, clamp), -clamp)
            self.samples.setdefault(cid, []).append(premium)
            self.chain.bus.publish(
                PremiumSampleEvent(0, height, time_ns, cid, market.config.ticker, premium),
            )

    @staticmethod
    def _book_premium_ppm(market: Market) -> int:
        bid = market.book.best_price(1)
        ask = market.book.best_price(2)
        if bid is None or ask is None or market.oracle_subticks <= 0:
            return 0
        mid = Fraction(bid + ask, 2)
        premium = (mid - market.oracle_subticks) / market.oracle_subticks * 1_000_000
        return int(premium)

    def rate_ppm(self, clob_pair_id: int) -> int:
        """
        Return the 8-hour rate the current samples of a market give, rounded to whole ppm.

        Parameters
        ----------
        clob_pair_id : int
            The CLOB pair id.

        Returns
        -------
        int

        """
        market = self.chain.markets[clob_pair_id]
        predicted = predicted_rate_ppm(self.samples.get(clob_pair_id, []), clamp_ppm(market))
        return round(predicted)

    def _settle(self, height: int, time_ns: int) -> None:
        chain = self.chain
        charged: dict[tuple[str, int], None] = {}
        for cid, market in sorted(chain.markets.items()):
            rate_ppm = self.rate_ppm(cid)
            self.samples[cid] = []
            chain.bus.publish(
                FundingEvent(0, height, time_ns, cid, market.config.ticker, rate_ppm,
                             market.oracle_price),
            )
            if rate_ppm == 0:
                continue
            exponent = market.config.quantum_conversion_exponent
            for key in sorted(chain.subaccounts):
                sub = chain.subaccounts[key]
                position = sub.positions.get(cid)
                if position is None or position.size == 0:
                    continue
                value = Fraction(position.size * market.oracle_subticks) * Fraction(10) ** exponent
                owed = value * rate_ppm / 8_000_000
                # Rounded against the subaccount: payers pay the ceiling, receivers get the floor
                payment = -(owed.__ceil__())
                sub.usdc += payment
                charged[key] = None
        for key in charged:
            sub = chain.subaccounts[key]
            chain.bus.publish(
                BalanceEvent(0, height, time_ns, sub.owner, sub.number, 0, sub.usdc, "FUNDING"),
            )
