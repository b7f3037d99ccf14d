# SPDX-License-Identifier: Apache-2.0
"""DYDXWebSocketClient: a pool of picows Indexer connections feeding the compiled parser."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any
from typing import NamedTuple

from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core.frames import RESOLUTIONS
from nautilus_dydx._core.frames import FrameError
from nautilus_dydx._core.frames import FrameParser
from nautilus_dydx._core.frames import MarketContext
from nautilus_dydx.common.address import check_address
from nautilus_dydx.websocket.connection import PooledConnection
from nautilus_dydx.websocket.subscriptions import BLOCK_HEIGHT
from nautilus_dydx.websocket.subscriptions import CANDLES
from nautilus_dydx.websocket.subscriptions import MARKETS
from nautilus_dydx.websocket.subscriptions import ORDERBOOK
from nautilus_dydx.websocket.subscriptions import PARENT_SUBACCOUNTS
from nautilus_dydx.websocket.subscriptions import SUBACCOUNTS
from nautilus_dydx.websocket.subscriptions import TRADES
from nautilus_dydx.websocket.subscriptions import Backoff
from nautilus_dydx.websocket.subscriptions import Key
from nautilus_dydx.websocket.subscriptions import SubscriptionState


log = logging.getLogger("nautilus_dydx.websocket")


class _Resync(NamedTuple):
    # The fields of a `ResyncNeeded` record that a connection's `on_resync` reads
    channel: str
    id: str
    reason: str


class DYDXWebSocketClient:
    """
    A dYdX v4 Indexer WebSocket client: a pool of picows connections parsed in place.

    Every frame goes straight from the socket buffer into the compiled `FrameParser`, and
    `handler` is called once per frame with the finished Nautilus objects and typed records.
    Subscriptions are reference-counted and spread over as many connections as the Indexer's
    per-connection limits need (at most `max_subscriptions_per_connection` per market channel
    on each). Subscribes are paced per (connection, channel, id). A lost connection is
    re-established with exponential backoff and jitter, every subscription is sent again, and
    `on_stale` is told which state to distrust until its new snapshot arrives.

    Parameters
    ----------
    url : str
        The Indexer WebSocket URL, e.g. ``wss://indexer.dydx.trade/v4/ws``.
    handler : Callable[[list], None]
        Receives the objects of each frame (never an empty list).
    parser : FrameParser | None, default None
        The parser to use (a new one when ``None``); register markets with `register_market`.
    on_stale : Callable[[str, str | None, str], None] | None, default None
        Called with (channel, id, reason) when a subscription's local state stopped being
        trustworthy: disconnect, lost messages, a failed snapshot or a resync. Books and
        accounts are rebuilt from the next ``subscribed`` snapshot.
    on_reconnected : Callable[[int, list[tuple[str, str | None]]], None] | None, default None
        Called with (connection index, subscriptions) once a connection is back; the
        subscriptions are being sent again and message ids restart from 0.
    on_error : Callable[[FrameError], None] | None, default None
        Receives each malformed frame's `FrameError` (the frame is dropped).
    on_snapshot : Callable[[str, str | None], None] | None, default None
        Called with (channel, id) for each ``subscribed`` message, just after its snapshot was
        parsed (a book's local book then holds exactly that snapshot).
    max_subscriptions_per_connection : int, default 32
        The cap per market channel per connection (the Indexer allows 32).
    subscribe_rate : int, default 2
        Subscribe attempts allowed per (connection, channel, id) per window.
    subscribe_window_s : float, default 1.2
        The pacing window in seconds.
    reconnect_delay_initial_s : float, default 0.25
        The first reconnect delay.
    reconnect_delay_max_s : float, default 30.0
        The cap of the reconnect delay.
    reconnect_backoff_factor : float, default 2.0
        The growth of the delay per failed attempt.
    reconnect_jitter : bool, default True
        Whether to randomise reconnect delays.
    stable_after_s : float, default 10.0
        A connection that lived this long resets the backoff.
    policy_close_delay_s : float, default 1.0
        The least delay after a 1008 (rate limited) close.
    resubscribe_delay_s : float, default 1.0
        The delay before subscribing again after the Indexer's internal error.
    idle_timeout_s : float, default 20.0
        Ping the server after this long without incoming data.
    ping_reply_timeout_s : float, default 10.0
        Declare the socket dead if the pong does not come within this time.
    handshake_timeout_s : float, default 10.0
        The WebSocket handshake timeout.
    batched : bool, default False
        Whether to subscribe in batched mode (``channel_batch_data`` every 250 ms).
    read_buffer_bytes : int, default 262_144
        The initial socket read buffer (larger reads mean fewer loop wake-ups under load).
    seed : int | None, default None
        Seed for the reconnect jitter.

    """

    def __init__(
        self,
        url: str,
        handler: Callable[[list], None],
        parser: FrameParser | None = None,
        on_stale: Callable[[str, str | None, str], None] | None = None,
        on_reconnected: Callable[[int, list[Key]], None] | None = None,
        on_error: Callable[[FrameError], None] | None = None,
        on_snapshot: Callable[[str, str | None], None] | None = None,
        max_subscriptions_per_connection: int = 32,
        subscribe_rate: int = 2,
        subscribe_window_s: float = 1.2,
        reconnect_delay_initial_s: float = 0.25,
        reconnect_delay_max_s: float = 30.0,
        reconnect_backoff_factor: float = 2.0,
        reconnect_jitter: bool = True,
        stable_after_s: float = 10.0,
        policy_close_delay_s: float = 1.0,
        resubscribe_delay_s: float = 1.0,
        idle_timeout_s: float = 20.0,
        ping_reply_timeout_s: float = 10.0,
        handshake_timeout_s: float = 10.0,
        batched: bool = False,
        read_buffer_bytes: int = 1 << 18,
        seed: int | None = None,
    ) -> None:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"url must start with ws:// or wss://, was {url!r}")
        if not 1 <= max_subscriptions_per_connection <= 32:
            raise ValueError(
                "max_subscriptions_per_connection must be in 1..32, "
                f"was {max_subscriptions_per_connection!r}",
            )
        if ping_reply_timeout_s > idle_timeout_s:
            raise ValueError(
                "ping_reply_timeout_s must not exceed idle_timeout_s, "
                f"was {ping_reply_timeout_s!r}",
            )
        self.url = url
        self.handler = handler
        self.direct: Callable[[Any], None] | None = None
        self.direct_deltas = False
        self.parser = parser if parser is not None else FrameParser()
        self.on_stale = on_stale
        self.on_reconnected = on_reconnected
        self.on_error = on_error
        self.on_snapshot = on_snapshot
        self.max_subscriptions_per_connection = max_subscriptions_per_connection
        self.subscribe_rate = subscribe_rate
        self.subscribe_window_s = subscribe_window_s
        self.backoff = Backoff(
            reconnect_delay_initial_s, reconnect_delay_max_s, reconnect_backoff_factor,
            reconnect_jitter, random.Random(seed),
        )
        self.stable_after_s = stable_after_s
        self.policy_close_delay_s = policy_close_delay_s
        self.resubscribe_delay_s = resubscribe_delay_s
        self.idle_timeout_s = idle_timeout_s
        self.ping_reply_timeout_s = ping_reply_timeout_s
        self.handshake_timeout_s = handshake_timeout_s
        self.batched = batched
        self.read_buffer_bytes = read_buffer_bytes
        self.gaps = 0
        self.handler_errors = 0
        self.resyncs = 0
        self.subscribes_sent = 0
        self._refs: dict[Key, int] = {}
        self._where: dict[Key, PooledConnection] = {}
        self._connections: list[PooledConnection] = []
        self._running = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(url={self.url!r}, connections={len(self._connections)}, "
            f"subscriptions={len(self._refs)})"
        )

    # -- Markets -------------------------------------------------------------------------------

    def set_direct(self, sink: Callable[[Any], None] | None, deltas: bool = False) -> None:
        """
        Send each frame's leading trades (and book deltas, if `deltas`) to `sink` directly.

        They skip `handler`, which still gets the rest of each frame in order (see
        `SessionListener`). Applies to live connections at once and to every new one.

        Parameters
        ----------
        sink : Callable[[object], None] | None
            Receives one `TradeTick` or `OrderBookDeltas` at a time; None sends all to
            `handler`.
        deltas : bool, default False
            Whether `OrderBookDeltas` go to `sink` too.

        """
        self.direct = sink
        self.direct_deltas = deltas
        for connection in self._connections:
            listener = connection.listener
            if listener is not None:
                listener.direct = sink
                listener.direct_deltas = deltas

    def register_market(
        self,
        ticker: str,
        instrument_id: InstrumentId,
        price_precision: int,
        size_precision: int,
        max_cross_ns: int = 5_000_000_000,
    ) -> MarketContext:
        """
        Register the market a book, trades or candles subscription of `ticker` parses into.

        Parameters
        ----------
        ticker : str
            The venue ticker, e.g. ``"BTC-USD"``.
        instrument_id : InstrumentId
            The Nautilus instrument ID.
        price_precision : int
            The instrument's price precision.
        size_precision : int
            The instrument's size precision.
        max_cross_ns : int, default 5_000_000_000
            How long the book may stay crossed before it is resubscribed.

        Returns
        -------
        MarketContext

        """
        return self.parser.register(
            ticker, instrument_id, price_precision, size_precision, max_cross_ns,
        )

    # -- Connection ----------------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        """Whether the client runs and its first connection is open."""
        return self._running and bool(self._connections) and self._connections[0].is_open

    @property
    def connections(self) -> tuple[PooledConnection, ...]:
        """The pooled connections, in creation order."""
        return tuple(self._connections)

    async def connect(self, timeout: float = 10.0) -> None:
        """
        Open the first connection and wait for the venue's ``connected`` message.

        Parameters
        ----------
        timeout : float, default 10.0
            Seconds to wait.

        Raises
        ------
        TimeoutError
            If the connection did not open in time (the client is stopped again).

        """
        if self._running:
            return
        self._running = True
        connection = self._new_connection()
        try:
            await connection.wait_open(timeout)
        except TimeoutError:
            await self.disconnect()
            raise

    async def disconnect(self) -> None:
        """Close every connection and stop reconnecting; subscriptions are forgotten."""
        self._running = False
        connections, self._connections = self._connections, []
        for connection in connections:
            await connection.close()
        self._refs.clear()
        self._where.clear()

    # -- Subscriptions -------------------------------------------------------------------------

    def subscription_count(self, channel: str, channel_id: str | None = None) -> int:
        """
        Return the reference count of a subscription (0 when not subscribed).

        Parameters
        ----------
        channel : str
            The channel.
        channel_id : str | None
            The id.

        Returns
        -------
        int

        """
        return self._refs.get((channel, channel_id), 0)

    def subscription_state(
        self, channel: str, channel_id: str | None = None,
    ) -> SubscriptionState | None:
        """
        Return the venue state of a subscription, or ``None`` when not subscribed.

        Parameters
        ----------
        channel : str
            The channel.
        channel_id : str | None
            The id.

        Returns
        -------
        SubscriptionState or None

        """
        key = (channel, channel_id)
        connection = self._where.get(key)
        if connection is None:
            return None
        return connection.subscriptions.get(key)

    async def subscribe_orderbook(self, ticker: str) -> None:
        """
        Subscribe to the L2 book of `ticker` (its market must be registered).

        Parameters
        ----------
        ticker : str
            The venue ticker.

        """
        self._require_market(ticker)
        self._subscribe(ORDERBOOK, ticker)

    async def unsubscribe_orderbook(self, ticker: str) -> None:
        """
        Release one reference to the book of `ticker`.

        Parameters
        ----------
        ticker : str
            The venue ticker.

        """
        self._unsubscribe(ORDERBOOK, ticker)

    async def subscribe_trades(self, ticker: str) -> None:
        """
        Subscribe to the trades of `ticker` (its market must be registered).

        Parameters
        ----------
        ticker : str
            The venue ticker.

        """
        self._require_market(ticker)
        self._subscribe(TRADES, ticker)

    async def unsubscribe_trades(self, ticker: str) -> None:
        """
        Release one reference to the trades of `ticker`.

        Parameters
        ----------
        ticker : str
            The venue ticker.

        """
        self._unsubscribe(TRADES, ticker)

    async def subscribe_candles(self, ticker: str, resolution: str) -> None:
        """
        Subscribe to the candles of `ticker` at `resolution` (e.g. ``"1MIN"``).

        Parameters
        ----------
        ticker : str
            The venue ticker.
        resolution : str
            One of ``1MIN``, ``5MINS``, ``15MINS``, ``30MINS``, ``1HOUR``, ``4HOURS``, ``1DAY``.

        """
        self._require_market(ticker)
        self._subscribe(CANDLES, self._candle_id(ticker, resolution))

    async def unsubscribe_candles(self, ticker: str, resolution: str) -> None:
        """
        Release one reference to the candles of `ticker` at `resolution`.

        Parameters
        ----------
        ticker : str
            The venue ticker.
        resolution : str
            The resolution.

        """
        self._unsubscribe(CANDLES, self._candle_id(ticker, resolution))

    async def subscribe_markets(self) -> None:
        """Subscribe to the markets channel (instrument and oracle updates)."""
        self._subscribe(MARKETS, None)

    async def unsubscribe_markets(self) -> None:
        """Release one reference to the markets channel."""
        self._unsubscribe(MARKETS, None)

    async def subscribe_block_height(self) -> None:
        """Subscribe to block heights."""
        self._subscribe(BLOCK_HEIGHT, None)

    async def unsubscribe_block_height(self) -> None:
        """Release one reference to block heights."""
        self._unsubscribe(BLOCK_HEIGHT, None)

    async def subscribe_subaccount(self, address: str, subaccount_number: int) -> None:
        """
        Subscribe to a subaccount's orders, fills, positions and transfers.

        Parameters
        ----------
        address : str
            The dYdX address (``dydx1...``).
        subaccount_number : int
            The subaccount number (0..128000).

        """
        self._subscribe(SUBACCOUNTS, self._account_id(address, subaccount_number, 128_000))

    async def unsubscribe_subaccount(self, address: str, subaccount_number: int) -> None:
        """
        Release one reference to a subaccount.

        Parameters
        ----------
        address : str
            The dYdX address.
        subaccount_number : int
            The subaccount number.

        """
        self._unsubscribe(SUBACCOUNTS, self._account_id(address, subaccount_number, 128_000))

    async def subscribe_parent_subaccount(self, address: str, subaccount_number: int) -> None:
        """
        Subscribe to a parent subaccount and all its child subaccounts.

        Parameters
        ----------
        address : str
            The dYdX address.
        subaccount_number : int
            The parent subaccount number (0..127).

        """
        self._subscribe(
            PARENT_SUBACCOUNTS, self._account_id(address, subaccount_number, 127),
        )

    async def unsubscribe_parent_subaccount(self, address: str, subaccount_number: int) -> None:
        """
        Release one reference to a parent subaccount.

        Parameters
        ----------
        address : str
            The dYdX address.
        subaccount_number : int
            The parent subaccount number.

        """
        self._unsubscribe(
            PARENT_SUBACCOUNTS, self._account_id(address, subaccount_number, 127),
        )

    # -- Called by the connections -------------------------------------------------------------

    def notify_stale(self, key: Key, reason: str) -> None:
        """
        Reset the local book of a stale book subscription and tell the owner.

        Parameters
        ----------
        key : tuple[str, str | None]
            The subscription.
        reason : str
            Why it is stale.

        """
        channel, channel_id = key
        if channel == ORDERBOOK and channel_id is not None:
            context = self.parser.context(channel_id)
            if context is not None:
                # The venue's book may be crossed now, so its uncrossed snapshot may leave out
                # levels it never streams again: say so (the owner watches that snapshot)
                if context.book.is_crossed():
                    reason = f"{reason}; the book was crossed"
                context.book.reset()
        if self.on_stale is not None:
            self._call(self.on_stale, channel, channel_id, reason)

    def notify_snapshot(self, key: Key) -> None:
        """
        Tell the owner the snapshot of `key` was just parsed.

        Parameters
        ----------
        key : tuple[str, str | None]
            The subscription.

        """
        if self.on_snapshot is not None:
            self._call(self.on_snapshot, *key)

    def notify_reconnected(self, connection: PooledConnection, keys: list[Key]) -> None:
        """
        Tell the owner a connection is back and its subscriptions are being sent again.

        Parameters
        ----------
        connection : PooledConnection
            The connection.
        keys : list[tuple[str, str | None]]
            Its subscriptions.

        """
        if self.on_reconnected is not None:
            self._call(self.on_reconnected, connection.index, keys)

    def reassign(self, key: Key) -> None:
        """
        Move `key` to a connection with room (the venue refused it as over its limit).

        Parameters
        ----------
        key : tuple[str, str | None]
            The subscription.

        """
        self._where.pop(key, None)
        if key in self._refs and self._running:
            self._assign(key)

    def resync_orderbook(self, ticker: str, reason: str) -> bool:
        """
        Resubscribe the book of `ticker` for a fresh snapshot (e.g. crossed for too long).

        Parameters
        ----------
        ticker : str
            The venue ticker.
        reason : str
            Why (passed on to `on_stale`).

        Returns
        -------
        bool
            Whether the book was subscribed.

        """
        connection = self._where.get((ORDERBOOK, ticker))
        if connection is None:
            return False
        connection.on_resync(_Resync(ORDERBOOK, ticker, reason))
        return True

    def forget(self, key: Key) -> None:
        """
        Drop a subscription the venue rejected as invalid.

        Parameters
        ----------
        key : tuple[str, str | None]
            The subscription.

        """
        self._where.pop(key, None)
        self._refs.pop(key, None)

    # -- Internals -----------------------------------------------------------------------------

    def _call(self, callback: Callable[..., Any], *args: Any) -> None:
        try:
            callback(*args)
        except Exception as e:
            log.exception("WebSocket callback %r failed: %r", callback, e)

    def _require_market(self, ticker: str) -> None:
        if self.parser.context(ticker) is None:
            raise ValueError(f"no market registered for ticker, was {ticker!r}")

    @staticmethod
    def _candle_id(ticker: str, resolution: str) -> str:
        if resolution not in RESOLUTIONS:
            raise ValueError(f"invalid candle resolution, was {resolution!r}")
        return f"{ticker}/{resolution}"

    @staticmethod
    def _account_id(address: str, number: int, high: int) -> str:
        check_address("address", address)
        if type(number) is not int or not 0 <= number <= high:
            raise ValueError(f"subaccount number must be in 0..{high}, was {number!r}")
        return f"{address}/{number}"

    def _subscribe(self, channel: str, channel_id: str | None) -> None:
        if not self._running:
            raise RuntimeError("cannot subscribe: the client is not connected")
        key = (channel, channel_id)
        count = self._refs.get(key, 0)
        self._refs[key] = count + 1
        if count == 0:
            self._assign(key)

    def _unsubscribe(self, channel: str, channel_id: str | None) -> None:
        key = (channel, channel_id)
        count = self._refs.get(key, 0)
        if count == 0:
            log.warning("Cannot unsubscribe %s %s: not subscribed", channel, channel_id)
            return
        if count > 1:
            self._refs[key] = count - 1
            return
        del self._refs[key]
        connection = self._where.pop(key, None)
        if connection is not None:
            connection.remove(key)

    def _assign(self, key: Key) -> None:
        channel = key[0]
        for connection in self._connections:
            if connection.has_room(channel):
                break
        else:
            connection = self._new_connection()
        self._where[key] = connection
        connection.add(key)

    def _new_connection(self) -> PooledConnection:
        connection = PooledConnection(self, len(self._connections))
        self._connections.append(connection)
        connection.start()
        return connection
