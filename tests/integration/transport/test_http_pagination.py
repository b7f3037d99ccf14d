# SPDX-License-Identifier: Apache-2.0
"""DYDXHttpClient pagers against the sandbox Indexer: past 1000 items, no gaps, no duplicates."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from nautilus_dydx.http import DYDXPaginationError
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import Client
from tests.integration.sandbox.helpers import place
from tests.integration.transport.support import PRICE
from tests.integration.transport.support import STEP
from tests.integration.transport.support import TICK
from tests.integration.transport.support import http_client
from tests.integration.transport.support import make_trades
from tests.integration.transport.support import running_sandbox


def run(coro, timeout: float = 120.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def collect(iterator) -> list:
    return [item async for item in iterator]


def test_fills_trades_orders_page_past_1000_without_gaps_or_duplicates() -> None:
    async def scenario() -> None:
        async with running_sandbox(block_time_ms=60_000) as sandbox:
            channel = grpc.aio.insecure_channel(sandbox.grpc_endpoint)
            # 2100 trades over three blocks (700 per height, three order expiries)
            await make_trades(sandbox, Client(channel), [700, 700, 700])
            await channel.close()
            state = sandbox.state
            async with http_client(sandbox) as http:
                fills = await collect(http.iter_fills(K1_ADDRESS, 0))
                expected = [f["id"] for f in reversed(state.subaccounts[(K1_ADDRESS, 0)].fills)]
                assert len(expected) == 2100
                assert [f.id for f in fills] == expected
                heights = [int(f.created_at_height) for f in fills]
                assert heights == sorted(heights, reverse=True)

                trades = await collect(http.iter_trades("BTC-USD"))
                assert [t.id for t in trades] == [
                    t["id"] for t in reversed(state.markets["BTC-USD"].trades)
                ]
                assert len({t.id for t in trades}) == 2100

                orders = await collect(http.iter_orders(K1_ADDRESS, 0))
                server_ids = set(state.subaccounts[(K1_ADDRESS, 0)].orders)
                assert len(orders) == len(server_ids) == 2100
                assert {o.id for o in orders} == server_ids
                expiries = [int(o.good_til_block) for o in orders]
                assert expiries == sorted(expiries, reverse=True)

                candles = await collect(http.iter_candles("BTC-USD", "1MIN", page_size=1))
                assert [c.trades for c in candles] == [700, 700, 700]
                assert len({c.started_at for c in candles}) == 3
                sent = http.requests_sent
            # Three requests per 1000-item listing (1000, 1000 + overlap, rest)
            assert sent >= 3 * 3

    run(scenario())


def test_full_page_at_one_height_switches_to_page_numbers() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            channel = grpc.aio.insecure_channel(sandbox.grpc_endpoint)
            await make_trades(sandbox, Client(channel), [250])
            await channel.close()
            async with http_client(sandbox) as http:
                fills = await collect(http.iter_fills(K2_ADDRESS, 0, page_size=100))
                assert len(fills) == 250
                assert len({f.id for f in fills}) == 250
                assert len({f.created_at_height for f in fills}) == 1
                # Orders have no page number: 250 IOC orders with one expiry cannot be paged
                with pytest.raises(DYDXPaginationError):
                    await collect(http.iter_orders(K1_ADDRESS, 0, page_size=100))

    run(scenario())


def test_stateful_orders_page_by_expiry_time() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            channel = grpc.aio.insecure_channel(sandbox.grpc_endpoint)
            client = Client(channel)
            base = sandbox.node.block_time_ns // 1_000_000_000 + 600
            for index in range(30):
                tx = BOB.sign_tx(
                    [place(K2_ADDRESS, 500 + index, SELL, STEP, PRICE * 2 + index * TICK,
                           gtbt=base + index // 2, flags=LONG_TERM)],
                    sequence=index,
                )
                result = await client.broadcast(tx)
                assert result.code == 0, result.raw_log
            sandbox.node.step_blocks(1)
            await channel.close()
            async with http_client(sandbox) as http:
                orders = await collect(http.iter_orders(K2_ADDRESS, 0, page_size=7))
                assert sorted(int(o.client_id) for o in orders) == list(range(500, 530))
                times = [o.good_til_block_time for o in orders]
                assert times == sorted(times, reverse=True)

    run(scenario())


def test_hourly_funding_and_pnl_page_past_1000() -> None:
    async def scenario() -> None:
        async with running_sandbox(block_time_ms=3_600_000) as sandbox:
            sandbox.node.step_blocks(1_050)
            state = sandbox.state
            async with http_client(sandbox) as http:
                funding = await collect(http.iter_historical_funding("ETH-USD"))
                assert [f.effective_at_height for f in funding] == [
                    f["effectiveAtHeight"] for f in reversed(state.markets["ETH-USD"].funding)
                ]
                assert len(funding) >= 1_049
                pnl = await collect(http.iter_historical_pnl(K1_ADDRESS, 0))
                assert [p.block_height for p in pnl] == [
                    p["blockHeight"] for p in reversed(state.subaccounts[(K1_ADDRESS, 0)].pnl)
                ]
                assert len(pnl) >= 1_049
                transfers = await collect(http.iter_transfers(K1_ADDRESS, 0, page_size=1))
                assert [t.type for t in transfers] == ["DEPOSIT"]

    run(scenario())
