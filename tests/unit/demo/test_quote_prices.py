# SPDX-License-Identifier: Apache-2.0
"""Quote pricing of the demo strategy and the market maker example: inside, never self-crossing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from examples.market_maker import quote_prices as example_quote_prices
from nautilus_dydx.demo.strategy import quote_prices


D = Decimal
TICK = D(1)


@pytest.mark.parametrize("prices", [quote_prices, example_quote_prices])
@pytest.mark.parametrize(
    ("best_bid", "best_ask", "own_bid", "own_ask", "expected"),
    [
        (D(100), D(105), None, None, (D(101), D(104))),  # Improve both sides by a tick
        (D(100), D(102), None, None, (D(101), D(102))),  # Two ticks: bid at the mid, join ask
        (D(100), D(101), None, None, (D(100), D(101))),  # One tick: join both sides
        (D(101), D(105), D(101), None, (D(101), D(104))),  # Our bid is best: do not chase it
        (D(101), D(102), D(101), D(102), (D(101), D(102))),  # Both ours: stay
    ],
)
def test_quotes_sit_inside_the_spread_without_crossing(
    prices, best_bid, best_ask, own_bid, own_ask, expected,
) -> None:
    bid, ask = prices(best_bid, best_ask, TICK, own_bid, own_ask)
    assert (bid, ask) == expected
    assert best_bid <= bid < ask <= best_ask
