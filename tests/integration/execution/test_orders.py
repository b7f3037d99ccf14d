# SPDX-License-Identifier: Apache-2.0
"""Order kinds against the sandbox: accepted, filled, denied and rejected, with exact events."""

from __future__ import annotations

from decimal import Decimal

import grpc

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce

from nautilus_dydx.common.types import DYDXOrderTags
from tests.integration.execution.support import BTC_PERP
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.helpers import Client

SHORT = [DYDXOrderTags(is_short_term_order=True, num_blocks_open=20).value]
STEP = 1_000_000
USD = 100_000


async def bob_order(sandbox, client_id, side, steps, price_usd, tif=0, gtb_ahead=15):
    async with grpc.aio.insecure_channel(sandbox.grpc_endpoint) as channel:
        subticks = int(price_usd) * USD  # BTC-USD: one USD is 100 000 subticks (one tick)
        result = await Client(channel).broadcast(BOB.sign_tx([
            place(K2_ADDRESS, client_id, side, STEP * steps, subticks,
                  gtb=sandbox.node.height + gtb_ahead, tif=tif),
        ]))
        assert result.code == 0, result.raw_log


def test_short_term_gtc_limit_accepted_then_filled_as_maker() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order = node.limit(OrderSide.BUY, "0.002", "60000", tags=SHORT)
            node.strategy.submit_order(order)
            await node.wait(lambda: "OrderAccepted" in node.of(order.client_order_id))
            state = node.client.venue_order(order.client_order_id)
            assert state.order_flags == 0
            await bob_order(sandbox, 1, SELL, 20, 60000, tif=IOC)
            await node.wait(lambda: order.status == OrderStatus.FILLED)
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderFilled",
            ]
            fill = node.kinds(order.client_order_id)[-1]
            assert fill.last_qty == node.cache.instrument(BTC_PERP).make_qty(Decimal("0.002"))
            assert fill.last_px.as_decimal() == Decimal("60000")

    run(scenario())
