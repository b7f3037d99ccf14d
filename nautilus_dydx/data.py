# SPDX-License-Identifier: Apache-2.0
"""DYDXDataClient: Indexer WebSocket market data and REST history for the Nautilus data engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from collections.abc import Iterable
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import Any

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.datetime import dt_to_unix_nanos
from nautilus_trader.data.messages import RequestBars
from nautilus_trader.data.messages import RequestData
from nautilus_trader.data.messages import RequestInstrument
from nautilus_trader.data.messages import RequestInstruments
from nautilus_trader.data.messages import RequestOrderBookSnapshot
from nautilus_trader.data.messages import RequestTradeTicks
from nautilus_trader.data.messages import SubscribeBars
from nautilus_trader.data.messages import SubscribeData
from nautilus_trader.data.messages import SubscribeFundingRates
from nautilus_trader.data.messages import SubscribeIndexPrices
from nautilus_trader.data.messages import SubscribeInstrument
from nautilus_trader.data.messages import SubscribeInstruments
from nautilus_trader.data.messages import SubscribeInstrumentStatus
from nautilus_trader.data.messages import SubscribeMarkPrices
from nautilus_trader.data.messages import SubscribeOrderBook
from nautilus_trader.data.messages import SubscribeQuoteTicks
from nautilus_trader.data.messages import SubscribeTradeTicks
from nautilus_trader.data.messages import UnsubscribeBars
from nautilus_trader.data.messages import UnsubscribeData
from nautilus_trader.data.messages import UnsubscribeFundingRates
from nautilus_trader.data.messages import UnsubscribeIndexPrices
from nautilus_trader.data.messages import UnsubscribeInstrument
from nautilus_trader.data.messages import UnsubscribeInstruments
from nautilus_trader.data.messages import UnsubscribeInstrumentStatus
from nautilus_trader.data.messages import UnsubscribeMarkPrices
from nautilus_trader.data.messages import UnsubscribeOrderBook
from nautilus_trader.data.messages import UnsubscribeQuoteTicks
from nautilus_trader.data.messages import UnsubscribeTradeTicks
from nautilus_trader.live.data_client import LiveMarketDataClient
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import DataType
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import InstrumentStatus
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_dydx._core.frames import FrameError
from nautilus_dydx._core.frames import FrameParser
from nautilus_dydx._core.frames import MarketUpdate
from nautilus_dydx._core.frames import iso_to_ns
from nautilus_dydx.book_audit import BookAuditor
from nautilus_dydx.book_audit import book_tops
from nautilus_dydx.book_audit import raw_levels
from nautilus_dydx.book_audit import top_gone
from nautilus_dydx.common.constants import DYDX
from nautilus_dydx.common.constants import DYDX_VENUE
from nautilus_dydx.common.enums import RESOLUTION_NANOS
from nautilus_dydx.common.enums import bar_type_to_resolution
from nautilus_dydx.common.symbol import instrument_id_to_ticker
from nautilus_dydx.common.topics import has_instrument_subscribers
from nautilus_dydx.common.types import DYDXOraclePrice
from nautilus_dydx.config import DYDXDataClientConfig
from nautilus_dydx.http.client import MAX_PAGE_SIZE
from nautilus_dydx.http.client import DYDXHttpClient
from nautilus_dydx.providers import DYDXInstrumentProvider
from nautilus_dydx.providers import MarketChange
from nautilus_dydx.websocket.client import DYDXWebSocketClient
from nautilus_dydx.websocket.subscriptions import ORDERBOOK


# Book subscription kinds sharing one venue `v4_orderbook` subscription per market
DELTAS = "deltas"
SNAPSHOTS = "snapshots"
DEPTH = "depth"
QUOTES = "quotes"
_DELTA_KINDS = frozenset((DELTAS, SNAPSHOTS))
_BOOK_OBJECT_KINDS = frozenset((DELTAS, SNAPSHOTS, DEPTH))

_UNBOUNDED_DEPTH = 1 << 20
_HOUSEKEEPING_SECS = 0.25
# In the reason of a resync because a book stayed crossed (parser and housekeeping alike), or
# of any resync or reconnect that found the book crossed (the WebSocket client adds it)
_CROSSED = "crossed"


def ns_to_iso(ns: int) -> str:
    """
    Return UNIX nanoseconds as the Indexer's ISO-8601 form, ``2026-01-01T00:00:00.000Z``.
    """
    seconds, rest = divmod(ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{rest // 1_000_000:03d}Z"


def _price(text: str, precision: int) -> Price:
    return Price.from_str(f"{Decimal(text):.{precision}f}")


def _quantity(text: str, precision: int) -> Quantity:
    return Quantity.from_str(f"{Decimal(text):.{precision}f}")


def snapshot_deltas(
    instrument_id: InstrumentId,
    bids: Iterable[tuple[int, int]],
    asks: Iterable[tuple[int, int]],
    price_precision: int,
    size_precision: int,
    sequence: int,
    ts: int,
) -> OrderBookDeltas:
    """
    Return a book snapshot as deltas: a CLEAR, then one ADD per level, all ``F_SNAPSHOT``.

    Parameters
    ----------
    instrument_id : InstrumentId
        The instrument.
    bids : Iterable[tuple[int, int]]
        The (raw price, raw size) bid levels, best first.
    asks : Iterable[tuple[int, int]]
        The (raw price, raw size) ask levels, best first.
    price_precision : int
        The price precision.
    size_precision : int
        The size precision.
    sequence : int
        The sequence of every delta.
    ts : int
        UNIX timestamp (nanoseconds) of every delta.

    Returns
    -------
    OrderBookDeltas

    """
    levels = [(OrderSide.BUY, p, q) for p, q in bids] + [(OrderSide.SELL, p, q) for p, q in asks]
    snapshot = RecordFlag.F_SNAPSHOT
    last = RecordFlag.F_SNAPSHOT | RecordFlag.F_LAST
    deltas = [
        OrderBookDelta.from_raw(
            instrument_id, BookAction.CLEAR, OrderSide.NO_ORDER_SIDE, 0, price_precision,
            0, size_precision, 0, snapshot if levels else last, sequence, ts, ts,
        ),
    ]
    final = len(levels) - 1
    for i, (side, price_raw, size_raw) in enumerate(levels):
        deltas.append(
            OrderBookDelta.from_raw(
                instrument_id, BookAction.ADD, side, price_raw, price_precision,
                size_raw, size_precision, 0, last if i == final else snapshot, sequence, ts, ts,
            ),
        )
    return OrderBookDeltas(instrument_id, deltas)


def _is_oracle_price(data_type: DataType) -> bool:
    # The built-in adapter's class of the same name (when it was imported first) is on the
    # same topics: a strategy that kept its import is served too
    return data_type.type.__name__ == DYDXOraclePrice.__name__


def _bounds(start: Any, end: Any) -> tuple[int, int]:
    start_ns = 0 if start is None else dt_to_unix_nanos(start)
    end_ns = (1 << 63) - 1 if end is None else dt_to_unix_nanos(end)
    return start_ns, end_ns


class DYDXDataClient(LiveMarketDataClient):
    """
    Provides market data from the dYdX v4 Indexer.

    Book deltas (L2), ``OrderBookDepth10`` and quotes come from one ``v4_orderbook``
    subscription per market, shared by reference count and uncrossed by the compiled book;
    trades from ``v4_trades``; closed ``LAST`` bars of the seven venue resolutions from
    ``v4_candles``; mark and index prices, ``DYDXOraclePrice``, funding rates, instrument
    status and instrument changes from ``v4_markets``. A book is resubscribed (and its fresh
    snapshot published with ``F_SNAPSHOT`` after a ``CLEAR``) after a message-id gap, a
    reconnect, or a cross that lasts longer than ``book_resync_cross_secs``; after such a cross,
    or any resync or reconnect while the book was crossed, once more when the top of the
    snapshot goes, as the Indexer's uncrossed snapshot may have left out levels it never
    streams again.

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
        The event loop for the client.
    client : DYDXHttpClient
        The Indexer REST client.
    msgbus : MessageBus
        The message bus for the client.
    cache : Cache
        The cache for the client.
    clock : LiveClock
        The clock for the client.
    instrument_provider : DYDXInstrumentProvider
        The instrument provider.
    ws_base_url : str
        The Indexer WebSocket URL.
    config : DYDXDataClientConfig
        The configuration for the client.
    name : str, optional
        The custom client ID.

    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client: DYDXHttpClient,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        instrument_provider: DYDXInstrumentProvider,
        ws_base_url: str,
        config: DYDXDataClientConfig,
        name: str | None = None,
    ) -> None:
        super().__init__(
            loop=loop,
            client_id=ClientId(name or DYDX),
            venue=DYDX_VENUE,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=instrument_provider,
            config=config,
        )
        self._http = client
        self._provider = instrument_provider
        self._config = config
        self._max_cross_ns = int(config.book_resync_cross_secs * 1_000_000_000)
        _, delay_initial_ms, delay_max_ms = config.retry_policy
        self._parser = FrameParser(emit_quotes=True)
        self._ws = DYDXWebSocketClient(
            ws_base_url,
            handler=self._on_objects,
            parser=self._parser,
            on_stale=self._on_stale,
            on_reconnected=self._on_reconnected,
            on_error=self._on_frame_error,
            on_snapshot=self._on_snapshot,
            reconnect_delay_initial_s=delay_initial_ms / 1000.0,
            reconnect_delay_max_s=delay_max_ms / 1000.0,
            handshake_timeout_s=config.ws_timeout_secs,
        )
        self._book_kinds: dict[InstrumentId, set[str]] = {}
        self._stale_books: set[InstrumentId] = set()
        # Books resubscribed because they stayed crossed: the Indexer uncrosses its snapshot by
        # leaving out the losing levels (§3.9) and never streams them again while unchanged,
        # so the top of such a snapshot is watched and the book resubscribed once more when
        # the winning level goes (the venue's own cross is over by then)
        self._cross_resyncs: set[InstrumentId] = set()
        self._lossy_tops: dict[InstrumentId, tuple[int, int]] = {}
        # Any other snapshot may have been taken in a cross the stream never showed: checked
        # against the REST book once its top goes
        self._auditor = BookAuditor(
            client, self._parser, self.resync_book, self._stale_books.__contains__,
        ) if config.book_audit else None
        self._last_quotes: dict[InstrumentId, tuple[int, int, int, int]] = {}
        self._trades: set[InstrumentId] = set()
        self._bars: dict[BarType, str] = {}
        self._mark_prices: set[InstrumentId] = set()
        self._index_prices: set[InstrumentId] = set()
        self._oracle_prices: set[InstrumentId] = set()
        self._oracle_all = False
        self._oracle_topic = f"data.{DataType(DYDXOraclePrice).topic}"
        self._funding_rates: set[InstrumentId] = set()
        self._statuses: set[InstrumentId] = set()
        self._background_tasks: list[asyncio.Task] = []
        self._handlers: dict[type, Callable[[Any], None]] = {
            OrderBookDeltas: self._on_deltas,
            QuoteTick: self._on_quote,
            TradeTick: self._on_trade,
            Bar: self._on_bar,
            MarkPriceUpdate: self._on_mark_price,
            IndexPriceUpdate: self._on_index_price,
            FundingRateUpdate: self._on_funding_rate,
            InstrumentStatus: self._on_status,
            MarketUpdate: self._on_market_update,
        }
        self._venue_offset_ns = 0
        self.resyncs = 0
        self.ws_connected_ns: int | None = None
        # True while some book needs per-object checks (a stale book or a depth subscriber);
        # otherwise the parser returns only subscribed objects and they go straight through
        self._checked_deltas = False

    @property
    def ws_client(self) -> DYDXWebSocketClient:
        """
        Return the WebSocket client.
        """
        return self._ws

    @property
    def parser(self) -> FrameParser:
        """
        Return the compiled frame parser (its market contexts hold the local books).
        """
        return self._parser

    # -- Connection ----------------------------------------------------------------------------

    async def _connect(self) -> None:
        await self._provider.initialize()
        for instrument in self._provider.list_all():
            self._register(instrument)
            self._publish_instrument(instrument)
        self._provider.add_listener(self._on_market_change)
        await self._measure_venue_clock()
        await self._ws.connect(timeout=self._config.ws_timeout_secs)
        self.ws_connected_ns = self._clock.timestamp_ns()
        await self._ws.subscribe_markets()
        housekeeping = self.create_task(self._housekeeping(), log_msg="housekeeping")
        self._background_tasks.append(housekeeping)
        interval = self._config.update_instruments_interval_mins
        if interval:
            self._background_tasks.append(
                self.create_task(self._reload_instruments(interval * 60.0), log_msg="reload"),
            )

    async def _measure_venue_clock(self) -> None:
        # The venue's clock is its last block time: bars close by it, not by the local clock
        try:
            height = await self._http.get_height()
        except Exception as e:
            self._log.warning(f"Cannot read the venue time, using the local clock: {e!r}")
            return
        self._venue_offset_ns = iso_to_ns(height.time) - self._clock.timestamp_ns()

    def venue_time_ns(self) -> int:
        """
        Return the venue's time now: the local clock shifted by the last measured offset.
        """
        return self._clock.timestamp_ns() + self._venue_offset_ns

    async def _disconnect(self) -> None:
        for task in self._background_tasks:
            task.cancel()
        self._background_tasks.clear()
        if self._auditor is not None:
            self._auditor.close()
        self._provider.remove_listener(self._on_market_change)
        await self._ws.disconnect()

    async def _housekeeping(self) -> None:
        # Close bars whose period ended and resubscribe books crossed for too long
        while True:
            await asyncio.sleep(_HOUSEKEEPING_SECS)
            now = self._clock.timestamp_ns()
            try:
                for bar in self._parser.flush_closed_bars(now + self._venue_offset_ns):
                    self._on_bar(bar)
                for instrument_id in list(self._book_kinds):
                    context = self._parser.context(instrument_id_to_ticker(instrument_id))
                    if context is not None and context.book.check_cross(now):
                        self.resync_book(instrument_id, "crossed longer than allowed")
                # Also here: a crossing level the uncrossed view hides goes without deltas
                for instrument_id in list(self._lossy_tops):
                    self._check_lossy_snapshot(instrument_id)
                if self._auditor is not None:
                    self._auditor.poll()
            except Exception as e:
                self._log.exception("Housekeeping failed", e)

    async def _reload_instruments(self, interval_secs: float) -> None:
        while True:
            await asyncio.sleep(interval_secs)
            try:
                await self._provider.load_all_async(self._provider._filters)
            except Exception as e:
                self._log.warning(f"Reloading instruments failed: {e!r}")

    def _register(self, instrument: Instrument) -> None:
        self._ws.register_market(
            instrument.raw_symbol.value,
            instrument.id,
            instrument.price_precision,
            instrument.size_precision,
            self._max_cross_ns,
        )
        self._route(instrument.id)

    def _route(self, instrument_id: InstrumentId) -> None:
        # Tell the parser which objects of this market have subscribers; call after every
        # change to the book kinds, trade subscriptions or stale books
        context = self._parser.context(instrument_id_to_ticker(instrument_id))
        if context is not None:
            kinds = self._book_kinds.get(instrument_id, ())
            # A stale book must see its fresh snapshot, whatever is subscribed
            context.publish_deltas = instrument_id in self._stale_books or not (
                _BOOK_OBJECT_KINDS.isdisjoint(kinds)
            )
            context.publish_quotes = QUOTES in kinds
            context.publish_trades = instrument_id in self._trades
        self._checked_deltas = bool(self._stale_books) or bool(self._lossy_tops) or any(
            DEPTH in kinds for kinds in self._book_kinds.values()
        )
        # Trades, and deltas that need no check, go from the compiled listener to the engine
        self._ws.set_direct(self._handle_data, deltas=not self._checked_deltas)

    def _publish_instrument(self, instrument: Instrument) -> None:
        # Nautilus 1.221's MessageBus.subscribe matches a new pattern subscription against
        # topics it has already published with the arguments swapped, so a topic published
        # before `subscribe_instruments(venue)` (data.instrument.DYDX.*) never reaches it.
        # Publish only once someone listens (the first publish then resolves every match);
        # until then the instrument goes straight to the cache, as the engine would put it.
        if has_instrument_subscribers(self._msgbus, instrument.id):
            self._handle_data(instrument)
        else:
            self._cache.add_instrument(instrument)

    def _on_market_change(self, change: MarketChange) -> None:
        instrument = change.instrument
        if change.precision_changed:
            self._register(instrument)
        self._publish_instrument(instrument)
        if change.precision_changed and not change.is_new and instrument.id in self._book_kinds:
            self.resync_book(instrument.id, "instrument precision changed")

    def resync_book(self, instrument_id: InstrumentId, reason: str) -> None:
        """
        Resubscribe the book of `instrument_id`; its fresh snapshot replaces the book.

        Parameters
        ----------
        instrument_id : InstrumentId
            The instrument.
        reason : str
            Why (logged).

        """
        ticker = instrument_id_to_ticker(instrument_id)
        self._log.warning(f"Resubscribing the {ticker} book: {reason}")
        self.resyncs += 1
        self._mark_stale(instrument_id, reason)
        self._ws.resync_orderbook(ticker, reason)

    def _mark_stale(self, instrument_id: InstrumentId, reason: str) -> None:
        # Nothing of the book is published until its fresh snapshot; after a cross, the top of
        # that snapshot is watched
        self._stale_books.add(instrument_id)
        self._lossy_tops.pop(instrument_id, None)
        if self._auditor is not None:
            self._auditor.forget(instrument_id)
        if _CROSSED in reason:
            self._cross_resyncs.add(instrument_id)
        self._last_quotes.pop(instrument_id, None)
        self._route(instrument_id)

    # -- WebSocket callbacks -------------------------------------------------------------------

    def _on_objects(self, objects: list) -> None:
        handlers = self._handlers
        for obj in objects:
            handler = handlers.get(type(obj))
            if handler is not None:
                handler(obj)

    def _on_stale(self, channel: str, channel_id: str | None, reason: str) -> None:
        if channel != ORDERBOOK or channel_id is None:
            return
        context = self._parser.context(channel_id)
        if context is None:
            return
        self._mark_stale(context.instrument_id, reason)
        self._log.warning(f"Book {channel_id} is stale ({reason}); waiting for a fresh snapshot")

    def _on_snapshot(self, channel: str, channel_id: str | None) -> None:
        # A snapshot taken for a cross is watched by `_on_deltas` (it is known to be lossy)
        if self._auditor is None or channel != ORDERBOOK or channel_id is None:
            return
        context = self._parser.context(channel_id)
        if context is None:
            return
        instrument_id = context.instrument_id
        if instrument_id in self._book_kinds and instrument_id not in self._cross_resyncs:
            self._auditor.watch(instrument_id)

    def _on_reconnected(self, index: int, keys: list) -> None:
        self._log.info(f"WebSocket {index} reconnected; resubscribing {len(keys)} channels")

    def _on_frame_error(self, error: FrameError) -> None:
        self._log.error(f"Dropped a malformed Indexer frame: {error}")

    def _on_deltas(self, deltas: OrderBookDeltas) -> None:
        if not self._checked_deltas:
            # The parser returns deltas only for markets with a deltas or snapshots subscriber
            self._handle_data(deltas)
            return
        instrument_id = deltas.instrument_id
        kinds = self._book_kinds.get(instrument_id)
        if kinds is None:
            return
        if deltas.is_snapshot:
            if instrument_id in self._stale_books:
                self._stale_books.discard(instrument_id)
                if instrument_id in self._cross_resyncs:
                    self._cross_resyncs.discard(instrument_id)
                    self._watch_lossy_snapshot(instrument_id)
                self._route(instrument_id)
        elif instrument_id in self._stale_books:
            return
        elif instrument_id in self._lossy_tops:
            self._check_lossy_snapshot(instrument_id)
        if not _DELTA_KINDS.isdisjoint(kinds):
            self._handle_data(deltas)
        if DEPTH in kinds:
            context = self._parser.context(instrument_id_to_ticker(instrument_id))
            if context is not None:
                self._handle_data(context.book.depth10(deltas.ts_event, deltas.ts_init))

    def _watch_lossy_snapshot(self, instrument_id: InstrumentId) -> None:
        tops = book_tops(self._parser, instrument_id)
        if tops is not None:
            self._lossy_tops[instrument_id] = tops

    def _check_lossy_snapshot(self, instrument_id: InstrumentId) -> None:
        # The snapshot's best bid or ask left the raw book (not just the uncrossed view, which
        # newer levels of the other side may hide): what it hid may show at the venue now
        if top_gone(self._parser, instrument_id, self._lossy_tops[instrument_id]):
            self.resync_book(
                instrument_id, "the top of a snapshot taken during a cross is gone",
            )

    def _on_quote(self, quote: QuoteTick) -> None:
        instrument_id = quote.instrument_id
        kinds = self._book_kinds.get(instrument_id)
        if kinds is None or QUOTES not in kinds or instrument_id in self._stale_books:
            return
        key = (quote.bid_price.raw, quote.ask_price.raw, quote.bid_size.raw, quote.ask_size.raw)
        if self._last_quotes.get(instrument_id) == key:
            return
        self._last_quotes[instrument_id] = key
        self._handle_data(quote)

    def _on_trade(self, trade: TradeTick) -> None:
        # The parser returns live trades only for markets with a trades subscriber
        self._handle_data(trade)

    def _on_bar(self, bar: Bar) -> None:
        if bar.bar_type in self._bars:
            self._handle_data(bar)

    def _on_mark_price(self, update: MarkPriceUpdate) -> None:
        instrument_id = update.instrument_id
        if instrument_id in self._mark_prices:
            self._handle_data(update)
        if self._oracle_all or instrument_id in self._oracle_prices:
            oracle = DYDXOraclePrice(
                instrument_id=instrument_id,
                price=update.value.as_decimal(),
                ts_event=update.ts_event,
                ts_init=update.ts_init,
            )
            if instrument_id in self._oracle_prices:
                data_type = DataType(DYDXOraclePrice, metadata={"instrument_id": instrument_id})
                self._handle_data(CustomData(data_type, oracle))
            if self._oracle_all:
                # The built-in adapter's topic: every market, no metadata
                self._msgbus.publish(topic=self._oracle_topic, msg=oracle)

    def _on_index_price(self, update: IndexPriceUpdate) -> None:
        if update.instrument_id in self._index_prices:
            self._handle_data(update)

    def _on_funding_rate(self, update: FundingRateUpdate) -> None:
        if update.instrument_id in self._funding_rates:
            self._handle_data(update)

    def _on_status(self, status: InstrumentStatus) -> None:
        if status.instrument_id in self._statuses:
            self._handle_data(status)

    def _on_market_update(self, record: MarketUpdate) -> None:
        # Markets the provider does not hold are added only when it is configured to load all
        if self._provider.market_by_ticker(record.ticker) is None and not self._provider.loads_all:
            return
        try:
            self._provider.apply_market_update(record.ticker, record.fields)
        except Exception as e:
            self._log.exception(f"Market update for {record.ticker} failed", e)

    # -- Subscriptions -------------------------------------------------------------------------

    async def _instrument_or_log(
        self, instrument_id: InstrumentId, what: str,
    ) -> Instrument | None:
        instrument = self._provider.find(instrument_id)
        if instrument is None:
            # Not configured to load: fetch it now (the provider's listener publishes it)
            try:
                await self._provider.load_async(instrument_id)
            except Exception as e:
                self._log.warning(f"Cannot load {instrument_id}: {e!r}")
            instrument = self._provider.find(instrument_id)
        if instrument is None:
            self._log.error(f"Cannot subscribe to {what}: no instrument for {instrument_id}")
        return instrument

    async def _add_book_kind(self, instrument_id: InstrumentId, kind: str) -> None:
        if await self._instrument_or_log(instrument_id, f"book {kind}") is None:
            return
        ticker = instrument_id_to_ticker(instrument_id)
        kinds = self._book_kinds.setdefault(instrument_id, set())
        if kind in kinds:
            return
        shared = bool(kinds)
        kinds.add(kind)
        self._route(instrument_id)
        await self._ws.subscribe_orderbook(ticker)
        if shared and instrument_id not in self._stale_books:
            # The venue subscription is live already: start the new subscriber from a snapshot
            self._publish_local_snapshot(instrument_id, kind)

    async def _remove_book_kind(self, instrument_id: InstrumentId, kind: str) -> None:
        kinds = self._book_kinds.get(instrument_id)
        if kinds is None or kind not in kinds:
            return
        kinds.discard(kind)
        if not kinds:
            del self._book_kinds[instrument_id]
            self._stale_books.discard(instrument_id)
            self._last_quotes.pop(instrument_id, None)
            self._lossy_tops.pop(instrument_id, None)
            self._cross_resyncs.discard(instrument_id)
            if self._auditor is not None:
                self._auditor.forget(instrument_id)
        self._route(instrument_id)
        await self._ws.unsubscribe_orderbook(instrument_id_to_ticker(instrument_id))

    def _publish_local_snapshot(self, instrument_id: InstrumentId, kind: str) -> None:
        context = self._parser.context(instrument_id_to_ticker(instrument_id))
        if context is None or context.book.last_message_id == 0:
            return
        now = self._clock.timestamp_ns()
        if kind in (DELTAS, SNAPSHOTS):
            self._handle_data(self._snapshot_from_book(context, now))
        elif kind == DEPTH:
            self._handle_data(context.book.depth10(now, now))
        elif kind == QUOTES:
            quote = context.book.quote(now, now)
            if quote is not None:
                self._on_quote(quote)

    @staticmethod
    def _snapshot_from_book(context: Any, ts: int) -> OrderBookDeltas:
        bids, asks = context.book.view(_UNBOUNDED_DEPTH)
        return snapshot_deltas(
            context.instrument_id, bids, asks, context.price_precision, context.size_precision,
            context.book.last_message_id, ts,
        )

    async def _subscribe_order_book_deltas(self, command: SubscribeOrderBook) -> None:
        await self._add_book_kind(command.instrument_id, DELTAS)

    async def _subscribe_order_book_snapshots(self, command: SubscribeOrderBook) -> None:
        await self._add_book_kind(command.instrument_id, SNAPSHOTS)

    def subscribe_order_book_depth(self, command: SubscribeOrderBook) -> None:
        """
        Subscribe to ``OrderBookDepth10`` of an instrument (built from the venue book).
        """
        self._add_subscription_order_book_snapshots(command.instrument_id)
        self.create_task(
            self._add_book_kind(command.instrument_id, DEPTH),
            log_msg=f"subscribe: order_book_depth {command.instrument_id}",
        )

    def unsubscribe_order_book_depth(self, command: UnsubscribeOrderBook) -> None:
        """
        Unsubscribe from ``OrderBookDepth10`` of an instrument.
        """
        self._remove_subscription_order_book_snapshots(command.instrument_id)
        self.create_task(
            self._remove_book_kind(command.instrument_id, DEPTH),
            log_msg=f"unsubscribe: order_book_depth {command.instrument_id}",
        )

    async def _subscribe_quote_ticks(self, command: SubscribeQuoteTicks) -> None:
        await self._add_book_kind(command.instrument_id, QUOTES)

    async def _unsubscribe_order_book_deltas(self, command: UnsubscribeOrderBook) -> None:
        await self._remove_book_kind(command.instrument_id, DELTAS)

    async def _unsubscribe_order_book_snapshots(self, command: UnsubscribeOrderBook) -> None:
        await self._remove_book_kind(command.instrument_id, SNAPSHOTS)

    async def _unsubscribe_quote_ticks(self, command: UnsubscribeQuoteTicks) -> None:
        await self._remove_book_kind(command.instrument_id, QUOTES)

    async def _subscribe_trade_ticks(self, command: SubscribeTradeTicks) -> None:
        instrument_id = command.instrument_id
        if await self._instrument_or_log(instrument_id, "trades") is None or (
            instrument_id in self._trades
        ):
            return
        self._trades.add(instrument_id)
        self._route(instrument_id)
        await self._ws.subscribe_trades(instrument_id_to_ticker(instrument_id))

    async def _unsubscribe_trade_ticks(self, command: UnsubscribeTradeTicks) -> None:
        if command.instrument_id in self._trades:
            self._trades.discard(command.instrument_id)
            self._route(command.instrument_id)
            await self._ws.unsubscribe_trades(instrument_id_to_ticker(command.instrument_id))

    async def _subscribe_bars(self, command: SubscribeBars) -> None:
        bar_type = command.bar_type
        try:
            resolution = bar_type_to_resolution(bar_type)
        except ValueError as e:
            self._log.error(f"Cannot subscribe to {bar_type} bars: {e}")
            self._remove_subscription_bars(bar_type)
            return
        if await self._instrument_or_log(bar_type.instrument_id, "bars") is None:
            self._remove_subscription_bars(bar_type)
            return
        if bar_type in self._bars:
            return
        self._bars[bar_type] = resolution
        ticker = instrument_id_to_ticker(bar_type.instrument_id)
        await self._ws.subscribe_candles(ticker, resolution)

    async def _unsubscribe_bars(self, command: UnsubscribeBars) -> None:
        resolution = self._bars.pop(command.bar_type, None)
        if resolution is not None:
            ticker = instrument_id_to_ticker(command.bar_type.instrument_id)
            await self._ws.unsubscribe_candles(ticker, resolution)

    async def _subscribe_mark_prices(self, command: SubscribeMarkPrices) -> None:
        self._mark_prices.add(command.instrument_id)

    async def _unsubscribe_mark_prices(self, command: UnsubscribeMarkPrices) -> None:
        self._mark_prices.discard(command.instrument_id)

    async def _subscribe_index_prices(self, command: SubscribeIndexPrices) -> None:
        self._index_prices.add(command.instrument_id)

    async def _unsubscribe_index_prices(self, command: UnsubscribeIndexPrices) -> None:
        self._index_prices.discard(command.instrument_id)

    async def _subscribe_funding_rates(self, command: SubscribeFundingRates) -> None:
        self._funding_rates.add(command.instrument_id)

    async def _unsubscribe_funding_rates(self, command: UnsubscribeFundingRates) -> None:
        self._funding_rates.discard(command.instrument_id)

    async def _subscribe_instrument_status(self, command: SubscribeInstrumentStatus) -> None:
        self._statuses.add(command.instrument_id)

    async def _unsubscribe_instrument_status(self, command: UnsubscribeInstrumentStatus) -> None:
        self._statuses.discard(command.instrument_id)

    async def _subscribe_instruments(self, command: SubscribeInstruments) -> None:
        # Instrument changes arrive on `v4_markets`, subscribed while connected
        pass

    async def _unsubscribe_instruments(self, command: UnsubscribeInstruments) -> None:
        pass

    async def _subscribe_instrument(self, command: SubscribeInstrument) -> None:
        pass

    async def _unsubscribe_instrument(self, command: UnsubscribeInstrument) -> None:
        pass

    async def _subscribe(self, command: SubscribeData) -> None:
        data_type = command.data_type
        instrument_id = self._metadata_instrument_id(data_type)
        if _is_oracle_price(data_type):
            if instrument_id is None:
                self._oracle_all = True
            else:
                self._oracle_prices.add(instrument_id)
            return
        self._log.error(f"Cannot subscribe to {data_type}: not provided by dYdX")

    async def _unsubscribe(self, command: UnsubscribeData) -> None:
        instrument_id = self._metadata_instrument_id(command.data_type)
        if _is_oracle_price(command.data_type):
            if instrument_id is None:
                self._oracle_all = False
            else:
                self._oracle_prices.discard(instrument_id)

    @staticmethod
    def _metadata_instrument_id(data_type: DataType) -> InstrumentId | None:
        value = (data_type.metadata or {}).get("instrument_id")
        if value is None:
            return None
        return value if isinstance(value, InstrumentId) else InstrumentId.from_str(str(value))

    # -- Requests ------------------------------------------------------------------------------

    async def _request_instrument(self, request: RequestInstrument) -> None:
        await self._provider.load_async(request.instrument_id)
        instrument = self._provider.find(request.instrument_id)
        if instrument is None:
            self._log.error(f"Cannot find instrument for {request.instrument_id}")
            return
        self._handle_instrument(
            instrument, request.id, request.start, request.end, request.params,
        )

    async def _request_instruments(self, request: RequestInstruments) -> None:
        await self._provider.load_all_async(self._provider._filters)
        self._handle_instruments(
            request.venue, self._provider.list_all(), request.id, request.start, request.end,
            request.params,
        )

    async def _request_bars(self, request: RequestBars) -> None:
        bar_type = request.bar_type
        try:
            bars = await self.fetch_bars(bar_type, request.start, request.end, request.limit)
        except ValueError as e:
            self._log.error(f"Cannot request {bar_type} bars: {e}")
            bars = []
        self._handle_bars(bar_type, bars, request.id, request.start, request.end, request.params)

    async def fetch_bars(
        self,
        bar_type: BarType,
        start: Any = None,
        end: Any = None,
        limit: int = 0,
        page_size: int = MAX_PAGE_SIZE,
    ) -> list[Bar]:
        """
        Return the closed bars of `bar_type` closing in [start, end], oldest first.

        Every page of the venue is read (no duplicates); the forming bar is excluded and
        ``ts_event`` is each bar's close. With `limit`, the newest `limit` bars are returned.

        Parameters
        ----------
        bar_type : BarType
            An EXTERNAL ``LAST`` bar type of a venue resolution.
        start : datetime, optional
            The earliest close.
        end : datetime, optional
            The latest close.
        limit : int, default 0
            At most this many bars (0 = no limit).
        page_size : int, default 1000
            Candles per request.

        Returns
        -------
        list[Bar]

        Raises
        ------
        ValueError
            If the venue has no such bars or the instrument is unknown.

        """
        resolution = bar_type_to_resolution(bar_type)
        instrument = self._provider.find(bar_type.instrument_id) or self._cache.instrument(
            bar_type.instrument_id,
        )
        if instrument is None:
            raise ValueError(f"no instrument for {bar_type.instrument_id}")
        duration = RESOLUTION_NANOS[resolution]
        start_ns, end_ns = _bounds(start, end)
        now = self._clock.timestamp_ns()
        # The newest candle is forming until the venue's last block passes its close
        venue_now = iso_to_ns((await self._http.get_height()).time)
        from_iso = None if start is None else ns_to_iso(max(0, start_ns - duration))
        to_iso = None if end is None else ns_to_iso(end_ns - duration + 1_000_000)
        bars: list[Bar] = []
        pp, sp = instrument.price_precision, instrument.size_precision
        async for candle in self._http.iter_candles(
            instrument.raw_symbol.value, resolution, from_iso, to_iso, page_size,
        ):
            close_ns = iso_to_ns(candle.started_at) + duration
            if close_ns > venue_now or not start_ns <= close_ns <= end_ns:
                continue
            bars.append(
                Bar(
                    bar_type,
                    _price(candle.open, pp),
                    _price(candle.high, pp),
                    _price(candle.low, pp),
                    _price(candle.close, pp),
                    _quantity(candle.base_token_volume, sp),
                    close_ns,
                    now,
                ),
            )
            if limit and len(bars) >= limit:
                break
        bars.sort(key=lambda b: b.ts_event)
        return bars

    async def _request_trade_ticks(self, request: RequestTradeTicks) -> None:
        try:
            trades = await self.fetch_trades(
                request.instrument_id, request.start, request.end, request.limit,
            )
        except ValueError as e:
            self._log.error(f"Cannot request trades of {request.instrument_id}: {e}")
            trades = []
        self._handle_trade_ticks(
            request.instrument_id, trades, request.id, request.start, request.end, request.params,
        )

    async def fetch_trades(
        self,
        instrument_id: InstrumentId,
        start: Any = None,
        end: Any = None,
        limit: int = 0,
        page_size: int = MAX_PAGE_SIZE,
    ) -> list[TradeTick]:
        """
        Return the public trades of `instrument_id` in [start, end], oldest first.

        With `limit`, the newest `limit` trades are returned.

        Raises
        ------
        ValueError
            If the instrument is unknown.

        """
        instrument = self._provider.find(instrument_id) or self._cache.instrument(instrument_id)
        if instrument is None:
            raise ValueError(f"no instrument for {instrument_id}")
        start_ns, end_ns = _bounds(start, end)
        now = self._clock.timestamp_ns()
        pp, sp = instrument.price_precision, instrument.size_precision
        trades: list[TradeTick] = []
        async for trade in self._http.iter_trades(instrument.raw_symbol.value, page_size):
            ts_event = iso_to_ns(trade.created_at)
            if ts_event > end_ns:
                continue
            if ts_event < start_ns:
                break
            side = trade.side
            trades.append(
                TradeTick(
                    instrument_id,
                    _price(trade.price, pp),
                    _quantity(trade.size, sp),
                    AggressorSide.BUYER if side == "BUY" else (
                        AggressorSide.SELLER if side == "SELL" else AggressorSide.NO_AGGRESSOR
                    ),
                    TradeId(trade.id),
                    ts_event,
                    now,
                ),
            )
            if limit and len(trades) >= limit:
                break
        trades.reverse()
        return trades

    async def _request_order_book_snapshot(self, request: RequestOrderBookSnapshot) -> None:
        instrument_id = request.instrument_id
        instrument = self._provider.find(instrument_id) or self._cache.instrument(instrument_id)
        if instrument is None:
            self._log.error(f"Cannot request a book snapshot: no instrument for {instrument_id}")
            return
        book = await self._http.get_orderbook(instrument.raw_symbol.value)
        now = self._clock.timestamp_ns()
        depth = request.limit or None
        pp, sp = instrument.price_precision, instrument.size_precision
        deltas = snapshot_deltas(
            instrument_id,
            raw_levels(book.bids[:depth], pp, sp),
            raw_levels(book.asks[:depth], pp, sp),
            pp, sp, 0, now,
        )
        self._handle_data_response(
            DataType(OrderBookDeltas, metadata={"instrument_id": instrument_id}),
            [deltas],
            request.id,
            None,
            None,
            request.params,
        )

    async def _request(self, request: RequestData) -> None:
        data_type = request.data_type
        instrument_id = self._metadata_instrument_id(data_type)
        if data_type.type is FundingRateUpdate and instrument_id is not None:
            limit = getattr(request, "limit", 0) or 0
            rates = await self.fetch_funding_rates(
                instrument_id, request.start, request.end, limit,
            )
            self._handle_data_response(
                data_type, rates, request.id, request.start, request.end, request.params,
            )
            return
        self._log.error(f"Cannot request {data_type}: not provided by dYdX")

    async def fetch_funding_rates(
        self,
        instrument_id: InstrumentId,
        start: Any = None,
        end: Any = None,
        limit: int = 0,
    ) -> list[FundingRateUpdate]:
        """
        Return the hourly funding rates of `instrument_id` in [start, end], oldest first.
        """
        start_ns, end_ns = _bounds(start, end)
        now = self._clock.timestamp_ns()
        rates: list[FundingRateUpdate] = []
        async for item in self._http.iter_historical_funding(
            instrument_id_to_ticker(instrument_id),
        ):
            ts_event = iso_to_ns(item.effective_at)
            if ts_event > end_ns:
                continue
            if ts_event < start_ns:
                break
            rates.append(FundingRateUpdate(instrument_id, Decimal(item.rate), ts_event, now))
            if limit and len(rates) >= limit:
                break
        rates.reverse()
        return rates
