# SPDX-License-Identifier: Apache-2.0
"""DYDXHttpClient under cancellation: no pool connection is stranded, requests finish or close."""

from __future__ import annotations

import asyncio
import random

import httpx

from nautilus_dydx.http import DYDXHttpClient
from tests.integration.transport.support import cancelled_reads
from tests.integration.transport.support import http_client
from tests.integration.transport.support import running_sandbox


MAX_KEEPALIVE = 10  # DYDXHttpClient's pool keeps at most this many idle connections


def run(coro, timeout: float = 120.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_cancelled_callers_strand_no_pool_connection() -> None:
    # httpcore 1.0.9 keeps a connection it created for a request cancelled before the
    # connection opened, forever (encode/httpcore#1093); these 300 rounds stranded 44 before
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            async with http_client(sandbox) as http:
                await cancelled_reads(http, 300, random.Random(7))
                pool = http._client._transport._pool  # httpx's private pool: the oracle here
                assert len(pool.connections) <= MAX_KEEPALIVE, pool
                height = await http.get_height()
                assert int(height.height) == sandbox.node.height

    run(scenario())


class HeldTransport(httpx.AsyncBaseTransport):
    """Answers each request with a height body once `release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0
        self.answered = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.started += 1
        await self.release.wait()
        self.answered += 1
        return httpx.Response(200, content=b'{"height": "7", "time": "x"}')


async def cancelled_caller(transport: HeldTransport) -> DYDXHttpClient:
    """A client whose one request is held by `transport` and whose caller was cancelled."""
    http = DYDXHttpClient("http://127.0.0.1:1", transport=transport)
    call = asyncio.ensure_future(http.get_raw("height"))
    while transport.started == 0:
        await asyncio.sleep(0)
    call.cancel()
    await asyncio.gather(call, return_exceptions=True)
    assert call.cancelled()
    return http


def test_a_cancelled_caller_lets_its_request_finish() -> None:
    async def scenario() -> None:
        transport = HeldTransport()
        http = await cancelled_caller(transport)
        assert http.in_flight == 1
        transport.release.set()
        while http.in_flight:
            await asyncio.sleep(0)
        assert transport.answered == 1
        assert await http.get_raw("height") == b'{"height": "7", "time": "x"}'
        await http.close()

    run(scenario())


def test_close_abandons_requests_still_on_the_wire() -> None:
    async def scenario() -> None:
        transport = HeldTransport()
        http = await cancelled_caller(transport)
        await asyncio.wait_for(http.close(), 5.0)
        assert http.in_flight == 0
        assert transport.answered == 0

    run(scenario())
