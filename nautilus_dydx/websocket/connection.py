# SPDX-License-Identifier: Apache-2.0
"""One pooled Indexer connection: connect, subscribe with pacing, reconnect and resubscribe."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING

import orjson
from picows import WSError
from picows import WSMsgType
from picows import WSTransport
from picows import ws_connect

from nautilus_dydx._core.frames import Connected
from nautilus_dydx._core.frames import ResyncNeeded
from nautilus_dydx._core.frames import Subscribed
from nautilus_dydx._core.frames import WsError
from nautilus_dydx._core.session import SessionListener
from nautilus_dydx.websocket.subscriptions import CHANNEL_LIMITS
from nautilus_dydx.websocket.subscriptions import ERROR_ALREADY
from nautilus_dydx.websocket.subscriptions import ERROR_INTERNAL
from nautilus_dydx.websocket.subscriptions import ERROR_INVALID_CHANNEL
from nautilus_dydx.websocket.subscriptions import ERROR_INVALID_ID
from nautilus_dydx.websocket.subscriptions import ERROR_LIMIT
from nautilus_dydx.websocket.subscriptions import ORDERBOOK
from nautilus_dydx.websocket.subscriptions import Key
from nautilus_dydx.websocket.subscriptions import SubscribePacer
from nautilus_dydx.websocket.subscriptions import SubscriptionState
from nautilus_dydx.websocket.subscriptions import key_of


if TYPE_CHECKING:
    from nautilus_dydx.websocket.client import DYDXWebSocketClient


log = logging.getLogger("nautilus_dydx.websocket")

# Close codes after which the Indexer expects a reconnect and resubscribe (§3.4)
CLOSE_POLICY = 1008
CLOSE_HEARTBEAT = 1011
CLOSE_RESTART = 1012
_CLOSE_CODES_KEPT = 16  # Recent close codes, for diagnostics; only the last one is acted on


class PooledConnection:
    """
    One WebSocket connection of the pool and the subscriptions assigned to it.

    Parameters
    ----------
    client : DYDXWebSocketClient
        The owning client (settings, parser, handler and callbacks).
    index : int
        The position of the connection in the pool.

    """

    def __init__(self, client: DYDXWebSocketClient, index: int) -> None:
        self.client = client
        self.index = index
        self.subscriptions: dict[Key, SubscriptionState] = {}
        self.capacity: dict[str, int] = {
            channel: min(limit, client.max_subscriptions_per_connection)
            if limit > 1 else limit
            for channel, limit in CHANNEL_LIMITS.items()
        }
        self.connection_id: str | None = None
        self.transport: WSTransport | None = None
        self.listener: SessionListener | None = None
        self.connects = 0
        self.close_codes: deque[int | None] = deque(maxlen=_CLOSE_CODES_KEPT)
        self.pacer = SubscribePacer(client.subscribe_rate, client.subscribe_window_s)
        self.is_open = False
        self._opened = asyncio.Event()
        self._queue: dict[Key, None] = {}
        self._pending: set[Key] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._retries: dict[Key, asyncio.TimerHandle] = {}
        self._stale_reason: str | None = None
        self._closing = False
        self._task: asyncio.Task | None = None

    # -- Pool bookkeeping ----------------------------------------------------------------------

    def count(self, channel: str) -> int:
        """
        Return how many subscriptions of `channel` are assigned here.

        Parameters
        ----------
        channel : str
            The channel.

        Returns
        -------
        int

        """
        return sum(1 for c, _ in self.subscriptions if c == channel)

    def has_room(self, channel: str) -> bool:
        """
        Return whether another subscription of `channel` fits on this connection.

        Parameters
        ----------
        channel : str
            The channel.

        Returns
        -------
        bool

        """
        return self.count(channel) < self.capacity.get(channel, 32)

    def add(self, key: Key) -> None:
        """
        Assign `key` here and subscribe as soon as the connection and the pace allow.

        Parameters
        ----------
        key : tuple[str, str | None]
            The subscription.

        """
        self.subscriptions[key] = SubscriptionState.QUEUED
        self._queue[key] = None
        self._pump()

    def remove(self, key: Key) -> None:
        """
        Drop `key` from this connection, unsubscribing at the venue if it was sent.

        Parameters
        ----------
        key : tuple[str, str | None]
            The subscription.

        """
        state = self.subscriptions.pop(key, None)
        self._queue.pop(key, None)
        retry = self._retries.pop(key, None)
        if retry is not None:
            retry.cancel()
        if state in (SubscriptionState.PENDING, SubscriptionState.ACTIVE) and self.is_open:
            self._send_unsubscribe(key)

    # -- Lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the connect / reconnect loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def wait_open(self, timeout: float) -> None:
        """
        Wait until the venue's ``connected`` message arrived.

        Parameters
        ----------
        timeout : float
            Seconds to wait.

        Raises
        ------
        TimeoutError
            If the connection did not open in time.

        """
        await asyncio.wait_for(self._opened.wait(), timeout)

    async def close(self) -> None:
        """Stop reconnecting and close the connection (1000)."""
        self._closing = True
        self._cancel_timers()
        transport = self.transport
        if transport is not None and not transport.is_disconnected:
            transport.send_close()
            transport.disconnect()
            try:
                await asyncio.wait_for(transport.wait_disconnected(), 5.0)
            except (asyncio.TimeoutError, WSError, OSError):
                pass
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def drop(self, reason: str) -> None:
        """
        Close the socket so the loop reconnects and resubscribes; report `reason` as stale.

        Parameters
        ----------
        reason : str
            Why the state of this connection is stale.

        """
        self._stale_reason = reason
        if self.transport is not None and not self.transport.is_disconnected:
            self.transport.disconnect()

    async def _run(self) -> None:
        client = self.client
        loop = asyncio.get_running_loop()
        attempt = 0
        while not self._closing:
            try:
                transport, _ = await ws_connect(
                    self._new_listener,
                    client.url,
                    websocket_handshake_timeout=client.handshake_timeout_s,
                    enable_auto_ping=True,
                    auto_ping_idle_timeout=client.idle_timeout_s,
                    auto_ping_reply_timeout=client.ping_reply_timeout_s,
                    enable_auto_pong=True,
                    logger_name="nautilus_dydx.websocket",
                    read_buffer_init_size=client.read_buffer_bytes,
                )
            except Exception as e:  # Refused, DNS, TLS, handshake: all retried the same way
                attempt += 1
                delay = client.backoff.delay(attempt)
                log.warning(
                    "WebSocket %d connect failed (%s); retry %d in %.2fs",
                    self.index, e, attempt, delay,
                )
                await asyncio.sleep(delay)
                continue
            opened_at = loop.time()
            try:
                await transport.wait_disconnected()
            except Exception as e:
                log.warning("WebSocket %d closed with error: %r", self.index, e)
            if self._closing:
                return
            if loop.time() - opened_at >= client.stable_after_s:
                attempt = 0
            attempt += 1
            delay = client.backoff.delay(attempt)
            if self.close_codes and self.close_codes[-1] == CLOSE_POLICY:
                delay = max(delay, client.policy_close_delay_s)
            log.warning(
                "WebSocket %d disconnected (code %s); reconnect %d in %.2fs",
                self.index, self.close_codes[-1] if self.close_codes else None, attempt, delay,
            )
            await asyncio.sleep(delay)

    def _new_listener(self) -> SessionListener:
        client = self.client
        self.listener = SessionListener(client.parser, client.handler, self, client.on_error)
        self.listener.direct = client.direct
        self.listener.direct_deltas = client.direct_deltas
        return self.listener

    # -- Listener callbacks (called by SessionListener) ----------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        """Keep the transport; subscribing waits for the venue's ``connected`` message."""
        self.transport = transport
        self.connects += 1

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        """Mark every subscription stale and queued for the next connection."""
        handshake = transport.close_handshake
        code = None
        if handshake is not None and handshake.recv is not None:
            code = int(handshake.recv.code)
        self.close_codes.append(code)
        self.transport = None
        self.is_open = False
        self._opened.clear()
        self._cancel_timers()
        self._pending.clear()
        self.pacer.clear()
        if self._closing:
            return
        reason = self._stale_reason or f"disconnected (close code {code})"
        self._stale_reason = None
        for key in self.subscriptions:
            self.subscriptions[key] = SubscriptionState.QUEUED
            self._queue[key] = None
        for key in list(self.subscriptions):
            self.client.notify_stale(key, reason)

    def on_control(self, record: object) -> bool:
        """Update subscription states from a control record; return whether to forward it."""
        kind = type(record)
        if kind is Subscribed:
            key = key_of(record.channel, record.id)  # type: ignore[attr-defined]
            self._answered(key)
            if key in self.subscriptions:
                self.subscriptions[key] = SubscriptionState.ACTIVE
                self.client.notify_snapshot(key)
            return True
        if kind is Connected:
            self._on_connected(record)  # type: ignore[arg-type]
            return True
        if kind is WsError:
            return self._on_error(record)  # type: ignore[arg-type]
        return True

    def on_gap(self, missing: list[int]) -> None:
        """Reconnect: messages were lost, so every subscription of this connection is stale."""
        self.client.gaps += len(missing)
        log.warning(
            "WebSocket %d lost %d messages (message_id %d..%d); resubscribing",
            self.index, len(missing), missing[0], missing[-1],
        )
        self.drop(f"message_id gap ({len(missing)} missing from {missing[0]})")

    def on_handler_error(self, error: Exception, objects: list) -> None:
        """Log an exception raised by the owner's handler; the connection carries on."""
        self.client.handler_errors += 1
        log.error(
            "WebSocket handler raised %r for %d objects (first %r)",
            error, len(objects), type(objects[0]).__name__, exc_info=error,
        )

    def on_resync(self, record: ResyncNeeded) -> None:
        """Resubscribe a book that stayed crossed, for a fresh snapshot."""
        key = (ORDERBOOK, record.id)
        if key not in self.subscriptions:
            return
        self.client.notify_stale(key, f"resync: {record.reason}")
        self.client.resyncs += 1
        if self.is_open and self.subscriptions[key] in (
            SubscriptionState.ACTIVE, SubscriptionState.PENDING,
        ):
            self._send_unsubscribe(key)
        self._answered(key)
        self.subscriptions[key] = SubscriptionState.QUEUED
        self._queue[key] = None
        self._pump()

    # -- Internals -----------------------------------------------------------------------------

    def _on_connected(self, record: Connected) -> None:
        reconnect = self.connection_id is not None
        self.connection_id = record.connection_id
        self.is_open = True
        self._opened.set()
        for key in self.subscriptions:
            if self.subscriptions[key] is not SubscriptionState.RETRY:
                self._queue[key] = None
        if reconnect:
            self.client.notify_reconnected(self, list(self.subscriptions))
        self._pump()

    def _on_error(self, record: WsError) -> bool:
        message = record.message
        if record.channel is None:
            return True
        key = key_of(record.channel, record.id)
        if message.startswith(ERROR_INTERNAL):
            self._answered(key)
            if key in self.subscriptions:
                self.subscriptions[key] = SubscriptionState.RETRY
                self.client.notify_stale(key, "snapshot failed (Indexer internal error)")
                self._retries[key] = asyncio.get_running_loop().call_later(
                    self.client.resubscribe_delay_s, self._retry, key,
                )
            return False
        if message.startswith(ERROR_ALREADY):
            self._answered(key)
            if key in self.subscriptions:
                self.subscriptions[key] = SubscriptionState.ACTIVE
            return False
        if message.startswith(ERROR_LIMIT):
            self._answered(key)
            if key in self.subscriptions:
                del self.subscriptions[key]
                self.capacity[key[0]] = self.count(key[0])
                self.client.reassign(key)
            return False
        if message.startswith(ERROR_INVALID_ID) or message.startswith(ERROR_INVALID_CHANNEL):
            self._answered(key)
            if key in self.subscriptions:
                del self.subscriptions[key]
                self.client.forget(key)
            return True
        self._answered(key)
        return True

    def _retry(self, key: Key) -> None:
        self._retries.pop(key, None)
        if key in self.subscriptions:
            self.subscriptions[key] = SubscriptionState.QUEUED
            self._queue[key] = None
            self._pump()

    def _answered(self, key: Key) -> None:
        if key in self._pending:
            self._pending.discard(key)
            listener = self.listener
            if listener is not None:
                listener.tracker.pending_subscribes = len(self._pending)
                listener.check_gaps()

    def _pump(self) -> None:
        # Send every queued subscribe the pace allows; wake up again for the rest
        if not self.is_open or not self._queue or self.transport is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        earliest: float | None = None
        for key in list(self._queue):
            at = self.pacer.next_allowed(key, now)
            if at > now:
                earliest = at if earliest is None else min(earliest, at)
                continue
            del self._queue[key]
            self.pacer.record(key, now)
            self._send_subscribe(key)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if earliest is not None:
            self._timer = loop.call_at(earliest, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._pump()

    def _send_subscribe(self, key: Key) -> None:
        channel, channel_id = key
        message: dict = {"type": "subscribe", "channel": channel}
        if channel_id is not None:
            message["id"] = channel_id
        if self.client.batched:
            message["batched"] = True
        self.subscriptions[key] = SubscriptionState.PENDING
        self._pending.add(key)
        if self.listener is not None:
            self.listener.tracker.pending_subscribes = len(self._pending)
        self.client.subscribes_sent += 1
        self._send(message)

    def _send_unsubscribe(self, key: Key) -> None:
        channel, channel_id = key
        message: dict = {"type": "unsubscribe", "channel": channel}
        if channel_id is not None:
            message["id"] = channel_id
        self._send(message)

    def _send(self, message: dict) -> None:
        transport = self.transport
        if transport is None or transport.is_disconnected:
            return
        transport.send(WSMsgType.TEXT, orjson.dumps(message))

    def _cancel_timers(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for handle in self._retries.values():
            handle.cancel()
        self._retries.clear()
