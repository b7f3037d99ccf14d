# SPDX-License-Identifier: Apache-2.0
"""Pure-Python twin of nautilus_dydx._core.book.L2Book: same behaviour, for tests and benches."""

from __future__ import annotations

import bisect
import operator

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
PRICE_MAX_RAW = int(17014118346046.0 * 1e16)
QUANTITY_MAX_RAW = int(34028236692093.0 * 1e16)
MANTISSA_MAX = 2**96 - 1  # Nautilus formats values through a 96-bit decimal mantissa
UINT64_MAX = 2**64 - 1
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
        price_precision = _index(price_precision, "price_precision")
        size_precision = _index(size_precision, "size_precision")
        if not 0 <= price_precision <= FIXED_PRECISION:
            raise ValueError(f"invalid price precision, was {price_precision}")
        if not 0 <= size_precision <= FIXED_PRECISION:
            raise ValueError(f"invalid size precision, was {size_precision}")
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.max_cross_ns = _uint64(max_cross_ns, "max_cross_ns")
        self._price_limit = min(
            PRICE_MAX_RAW, MANTISSA_MAX * 10 ** (FIXED_PRECISION - price_precision),
        )
        self._size_limit = min(
            QUANTITY_MAX_RAW, MANTISSA_MAX * 10 ** (FIXED_PRECISION - size_precision),
        )
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
        # The book last published in deltas, and whether it equals the raw book
        self._published: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self._published_is_raw = True

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
        groups: list | None = None,
    ) -> OrderBookDeltas | None:
        message_id = _uint64(message_id, "message_id")
        ts_event = _uint64(ts_event, "ts_event")
        ts_init = _uint64(ts_init, "ts_init")
        unit_p = 10 ** (FIXED_PRECISION - self.price_precision)
        unit_s = 10 ** (FIXED_PRECISION - self.size_precision)
        pending = []
        for side, group in groups or ((1, bids), (2, asks)):
            for level in group:
                if not isinstance(level, (tuple, list)) or len(level) != 2:
                    raise ValueError(f"level must be (price, size), was {level!r}")
                price = _index(level[0], "price")
                size = _index(level[1], "size")
                if not 0 < price <= self._price_limit:
                    raise ValueError(
                        f"raw price must be in (0, {self._price_limit}], was {price}",
                    )
                if not 0 <= size <= self._size_limit:
                    raise ValueError(f"raw size must be in [0, {self._size_limit}], was {size}")
                if snapshot and size == 0:
                    raise ValueError(f"snapshot size must be positive, was {(price, size)!r}")
                if price % unit_p or size % unit_s:
                    raise ValueError(f"level finer than the precision, was {(price, size)!r}")
                pending.append((side, price, size))
        if snapshot:
            self.reset()
            self.last_message_id = message_id
        else:
            if not pending:
                return None
            if message_id < self.last_message_id and not self.resync_needed:
                self.resync_needed = True
                self.resync_reason = (
                    f"message_id went backwards, was {message_id} after {self.last_message_id}"
                )
            self.last_message_id = max(self.last_message_id, message_id)
        for side, price, size in pending:
            self._set(side, price, size, message_id)
        # The raw book is uncrossed exactly when the published book is the raw book
        is_raw = not self.is_crossed()
        # (action, side, price, size) in publication order
        changes: list[tuple[BookAction, int, int, int]]
        if not snapshot and self._published_is_raw and is_raw:
            # Common case: published and raw books agree before and after the frame
            changes = [
                (BookAction.DELETE if size == 0 else BookAction.UPDATE, side, price, size)
                for side, price, size in pending
            ]
            for side, price, size in pending:
                if size == 0:
                    self._published[side - 1].pop(price, None)
                else:
                    self._published[side - 1][price] = size
        else:
            view_bids, view_asks = self.view(len(self))
            published = (dict(view_bids), dict(view_asks))
            if snapshot:
                changes = [(BookAction.ADD, 1, p, s) for p, s in view_bids]
                changes += [(BookAction.ADD, 2, p, s) for p, s in view_asks]
            else:
                changes = self._diff(self._published, published)
            self._published = published
        self._published_is_raw = is_raw
        base = F_SNAPSHOT if snapshot else 0
        deltas = []
        if snapshot:
            null = BookOrder(
                OrderSide.NO_ORDER_SIDE, Price.from_raw(0, 0), Quantity.from_raw(0, 0), 0,
            )
            deltas.append(
                OrderBookDelta(
                    self.instrument_id, BookAction.CLEAR, null,
                    base | (0 if changes else F_LAST), message_id, ts_event, ts_init,
                ),
            )
        for i, (action, side, price, size) in enumerate(changes):
            order = BookOrder(
                OrderSide(side),
                Price.from_raw(price, self.price_precision),
                Quantity.from_raw(size, self.size_precision),
                0,
            )
            flags = base | (F_LAST if i == len(changes) - 1 else 0)
            deltas.append(
                OrderBookDelta(
                    self.instrument_id, action, order, flags, message_id, ts_event, ts_init,
                ),
            )
        self.check_cross(ts_init)
        return OrderBookDeltas(self.instrument_id, deltas) if deltas else None

    @staticmethod
    def _diff(old: tuple, new: tuple) -> list:
        # Every level whose published size changed: DELETEs first, then ADD/UPDATE, best first
        deletes = []
        changes = []
        for side in (1, 2):
            before, after = old[side - 1], new[side - 1]
            for price in sorted(before.keys() | after.keys(), reverse=side == 1):
                was, now = before.get(price, 0), after.get(price, 0)
                if was == now:
                    continue
                if now == 0:
                    deletes.append((BookAction.DELETE, side, price, 0))
                else:
                    action = BookAction.ADD if was == 0 else BookAction.UPDATE
                    changes.append((action, side, price, now))
        return deletes + changes

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

    def apply_batch(
        self,
        parts: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]],
        message_id: int,
        ts_event: int = 0,
        ts_init: int = 0,
    ) -> OrderBookDeltas | None:
        """Apply a batch of (bids, asks) parts of one message, in arrival order, as one update."""
        groups = [(side, part[side - 1]) for part in parts for side in (1, 2)]
        return self._apply([], [], False, message_id, ts_event, ts_init, groups)

    def is_crossed(self) -> bool:
        """Return whether the raw book is crossed."""
        b, a = self._keys[1], self._keys[2]
        return bool(b and a and -b[0] >= a[0])

    def check_cross(self, ts_now: int) -> bool:
        """Update crossing statistics at `ts_now` and return whether a resync is needed."""
        ts_now = _uint64(ts_now, "ts_now")
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
        depth = max(_index(depth, "depth"), 0)
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
        ts_event = _uint64(ts_event, "ts_event")
        ts_init = _uint64(ts_init, "ts_init")
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
        ts_event = _uint64(ts_event, "ts_event")
        ts_init = _uint64(ts_init, "ts_init")
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


def _index(value: object, name: str) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, was {type(value).__name__}") from None


def _uint64(value: object, name: str) -> int:
    value = _index(value, name)
    if not 0 <= value <= UINT64_MAX:
        raise ValueError(f"{name} must be in [0, 2**64), was {value}")
    return value
