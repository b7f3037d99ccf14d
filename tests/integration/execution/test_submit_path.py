# SPDX-License-Identifier: Apache-2.0
"""The submit path: signed inside `submit_order`, and the fast plan equal to the general one."""

from __future__ import annotations

import itertools

from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce

from nautilus_dydx.common.types import DYDXOrderTags
from nautilus_dydx.execution import parse_order_tags
from nautilus_dydx.order_errors import OrderRefused
from nautilus_dydx.order_kinds import OrderPlan
from nautilus_dydx.order_kinds import fields_from_order
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue


SHORT = [DYDXOrderTags(is_short_term_order=True, num_blocks_open=20).value]
SHORT_FIVE = [DYDXOrderTags(is_short_term_order=True, num_blocks_open=5).value]
LONG = [DYDXOrderTags(is_short_term_order=False).value]


def _command(node, order) -> SubmitOrder:
    node.cache.add_order(order)
    return SubmitOrder(
        trader_id=node.strategy.trader_id, strategy_id=node.strategy.id, order=order,
        command_id=UUID4(), ts_init=0,
    )


def test_short_term_order_is_signed_and_registered_before_submit_order_returns() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            client = node.client
            order = node.limit(OrderSide.BUY, "0.001", "50000", post_only=True, tags=SHORT)
            client.submit_order(_command(node, order))
            # No await since the call: the transaction is already signed
            assert client.metrics.percentiles()["signed"]["count"] == 1
            state = client.venue_order(order.client_order_id)
            assert state is not None and state.order_flags == 0
            assert state.good_til_block == client.tracker.height + 20
            await node.wait(lambda: order.status == OrderStatus.ACCEPTED)
            assert node.of(order.client_order_id)[:2] == ["OrderSubmitted", "OrderAccepted"]

    run(scenario())


def test_stateful_order_is_registered_in_submit_order_and_sent_by_its_task() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            client = node.client
            order = node.limit(OrderSide.BUY, "0.001", "50000")  # GTC: long-term
            client.submit_order(_command(node, order))
            state = client.venue_order(order.client_order_id)
            assert state is not None and state.order_flags == 64
            assert client.metrics.percentiles()["signed"]["count"] == 0
            await node.wait(lambda: order.status == OrderStatus.ACCEPTED)
            assert node.of(order.client_order_id)[:2] == ["OrderSubmitted", "OrderAccepted"]

    run(scenario())


def test_denied_order_in_submit_order_sends_nothing() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            client = node.client
            order = node.limit(
                OrderSide.BUY, "0.001", "50000", post_only=True, reduce_only=True, tags=SHORT,
            )
            client.submit_order(_command(node, order))
            assert client.venue_order(order.client_order_id) is None
            await node.wait(lambda: order.status == OrderStatus.DENIED)
            assert "9003" in node.kinds(order.client_order_id)[-1].reason

    run(scenario())


def test_fast_plan_and_bytes_equal_the_general_path_for_limit_orders() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            client = node.client
            frozen_ns = client.tracker.chain_time_ns()
            client.tracker.chain_time_ns = lambda: frozen_ns  # One clock for both paths
            checked = 0
            cases = itertools.product(
                (OrderSide.BUY, OrderSide.SELL),
                (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.GTD),
                (False, True),  # Post-only
                (False, True),  # Reduce-only
                (None, SHORT, SHORT_FIVE, LONG),
                (False, True),  # gtc_short_term
            )
            for side, tif, post_only, reduce_only, tags, gtc_short_term in cases:
                client._gtc_short_term = gtc_short_term
                kwargs = {"expire_time": None}
                if tif == TimeInForce.GTD:
                    kwargs["expire_time"] = client._clock.utc_now().replace(year=2099)
                order = node.limit(
                    side, "0.001", "50000", time_in_force=tif, post_only=post_only,
                    reduce_only=reduce_only, tags=tags, **kwargs,
                )
                parsed = parse_order_tags(order)
                kinds = client._kind_config(parsed)
                fast = client._fast_plan(order, parsed, kinds)
                try:
                    general = client._plan(order, fields_from_order(order), parsed, kinds)
                except OrderRefused:
                    general = None
                if fast is None:
                    # GTD, or a refusal: left to the general path
                    assert general is None or tif == TimeInForce.GTD
                    continue
                assert OrderPlan(*fast) == general, (side, tif, post_only, reduce_only, tags)
                prepared_fast = client._prepare(order, 1)
                general_only = client._fast_plan
                client._fast_plan = lambda *args: None
                try:
                    prepared_general = client._prepare(order, 1)
                finally:
                    client._fast_plan = general_only
                assert prepared_fast == prepared_general
                checked += 1
            # Every GTC/IOC case the general path accepts takes the fast path
            assert checked == 56  # GTC: 2*4*2*2 without reduce-only; IOC: 2*3*2*2
            checked = 0
            instrument = node.cache.instrument(order.instrument_id)
            factory = node.strategy.order_factory
            cases = itertools.product(
                (factory.stop_limit, factory.limit_if_touched),
                (OrderSide.BUY, OrderSide.SELL),
                (TimeInForce.GTC, TimeInForce.IOC),
                (False, True),  # Post-only
                (False, True),  # Reduce-only
                (None, SHORT, LONG),
            )
            for make, side, tif, post_only, reduce_only, tags in cases:
                order = make(
                    order.instrument_id, side, instrument.make_qty(0.001),
                    instrument.make_price(50_000), instrument.make_price(51_000),
                    time_in_force=tif, post_only=post_only, reduce_only=reduce_only, tags=tags,
                )
                parsed = parse_order_tags(order)
                kinds = client._kind_config(parsed)
                fast = client._fast_plan(order, parsed, kinds)
                try:
                    general = client._plan(order, fields_from_order(order), parsed, kinds)
                except OrderRefused:
                    general = None
                if fast is None:
                    assert general is None
                    continue
                assert OrderPlan(*fast) == general, (side, tif, post_only, reduce_only, tags)
                checked += 1
            # GTC: 2*2*2*3 without reduce-only; IOC: 2*2*2*2 (no post-only, no long-term tag)
            assert checked == 40

    run(scenario())
