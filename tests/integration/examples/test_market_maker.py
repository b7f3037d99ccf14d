# SPDX-License-Identifier: Apache-2.0
"""The market maker example against the sandbox: quotes placed, replaced, canceled and filled."""

from __future__ import annotations

from collections import Counter
from collections import defaultdict

from nautilus_trader.model.events import OrderUpdated

from examples import market_maker
from tests.integration.examples.support import SECONDS
from tests.integration.examples.support import SETTINGS
from tests.integration.examples.support import nautilus_client_id
from tests.integration.examples.support import run
from tests.integration.examples.support import venue_record


def test_market_maker_requotes_by_replacement_and_gets_filled() -> None:
    seen = {}

    async def inspect(session, strategy) -> None:
        seen["venue"] = await venue_record(session)
        seen["position"] = strategy.net_position()
        seen["updated"] = Counter({
            nautilus_client_id(session, o.client_order_id): sum(
                isinstance(e, OrderUpdated) for e in o.events
            )
            for o in session.cache.orders()
        })

    # One replacement per quote, then a cancel: both flows show within the run
    config = market_maker.MarketMakerConfig(max_replacements=1)
    strategy = run(market_maker.run(SECONDS, SETTINGS, inspect, config))
    venue = seen["venue"]

    # Orders placed: short-term quotes on both sides
    short_term = [e for e in venue.placed if e.order.order_flags == 0]
    assert {e.order.side for e in short_term} == {"BUY", "SELL"}
    assert strategy.counts["placed"] == len({e.order.client_id for e in short_term})

    # Replacements: the same client ID placed again with a higher good-til-block, each one an
    # OrderUpdated in Nautilus (a replacement racing the quote's expiry lands as a new placement)
    replaced = Counter(e.order.client_id for e in short_term if e.replaced)
    assert replaced
    assert all(count <= seen["updated"][client_id] for client_id, count in replaced.items())
    blocks = defaultdict(list)
    for event in short_term:
        blocks[event.order.client_id].append(event.order.good_til_block)
    assert all(b == sorted(b) and len(set(b)) == len(b) for b in blocks.values())

    # Cancels: quotes replaced once were canceled on the venue at the user's request
    canceled = {e.order.client_id for e in venue.removed
                if e.removal_reason == "ORDER_REMOVAL_REASON_USER_CANCELED"}
    assert canceled and canceled <= set(blocks)
    assert strategy.counts["cancels sent"] >= len(canceled)

    # Fills: the quotes filled as makers, and the venue's position is Nautilus's
    assert any(order.client_id in blocks and event.maker is order for event, order in venue.fills)
    assert venue.position() == seen["position"]
