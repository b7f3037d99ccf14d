# SPDX-License-Identifier: Apache-2.0
"""Benchmark: book frame bytes in -> quote -> a strategy's limit order -> signed tx bytes out."""

from __future__ import annotations

import asyncio
import hashlib

import coincurve
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide

from benchmarks.frames_fixtures import book_update_frames
from benchmarks.frames_fixtures import snapshot_frame
from nautilus_dydx._core.frames import FrameParser
from tests.integration.execution.support import BTC_PERP
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_orders import SHORT
from tests.integration.sandbox.helpers import K1_PRIVATE_KEY


def _percentiles(benchmark) -> None:
    data = sorted(benchmark.stats.stats.data)
    benchmark.extra_info["p50_us"] = data[len(data) // 2] * 1e6
    benchmark.extra_info["p99_us"] = data[min(len(data) - 1, int(len(data) * 0.99))] * 1e6


def test_perf_tick_to_trade_signed_tx(benchmark) -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            parser = FrameParser(emit_quotes=True)
            parser.register("BTC-USD", BTC_PERP, 0, 4)
            parser.parse(snapshot_frame(50))
            updates = book_update_frames()
            client, factory = node.client, node.strategy.order_factory
            instrument = node.cache.instrument(BTC_PERP)
            quantity = instrument.make_qty(0.001)
            clock = node.client._clock
            count = [0]

            def tick_to_trade() -> bytes:
                count[0] += 1
                objects = parser.parse(updates[count[0] & 1])
                quote = next(o for o in objects if type(o) is QuoteTick)
                order = factory.limit(
                    BTC_PERP, OrderSide.BUY, quantity, quote.bid_price, post_only=True,
                    tags=SHORT,
                )
                _, message = client._prepare(order, clock.timestamp_ns())
                return client.sender.sign_short_term(message)[0]

            assert len(tick_to_trade()) > 150
            benchmark.pedantic(tick_to_trade, rounds=2000, warmup_rounds=100)
            _percentiles(benchmark)

    asyncio.run(scenario())


def test_perf_bare_secp256k1_sign(benchmark) -> None:
    key = coincurve.PrivateKey(bytes.fromhex(K1_PRIVATE_KEY))
    digest = hashlib.sha256(b"sign doc").digest()
    benchmark.pedantic(key.sign_recoverable, args=(digest, None), rounds=2000, warmup_rounds=100)
    _percentiles(benchmark)
