# SPDX-License-Identifier: Apache-2.0
"""Subaccount stream edge cases: fills before or with their order update, duplicates, liquidations."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus

from tests.integration.execution.support import BTC_PERP
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_orders import SHORT
from tests.integration.sandbox.helpers import K1_ADDRESS

CHANNEL_ID = f"{K1_ADDRESS}/0"


def frame(contents: dict, message_id: int) -> bytes:
    return json.dumps({
        "type": "channel_data", "connection_id": "c-1", "message_id": message_id,
        "id": CHANNEL_ID, "channel": "v4_subaccounts", "version": "3.0.0",
        "contents": contents,
    }).encode()


def order_json(state, status: str, filled: str, reason: str | None = None) -> dict:
    data = {
        "id": state.venue_order_id, "subaccountId": "s-0", "clientId": str(state.client_id),
        "clobPairId": "0", "side": "BUY", "size": "0.002", "ticker": "BTC-USD",
        "price": "60000", "type": "LIMIT", "timeInForce": "GTT", "postOnly": False,
        "reduceOnly": False, "status": status, "orderFlags": "0", "totalFilled": filled,
        "goodTilBlock": str(state.good_til_block),
        "clientMetadata": str(state.client_metadata),
        "updatedAt": "2026-01-01T00:00:05.000Z", "updatedAtHeight": "50",
    }
    if reason:
        data["removalReason"] = reason
    return data


def fill_json(fill_id: str, order_id: str | None, size: str, price: str,
              fill_type: str = "LIMIT", liquidity: str = "MAKER") -> dict:
    data = {
        "id": fill_id, "subaccountId": "s-0", "side": "BUY", "liquidity": liquidity,
        "type": fill_type, "clobPairId": "0", "size": size, "price": price,
        "quoteAmount": str(Decimal(size) * Decimal(price)), "eventId": fill_id[-8:],
        "transactionHash": "AB", "createdAt": "2026-01-01T00:00:05.000Z",
        "createdAtHeight": "50", "ticker": "BTC-USD", "fee": "-0.01",
    }
    if order_id:
        data["orderId"] = order_id
    return data


def test_fills_in_the_same_message_before_the_order_update_apply_once_in_order() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            sandbox.faults.pause_stream("v4_subaccounts", CHANNEL_ID)
            order = node.limit(OrderSide.BUY, "0.002", "60000", tags=SHORT)
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.SUBMITTED)
            state = node.client.venue_order(order.client_order_id)
            await node.wait(lambda: node.client.metrics.percentiles()["broadcast"]["count"] == 1)
            parse = node.client.ws_client.parser.parse
            # The terminal order update comes first in the message, its fills after it
            first = frame({
                "orders": [order_json(state, "FILLED", "0.002")],
                "fills": [
                    fill_json("00000000-0000-5000-8000-000000000001", state.venue_order_id,
                              "0.0005", "60000"),
                    fill_json("00000000-0000-5000-8000-000000000002", state.venue_order_id,
                              "0.0015", "59999"),
                ],
            }, 900)
            node.client._on_objects(parse(first))
            node.client._on_objects(parse(first))  # A duplicate delivery changes nothing
            await node.wait(lambda: order.status == OrderStatus.FILLED)
            await asyncio.sleep(0.1)
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderFilled",
                "OrderFilled",
            ]
            fills = node.kinds(order.client_order_id)[3:]
            assert [f.last_qty.as_decimal() for f in fills] == [Decimal("0.0005"),
                                                                 Decimal("0.0015")]
            assert [f.last_px.as_decimal() for f in fills] == [Decimal("60000"),
                                                                Decimal("59999")]
            assert fills[0].commission.as_decimal() == Decimal("-0.01")
            # The venue's real (late) updates of the order add nothing
            sandbox.faults.resume_stream("v4_subaccounts", CHANNEL_ID)
            await asyncio.sleep(0.3)
            assert len(node.of(order.client_order_id)) == 5

    run(scenario())


def test_fill_message_before_the_order_update_message_then_cancel_after_fills() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            sandbox.faults.pause_stream("v4_subaccounts", CHANNEL_ID)
            order = node.limit(OrderSide.BUY, "0.002", "60000", tags=SHORT)
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.SUBMITTED)
            state = node.client.venue_order(order.client_order_id)
            parse = node.client.ws_client.parser.parse
            fill = fill_json("00000000-0000-5000-8000-000000000003", state.venue_order_id,
                             "0.001", "60000")
            node.client._on_objects(parse(frame({"fills": [fill]}, 901)))
            await node.wait(lambda: order.status == OrderStatus.PARTIALLY_FILLED)
            # Canceled with more filled than seen: held until the fill arrives
            canceled = order_json(state, "CANCELED", "0.0015",
                                  "ORDER_REMOVAL_REASON_USER_CANCELED")
            node.client._on_objects(parse(frame({"orders": [canceled]}, 902)))
            await asyncio.sleep(0.2)
            assert order.status == OrderStatus.PARTIALLY_FILLED
            late = fill_json("00000000-0000-5000-8000-000000000004", state.venue_order_id,
                             "0.0005", "60000")
            node.client._on_objects(parse(frame({"fills": [late]}, 903)))
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderFilled",
                "OrderFilled", "OrderCanceled",
            ]
            assert order.filled_qty.as_decimal() == Decimal("0.0015")
            sandbox.faults.resume_stream("v4_subaccounts", CHANNEL_ID)

    run(scenario())


def test_liquidation_fill_without_an_order_becomes_an_external_filled_order() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            parse = node.client.ws_client.parser.parse
            liquidated = fill_json("00000000-0000-5000-8000-000000000005", None, "0.003",
                                   "64000", fill_type="LIQUIDATED", liquidity="TAKER")
            node.client._on_objects(parse(frame({"fills": [liquidated]}, 904)))
            await node.wait(lambda: any(o.is_closed for o in node.cache.orders()))
            (external,) = node.cache.orders()
            assert external.status == OrderStatus.FILLED
            assert external.filled_qty.as_decimal() == Decimal("0.003")
            assert external.avg_px == 64000.0
            assert str(external.venue_order_id).startswith("LIQUIDATED-")
            (position,) = node.cache.positions_open()
            assert position.quantity.as_decimal() == Decimal("0.003") and position.is_long
            # The same fill again is ignored
            node.client._on_objects(parse(frame({"fills": [liquidated]}, 905)))
            await asyncio.sleep(0.1)
            assert len(node.cache.orders()) == 1

    run(scenario())
