# SPDX-License-Identifier: Apache-2.0
"""The sandbox Indexer WebSocket (`/v4/ws`) on a loopback picows server."""

from __future__ import annotations

import asyncio
import ipaddress
import time
import uuid
from collections import deque
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

import orjson
from picows import WSFrame
from picows import WSListener
from picows import WSMsgType
from picows import WSTransport
from picows import ws_create_server

from nautilus_dydx.sandbox.indexer_state import RESOLUTIONS
from nautilus_dydx.sandbox.indexer_state import IndexerState
from nautilus_dydx.sandbox.indexer_state import iso


CHANNEL_LIMITS: dict[str, int] = {
    "v4_subaccounts": 256,
    "v4_parent_subaccounts": 256,
    "v4_candles": 32,
    "v4_markets": 32,
    "v4_orderbook": 32,
    "v4_trades": 32,
    "v4_block_height": 1,
}
CLOSE_POLICY = 1008
CLOSE_HEARTBEAT = 1011
CLOSE_RESTART = 1012


@dataclass
class WsSettings:
    """
    Liveness and limit settings of the WebSocket server (venue defaults).

    Parameters
    ----------
    ping_interval_s : float, default 30.0
        The interval between protocol pings.
    pong_timeout_s : float, default 10.0
        How long to wait for a pong before closing with 1011.
    batch_interval_s : float, default 0.25
        The flush interval of batched subscriptions.
    subscribe_rate : int, default 2
        Subscribe attempts allowed per second per (connection, channel, id).
    invalid_rate : int, default 2
        Invalid messages allowed per second per connection.
    limits : dict[str, int]
        Per-connection subscription limits per channel.

    """

    ping_interval_s: float = 30.0
    pong_timeout_s: float = 10.0
    batch_interval_s: float = 0.25
    subscribe_rate: int = 2
    invalid_rate: int = 2
    limits: dict[str, int] = field(default_factory=lambda: dict(CHANNEL_LIMITS))


class IndexerConnection(WSListener):
    """
    One client connection: subscriptions, the message_id counter, batching and heartbeat.

    Parameters
    ----------
    server : IndexerWsServer
        The owning server.

    """

    def __init__(self, server: IndexerWsServer) -> None:
        super().__init__()
        self.server = server
        self.connection_id = str(uuid.uuid4())
        self.message_id = 0
        self.transport: WSTransport | None = None
        self.subscriptions: dict[tuple[str, str | None], bool] = {}
        self.batches: dict[tuple, list[dict]] = {}
        self.frames_sent = 0
        self.last_frame: bytes | None = None
        self._subscribe_attempts: dict[tuple[str, str | None], deque[float]] = {}
        self._invalid: deque[float] = deque()
        self._pong = asyncio.Event()
        self._heartbeat: asyncio.Task | None = None
        self._closing = False

    # -- picows callbacks ----------------------------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:  # noqa: D102
        self.transport = transport
        self.server.connections.add(self)
        self.send({"type": "connected", "connection_id": self.connection_id, "message_id": 0})
        self._heartbeat = asyncio.get_running_loop().create_task(self._run_heartbeat())

    def on_ws_disconnected(self, transport: WSTransport) -> None:  # noqa: D102
        self.server.connections.discard(self)
        if self._heartbeat is not None:
            self._heartbeat.cancel()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:  # noqa: D102
        if frame.msg_type == WSMsgType.PONG:
            self._pong.set()
            return
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
            return
        if frame.msg_type != WSMsgType.TEXT:
            return
        try:
            message = orjson.loads(frame.get_payload_as_bytes())
        except orjson.JSONDecodeError:
            self._invalid_message("Invalid message: could not parse JSON")
            return
        if not isinstance(message, dict) or "type" not in message:
            self._invalid_message("Invalid message: missing type")
            return
        kind = message["type"]
        if kind == "ping":
            return
        if kind == "subscribe":
            self._subscribe(message)
        elif kind == "unsubscribe":
            self._unsubscribe(message)
        else:
            self._invalid_message(f"Invalid message type: {kind}")

    # -- Sending -------------------------------------------------------------------------------

    def send(self, message: dict) -> None:
        """
        Send one JSON frame (through the fault layer when one is installed).

        Parameters
        ----------
        message : dict
            The envelope.

        """
        self.send_raw(orjson.dumps(message))

    def send_raw(self, payload: bytes) -> None:
        """
        Send raw text bytes (through the fault layer when one is installed).

        Parameters
        ----------
        payload : bytes
            The frame payload.

        """
        if self.transport is None or self._closing:
            return
        faults = self.server.faults
        if faults is not None:
            for frame in faults.filter_frame(self, payload):  # type: ignore[attr-defined]
                self._write(frame)
            return
        self._write(payload)

    def _write(self, payload: bytes) -> None:
        if self.transport is None or self.transport.is_disconnected:
            return
        self.frames_sent += 1
        self.last_frame = payload
        self.transport.send(WSMsgType.TEXT, payload)

    def next_id(self) -> int:
        """
        Increment and return the connection's message_id.

        Returns
        -------
        int

        """
        self.message_id += 1
        return self.message_id

    def error(
        self, message: str, channel: str | None = None, channel_id: str | None = None,
    ) -> None:
        """
        Send an `error` envelope carrying the current message_id (not incremented).

        Parameters
        ----------
        message : str
            The error text.
        channel : str | None
            The channel concerned.
        channel_id : str | None
            The id concerned.

        """
        envelope: dict = {
            "type": "error",
            "message": message,
            "connection_id": self.connection_id,
            "message_id": self.message_id,
        }
        if channel is not None:
            envelope["channel"] = channel
        if channel_id is not None:
            envelope["id"] = channel_id
        self.send(envelope)

    def close(self, code: int, reason: bytes = b"") -> None:
        """
        Send a close frame with `code` and drop the connection.

        Parameters
        ----------
        code : int
            The close code.
        reason : bytes
            The close reason.

        """
        if self.transport is None or self._closing:
            return
        self._closing = True
        self.transport.send_close(code, reason)
        self.transport.disconnect()

    def drop(self) -> None:
        """Drop the TCP connection without a close frame."""
        if self.transport is not None:
            self._closing = True
            self.transport.disconnect()

    # -- Subscriptions -------------------------------------------------------------------------

    def _invalid_message(self, text: str) -> None:
        now = time.monotonic()
        while self._invalid and self._invalid[0] <= now - 1.0:
            self._invalid.popleft()
        self._invalid.append(now)
        self.error(text)
        if len(self._invalid) > self.server.settings.invalid_rate:
            self.close(CLOSE_POLICY, b'{"message":"Rate limited"}')

    def _key(self, message: dict) -> tuple[str, str | None] | None:
        channel = message.get("channel")
        if channel not in CHANNEL_LIMITS:
            self.error(f"Invalid channel: {channel}")
            return None
        raw_id = message.get("id")
        if channel == "v4_markets":
            return channel, None
        if channel == "v4_block_height":
            return channel, "v4_block_height"
        if not isinstance(raw_id, str) or not self.server.valid_id(channel, raw_id):
            self.error(f"Invalid subscription id for channel: ({channel}-{raw_id})", channel,
                       raw_id if isinstance(raw_id, str) else None)
            return None
        return channel, raw_id

    def _subscribe(self, message: dict) -> None:
        key = self._key(message)
        if key is None:
            return
        channel, channel_id = key
        now = time.monotonic()
        attempts = self._subscribe_attempts.setdefault(key, deque())
        while attempts and attempts[0] <= now - 1.0:
            attempts.popleft()
        attempts.append(now)
        if len(attempts) > self.server.settings.subscribe_rate:
            self.error(
                f"Too many subscribe attempts for channel {channel}-{channel_id}. "
                "Please reconnect and try again.",
                channel, channel_id,
            )
            self.close(CLOSE_POLICY, b'{"message":"Rate limited"}')
            return
        if key in self.subscriptions:
            self.error(
                f"Invalid subscribe message: already subscribed ({channel}-{channel_id})",
                channel, channel_id,
            )
            return
        limit = self.server.settings.limits.get(channel, 32)
        if sum(1 for c, _ in self.subscriptions if c == channel) >= limit:
            self.error(
                f"Per-connection subscription limit reached for {channel} (limit={limit}).",
                channel, channel_id,
            )
            return
        faults = self.server.faults
        if faults is not None and faults.snapshot_fails(channel):  # type: ignore[attr-defined]
            self.error(
                f"Internal error, could not fetch data for subscription: {channel}.",
                channel, channel_id,
            )
            return
        contents = self.server.snapshot(channel, channel_id)
        # Occasional unknown fields (SandboxConfig.extra_fields), as in REST and updates
        contents = self.server.state.extra_fields.apply(contents)
        self.subscriptions[key] = bool(message.get("batched", False))
        envelope: dict = {
            "type": "subscribed",
            "connection_id": self.connection_id,
            "message_id": self.next_id(),
            "channel": channel,
        }
        if channel_id is not None:
            envelope["id"] = channel_id
        envelope["contents"] = contents
        self.send(envelope)

    def _unsubscribe(self, message: dict) -> None:
        key = self._key(message)
        if key is None:
            return
        channel, channel_id = key
        if key not in self.subscriptions:
            self.error(
                f"Invalid unsubscribe message: not subscribed ({channel}-{channel_id})",
                channel, channel_id,
            )
            return
        del self.subscriptions[key]
        for batch_key in [k for k in self.batches if (k[0], k[1]) == key]:
            del self.batches[batch_key]
        envelope: dict = {
            "type": "unsubscribed",
            "connection_id": self.connection_id,
            "message_id": self.next_id(),
            "channel": channel,
        }
        if channel_id is not None:
            envelope["id"] = channel_id
        self.send(envelope)

    def deliver(
        self, channel: str, channel_id: str | None, contents: dict, version: str,
        number: int | None,
    ) -> None:
        """
        Send or buffer one update for a subscribed stream.

        Parameters
        ----------
        channel : str
            The channel.
        channel_id : str | None
            The id.
        contents : dict
            The update contents.
        version : str
            The channel version.
        number : int | None
            The child subaccount number (parent-subaccount channel only).

        """
        batched = self.subscriptions.get((channel, channel_id))
        if batched is None:
            return
        if batched:
            self.batches.setdefault((channel, channel_id, version, number), []).append(contents)
            return
        envelope: dict = {
            "type": "channel_data",
            "connection_id": self.connection_id,
            "message_id": self.next_id(),
        }
        if channel_id is not None:
            envelope["id"] = channel_id
        envelope["channel"] = channel
        envelope["version"] = version
        if channel == "v4_parent_subaccounts" and number is not None:
            envelope["subaccountNumber"] = number
        envelope["contents"] = contents
        self.send(envelope)

    def flush_batches(self) -> None:
        """Send one channel_batch_data per buffered (channel, id, version[, subaccount])."""
        batches, self.batches = self.batches, {}
        for (channel, channel_id, version, number), items in batches.items():
            envelope: dict = {
                "type": "channel_batch_data",
                "connection_id": self.connection_id,
                "message_id": self.next_id(),
            }
            if channel_id is not None:
                envelope["id"] = channel_id
            envelope["channel"] = channel
            envelope["version"] = version
            if channel == "v4_parent_subaccounts" and number is not None:
                envelope["subaccountNumber"] = number
            envelope["contents"] = items
            self.send(envelope)

    async def _run_heartbeat(self) -> None:
        settings = self.server.settings
        try:
            while self.transport is not None and not self.transport.is_disconnected:
                await asyncio.sleep(settings.ping_interval_s)
                if self.transport.is_disconnected:
                    return
                self._pong.clear()
                self.transport.send_ping()
                try:
                    await asyncio.wait_for(self._pong.wait(), settings.pong_timeout_s)
                except asyncio.TimeoutError:
                    self.close(CLOSE_HEARTBEAT, b"Heartbeat timeout")
                    return
        except asyncio.CancelledError:
            return


class IndexerWsServer:
    """
    The sandbox Indexer WebSocket server on loopback.

    Parameters
    ----------
    state : IndexerState
        The read model whose updates are streamed.
    host : str, default "127.0.0.1"
        The loopback bind address.
    port : int, default 0
        The port; 0 picks a free one.
    settings : WsSettings | None, default None
        Limits and liveness intervals.
    faults : object | None, default None
        A `Faults` controller filtering outgoing frames.

    """

    def __init__(
        self,
        state: IndexerState,
        host: str = "127.0.0.1",
        port: int = 0,
        settings: WsSettings | None = None,
        faults: object | None = None,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the sandbox binds loopback only, host was {host!r}")
        self.state = state
        self.host = host
        self._requested_port = port
        self.port = 0
        self.settings = settings if settings is not None else WsSettings()
        self.faults = faults
        self.connections: set[IndexerConnection] = set()
        self._server: asyncio.Server | None = None
        self._flusher: asyncio.Task | None = None
        self._remove_listener = None

    @property
    def url(self) -> str:
        """The `ws://host:port/v4/ws` URL."""
        return f"ws://{self.host}:{self.port}/v4/ws"

    async def start(self) -> None:
        """
        Bind, start the batch flusher and listen to state updates.

        After `stop` it binds the port it had, as a restarted server does.

        """
        self._server = await ws_create_server(
            lambda request: IndexerConnection(self), self.host, self.port or self._requested_port,
            enable_auto_pong=True,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._flusher = asyncio.get_running_loop().create_task(self._run_flusher())
        self._remove_listener = self.state.add_listener(self.publish)

    async def stop(self) -> None:
        """Close every connection (1012 service restart) and stop listening (idempotent)."""
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        if self._flusher is not None:
            self._flusher.cancel()
            try:
                await self._flusher
            except asyncio.CancelledError:
                pass
            self._flusher = None
        for connection in list(self.connections):
            connection.close(CLOSE_RESTART)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def restart_connections(self) -> int:
        """
        Close every connection with 1012 as a server restart does; return how many.

        Returns
        -------
        int

        """
        connections = list(self.connections)
        for connection in connections:
            connection.close(CLOSE_RESTART)
        return len(connections)

    def drop_connections(self) -> int:
        """
        Drop every connection without a close frame; return how many.

        Returns
        -------
        int

        """
        connections = list(self.connections)
        for connection in connections:
            connection.drop()
        return len(connections)

    async def _run_flusher(self) -> None:
        while True:
            await asyncio.sleep(self.settings.batch_interval_s)
            for connection in list(self.connections):
                if connection.batches:
                    connection.flush_batches()

    def publish(
        self, channel: str, channel_id: str | None, contents: dict, version: str,
        number: int | None,
    ) -> None:
        """
        Fan one state update out to every subscribed connection.

        Parameters
        ----------
        channel : str
            The channel.
        channel_id : str | None
            The id.
        contents : dict
            The update contents.
        version : str
            The channel version.
        number : int | None
            The subaccount number for subaccount updates.

        """
        faults = self.faults
        if faults is not None and faults.stream_paused(  # type: ignore[attr-defined]
            channel, channel_id,
        ):
            faults.hold(  # type: ignore[attr-defined]
                channel, channel_id, contents, version, number,
            )
            return
        parent_contents = contents
        if channel == "v4_subaccounts" and number is not None:
            parent_contents = _without_sibling_transfer(contents)
        for connection in list(self.connections):
            connection.deliver(channel, channel_id, contents, version, None)
            if channel == "v4_subaccounts" and channel_id is not None and number is not None:
                if parent_contents is None:
                    continue
                address = channel_id.split("/")[0]
                parent_id = f"{address}/{number % 128}"
                connection.deliver(
                    "v4_parent_subaccounts", parent_id, parent_contents, version, number,
                )

    def valid_id(self, channel: str, channel_id: str) -> bool:
        """
        Return whether `channel_id` names an existing stream of `channel`.

        Parameters
        ----------
        channel : str
            The channel.
        channel_id : str
            The id.

        Returns
        -------
        bool

        """
        if channel in ("v4_orderbook", "v4_trades"):
            return channel_id in self.state.markets
        if channel == "v4_candles":
            ticker, _, resolution = channel_id.partition("/")
            return ticker in self.state.markets and resolution in RESOLUTIONS
        if channel in ("v4_subaccounts", "v4_parent_subaccounts"):
            address, _, number = channel_id.partition("/")
            if not address.startswith("dydx1") or not number.isdigit():
                return False
            high = 127 if channel == "v4_parent_subaccounts" else 128_000
            return 0 <= int(number) <= high
        return False

    def snapshot(self, channel: str, channel_id: str | None) -> dict:
        """
        Return the `subscribed` contents of a stream (the REST view, §3.5).

        Parameters
        ----------
        channel : str
            The channel.
        channel_id : str | None
            The id.

        Returns
        -------
        dict

        """
        state = self.state
        if channel == "v4_markets":
            markets = sorted(state.markets.values(), key=lambda m: m.config.clob_pair_id)
            return {"markets": {m.ticker: state.market_json(m) for m in markets}}
        if channel == "v4_block_height":
            return {"height": str(state.height), "time": iso(state.time_ns)}
        assert channel_id is not None
        if channel == "v4_orderbook":
            return state.book_json(channel_id)
        if channel == "v4_trades":
            return {"trades": list(reversed(state.markets[channel_id].trades[-100:]))}
        if channel == "v4_candles":
            ticker, _, resolution = channel_id.partition("/")
            candles = state.markets[ticker].candles[resolution]
            return {"candles": [dict(candles[k]) for k in sorted(candles, reverse=True)[:1000]]}
        address, _, number_text = channel_id.partition("/")
        number = int(number_text)
        if channel == "v4_subaccounts":
            return state.subaccount_snapshot(address, number)
        children = [
            s for (a, n), s in sorted(state.subaccounts.items())
            if a == address and n % 128 == number
        ]
        if not children:
            return {}
        views = [state.subaccount_json(s) for s in children]
        orders = [o for s in children for o in state.live_orders(s)]
        equity = sum((Decimal(v["equity"]) for v in views), Decimal(0))
        free = sum((Decimal(v["freeCollateral"]) for v in views), Decimal(0))
        return {
            "subaccount": {
                "address": address,
                "parentSubaccountNumber": number,
                "equity": format(equity.normalize(), "f") if equity else "0",
                "freeCollateral": format(free.normalize(), "f") if free else "0",
                "childSubaccounts": views,
            },
            "orders": orders,
            "blockHeight": str(state.height),
        }


def _without_sibling_transfer(contents: dict) -> dict | None:
    # The parent channel drops transfers between two children of the same parent (§3.7);
    # None when nothing but such a transfer and the height is left
    transfer = contents.get("transfers")
    if not isinstance(transfer, dict):
        return contents
    sender = transfer.get("sender", {})
    recipient = transfer.get("recipient", {})
    if (
        sender.get("address") != recipient.get("address")
        or "subaccountNumber" not in sender
        or "subaccountNumber" not in recipient
        or sender["subaccountNumber"] % 128 != recipient["subaccountNumber"] % 128
    ):
        return contents
    rest = {k: v for k, v in contents.items() if k != "transfers"}
    return rest if set(rest) - {"blockHeight"} else None
