# SPDX-License-Identifier: Apache-2.0
"""Tests of Indexer frame parsing, compiled and pure-Python twin on the same inputs."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import InstrumentStatus
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import MarketStatusAction
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core import frames as compiled
from nautilus_dydx.schemas.records import MAX_UNKNOWN_VALUES
from tests.reference import frames as reference


RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "ws"
FRAMES = json.loads((RESOURCES / "frames.json").read_text())
E = 10**16
TS = 1_765_000_000_000_000_000
BTC = InstrumentId.from_str("BTC-USD-PERP.DYDX")
ETH = InstrumentId.from_str("ETH-USD-PERP.DYDX")
F_LAST = RecordFlag.F_LAST.value
F_SNAPSHOT = RecordFlag.F_SNAPSHOT.value


class _Walk:
    """The compiled module with the in-place scanner off (orjson + typed walk only)."""

    FrameError = compiled.FrameError
    iso_to_ns = staticmethod(compiled.iso_to_ns)
    precision_from_increment = staticmethod(compiled.precision_from_increment)

    @staticmethod
    def FrameParser(**kwargs):  # noqa: N802 (mirrors the class name)
        return compiled.FrameParser(scanner=False, **kwargs)


@pytest.fixture(params=[compiled, _Walk, reference], ids=["scanner", "walk", "reference"])
def impl(request):
    return request.param


def new_parser(impl):
    parser = impl.FrameParser()
    parser.register("BTC-USD", BTC, 0, 4)
    parser.register("ETH-USD", ETH, 1, 3)
    return parser


def frame(name: str, **changes) -> bytes:
    msg = dict(FRAMES[name])
    msg.update(changes)
    return orjson.dumps(msg)


def parse(parser, name: str, **changes) -> list:
    return parser.parse(frame(name, **changes), TS)


def norm(obj):
    if hasattr(obj, "to_dict") and hasattr(obj, "_fields"):
        return (type(obj).__name__, obj.to_dict())
    return (type(obj).__name__, repr(obj))


# -- Order book ---------------------------------------------------------------------------------


def test_orderbook_snapshot(impl) -> None:
    parser = new_parser(impl)
    out = parse(parser, "orderbook_subscribed")
    assert [type(o).__name__ for o in out] == ["Subscribed", "OrderBookDeltas", "QuoteTick"]
    assert out[0].channel == "v4_orderbook"
    assert out[0].id == "BTC-USD"
    assert out[0].message_id == 1
    deltas = out[1].deltas
    assert deltas[0].action == BookAction.CLEAR
    assert [d.action for d in deltas[1:]] == [BookAction.ADD] * 6
    assert all(d.flags & F_SNAPSHOT for d in deltas)
    assert [d.flags & F_LAST for d in deltas] == [0] * 6 + [F_LAST]
    assert deltas[2].order.price.raw == 90109 * E
    assert deltas[2].order.size.raw == 12031 * 10**12
    assert deltas[2].order.size.precision == 4
    quote = out[2]
    assert (quote.bid_price.raw, quote.ask_price.raw) == (90110 * E, 90112 * E)
    assert parser.context("BTC-USD").book.levels()[1][1] == (90115 * E, 2 * E)


def test_orderbook_update_and_quote(impl) -> None:
    parser = new_parser(impl)
    parse(parser, "orderbook_subscribed")
    out = parse(parser, "orderbook_update")
    assert isinstance(out[0], OrderBookDeltas)
    actions = [d.action for d in out[0].deltas]
    assert actions == [BookAction.UPDATE, BookAction.UPDATE, BookAction.DELETE]
    assert [d.flags for d in out[0].deltas] == [0, 0, F_LAST]
    assert {d.sequence for d in out[0].deltas} == {4}
    assert isinstance(out[1], QuoteTick)
    assert out[1].bid_size.raw == 7 * E // 10
    assert out[1].ask_price.raw == 90115 * E
    # Unchanged top of book: no quote
    out = parse(parser, "orderbook_update_asks_only")
    assert len(out) == 2
    out = parser.parse(
        orjson.dumps({**FRAMES["orderbook_update"], "message_id": 9,
                      "contents": {"bids": [["90000", "1"]]}}),
        TS,
    )
    assert [type(o).__name__ for o in out] == ["OrderBookDeltas"]


def test_orderbook_batch_is_one_deltas(impl) -> None:
    parser = new_parser(impl)
    parse(parser, "orderbook_subscribed")
    parse(parser, "orderbook_update_asks_only")
    out = parse(parser, "orderbook_batch")
    deltas = out[0].deltas
    assert len(deltas) == 4
    assert [d.flags for d in deltas] == [0, 0, 0, F_LAST]
    assert deltas[1].action == BookAction.DELETE
    book = parser.context("BTC-USD").book
    assert book.bids()[0] == (90111 * E, 3 * E // 10)
    assert book.asks()[-1] == (90400 * E, 9 * E)


def test_bad_book_level_is_skipped_counted_and_asks_for_resync(impl) -> None:
    parser = new_parser(impl)
    parse(parser, "orderbook_subscribed")
    book = parser.context("BTC-USD").book
    bad = {**FRAMES["orderbook_update"],
           "contents": {"bids": [["90110", "9"], ["90109", "1.5"]], "asks": [["90112", "-1"]]}}
    out = parser.parse(orjson.dumps(bad), TS)
    # The two good levels are applied; the bad one is skipped and a resync is requested
    assert [(d.order.price.raw, d.order.size.raw) for d in out[0].deltas] == [
        (90110 * E, 9 * E), (90109 * E, 15 * E // 10),
    ]
    assert book.bids()[0] == (90110 * E, 9 * E)
    resync = [o for o in out if type(o).__name__ == "ResyncNeeded"]
    assert len(resync) == 1
    assert resync[0].reason == "invalid level skipped"
    assert parser.skipped == {"book level: size not positive": 1}
    assert parser.take_new_reasons() == ["skipped: book level: size not positive"]
    assert parser.take_new_reasons() == []
    assert parser.errors == 0


def test_book_message_id_backwards_reports_resync(impl) -> None:
    parser = new_parser(impl)
    parse(parser, "orderbook_subscribed", message_id=50)
    out = parse(parser, "orderbook_update", message_id=49)
    resync = [o for o in out if type(o).__name__ == "ResyncNeeded"]
    assert len(resync) == 1
    assert resync[0].id == "BTC-USD"
    assert "backwards" in resync[0].reason
    # Reported once until the next snapshot
    out = parse(parser, "orderbook_update", message_id=51)
    assert not [o for o in out if type(o).__name__ == "ResyncNeeded"]


def test_damaged_snapshots_ask_for_one_resync_not_a_loop(impl) -> None:
    parser = new_parser(impl)
    snapshot = {**FRAMES["orderbook_subscribed"]}
    snapshot["contents"] = {"bids": [{"price": "90110.5", "size": "1"},
                                     {"price": "90100", "size": "2"}], "asks": []}
    first = parser.parse(orjson.dumps(snapshot), TS)
    again = parser.parse(orjson.dumps(snapshot), TS)
    resyncs = [o for o in first + again if type(o).__name__ == "ResyncNeeded"]
    assert len(resyncs) == 1
    assert list(parser.context("BTC-USD").book.bids()) == [(90100 * E, 2 * E)]
    assert parser.skipped == {"book level: price off grid": 2}
    # A clean snapshot re-arms the report
    parse(parser, "orderbook_subscribed")
    out = parse(parser, "orderbook_update", contents={"bids": [["1.5", "1"]]})
    assert [o.reason for o in out if type(o).__name__ == "ResyncNeeded"] == [
        "invalid level skipped",
    ]


def test_book_level_finer_than_tick_is_skipped(impl) -> None:
    parser = new_parser(impl)
    out = parse(parser, "orderbook_update", contents={"bids": [["90110.5", "1"], ["90100", "2"]]})
    assert [d.order.price.raw for d in out[0].deltas] == [90100 * E]
    assert parser.skipped == {"book level: price off grid": 1}


@pytest.mark.parametrize("impl", [compiled, _Walk], ids=["scanner", "walk"])
def test_unpublished_kinds_are_left_out_but_state_stays_current(impl) -> None:
    # Arrange: the same frames through a parser publishing everything and one publishing nothing
    everything, nothing = new_parser(impl), new_parser(impl)
    context = nothing.context("BTC-USD")
    context.publish_deltas = context.publish_quotes = context.publish_trades = False
    frames = ["orderbook_subscribed", "orderbook_update", "trades_subscribed", "trades_update"]

    # Act
    shown = [o for name in frames for o in parse(everything, name)]
    hidden = [o for name in frames for o in parse(nothing, name)]

    # Assert: only control records and trade history remain; the book and trade ids are kept
    names = {type(o).__name__ for o in shown}
    assert {"OrderBookDeltas", "QuoteTick", "TradeTick"} <= names
    assert [type(o).__name__ for o in hidden] == ["Subscribed", "Subscribed", "TradeHistory"]
    assert list(context.book.bids()) == list(everything.context("BTC-USD").book.bids())
    assert list(context.book.asks()) == list(everything.context("BTC-USD").book.asks())
    assert context.book.quote(TS, TS) == everything.context("BTC-USD").book.quote(TS, TS)
    # The trade seen while hidden is not published again once trades are switched on
    context.publish_trades = context.publish_deltas = context.publish_quotes = True
    assert parse(nothing, "trades_update") == parse(everything, "trades_update") == []
    assert context.duplicate_trades == everything.context("BTC-USD").duplicate_trades == 3


# -- Trades -------------------------------------------------------------------------------------


def test_trades_snapshot_is_history_oldest_first_and_duplicates_dropped(impl) -> None:
    parser = new_parser(impl)
    out = parse(parser, "trades_subscribed")
    assert [type(o).__name__ for o in out] == ["Subscribed", "TradeHistory"]
    assert out[1].instrument_id == BTC
    ticks = out[1].trades
    assert [t.trade_id.value for t in ticks] == [
        "03f89a4f0000000200000005", "03f89a550000000200000002",
    ]
    assert ticks[0].aggressor_side == AggressorSide.BUYER
    assert ticks[1].aggressor_side == AggressorSide.SELLER
    assert ticks[1].ts_event == 1_765_210_319_450_000_000
    assert ticks[1].ts_init == TS
    assert ticks[1].size.raw == 21 * 10**12
    out = parse(parser, "trades_update")
    assert [t.trade_id.value for t in out] == ["03f89a5a0000000200000001"]
    assert isinstance(out[0], TradeTick)
    assert parser.context("BTC-USD").duplicate_trades == 1


@pytest.mark.parametrize("trade_id", ["caf\u00e9", "a\x7fb", "", "x" * 37, "tab\there"])
def test_invalid_trade_id_skips_only_that_trade(impl, trade_id) -> None:
    parser = new_parser(impl)
    good = FRAMES["trades_update"]["contents"]["trades"][1]
    trades = [dict(good, id=trade_id), good]
    out = parse(parser, "trades_update", contents={"trades": trades})
    assert [t.trade_id.value for t in out] == [good["id"]]
    assert parser.skipped == {"trade: invalid 'id'": 1}


def test_unknown_trade_type_is_kept_and_counted(impl) -> None:
    parser = new_parser(impl)
    trades = [dict(FRAMES["trades_update"]["contents"]["trades"][1], type="MARKET", extra=1)]
    out = parse(parser, "trades_update", contents={"trades": trades})
    assert len(out) == 1
    assert parser.unknown_enums == {("type", "MARKET"): 1}


# -- Candles ------------------------------------------------------------------------------------


def test_candles_snapshot_is_history_and_forming_candle_is_kept(impl) -> None:
    parser = new_parser(impl)
    out = parse(parser, "candles_subscribed")
    assert [type(o).__name__ for o in out] == ["Subscribed", "BarHistory"]
    assert str(out[1].bar_type) == "BTC-USD-PERP.DYDX-1-MINUTE-LAST-EXTERNAL"
    # The older candle is closed (history, ts_event at its close); the newest is still forming
    bars = out[1].bars
    assert len(bars) == 1
    assert bars[0].ts_event == 1_765_210_260_000_000_000
    assert bars[0].open.raw == 90050 * E
    # The forming 16:11 candle closes when the clock passes 16:12, exactly once
    assert parser.flush_closed_bars(1_765_210_319_999_999_999) == []
    closed = parser.flush_closed_bars(1_765_210_320_000_000_000)
    assert len(closed) == 1
    assert closed[0].ts_event == 1_765_210_320_000_000_000
    assert closed[0].ts_init == 1_765_210_320_000_000_000
    assert closed[0].volume.raw == 31234 * 10**12
    assert closed[0].open.raw == 90100 * E
    assert parser.flush_closed_bars(1_765_300_000_000_000_000) == []
    # A late update of the published candle is not republished
    contents = FRAMES["candles_subscribed"]["contents"]["candles"][0]
    assert parse(parser, "candles_update", id="BTC-USD/1MIN", contents=contents) == []
    assert parser.skipped == {"candle: update after close": 1}


@pytest.mark.parametrize(
    ("resolution", "spec", "seconds"),
    [
        ("1MIN", "1-MINUTE", 60), ("5MINS", "5-MINUTE", 300), ("15MINS", "15-MINUTE", 900),
        ("30MINS", "30-MINUTE", 1800), ("1HOUR", "1-HOUR", 3600), ("4HOURS", "4-HOUR", 14400),
        ("1DAY", "1-DAY", 86400),
    ],
)
def test_all_candle_resolutions(impl, resolution, spec, seconds) -> None:
    parser = new_parser(impl)
    contents = dict(FRAMES["candles_update"]["contents"], resolution=resolution)
    assert parse(parser, "candles_update", id=f"BTC-USD/{resolution}", contents=contents) == []
    later = dict(contents, startedAt="2025-12-09T16:00:00.000Z", open="90112")
    out = parse(parser, "candles_update", id=f"BTC-USD/{resolution}", contents=later)
    assert str(out[0].bar_type) == f"BTC-USD-PERP.DYDX-{spec}-LAST-EXTERNAL"
    assert out[0].ts_event == 1_765_209_600_000_000_000 + seconds * 10**9


def test_inconsistent_candle_is_skipped(impl) -> None:
    parser = new_parser(impl)
    contents = dict(FRAMES["candles_update"]["contents"], high="90000")
    assert parse(parser, "candles_update", contents=contents) == []
    assert parser.skipped == {"candle: prices inconsistent": 1}
    assert parser.flush_closed_bars(2**63) == []


# -- Markets ------------------------------------------------------------------------------------


def test_markets_snapshot(impl) -> None:
    parser = new_parser(impl)
    out = parse(parser, "markets_subscribed")
    names = [type(o).__name__ for o in out]
    assert names == ["Subscribed"] + [
        "MarketUpdate", "InstrumentStatus", "MarkPriceUpdate", "IndexPriceUpdate",
        "FundingRateUpdate",
    ] * 2
    market = out[1]
    assert market.ticker == "BTC-USD"
    assert market.is_snapshot
    assert (market.price_precision, market.size_precision) == (0, 4)
    assert market.fields["subticksPerTick"] == 100000
    assert out[2].action == MarketStatusAction.TRADING
    mark = out[3]
    assert isinstance(mark, MarkPriceUpdate)
    assert mark.value.raw == 9011148213 * 10**11
    assert isinstance(out[4], IndexPriceUpdate)
    assert isinstance(out[5], FundingRateUpdate)
    assert str(out[5].rate) == "0.0000125"


def test_markets_update_status_listing_and_oracle(impl) -> None:
    parser = new_parser(impl)
    parse(parser, "markets_subscribed")
    out = parse(parser, "markets_update")
    names = [type(o).__name__ for o in out]
    assert names == [
        "MarketUpdate", "InstrumentStatus", "FundingRateUpdate", "MarketUpdate",
        "MarkPriceUpdate", "IndexPriceUpdate",
    ]
    assert not out[0].is_new
    assert isinstance(out[1], InstrumentStatus)
    assert out[1].action == MarketStatusAction.HALT
    assert out[1].reason == "CANCEL_ONLY"
    listing = out[3]
    assert listing.ticker == "NEW-USD"
    assert listing.is_new
    assert (listing.price_precision, listing.size_precision) == (3, 0)
    assert out[4].ts_event == 1_765_210_321_000_000_000


# -- Subaccounts --------------------------------------------------------------------------------


def test_subaccounts_snapshot(impl) -> None:
    parser = new_parser(impl)
    out = parse(parser, "subaccounts_subscribed")
    names = [type(o).__name__ for o in out]
    assert names == [
        "Subscribed", "SubaccountInfo", "PerpetualPositionUpdate", "AssetPositionUpdate",
        "OrderUpdate", "BlockHeight",
    ]
    info, perp, asset, order, height = out[1:]
    assert info.equity == "10512.33"
    assert info.latest_processed_block_height == 66624133
    assert perp.size == "-0.02"
    assert perp.address == info.address
    assert perp.created_at_height == 66600000
    assert asset.symbol == "USDC"
    assert order.good_til_block == 66624150
    assert order.post_only is False
    assert height.height == 66624133


def test_subaccounts_update_two_fills_two_orders(impl) -> None:
    parser = new_parser(impl)
    out = parse(parser, "subaccounts_update")
    names = [type(o).__name__ for o in out]
    assert names == [
        "PerpetualPositionUpdate", "AssetPositionUpdate", "OrderUpdate", "OrderUpdate",
        "BlockHeight", "FillUpdate", "FillUpdate",
    ]
    removed = out[3]
    assert removed.removal_reason == "ORDER_REMOVAL_REASON_USER_CANCELED"
    assert removed.price is None
    fill = out[5]
    assert fill.to_dict()["event_id"] == "03f89a5a0000000200000001"
    assert fill.ts_event == 1_765_210_320_020_000_000
    assert out[6].fee == "-0.02"
    assert out[6].liquidity == "MAKER"
    # Fills are de-duplicated by id
    again = parse(parser, "subaccounts_update", message_id=20)
    assert not [o for o in again if type(o).__name__ == "FillUpdate"]


def test_parent_subaccounts_transfer_and_reward(impl) -> None:
    parser = new_parser(impl)
    out = parse(parser, "parent_subaccounts_update")
    transfer, reward = out
    assert transfer.subaccount_number == 128
    assert transfer.recipient_subaccount_number == 128
    assert transfer.type == "TRANSFER_IN"
    assert transfer.created_at_height == 66624135
    assert reward.trading_reward == "0.0125"


def test_parent_subaccounts_snapshot_with_children(impl) -> None:
    parser = new_parser(impl)
    child = FRAMES["subaccounts_subscribed"]["contents"]["subaccount"]
    contents = {
        "subaccount": {"address": child["address"], "parentSubaccountNumber": 0,
                       "equity": "20000", "freeCollateral": "15000",
                       "childSubaccounts": [child, dict(child, subaccountNumber=128,
                                                        openPerpetualPositions={})]},
        "orders": [],
    }
    out = parse(parser, "subaccounts_subscribed", channel="v4_parent_subaccounts",
                contents=contents)
    names = [type(o).__name__ for o in out]
    assert names == [
        "Subscribed", "SubaccountInfo", "SubaccountInfo", "PerpetualPositionUpdate",
        "AssetPositionUpdate", "SubaccountInfo", "AssetPositionUpdate",
    ]
    assert out[1].subaccount_number == 0
    assert out[1].equity == "20000"
    assert out[5].subaccount_number == 128
    assert out[6].subaccount_number == 0  # As sent inside the child's asset position


def test_empty_subaccount_snapshot(impl) -> None:
    parser = new_parser(impl)
    out = parse(parser, "subaccounts_subscribed", contents={})
    assert [type(o).__name__ for o in out] == ["Subscribed"]


def test_batched_trades_and_markets(impl) -> None:
    parser = new_parser(impl)
    trades = FRAMES["trades_update"]["contents"]
    out = parse(parser, "trades_update", type="channel_batch_data", contents=[trades, trades])
    assert len(out) == 2  # The second content repeats the first: de-duplicated
    markets = FRAMES["markets_update"]["contents"]
    out = parse(parser, "markets_update", type="channel_batch_data",
                contents=[markets, {"oraclePrices": {}}])
    assert len(out) == 6
    with pytest.raises(impl.FrameError, match="contents must be an array"):
        parse(parser, "markets_update", type="channel_batch_data")


def test_transfer_amount_asset_alias(impl) -> None:
    parser = new_parser(impl)
    contents = {"transfers": {"sender": {"address": "dydx1x"}, "recipient": {"address": "y"},
                              "asset": "USDC", "amount": "5", "type": "DEPOSIT"}}
    out = parse(parser, "subaccounts_update", contents=contents)
    assert (out[0].symbol, out[0].size) == ("USDC", "5")


# -- Control messages and drift -----------------------------------------------------------------


def test_control_messages(impl) -> None:
    parser = new_parser(impl)
    assert parse(parser, "connected")[0].message_id == 0
    assert parse(parser, "unsubscribed")[0].to_dict() == {
        "channel": "v4_trades", "id": "BTC-USD",
        "connection_id": FRAMES["unsubscribed"]["connection_id"], "message_id": 16,
    }
    err = parse(parser, "error")[0]
    assert err.message.startswith("Invalid subscription id")
    assert err.id == "FOO-USD"
    assert parse(parser, "block_height_subscribed")[1].height == 66624135
    height = parse(parser, "block_height_update")[0]
    assert (height.height, height.ts_event) == (66624136, 1_765_210_323_100_000_000)


def test_unknown_fields_types_and_channels(impl) -> None:
    parser = new_parser(impl)
    out = parse(parser, "orderbook_update", newField={"x": 1})
    assert out
    assert parse(parser, "orderbook_update", type="brand_new") == []
    assert parse(parser, "orderbook_update", channel="v4_future") == []
    assert parser.unknown_enums == {("type", "brand_new"): 1, ("channel", "v4_future"): 1}


def test_unknown_enum_values_are_bounded_per_field(impl) -> None:
    # Arrange: more distinct unknown order types than are remembered, each sent twice
    parser = new_parser(impl)
    order = FRAMES["subaccounts_update"]["contents"]["orders"][0]
    kinds = [f"NEW_KIND_{n}" for n in range(MAX_UNKNOWN_VALUES + 6)]
    contents = {"orders": [dict(order, type=kind) for kind in kinds + kinds]}

    # Act
    out = parse(parser, "subaccounts_update", contents=contents)

    # Assert: every order is kept; the first values are counted by value, the rest together
    assert [o.type for o in out] == kinds + kinds
    by_value = {k: n for k, n in parser.unknown_enums.items() if k[1] is not None}
    assert by_value == {("type", kind): 2 for kind in kinds[:MAX_UNKNOWN_VALUES]}
    assert parser.unknown_enums[("type", None)] == 12
    # Another field keeps its own allowance
    parse(parser, "subaccounts_update", contents={"orders": [dict(order, side="SIDEWAYS")]})
    assert parser.unknown_enums[("side", "SIDEWAYS")] == 1


def test_records_are_immutable_structs_shared_with_the_twin(impl) -> None:
    # Arrange
    parser = new_parser(impl)

    # Act
    out = parse(parser, "subaccounts_update")
    fill = next(o for o in out if type(o).__name__ == "FillUpdate")

    # Assert: one class for both implementations, frozen, ts_event outside to_dict and repr
    assert type(fill) is compiled.FillUpdate is reference.FillUpdate
    with pytest.raises(AttributeError):
        fill.size = "1"
    assert "ts_event" not in fill.to_dict()
    assert fill.ts_event == compiled.iso_to_ns(fill.created_at)
    assert "=None" not in repr(fill) and repr(fill).startswith("FillUpdate(id=")
    assert fill == compiled.FillUpdate(**fill.to_dict(), ts_event=fill.ts_event)
    assert hash(fill) == hash(compiled.FillUpdate(**fill.to_dict(), ts_event=fill.ts_event))


def test_all_fixture_frames_same_output_in_both(impl) -> None:
    parser = new_parser(impl)
    twin = new_parser(reference)
    for name in FRAMES:
        data = frame(name)
        assert [norm(o) for o in parser.parse(data, TS)] == [
            norm(o) for o in twin.parse(data, TS)
        ], name


def test_input_types(impl) -> None:
    parser = new_parser(impl)
    text = frame("connected").decode()
    assert parser.parse(text, TS)[0].connection_id == FRAMES["connected"]["connection_id"]
    assert parser.parse(bytearray(text.encode()), TS)[0].message_id == 0
    assert parser.parse(memoryview(text.encode()), 0)[0].message_id == 0


def test_helpers(impl) -> None:
    assert impl.iso_to_ns("1970-01-01T00:00:01.5Z") == 1_500_000_000
    assert impl.iso_to_ns("2024-02-29T23:59:59.123456789Z") == 1_709_251_199_123_456_789
    for bad in ("2024-02-29 23:59:59Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
                "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00", "1969-12-31T23:59:59Z"):
        with pytest.raises(impl.FrameError):
            impl.iso_to_ns(bad)
    assert impl.precision_from_increment("0.0001") == 4
    assert impl.precision_from_increment("1") == 0
    assert impl.precision_from_increment("0.10") == 1
    with pytest.raises(ValueError):
        impl.precision_from_increment("0")


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 12, 31)),
    st.integers(0, 9),
)
def test_property_iso_matches_datetime(when, digits) -> None:
    from calendar import timegm

    frac = f"{when.microsecond:06d}000"[:digits]
    text = when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if digits else "") + "Z"
    expected = timegm(when.timetuple()) * 10**9 + int((frac or "0").ljust(9, "0"))
    assert compiled.iso_to_ns(text) == expected
    assert reference.iso_to_ns(text) == expected


MALFORMED = [
    (b'{"type":"channel_data","channel":"v4_orderbook"', None),
    (b"[]", None),
    (b'{"channel":"v4_trades"}', "v4_trades"),
    (b'{"type":"channel_data","channel":"v4_orderbook","id":"BTC-USD"}', "v4_orderbook"),
    (b'{"type":"channel_data","channel":"v4_orderbook","id":"XRP-USD","message_id":1,'
     b'"contents":{}}', "v4_orderbook"),
    (b'{"type":"channel_data","channel":"v4_orderbook","id":"BTC-USD","message_id":1,'
     b'"contents":{"bids":"90000"}}', "v4_orderbook"),
    (b'{"type":"channel_data","channel":"v4_trades","id":"BTC-USD","message_id":1,'
     b'"contents":{"trades":{}}}', "v4_trades"),
    (b'{"type":"channel_data","channel":"v4_block_height","message_id":1,'
     b'"contents":{"blockHeight":"-5"}}', "v4_block_height"),
    (b'{"type":"error","channel":"v4_orderbook"}', "v4_orderbook"),
]

# One bad item in a valid envelope: skipped and counted, the frame is not an error
ITEM_ERRORS = [
    (b'{"type":"channel_data","channel":"v4_orderbook","id":"BTC-USD","message_id":1,'
     b'"contents":{"bids":[["abc","1"]]}}', "book level: price not a decimal"),
    (b'{"type":"channel_data","channel":"v4_orderbook","id":"BTC-USD","message_id":1,'
     b'"contents":{"bids":[[90000,"1"]]}}', "book level: price not a string"),
    (b'{"type":"channel_data","channel":"v4_orderbook","id":"BTC-USD","message_id":1,'
     b'"contents":{"bids":[["99999999999999999999999","1"]]}}', "book level: price out of range"),
    (b'{"type":"channel_data","channel":"v4_trades","id":"BTC-USD","message_id":1,'
     b'"contents":{"trades":[{"id":"1","side":"BUY","size":"1","price":"1"}]}}',
     "trade: missing 'createdAt'"),
    (b'{"type":"channel_data","channel":"v4_trades","id":"BTC-USD","message_id":1,'
     b'"contents":{"trades":[{"id":"1","side":"BUY","size":"1","price":"1",'
     b'"createdAt":"yesterday"}]}}', "trade: invalid timestamp"),
    (b'{"type":"channel_data","channel":"v4_subaccounts","id":"a/0","message_id":1,'
     b'"contents":{"fills":[{"id":"f","side":"BUY","liquidity":"TAKER","size":"x",'
     b'"price":"1"}]}}', "fill: invalid 'size'"),
    (b'{"type":"channel_data","channel":"v4_subaccounts","id":"a/0","message_id":1,'
     b'"contents":{"orders":[{"id":"o","postOnly":"yes"}]}}', "order: invalid 'postOnly'"),
    (b'{"type":"subscribed","channel":"v4_markets","message_id":1,'
     b'"contents":{"markets":{"BTC-USD":{"tickSize":"zero"}}}}', "market: invalid 'tickSize'"),
]


@pytest.mark.parametrize(("data", "reason"), ITEM_ERRORS)
def test_bad_items_are_skipped_and_counted(impl, data, reason) -> None:
    parser = new_parser(impl)
    parser.parse(data, TS)
    assert parser.skipped == {reason: 1}
    assert parser.take_new_reasons() == [f"skipped: {reason}"]
    assert parser.errors == 0


@pytest.mark.parametrize(("data", "channel"), MALFORMED)
def test_malformed_frames_raise_one_typed_error(impl, data, channel) -> None:
    parser = new_parser(impl)
    with pytest.raises(impl.FrameError) as e:
        parser.parse(data, TS)
    assert e.value.channel == channel
    assert isinstance(e.value, ValueError)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=8)
    | st.sampled_from(["1", "0", "-1", "1.5", "x", "2025-12-08T16:11:59.450Z", "BUY", ""]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["bids", "asks", "trades", "price", "size", "id", "side", "orders"]),
        children, max_size=3,
    ),
    max_leaves=8,
)


@st.composite
def corrupted_frames(draw):
    name = draw(st.sampled_from(sorted(FRAMES)))
    data = orjson.dumps(FRAMES[name])
    how = draw(st.integers(0, 2))
    if how == 0:
        return data[: draw(st.integers(0, len(data) - 1))]
    msg = json.loads(data)
    target = msg
    path = draw(st.lists(st.integers(0, 10), max_size=4))
    for step in path:
        if isinstance(target, dict) and target:
            key = sorted(target)[step % len(target)]
            if isinstance(target[key], (dict, list)) and target[key]:
                target = target[key]
            else:
                break
        elif isinstance(target, list) and target:
            item = target[step % len(target)]
            if isinstance(item, (dict, list)) and item:
                target = item
            else:
                break
    value = draw(json_values)
    if isinstance(target, dict) and target:
        key = sorted(target)[draw(st.integers(0, len(target) - 1))]
        if how == 1:
            target[key] = value
        else:
            del target[key]
    elif isinstance(target, list) and target:
        target[draw(st.integers(0, len(target) - 1))] = value
    return orjson.dumps(msg)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted_frames())
def test_property_corrupted_frames_only_raise_frame_error(data) -> None:
    for impl in (compiled, _Walk, reference):
        parser = new_parser(impl)
        parse(parser, "orderbook_subscribed")
        book = parser.context("BTC-USD").book
        before = book.levels()
        try:
            parser.parse(data, TS)
        except impl.FrameError:
            assert book.levels() == before


def _outcome(impl, data: bytes):
    parser = new_parser(impl)
    parse(parser, "orderbook_subscribed")
    try:
        out = [norm(o) for o in parser.parse(data, TS)]
    except impl.FrameError as e:
        return ("error", e.channel), parser.context("BTC-USD").book.levels()
    return out, parser.context("BTC-USD").book.levels()


decimal_text = st.sampled_from(
    ["90110", "90111.0", "0", "1", "0.5", "1.25", "0.0001", "-1", "1e3", "x", "", "90110.5",
     "00012", ".5", "3.00000", "90110.00000000000000000001", "1.00005e-1",
     "0.00010000000000000001",
     "90110.4999999999999999999"],
)
level = st.tuples(decimal_text, decimal_text)
spaces = st.sampled_from(["", " ", "\n", "\t "])


@st.composite
def hot_frames(draw):
    kind = draw(st.sampled_from(["update", "snapshot", "trades", "batch", "trades_batch"]))
    if kind == "batch":
        items = [
            {side: [list(lv) for lv in draw(st.lists(level, max_size=3))]
             for side in draw(st.permutations(["bids", "asks"]))[: draw(st.integers(0, 2))]}
            for _ in range(draw(st.integers(0, 3)))
        ]
        msg = {"type": "channel_batch_data", "channel": "v4_orderbook", "id": "BTC-USD",
               "message_id": draw(st.integers(0, 10)), "connection_id": "c1",
               "version": "1.0.0", "contents": items}
    elif kind == "trades_batch":
        trade = {"side": "BUY", "size": draw(decimal_text), "price": draw(decimal_text),
                 "type": draw(st.sampled_from(["LIMIT", "DELEVERAGED"])),
                 "createdAt": "2025-12-08T16:11:59.450Z"}
        items = [
            {"trades": [dict(trade, id=draw(st.sampled_from(["a1", "a2", "a3"])))
                        for _ in range(draw(st.integers(0, 2)))]}
            for _ in range(draw(st.integers(0, 3)))
        ]
        msg = {"type": "channel_batch_data", "channel": "v4_trades", "id": "BTC-USD",
               "message_id": 5, "contents": items}
    elif kind == "trades":
        trades = [
            {"id": draw(st.sampled_from(["a1", "a2", "b" * 36, "c" * 37])),
             "side": draw(st.sampled_from(["BUY", "SELL", "HOLD"])),
             "size": draw(decimal_text), "price": draw(decimal_text),
             "type": draw(st.sampled_from(["LIMIT", "LIQUIDATED", "MARKET"])),
             "createdAt": draw(st.sampled_from(
                 ["2025-12-08T16:11:59.450Z", "2025-12-08T16:11:59Z", "bad"],
             ))}
            for _ in range(draw(st.integers(0, 3)))
        ]
        msg = {"type": "channel_data", "channel": "v4_trades", "id": "BTC-USD",
               "message_id": 5, "contents": {"trades": trades}}
    else:
        snapshot = kind == "snapshot"
        sides = {}
        for side in draw(st.permutations(["bids", "asks"])):
            if draw(st.booleans()):
                levels = draw(st.lists(level, max_size=4))
                sides[side] = (
                    [{"price": p, "size": q} for p, q in levels] if snapshot else
                    [list(lv) for lv in levels]
                )
        msg = {"type": "subscribed" if snapshot else "channel_data", "channel": "v4_orderbook",
               "id": "BTC-USD", "message_id": draw(st.integers(0, 10)),
               "connection_id": "c1", "version": "1.0.0", "contents": sides}
    keys = draw(st.permutations(sorted(msg)))
    sp = draw(spaces)
    body = f",{sp}".join(f'"{k}":{sp}{json.dumps(msg[k])}' for k in keys)
    return ("{" + sp + body + sp + "}").encode()


def test_scanner_handles_hot_frames_and_defers_the_rest() -> None:
    parser = new_parser(compiled)
    for name in ("orderbook_subscribed", "orderbook_update", "orderbook_update_asks_only",
                 "trades_update", "orderbook_batch"):
        parse(parser, name)
    assert parser.scanned_frames == 5
    for name in ("trades_subscribed", "candles_update", "connected"):
        parse(parser, name)
    assert parser.scanned_frames == 5
    assert parser.frames == 8
    # Asks before bids, escapes or non-ASCII go through the generic path with the same result
    parse(parser, "orderbook_update", contents={"asks": [["90200", "1"]], "bids": []})
    out = parser.parse(frame("orderbook_update").replace(b'"BTC-USD"', rb'"BTC\u002dUSD"'), TS)
    assert isinstance(out[0], OrderBookDeltas)
    assert parser.scanned_frames == 5


@settings(max_examples=400, deadline=None)
@given(hot_frames())
def test_property_scanner_matches_walk_and_reference(data) -> None:
    scanned = _outcome(compiled, data)
    assert scanned == _outcome(_Walk, data)
    assert scanned == _outcome(reference, data)


def test_picows_listener_parses_messages_in_place() -> None:
    from picows.picows import WSMsgType
    from picows.picows import _make_test_ws_frame

    parser = new_parser(compiled)
    got: list = []
    errors: list = []
    listener = compiled.DYDXWsListener(parser, got.append, errors.append)
    snapshot = frame("orderbook_subscribed")
    listener.on_ws_frame(None, _make_test_ws_frame(WSMsgType.TEXT, snapshot, True, False))
    update = frame("orderbook_update")
    half = len(update) // 2
    listener.on_ws_frame(None, _make_test_ws_frame(WSMsgType.TEXT, update[:half], False, False))
    listener.on_ws_frame(
        None, _make_test_ws_frame(WSMsgType.CONTINUATION, update[half:], True, False),
    )
    listener.on_ws_frame(None, _make_test_ws_frame(WSMsgType.TEXT, b"{", True, False))
    listener.on_ws_frame(None, _make_test_ws_frame(WSMsgType.PONG, b"", True, False))
    assert [[type(o).__name__ for o in objs] for objs in got] == [
        ["Subscribed", "OrderBookDeltas", "QuoteTick"], ["OrderBookDeltas", "QuoteTick"],
    ]
    assert len(errors) == 1
    assert isinstance(errors[0], compiled.FrameError)
    assert parser.scanned_frames == 2


# -- Conformance over the shared captures -------------------------------------------------------


def _captures() -> Path | None:
    env = os.environ.get("DYDX_CAPTURES")
    path = Path(env) if env else Path(__file__).resolve().parents[3] / ".." / "shared" / (
        "fixtures/captures"
    )
    return path if path.is_dir() else None


CAPTURES = _captures()
CAPTURE_FILES = sorted(CAPTURES.glob("ws_*.json")) if CAPTURES else []


@pytest.mark.skipif(
    CAPTURES is None,
    reason="shared captures not found: set DYDX_CAPTURES or place them at ../shared/fixtures/"
    "captures beside the repository",
)
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_conformance_with_captures(impl, path) -> None:
    parser = impl.FrameParser()
    # Precisions derived from the captured market snapshot's tickSize/stepSize
    parser.register("BTC-USD", BTC, 0, 3)
    parser.register("ETH-USD", ETH, 1, 2)
    out = parser.parse(path.read_bytes(), TS)
    if path.name == "ws_candles_update.json":
        # A forming candle: published once it closes
        out += parser.flush_closed_bars(2**63)
    assert out, path.name
    assert parser.skipped == {}
    assert parser.adapted == {}
    twin = reference.FrameParser()
    twin.register("BTC-USD", BTC, 0, 3)
    twin.register("ETH-USD", ETH, 1, 2)
    expected = twin.parse(path.read_bytes(), TS) + twin.flush_closed_bars(2**63)
    assert [norm(o) for o in out] == [norm(o) for o in expected]
    if path.name == "ws_trades_update.json":
        # Hand-edited trade type MARKET: kept and counted
        assert parser.unknown_enums == {("type", "MARKET"): 1}


def test_scanner_finds_each_market_when_tickers_share_a_cache_slot() -> None:
    # The scanner caches market lookups by the id's length and first, middle and last bytes:
    # "BTC-USD" and "BXC-USD" share a slot, and a market registered again with new precisions
    # replaces the cached one
    parser = compiled.FrameParser()
    parser.register("BTC-USD", BTC, 0, 4)
    bxc = InstrumentId.from_str("BXC-USD-PERP.DYDX")
    parser.register("BXC-USD", bxc, 1, 3)

    seen = []
    for ticker in ("BTC-USD", "BXC-USD", "BTC-USD", "BTC-USD", "BXC-USD"):
        out = parser.parse(frame("orderbook_update", id=ticker), TS)
        seen.append(next(o for o in out if isinstance(o, OrderBookDeltas)).instrument_id)
    parser.register("BXC-USD", bxc, 2, 3)
    again = parser.parse(frame("orderbook_update", id="BXC-USD"), TS)

    assert seen == [BTC, bxc, BTC, BTC, bxc]
    assert parser.scanned_frames == 6
    deltas = next(o for o in again if isinstance(o, OrderBookDeltas)).deltas
    assert {d.order.price.precision for d in deltas} == {2}
