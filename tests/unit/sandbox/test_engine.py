# SPDX-License-Identifier: Apache-2.0
"""Exact-integer engine pieces: quantization, quote amounts, positions, book, events."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_dydx.sandbox import BlockEvent
from nautilus_dydx.sandbox import EventBus
from nautilus_dydx.sandbox import MarketConfig
from nautilus_dydx.sandbox.config import default_markets
from nautilus_dydx.sandbox.engine import SIDE_BUY
from nautilus_dydx.sandbox.engine import SIDE_SELL
from nautilus_dydx.sandbox.engine import Book
from nautilus_dydx.sandbox.engine import Order
from nautilus_dydx.sandbox.engine import Position
from nautilus_dydx.sandbox.engine import quote_quantums


BTC, ETH, SOL, PEPE = default_markets()


def test_default_market_parameters() -> None:
    assert (BTC.clob_pair_id, BTC.atomic_resolution, BTC.quantum_conversion_exponent,
            BTC.step_base_quantums, BTC.subticks_per_tick) == (0, -10, -9, 1_000_000, 100_000)
    assert (ETH.clob_pair_id, ETH.atomic_resolution, ETH.subticks_per_tick) == (1, -9, 100_000)
    assert (SOL.clob_pair_id, SOL.atomic_resolution, SOL.subticks_per_tick) == (5, -7, 1_000_000)
    assert (PEPE.atomic_resolution, PEPE.quantum_conversion_exponent) == (1, -9)


def test_quantization_vectors() -> None:
    assert BTC.price_to_subticks("65432.1") == 6_543_210_000
    assert BTC.size_to_quantums("0.01234") == 123_400_000
    assert quote_quantums(123_000_000, 6_543_200_000, -9) == 804_813_600
    doge = MarketConfig("DOGE-USD", 9, -4, -9, 1_000_000, 1_000_000, "0.1")
    assert doge.price_to_subticks("0.123456") == 12_345_600_000
    assert quote_quantums(12_000_000, 12_345_000_000, -9) == 148_140_000
    assert PEPE.price_to_subticks("0.00001234567") == 123_456_700_000
    assert PEPE.size_to_quantums("123456789") == 12_345_678
    assert quote_quantums(12_000_000, 123_456_000_000, -9) == 1_481_472_000


def test_position_open_add_reduce_flip() -> None:
    position = Position()
    position.apply(2_000_000, 13_000_000)
    position.apply(2_000_000, 14_000_000)
    assert (position.size, position.entry_quote, position.sum_open) == (4_000_000, 27_000_000,
                                                                        4_000_000)
    # Close half at 7.5 per million: proceeds 15 000 000, cost 13 500 000
    position.apply(-2_000_000, 15_000_000)
    assert (position.size, position.entry_quote, position.realized_pnl) == (
        2_000_000, 13_500_000, 1_500_000,
    )
    # Sell 3: close 2 (proceeds 12 000 000 of 18 000 000), open 1 short at 6 000 000
    position.apply(-3_000_000, 18_000_000)
    assert (position.size, position.entry_quote, position.realized_pnl) == (
        -1_000_000, 6_000_000, 0,
    )
    assert (position.sum_open, position.sum_close) == (5_000_000, 4_000_000)
    assert position.max_size == 4_000_000


def _order(client_id: int, side: int, subticks: int, quantums: int = 1_000_000) -> Order:
    return Order(("dydx1x", 0, client_id, 0, 0), side, quantums, subticks, 10, 0, 0, False, 0, 0,
                 0, b"", "", "BTC-USD")


def test_book_price_time_priority() -> None:
    book = Book()
    first = _order(1, SIDE_SELL, 101)
    second = _order(2, SIDE_SELL, 100)
    third = _order(3, SIDE_SELL, 100)
    for order in (first, second, third):
        book.add(order)
    assert [o.key[2] for o in book.crossing(SIDE_BUY, 101)] == [2, 3, 1]
    assert [o.key[2] for o in book.crossing(SIDE_BUY, 100)] == [2, 3]
    assert book.best_price(SIDE_SELL) == 100
    assert book.remove(second)
    assert not book.remove(second)
    assert book.levels(SIDE_SELL) == [(100, 1_000_000), (101, 1_000_000)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 20), st.integers(1, 5)), max_size=60))
def test_book_levels_match_orders(operations: list[tuple[bool, int, int]]) -> None:
    book = Book()
    live: dict[int, Order] = {}
    for index, (add, price, size) in enumerate(operations):
        if add or not live:
            order = _order(index, SIDE_BUY, price, size)
            book.add(order)
            live[index] = order
        else:
            key = sorted(live)[price % len(live)]
            assert book.remove(live.pop(key))
    expected: dict[int, int] = {}
    for order in live.values():
        expected[order.subticks] = expected.get(order.subticks, 0) + order.quantums
    assert book.levels(SIDE_BUY) == sorted(expected.items(), reverse=True)
    assert book.count == len(live)


def test_event_bus_numbers_serializes_and_unsubscribes() -> None:
    bus = EventBus(record=True)
    received = []
    unsubscribe = bus.subscribe(received.append)
    bus.publish(BlockEvent(0, 2, 5, ("AB",)))
    unsubscribe()
    bus.publish(BlockEvent(0, 3, 6))
    assert [e.seq for e in received] == [1]
    assert [json.loads(line)["seq"] for line in bus.to_json_lines().splitlines()] == [1, 2]
    assert json.loads(received[0].to_json()) == {
        "type": "block", "seq": 1, "height": 2, "time_ns": 5, "tx_hashes": ["AB"],
    }
