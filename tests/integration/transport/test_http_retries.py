# SPDX-License-Identifier: Apache-2.0
"""DYDXHttpClient retries (429, 5xx, network), no retry on 4xx, shared rate limit, bad bodies."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from nautilus_dydx.http import DYDXDecodeError
from nautilus_dydx.http import DYDXHttpClient
from nautilus_dydx.http import DYDXHttpError
from nautilus_dydx.http import ratelimit
from nautilus_dydx.sandbox.indexer_rest import RateLimiter
from tests.integration.transport.support import http_client
from tests.integration.transport.support import running_sandbox


def run(coro, timeout: float = 60.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


FAST = {"retry_delay_initial_ms": 1, "retry_delay_max_ms": 50}


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_transient_statuses_are_retried_until_success(status: int) -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            async with http_client(sandbox, max_retries=3, **FAST) as http:
                sandbox.faults.rest_error(status, count=2, path_prefix="/v4/height")
                height = await http.get_height()
                assert int(height.height) == sandbox.node.height
                assert sandbox.faults.counters["rest_error"] == 2
                assert http.requests_sent == 3

    run(scenario())


def test_retries_exhausted_raise_the_last_status() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            async with http_client(sandbox, max_retries=2, **FAST) as http:
                sandbox.faults.rest_error(503, path_prefix="/v4/perpetualMarkets")
                with pytest.raises(DYDXHttpError) as failure:
                    await http.get_perpetual_markets()
                assert failure.value.status == 503
                assert failure.value.route == "/v4/perpetualMarkets"
                assert "Internal Server Error" in failure.value.body
                assert http.requests_sent == 3

    run(scenario())


@pytest.mark.parametrize(
    ("route", "call"),
    [
        ("/v4/orderbooks/perpetualMarket/NOPE-USD", lambda h: h.get_orderbook("NOPE-USD")),
        ("/v4/candles/perpetualMarkets/BTC-USD", lambda h: h.get_candles("BTC-USD", "2MINS")),
        ("/v4/trades/perpetualMarket/BTC-USD", lambda h: h.get_trades("BTC-USD", limit=5000)),
    ],
)
def test_client_errors_are_not_retried(route: str, call) -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            async with http_client(sandbox, max_retries=3, **FAST) as http:
                with pytest.raises(DYDXHttpError) as failure:
                    await call(http)
                assert failure.value.status in (400, 404)
                assert failure.value.route == route
                assert http.requests_sent == 1

    run(scenario())


def test_network_errors_are_retried_then_raised() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            url = sandbox.http_url
            await sandbox.rest.stop()
            async with DYDXHttpClient(url, max_retries=2, **FAST) as http:
                with pytest.raises(DYDXHttpError) as failure:
                    await http.get_time()
                assert failure.value.status is None
                assert http.requests_sent == 3

    run(scenario())


def test_server_rate_limit_headers_pace_requests_without_429() -> None:
    async def scenario() -> None:
        limiter = RateLimiter(limit=4, window_s=0.5)
        async with running_sandbox(rate_limit=limiter) as sandbox:
            async with http_client(sandbox, max_retries=0) as http:
                for _ in range(10):
                    await http.get_height()
                assert http.requests_sent == 10

    run(scenario())


def test_bucket_is_shared_by_clients_of_one_origin() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            # An earlier test's server may have had this port, and its bucket a budget so large
            # that one request is refilled before it can be seen
            ratelimit._BUCKETS.clear()
            first = DYDXHttpClient(sandbox.http_url, rate_limit_per_10s=50)
            second = DYDXHttpClient(sandbox.http_url.removesuffix("/v4") + "/")
            assert first.base_url == second.base_url == sandbox.http_url
            assert first.bucket is second.bucket and first.bucket.capacity == 50
            before = first.bucket.tokens
            await second.get_time()
            assert first.bucket.tokens < before
            await first.close()
            await second.close()

    run(scenario())


def test_broken_body_raises_typed_decode_error() -> None:
    async def scenario() -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/height"):
                return httpx.Response(200, json={"height": 5})
            return httpx.Response(200, content=b"{not json")

        transport = httpx.MockTransport(handler)
        async with DYDXHttpClient("http://127.0.0.1:9/v4", transport=transport) as http:
            with pytest.raises(DYDXDecodeError) as wrong_type:
                await http.get_height()
            assert wrong_type.value.route == "/v4/height"
            assert "height" in str(wrong_type.value)
            with pytest.raises(DYDXDecodeError):
                await http.get_time()

    run(scenario())
