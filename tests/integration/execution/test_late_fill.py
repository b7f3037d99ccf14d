# SPDX-License-Identifier: Apache-2.0
"""Nautilus closed an order before the venue showed it: its fills and its resting order."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import QueryOrder

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import VenueOrderId

from tests.integration.execution.support import BTC_PERP
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_lifecycle import alice_stateful
from tests.integration.execution.test_orders import SHORT
from tests.integration.execution.test_orders import bob_order
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import SELL


@pytest.mark.parametrize("purge", [False, True], ids=["closed", "closed-and-purged"])
def test_a_fill_after_nautilus_closed_the_order_still_reaches_the_position(purge: bool) -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.002", "60000", tags=SHORT)
            # What LiveExecutionEngine does to an order it thinks stuck: close it locally,
            # while the order still rests on the venue
            state = node.client.venue_order(order.client_order_id)
            node.client.generate_order_canceled(
                order.strategy_id, order.instrument_id, order.client_order_id,
                VenueOrderId(state.venue_order_id), node.client._clock.timestamp_ns(),
            )
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            if purge:  # What a node purging closed orders does a minute later
                node.cache.purge_order(order.client_order_id)
                assert node.cache.order(order.client_order_id) is None
            await bob_order(sandbox, 1, SELL, 20, 60000, tif=IOC)
            await node.wait(lambda: 0 in sandbox.node.subaccount(K1_ADDRESS)["positions"])
            await node.wait(lambda: any(isinstance(e, OrderFilled) for e in node.events))
            fills = [e for e in node.events if isinstance(e, OrderFilled)]
            assert len(fills) == 1
            assert fills[0].last_qty == node.cache.instrument(BTC_PERP).make_qty(Decimal("0.002"))
            positions = node.cache.positions_open(instrument_id=BTC_PERP)
            net = sum((p.signed_decimal_qty() for p in positions), Decimal(0))
            venue_size = sandbox.node.subaccount(K1_ADDRESS)["positions"][0]["size"]
            assert net == Decimal("0.002") == Decimal(venue_size).scaleb(-10)
            if not purge:  # Reconciled from the fill report: it ends as the venue holds it
                assert order.status == OrderStatus.FILLED

    run(scenario())


def test_an_order_nautilus_gave_up_on_is_canceled_when_the_venue_shows_it() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            # The venue is slow to show the order; the engine's in-flight check rejects it
            sandbox.faults.pause_stream("v4_subaccounts")
            order = node.limit(OrderSide.BUY, "0.001", "50000")
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.SUBMITTED)
            state = node.client.venue_order(order.client_order_id)
            await node.wait(lambda: alice_stateful(sandbox) == {state.client_id})
            node.client.generate_order_rejected(
                order.strategy_id, order.instrument_id, order.client_order_id, "UNKNOWN",
                node.client._clock.timestamp_ns(),
            )
            await node.wait(lambda: order.status == OrderStatus.REJECTED)
            sandbox.faults.resume_stream("v4_subaccounts")
            # It must not rest on the venue while Nautilus thinks it dead
            await node.wait(lambda: alice_stateful(sandbox) == set(), timeout=15.0)
            assert order.status == OrderStatus.REJECTED
            assert "OrderAccepted" not in node.of(order.client_order_id)

    run(scenario())


def test_the_in_flight_check_applies_the_venue_fills_the_stream_missed() -> None:
    # The stream misses two fills; Nautilus's in-flight check then queries the order. Its
    # report alone would make Nautilus infer one fill at the average price: the client applies
    # the venue's own two fills (ids, prices, fees) instead
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.002", "60000", tags=SHORT)
            state = node.client.venue_order(order.client_order_id)
            sandbox.faults.pause_stream("v4_subaccounts")
            await bob_order(sandbox, 1, SELL, 10, 60000, tif=IOC)
            await bob_order(sandbox, 2, SELL, 10, 60000, tif=IOC)

            async def venue_fills() -> list[dict]:
                async with httpx.AsyncClient(base_url=sandbox.http_url) as http:
                    answer = await http.get("/fills", params={
                        "address": K1_ADDRESS, "subaccountNumber": 0, "market": "BTC-USD",
                    })
                return [f for f in answer.json()["fills"] if f["orderId"] == state.venue_order_id]

            for _ in range(100):
                if len(await venue_fills()) == 2:
                    break
                await asyncio.sleep(0.1)
            fills = await venue_fills()
            assert len(fills) == 2
            assert not any(isinstance(e, OrderFilled) for e in node.events)
            node.client.query_order(QueryOrder(
                node.strategy.trader_id, order.strategy_id, order.instrument_id,
                order.client_order_id, VenueOrderId(state.venue_order_id), UUID4(),
                node.client._clock.timestamp_ns(),
            ))
            await node.wait(lambda: order.status == OrderStatus.FILLED)
            sandbox.faults.resume_stream("v4_subaccounts")
            await asyncio.sleep(1.0)  # Whatever the stream still delivers must not repeat
            filled = [e for e in node.events if isinstance(e, OrderFilled)]
            assert sorted(e.trade_id.value for e in filled) == sorted(f["id"] for f in fills)
            assert [e.last_qty.as_decimal() for e in filled] == [Decimal("0.001")] * 2
            assert sum(e.commission.as_decimal() for e in filled) == sum(
                Decimal(f["fee"]) for f in fills
            )

    run(scenario())


async def _filled_while_the_stream_is_paused(sandbox, node):
    # A resting short-term bid filled twice on the venue while the subaccount stream is
    # paused; returns the order, its state and the venue's fills of it
    order = await node.accepted_limit(OrderSide.BUY, "0.002", "60000", tags=SHORT)
    state = node.client.venue_order(order.client_order_id)
    sandbox.faults.pause_stream("v4_subaccounts")
    await bob_order(sandbox, 1, SELL, 10, 60000, tif=IOC)
    await bob_order(sandbox, 2, SELL, 10, 60000, tif=IOC)
    fills: list[dict] = []
    async with httpx.AsyncClient(base_url=sandbox.http_url) as http:
        for _ in range(100):
            answer = await http.get("/fills", params={
                "address": K1_ADDRESS, "subaccountNumber": 0, "market": "BTC-USD",
            })
            fills = [f for f in answer.json()["fills"] if f["orderId"] == state.venue_order_id]
            if len(fills) == 2:
                break
            await asyncio.sleep(0.1)
    assert len(fills) == 2
    return order, state, fills


def _query(node, order, state) -> QueryOrder:
    return QueryOrder(
        node.strategy.trader_id, order.strategy_id, order.instrument_id,
        order.client_order_id, VenueOrderId(state.venue_order_id), UUID4(),
        node.client._clock.timestamp_ns(),
    )


async def _exactly_the_venue_fills(sandbox, node, order, fills: list[dict]) -> None:
    sandbox.faults.resume_stream("v4_subaccounts")
    await node.wait(lambda: order.status == OrderStatus.FILLED)
    await asyncio.sleep(1.0)  # Whatever the stream still delivers must not repeat
    filled = [e for e in node.events if isinstance(e, OrderFilled)]
    assert sorted(e.trade_id.value for e in filled) == sorted(f["id"] for f in fills)
    assert not any(e.reconciliation for e in filled)  # None inferred by the engine
    positions = node.cache.positions_open(instrument_id=BTC_PERP)
    net = sum((p.signed_decimal_qty() for p in positions), Decimal(0))
    venue_size = sandbox.node.subaccount(K1_ADDRESS)["positions"][0]["size"]
    assert net == Decimal("0.002") == Decimal(venue_size).scaleb(-10)


def test_a_query_report_never_overtakes_fill_events_still_queued() -> None:
    # The engine reconciles a report at once but queues events: a report sent while this
    # client's fill events wait in the queue made the engine infer a fill, and the real
    # fills then counted twice (found by the fault suite under WebSocket drops)
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order, state, fills = await _filled_while_the_stream_is_paused(sandbox, node)
            msgbus = node.client._msgbus
            engine = node.engines[0]
            held: list = []
            msgbus.deregister("ExecEngine.process", engine.process)
            msgbus.register("ExecEngine.process", held.append)
            try:
                # What the stream-gap recovery does: the venue's fills, queued
                total = node.cache.instrument(BTC_PERP).make_qty(Decimal("0.002")).raw
                await node.client._catch_up_fills(state, total)
                assert len(held) == 2 and order.filled_qty.as_decimal() == 0
                await node.client._query_order(_query(node, order, state))
            finally:
                msgbus.deregister("ExecEngine.process", held.append)
                msgbus.register("ExecEngine.process", engine.process)
            for event in held:
                engine.process(event)
            await _exactly_the_venue_fills(sandbox, node, order, fills)

    run(scenario())


def test_a_query_waits_for_fills_the_indexer_does_not_list_yet() -> None:
    # The venue's order shows it filled, its fills cannot be read yet: the engine must not
    # be told (it would infer a fill with no price); the fills come by stream later
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order, state, fills = await _filled_while_the_stream_is_paused(sandbox, node)
            sandbox.faults.rest_error(503, path_prefix="/v4/fills")
            try:
                await node.client._query_order(_query(node, order, state))
            finally:
                sandbox.faults.rest_error(0)
            assert not any(isinstance(e, OrderFilled) for e in node.events)
            assert order.status == OrderStatus.ACCEPTED
            await _exactly_the_venue_fills(sandbox, node, order, fills)

    run(scenario())


def test_an_order_nautilus_closed_that_the_client_lost_is_canceled_when_the_venue_shows_it(
) -> None:
    # The client has no state for an order Nautilus holds closed (a restart, or a state
    # released too early): when the venue shows it open, it is canceled there, not adopted
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            state = node.client.venue_order(order.client_order_id)
            node.client.generate_order_canceled(
                order.strategy_id, order.instrument_id, order.client_order_id,
                VenueOrderId(state.venue_order_id), node.client._clock.timestamp_ns(),
            )
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            del node.client._orders[order.client_order_id]
            del node.client._by_venue_id[state.venue_order_id]
            assert alice_stateful(sandbox) == {state.client_id}
            sandbox.faults.drop_ws()  # The subscription's snapshot shows the order open
            await node.wait(lambda: alice_stateful(sandbox) == set(), timeout=15.0)
            assert order.status == OrderStatus.CANCELED
            assert node.of(order.client_order_id).count("OrderCanceled") == 1

    run(scenario())
