# SPDX-License-Identifier: Apache-2.0
"""Hand-checked values of the sandbox's SerializableInt encoding and TWAP suborder sizing."""

from __future__ import annotations

import pytest

from nautilus_dydx.sandbox.engine import SIDE_BUY
from nautilus_dydx.sandbox.engine import SIDE_SELL
from nautilus_dydx.sandbox.engine import Order
from nautilus_dydx.sandbox.queries import app_version
from nautilus_dydx.sandbox.queries import serializable_int
from nautilus_dydx.sandbox.twap import TwapOrder
from nautilus_dydx.sandbox.twap import suborder_quantums
from nautilus_dydx.sandbox.twap import suborder_subticks


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        # Go: big.NewInt(v).GobEncode() — version 1 << 1 | sign bit, then big-endian magnitude
        (0, b"\x02"),
        (1, b"\x02\x01"),
        (-1, b"\x03\x01"),
        (255, b"\x02\xff"),
        (256, b"\x02\x01\x00"),
        (-100_000_000_000, b"\x03\x17\x48\x76\xe8\x00"),
        (20_000_000, b"\x02\x01\x31\x2d\x00"),
    ],
)
def test_serializable_int_matches_go_gob_encoding(value: int, encoded: bytes) -> None:
    assert serializable_int(value) == encoded


def test_app_version_maps_the_short_block_window() -> None:
    assert app_version(20).startswith("8.")
    assert app_version(40).startswith("9.")


def _twap(side: int, quantums: int, subticks: int, duration: int, interval: int,
          tolerance: int) -> TwapOrder:
    base = Order(("dydx1x", 0, 1, 128, 0), side, quantums, subticks, 0, 100, 0, False, 0, 0, 0,
                 b"", "", "BTC-USD")
    return TwapOrder(base, duration, interval, tolerance)


def test_suborder_price_rounds_towards_the_tolerance_and_never_below_one_tick() -> None:
    buy = _twap(SIDE_BUY, 10, 0, 300, 30, 10_000)
    sell = _twap(SIDE_SELL, 10, 0, 300, 30, 10_000)
    # Oracle 1 000 050 subticks, tick 100: buy 1 010 050.5 -> 1 010 100; sell 990 049.5 -> 990 000
    assert suborder_subticks(buy, 1_000_050, 100) == 1_010_100
    assert suborder_subticks(sell, 1_000_050, 100) == 990_000
    deep = _twap(SIDE_SELL, 10, 0, 300, 30, 999_999)
    assert suborder_subticks(deep, 1_000, 100) == 100
    limit = _twap(SIDE_BUY, 10, 5_000, 300, 30, 999_999)
    assert suborder_subticks(limit, 1_000_000, 100) == 5_000


def test_suborder_size_spreads_the_remainder_and_caps_catch_up() -> None:
    twap = _twap(SIDE_BUY, 100, 1, 600, 60, 0)  # 10 legs of 10
    assert suborder_quantums(twap, 1) == 10
    twap.remaining_legs = 2  # nothing filled yet: 100 over 2 legs, capped at 3 × 10
    assert suborder_quantums(twap, 1) == 30
    twap.remaining_quantums = 15
    assert suborder_quantums(twap, 1) == 8
    assert suborder_quantums(twap, 5) == 5
    twap.remaining_quantums = 0
    assert suborder_quantums(twap, 1) == 0
