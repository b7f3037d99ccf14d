# SPDX-License-Identifier: Apache-2.0
"""Helpers for the WebSocket client tests: a recording owner, a freezable TCP proxy."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core.frames import Subscribed
from nautilus_dydx.sandbox.indexer import IndexerSandbox
from nautilus_dydx.websocket import DYDXWebSocketClient
from tests.integration.sandbox.test_indexer_support import wait_for


class Owner:
    """Records everything the client hands its owner."""

    def __init__(self) -> None:
        self.objects: list = []
        self.frames = 0
        self.stale: list[tuple[str, str | None, str]] = []
        self.reconnected: list[tuple[int, list]] = []
        self.errors: list = []

    def handler(self, objects: list) -> None:
        self.frames += 1
        self.objects.extend(objects)

    def on_stale(self, channel: str, channel_id: str | None, reason: str) -> None:
        self.stale.append((channel, channel_id, reason))

    def on_reconnected(self, index: int, keys: list) -> None:
        self.reconnected.append((index, keys))

    def on_error(self, error) -> None:
        self.errors.append(error)

    def of(self, kind: type) -> list:
        return [o for o in self.objects if type(o) is kind]

    def subscribed(self, channel: str | None = None) -> list:
        return [
            o for o in self.of(Subscribed) if channel is None or o.channel == channel
        ]


def new_client(
    sandbox: IndexerSandbox,
    owner: Owner,
    url: str | None = None,
    max_cross_ns: int = 5_000_000_000,
    **kwargs,
) -> DYDXWebSocketClient:
    settings = dict(
        reconnect_delay_initial_s=0.02,
        reconnect_delay_max_s=0.2,
        resubscribe_delay_s=0.05,
        policy_close_delay_s=0.05,
        seed=1,
    )
    settings.update(kwargs)
    client = DYDXWebSocketClient(
        sandbox.ws_url if url is None else url,
        owner.handler,
        on_stale=owner.on_stale,
        on_reconnected=owner.on_reconnected,
        on_error=owner.on_error,
        **settings,
    )
    for market in sandbox.node.config.markets:
        state = sandbox.state.markets[market.ticker]
        client.register_market(
            market.ticker,
            InstrumentId.from_str(f"{market.ticker}-PERP.DYDX"),
            _precision(state.tick_size),
            _precision(state.step_size),
            max_cross_ns,
        )
    return client


def _precision(increment) -> int:
    exponent = increment.normalize().as_tuple().exponent
    return max(0, -exponent)


@contextlib.asynccontextmanager
async def connected(client: DYDXWebSocketClient) -> AsyncIterator[DYDXWebSocketClient]:
    await client.connect(timeout=5.0)
    try:
        yield client
    finally:
        await client.disconnect()


async def wait_active(client: DYDXWebSocketClient, keys: list, timeout: float = 5.0) -> None:
    from nautilus_dydx.websocket import SubscriptionState

    await wait_for(
        lambda: all(client.subscription_state(*k) is SubscriptionState.ACTIVE for k in keys),
        timeout,
    )


class FreezableProxy:
    """A loopback TCP proxy whose existing connections can be frozen (a dead socket)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.frozen = False
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task] = set()
        self._frozen_pairs: set[int] = set()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v4/ws"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def freeze_existing(self) -> None:
        # Connections accepted so far stop forwarding in both directions but stay open
        self._frozen_pairs.update(range(self.accepted))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.accepted
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.get_running_loop().create_task(self._pipe(number, src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, number: int, src: asyncio.StreamReader, dst: asyncio.StreamWriter,
    ) -> None:
        try:
            while True:
                data = await src.read(65536)
                if not data:
                    break
                if number in self._frozen_pairs:
                    continue
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if number not in self._frozen_pairs:
                dst.close()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
