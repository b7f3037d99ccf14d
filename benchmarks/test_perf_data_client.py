# SPDX-License-Identifier: Apache-2.0
"""Data client into a Nautilus data engine: replayed book and trade frames, ours vs built-in."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from nautilus_trader.adapters.dydx.config import DYDXDataClientConfig as BuiltinConfig
from nautilus_trader.adapters.dydx.data import DYDXDataClient as BuiltinDataClient
from nautilus_trader.adapters.dydx.http.client import DYDXHttpClient as BuiltinHttpClient
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.data.engine import DataEngine
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.currencies import BTC
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from benchmarks.ws_stream import MARKETS
from benchmarks.ws_stream import write_session
from nautilus_dydx.config import DYDXDataClientConfig
from nautilus_dydx.data import DELTAS
from nautilus_dydx.data import QUOTES
from nautilus_dydx.data import DYDXDataClient
from nautilus_dydx.http.client import DYDXHttpClient
from nautilus_dydx.providers import DYDXInstrumentProvider


try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is optional
    uvloop = None

REPO_ROOT = Path(__file__).resolve().parent.parent
UPDATE_FRAMES = 60_000
ROUNDS = 5
TIMEOUT_S = 300.0
WALLET = "dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art"  # Public test vector K2, never funded
RESULTS: dict[str, dict[str, float]] = {}


def _instrument_id(ticker: str) -> InstrumentId:
    return InstrumentId.from_str(f"{ticker}-PERP.DYDX")


def _perpetual(market) -> CryptoPerpetual:
    return CryptoPerpetual(
        instrument_id=_instrument_id(market.ticker),
        raw_symbol=Symbol(market.ticker),
        base_currency=BTC,
        quote_currency=USDC,
        settlement_currency=USDC,
        is_inverse=False,
        price_precision=market.price_precision,
        size_precision=market.size_precision,
        price_increment=Price(Decimal(1).scaleb(-market.price_precision), market.price_precision),
        size_increment=Quantity(Decimal(1).scaleb(-market.size_precision), market.size_precision),
        ts_event=0,
        ts_init=0,
        margin_init=Decimal("0.05"),
        margin_maint=Decimal("0.03"),
        maker_fee=Decimal("0.0002"),
        taker_fee=Decimal("0.0005"),
    )


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> tuple[str, int, int, int]:
    # The pre-encoded session written in large chunks by a server in its own process, so the
    # measured CPU is the client's and the data engine's alone
    path = tmp_path_factory.mktemp("data") / "session.ndjson"
    write_session(path, UPDATE_FRAMES)
    lines = path.read_bytes().splitlines()
    book_frames = sum(1 for line in lines if b'"channel":"v4_orderbook"' in line)
    trade_count = sum(line.count(b'"createdAtHeight"') for line in lines)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.ws_replay", str(path), "--mode", "bulk"],
        stdout=subprocess.PIPE, env=env, cwd=REPO_ROOT,
    )
    try:
        port = int(server.stdout.readline())
        yield f"ws://127.0.0.1:{port}/v4/ws", len(lines), book_frames, trade_count
    finally:
        server.terminate()
        server.wait(timeout=10)


def _run(coroutine_factory: Callable) -> object:
    if uvloop is not None:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coroutine_factory())
    return asyncio.run(coroutine_factory())


class _Round:
    """One full replay: wall and CPU time, and what the engine's subscribers received."""

    def __init__(self) -> None:
        self.deltas = 0
        self.quotes = 0
        self.trades = 0
        self.wall_ns = 0
        self.cpu_ns = 0


def _engine(result: _Round) -> tuple[MessageBus, Cache, LiveClock, DataEngine]:
    # A running data engine with one book-deltas, quote and trade subscriber per market
    clock = LiveClock()
    msgbus = MessageBus(TraderId("BENCH-001"), clock)
    cache = Cache()
    for market in MARKETS:
        cache.add_instrument(_perpetual(market))
    engine = DataEngine(msgbus, cache, clock)
    engine.start()

    def on_deltas(_: object) -> None:
        result.deltas += 1

    def on_quote(_: object) -> None:
        result.quotes += 1

    def on_trade(_: object) -> None:
        result.trades += 1

    for market in MARKETS:
        symbol = f"{market.ticker}-PERP"
        msgbus.subscribe(f"data.book.deltas.DYDX.{symbol}", on_deltas)
        msgbus.subscribe(f"data.quotes.DYDX.{symbol}", on_quote)
        msgbus.subscribe(f"data.trades.DYDX.{symbol}", on_trade)
    return msgbus, cache, clock, engine


async def _wait_delivered(result: _Round, expected: tuple[int, int],
                          loop: asyncio.AbstractEventLoop) -> None:
    # Done when every book frame's deltas and every trade reached the engine's subscribers
    book_frames, trade_count = expected
    deadline = loop.time() + TIMEOUT_S
    while (result.deltas < book_frames or result.trades < trade_count) and (
        loop.time() < deadline
    ):
        await asyncio.sleep(0.001)


async def _ours(url: str, expected: tuple[int, int]) -> _Round:
    result = _Round()
    loop = asyncio.get_running_loop()
    msgbus, cache, clock, engine = _engine(result)
    config = DYDXDataClientConfig(network="sandbox", base_url_ws=url)
    http = DYDXHttpClient("http://127.0.0.1:9")
    provider = DYDXInstrumentProvider(http, None, clock)
    client = DYDXDataClient(loop, http, msgbus, cache, clock, provider, url, config)
    client._handle_data = engine.process
    ws = client.ws_client
    for market in MARKETS:
        instrument = cache.instrument(_instrument_id(market.ticker))
        client._register(instrument)
        client._book_kinds[instrument.id] = {DELTAS, QUOTES}
        client._trades.add(instrument.id)
        client._route(instrument.id)
    ws.idle_timeout_s = 60.0
    cpu0 = time.process_time_ns()
    wall0 = time.perf_counter_ns()
    await ws.connect()
    await _wait_delivered(result, expected, loop)
    result.wall_ns = time.perf_counter_ns() - wall0
    result.cpu_ns = time.process_time_ns() - cpu0
    await ws.disconnect()
    await http.close()
    return result


async def _builtin(url: str, expected: tuple[int, int]) -> _Round:
    result = _Round()
    loop = asyncio.get_running_loop()
    msgbus, cache, clock, engine = _engine(result)
    data = BuiltinDataClient(
        loop=loop,
        client=BuiltinHttpClient(clock, "http://127.0.0.1:9"),
        msgbus=msgbus,
        cache=cache,
        clock=clock,
        instrument_provider=InstrumentProvider(),
        ws_base_url=url,
        config=BuiltinConfig(wallet_address=WALLET),
        name=None,
    )
    for market in MARKETS:
        instrument_id = _instrument_id(market.ticker)
        data._books[instrument_id] = OrderBook(instrument_id, BookType.L2_MBP)
    data._handle_data = engine.process
    ws = data._ws_client
    cpu0 = time.process_time_ns()
    wall0 = time.perf_counter_ns()
    await ws.connect()
    await _wait_delivered(result, expected, loop)
    result.wall_ns = time.perf_counter_ns() - wall0
    result.cpu_ns = time.process_time_ns() - cpu0
    await ws.disconnect()
    return result


def _measure(benchmark, name: str, run_round: Callable, replay) -> None:
    url, total, book_frames, trade_count = replay
    rounds: list[_Round] = []

    def once() -> None:
        rounds.append(_run(lambda: run_round(url, (book_frames, trade_count))))

    benchmark.pedantic(once, rounds=ROUNDS, iterations=1, warmup_rounds=0)
    for r in rounds:
        # Every frame reached the engine's subscribers: book frames as deltas, every trade
        assert r.deltas == book_frames
        assert r.trades == trade_count
        assert 0 < r.quotes <= book_frames
    rates = [total / (r.wall_ns / 1e9) for r in rounds]
    fps = statistics.median(rates)
    cpu_us = statistics.median(r.cpu_ns / 1e3 / total for r in rounds)
    RESULTS[name] = {"frames_per_s": fps, "cpu_us_per_frame": cpu_us}
    benchmark.extra_info.update(
        frames=total,
        frames_per_s=round(fps),
        cpu_us_per_frame=round(cpu_us, 3),
        quotes=rounds[-1].quotes,
        event_loop="uvloop" if uvloop is not None else "asyncio",
    )


def test_data_client_engine_ours(benchmark, replay) -> None:
    benchmark.group = "data client -> data engine (replayed book and trade frames, loopback)"
    _measure(benchmark, "ours", _ours, replay)


def test_data_client_engine_builtin(benchmark, replay) -> None:
    benchmark.group = "data client -> data engine (replayed book and trade frames, loopback)"
    _measure(benchmark, "builtin", _builtin, replay)
    ours = RESULTS.get("ours")
    if ours is not None:
        builtin = RESULTS["builtin"]
        benchmark.extra_info["ours_frames_per_s_ratio"] = round(
            ours["frames_per_s"] / builtin["frames_per_s"], 2,
        )
        benchmark.extra_info["ours_cpu_ratio"] = round(
            builtin["cpu_us_per_frame"] / ours["cpu_us_per_frame"], 2,
        )


def test_handshake_to_first_book_delta(benchmark) -> None:
    # From the start of the WebSocket handshake to the first book delta at an engine subscriber,
    # against the in-process sandbox with its liquidity agents (loopback, fresh client per round)
    from nautilus_dydx.sandbox.agents import MarketAgents
    from nautilus_dydx.sandbox.config import SandboxConfig
    from nautilus_dydx.sandbox.indexer import IndexerSandbox

    latencies: list[int] = []

    async def scenario() -> None:
        sandbox = IndexerSandbox(SandboxConfig(auto_blocks=False, extra_fields=False))
        await sandbox.start()
        sandbox.agents = MarketAgents(sandbox.node)
        sandbox.agents.start()
        try:
            for _ in range(ROUNDS + 2):
                latencies.append(await _first_delta_ns(sandbox))
        finally:
            await sandbox.stop()

    async def _first_delta_ns(sandbox) -> int:
        loop = asyncio.get_running_loop()
        result = _Round()
        msgbus, cache, clock, engine = _engine(result)
        first = loop.create_future()
        msgbus.subscribe(
            "data.book.deltas.DYDX.BTC-USD-PERP",
            lambda _: first.done() or first.set_result(time.perf_counter_ns()),
        )
        config = DYDXDataClientConfig(
            network="sandbox", base_url_http=sandbox.http_url, base_url_ws=sandbox.ws_url,
        )
        http = DYDXHttpClient(sandbox.http_url)
        provider = DYDXInstrumentProvider(http, None, clock)
        await provider.load_all_async()
        client = DYDXDataClient(loop, http, msgbus, cache, clock, provider, sandbox.ws_url, config)
        client._handle_data = engine.process
        for instrument in provider.list_all():
            client._register(instrument)
        instrument_id = _instrument_id("BTC-USD")
        start = time.perf_counter_ns()
        await client.ws_client.connect()
        await client._add_book_kind(instrument_id, DELTAS)
        end = await asyncio.wait_for(first, 10.0)
        await client.ws_client.disconnect()
        await http.close()
        return end - start

    benchmark.group = "handshake to first book delta (sandbox, loopback)"
    benchmark.pedantic(lambda: _run(scenario), rounds=1, iterations=1, warmup_rounds=0)
    steady = sorted(latencies[1:])
    assert all(0 < latency < 10_000_000_000 for latency in latencies)
    benchmark.extra_info.update(
        first_delta_ms_median=round(statistics.median(steady) / 1e6, 3),
        first_delta_ms_max=round(max(steady) / 1e6, 3),
        rounds=len(steady),
    )
