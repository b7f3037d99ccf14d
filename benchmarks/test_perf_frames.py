# SPDX-License-Identifier: Apache-2.0
"""Benchmarks: trade, candle and subaccount frames (ours, twin, built-in adapter, orjson floor)."""

from __future__ import annotations

import orjson
import pytest
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import TradeTick

from benchmarks.frames_fixtures import TS
from benchmarks.frames_fixtures import BuiltIn
from benchmarks.frames_fixtures import candle_frame
from benchmarks.frames_fixtures import level_frames
from benchmarks.frames_fixtures import new_parser
from benchmarks.frames_fixtures import snapshot_frame
from benchmarks.frames_fixtures import subaccount_frame
from benchmarks.frames_fixtures import trade_frame
from benchmarks.frames_fixtures import unique_frames
from nautilus_dydx._core import frames as compiled
from tests.reference import frames as reference


TRADES = trade_frame()
CANDLE = candle_frame()
SUBACCOUNT = subaccount_frame()
# More ids than the parser remembers (10_000 per market / per parser): every round is new
NEXT_TRADES = unique_frames(trade_frame, 4_000)
NEXT_SUBACCOUNT = unique_frames(subaccount_frame, 6_000)

PARSERS = {
    "ours-scanner": lambda: new_parser(compiled),
    "ours-orjson-walk": lambda: new_parser(compiled, scanner=False),
    "twin": lambda: new_parser(reference),
}


def _fresh(parser, next_frame) -> list:
    # Trades and fills are de-duplicated by id: a frame with ids not remembered any more
    return parser.parse(next_frame(), TS)


@pytest.mark.parametrize("name", list(PARSERS))
def test_trade_frame(benchmark, name) -> None:
    benchmark.group = "trade frame (3 trades)"
    parser = PARSERS[name]()
    out = benchmark(_fresh, parser, NEXT_TRADES)
    assert [type(t) for t in out] == [TradeTick] * 3
    assert out[2].price.raw == 90002 * 10**16


def test_trade_frame_builtin(benchmark) -> None:
    benchmark.group = "trade frame (3 trades)"
    builtin = BuiltIn()
    out = benchmark(builtin.trades, TRADES)
    assert [type(t) for t in out] == [TradeTick] * 3


def test_trade_frame_orjson_floor(benchmark) -> None:
    benchmark.group = "trade frame (3 trades)"
    out = benchmark(orjson.loads, TRADES)
    assert len(out["contents"]["trades"]) == 3


@pytest.mark.parametrize("name", list(PARSERS))
def test_candle_frame(benchmark, name) -> None:
    # An update of the forming candle (the common case: the bar is published once closed)
    benchmark.group = "candle frame"
    parser = PARSERS[name]()
    out = benchmark(parser.parse, CANDLE, TS)
    assert out == []
    bars = parser.flush_closed_bars(2**63)
    assert isinstance(bars[0], Bar)
    assert bars[0].close.raw == 90112 * 10**16


def test_candle_frame_builtin(benchmark) -> None:
    benchmark.group = "candle frame"
    builtin = BuiltIn()
    out = benchmark(builtin.candle, CANDLE)
    assert isinstance(out[0], Bar)


def test_candle_frame_orjson_floor(benchmark) -> None:
    benchmark.group = "candle frame"
    out = benchmark(orjson.loads, CANDLE)
    assert out["contents"]["close"] == "90112"


@pytest.mark.parametrize("name", list(PARSERS))
def test_subaccount_update(benchmark, name) -> None:
    benchmark.group = "subaccount update (2 fills, 2 orders)"
    parser = PARSERS[name]()
    out = benchmark(_fresh, parser, NEXT_SUBACCOUNT)
    names = [type(o).__name__ for o in out]
    assert names == ["OrderUpdate", "OrderUpdate", "BlockHeight", "FillUpdate", "FillUpdate"]


def test_subaccount_update_builtin(benchmark) -> None:
    benchmark.group = "subaccount update (2 fills, 2 orders)"
    builtin = BuiltIn()
    out = benchmark(builtin.subaccount_update, SUBACCOUNT)
    assert len(out) == 4


def test_subaccount_update_orjson_floor(benchmark) -> None:
    benchmark.group = "subaccount update (2 fills, 2 orders)"
    out = benchmark(orjson.loads, SUBACCOUNT)
    assert len(out["contents"]["fills"]) == 2


LEVEL_DATA, LEVEL_BATCH = level_frames(10, 2)


@pytest.mark.parametrize("kind", ["channel_data", "channel_batch_data"])
def test_book_levels_batch_vs_data(benchmark, kind) -> None:
    # Same 10 levels as one channel_data frame or a batch of 5 contents: time / 10 = per level
    benchmark.group = "book frame, 10 levels (per level = time / 10)"
    parser = new_parser(compiled)
    parser.parse(snapshot_frame(120), TS)
    data = LEVEL_DATA if kind == "channel_data" else LEVEL_BATCH
    out = benchmark(parser.parse, data, TS)
    assert len(out[0].deltas) == 10


def test_id_ring_build(benchmark) -> None:
    # The execution client's fill-id memory (65,536 ids, 1.5 MiB), built once per client
    benchmark.group = "fill-id memory build (capacity 65,536)"
    ring = benchmark(compiled.IdRing, 1 << 16)
    assert len(ring) == 0


def test_id_ring_add_new_id(benchmark) -> None:
    # The trade-id memory at capacity: each add forgets the oldest id
    benchmark.group = "trade-id memory (capacity 10,000)"
    ring = compiled.IdRing(10_000)
    ids = [f"{i:08d}-1c4e-5b2a-9d3f-{i:012d}" for i in range(30_000)]
    for item in ids[:10_000]:
        ring.add(item)
    position = [10_000]

    def add_next() -> bool:
        i = position[0]
        position[0] = i + 1 if i + 1 < len(ids) else 0
        return ring.add(ids[i])

    assert benchmark(add_next) is True
    assert len(ring) == 10_000
