# SPDX-License-Identifier: Apache-2.0
"""DYDXDataClient in a TradingNode against the sandbox: subscriptions, book integrity, history."""

from __future__ import annotations

import asyncio
from datetime import datetime
from datetime import UTC
from decimal import Decimal

from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import DataType
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import InstrumentStatus
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import OrderBookDepth10
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import Price

from nautilus_dydx import DYDX
from nautilus_dydx import DYDXOraclePrice
from nautilus_dydx._core.frames import iso_to_ns
from tests.integration.data.support import BTC
from tests.integration.data.support import ETH
from tests.integration.data.support import MARKETS
from tests.integration.data.support import PEPE
from tests.integration.data.support import Collector
from tests.integration.data.support import bar_type
from tests.integration.data.support import book_levels
from tests.integration.data.support import data_client
from tests.integration.data.support import expected_levels
from tests.integration.data.support import run
from tests.integration.data.support import running_node
from tests.integration.data.support import rest_levels
from tests.integration.data.support import running_sandbox
from tests.integration.data.support import sandbox_config
from tests.integration.data.support import wait_for


TICKERS = {BTC: "BTC-USD", ETH: "ETH-USD", PEPE: "PEPE-USD"}
MINUTE = 60_000_000_000


def books_match(sandbox, actor) -> bool:
    return all(
        book_levels(actor, instrument_id) == tuple(expected_levels(sandbox, ticker))
        for instrument_id, ticker in TICKERS.items()
    )


def test_strategy_receives_every_subscription_for_three_markets() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            actor = Collector()
            async with running_node(sandbox, actor) as node:
                kinds = ("deltas", "depth", "quote", "trade", "bar", "mark", "index", "funding")
                await wait_for(lambda: len(actor.cache.instruments()) >= 4)
                for _ in range(60):
                    sandbox.node.step_blocks(1)
                    await asyncio.sleep(0.05)
                    if all(actor.of(k, i) for k in kinds for i in MARKETS):
                        break
                sandbox.set_market_status("PEPE-USD", "POST_ONLY")
                await wait_for(lambda: bool(actor.of("status", PEPE)))
                for kind in kinds:
                    for instrument_id in MARKETS:
                        assert actor.of(kind, instrument_id), (kind, instrument_id)
                # Objects of the right Nautilus types and instruments
                assert all(isinstance(d, OrderBookDeltas) for d in actor.of("deltas"))
                assert all(isinstance(d, OrderBookDepth10) for d in actor.of("depth"))
                assert all(isinstance(q, QuoteTick) for q in actor.of("quote"))
                assert all(isinstance(t, TradeTick) for t in actor.of("trade"))
                assert all(isinstance(m, MarkPriceUpdate) for m in actor.of("mark"))
                assert all(isinstance(m, IndexPriceUpdate) for m in actor.of("index"))
                assert all(isinstance(f, FundingRateUpdate) for f in actor.of("funding"))
                statuses = actor.of("status", PEPE)
                assert isinstance(statuses[-1], InstrumentStatus)
                assert statuses[-1].reason == "POST_ONLY"
                oracle = actor.of("DYDXOraclePrice")
                assert all(isinstance(o, DYDXOraclePrice) for o in oracle)
                pepe = actor.cache.instrument(PEPE)
                assert isinstance(pepe, CryptoPerpetual)
                assert pepe.price_increment.as_decimal() == Decimal("1E-10")
                # The first book message per market is a snapshot: CLEAR, then F_SNAPSHOT
                for instrument_id in MARKETS:
                    first = actor.of("deltas", instrument_id)[0]
                    assert first.deltas[0].action == BookAction.CLEAR
                    assert first.flags & RecordFlag.F_SNAPSHOT
                # Bars: closed, ts_event at a whole minute (the close)
                for bar in actor.of("bar"):
                    assert isinstance(bar, Bar)
                    assert bar.bar_type == bar_type(bar.bar_type.instrument_id)
                    assert bar.ts_event % 60_000_000_000 == 0
                # Quotes: never crossed, never repeated back to back
                assert actor.crossed_quotes == []
                for instrument_id in MARKETS:
                    quotes = actor.of("quote", instrument_id)
                    pairs = list(zip(quotes, quotes[1:], strict=False))
                    assert all(
                        (a.bid_price, a.ask_price, a.bid_size, a.ask_size)
                        != (b.bid_price, b.ask_price, b.bid_size, b.ask_size)
                        for a, b in pairs
                    )
                # After the flow stops the strategy's books equal the sandbox's (integers)
                await wait_for(lambda: books_match(sandbox, actor))
                assert actor.crossed_books == []
                for instrument_id, ticker in TICKERS.items():
                    bids, asks = expected_levels(sandbox, ticker)
                    depth = actor.of("depth", instrument_id)[-1]
                    top_bids = [(b.price.raw, b.size.raw) for b in depth.bids if b.size.raw]
                    top_asks = [(a.price.raw, a.size.raw) for a in depth.asks if a.size.raw]
                    assert (top_bids, top_asks) == (bids[:10], asks[:10])
                assert data_client(node).resyncs == 0

    run(scenario())


async def step_until(sandbox, condition, blocks: int = 60) -> None:
    for _ in range(blocks):
        sandbox.node.step_blocks(1)
        await asyncio.sleep(0.05)
        if condition():
            return
    raise AssertionError("condition not met within the blocks")


def snapshots(actor, instrument_id) -> int:
    return sum(
        1 for d in actor.of("deltas", instrument_id)
        if d.flags & RecordFlag.F_SNAPSHOT and d.deltas[0].action == BookAction.CLEAR
    )


def test_book_stays_equal_to_the_venue_through_crosses_drops_and_restarts() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            actor = Collector((BTC, ETH))
            async with running_node(sandbox, actor) as node:
                client = data_client(node)
                await step_until(sandbox, lambda: bool(actor.of("trade", BTC)))
                await wait_for(lambda: books_match_some(sandbox, actor, (BTC, ETH)))

                # A crossed book: quotes and the strategy's book stay uncrossed, then a resync
                # (CLEAR + F_SNAPSHOT) replaces the book with the venue's uncrossed snapshot
                before = snapshots(actor, BTC)
                sandbox.faults.force_crossed_book("BTC-USD", ticks=2)
                await wait_for(lambda: client.resyncs >= 1 and snapshots(actor, BTC) > before)
                rest = await client._http.get_orderbook("BTC-USD")
                await wait_for(lambda: book_levels(actor, BTC) == rest_levels(rest))
                assert actor.crossed_quotes == [] and actor.crossed_books == []

                # A dropped connection, then a server restart (close 1012): fresh snapshots
                # A dropped connection, a server restart (close 1012), and a lost frame (a
                # message-id gap): each ends in fresh snapshots of every book
                def lose_one_frame() -> int:
                    sandbox.faults.inject_malformed(1)
                    return 1

                faults = (sandbox.faults.drop_ws, sandbox.faults.restart_ws, lose_one_frame)
                for fault in faults:
                    before_btc, before_eth = snapshots(actor, BTC), snapshots(actor, ETH)
                    assert fault() >= 1
                    await step_until(
                        sandbox,
                        lambda: snapshots(actor, BTC) > before_btc
                        and snapshots(actor, ETH) > before_eth,
                        blocks=40,
                    )
                    sandbox.node.step_blocks(2)
                    await asyncio.sleep(0.1)
                    # ETH has no injected level: its book equals the node's own book
                    await wait_for(lambda: books_match_some(sandbox, actor, (ETH,)))
                    assert actor.crossed_quotes == [] and actor.crossed_books == []
                assert client.ws_client.gaps >= 1
                # The flow resumes after the reconnects
                trades = len(actor.of("trade"))
                await step_until(sandbox, lambda: len(actor.of("trade")) > trades)

    run(scenario())


def books_match_some(sandbox, actor, instrument_ids) -> bool:
    return all(
        book_levels(actor, i) == tuple(expected_levels(sandbox, TICKERS[i]))
        for i in instrument_ids
    )


def test_history_requests_return_the_venue_history_in_order() -> None:
    async def scenario() -> None:
        # One block per minute: every block closes a 1-minute bar; funding every 60 blocks
        config = sandbox_config(block_time_ms=60_000)
        async with running_sandbox(config) as sandbox:
            actor = Collector(())
            async with running_node(sandbox, actor) as node:
                client = data_client(node)
                for _ in range(130):
                    sandbox.node.step_blocks(1)
                    await asyncio.sleep(0.005)
                http = client._http
                height = await http.get_height()
                venue_now = iso_to_ns(height.time)
                candles = await http.get_candles("BTC-USD", "1MIN")
                closed = [
                    c for c in reversed(candles) if iso_to_ns(c.started_at) + MINUTE <= venue_now
                ]
                assert len(closed) >= 50 and len(closed) < len(candles)

                # Bars: every closed candle, oldest first, no duplicates, across small pages
                bars = await client.fetch_bars(bar_type(BTC), page_size=7)
                assert [b.ts_event for b in bars] == [
                    iso_to_ns(c.started_at) + MINUTE for c in closed
                ]
                assert [str(b.close) for b in bars] == [
                    str(Decimal(c.close).quantize(Decimal(1))) for c in closed
                ]
                newest = await client.fetch_bars(bar_type(BTC), limit=5, page_size=3)
                assert newest == bars[-5:]

                # Trades: the full history across pages, oldest first
                rest_trades = (await http.get_trades("BTC-USD")).trades
                trades = await client.fetch_trades(BTC, page_size=50)
                assert [t.trade_id.value for t in trades] == [t.id for t in reversed(rest_trades)]
                assert len(trades) > 100

                # Funding history, oldest first
                rest_funding = await http.get_historical_funding("BTC-USD")
                rates = await client.fetch_funding_rates(BTC)
                assert len(rates) == len(rest_funding) >= 2
                assert [r.rate for r in rates] == [Decimal(f.rate) for f in reversed(rest_funding)]

                # The same through Nautilus requests (data engine -> client -> strategy)
                start = datetime(2026, 1, 1, tzinfo=UTC)
                actor.request_bars(bar_type(BTC), start, client_id=ClientId(DYDX))
                actor.request_data(
                    DataType(FundingRateUpdate, metadata={"instrument_id": BTC}),
                    ClientId(DYDX),
                    start=start,
                )
                actor.request_order_book_snapshot(BTC, client_id=ClientId(DYDX))
                await wait_for(
                    lambda: len([h for h in actor.of("historical") if isinstance(h, Bar)])
                    == len(bars)
                    and any(isinstance(h, FundingRateUpdate) for h in actor.of("historical"))
                    and any(isinstance(h, OrderBookDeltas) for h in actor.of("historical")),
                )
                historical = [h for h in actor.of("historical") if isinstance(h, Bar)]
                assert historical == bars
                historical_all = actor.of("historical")
                snapshot = next(h for h in historical_all if isinstance(h, OrderBookDeltas))
                assert snapshot.deltas[0].action == BookAction.CLEAR
                assert snapshot.is_snapshot

    run(scenario())


def test_tick_size_change_and_new_listing_reach_the_cache() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            actor = Collector((BTC,))
            async with running_node(sandbox, actor) as node:
                client = data_client(node)
                await step_until(sandbox, lambda: bool(actor.of("quote", BTC)))
                state = sandbox.state
                assert actor.cache.instrument(BTC).price_increment == Price.from_str("1")

                # Governance raises BTC's tick from 1 to 10 (subticksPerTick 1e5 -> 1e6)
                state.emit(
                    "v4_markets", None,
                    {"trading": {"BTC-USD": {"subticksPerTick": 1_000_000, "tickSize": "10"}}},
                )
                await wait_for(
                    lambda: actor.cache.instrument(BTC).price_increment == Price.from_str("10"),
                )
                provider = client._provider
                assert provider.market_params(BTC).subticks_per_tick == 1_000_000
                assert provider.encoder(BTC, "dydx1owner", 0).subticks_per_tick == 1_000_000
                await wait_for(
                    lambda: any(
                        i.price_increment == Price.from_str("10")
                        for i in actor.of("instrument", BTC)
                    ),
                )

                # A new listing: the whole market object under a new ticker
                listing = dict(state.market_json(state.markets["ETH-USD"]))
                listing.update(ticker="NEW-USD", clobPairId="77")
                state.emit("v4_markets", None, {"trading": {"NEW-USD": listing}})
                new_id = InstrumentId.from_str("NEW-USD-PERP.DYDX")
                await wait_for(lambda: actor.cache.instrument(new_id) is not None)
                assert provider.market_params(new_id).clob_pair_id == 77
                assert client.parser.context("NEW-USD") is not None

                # Bars the venue lacks are refused (no candles subscription, no bar subscription)
                mid = BarType.from_str("BTC-USD-PERP.DYDX-5-MINUTE-MID-EXTERNAL")
                actor.subscribe_bars(mid)
                # A valid subscription after it: once that one is on, the refusal has happened
                actor.subscribe_bars(bar_type(BTC, "5-MINUTE"))
                ws = client.ws_client
                await wait_for(lambda: ws.subscription_count("v4_candles", "BTC-USD/5MINS") == 1)
                assert mid not in client.subscribed_bars()
                assert bar_type(BTC, "5-MINUTE") in client.subscribed_bars()

                # Quotes and deltas share one venue book: dropping quotes keeps deltas flowing
                ws = client.ws_client
                assert ws.subscription_count("v4_orderbook", "BTC-USD") == 3
                actor.unsubscribe_quote_ticks(BTC)
                await wait_for(lambda: ws.subscription_count("v4_orderbook", "BTC-USD") == 2)
                deltas = len(actor.of("deltas", BTC))
                await step_until(sandbox, lambda: len(actor.of("deltas", BTC)) > deltas + 2)

    run(scenario())


def test_instruments_not_preloaded_are_loaded_on_subscribe() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            actor = Collector((ETH,))
            config = InstrumentProviderConfig()  # load_all=False, no load_ids
            async with running_node(sandbox, actor, instrument_provider=config):
                await step_until(sandbox, lambda: bool(actor.of("quote", ETH)))
                assert actor.cache.instrument(ETH) is not None
                assert actor.cache.instrument(BTC) is None
                assert actor.of("deltas", ETH)[0].is_snapshot

    run(scenario())
