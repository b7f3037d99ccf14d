# SPDX-License-Identifier: Apache-2.0
"""Lost broadcast answers, restarts with reconciliation, and cancel-all of pre-restart orders."""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal

from nautilus_trader.cache.cache import Cache
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus

from nautilus_dydx.common.types import DYDXOrderTags
from tests.integration.execution.support import BTC_PERP
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_lifecycle import alice_short
from tests.integration.execution.test_lifecycle import alice_stateful
from tests.integration.execution.test_orders import SHORT
from tests.integration.execution.test_orders import bob_order
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.transport.support import http_client
from tests.integration.sandbox.helpers import SELL
from tests.integration.transport.test_grpc_sender import DropAnswers


class LoseBeforeExecuting(DropAnswers):
    """Fail BroadcastTx before the node sees it while armed: the client cannot tell."""

    async def intercept_service(self, continuation, handler_call_details):
        import grpc

        handler = await continuation(handler_call_details)
        if handler is None or "BroadcastTx" not in handler_call_details.method:
            return handler
        inner = handler.unary_unary

        async def behaviour(request, context):
            self.calls += 1
            if self.armed:
                self.armed -= 1
                await context.abort(grpc.StatusCode.UNAVAILABLE, "connection lost")
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def test_lost_answers_are_resolved_from_the_venue_without_sending_twice() -> None:
    async def scenario() -> None:
        dropper = DropAnswers()
        async with venue(interceptors=[dropper]) as sandbox, trading_node(sandbox) as node:
            dropper.armed = 1
            short = await node.accepted_limit(OrderSide.BUY, "0.001", "60000", tags=SHORT)
            state = node.client.venue_order(short.client_order_id)
            # The stream's acceptance can come before the lost broadcast's error is back
            await node.wait(lambda: state.unknown_txhash is not None)
            assert dropper.calls == 1 and set(alice_short(sandbox)) == {state.client_id}

            dropper.armed = 1
            stateful = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            assert dropper.calls == 2
            stateful_id = node.client.venue_order(stateful.client_order_id).client_id
            assert alice_stateful(sandbox) == {stateful_id}
            assert node.of(stateful.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted",
            ]

    run(scenario())


def test_a_lost_order_is_rejected_once_its_good_til_block_passed() -> None:
    async def scenario() -> None:
        dropper = LoseBeforeExecuting()
        async with venue(interceptors=[dropper]) as sandbox, trading_node(sandbox) as node:
            dropper.armed = 1
            tags = [DYDXOrderTags(is_short_term_order=True, num_blocks_open=5).value]
            order = node.limit(OrderSide.BUY, "0.001", "60000", tags=tags)
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.REJECTED)
            assert dropper.calls == 1 and not alice_short(sandbox)
            assert "never reached the venue" in node.kinds(order.client_order_id)[-1].reason

    run(scenario())


def test_restart_reconciles_to_the_venue_then_cancel_all_clears_it() -> None:
    async def scenario() -> None:
        state_dir = tempfile.TemporaryDirectory()
        async with venue() as sandbox:
            async with trading_node(sandbox, state_dir=state_dir.name) as node:
                resting = node.limit(OrderSide.BUY, "0.001", "50000")
                partial = node.limit(OrderSide.BUY, "0.002", "60000")
                filled = node.limit(OrderSide.BUY, "0.001", "61000")
                for order in (resting, partial, filled):
                    node.strategy.submit_order(order)
                await node.wait(lambda: all(
                    o.status == OrderStatus.ACCEPTED for o in (resting, partial, filled)
                ))
                await bob_order(sandbox, 1, SELL, 20, 60000, tif=IOC)  # 61 000 x1, 60 000 x1
                await node.wait(lambda: filled.status == OrderStatus.FILLED and (
                    partial.status == OrderStatus.PARTIALLY_FILLED
                ))
                ids = {o.client_order_id for o in (resting, partial, filled)}
            # While the node is down, the partly filled order fills by another 0.0005
            await bob_order(sandbox, 2, SELL, 5, 60000, tif=IOC)
            async with http_client(sandbox) as http:
                for _ in range(200):  # Until the Indexer has it too (three fills in all)
                    if len((await http.get_fills(K1_ADDRESS, 0)).fills) == 3:
                        break
                    await asyncio.sleep(0.02)
            # A new node with an empty cache and no database: only the state directory
            async with trading_node(
                sandbox, state_dir=state_dir.name, reconcile=True, cache=Cache(),
            ) as restarted:
                cache = restarted.cache
                assert {o.client_order_id for o in cache.orders()} == ids
                by_id = {o.client_order_id: o for o in cache.orders()}
                assert by_id[resting.client_order_id].status == OrderStatus.ACCEPTED
                assert by_id[partial.client_order_id].status == OrderStatus.PARTIALLY_FILLED
                assert by_id[partial.client_order_id].filled_qty.as_decimal() == Decimal("0.0015")
                assert by_id[filled.client_order_id].status == OrderStatus.FILLED
                venue_open = {
                    o.client_order_id for o in cache.orders_open() if o.venue_order_id
                }
                assert venue_open == {resting.client_order_id, partial.client_order_id}
                venue_size = sandbox.node.subaccount(restarted.client.address)["positions"][0]
                positions = cache.positions_open()
                assert len(positions) == 1
                # 0.0025 BTC long: 25 steps of 1e6 base quantums (atomic resolution -10)
                assert venue_size["size"] == 25_000_000
                assert positions[0].quantity.as_decimal() == Decimal("0.0025")
                assert positions[0].is_long
                restarted.strategy.cancel_all_orders(BTC_PERP)
                await restarted.wait(lambda: not alice_stateful(sandbox))
                await restarted.wait(lambda: not cache.orders_open())
        state_dir.cleanup()

    run(scenario())


def test_reports_page_past_the_indexer_limit_of_1000() -> None:
    import grpc
    from nautilus_trader.core.uuid import UUID4
    from nautilus_trader.execution.messages import GenerateFillReports
    from nautilus_trader.execution.messages import GenerateOrderStatusReports

    from tests.integration.sandbox.helpers import Client
    from tests.integration.transport.support import make_trades

    async def scenario() -> None:
        # Blocks on demand: the trades share one good-til-block
        async with venue(auto_blocks=False) as sandbox, trading_node(sandbox) as node:
            async with grpc.aio.insecure_channel(sandbox.grpc_endpoint) as channel:
                await make_trades(sandbox, Client(channel), [550, 550])  # 1 100 IOC buys
            fills = await node.client.generate_fill_reports(
                GenerateFillReports(None, None, None, None, UUID4(), 0),
            )
            assert len(fills) == 1100 and len({f.trade_id for f in fills}) == 1100
            assert all(f.last_qty.as_decimal() == Decimal("0.0001") for f in fills)
            assert [f.ts_event for f in fills] == sorted(f.ts_event for f in fills)
            orders = await node.client.generate_order_status_reports(
                GenerateOrderStatusReports(None, None, None, False, UUID4(), 0),
            )
            assert len(orders) == 1100
            assert {r.order_status for r in orders} == {OrderStatus.FILLED}

    run(scenario(), timeout=180)
