# SPDX-License-Identifier: Apache-2.0
"""Frames and runners shared by the frame and book benchmarks (ours, twin, built-in, orjson)."""

from __future__ import annotations

import msgspec
import orjson
from nautilus_trader.adapters.dydx.schemas.ws import DYDXWsCandlesChannelData
from nautilus_trader.adapters.dydx.schemas.ws import DYDXWsMessageGeneral
from nautilus_trader.adapters.dydx.schemas.ws import DYDXWsOrderbookChannelData
from nautilus_trader.adapters.dydx.schemas.ws import DYDXWsOrderbookSnapshotChannelData
from nautilus_trader.adapters.dydx.schemas.ws import DYDXWsSubaccountsChannelData
from nautilus_trader.adapters.dydx.schemas.ws import DYDXWsTradeChannelData
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core import frames as compiled
from tests.reference import frames as reference


TICKER = "BTC-USD"
INSTRUMENT_ID = InstrumentId.from_str("BTC-USD-PERP.DYDX")
PRICE_PRECISION = 0
SIZE_PRECISION = 4
TS = 1_765_210_320_000_000_000
CID = "8a5b9e2c-3f41-4d7a-9c0e-1b2d3e4f5a6b"


def _dumps(msg: dict) -> bytes:
    return orjson.dumps(msg)


def snapshot_frame(levels_per_side: int = 120) -> bytes:
    """Return a ``subscribed`` book frame with `levels_per_side` bids and asks."""
    return _dumps({
        "type": "subscribed", "connection_id": CID, "message_id": 1, "channel": "v4_orderbook",
        "id": TICKER,
        "contents": {
            "bids": [
                {"price": str(90_000 - i), "size": f"{(i % 7) + 1}.{i % 10:04d}"}
                for i in range(levels_per_side)
            ],
            "asks": [
                {"price": str(90_001 + i), "size": f"{(i % 5) + 1}.{i % 10:04d}"}
                for i in range(levels_per_side)
            ],
        },
    })


def book_update_frames() -> tuple[bytes, bytes]:
    """Return two book updates that alternate the top of book (each changes the quote)."""
    def update(message_id: int, size: str) -> bytes:
        return _dumps({
            "type": "channel_data", "connection_id": CID, "message_id": message_id,
            "id": TICKER, "channel": "v4_orderbook", "version": "1.0.0",
            "contents": {"bids": [["90000", size], ["89990", "0.5"]], "asks": [["90001", "1.25"]]},
        })

    return update(2, "1.5"), update(3, "2.25")


def trade_frame(offset: int = 0) -> bytes:
    """Return a trades update with three trades (ids shifted by `offset` frames)."""
    trades = [
        {"id": f"03f89a5a{offset:08x}{i:08x}", "side": "BUY" if i % 2 else "SELL",
         "size": f"0.{i + 1:04d}", "price": str(90_000 + i), "type": "LIMIT",
         "createdAt": f"2025-12-08T16:12:00.{i:03d}Z", "createdAtHeight": "66624133"}
        for i in range(3)
    ]
    return _dumps({
        "type": "channel_data", "connection_id": CID, "message_id": 4, "id": TICKER,
        "channel": "v4_trades", "version": "2.1.0", "contents": {"trades": trades},
    })


def candle_frame() -> bytes:
    """Return a 1MIN candle update."""
    return _dumps({
        "type": "channel_data", "connection_id": CID, "message_id": 5, "id": f"{TICKER}/1MIN",
        "channel": "v4_candles", "version": "1.0.0",
        "contents": {
            "startedAt": "2025-12-08T16:11:00.000Z", "ticker": TICKER, "resolution": "1MIN",
            "low": "90080", "high": "90150", "open": "90100", "close": "90112",
            "baseTokenVolume": "3.1234", "usdVolume": "281400.12", "trades": 41,
            "startingOpenInterest": "512.3456",
        },
    })


def subaccount_frame(offset: int = 0) -> bytes:
    """Return a subaccounts update with two fills and two order updates (fill ids by `offset`)."""
    order = {
        "id": "b2c3d4e5-0000-5000-8000-000000000001",
        "subaccountId": "0b1c2d3e-4f50-5617-8293-a4b5c6d7e8f9", "clientId": "123456",
        "clobPairId": "0", "side": "BUY", "size": "0.01", "ticker": TICKER, "price": "90000",
        "type": "LIMIT", "timeInForce": "GTT", "postOnly": False, "reduceOnly": False,
        "status": "OPEN", "orderFlags": "0", "totalFilled": "0.004", "goodTilBlock": "66624150",
        "clientMetadata": "0", "updatedAt": "2025-12-08T16:12:00.020Z",
        "updatedAtHeight": "66624133",
    }
    fill = {
        "id": f"f1e2d3c4-0000-5000-8000-{offset:011x}1",
        "subaccountId": order["subaccountId"], "side": "BUY", "liquidity": "TAKER",
        "type": "LIMIT", "clobPairId": "0", "size": "0.004", "price": "90113",
        "quoteAmount": "360.452", "eventId": "03f89a5a0000000200000001",
        "transactionHash": "A1B2C3", "createdAt": "2025-12-08T16:12:00.020Z",
        "createdAtHeight": "66624133", "orderId": order["id"], "ticker": TICKER,
        "market": TICKER, "marketType": "PERPETUAL", "clientMetadata": "0", "fee": "0.18",
        "affiliateRevShare": "0",
    }
    return _dumps({
        "type": "channel_data", "connection_id": CID, "message_id": 6,
        "id": "dydx1n88uc38xhjgxzw9nwre4ep2c8ga4fjxcar6mn7/0", "channel": "v4_subaccounts",
        "version": "3.0.0",
        "contents": {
            "orders": [order, dict(order, id=order["id"][:-1] + "2", clientId="123457",
                                   status="FILLED", totalFilled="0.01")],
            "fills": [fill, dict(fill, id=fill["id"][:-1] + "2", size="0.006",
                                 liquidity="MAKER", fee="-0.02")],
            "blockHeight": "66624133",
        },
    })


def unique_frames(make, count: int):
    """
    Return a callable giving the next of `count` frames made by `make(offset)`, round robin.

    Trade and fill ids are de-duplicated with bounded memory (the newest ids only), so a
    `count` whose ids exceed that bound makes every frame new again when it comes round.
    """
    frames = [make(i) for i in range(count)]
    position = [0]

    def next_frame() -> bytes:
        i = position[0]
        position[0] = i + 1 if i + 1 < count else 0
        return frames[i]

    return next_frame


def new_parser(module, **kwargs):
    """Return a parser of `module` (compiled or reference) with BTC-USD registered."""
    parser = module.FrameParser(**kwargs)
    parser.register(TICKER, INSTRUMENT_ID, PRICE_PRECISION, SIZE_PRECISION)
    return parser


class BuiltIn:
    """The built-in Nautilus 1.221 dYdX adapter's decode + parse path, as its clients run it."""

    def __init__(self) -> None:
        self._general = msgspec.json.Decoder(DYDXWsMessageGeneral)
        self._book = msgspec.json.Decoder(DYDXWsOrderbookChannelData)
        self._snapshot = msgspec.json.Decoder(DYDXWsOrderbookSnapshotChannelData)
        self._trade = msgspec.json.Decoder(DYDXWsTradeChannelData)
        self._candle = msgspec.json.Decoder(DYDXWsCandlesChannelData)
        self._subaccount = msgspec.json.Decoder(DYDXWsSubaccountsChannelData)
        self.order_book = OrderBook(INSTRUMENT_ID, BookType.L2_MBP)
        self.bar_type = BarType.from_str(f"{INSTRUMENT_ID}-1-MINUTE-LAST-EXTERNAL")
        self.last_quote = None

    def _apply(self, deltas) -> list:
        # As DYDXDataClient._handle_deltas: apply, then a quote from the book when it changed
        self.order_book.apply_deltas(deltas)
        book = self.order_book
        quote = QuoteTick(
            instrument_id=INSTRUMENT_ID,
            bid_price=book.best_bid_price(),
            ask_price=book.best_ask_price(),
            bid_size=book.best_bid_size(),
            ask_size=book.best_ask_size(),
            ts_event=deltas.ts_event,
            ts_init=deltas.ts_init,
        )
        last = self.last_quote
        out = [deltas]
        if last is None or last.bid_price != quote.bid_price or last.ask_price != (
            quote.ask_price
        ) or last.bid_size != quote.bid_size or last.ask_size != quote.ask_size:
            self.last_quote = quote
            out.append(quote)
        return out

    def book_update(self, raw: bytes) -> list:
        """Return the deltas (and the quote if changed) of a book update frame."""
        self._general.decode(raw)
        msg = self._book.decode(raw)
        deltas = msg.parse_to_deltas(
            instrument_id=INSTRUMENT_ID, price_precision=PRICE_PRECISION,
            size_precision=SIZE_PRECISION, ts_event=TS, ts_init=TS,
        )
        return self._apply(deltas)

    def book_snapshot(self, raw: bytes) -> list:
        """Return the deltas (and the quote if changed) of a book snapshot frame."""
        self._general.decode(raw)
        msg = self._snapshot.decode(raw)
        deltas = msg.parse_to_snapshot(
            instrument_id=INSTRUMENT_ID, price_precision=PRICE_PRECISION,
            size_precision=SIZE_PRECISION, ts_event=TS, ts_init=TS,
        )
        return self._apply(deltas)

    def trades(self, raw: bytes) -> list:
        """Return the trade ticks of a trades frame."""
        self._general.decode(raw)
        msg = self._trade.decode(raw)
        return [
            t.parse_to_trade_tick(
                INSTRUMENT_ID, price_precision=PRICE_PRECISION, size_precision=SIZE_PRECISION,
                ts_init=TS,
            )
            for t in msg.contents.trades
        ]

    def candle(self, raw: bytes) -> list:
        """Return the bar of a candle frame."""
        self._general.decode(raw)
        msg = self._candle.decode(raw)
        return [
            msg.contents.parse_to_bar(
                bar_type=self.bar_type, price_precision=PRICE_PRECISION,
                size_precision=SIZE_PRECISION, ts_init=TS,
            ),
        ]

    def subaccount_update(self, raw: bytes) -> list:
        """Return the decoded fills and orders of a subaccounts frame (decode only)."""
        self._general.decode(raw)
        msg = self._subaccount.decode(raw)
        return [*msg.contents.orders, *msg.contents.fills]


def level_frames(levels: int = 10, per_item: int = 2) -> tuple[bytes, bytes]:
    """
    Return one ``channel_data`` and one ``channel_batch_data`` book frame with `levels` levels.

    The batch frame holds the same levels split into contents of `per_item` levels each, so
    the time of each frame divided by `levels` is its cost per book level.
    """
    rows = [[str(90_000 - i), f"{1 + i % 3}.{i % 10:04d}"] for i in range(levels)]
    data = _dumps({
        "type": "channel_data", "connection_id": CID, "message_id": 2, "id": TICKER,
        "channel": "v4_orderbook", "version": "1.0.0", "contents": {"bids": rows},
    })
    batch = _dumps({
        "type": "channel_batch_data", "connection_id": CID, "message_id": 3, "id": TICKER,
        "channel": "v4_orderbook", "version": "1.0.0",
        "contents": [{"bids": rows[i:i + per_item]} for i in range(0, levels, per_item)],
    })
    return data, batch
