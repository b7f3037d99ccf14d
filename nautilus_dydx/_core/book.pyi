# SPDX-License-Identifier: Apache-2.0
"""Compiled L2 price-level book for one dYdX market, stamped by Indexer message id."""

from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import OrderBookDepth10
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.identifiers import InstrumentId

Levels = tuple[tuple[int, int], ...]

class L2Book:
    instrument_id: InstrumentId
    price_precision: int
    size_precision: int
    last_message_id: int
    crossings: int
    crossed_ns_total: int
    crossed_since_ns: int
    max_cross_ns: int
    resync_needed: bool
    resync_reason: str | None
    def __init__(
        self,
        instrument_id: InstrumentId,
        price_precision: int,
        size_precision: int,
        max_cross_ns: int = 5_000_000_000,
    ) -> None: ...
    def reset(self) -> None: ...
    def apply_snapshot(
        self,
        bids: list[tuple[int, int]],
        asks: list[tuple[int, int]],
        message_id: int,
        ts_event: int = 0,
        ts_init: int = 0,
    ) -> OrderBookDeltas: ...
    def apply_update(
        self,
        bids: list[tuple[int, int]],
        asks: list[tuple[int, int]],
        message_id: int,
        ts_event: int = 0,
        ts_init: int = 0,
    ) -> OrderBookDeltas | None: ...
    def quote(self, ts_event: int = 0, ts_init: int = 0) -> QuoteTick | None: ...
    def check_cross(self, ts_now: int) -> bool: ...
    def is_crossed(self) -> bool: ...
    def bids(self) -> Levels: ...
    def asks(self) -> Levels: ...
    def stamps(self) -> tuple[tuple[int, ...], tuple[int, ...]]: ...
    def levels(self) -> tuple[Levels, Levels]: ...
    def view(self, depth: int = 10) -> tuple[Levels, Levels]: ...
    def depth10(self, ts_event: int = 0, ts_init: int = 0) -> OrderBookDepth10: ...
    def allocated_bytes(self) -> int: ...
    def __len__(self) -> int: ...
