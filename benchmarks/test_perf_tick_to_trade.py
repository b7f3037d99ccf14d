# SPDX-License-Identifier: Apache-2.0
"""Benchmark: book frame bytes in -> quote -> a strategy's limit order -> signed tx bytes out."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import statistics
import time

import coincurve
import pytest
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide

from benchmarks.frames_fixtures import book_update_frames
from benchmarks.frames_fixtures import snapshot_frame
from nautilus_dydx import order_kinds
from nautilus_dydx._core.frames import FrameParser
from tests.integration.execution.support import BTC_PERP
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_orders import SHORT
from tests.integration.sandbox.helpers import K1_PRIVATE_KEY


ROUNDS = 2000
WARMUP = 100
KINDS = ("short_term", "long_term", "conditional")


def _percentiles(benchmark) -> None:
    data = sorted(benchmark.stats.stats.data)
    benchmark.extra_info["p50_us"] = data[len(data) // 2] * 1e6
    benchmark.extra_info["p99_us"] = data[min(len(data) - 1, int(len(data) * 0.99))] * 1e6


def _order(factory, kind: str, quantity, price):
    # A strategy's order of each kind at the quote: a short-term post-only quote, a resting
    # GTC limit (long-term without tags), a stop-limit (conditional)
    if kind == "short_term":
        return factory.limit(BTC_PERP, OrderSide.BUY, quantity, price, post_only=True, tags=SHORT)
    if kind == "long_term":
        return factory.limit(BTC_PERP, OrderSide.BUY, quantity, price, post_only=True)
    return factory.stop_limit(BTC_PERP, OrderSide.BUY, quantity, price, trigger_price=price)


def _sign(client, kind: str, message: bytes) -> bytes:
    # Short-term: the sender's own call; stateful: the signing `send_stateful` does under
    # its sequence lock (the lock and the broadcast are not timed)
    sender = client.sender
    if kind == "short_term":
        return sender.sign_short_term(message)[0]
    return sender._started().sign_tx(message, sender.next_sequence, sender.memo)


def _book_parser() -> tuple[FrameParser, list[bytes]]:
    # A BTC-USD book from a 50-level snapshot, and two updates that move its top in turn
    parser = FrameParser(emit_quotes=True)
    parser.register("BTC-USD", BTC_PERP, 0, 4)
    parser.parse(snapshot_frame(50))
    return parser, book_update_frames()


def _tick_to_trade(benchmark, kind: str) -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            parser, updates = _book_parser()
            client, factory = node.client, node.strategy.order_factory
            instrument = node.cache.instrument(BTC_PERP)
            quantity = instrument.make_qty(0.001)
            clock = node.client._clock
            count = [0]

            def tick_to_trade() -> bytes:
                count[0] += 1
                objects = parser.parse(updates[count[0] & 1])
                quote = next(o for o in objects if type(o) is QuoteTick)
                order = _order(factory, kind, quantity, quote.bid_price)
                # As `submit_order`: encoded and signed; the venue state is built after
                message = client._encode(order, clock.timestamp_ns())[0]
                return _sign(client, kind, message)

            assert len(tick_to_trade()) > 150
            benchmark.pedantic(tick_to_trade, rounds=ROUNDS, warmup_rounds=WARMUP)
            _percentiles(benchmark)

    asyncio.run(scenario())


def test_perf_tick_to_trade_signed_tx(benchmark) -> None:
    _tick_to_trade(benchmark, "short_term")


@pytest.mark.parametrize("kind", ["long_term", "conditional"])
def test_perf_tick_to_trade_signed_tx_stateful(benchmark, kind: str) -> None:
    _tick_to_trade(benchmark, kind)


def test_perf_tick_to_trade_floor_without_adapter(benchmark) -> None:
    # The same path with no adapter work: the frame parsed, Nautilus's order factory builds
    # the strategy's order, and a bare secp256k1 sign of a fixed digest stands in for the
    # encoding and signing. What no adapter can go below, beside the bare sign's target
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            parser, updates = _book_parser()
            factory = node.strategy.order_factory
            quantity = node.cache.instrument(BTC_PERP).make_qty(0.001)
            key = coincurve.PrivateKey(bytes.fromhex(K1_PRIVATE_KEY))
            digest = hashlib.sha256(b"sign doc").digest()
            count = [0]

            def floor() -> bytes:
                count[0] += 1
                objects = parser.parse(updates[count[0] & 1])
                quote = next(o for o in objects if type(o) is QuoteTick)
                _order(factory, "short_term", quantity, quote.bid_price)
                return key.sign_recoverable(digest, None)

            assert len(floor()) == 65
            benchmark.pedantic(floor, rounds=ROUNDS, warmup_rounds=WARMUP)
            _percentiles(benchmark)

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", KINDS)
def test_perf_submit_path_over_bare_encode_sign_paired(benchmark, kind: str) -> None:
    # The adapter from the order to its signed bytes (`_encode`: checks, plan, client ID,
    # encoding; then signing) beside the compiled cores alone (encode + sign of the same
    # fields), interleaved so the drift of a shared machine cancels in the ratio
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            client, factory = node.client, node.strategy.order_factory
            instrument = node.cache.instrument(BTC_PERP)
            quantity, price = instrument.make_qty(0.001), instrument.make_price(90_000)
            clock, now = client._clock.timestamp_ns, time.perf_counter_ns
            samples: dict[str, list[int]] = {"adapter": [], "bare": [], "submit_now": []}

            def bare_call(order):
                # The same fields the adapter derives (computed untimed): the timed call
                # quantizes, encodes and signs them
                encoded = client._encode(order, clock())
                assert encoded is not None
                state, values = encoded[2](), encoded[2].args[1]
                flags, side, tif, condition, gtb, gtbt, reduce_only, price_raw, trigger, size = (
                    values
                )
                encoder = client._provider.encoder(BTC_PERP, client.address, 0)
                rounding = order_kinds.rounding_for(side, client._kinds)
                place, quantums, subticks = (
                    encoder.place_order_any, encoder.quantums, encoder.subticks,
                )
                sign, sequence = client.sender._started().sign_tx, client.sender.next_sequence
                client_id, metadata = state.client_id, state.client_metadata

                def run() -> bytes:
                    return sign(place(
                        client_id, flags, side, quantums(size), subticks(price_raw, rounding),
                        gtb, gtbt, tif, reduce_only, metadata, condition,
                        subticks(trigger, rounding) if trigger else 0,
                    ), sequence)

                return run

            def adapter_call(order):
                def run() -> bytes:
                    return _sign(client, kind, client._encode(order, clock())[0])

                return run

            rounds = itertools.count()

            def pair() -> None:
                calls = [
                    ("adapter", adapter_call(_order(factory, kind, quantity, price))),
                    ("bare", bare_call(_order(factory, kind, quantity, price))),
                ]
                # Alternate which runs first, so neither always meets the colder caches
                if next(rounds) & 1:
                    calls.reverse()
                for name, call in calls:
                    began = now()
                    tx = call()
                    samples[name].append(now() - began)
                    assert len(tx) > 150
                if kind == "short_term":
                    # The whole synchronous `submit_order` (state, registration, OrderSubmitted)
                    third = _order(factory, kind, quantity, price)
                    node.cache.add_order(third)
                    began = now()
                    sending = client._submit_now(third)
                    samples["submit_now"].append(now() - began)
                    sending.close()  # Not broadcast

            benchmark.pedantic(pair, rounds=ROUNDS, warmup_rounds=WARMUP)
            for name, values in samples.items():
                if not values:
                    continue
                ordered = sorted(values)
                benchmark.extra_info[f"{name}_p50_us"] = ordered[len(ordered) // 2] / 1e3
                benchmark.extra_info[f"{name}_p99_us"] = ordered[int(len(ordered) * 0.99)] / 1e3
            ratios = [a / b for a, b in zip(samples["adapter"], samples["bare"])]
            benchmark.extra_info["ratio_adapter_over_bare"] = statistics.median(ratios)
            if samples["submit_now"]:
                signed = client.metrics.percentiles()["signed"]
                benchmark.extra_info["client_signed_metric_p50_us"] = signed["p50_us"]
            print(
                f"\n{kind}: " + ", ".join(
                    f"{key} {value:.3f}" for key, value in benchmark.extra_info.items()
                ),
            )
            assert len(samples["adapter"]) == ROUNDS + WARMUP

    asyncio.run(scenario())


def test_perf_bare_secp256k1_sign(benchmark) -> None:
    key = coincurve.PrivateKey(bytes.fromhex(K1_PRIVATE_KEY))
    digest = hashlib.sha256(b"sign doc").digest()
    benchmark.pedantic(
        key.sign_recoverable, args=(digest, None), rounds=ROUNDS, warmup_rounds=WARMUP,
    )
    _percentiles(benchmark)
