# SPDX-License-Identifier: Apache-2.0
"""Subaccount stream edge cases: fill order, duplicates, gaps, liquidations, foreign orders."""

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
from tests.integration.execution.test_lifecycle import alice_stateful
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


def test_a_real_liquidation_closes_the_position_through_fills() -> None:
    from nautilus_dydx.sandbox import AccountConfig
    from tests.integration.execution.test_orders import bob_order
    from tests.integration.sandbox.helpers import BUY
    from tests.integration.sandbox.helpers import K1_MNEMONIC
    from tests.integration.sandbox.helpers import K2_PRIVATE_KEY
    from tests.integration.sandbox.helpers import SELL

    accounts = (
        AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7,
                      subaccounts={0: 5_000_000_000}),  # 5 000 USDC: 1 BTC at 5 % margin
        AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2),
    )

    async def scenario() -> None:
        async with venue(accounts=accounts, funding_enabled=False) as sandbox, trading_node(
            sandbox,
        ) as node:
            await bob_order(sandbox, 1, SELL, 10_000, 65000)  # 1 BTC offered at 65 000
            market = node.strategy.order_factory.market(
                BTC_PERP, OrderSide.BUY, node.cache.instrument(BTC_PERP).make_qty(Decimal(1)),
            )
            node.strategy.submit_order(market)
            await node.wait(lambda: market.status == OrderStatus.FILLED)
            await node.wait(lambda: len(node.cache.positions_open()) == 1)
            await bob_order(sandbox, 2, BUY, 4_000, 61000)  # The book absorbs 0.4 BTC
            sandbox.node.set_oracle_price("BTC-USD", "61800")
            await node.wait(lambda: not node.cache.positions_open())
            assert sandbox.node.subaccount(K1_ADDRESS)["positions"].get(0, {"size": 0})[
                "size"
            ] == 0
            external = [o for o in node.cache.orders() if o.client_order_id != (
                market.client_order_id
            )]
            assert external and all(o.status == OrderStatus.FILLED for o in external)
            assert all(o.side == OrderSide.SELL for o in external)
            assert sum(o.filled_qty.as_decimal() for o in external) == Decimal(1)
            prefixes = {str(o.venue_order_id).split("-")[0] for o in external}
            assert "LIQUIDATED" in prefixes

    run(scenario())


def test_an_order_of_another_client_of_the_subaccount_is_reported_as_external() -> None:
    from tests.integration.execution.test_orders import bob_order
    from tests.integration.sandbox.helpers import IOC
    from tests.integration.sandbox.helpers import SELL
    from nautilus_dydx._core.orders import MarketEncoder
    from nautilus_dydx.wallet import Wallet
    from tests.integration.sandbox.helpers import K1_PRIVATE_KEY

    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            # Same key, another program: client metadata 0 is not our scheme
            encoder = MarketEncoder(K1_ADDRESS, 0, 0, -10, -9, 1_000_000, 100_000)
            foreign = encoder.place_order_any(
                77, 0, 1, 10_000_000, 5_000_000_000, good_til_block=sandbox.node.height + 15,
            )
            signer = Wallet.from_private_key(K1_PRIVATE_KEY).signer(
                sandbox.node.config.chain_id, 12345,
            )
            from tests.integration.sandbox.helpers import Client
            import grpc

            async with grpc.aio.insecure_channel(sandbox.grpc_endpoint) as channel:
                result = await Client(channel).broadcast(signer.sign_tx(foreign, 7))
                assert result.code == 0, result.raw_log
            await node.wait(lambda: len(node.cache.orders()) == 1)
            (external,) = node.cache.orders()
            assert external.status == OrderStatus.ACCEPTED
            assert external.quantity.as_decimal() == Decimal("0.001")
            assert external.price.as_decimal() == Decimal("50000")
            assert external.strategy_id == node.strategy.id  # Claimed by the strategy
            await bob_order(sandbox, 1, SELL, 10, 50000, tif=IOC)
            await node.wait(lambda: external.status == OrderStatus.FILLED)
            assert len(node.cache.orders()) == 1 and external.quantity.as_decimal() == (
                Decimal("0.001")
            )

    run(scenario())


def test_fills_lost_in_a_stream_gap_are_recovered_once() -> None:
    from tests.integration.execution.test_orders import bob_order
    from tests.integration.sandbox.helpers import IOC
    from tests.integration.sandbox.helpers import SELL

    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            orders = [node.limit(OrderSide.BUY, "0.001", "60000", tags=SHORT) for _ in range(2)]
            for order in orders:
                node.strategy.submit_order(order)
            await node.wait(lambda: all(o.status == OrderStatus.ACCEPTED for o in orders))
            sandbox.faults.pause_stream("v4_subaccounts", CHANNEL_ID)
            await bob_order(sandbox, 1, SELL, 15, 60000, tif=IOC)  # 0.001 + 0.0005
            sandbox.node.step_blocks(1)
            sandbox.faults.drop_ws()  # The held messages are lost with the connection
            sandbox.faults._held.clear()
            sandbox.faults.resume_stream("v4_subaccounts", CHANNEL_ID)
            await node.wait(lambda: orders[0].status == OrderStatus.FILLED and (
                orders[1].status == OrderStatus.PARTIALLY_FILLED
            ))
            await asyncio.sleep(0.3)
            assert [node.of(o.client_order_id).count("OrderFilled") for o in orders] == [1, 1]
            assert orders[1].filled_qty.as_decimal() == Decimal("0.0005")

    run(scenario())


def test_a_gap_recovery_reads_every_open_order_past_one_the_indexer_cannot_find() -> None:
    # An order the Indexer does not know yet (signed, not yet in a block) answers 404: the
    # orders after it are still read, so a cancel made elsewhere during the gap is not missed
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            unknown = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            canceled = await node.accepted_limit(OrderSide.BUY, "0.001", "49000")
            state = node.client.venue_order(canceled.client_order_id)
            sandbox.faults.pause_stream("v4_subaccounts", CHANNEL_ID)
            # Another process of the account cancels it: Nautilus has no cancel in flight
            cancel = node.client._cancel_message(state)
            assert (await node.client.sender.send_stateful(cancel)).status.name == "ACCEPTED"
            await node.wait(lambda: state.client_id not in alice_stateful(sandbox))
            sandbox.faults.rest_error(404, count=1,
                                      path_prefix=f"/v4/orders/{unknown.venue_order_id}")
            sandbox.faults.drop_ws()  # The held CANCELED is lost with the connection
            sandbox.faults._held.clear()
            sandbox.faults.resume_stream("v4_subaccounts", CHANNEL_ID)
            await node.wait(lambda: canceled.status == OrderStatus.CANCELED)
            assert sandbox.faults.counters["rest_error"] == 1
            assert unknown.status == OrderStatus.ACCEPTED
            assert node.of(canceled.client_order_id)[-2:] == ["OrderAccepted", "OrderCanceled"]

    run(scenario())
