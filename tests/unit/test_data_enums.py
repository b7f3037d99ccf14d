# SPDX-License-Identifier: Apache-2.0
"""Bar types <-> Indexer candle resolutions, tickers <-> instrument IDs, oracle price data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.data import BarType
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx.common.enums import RESOLUTION_NANOS
from nautilus_dydx.common.enums import bar_type_to_resolution
from nautilus_dydx.common.symbol import instrument_id_to_ticker
from nautilus_dydx.common.symbol import ticker_to_instrument_id
from nautilus_dydx.common.types import DYDXOraclePrice
from nautilus_dydx.common.types import DYDXOrderTags
from nautilus_dydx.data import ns_to_iso


@pytest.mark.parametrize(
    ("spec", "resolution", "seconds"),
    [
        ("1-MINUTE", "1MIN", 60),
        ("5-MINUTE", "5MINS", 300),
        ("15-MINUTE", "15MINS", 900),
        ("30-MINUTE", "30MINS", 1800),
        ("1-HOUR", "1HOUR", 3600),
        ("4-HOUR", "4HOURS", 14_400),
        ("1-DAY", "1DAY", 86_400),
    ],
)
def test_all_seven_resolutions(spec: str, resolution: str, seconds: int) -> None:
    bar_type = BarType.from_str(f"BTC-USD-PERP.DYDX-{spec}-LAST-EXTERNAL")

    assert bar_type_to_resolution(bar_type) == resolution
    assert RESOLUTION_NANOS[resolution] == seconds * 10**9


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("BTC-USD-PERP.DYDX-1-MINUTE-MID-EXTERNAL", "LAST"),
        ("BTC-USD-PERP.DYDX-1-MINUTE-BID-EXTERNAL", "LAST"),
        ("BTC-USD-PERP.DYDX-2-MINUTE-LAST-EXTERNAL", "no candles"),
        ("BTC-USD-PERP.DYDX-1-WEEK-LAST-EXTERNAL", "no candles"),
        ("BTC-USD-PERP.DYDX-100-TICK-LAST-EXTERNAL", "no candles"),
        ("BTC-USD-PERP.DYDX-1-MINUTE-LAST-INTERNAL", "EXTERNAL"),
    ],
)
def test_bar_types_the_venue_lacks_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        bar_type_to_resolution(BarType.from_str(text))


def test_ticker_and_instrument_id_round_trip() -> None:
    instrument_id = ticker_to_instrument_id("btc-usd")

    assert instrument_id == InstrumentId.from_str("BTC-USD-PERP.DYDX")
    assert instrument_id_to_ticker(instrument_id) == "BTC-USD"
    with pytest.raises(ValueError, match="not a DYDX"):
        instrument_id_to_ticker(InstrumentId.from_str("BTCUSDT-PERP.BINANCE"))


def test_oracle_price_dict_round_trip_and_order_tags() -> None:
    price = DYDXOraclePrice(ticker_to_instrument_id("ETH-USD"), Decimal("3103.01"), 5, 6)

    assert DYDXOraclePrice.from_dict(price.to_dict()) == price
    assert (price.ts_event, price.ts_init) == (5, 6)
    assert DYDXOrderTags(num_blocks_open=7).value.startswith('DYDXOrderTags:{"is_short_term')


def test_ns_to_iso_matches_the_indexer_form() -> None:
    assert ns_to_iso(1_767_225_600_123_456_789) == "2026-01-01T00:00:00.123Z"


def test_snapshot_deltas_rebuild_the_book_in_a_nautilus_order_book() -> None:
    # Arrange: a book with stale content, then a snapshot of two bids and one ask
    from nautilus_trader.model.book import OrderBook
    from nautilus_trader.model.enums import BookType
    from nautilus_trader.model.enums import RecordFlag

    from nautilus_dydx.data import snapshot_deltas

    instrument_id = ticker_to_instrument_id("ETH-USD")
    unit = 10**16
    book = OrderBook(instrument_id, BookType.L2_MBP)
    book.apply_deltas(
        snapshot_deltas(instrument_id, [(5 * unit, unit)], [(9 * unit, unit)], 1, 3, 1, 1),
    )
    bids = [(3000 * unit, 2 * unit), (2999 * unit + unit // 10, unit // 1000)]
    asks = [(3001 * unit, 5 * unit)]

    # Act
    deltas = snapshot_deltas(instrument_id, bids, asks, 1, 3, 42, 7)
    book.apply_deltas(deltas)

    # Assert
    assert [(lv.price.raw, lv.orders()[0].size.raw) for lv in book.bids()] == bids
    assert [(lv.price.raw, lv.orders()[0].size.raw) for lv in book.asks()] == asks
    assert all(d.flags & RecordFlag.F_SNAPSHOT for d in deltas.deltas)
    assert [bool(d.flags & RecordFlag.F_LAST) for d in deltas.deltas] == [False] * 3 + [True]
    assert deltas.sequence == 42

    empty = snapshot_deltas(instrument_id, [], [], 1, 3, 43, 8)
    book.apply_deltas(empty)
    assert len(empty.deltas) == 1 and empty.deltas[0].flags & RecordFlag.F_LAST
    assert book.best_bid_price() is None and book.best_ask_price() is None
