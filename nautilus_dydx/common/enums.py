# SPDX-License-Identifier: Apache-2.0
"""Venue enumerations: market status, candle resolutions, and their Nautilus counterparts."""

from __future__ import annotations

from enum import Enum
from enum import unique
from typing import Final

from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AggregationSource
from nautilus_trader.model.enums import BarAggregation
from nautilus_trader.model.enums import MarketStatusAction
from nautilus_trader.model.enums import PriceType


@unique
class DYDXPerpetualMarketStatus(Enum):
    """
    The status of a perpetual market (`/perpetualMarkets`, `v4_markets`).
    """

    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    CANCEL_ONLY = "CANCEL_ONLY"
    POST_ONLY = "POST_ONLY"
    INITIALIZING = "INITIALIZING"
    FINAL_SETTLEMENT = "FINAL_SETTLEMENT"


@unique
class DYDXPerpetualMarketType(Enum):
    """
    The margin mode of a perpetual market.
    """

    CROSS = "CROSS"
    ISOLATED = "ISOLATED"


@unique
class DYDXCandlesResolution(Enum):
    """
    The candle resolutions of the Indexer.
    """

    ONE_MINUTE = "1MIN"
    FIVE_MINUTES = "5MINS"
    FIFTEEN_MINUTES = "15MINS"
    THIRTY_MINUTES = "30MINS"
    ONE_HOUR = "1HOUR"
    FOUR_HOURS = "4HOURS"
    ONE_DAY = "1DAY"


# Why new orders are refused in each non-trading status (None: new orders accepted)
MARKET_STATUS_REASONS: Final[dict[str, str | None]] = {
    "ACTIVE": None,
    "POST_ONLY": None,
    "PAUSED": "market is PAUSED: no order placement, matching or cancellation",
    "CANCEL_ONLY": "market is CANCEL_ONLY: only cancellations are accepted",
    "INITIALIZING": "market is INITIALIZING: not open for trading yet",
    "FINAL_SETTLEMENT": "market is in FINAL_SETTLEMENT: delisted, positions are being closed",
}

# Nautilus status action, is_trading, is_quoting per venue status
MARKET_STATUS_ACTIONS: Final[dict[str, tuple[MarketStatusAction, bool, bool]]] = {
    "ACTIVE": (MarketStatusAction.TRADING, True, True),
    "POST_ONLY": (MarketStatusAction.QUOTING, False, True),
    "PAUSED": (MarketStatusAction.PAUSE, False, False),
    "CANCEL_ONLY": (MarketStatusAction.HALT, False, False),
    "INITIALIZING": (MarketStatusAction.PRE_OPEN, False, False),
    "FINAL_SETTLEMENT": (MarketStatusAction.CLOSE, False, False),
}

# (step, aggregation) -> resolution, and resolution -> bar length in nanoseconds
_RESOLUTIONS: Final[dict[tuple[int, BarAggregation], str]] = {
    (1, BarAggregation.MINUTE): "1MIN",
    (5, BarAggregation.MINUTE): "5MINS",
    (15, BarAggregation.MINUTE): "15MINS",
    (30, BarAggregation.MINUTE): "30MINS",
    (1, BarAggregation.HOUR): "1HOUR",
    (4, BarAggregation.HOUR): "4HOURS",
    (1, BarAggregation.DAY): "1DAY",
}
RESOLUTION_NANOS: Final[dict[str, int]] = {
    "1MIN": 60 * 10**9,
    "5MINS": 300 * 10**9,
    "15MINS": 900 * 10**9,
    "30MINS": 1800 * 10**9,
    "1HOUR": 3600 * 10**9,
    "4HOURS": 4 * 3600 * 10**9,
    "1DAY": 86_400 * 10**9,
}


def bar_type_to_resolution(bar_type: BarType) -> str:
    """
    Return the Indexer candle resolution of `bar_type`.

    Parameters
    ----------
    bar_type : BarType
        An externally aggregated ``LAST`` bar type of 1, 5, 15 or 30 minutes, 1 or 4 hours,
        or 1 day.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If the venue has no such candles, with the reason.

    """
    spec = bar_type.spec
    if bar_type.aggregation_source != AggregationSource.EXTERNAL:
        raise ValueError(f"only EXTERNAL bars come from the venue, was {bar_type}")
    if spec.price_type != PriceType.LAST:
        raise ValueError(
            f"dYdX candles are trade (LAST) prices only, was {bar_type}",
        )
    resolution = _RESOLUTIONS.get((spec.step, spec.aggregation))
    if resolution is None:
        raise ValueError(
            "dYdX has no candles of this step (expected 1/5/15/30-MINUTE, 1/4-HOUR or 1-DAY), "
            f"was {bar_type}",
        )
    return resolution
