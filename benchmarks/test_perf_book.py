# SPDX-License-Identifier: Apache-2.0
"""Benchmarks: book frames -> deltas applied to the book + quote (ours, twin, built-in, orjson)."""

from __future__ import annotations

import orjson
import pytest
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.data import QuoteTick

from benchmarks.frames_fixtures import TS
from benchmarks.frames_fixtures import BuiltIn
from benchmarks.frames_fixtures import book_update_frames
from benchmarks.frames_fixtures import new_parser
from benchmarks.frames_fixtures import snapshot_frame
from nautilus_dydx._core import frames as compiled
from tests.reference import frames as reference


UPDATES = book_update_frames()
SNAPSHOT = snapshot_frame(120)  # 240 levels

PARSERS = {
    "ours-scanner": lambda: new_parser(compiled),
    "ours-orjson-walk": lambda: new_parser(compiled, scanner=False),
    "twin": lambda: new_parser(reference),
}


def _check_update(out_a: list, out_b: list) -> None:
    for out in (out_a, out_b):
        assert isinstance(out[0], OrderBookDeltas)
        assert len(out[0].deltas) == 3
        assert isinstance(out[1], QuoteTick)


@pytest.mark.parametrize("name", list(PARSERS))
def test_book_update(benchmark, name) -> None:
    benchmark.group = "book update frame (x2, alternating top)"
    parser = PARSERS[name]()
    parser.parse(SNAPSHOT, TS)
    a, b = UPDATES
    result = benchmark(lambda: (parser.parse(a, TS), parser.parse(b, TS)))
    _check_update(*result)


def test_book_update_builtin(benchmark) -> None:
    benchmark.group = "book update frame (x2, alternating top)"
    builtin = BuiltIn()
    builtin.book_snapshot(SNAPSHOT)
    a, b = UPDATES
    result = benchmark(lambda: (builtin.book_update(a), builtin.book_update(b)))
    _check_update(*result)


def test_book_update_orjson_floor(benchmark) -> None:
    benchmark.group = "book update frame (x2, alternating top)"
    a, b = UPDATES
    result = benchmark(lambda: (orjson.loads(a), orjson.loads(b)))
    assert result[0]["contents"]["bids"][0] == ["90000", "1.5"]


@pytest.mark.parametrize("name", list(PARSERS))
def test_book_snapshot(benchmark, name) -> None:
    benchmark.group = "book snapshot 240 levels"
    parser = PARSERS[name]()
    out = benchmark(parser.parse, SNAPSHOT, TS)
    assert type(out[0]).__name__ == "Subscribed"
    assert len(out[1].deltas) == 241
    assert len(parser.context("BTC-USD").book) == 240


def test_book_snapshot_builtin(benchmark) -> None:
    benchmark.group = "book snapshot 240 levels"
    builtin = BuiltIn()
    out = benchmark(builtin.book_snapshot, SNAPSHOT)
    assert len(out[0].deltas) == 241


def test_book_snapshot_orjson_floor(benchmark) -> None:
    benchmark.group = "book snapshot 240 levels"
    out = benchmark(orjson.loads, SNAPSHOT)
    assert len(out["contents"]["bids"]) == 120


E = 10**16
BOOK_LEVELS = 120


@pytest.mark.parametrize("name", ["compiled", "twin"])
def test_book_cross_and_uncross(benchmark, name) -> None:
    # The rare path: a newer bid crosses the best ask (published DELETE + ADD), then goes
    from nautilus_trader.model.identifiers import InstrumentId

    from nautilus_dydx._core import book as compiled_book
    from tests.reference import book as reference_book

    benchmark.group = "book cross + uncross update (x2, public API)"
    impl = compiled_book if name == "compiled" else reference_book
    book = impl.L2Book(InstrumentId.from_str("BTC-USD-PERP.DYDX"), 0, 4, 0)
    book.apply_snapshot(
        [((90_000 - i) * E, E) for i in range(BOOK_LEVELS)],
        [((90_001 + i) * E, E) for i in range(BOOK_LEVELS)],
        1,
    )
    ids = iter(range(2, 10**9))

    def cross_and_uncross():
        crossed = book.apply_update([(90_002 * E, 2 * E)], [], next(ids))
        uncrossed = book.apply_update([(90_002 * E, 0)], [], next(ids))
        return crossed, uncrossed

    crossed, uncrossed = benchmark(cross_and_uncross)
    assert [d.action for d in crossed.deltas] == [BookAction.DELETE] * 2 + [BookAction.ADD]
    assert [d.action for d in uncrossed.deltas] == [BookAction.DELETE] + [BookAction.ADD] * 2
