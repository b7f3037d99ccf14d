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


def test_long_term_gtc_limit_accepted_in_a_block_then_canceled() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order = node.limit(OrderSide.BUY, "0.001", "50000")  # No tags: GTC is long-term
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.ACCEPTED)
            state = node.client.venue_order(order.client_order_id)
            assert state.order_flags == 64 and state.good_til_block_time > 0
            node.strategy.cancel_order(order)
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderPendingCancel",
                "OrderCanceled",
            ]
            assert not [o for o in sandbox.node.chain.stateful if o[2] == state.client_id]

    run(scenario())


def test_chain_refusals_are_denied_before_signing() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            sequence = node.client.sender.next_sequence
            cases = {
                "clob 48": node.limit(OrderSide.BUY, "0.001", "50000",
                                      time_in_force=TimeInForce.FOK),
                "DAY": node.limit(OrderSide.BUY, "0.001", "50000",
                                  time_in_force=TimeInForce.DAY),
                "clob 9003": node.limit(OrderSide.SELL, "0.001", "70000", reduce_only=True),
                "clob 3002": node.limit(
                    OrderSide.BUY, "0.001", "50000", time_in_force=TimeInForce.IOC,
                    tags=[DYDXOrderTags(is_short_term_order=False).value],
                ),
            }
            for order in cases.values():
                node.strategy.submit_order(order)
            await node.wait(lambda: all(o.status == OrderStatus.DENIED for o in cases.values()))
            for expected, order in cases.items():
                reason = node.kinds(order.client_order_id)[-1].reason
                assert expected in reason, (expected, reason)
                assert node.of(order.client_order_id) == ["OrderInitialized", "OrderDenied"]
            assert node.client.sender.next_sequence == sequence
            assert not sandbox.node.chain.short_orders and not sandbox.node.chain.stateful

    run(scenario())


def test_closed_market_and_stale_market_price_are_denied() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            sandbox.set_market_status("BTC-USD", "PAUSED")
            await node.wait(lambda: node.client._provider.market_status(BTC_PERP) == "PAUSED")
            paused = node.limit(OrderSide.BUY, "0.001", "50000", tags=SHORT)
            node.strategy.submit_order(paused)
            await node.wait(lambda: paused.status == OrderStatus.DENIED)
            assert "PAUSED" in node.kinds(paused.client_order_id)[-1].reason
            sandbox.set_market_status("BTC-USD", "ACTIVE")
            await node.wait(lambda: node.client._provider.market_status(BTC_PERP) == "ACTIVE")
            node.client._max_price_age_ns = 0  # Every price is now too old
            market = node.strategy.order_factory.market(
                BTC_PERP, OrderSide.BUY,
                node.cache.instrument(BTC_PERP).make_qty(Decimal("0.001")),
            )
            node.strategy.submit_order(market)
            await node.wait(lambda: market.status == OrderStatus.DENIED)
            assert "no oracle price or quote newer than" in node.kinds(
                market.client_order_id)[-1].reason

    run(scenario())


def test_post_only_crossing_is_rejected_with_the_chain_code() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            await bob_order(sandbox, 1, SELL, 10, 64000)
            order = node.limit(OrderSide.BUY, "0.001", "64500", post_only=True, tags=SHORT)
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.REJECTED)
            rejected = node.kinds(order.client_order_id)[-1]
            assert rejected.reason.startswith("clob 2003: ")
            assert rejected.due_post_only
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderRejected",
            ]

    run(scenario())


def test_market_order_partially_filled_then_remainder_canceled() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            await bob_order(sandbox, 1, SELL, 10, 65500)  # 0.001 at 65 500 (oracle 65 000)
            await bob_order(sandbox, 2, SELL, 10, 69000)  # Beyond the 5 % worst price
            market = node.strategy.order_factory.market(
                BTC_PERP, OrderSide.BUY,
                node.cache.instrument(BTC_PERP).make_qty(Decimal("0.003")),
            )
            node.strategy.submit_order(market)
            await node.wait(lambda: market.status == OrderStatus.CANCELED)
            assert node.of(market.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderFilled",
                "OrderCanceled",
            ]
            fill = node.kinds(market.client_order_id)[3]
            assert fill.last_px.as_decimal() == Decimal("65500")
            assert fill.last_qty.as_decimal() == Decimal("0.001")
            assert fill.liquidity_side.name == "TAKER"
            assert market.filled_qty.as_decimal() == Decimal("0.001")

    run(scenario())


def test_short_term_order_expires_after_its_good_til_block() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            tags = [DYDXOrderTags(is_short_term_order=True, num_blocks_open=3).value]
            order = node.limit(OrderSide.BUY, "0.001", "50000", tags=tags)
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.EXPIRED)
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderExpired",
            ]

    run(scenario())


def test_chain_rejection_the_client_could_not_foresee_keeps_code_and_log() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            # The chain stops the market; the Indexer has not told anyone yet
            sandbox.node.set_market_status("BTC-USD", "CANCEL_ONLY")
            sequence = node.client.sender.next_sequence
            orders = [
                node.limit(OrderSide.BUY, "0.001", "50000", tags=SHORT),
                node.limit(OrderSide.BUY, "0.001", "50000"),  # Long-term
            ]
            for order in orders:
                node.strategy.submit_order(order)
            await node.wait(lambda: all(o.status == OrderStatus.REJECTED for o in orders))
            for order in orders:
                reason = node.kinds(order.client_order_id)[-1].reason
                assert reason.startswith("clob 34: ") and len(reason) > len("clob 34: ")
                assert node.of(order.client_order_id) == [
                    "OrderInitialized", "OrderSubmitted", "OrderRejected",
                ]
            assert node.client.sender.next_sequence == sequence  # Nothing consumed

    run(scenario())
