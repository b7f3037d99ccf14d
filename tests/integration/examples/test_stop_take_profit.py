# SPDX-License-Identifier: Apache-2.0
"""The stop / take-profit example against the sandbox: conditional orders trigger and fill."""

from __future__ import annotations

from examples import stop_take_profit
from tests.integration.examples.support import SECONDS
from tests.integration.examples.support import SETTINGS
from tests.integration.examples.support import nautilus_client_id
from tests.integration.examples.support import run
from tests.integration.examples.support import venue_record


def test_conditional_exits_trigger_and_fill_on_the_venue() -> None:
    seen = {}

    async def inspect(session, strategy) -> None:
        seen["venue"] = await venue_record(session)
        seen["exit_ids"] = {
            nautilus_client_id(session, o.client_order_id): o
            for o in session.cache.orders() if o.order_type.name in (
                "STOP_MARKET", "LIMIT_IF_TOUCHED",
            )
        }
        seen["position"] = strategy.net_position()

    strategy = run(stop_take_profit.run(SECONDS, SETTINGS, inspect))
    venue = seen["venue"]

    # Both exits went to the venue as conditional orders, untriggered at first
    conditional = [e for e in venue.placed if e.order.order_flags == 32]
    kinds = {e.order.condition_type for e in conditional}
    assert kinds == {"CONDITION_TYPE_STOP_LOSS", "CONDITION_TYPE_TAKE_PROFIT"}
    assert all(e.order.reduce_only for e in conditional)
    assert {e.order.client_id for e in conditional} <= set(seen["exit_ids"])

    # At least one triggered and filled on the venue, and Nautilus saw that order fill
    triggered = {e.order.client_id for e in venue.triggered}
    assert triggered
    filled = {o.client_id for _, o in venue.fills if o.order_flags == 32}
    assert filled and filled <= triggered
    for client_id in filled:
        assert seen["exit_ids"][client_id].filled_qty.as_decimal() > 0
    assert strategy.counts["stop-loss fills"] + strategy.counts["take-profit fills"] >= 1
    assert venue.position() == seen["position"]
