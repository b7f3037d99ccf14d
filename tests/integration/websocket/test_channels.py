# SPDX-License-Identifier: Apache-2.0
"""DYDXWebSocketClient against the sandbox Indexer: every channel, reference counting."""

from __future__ import annotations

from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core.frames import BlockHeight
from nautilus_dydx._core.frames import MarketUpdate
from nautilus_dydx._core.frames import OrderUpdate
from nautilus_dydx._core.frames import SubaccountInfo
from nautilus_dydx._core.frames import Unsubscribed
from nautilus_dydx.websocket import SubscriptionState
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox
from tests.integration.sandbox.test_indexer_support import wait_for
from tests.integration.websocket.support import Owner
from tests.integration.websocket.support import connected
from tests.integration.websocket.support import new_client
from tests.integration.websocket.support import wait_active


BTC = InstrumentId.from_str("BTC-USD-PERP.DYDX")
Q = 1_000_000
P = 6_500_000_000


def test_every_channel_delivers_nautilus_objects_and_records() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, grpc_client):
            owner = Owner()
            async with connected(new_client(sandbox, owner)) as client:
                await client.subscribe_markets()
                await client.subscribe_block_height()
                await client.subscribe_orderbook("BTC-USD")
                await client.subscribe_trades("BTC-USD")
                await client.subscribe_candles("BTC-USD", "1MIN")
                await client.subscribe_subaccount(K2_ADDRESS, 0)
                await client.subscribe_parent_subaccount(K1_ADDRESS, 0)
                keys = [
                    ("v4_markets", None), ("v4_block_height", None),
                    ("v4_orderbook", "BTC-USD"), ("v4_trades", "BTC-USD"),
                    ("v4_candles", "BTC-USD/1MIN"), ("v4_subaccounts", f"{K2_ADDRESS}/0"),
                    ("v4_parent_subaccounts", f"{K1_ADDRESS}/0"),
                ]
                await wait_active(client, keys)
                assert len(client.connections) == 1
                assert {s.channel for s in owner.subscribed()} == {k[0] for k in keys}
                assert any(m.ticker == "BTC-USD" for m in owner.of(MarketUpdate))
                assert owner.of(BlockHeight)[0].height == sandbox.node.height
                assert any(a.address == K2_ADDRESS for a in owner.of(SubaccountInfo))

                gtb = sandbox.node.height + 10
                await grpc_client.broadcast(
                    BOB.sign_tx([place(K2_ADDRESS, 1, SELL, Q, P, gtb=gtb)]),
                )
                sandbox.node.step_blocks(1)
                await wait_for(lambda: len(owner.of(BlockHeight)) >= 2)
                await wait_for(
                    lambda: len(owner.of(OrderBookDeltas)) >= 2 and bool(owner.of(OrderUpdate)),
                )

                # The client's deltas rebuild the venue's book in Nautilus's own OrderBook
                book = OrderBook(BTC, BookType.L2_MBP)
                for deltas in owner.of(OrderBookDeltas):
                    book.apply_deltas(deltas)
                assert str(book.best_ask_price()) == "65000"
                assert book.best_ask_size().as_double() == 0.0001
                assert book.best_bid_price() is None  # One-sided: no quote yet
                assert owner.of(QuoteTick) == []
                assert owner.of(OrderUpdate)[-1].status == "BEST_EFFORT_OPENED"
                assert owner.errors == []
    run(scenario())


def test_trades_and_candles_arrive_after_a_match() -> None:
    async def scenario() -> None:
        from tests.integration.sandbox.helpers import ALICE
        from tests.integration.sandbox.helpers import BUY
        from tests.integration.sandbox.helpers import IOC

        async with running_sandbox() as (sandbox, _, grpc_client):
            owner = Owner()
            async with connected(new_client(sandbox, owner)) as client:
                await client.subscribe_trades("BTC-USD")
                await client.subscribe_candles("BTC-USD", "1MIN")
                await wait_active(
                    client, [("v4_trades", "BTC-USD"), ("v4_candles", "BTC-USD/1MIN")],
                )
                gtb = sandbox.node.height + 10
                await grpc_client.broadcast(
                    BOB.sign_tx([place(K2_ADDRESS, 1, SELL, Q, P, gtb=gtb)]),
                )
                await grpc_client.broadcast(
                    ALICE.sign_tx([place(K1_ADDRESS, 2, BUY, Q, P, gtb=gtb, tif=IOC)], sequence=7),
                )
                sandbox.node.step_blocks(1)
                await wait_for(lambda: bool(owner.of(TradeTick)))
                trade = owner.of(TradeTick)[0]
                assert trade.instrument_id == BTC
                assert str(trade.price) == "65000"
                # A forming candle is not a Bar: it closes when the next minute's candle arrives
                assert owner.of(Bar) == []
                sandbox.node.step_blocks(600)  # 60 s of 100 ms blocks: the next minute
                gtb = sandbox.node.height + 10
                await grpc_client.broadcast(
                    BOB.sign_tx([place(K2_ADDRESS, 3, SELL, Q, P, gtb=gtb)]),
                )
                await grpc_client.broadcast(
                    ALICE.sign_tx([place(K1_ADDRESS, 4, BUY, Q, P, gtb=gtb, tif=IOC)], sequence=7),
                )
                sandbox.node.step_blocks(1)
                await wait_for(lambda: bool(owner.of(Bar)))
                bars = owner.of(Bar)
                assert len(bars) == 1
                assert bars[0].close == trade.price
                assert bars[0].ts_event > trade.ts_event
                assert bars[0].ts_event % 60_000_000_000 == 0  # The close of its minute
    run(scenario())


def test_subscriptions_are_reference_counted() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            owner = Owner()
            async with connected(new_client(sandbox, owner)) as client:
                await client.subscribe_orderbook("ETH-USD")
                await client.subscribe_orderbook("ETH-USD")
                await wait_active(client, [("v4_orderbook", "ETH-USD")])
                assert client.subscription_count("v4_orderbook", "ETH-USD") == 2
                await client.unsubscribe_orderbook("ETH-USD")
                assert client.subscription_state("v4_orderbook", "ETH-USD") is (
                    SubscriptionState.ACTIVE
                )
                await client.unsubscribe_orderbook("ETH-USD")
                await wait_for(lambda: bool(owner.of(Unsubscribed)))
                server = next(iter(sandbox.ws.connections))
                assert ("v4_orderbook", "ETH-USD") not in server.subscriptions
                assert client.subscription_state("v4_orderbook", "ETH-USD") is None
                assert client.subscribes_sent == 1
                assert len(owner.subscribed("v4_orderbook")) == 1
    run(scenario())


def test_bad_subscribe_arguments_raise_and_change_nothing() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            owner = Owner()
            async with connected(new_client(sandbox, owner)) as client:
                for call in (
                    client.subscribe_orderbook("DOGE-USD"),
                    client.subscribe_candles("BTC-USD", "2MINS"),
                    client.subscribe_subaccount("dydx1notanaddress", 0),
                    client.subscribe_parent_subaccount(K1_ADDRESS, 128),
                ):
                    try:
                        await call
                    except ValueError:
                        pass
                    else:
                        raise AssertionError("expected ValueError")
                assert client.subscribes_sent == 0
                assert client.subscription_count("v4_orderbook", "DOGE-USD") == 0
    run(scenario())
