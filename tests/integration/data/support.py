# SPDX-License-Identifier: Apache-2.0
"""A TradingNode with the dYdX data client against an in-process sandbox; a collecting actor."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from collections.abc import Callable
from decimal import Decimal

from nautilus_trader.common.actor import Actor
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import DataType
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument

from nautilus_dydx import DYDX
from nautilus_dydx import DYDX_VENUE
from nautilus_dydx import DYDXDataClientConfig
from nautilus_dydx import DYDXLiveDataClientFactory
from nautilus_dydx import DYDXOraclePrice
from nautilus_dydx.factories import clear_cached_clients
from nautilus_dydx.sandbox.agents import AgentConfig
from nautilus_dydx.sandbox.agents import MarketAgents
from nautilus_dydx.sandbox.config import SandboxConfig
from nautilus_dydx.sandbox.indexer import IndexerSandbox


TIMEOUT_S = 20.0
BTC = InstrumentId.from_str("BTC-USD-PERP.DYDX")
ETH = InstrumentId.from_str("ETH-USD-PERP.DYDX")
PEPE = InstrumentId.from_str("PEPE-USD-PERP.DYDX")
MARKETS = (BTC, ETH, PEPE)
# Each manual block moves the sandbox clock this far: bars close after a few blocks
BLOCK_MS = 5_000


def run(coro, timeout: float = 120.0):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


async def wait_for(condition: Callable[[], bool], timeout: float = TIMEOUT_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def bar_type(instrument_id: InstrumentId, spec: str = "1-MINUTE") -> BarType:
    return BarType.from_str(f"{instrument_id}-{spec}-LAST-EXTERNAL")


class Collector(Actor):
    """Subscribes to every dYdX market data kind and keeps what arrives, per type."""

    def __init__(self, instrument_ids: tuple[InstrumentId, ...] = MARKETS) -> None:
        super().__init__()
        self.instrument_ids = instrument_ids
        self.received: dict[str, list] = defaultdict(list)
        self.crossed_quotes: list = []
        self.crossed_books: list = []
        self.books: dict[InstrumentId, OrderBook] = {}

    def on_start(self) -> None:
        self.subscribe_instruments(DYDX_VENUE)
        for instrument_id in self.instrument_ids:
            self.subscribe_instrument(instrument_id)
            self.subscribe_order_book_deltas(instrument_id, BookType.L2_MBP)
            self.subscribe_order_book_depth(instrument_id)
            self.subscribe_quote_ticks(instrument_id)
            self.subscribe_trade_ticks(instrument_id)
            self.subscribe_bars(bar_type(instrument_id))
            self.subscribe_mark_prices(instrument_id)
            self.subscribe_index_prices(instrument_id)
            self.subscribe_funding_rates(instrument_id)
            self.subscribe_instrument_status(instrument_id)
            self.subscribe_data(
                DataType(DYDXOraclePrice, metadata={"instrument_id": instrument_id}),
                ClientId(DYDX),
            )

    def _keep(self, kind: str, data) -> None:
        self.received[kind].append(data)

    def on_instrument(self, instrument) -> None:
        self._keep("instrument", instrument)

    def on_order_book_deltas(self, deltas) -> None:
        self._keep("deltas", deltas)
        # The strategy's own book from the deltas alone (the cache's book also takes depth10)
        book = self.books.get(deltas.instrument_id)
        if book is None:
            book = self.books[deltas.instrument_id] = OrderBook(
                deltas.instrument_id, BookType.L2_MBP,
            )
        book.apply_deltas(deltas)
        if deltas.flags & RecordFlag.F_LAST:
            bid, ask = book.best_bid_price(), book.best_ask_price()
            if bid is not None and ask is not None and bid >= ask:
                self.crossed_books.append((deltas.instrument_id, bid, ask))

    def on_order_book_depth(self, depth) -> None:
        self._keep("depth", depth)

    def on_quote_tick(self, tick) -> None:
        self._keep("quote", tick)
        if tick.bid_price >= tick.ask_price:
            self.crossed_quotes.append(tick)

    def on_trade_tick(self, tick) -> None:
        self._keep("trade", tick)

    def on_bar(self, bar) -> None:
        self._keep("bar", bar)

    def on_mark_price(self, update) -> None:
        self._keep("mark", update)

    def on_index_price(self, update) -> None:
        self._keep("index", update)

    def on_funding_rate(self, update) -> None:
        self._keep("funding", update)

    def on_instrument_status(self, status) -> None:
        self._keep("status", status)

    def on_data(self, data) -> None:
        data = getattr(data, "data", data)  # CustomData wraps the object
        self._keep(type(data).__name__, data)

    def on_historical_data(self, data) -> None:
        self._keep("historical", data)

    def of(self, kind: str, instrument_id: InstrumentId | None = None) -> list:
        items = self.received.get(kind, [])
        if instrument_id is None:
            return list(items)
        return [i for i in items if _instrument_of(i) == instrument_id]


def _instrument_of(item) -> InstrumentId | str:
    bar_type = getattr(item, "bar_type", None)
    if bar_type is not None:
        return bar_type.instrument_id
    if isinstance(item, Instrument):
        return item.id
    return getattr(item, "instrument_id", None) or ""


def sandbox_config(**overrides) -> SandboxConfig:
    values = dict(
        seed=3, auto_blocks=False, block_time_ms=BLOCK_MS, extra_fields=True,
        genesis_time_ns=1_767_225_600_000_000_000,
        market_stats_interval_s=5,
    )
    values.update(overrides)
    return SandboxConfig(**values)


def expected_levels(
    sandbox: IndexerSandbox, ticker: str,
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The node's book as Nautilus raw (price, size) integers, best first."""
    market = next(
        m.config for m in sandbox.node.chain.markets.values() if m.config.ticker == ticker
    )
    return _raw_levels(market, *sandbox.node.orderbook(ticker))


def indexer_levels(
    sandbox: IndexerSandbox, ticker: str,
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The Indexer's raw (not uncrossed) book as Nautilus raw integers, best first."""
    market = sandbox.state.markets[ticker]
    return _raw_levels(market.config, *market.levels(uncross=False, depth=None))


def _raw_levels(
    market, bids: list[tuple[int, int]], asks: list[tuple[int, int]],
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    # (subticks, quantums) levels of `market` as Nautilus raw (price, size) integers
    price_unit = market.quantum_conversion_exponent - 6 - market.atomic_resolution

    def raw(subticks: int, quantums: int) -> tuple[int, int]:
        price = Decimal(subticks).scaleb(price_unit + 16)
        size = Decimal(quantums).scaleb(market.atomic_resolution + 16)
        assert price == price.to_integral_value() and size == size.to_integral_value()
        return int(price), int(size)

    return [raw(*level) for level in bids], [raw(*level) for level in asks]


def rest_levels(snapshot) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """A REST order book snapshot as Nautilus raw integers."""

    def raw(level) -> tuple[int, int]:
        return (
            int(Decimal(level.price).scaleb(16)),
            int(Decimal(level.size).scaleb(16)),
        )

    return [raw(level) for level in snapshot.bids], [raw(level) for level in snapshot.asks]


def book_levels(
    actor: Actor, instrument_id: InstrumentId,
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The book the strategy built from its deltas, as raw integers."""
    book = actor.books.get(instrument_id)
    if book is None:
        return [], []

    def levels(side) -> list[tuple[int, int]]:
        return [
            (level.price.raw, sum(order.size.raw for order in level.orders())) for level in side
        ]

    return levels(book.bids()), levels(book.asks())


@contextlib.asynccontextmanager
async def running_sandbox(
    config: SandboxConfig | None = None, agents: bool = True,
) -> AsyncIterator[IndexerSandbox]:
    sandbox = IndexerSandbox(config if config is not None else sandbox_config())
    await sandbox.start()
    try:
        if agents:
            sandbox.agents = MarketAgents(sandbox.node, AgentConfig(levels=30, requote_every=3))
            sandbox.agents.start()
        yield sandbox
    finally:
        await sandbox.stop()


def data_config(sandbox: IndexerSandbox, **overrides) -> DYDXDataClientConfig:
    values = dict(
        network="sandbox",
        base_url_http=sandbox.http_url,
        base_url_ws=sandbox.ws_url,
        instrument_provider=InstrumentProviderConfig(load_all=True),
        book_resync_cross_secs=0.5,
        retry_delay_initial_ms=50,
        retry_delay_max_ms=200,
    )
    values.update(overrides)
    return DYDXDataClientConfig(**values)


@contextlib.asynccontextmanager
async def running_node(
    sandbox: IndexerSandbox, actor: Actor, **overrides,
) -> AsyncIterator[TradingNode]:
    clear_cached_clients()
    config = TradingNodeConfig(
        trader_id="TESTER-001",
        logging=LoggingConfig(log_level="ERROR"),
        data_clients={DYDX: data_config(sandbox, **overrides)},
    )
    node = TradingNode(config=config, loop=asyncio.get_running_loop())
    node.add_data_client_factory(DYDX, DYDXLiveDataClientFactory)
    node.trader.add_actor(actor)
    node.build()
    task = asyncio.get_running_loop().create_task(node.run_async())
    try:
        await wait_for(lambda: node.is_running() and actor.is_running)
        yield node
    finally:
        await node.stop_async()
        await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        clear_cached_clients()


def data_client(node: TradingNode):
    return node.kernel.data_engine._clients[ClientId(DYDX)]
