# SPDX-License-Identifier: Apache-2.0
"""Pure-Python twin of nautilus_dydx._core.book.L2Book: same behaviour, for tests and benchmarks."""

from __future__ import annotations

import bisect

from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import OrderBookDepth10
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity


FIXED_PRECISION = 16
F_LAST = RecordFlag.F_LAST.value
F_SNAPSHOT = RecordFlag.F_SNAPSHOT.value


class L2Book:
    """
    Maintain an L2 book with message-id stamps (reference implementation).

    Parameters
    ----------
    instrument_id : InstrumentId
        The instrument ID of the book.
    price_precision : int
        The price precision.
    size_precision : int
        The size precision.
    max_cross_ns : int, default 5_000_000_000
        Request a resync when the raw book stays crossed longer than this; 0 disables.

    """

    def __init__(
        self,
        instrument_id: InstrumentId,
        price_precision: int,
        size_precision: int,
        max_cross_ns: int = 5_000_000_000,
    ) -> None:
        if not 0 <= price_precision <= FIXED_PRECISION:
            raise ValueError(f"invalid price precision, was {price_precision}")
        if not 0 <= size_precision <= FIXED_PRECISION:
            raise ValueError(f"invalid size precision, was {size_precision}")
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.max_cross_ns = max_cross_ns
        self.reset()

    def reset(self) -> None:
        """Remove every level and forget message ids, crossings and the last quote."""
        # Bids keyed by negated price so both sides sort best first
        self._keys = {1: [], 2: []}
        self._levels: dict[int, dict[int, tuple[int, int]]] = {1: {}, 2: {}}
        self.last_message_id = 0
        self.crossings = 0
        self.crossed_ns_total = 0
        self.crossed_since_ns = 0
        self.resync_needed = False
        self.resync_reason: str | None = None
        self._last_quote: tuple | None = None

    def _set(self, side: int, price: int, size: int, stamp: int) -> None:
        key = -price if side == 1 else price
        keys = self._keys[side]
        levels = self._levels[side]
        if size == 0:
            if price in levels:
                del levels[price]
                keys.pop(bisect.bisect_left(keys, key))
            return
        if price not in levels:
            bisect.insort(keys, key)
        levels[price] = (size, stamp)

    def _side(self, side: int) -> list[tuple[int, int, int]]:
        levels = self._levels[side]
        out = []
        for key in self._keys[side]:
            price = -key if side == 1 else key
            size, stamp = levels[price]
            out.append((price, size, stamp))
        return out

    def _apply(
        self,
        bids: list,
        asks: list,
        snapshot: bool,
        message_id: int,
        ts_event: int,
        ts_init: int,
    ) -> OrderBookDeltas | None:
        unit_p = 10 ** (FIXED_PRECISION - self.price_precision)
        unit_s = 10 ** (FIXED_PRECISION - self.size_precision)
        pending = []
        for side, group in ((1, bids), (2, asks)):
            for price, size in group:
                if price <= 0 or size < 0 or (snapshot and size == 0):
                    raise ValueError(f"invalid level, was {(price, size)!r}")
                if price % unit_p or size % unit_s:
                    raise ValueError(f"level finer than the precision, was {(price, size)!r}")
                pending.append((side, price, size))
        deltas = []
        base = F_SNAPSHOT if snapshot else 0
        if snapshot:
            self.reset()
            self.last_message_id = message_id
            null = BookOrder(
                OrderSide.NO_ORDER_SIDE, Price.from_raw(0, 0), Quantity.from_raw(0, 0), 0,
            )
            deltas.append(
                OrderBookDelta(
                    self.instrument_id, BookAction.CLEAR, null,
                    base | (0 if pending else F_LAST), message_id, ts_event, ts_init,
                ),
            )
        else:
            if not pending:
                return None
            if message_id < self.last_message_id and not self.resync_needed:
                self.resync_needed = True
                self.resync_reason = (
                    f"message_id went backwards, was {message_id} after {self.last_message_id}"
                )
            self.last_message_id = max(self.last_message_id, message_id)
        for i, (side, price, size) in enumerate(pending):
            self._set(side, price, size, message_id)
            if snapshot:
                action = BookAction.ADD
            elif size == 0:
                action = BookAction.DELETE
            else:
                action = BookAction.UPDATE
            flags = base | (F_LAST if i == len(pending) - 1 else 0)
            order = BookOrder(
                OrderSide(side),
                Price.from_raw(price, self.price_precision),
                Quantity.from_raw(size, self.size_precision),
                0,
            )
            deltas.append(
                OrderBookDelta(
                    self.instrument_id, action, order, flags, message_id, ts_event, ts_init,
                ),
            )
        self.check_cross(ts_init)
        return OrderBookDeltas(self.instrument_id, deltas)

    def apply_snapshot(
        self,
        bids: list[tuple[int, int]],
        asks: list[tuple[int, int]],
        message_id: int,
        ts_event: int = 0,
        ts_init: int = 0,
    ) -> OrderBookDeltas:
        """Replace the book with a snapshot and return its deltas (CLEAR then ADDs)."""
        return self._apply(bids, asks, True, message_id, ts_event, ts_init)

    def apply_update(
        self,
        bids: list[tuple[int, int]],
        asks: list[tuple[int, int]],
        message_id: int,
        ts_event: int = 0,
        ts_init: int = 0,
    ) -> OrderBookDeltas | None:
        """Apply absolute level sizes (0 deletes) and return the deltas, or ``None``."""
        return self._apply(bids, asks, False, message_id, ts_event, ts_init)

    def is_crossed(self) -> bool:
        """Return whether the raw book is crossed."""
        b, a = self._keys[1], self._keys[2]
        return bool(b and a and -b[0] >= a[0])

    def check_cross(self, ts_now: int) -> bool:
        """Update crossing statistics at `ts_now` and return whether a resync is needed."""
        if self.is_crossed():
            if self.crossed_since_ns == 0:
                self.crossings += 1
                self.crossed_since_ns = ts_now if ts_now > 0 else 1
            elif (
                self.max_cross_ns > 0
                and ts_now - self.crossed_since_ns > self.max_cross_ns
                and not self.resync_needed
            ):
                self.resync_needed = True
                self.resync_reason = (
                    f"book crossed for {ts_now - self.crossed_since_ns} ns "
                    f"(limit {self.max_cross_ns} ns)"
                )
        elif self.crossed_since_ns != 0:
            if ts_now > self.crossed_since_ns:
                self.crossed_ns_total += ts_now - self.crossed_since_ns
            self.crossed_since_ns = 0
        return self.resync_needed

    def view(self, depth: int = 10) -> tuple:
        """Return up to `depth` uncrossed (bids, asks) levels used for quotes and depth."""
        bids, asks = self._side(1), self._side(2)
        i = j = 0
        bs = bids[0][1] if bids else 0
        as_ = asks[0][1] if asks else 0
        while i < len(bids) and j < len(asks) and bids[i][0] >= asks[j][0]:
            if bids[i][2] < asks[j][2]:
                i += 1
                bs = bids[i][1] if i < len(bids) else 0
            elif bids[i][2] > asks[j][2]:
                j += 1
                as_ = asks[j][1] if j < len(asks) else 0
            elif bs > as_:
                bs -= as_
                j += 1
                as_ = asks[j][1] if j < len(asks) else 0
            elif as_ > bs:
                as_ -= bs
                i += 1
                bs = bids[i][1] if i < len(bids) else 0
            else:
                i += 1
                j += 1
                bs = bids[i][1] if i < len(bids) else 0
                as_ = asks[j][1] if j < len(asks) else 0
        vb = tuple(
            (p, bs if k == i else s) for k, (p, s, _) in enumerate(bids) if i <= k < i + depth
        )
        va = tuple(
            (p, as_ if k == j else s) for k, (p, s, _) in enumerate(asks) if j <= k < j + depth
        )
        return vb, va

    def quote(self, ts_event: int = 0, ts_init: int = 0) -> QuoteTick | None:
        """Return the top of book as a quote if it changed since the last one, else ``None``."""
        bids, asks = self.view(1)
        if not bids or not asks:
            self._last_quote = None
            return None
        top = (bids[0], asks[0])
        if top == self._last_quote:
            return None
        self._last_quote = top
        return QuoteTick(
            self.instrument_id,
            Price.from_raw(bids[0][0], self.price_precision),
            Price.from_raw(asks[0][0], self.price_precision),
            Quantity.from_raw(bids[0][1], self.size_precision),
            Quantity.from_raw(asks[0][1], self.size_precision),
            ts_event,
            ts_init,
        )

    def depth10(self, ts_event: int = 0, ts_init: int = 0) -> OrderBookDepth10:
        """Return the top ten uncrossed levels per side as an `OrderBookDepth10`."""
        bids, asks = self.view(10)
        null = BookOrder(
            OrderSide.NO_ORDER_SIDE,
            Price.from_raw(0, self.price_precision),
            Quantity.from_raw(0, self.size_precision),
            0,
        )

        def orders(side: OrderSide, levels: tuple) -> list[BookOrder]:
            out = [
                BookOrder(
                    side,
                    Price.from_raw(p, self.price_precision),
                    Quantity.from_raw(s, self.size_precision),
                    0,
                )
                for p, s in levels
            ]
            return out + [null] * (10 - len(out))

        return OrderBookDepth10(
            self.instrument_id,
            orders(OrderSide.BUY, bids),
            orders(OrderSide.SELL, asks),
            [1] * len(bids) + [0] * (10 - len(bids)),
            [1] * len(asks) + [0] * (10 - len(asks)),
            F_SNAPSHOT | F_LAST,
            self.last_message_id,
            ts_event,
            ts_init,
        )

    def bids(self) -> tuple:
        """Return the raw bid levels, best first."""
        return tuple((p, s) for p, s, _ in self._side(1))

    def asks(self) -> tuple:
        """Return the raw ask levels, best first."""
        return tuple((p, s) for p, s, _ in self._side(2))

    def stamps(self) -> tuple:
        """Return the message ids of the bid and ask levels, best first."""
        return (
            tuple(st for _, _, st in self._side(1)),
            tuple(st for _, _, st in self._side(2)),
        )

    def levels(self) -> tuple:
        """Return the raw (bids, asks) levels for exact comparison."""
        return self.bids(), self.asks()

    def __len__(self) -> int:
        return len(self._keys[1]) + len(self._keys[2])
