# SPDX-License-Identifier: Apache-2.0
"""Compiled L2 price-level book for one dYdX market, stamped by Indexer message id."""

import cython

from cpython.mem cimport PyMem_Free
from cpython.mem cimport PyMem_Realloc
from libc.stdint cimport uint8_t
from libc.stdint cimport uint64_t
from libc.string cimport memmove

from nautilus_trader.core.rust.model cimport FIXED_PRECISION
from nautilus_trader.core.rust.model cimport BookAction
from nautilus_trader.core.rust.model cimport OrderSide
from nautilus_trader.core.rust.model cimport PriceRaw
from nautilus_trader.core.rust.model cimport QuantityRaw
from nautilus_trader.core.rust.model cimport RecordFlag
from nautilus_trader.model.data cimport BookOrder
from nautilus_trader.model.data cimport OrderBookDelta
from nautilus_trader.model.data cimport OrderBookDeltas
from nautilus_trader.model.data cimport OrderBookDepth10
from nautilus_trader.model.data cimport QuoteTick
from nautilus_trader.model.identifiers cimport InstrumentId


cdef Py_ssize_t _INITIAL_CAPACITY = 128

cdef uint8_t BID = 1
cdef uint8_t ASK = 2


@cython.boundscheck(False)
@cython.wraparound(False)
cdef inline Py_ssize_t _search(
    const BookLevel* levels, Py_ssize_t n, PriceRaw price, bint descending, bint* found,
) noexcept nogil:
    # Index of `price`, or where it would be inserted to keep the side sorted
    cdef Py_ssize_t lo = 0
    cdef Py_ssize_t hi = n
    cdef Py_ssize_t mid
    cdef PriceRaw p
    while lo < hi:
        mid = (lo + hi) >> 1
        p = levels[mid].price
        if p == price:
            found[0] = True
            return mid
        if (p > price) if descending else (p < price):
            lo = mid + 1
        else:
            hi = mid
    found[0] = False
    return lo


cdef class L2Book:
    """
    Maintain a dYdX v4 L2 (price-level) book in C arrays.

    Each level keeps its raw price and size and the Indexer ``message_id`` that last set it, so
    that a crossed book can be resolved for quotes and depth without losing the raw levels
    (protocol reference section 3.9).

    Parameters
    ----------
    instrument_id : InstrumentId
        The instrument ID of the book.
    price_precision : int
        The price precision of the instrument.
    size_precision : int
        The size precision of the instrument.
    max_cross_ns : int, default 5_000_000_000
        Request a resync when the raw book stays crossed longer than this; 0 disables.

    Raises
    ------
    ValueError
        If a precision is greater than ``FIXED_PRECISION``.

    """

    def __cinit__(self):
        self._bids = NULL
        self._asks = NULL
        self._nbids = 0
        self._nasks = 0
        self._cap_bids = 0
        self._cap_asks = 0

    def __init__(
        self,
        InstrumentId instrument_id not None,
        int price_precision,
        int size_precision,
        uint64_t max_cross_ns=5_000_000_000,
    ) -> None:
        if not 0 <= price_precision <= FIXED_PRECISION:
            raise ValueError(f"invalid price precision, was {price_precision}")
        if not 0 <= size_precision <= FIXED_PRECISION:
            raise ValueError(f"invalid size precision, was {size_precision}")
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        self.max_cross_ns = max_cross_ns
        self._grow(BID, _INITIAL_CAPACITY)
        self._grow(ASK, _INITIAL_CAPACITY)
        self.reset()

    def __dealloc__(self):
        PyMem_Free(self._bids)
        PyMem_Free(self._asks)

    def reset(self) -> None:
        """
        Remove every level and forget message ids, crossings and the last quote.
        """
        self.clear_c()
        self.last_message_id = 0
        self.crossings = 0
        self.crossed_ns_total = 0
        self.crossed_since_ns = 0
        self.resync_needed = False
        self.resync_reason = None
        self._has_quote = False

    cdef int _grow(self, uint8_t side, Py_ssize_t capacity) except -1:
        cdef void* ptr
        if side == BID:
            ptr = PyMem_Realloc(self._bids, capacity * sizeof(BookLevel))
            if ptr == NULL:
                raise MemoryError()
            self._bids = <BookLevel*>ptr
            self._cap_bids = capacity
        else:
            ptr = PyMem_Realloc(self._asks, capacity * sizeof(BookLevel))
            if ptr == NULL:
                raise MemoryError()
            self._asks = <BookLevel*>ptr
            self._cap_asks = capacity
        return 0

    cdef void clear_c(self) noexcept:
        self._nbids = 0
        self._nasks = 0

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef int set_level_c(
        self, uint8_t side, PriceRaw price, QuantityRaw size, uint64_t stamp,
    ) except -1:
        cdef:
            BookLevel* levels
            Py_ssize_t* n
            bint found = False
            Py_ssize_t i
        if side == BID:
            levels = self._bids
            n = &self._nbids
        else:
            levels = self._asks
            n = &self._nasks
        i = _search(levels, n[0], price, side == BID, &found)
        if found:
            if size == 0:
                memmove(&levels[i], &levels[i + 1], (n[0] - i - 1) * sizeof(BookLevel))
                n[0] -= 1
            else:
                levels[i].size = size
                levels[i].stamp = stamp
            return 0
        if size == 0:
            return 0
        if side == BID and self._nbids == self._cap_bids:
            self._grow(BID, self._cap_bids * 2)
            levels = self._bids
        elif side == ASK and self._nasks == self._cap_asks:
            self._grow(ASK, self._cap_asks * 2)
            levels = self._asks
        memmove(&levels[i + 1], &levels[i], (n[0] - i) * sizeof(BookLevel))
        levels[i].price = price
        levels[i].size = size
        levels[i].stamp = stamp
        n[0] += 1
        return 0

    cdef int check_message_id_c(self, uint64_t message_id) except -1:
        if message_id < self.last_message_id and not self.resync_needed:
            self.resync_needed = True
            self.resync_reason = (
                f"message_id went backwards, was {message_id} after {self.last_message_id}"
            )
        if message_id > self.last_message_id:
            self.last_message_id = message_id
        return 0

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef object apply_c(
        self, const PendingLevel* levels, Py_ssize_t count, bint snapshot,
        uint64_t message_id, uint64_t ts_event, uint64_t ts_init,
    ):
        # Levels were validated by the caller: nothing below can fail half-way for bad input
        cdef:
            list deltas = []
            Py_ssize_t i
            uint8_t flags
            uint8_t base_flags = RecordFlag.F_SNAPSHOT if snapshot else 0
            BookAction action
        if snapshot:
            self.reset()
            self.last_message_id = message_id
            deltas.append(
                OrderBookDelta.from_raw_c(
                    self.instrument_id, BookAction.CLEAR, OrderSide.NO_ORDER_SIDE,
                    0, 0, 0, 0, 0,
                    base_flags | (RecordFlag.F_LAST if count == 0 else 0),
                    message_id, ts_event, ts_init,
                ),
            )
        else:
            if count == 0:
                return None
            self.check_message_id_c(message_id)
        for i in range(count):
            self.set_level_c(levels[i].side, levels[i].price, levels[i].size, message_id)
            if snapshot:
                action = BookAction.ADD
            elif levels[i].size == 0:
                action = BookAction.DELETE
            else:
                action = BookAction.UPDATE
            flags = base_flags | (RecordFlag.F_LAST if i == count - 1 else 0)
            deltas.append(
                OrderBookDelta.from_raw_c(
                    self.instrument_id, action, <OrderSide>levels[i].side,
                    levels[i].price, self.price_precision,
                    levels[i].size, self.size_precision,
                    0,  # Price-level book, no venue order ID
                    flags, message_id, ts_event, ts_init,
                ),
            )
        self.track_cross_c(ts_init)
        return OrderBookDeltas(self.instrument_id, deltas)

    cdef void track_cross_c(self, uint64_t ts_now) noexcept:
        cdef bint crossed = (
            self._nbids > 0 and self._nasks > 0 and self._bids[0].price >= self._asks[0].price
        )
        if crossed:
            if self.crossed_since_ns == 0:
                self.crossings += 1
                self.crossed_since_ns = ts_now if ts_now > 0 else 1
            elif (
                self.max_cross_ns > 0
                and ts_now > self.crossed_since_ns
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

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef bint top_c(
        self, PriceRaw* bid, QuantityRaw* bid_size, PriceRaw* ask, QuantityRaw* ask_size,
        Py_ssize_t* bid_index, Py_ssize_t* ask_index,
    ) noexcept:
        # Resolve a crossed top on the view: older stamp yields, equal stamps net sizes out
        cdef:
            Py_ssize_t i = 0
            Py_ssize_t j = 0
            QuantityRaw bs = self._bids[0].size if self._nbids > 0 else 0
            QuantityRaw as_ = self._asks[0].size if self._nasks > 0 else 0
        while i < self._nbids and j < self._nasks and self._bids[i].price >= self._asks[j].price:
            if self._bids[i].stamp < self._asks[j].stamp:
                i += 1
                bs = self._bids[i].size if i < self._nbids else 0
            elif self._bids[i].stamp > self._asks[j].stamp:
                j += 1
                as_ = self._asks[j].size if j < self._nasks else 0
            elif bs > as_:
                bs -= as_
                j += 1
                as_ = self._asks[j].size if j < self._nasks else 0
            elif as_ > bs:
                as_ -= bs
                i += 1
                bs = self._bids[i].size if i < self._nbids else 0
            else:
                i += 1
                j += 1
                bs = self._bids[i].size if i < self._nbids else 0
                as_ = self._asks[j].size if j < self._nasks else 0
        bid_index[0] = i
        ask_index[0] = j
        bid[0] = self._bids[i].price if i < self._nbids else 0
        ask[0] = self._asks[j].price if j < self._nasks else 0
        bid_size[0] = bs
        ask_size[0] = as_
        return i < self._nbids and j < self._nasks

    cdef QuoteTick quote_if_changed_c(self, uint64_t ts_event, uint64_t ts_init):
        cdef:
            PriceRaw bid = 0
            PriceRaw ask = 0
            QuantityRaw bid_size = 0
            QuantityRaw ask_size = 0
            Py_ssize_t i = 0
            Py_ssize_t j = 0
        if not self.top_c(&bid, &bid_size, &ask, &ask_size, &i, &j):
            self._has_quote = False
            return None
        if (
            self._has_quote
            and bid == self._q_bid
            and ask == self._q_ask
            and bid_size == self._q_bid_size
            and ask_size == self._q_ask_size
        ):
            return None
        self._has_quote = True
        self._q_bid = bid
        self._q_ask = ask
        self._q_bid_size = bid_size
        self._q_ask_size = ask_size
        return make_quote_c(
            self.instrument_id, bid, ask, self.price_precision,
            bid_size, ask_size, self.size_precision, ts_event, ts_init,
        )

    # -- Python surface ---------------------------------------------------------------------

    def apply_snapshot(
        self,
        list bids not None,
        list asks not None,
        uint64_t message_id,
        uint64_t ts_event=0,
        uint64_t ts_init=0,
    ) -> OrderBookDeltas:
        """
        Replace the book with a snapshot and return its deltas (CLEAR then ADDs).

        Parameters
        ----------
        bids : list[tuple[int, int]]
            The bid levels as (raw price, raw size), sizes positive.
        asks : list[tuple[int, int]]
            The ask levels as (raw price, raw size), sizes positive.
        message_id : int
            The Indexer message_id of the snapshot.
        ts_event : int, default 0
            UNIX timestamp (nanoseconds) of the event.
        ts_init : int, default 0
            UNIX timestamp (nanoseconds) of the object creation.

        Returns
        -------
        OrderBookDeltas

        Raises
        ------
        ValueError
            If a level is malformed or a size is not positive.

        """
        return self._apply_py(bids, asks, True, message_id, ts_event, ts_init)

    def apply_update(
        self,
        list bids not None,
        list asks not None,
        uint64_t message_id,
        uint64_t ts_event=0,
        uint64_t ts_init=0,
    ):
        """
        Apply absolute level sizes (0 deletes) and return the deltas, or ``None`` if empty.

        Parameters
        ----------
        bids : list[tuple[int, int]]
            The changed bid levels as (raw price, raw size).
        asks : list[tuple[int, int]]
            The changed ask levels as (raw price, raw size).
        message_id : int
            The Indexer message_id of the update.
        ts_event : int, default 0
            UNIX timestamp (nanoseconds) of the event.
        ts_init : int, default 0
            UNIX timestamp (nanoseconds) of the object creation.

        Returns
        -------
        OrderBookDeltas or None

        Raises
        ------
        ValueError
            If a level is malformed or a size is negative.

        """
        return self._apply_py(bids, asks, False, message_id, ts_event, ts_init)

    def _apply_py(self, list bids, list asks, bint snapshot, uint64_t message_id,
                  uint64_t ts_event, uint64_t ts_init):
        cdef Py_ssize_t n = len(bids) + len(asks)
        cdef PendingLevel* pending = <PendingLevel*>PyMem_Realloc(
            NULL, (n + 1) * sizeof(PendingLevel),
        )
        if pending == NULL:
            raise MemoryError()
        cdef Py_ssize_t k = 0
        cdef object price
        cdef object size
        cdef PriceRaw unit_p = _pow10(FIXED_PRECISION - self.price_precision)
        cdef PriceRaw unit_s = _pow10(FIXED_PRECISION - self.size_precision)
        try:
            for side, group in ((BID, bids), (ASK, asks)):
                for price, size in group:
                    if price <= 0 or size < 0 or (snapshot and size == 0):
                        raise ValueError(f"invalid level, was {(price, size)!r}")
                    if price % unit_p or size % unit_s:
                        raise ValueError(f"level finer than the precision, was {(price, size)!r}")
                    pending[k].price = price
                    pending[k].size = size
                    pending[k].side = side
                    k += 1
            return self.apply_c(pending, k, snapshot, message_id, ts_event, ts_init)
        finally:
            PyMem_Free(pending)

    def quote(self, uint64_t ts_event=0, uint64_t ts_init=0):
        """
        Return the top of book as a quote if it changed since the last one, else ``None``.

        Parameters
        ----------
        ts_event : int, default 0
            UNIX timestamp (nanoseconds) of the event.
        ts_init : int, default 0
            UNIX timestamp (nanoseconds) of the object creation.

        Returns
        -------
        QuoteTick or None

        """
        return self.quote_if_changed_c(ts_event, ts_init)

    def check_cross(self, uint64_t ts_now) -> bool:
        """
        Update crossing statistics at `ts_now` and return whether a resync is needed.

        Parameters
        ----------
        ts_now : int
            UNIX timestamp (nanoseconds) now.

        Returns
        -------
        bool

        """
        self.track_cross_c(ts_now)
        return self.resync_needed

    def is_crossed(self) -> bool:
        """
        Return whether the raw book is crossed (best bid >= best ask).

        Returns
        -------
        bool

        """
        return self._nbids > 0 and self._nasks > 0 and self._bids[0].price >= self._asks[0].price

    def bids(self) -> tuple:
        """
        Return the raw bid levels, best first.

        Returns
        -------
        tuple[tuple[int, int], ...]
            (raw price, raw size) pairs.

        """
        return tuple([(self._bids[i].price, self._bids[i].size) for i in range(self._nbids)])

    def asks(self) -> tuple:
        """
        Return the raw ask levels, best first.

        Returns
        -------
        tuple[tuple[int, int], ...]
            (raw price, raw size) pairs.

        """
        return tuple([(self._asks[i].price, self._asks[i].size) for i in range(self._nasks)])

    def stamps(self) -> tuple:
        """
        Return the message ids of the bid and ask levels, best first.

        Returns
        -------
        tuple[tuple[int, ...], tuple[int, ...]]

        """
        return (
            tuple([self._bids[i].stamp for i in range(self._nbids)]),
            tuple([self._asks[i].stamp for i in range(self._nasks)]),
        )

    def levels(self) -> tuple:
        """
        Return the raw (bids, asks) levels for exact comparison.

        Returns
        -------
        tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]

        """
        return self.bids(), self.asks()

    def view(self, Py_ssize_t depth=10) -> tuple:
        """
        Return up to `depth` uncrossed (bids, asks) levels used for quotes and depth.

        Parameters
        ----------
        depth : int, default 10
            The maximum number of levels per side.

        Returns
        -------
        tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]

        """
        cdef:
            PriceRaw bid = 0
            PriceRaw ask = 0
            QuantityRaw bid_size = 0
            QuantityRaw ask_size = 0
            Py_ssize_t i = 0
            Py_ssize_t j = 0
            list bids = []
            list asks = []
            Py_ssize_t k
        self.top_c(&bid, &bid_size, &ask, &ask_size, &i, &j)
        for k in range(i, min(self._nbids, i + depth)):
            bids.append((self._bids[k].price, bid_size if k == i else self._bids[k].size))
        for k in range(j, min(self._nasks, j + depth)):
            asks.append((self._asks[k].price, ask_size if k == j else self._asks[k].size))
        return tuple(bids), tuple(asks)

    def depth10(self, uint64_t ts_event=0, uint64_t ts_init=0) -> OrderBookDepth10:
        """
        Return the top ten uncrossed levels per side as an `OrderBookDepth10`.

        Parameters
        ----------
        ts_event : int, default 0
            UNIX timestamp (nanoseconds) of the event.
        ts_init : int, default 0
            UNIX timestamp (nanoseconds) of the object creation.

        Returns
        -------
        OrderBookDepth10

        """
        bids, asks = self.view(10)
        cdef list bid_orders = [
            BookOrder.from_raw_c(
                OrderSide.BUY, p, self.price_precision, s, self.size_precision, 0,
            )
            for p, s in bids
        ]
        cdef list ask_orders = [
            BookOrder.from_raw_c(
                OrderSide.SELL, p, self.price_precision, s, self.size_precision, 0,
            )
            for p, s in asks
        ]
        cdef BookOrder null = BookOrder.from_raw_c(
            OrderSide.NO_ORDER_SIDE, 0, self.price_precision, 0, self.size_precision, 0,
        )
        bid_orders.extend([null] * (10 - len(bid_orders)))
        ask_orders.extend([null] * (10 - len(ask_orders)))
        counts_b = [1] * len(bids) + [0] * (10 - len(bids))
        counts_a = [1] * len(asks) + [0] * (10 - len(asks))
        return OrderBookDepth10(
            self.instrument_id, bid_orders, ask_orders, counts_b, counts_a,
            RecordFlag.F_SNAPSHOT | RecordFlag.F_LAST, self.last_message_id, ts_event, ts_init,
        )

    def allocated_bytes(self) -> int:
        """
        Return the bytes the book holds: the object plus both level buffers.

        Returns
        -------
        int

        """
        return object.__sizeof__(self) + (self._cap_bids + self._cap_asks) * sizeof(BookLevel)

    def __sizeof__(self) -> int:
        return self.allocated_bytes()

    def __len__(self) -> int:
        return self._nbids + self._nasks

    def __repr__(self) -> str:
        return (
            f"L2Book({self.instrument_id}, bids={self._nbids}, asks={self._nasks}, "
            f"last_message_id={self.last_message_id}, crossings={self.crossings})"
        )


cdef QuoteTick make_quote_c(
    InstrumentId instrument_id, PriceRaw bid, PriceRaw ask, uint8_t price_prec,
    QuantityRaw bid_size, QuantityRaw ask_size, uint8_t size_prec,
    uint64_t ts_event, uint64_t ts_init,
):
    # QuoteTick.from_raw_c passes 128-bit raws on the stack, where this compiler and the one
    # that built the wheel disagree on alignment (it panics in Rust); fill the struct directly
    cdef QuoteTick quote = QuoteTick.__new__(QuoteTick)
    quote._mem.instrument_id = instrument_id._mem
    quote._mem.bid_price.raw = bid
    quote._mem.bid_price.precision = price_prec
    quote._mem.ask_price.raw = ask
    quote._mem.ask_price.precision = price_prec
    quote._mem.bid_size.raw = bid_size
    quote._mem.bid_size.precision = size_prec
    quote._mem.ask_size.raw = ask_size
    quote._mem.ask_size.precision = size_prec
    quote._mem.ts_event = ts_event
    quote._mem.ts_init = ts_init
    return quote


cdef PriceRaw _pow10(int n):
    cdef PriceRaw v = 1
    for _ in range(n):
        v *= 10
    return v
