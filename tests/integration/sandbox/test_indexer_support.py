# SPDX-License-Identifier: Apache-2.0
"""Shared helpers for the Indexer sandbox tests: a running sandbox, a WS client, signed txs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from collections.abc import Callable

import grpc
import httpx
import orjson
from picows import WSFrame
from picows import WSListener
from picows import WSMsgType
from picows import WSTransport
from picows import ws_connect

from nautilus_dydx.sandbox.indexer import IndexerSandbox
from nautilus_dydx.sandbox.indexer_ws import WsSettings
from tests.integration.sandbox.helpers import Client
from tests.integration.sandbox.helpers import make_config


TIMEOUT_S = 5.0


def run(coro, timeout: float = 30.0):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


async def wait_for(condition: Callable[[], bool], timeout: float = TIMEOUT_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


class WsClient(WSListener):
    def __init__(self, auto_pong: bool = True) -> None:
        self.frames: list[dict | bytes] = []
        self.raw: list[bytes] = []
        self.closed_code: int | None = None
        self.closed_reason: bytes = b""
        self.disconnected = False
        self.pings = 0
        self.auto_pong = auto_pong
        self.transport: WSTransport | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.disconnected = True

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.PING:
            self.pings += 1
            if self.auto_pong:
                transport.send_pong(frame.get_payload_as_bytes())
            return
        if frame.msg_type == WSMsgType.CLOSE:
            self.closed_code = frame.get_close_code()
            self.closed_reason = frame.get_close_message() or b""
            return
        payload = frame.get_payload_as_bytes()
        self.raw.append(payload)
        try:
            self.frames.append(orjson.loads(payload))
        except orjson.JSONDecodeError:
            self.frames.append(payload)

    def send(self, message: dict) -> None:
        assert self.transport is not None
        self.transport.send(WSMsgType.TEXT, orjson.dumps(message))

    def subscribe(self, channel: str, channel_id: str | None = None, batched: bool = False) -> None:
        message: dict = {"type": "subscribe", "channel": channel}
        if channel_id is not None:
            message["id"] = channel_id
        if batched:
            message["batched"] = True
        self.send(message)

    def of(self, kind: str, channel: str | None = None) -> list[dict]:
        return [
            f for f in self.frames
            if isinstance(f, dict) and f.get("type") == kind
            and (channel is None or f.get("channel") == channel)
        ]

    async def wait(self, kind: str, channel: str | None = None, count: int = 1) -> list[dict]:
        await wait_for(lambda: len(self.of(kind, channel)) >= count)
        return self.of(kind, channel)


async def connect(sandbox: IndexerSandbox, auto_pong: bool = True) -> WsClient:
    transport, client = await ws_connect(
        lambda: WsClient(auto_pong), sandbox.ws_url, enable_auto_pong=False,
    )
    await wait_for(lambda: len(client.frames) >= 1)
    return client


@contextlib.asynccontextmanager
async def running_sandbox(
    **kwargs,
) -> AsyncIterator[tuple[IndexerSandbox, httpx.AsyncClient, Client]]:
    config = kwargs.pop("config", None) or make_config()
    settings = kwargs.pop("ws_settings", None) or WsSettings(batch_interval_s=0.05)
    # These tests query REST more than the venue's budget allows; the limit has its own tests
    kwargs.setdefault("rate_limit", None)
    sandbox = IndexerSandbox(config, ws_settings=settings, **kwargs)
    await sandbox.start()
    channel = grpc.aio.insecure_channel(sandbox.grpc_endpoint)
    http = httpx.AsyncClient(base_url=sandbox.http_url, timeout=TIMEOUT_S)
    try:
        yield sandbox, http, Client(channel)
    finally:
        await http.aclose()
        await channel.close()
        await sandbox.stop()


def close_transport(client: WsClient) -> None:
    if client.transport is not None and not client.disconnected:
        client.transport.disconnect()
