# SPDX-License-Identifier: Apache-2.0
"""dYdX v4 Indexer WebSocket frames -> Nautilus data objects and typed account records."""

from collections.abc import Callable
from typing import Any

from nautilus_trader.model.data import Bar
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core.book import L2Book
from nautilus_dydx.schemas.records import BLOCK_HEIGHT_CHANNEL as BLOCK_HEIGHT_CHANNEL
from nautilus_dydx.schemas.records import CANDLES_CHANNEL as CANDLES_CHANNEL
from nautilus_dydx.schemas.records import FILL_TYPE as FILL_TYPE
from nautilus_dydx.schemas.records import LIQUIDITY as LIQUIDITY
from nautilus_dydx.schemas.records import MARKET_DECIMALS as MARKET_DECIMALS
from nautilus_dydx.schemas.records import MARKET_INTEGERS as MARKET_INTEGERS
from nautilus_dydx.schemas.records import MARKET_STATUS as MARKET_STATUS
from nautilus_dydx.schemas.records import MARKETS_CHANNEL as MARKETS_CHANNEL
from nautilus_dydx.schemas.records import MAX_SEEN_IDS as MAX_SEEN_IDS
from nautilus_dydx.schemas.records import MAX_UNKNOWN_VALUES as MAX_UNKNOWN_VALUES
from nautilus_dydx.schemas.records import OFF_GRID_TRADE_TYPES as OFF_GRID_TRADE_TYPES
from nautilus_dydx.schemas.records import ORDER_STATUS as ORDER_STATUS
from nautilus_dydx.schemas.records import ORDER_TYPE as ORDER_TYPE
from nautilus_dydx.schemas.records import ORDERBOOK_CHANNEL as ORDERBOOK_CHANNEL
from nautilus_dydx.schemas.records import PARENT_SUBACCOUNTS_CHANNEL as PARENT_SUBACCOUNTS_CHANNEL
from nautilus_dydx.schemas.records import POSITION_SIDE as POSITION_SIDE
from nautilus_dydx.schemas.records import POSITION_STATUS as POSITION_STATUS
from nautilus_dydx.schemas.records import REMOVAL_REASON as REMOVAL_REASON
from nautilus_dydx.schemas.records import RESOLUTIONS as RESOLUTIONS
from nautilus_dydx.schemas.records import SIDE as SIDE
from nautilus_dydx.schemas.records import STATUS_ACTIONS as STATUS_ACTIONS
from nautilus_dydx.schemas.records import SUBACCOUNTS_CHANNEL as SUBACCOUNTS_CHANNEL
from nautilus_dydx.schemas.records import TABLES as TABLES
from nautilus_dydx.schemas.records import TIME_IN_FORCE as TIME_IN_FORCE
from nautilus_dydx.schemas.records import TRADE_TYPE as TRADE_TYPE
from nautilus_dydx.schemas.records import TRADES_CHANNEL as TRADES_CHANNEL
from nautilus_dydx.schemas.records import TRANSFER_TYPE as TRANSFER_TYPE
from nautilus_dydx.schemas.records import AssetPositionUpdate as AssetPositionUpdate
from nautilus_dydx.schemas.records import BarHistory as BarHistory
from nautilus_dydx.schemas.records import BlockHeight as BlockHeight
from nautilus_dydx.schemas.records import Connected as Connected
from nautilus_dydx.schemas.records import FillUpdate as FillUpdate
from nautilus_dydx.schemas.records import MarketUpdate as MarketUpdate
from nautilus_dydx.schemas.records import OrderUpdate as OrderUpdate
from nautilus_dydx.schemas.records import PerpetualPositionUpdate as PerpetualPositionUpdate
from nautilus_dydx.schemas.records import Record as Record
from nautilus_dydx.schemas.records import ResyncNeeded as ResyncNeeded
from nautilus_dydx.schemas.records import SubaccountInfo as SubaccountInfo
from nautilus_dydx.schemas.records import Subscribed as Subscribed
from nautilus_dydx.schemas.records import TradeHistory as TradeHistory
from nautilus_dydx.schemas.records import TradingRewardUpdate as TradingRewardUpdate
from nautilus_dydx.schemas.records import TransferUpdate as TransferUpdate
from nautilus_dydx.schemas.records import Unsubscribed as Unsubscribed
from nautilus_dydx.schemas.records import WsError as WsError

class FrameError(ValueError):
    channel: str | None
    reason: str | None
    def __init__(self, channel: str | None, message: str, reason: str | None = None) -> None: ...

def iso_to_ns(text: str) -> int: ...
def precision_from_increment(text: str) -> int: ...

class IdRing:
    def __init__(self, capacity: int = ...) -> None: ...
    def add(self, item: str) -> bool: ...
    def __contains__(self, item: object) -> bool: ...
    def __len__(self) -> int: ...

class MarketContext:
    ticker: str
    instrument_id: InstrumentId
    price_precision: int
    size_precision: int
    book: L2Book
    duplicate_trades: int
    publish_deltas: bool
    publish_quotes: bool
    publish_trades: bool
    def __init__(
        self,
        ticker: str,
        instrument_id: InstrumentId,
        price_precision: int,
        size_precision: int,
        max_cross_ns: int = 5_000_000_000,
    ) -> None: ...

class FrameParser:
    unknown_enums: dict[tuple[str, str | None], int]
    skipped: dict[str, int]
    adapted: dict[str, int]
    frames: int
    errors: int
    scanned_frames: int
    emit_quotes: bool
    scanner: bool
    def __init__(self, emit_quotes: bool = True, scanner: bool = True) -> None: ...
    def register(
        self,
        ticker: str,
        instrument_id: InstrumentId,
        price_precision: int,
        size_precision: int,
        max_cross_ns: int = 5_000_000_000,
    ) -> MarketContext: ...
    def context(self, ticker: str) -> MarketContext | None: ...
    def take_new_reasons(self) -> list[str]: ...
    def flush_closed_bars(self, now_ns: int) -> list[Bar]: ...
    def parse(self, data: bytes | bytearray | memoryview | str, ts_init: int = 0) -> list[Any]: ...

class DYDXWsListener:
    parser: FrameParser
    def __init__(
        self,
        parser: FrameParser,
        handler: Callable[[list[Any]], None],
        on_error: Callable[[FrameError], None] | None = None,
        on_reason: Callable[[list[str]], None] | None = None,
    ) -> None: ...
    def on_ws_frame(self, transport: Any, frame: Any) -> None: ...
