# SPDX-License-Identifier: Apache-2.0
"""Nautilus's purges on a node trading dYdX: a flat position purged first breaks nothing."""

from __future__ import annotations

from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce

from nautilus_dydx.common.purge_guard import TASK_NAME
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_orders import bob_order
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import SELL


MINUTE = 60_000_000_000
PURGING = LiveExecEngineConfig(
    reconciliation=False,
    purge_closed_orders_interval_mins=1, purge_closed_orders_buffer_mins=1,
    purge_closed_positions_interval_mins=1, purge_closed_positions_buffer_mins=0,
)


def test_a_round_trip_purged_as_configured_leaves_an_empty_cache() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox, engine_config=PURGING) as node:
            engine = node.engines[0]
            guard = node.client.purge_guard
            assert guard is not None
            assert engine._purge_closed_positions_task.get_name() == TASK_NAME
            orders = []
            for side, bob_side, price in ((OrderSide.BUY, SELL, "60000"),
                                          (OrderSide.SELL, BUY, "59000")):
                await bob_order(sandbox, len(orders) + 1, bob_side, 10, int(price))
                order = node.limit(side, "0.001", price, time_in_force=TimeInForce.IOC)
                node.strategy.submit_order(order)
                await node.wait(lambda o=order: o.status == OrderStatus.FILLED)
                orders.append(order)
            position_id = orders[0].position_id
            await node.wait(lambda: node.cache.position(position_id) is not None
                            and node.cache.position(position_id).is_closed)
            # The engine's two loops a minute apart, in the order that broke Nautilus's
            now = node.cache.position(position_id).ts_closed
            guard.purge_positions(now + MINUTE // 2, 0)
            assert node.cache.position(position_id) is None
            node.cache.purge_closed_orders(now + 2 * MINUTE, 60)
            assert node.cache.orders() == []
            assert guard.restored == 1
        assert engine._purge_closed_positions_task is None  # Cancelled by the engine's stop

    run(scenario())
