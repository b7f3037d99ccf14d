# SPDX-License-Identifier: Apache-2.0
"""Cancels that reach the client before their order's submit (the risk engine queues submits,
cancels go straight to the execution engine): the order is canceled and never placed."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TriggerType

from tests.integration.execution.support import BTC_PERP
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_lifecycle import alice_stateful
from tests.integration.sandbox.helpers import K1_ADDRESS


def _stop(node, trigger: str):
    instrument = node.cache.instrument(BTC_PERP)
    return node.strategy.order_factory.stop_market(
        BTC_PERP, OrderSide.BUY, instrument.make_qty(Decimal("0.001")),
        trigger_price=instrument.make_price(Decimal(trigger)),
        trigger_type=TriggerType.DEFAULT, time_in_force=TimeInForce.GTC,
    )


async def _venue_client_ids(node) -> list[int]:
    # Every order the Indexer ever saw for the account, canceled ones included
    return [int(o.client_id) async for o in node.client._http.iter_orders(K1_ADDRESS, 0)]


async def _blocks_pass(node, sandbox, count: int) -> None:
    chain = sandbox.node.chain
    target = chain.height + count
    await node.wait(lambda: chain.height >= target)


def test_a_cancel_sent_with_the_submit_cancels_the_order_without_placing_it() -> None:
    async def scenario() -> None:
        async with venue(block_time_ms=200) as sandbox, trading_node(sandbox) as node:
            orders = [
                node.limit(OrderSide.BUY, "0.001", "49000"),  # Long-term (GTC)
                node.limit(OrderSide.BUY, "0.001", "48000", time_in_force=TimeInForce.IOC),
                _stop(node, "90000"),
            ]
            for order in orders:
                node.strategy.submit_order(order)
                node.strategy.cancel_order(order)
            await node.wait(lambda: all(o.status == OrderStatus.CANCELED for o in orders))
            await _blocks_pass(node, sandbox, 3)
            for order in orders:
                assert node.of(order.client_order_id) == ["OrderInitialized", "OrderCanceled"]
                assert node.client.venue_order(order.client_order_id) is None
            assert await _venue_client_ids(node) == []
            assert alice_stateful(sandbox) == set()
            # A later order on the same client still goes through
            later = await node.accepted_limit(OrderSide.BUY, "0.001", "47000")
            assert len(await _venue_client_ids(node)) == 1

    run(scenario())


def test_cancel_all_takes_orders_whose_submit_is_still_queued_but_not_newer_ones() -> None:
    async def scenario() -> None:
        async with venue(block_time_ms=200) as sandbox, trading_node(sandbox) as node:
            resting = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            queued = [_stop(node, "90000"), node.limit(OrderSide.BUY, "0.001", "49000")]
            for order in queued:
                node.strategy.submit_order(order)
            node.strategy.cancel_all_orders(BTC_PERP)
            newer = node.limit(OrderSide.BUY, "0.001", "48000")  # Created after the command
            node.strategy.submit_order(newer)
            await node.wait(lambda: all(o.is_closed for o in (resting, *queued)))
            await node.wait(lambda: newer.status == OrderStatus.ACCEPTED)
            assert resting.status == OrderStatus.CANCELED
            for order in queued:
                assert node.of(order.client_order_id) == ["OrderInitialized", "OrderCanceled"]
            await _blocks_pass(node, sandbox, 3)
            assert alice_stateful(sandbox) == {
                node.client.venue_order(newer.client_order_id).client_id,
            }
            assert newer.status == OrderStatus.ACCEPTED

    run(scenario())
