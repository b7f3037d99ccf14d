# SPDX-License-Identifier: Apache-2.0
"""End to end: a replayed Indexer session over loopback to Nautilus objects, ours vs built-in."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from nautilus_trader.adapters.dydx.config import DYDXDataClientConfig
from nautilus_trader.adapters.dydx.data import DYDXDataClient
from nautilus_trader.adapters.dydx.http.client import DYDXHttpClient
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.currencies import BTC
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from benchmarks.ws_stream import MARKETS
from benchmarks.ws_stream import write_session
from nautilus_dydx.websocket import DYDXWebSocketClient


try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is optional
    uvloop = None

REPO_ROOT = Path(__file__).resolve().parent.parent
UPDATE_FRAMES = 60_000
ROUNDS = 3
TIMEOUT_S = 300.0
WALLET = "dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art"  # Public test vector K2, never funded
RESULTS: dict[tuple[str, str], dict[str, float]] = {}

def _instrument_id(ticker: str) -> InstrumentId:
    return InstrumentId.from_str(f"{ticker}-PERP.DYDX")


def _perpetual(market) -> CryptoPerpetual:
    price_increment = Price(Decimal(1).scaleb(-market.price_precision), market.price_precision)
    size_increment = Quantity(Decimal(1).scaleb(-market.size_precision), market.size_precision)
    return CryptoPerpetual(
        instrument_id=_instrument_id(market.ticker),
        raw_symbol=Symbol(market.ticker),
        base_currency=BTC,
        quote_currency=USDC,
        settlement_currency=USDC,
        is_inverse=False,
        price_precision=market.price_precision,
        size_precision=market.size_precision,
        price_increment=price_increment,
        size_increment=size_increment,
        ts_event=0,
        ts_init=0,
        margin_init=Decimal("0.05"),
        margin_maint=Decimal("0.03"),
        maker_fee=Decimal("0.0002"),
        taker_fee=Decimal("0.0005"),
    )


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ws") / "session.ndjson"
    write_session(path, UPDATE_FRAMES)
    return path


# "sandbox": the sandbox's ReplayServer as it is (one send per frame, its Python loop bounds the
# rate); "bulk": the same frames pre-encoded and written in large chunks, so the client's own
# throughput shows. Each server runs in its own process: the measured CPU is the client's alone.
@pytest.fixture(scope="module", params=["sandbox", "bulk"])
def replay(request, session: Path) -> tuple[str, int, int, int, str]:
    path = session
    total = len(path.read_bytes().splitlines())
    lines = path.read_bytes().splitlines()
    book_frames = sum(1 for line in lines if b'"channel":"v4_orderbook"' in line)
    trade_count = sum(line.count(b'"createdAtHeight"') for line in lines)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.ws_replay", str(path), "--mode", request.param],
        stdout=subprocess.PIPE, env=env, cwd=REPO_ROOT,
    )
    try:
        port = int(server.stdout.readline())
        yield f"ws://127.0.0.1:{port}/v4/ws", total, book_frames, trade_count, request.param
    finally:
        server.terminate()
        server.wait(timeout=10)


def _run(coroutine_factory: Callable) -> object:
    if uvloop is not None:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coroutine_factory())
    return asyncio.run(coroutine_factory())


class _Round:
    """Wall and process CPU time of one full replay, with what was delivered."""

    def __init__(self) -> None:
        self.frames = 0
        self.deltas = 0
        self.trades = 0
        self.wall_ns = 0
        self.cpu_ns = 0


async def _ours(url: str, total: int) -> _Round:
    result = _Round()
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def handler(objects: list) -> None:
        result.frames += 1
        for o in objects:
            kind = type(o)
            if kind is OrderBookDeltas:
                result.deltas += 1
            elif kind is TradeTick:
                result.trades += 1
        if result.frames == total:
            done.set_result(None)

    client = DYDXWebSocketClient(
        url, handler, reconnect_delay_initial_s=10.0, reconnect_delay_max_s=10.0,
        idle_timeout_s=60.0,
    )
    for market in MARKETS:
        client.register_market(
            market.ticker, _instrument_id(market.ticker), market.price_precision,
            market.size_precision,
        )
    cpu0 = time.process_time_ns()
    wall0 = time.perf_counter_ns()
    await client.connect()
    await asyncio.wait_for(done, TIMEOUT_S)
    result.wall_ns = time.perf_counter_ns() - wall0
    result.cpu_ns = time.process_time_ns() - cpu0
    await client.disconnect()
    return result


async def _builtin(url: str, total: int) -> _Round:
    # The built-in adapter's own WebSocket client (Rust transport) and data-client handler,
    # with `_handle_data` (the hand-off to the DataEngine) counting the finished objects
    result = _Round()
    loop = asyncio.get_running_loop()
    done = threading.Event()
    clock = LiveClock()
    cache = Cache()
    for market in MARKETS:
        cache.add_instrument(_perpetual(market))
    data = DYDXDataClient(
        loop=loop,
        client=DYDXHttpClient(clock, "http://127.0.0.1:9"),
        msgbus=MessageBus(TraderId("BENCH-001"), clock),
        cache=cache,
        clock=clock,
        instrument_provider=InstrumentProvider(),
        ws_base_url=url,
        config=DYDXDataClientConfig(wallet_address=WALLET),
        name=None,
    )
    for market in MARKETS:
        iid = _instrument_id(market.ticker)
        data._books[iid] = OrderBook(iid, BookType.L2_MBP)

    def handle_data(o) -> None:
        kind = type(o)
        if kind is OrderBookDeltas:
            result.deltas += 1
        elif kind is TradeTick:
            result.trades += 1

    data._handle_data = handle_data
    handle_message = data._handle_ws_message

    def handler(raw: bytes) -> None:
        handle_message(raw)
        result.frames += 1
        if result.frames == total:
            done.set()

    ws = data._ws_client
    ws._handler = handler
    cpu0 = time.process_time_ns()
    wall0 = time.perf_counter_ns()
    await ws.connect()
    deadline = loop.time() + TIMEOUT_S
    while not done.is_set() and loop.time() < deadline:
        await asyncio.sleep(0.001)
    result.wall_ns = time.perf_counter_ns() - wall0
    result.cpu_ns = time.process_time_ns() - cpu0
    await ws.disconnect()
    return result


def _measure(benchmark, name: str, run_round: Callable, replay) -> _Round:
    url, total, book_frames, trade_count, mode = replay
    rounds: list[_Round] = []

    def once() -> None:
        rounds.append(_run(lambda: run_round(url, total)))

    benchmark.pedantic(once, rounds=ROUNDS, iterations=1, warmup_rounds=0)
    for r in rounds:
        # Every frame delivered: each book frame as OrderBookDeltas, every trade as a TradeTick
        assert r.frames == total
        assert r.deltas == book_frames
        assert r.trades == trade_count
    rates = [r.frames / (r.wall_ns / 1e9) for r in rounds]
    fps = statistics.median(rates)
    cpu_us = statistics.median(r.cpu_ns / 1e3 / r.frames for r in rounds)
    RESULTS[(name, mode)] = {"frames_per_s": fps, "cpu_us_per_frame": cpu_us}
    benchmark.extra_info.update(
        frames=total,
        frames_per_s=round(fps),
        frames_per_s_best=round(max(rates)),
        # Throughput per CPU-second: comparable when the machine is shared and wall time is not
        frames_per_cpu_s=round(1e6 / cpu_us),
        cpu_us_per_frame=round(cpu_us, 3),
        event_loop="uvloop" if uvloop is not None else "asyncio",
        replay_server=mode,
    )
    return rounds[-1]


def test_ws_e2e_ours(benchmark, replay) -> None:
    benchmark.group = f"ws end to end (replayed session, loopback, {replay[4]} replay)"
    _measure(benchmark, "ours", _ours, replay)


def test_ws_e2e_builtin(benchmark, replay) -> None:
    mode = replay[4]
    benchmark.group = f"ws end to end (replayed session, loopback, {mode} replay)"
    _measure(benchmark, "builtin", _builtin, replay)
    ours = RESULTS.get(("ours", mode))
    if ours is not None:
        builtin = RESULTS[("builtin", mode)]
        benchmark.extra_info["ours_frames_per_s_ratio"] = round(
            ours["frames_per_s"] / builtin["frames_per_s"], 2,
        )
        benchmark.extra_info["ours_frames_per_cpu_s_ratio"] = round(
            builtin["cpu_us_per_frame"] / ours["cpu_us_per_frame"], 2,
        )
