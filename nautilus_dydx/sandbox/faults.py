# SPDX-License-Identifier: Apache-2.0
"""Fault injection for the sandbox: WebSocket, REST, gRPC and block-production faults."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import grpc
import orjson

from nautilus_dydx.sandbox.http_server import Request
from nautilus_dydx.sandbox.http_server import Response


log = logging.getLogger("nautilus_dydx.sandbox.faults")

GRPC_CODES = {
    "UNAVAILABLE": grpc.StatusCode.UNAVAILABLE,
    "RESOURCE_EXHAUSTED": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "DEADLINE_EXCEEDED": grpc.StatusCode.DEADLINE_EXCEEDED,
    "INTERNAL": grpc.StatusCode.INTERNAL,
}


class Faults:
    """
    The fault controller: switch faults on and off from Python or over HTTP `/control/...`.

    Every fault switched on or fired is logged and counted in `counters`.

    Parameters
    ----------
    sandbox : object | None, default None
        The `IndexerSandbox` (node, state, REST and WS servers) the faults act on.

    """

    def __init__(self, sandbox: object | None = None) -> None:
        self.sandbox = sandbox
        self.counters: Counter[str] = Counter()
        self._paused: set[tuple[str, str | None]] = set()
        self._held: list[tuple] = []
        self._malformed = 0
        self._duplicate = 0
        self._reorder = 0
        self._reorder_buffer: bytes | None = None
        self._snapshot_fail: set[str] = set()
        self._stalled = False  # Whether `stall_blocks` paused the node's block timer
        self._rest_status: int | None = None
        self._rest_remaining: int | None = None
        self._rest_prefix = ""
        self._grpc_code: grpc.StatusCode | None = None
        self._grpc_remaining: int | None = None
        self._grpc_method = ""

    def _count(self, name: str, detail: str = "") -> None:
        self.counters[name] += 1
        log.warning("sandbox fault %s #%d %s", name, self.counters[name], detail)

    # -- WebSocket -----------------------------------------------------------------------------

    def drop_ws(self) -> int:
        """
        Drop every WebSocket connection without a close frame; return how many.

        Returns
        -------
        int

        """
        self._count("ws_drop")
        return self.sandbox.ws.drop_connections()  # type: ignore[union-attr]

    def restart_ws(self) -> int:
        """
        Close every WebSocket connection with 1012 (server restart); return how many.

        Returns
        -------
        int

        """
        self._count("ws_restart")
        return self.sandbox.ws.restart_connections()  # type: ignore[union-attr]

    def pause_stream(self, channel: str, channel_id: str | None = None) -> None:
        """
        Hold the updates of a stream (all ids of `channel` when `channel_id` is None).

        Parameters
        ----------
        channel : str
            The channel.
        channel_id : str | None
            The id.

        """
        self._paused.add((channel, channel_id))
        self._count("ws_pause", f"{channel}/{channel_id}")

    def resume_stream(self, channel: str, channel_id: str | None = None) -> int:
        """
        Release a paused stream, delivering held updates in order; return how many.

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
        self._paused.discard((channel, channel_id))
        held, self._held = self._held, []
        released = 0
        for item in held:
            if self.stream_paused(item[0], item[1]):
                self._held.append(item)
                continue
            released += 1
            self.sandbox.ws.publish(*item)  # type: ignore[union-attr]
        return released

    def stream_paused(self, channel: str, channel_id: str | None) -> bool:
        """
        Return whether updates of (channel, id) are currently held.

        Parameters
        ----------
        channel : str
            The channel.
        channel_id : str | None
            The id.

        Returns
        -------
        bool

        """
        return (channel, None) in self._paused or (channel, channel_id) in self._paused

    def hold(self, *update: object) -> None:
        """
        Keep one update of a paused stream.

        Parameters
        ----------
        *update : object
            The (channel, id, contents, version, number) tuple.

        """
        self._held.append(update)

    def inject_malformed(self, count: int = 1) -> None:
        """
        Replace the next `count` outgoing frames with malformed JSON.

        Parameters
        ----------
        count : int, default 1
            The number of frames.

        """
        self._malformed += count
        self._count("ws_malformed_armed", str(count))

    def duplicate_next(self, count: int = 1) -> None:
        """
        Send each of the next `count` outgoing frames twice.

        Parameters
        ----------
        count : int, default 1
            The number of frames.

        """
        self._duplicate += count
        self._count("ws_duplicate_armed", str(count))

    def reorder_next(self, count: int = 1) -> None:
        """
        Swap the next `count` pairs of outgoing frames (out-of-order delivery).

        Parameters
        ----------
        count : int, default 1
            The number of pairs.

        """
        self._reorder += count
        self._count("ws_reorder_armed", str(count))

    def filter_frame(self, connection: object, payload: bytes) -> Iterator[bytes]:
        """
        Yield the frames to actually send for `payload` under the armed faults.

        Parameters
        ----------
        connection : IndexerConnection
            The connection.
        payload : bytes
            The frame.

        Yields
        ------
        bytes

        """
        if self._reorder_buffer is not None:
            held, self._reorder_buffer = self._reorder_buffer, None
            self._count("ws_reorder")
            yield payload
            yield held
            return
        if self._malformed > 0 and b'"connected"' not in payload:
            self._malformed -= 1
            self._count("ws_malformed")
            yield payload[: max(1, len(payload) // 2)]
            return
        if self._duplicate > 0 and b'"connected"' not in payload:
            self._duplicate -= 1
            self._count("ws_duplicate")
            yield payload
            yield payload
            return
        if self._reorder > 0 and b'"channel_data"' in payload:
            self._reorder -= 1
            self._reorder_buffer = payload
            return
        yield payload

    def fail_snapshots(self, channel: str, on: bool = True) -> None:
        """
        Make subscriptions to `channel` fail with the Indexer's internal error.

        Parameters
        ----------
        channel : str
            The channel.
        on : bool, default True
            Switch on or off.

        """
        if on:
            self._snapshot_fail.add(channel)
            self._count("ws_snapshot_fail", channel)
        else:
            self._snapshot_fail.discard(channel)

    def snapshot_fails(self, channel: str) -> bool:
        """
        Return whether a subscription to `channel` must fail.

        Parameters
        ----------
        channel : str
            The channel.

        Returns
        -------
        bool

        """
        return channel in self._snapshot_fail

    def force_crossed_book(self, ticker: str, ticks: int = 2, size: str | None = None) -> str:
        """
        Put a fresh bid `ticks` ticks above the best ask (a crossed book as in §3.9).

        Parameters
        ----------
        ticker : str
            The market.
        ticks : int, default 2
            How far above the best ask.
        size : str | None
            The bid size (default: ten steps).

        Returns
        -------
        str
            The injected bid price.

        """
        state = self.sandbox.state  # type: ignore[union-attr]
        market = state.markets[ticker]
        _, asks = market.levels(uncross=False, depth=1)
        base = asks[0][0] if asks else market.config.price_to_subticks(market.oracle_price)
        price = market.price(base + ticks * market.config.subticks_per_tick)
        amount = size if size is not None else str(market.step_size * 10)
        state.set_level(ticker, "BUY", price, amount)
        self._count("crossed_book", f"{ticker}@{price}")
        return format(Decimal(price).normalize(), "f")

    # -- REST ----------------------------------------------------------------------------------

    def rest_error(self, status: int, count: int | None = None, path_prefix: str = "") -> None:
        """
        Make REST answer `status` (e.g. 429, 500, 503) for `count` requests (None = until off).

        Parameters
        ----------
        status : int
            The status code; 0 switches the fault off.
        count : int | None
            The number of requests.
        path_prefix : str
            Only paths starting with this prefix.

        """
        self._rest_status = status or None
        self._rest_remaining = count
        self._rest_prefix = path_prefix
        if status:
            self._count("rest_error_armed", str(status))

    def rest_fault(self, path: str) -> Response | None:
        """
        Return a forced response for `path`, or None.

        Parameters
        ----------
        path : str
            The request path.

        Returns
        -------
        Response | None

        """
        if self._rest_status is None or not path.startswith(self._rest_prefix):
            return None
        status = self._rest_status
        if self._rest_remaining is not None:
            self._rest_remaining -= 1
            if self._rest_remaining <= 0:
                self._rest_status = None
        self._count("rest_error", f"{status} {path}")
        if status == 429:
            return Response(
                429, orjson.dumps({"errors": [{"msg": "Too many requests"}]}),
                {"RateLimit-Limit": "100", "RateLimit-Remaining": "0", "Retry-After": "1000"},
            )
        return Response(status, orjson.dumps({"errors": [{"msg": "Internal Server Error"}]}))

    # -- gRPC and chain ------------------------------------------------------------------------

    def grpc_error(self, code: str, count: int | None = None, method: str = "") -> None:
        """
        Make gRPC calls answer `code` (UNAVAILABLE, RESOURCE_EXHAUSTED, ...); "" switches off.

        Parameters
        ----------
        code : str
            The status code name.
        count : int | None
            The number of calls (None = until off).
        method : str
            Only methods whose full name contains this text, e.g. "BroadcastTx".

        """
        if not code:
            self._grpc_code = None
            return
        self._grpc_code = GRPC_CODES[code]
        self._grpc_remaining = count
        self._grpc_method = method
        self._count("grpc_error_armed", code)

    def grpc_fault(self, method: str) -> grpc.StatusCode | None:
        """
        Return the status a gRPC call to `method` must fail with, or None.

        Parameters
        ----------
        method : str
            The full method name.

        Returns
        -------
        grpc.StatusCode | None

        """
        code = self._grpc_code
        if code is None or self._grpc_method not in method:
            return None
        if self._grpc_remaining is not None:
            self._grpc_remaining -= 1
            if self._grpc_remaining <= 0:
                self._grpc_code = None
        self._count("grpc_error", f"{code.name} {method}")
        return code

    def skew_sequence(self, address: str, delta: int) -> int:
        """
        Shift the stored account sequence of `address` by `delta` (not below zero).

        Parameters
        ----------
        address : str
            The account.
        delta : int
            The shift.

        Returns
        -------
        int

        """
        account = self.sandbox.node.chain.accounts[address]  # type: ignore[union-attr]
        # A sequence is unsigned on chain: a skew below zero stops at zero
        delta = max(delta, -account.sequence, -account.check_sequence)
        account.sequence += delta
        account.check_sequence += delta
        self._count("sequence_skew", f"{address} {delta:+d}")
        return account.sequence

    def stall_blocks(self, on: bool = True) -> None:
        """
        Stop (or resume) block production on the node's timer.

        A node stepped by hand (`auto_blocks` off, or paused) is left so: resuming starts no
        timer there.

        Parameters
        ----------
        on : bool, default True
            Stall when True, resume when False.

        """
        node = self.sandbox.node  # type: ignore[union-attr]
        if on:
            # Only a timer that runs is stopped (and later restarted): resuming a node stepped
            # by hand would start its timer, and blocks would then come at random moments
            if not node.paused:
                node.pause()
                self._stalled = True
            self._count("block_stall")
        elif self._stalled:
            node.resume()
            self._stalled = False

    def clear(self) -> None:
        """Switch every fault off (held updates are released)."""
        for channel, channel_id in list(self._paused):
            self.resume_stream(channel, channel_id)
        self._malformed = self._duplicate = self._reorder = 0
        self._snapshot_fail.clear()
        self._rest_status = None
        self._grpc_code = None

    # -- HTTP control --------------------------------------------------------------------------

    async def handle_control(self, request: Request) -> Response:
        """
        Serve `/control/<fault>?...` (GET or POST) and answer the counters as JSON.

        Parameters
        ----------
        request : Request
            The request.

        Returns
        -------
        Response

        """
        name = request.path[len("/control/"):].strip("/")
        p = request.param
        if name == "":
            routes = {f"/control/{route}": doc for route, doc in CONTROL_ROUTES.items()}
            return Response(200, orjson.dumps({"routes": routes}))
        try:
            if name == "ws/drop":
                result: object = self.drop_ws()
            elif name == "ws/restart":
                result = self.restart_ws()
            elif name == "ws/pause":
                self.pause_stream(p("channel") or "", p("id"))
                result = True
            elif name == "ws/resume":
                result = self.resume_stream(p("channel") or "", p("id"))
            elif name == "ws/malformed":
                self.inject_malformed(int(p("count") or 1))
                result = True
            elif name == "ws/duplicate":
                self.duplicate_next(int(p("count") or 1))
                result = True
            elif name == "ws/reorder":
                self.reorder_next(int(p("count") or 1))
                result = True
            elif name == "book/cross":
                result = self.force_crossed_book(p("ticker") or "BTC-USD")
            elif name == "rest/error":
                count = p("count")
                self.rest_error(int(p("status") or 0), int(count) if count else None,
                                p("prefix") or "")
                result = True
            elif name == "grpc/error":
                count = p("count")
                self.grpc_error(p("code") or "", int(count) if count else None, p("method") or "")
                result = True
            elif name == "sequence/skew":
                result = self.skew_sequence(p("address") or "", int(p("delta") or 1))
            elif name == "blocks/stall":
                self.stall_blocks((p("on") or "true").lower() != "false")
                result = True
            elif name == "clear":
                self.clear()
                result = True
            elif name == "counters":
                result = True
            else:
                return Response(404, orjson.dumps({"errors": [{"msg": f"unknown fault {name}"}]}))
        except (KeyError, ValueError) as e:
            return Response(400, orjson.dumps({"errors": [{"msg": f"invalid fault request: {e}"}]}))
        return Response(200, orjson.dumps({"result": result, "counters": dict(self.counters)}))


# Every fault route of `Faults.handle_control` with its query parameters (GET or POST)
CONTROL_ROUTES: dict[str, str] = {
    "ws/drop": "close every WebSocket connection abruptly",
    "ws/restart": "stop and restart the WebSocket server on the same port",
    "ws/pause": "hold updates of a stream: channel=v4_orderbook&id=BTC-USD",
    "ws/resume": "release held updates: channel=...&id=...",
    "ws/malformed": "send malformed frames next: count=1",
    "ws/duplicate": "send the next frames twice: count=1",
    "ws/reorder": "swap the next frames: count=1",
    "book/cross": "force a crossed order book: ticker=BTC-USD",
    "rest/error": "answer REST with an error: status=503&count=1&prefix=/v4/orders (status=0 off)",
    "grpc/error": "fail gRPC calls: code=UNAVAILABLE&count=1&method=BroadcastTx (code= off)",
    "sequence/skew": "shift an account's sequence: address=dydx1...&delta=1",
    "blocks/stall": "stop block production, height and time together: on=true|false",
    "clear": "switch every fault off",
    "counters": "return the fault counters",
}


class FaultInterceptor(grpc.aio.ServerInterceptor):
    """
    A gRPC server interceptor that fails calls while `Faults.grpc_error` is armed.

    Parameters
    ----------
    faults : Faults
        The controller.

    """

    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    async def intercept_service(self, continuation, handler_call_details):  # noqa: D102
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        faults = self.faults
        if handler is None or faults._grpc_code is None or not handler.unary_unary:
            return handler
        inner = handler.unary_unary

        async def behaviour(request, context):
            code = faults.grpc_fault(method)
            if code is not None:
                await context.abort(code, f"sandbox fault: {code.name}")
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
