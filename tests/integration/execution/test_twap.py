# SPDX-License-Identifier: Apache-2.0
"""Native TWAP orders through the execution client: suborder fills are the order's fills."""

from __future__ import annotations

from decimal import Decimal

import grpc
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus

from nautilus_dydx.execution_twap import DYDXTwapTags
from tests.integration.execution.support import BTC_PERP
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import Client
from tests.integration.sandbox.helpers import place


def test_market_twap_fills_once_per_interval_then_completes() -> None:
    async def scenario() -> None:
        # One-second blocks on demand: 300 s of TWAP in 300 steps
        async with venue(auto_blocks=False, block_time_ms=1000) as sandbox, trading_node(
            sandbox,
        ) as node:
            gtbt = sandbox.node.block_time_ns // 1_000_000_000 + 3600
            async with grpc.aio.insecure_channel(sandbox.grpc_endpoint) as channel:
                ask = await Client(channel).broadcast(BOB.sign_tx([place(
                    K2_ADDRESS, 1, SELL, 100 * 1_000_000, 6_500_000_000, gtbt=gtbt,
                    flags=LONG_TERM,
                )]))
                assert ask.code == 0, ask.raw_log
            sandbox.node.step_blocks(1)
            tags = DYDXTwapTags(duration_secs=300, interval_secs=30, price_tolerance_ppm=12_345)
            order = node.strategy.order_factory.market(
                BTC_PERP, OrderSide.BUY,
                node.cache.instrument(BTC_PERP).make_qty(Decimal("0.001")), tags=[tags.value],
            )
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.SUBMITTED)
            await node.wait(lambda: node.client.metrics.percentiles()["broadcast"]["count"] == 1)
            for _ in range(31):
                sandbox.node.step_blocks(10)
                await node.wait(lambda: node.client.tracker.height == sandbox.node.height)
            await node.wait(lambda: order.status == OrderStatus.FILLED)
            fills = node.kinds(order.client_order_id)[3:]
            assert node.of(order.client_order_id)[:3] == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted",
            ]
            assert [type(f).__name__ for f in fills] == ["OrderFilled"] * 10
            assert {f.last_qty.as_decimal() for f in fills} == {Decimal("0.0001")}
            assert {f.last_px.as_decimal() for f in fills} == {Decimal("65000")}

    run(scenario(), timeout=120)


def test_invalid_twap_parameters_are_denied() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            instrument = node.cache.instrument(BTC_PERP)
            bad = [
                DYDXTwapTags(duration_secs=300, interval_secs=29),
                DYDXTwapTags(duration_secs=310, interval_secs=30),
                DYDXTwapTags(duration_secs=300, interval_secs=30, price_tolerance_ppm=10**6),
            ]
            orders = [
                node.strategy.order_factory.limit(
                    BTC_PERP, OrderSide.BUY, instrument.make_qty(Decimal("0.001")),
                    instrument.make_price(Decimal(60000)), tags=[tags.value],
                )
                for tags in bad
            ]
            for order in orders:
                node.strategy.submit_order(order)
            await node.wait(lambda: all(o.status == OrderStatus.DENIED for o in orders))
            assert all(
                node.kinds(o.client_order_id)[-1].reason.startswith("clob 12: TWAP")
                for o in orders
            )
            assert not sandbox.node.chain.stateful

    run(scenario())


def test_malformed_tags_deny_the_order_and_the_next_order_still_goes() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            instrument = node.cache.instrument(BTC_PERP)
            factory = node.strategy.order_factory

            def limit(tags: list[str] | None):
                return factory.limit(
                    BTC_PERP, OrderSide.BUY, instrument.make_qty(Decimal("0.001")),
                    instrument.make_price(Decimal(60000)), tags=tags,
                )

            bad = [
                limit(['DYDXTwapTags:{"duration_secs": "five minutes"}']),
                limit(["DYDXTwapTags:{not json"]),
                limit(["DYDXOrderTags:{not json"]),
            ]
            good = limit(None)
            for order in [*bad, good]:
                node.strategy.submit_order(order)
            await node.wait(lambda: all(o.status == OrderStatus.DENIED for o in bad))
            await node.wait(lambda: good.status == OrderStatus.ACCEPTED)
            for order in bad:
                assert node.of(order.client_order_id) == ["OrderInitialized", "OrderDenied"]
                assert node.kinds(order.client_order_id)[-1].reason.startswith(
                    "invalid order tags: ",
                )

    run(scenario())


def test_limit_twap_is_canceled_like_a_stateful_order() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            instrument = node.cache.instrument(BTC_PERP)
            tags = DYDXTwapTags(duration_secs=600, interval_secs=60)
            order = node.strategy.order_factory.limit(
                BTC_PERP, OrderSide.BUY, instrument.make_qty(Decimal("0.001")),
                instrument.make_price(Decimal(60000)), tags=[tags.value],
            )
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.ACCEPTED)
            assert node.client.venue_order(order.client_order_id).order_flags == 128
            flags = [k[3] for k in sandbox.node.chain.stateful]  # (owner, n, id, flags, clob)
            assert flags == [128, 256]  # The order and its first suborder (resting below)
            node.strategy.cancel_order(order)
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            await node.wait(lambda: 128 not in [k[3] for k in sandbox.node.chain.stateful])
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderPendingCancel",
                "OrderCanceled",
            ]

    run(scenario())
