# SPDX-License-Identifier: Apache-2.0
"""dYdX v4 Indexer WebSocket frames -> Nautilus data objects and typed account records."""

from collections.abc import Callable
from typing import Any
from typing import ClassVar

from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core.book import L2Book

SIDE: frozenset[str]
LIQUIDITY: frozenset[str]
ORDER_TYPE: frozenset[str]
ORDER_STATUS: frozenset[str]
TIME_IN_FORCE: frozenset[str]
FILL_TYPE: frozenset[str]
TRADE_TYPE: frozenset[str]
POSITION_SIDE: frozenset[str]
POSITION_STATUS: frozenset[str]
TRANSFER_TYPE: frozenset[str]
MARKET_STATUS: frozenset[str]
REMOVAL_REASON: frozenset[str]
RESOLUTIONS: dict[str, tuple[int, str, int]]
MAX_SEEN_IDS: int

class FrameError(ValueError):
    channel: str | None
    reason: str | None
    def __init__(self, channel: str | None, message: str, reason: str | None = None) -> None: ...

def iso_to_ns(text: str) -> int: ...
def precision_from_increment(text: str) -> int: ...

class Record:
    _fields: ClassVar[tuple[str, ...]]
    def to_dict(self) -> dict[str, Any]: ...

class Connected(Record):
    connection_id: str | None
    message_id: int

class Subscribed(Record):
    channel: str
    id: str | None
    connection_id: str | None
    message_id: int

class Unsubscribed(Record):
    channel: str
    id: str | None
    connection_id: str | None
    message_id: int

class WsError(Record):
    message: str
    channel: str | None
    id: str | None
    connection_id: str | None
    message_id: int | None

class ResyncNeeded(Record):
    channel: str
    id: str
    instrument_id: InstrumentId
    reason: str

class TradeHistory(Record):
    instrument_id: InstrumentId
    trades: list[TradeTick]

class BarHistory(Record):
    bar_type: BarType
    bars: list[Bar]

class BlockHeight(Record):
    channel: str
    height: int
    time: str | None
    ts_event: int | None

class MarketUpdate(Record):
    ticker: str
    is_new: bool
    is_snapshot: bool
    fields: dict[str, Any]
    price_precision: int | None
    size_precision: int | None

class TransferUpdate(Record):
    id: str | None
    sender_address: str | None
    sender_subaccount_number: int | None
    recipient_address: str | None
    recipient_subaccount_number: int | None
    symbol: str | None
    size: str
    type: str | None
    transaction_hash: str | None
    created_at: str | None
    created_at_height: int | None
    subaccount_number: int | None

class OrderUpdate(Record):
    id: str
    subaccount_id: str | None
    client_id: str | None
    clob_pair_id: str | None
    side: str | None
    size: str | None
    ticker: str | None
    price: str | None
    type: str | None
    time_in_force: str | None
    post_only: bool | None
    reduce_only: bool | None
    status: str | None
    order_flags: str | None
    total_filled: str | None
    total_optimistic_filled: str | None
    good_til_block: int | None
    good_til_block_time: str | None
    trigger_price: str | None
    updated_at: str | None
    updated_at_height: int | None
    removal_reason: str | None
    created_at: str | None
    created_at_height: int | None
    client_metadata: str | None
    duration: str | None
    interval: str | None
    price_tolerance: str | None
    subaccount_number: int | None
    builder_address: str | None
    fee_ppm: str | None
    order_router_address: str | None

class FillUpdate(Record):
    id: str
    subaccount_id: str | None
    side: str
    liquidity: str
    type: str | None
    clob_pair_id: str | None
    size: str
    price: str
    quote_amount: str | None
    event_id: str | None
    transaction_hash: str | None
    created_at: str | None
    created_at_height: int | None
    order_id: str | None
    ticker: str | None
    market: str | None
    market_type: str | None
    client_metadata: str | None
    fee: str | None
    affiliate_rev_share: str | None
    subaccount_number: int | None
    builder_fee: str | None
    builder_address: str | None
    order_router_address: str | None
    order_router_fee: str | None
    position_size_before: str | None
    entry_price_before: str | None
    position_side_before: str | None
    ts_event: int

class PerpetualPositionUpdate(Record):
    address: str | None
    subaccount_number: int | None
    position_id: str | None
    market: str
    side: str | None
    status: str | None
    size: str | None
    max_size: str | None
    net_funding: str | None
    entry_price: str | None
    exit_price: str | None
    sum_open: str | None
    sum_close: str | None
    realized_pnl: str | None
    unrealized_pnl: str | None
    created_at: str | None
    created_at_height: int | None
    closed_at: str | None

class AssetPositionUpdate(Record):
    address: str | None
    subaccount_number: int | None
    position_id: str | None
    asset_id: str | None
    symbol: str
    side: str | None
    size: str

class TradingRewardUpdate(Record):
    trading_reward: str
    created_at_height: int | None
    created_at: str | None

class SubaccountInfo(Record):
    address: str
    subaccount_number: int | None
    equity: str | None
    free_collateral: str | None
    margin_enabled: bool | None
    updated_at_height: int | None
    latest_processed_block_height: int | None

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
    def __init__(
        self,
        ticker: str,
        instrument_id: InstrumentId,
        price_precision: int,
        size_precision: int,
        max_cross_ns: int = 5_000_000_000,
    ) -> None: ...

class FrameParser:
    unknown_enums: dict[tuple[str, str], int]
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
