# SPDX-License-Identifier: Apache-2.0
"""The trading loop example against the sandbox: every cycle's fill and position on the venue."""

from __future__ import annotations

from decimal import Decimal

from examples import trading_loop
from tests.integration.examples.support import SECONDS
from tests.integration.examples.support import SETTINGS
from tests.integration.examples.support import nautilus_client_id
from tests.integration.examples.support import run
from tests.integration.examples.support import venue_record


def test_trading_loop_cycles_match_the_venue() -> None:
    seen = {}

    async def inspect(session, strategy) -> None:
        seen["venue"] = await venue_record(session)
        seen["client_ids"] = {
            c.client_order_id: nautilus_client_id(session, c.client_order_id)
            for c in strategy.cycles
        }
        seen["position"] = strategy.net_position()

    strategy = run(trading_loop.run(SECONDS, SETTINGS, inspect))
    venue = seen["venue"]

    assert not strategy.failures
    checked = [c for c in strategy.cycles if c.checked]
    assert len(checked) >= 2
    # Each checked cycle's fills are the venue's fills of that order, to the unit
    for cycle in checked:
        client_id = seen["client_ids"][cycle.client_order_id]
        filled = Decimal(0)
        for event, order in venue.fills:
            if order.client_id == client_id:
                size = Decimal(event.quantums).scaleb(-10)  # BTC-USD atomic resolution -10
                filled += size if order.side == "BUY" else -size
        assert filled == cycle.filled
        assert cycle.account_free > 0
    # The loop flips between +size and -size: the venue holds what Nautilus holds
    assert venue.position() == seen["position"]
    assert abs(venue.position()) <= Decimal("0.001")
