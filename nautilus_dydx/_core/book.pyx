# SPDX-License-Identifier: Apache-2.0
"""Compiled L2 price-level book for one dYdX market, stamped by Indexer message id."""

import os

import cython

import nautilus_trader.model.data as _nautilus_data

from cpython.mem cimport PyMem_Free
from cpython.mem cimport PyMem_Realloc
from cpython.number cimport PyNumber_Index
from libc.stdint cimport uint8_t
from libc.stdint cimport uint64_t
from libc.string cimport memmove

from nautilus_trader.core.rust.model cimport FIXED_PRECISION
from nautilus_trader.core.rust.model cimport FIXED_SCALAR
from nautilus_trader.core.rust.model cimport PRICE_MAX
from nautilus_trader.core.rust.model cimport QUANTITY_MAX
from nautilus_trader.core.rust.model cimport BookAction
from nautilus_trader.core.rust.model cimport OrderSide
from nautilus_trader.core.rust.model cimport PriceRaw
from nautilus_trader.core.rust.model cimport QuantityRaw
from nautilus_trader.core.rust.model cimport RecordFlag
from nautilus_trader.core.rust.core cimport CVec
from nautilus_trader.core.rust.model cimport InstrumentId_t
from nautilus_trader.core.rust.model cimport OrderBookDeltas_API
from posix.dlfcn cimport RTLD_LOCAL
from posix.dlfcn cimport RTLD_NOW
from posix.dlfcn cimport dlopen
from posix.dlfcn cimport dlsym
from nautilus_trader.model.data cimport BookOrder
from nautilus_trader.model.data cimport OrderBookDelta
from nautilus_trader.model.data cimport OrderBookDeltas
from nautilus_trader.model.data cimport OrderBookDepth10
from nautilus_trader.model.data cimport QuoteTick
from nautilus_trader.model.identifiers cimport InstrumentId


cdef Py_ssize_t _INITIAL_CAPACITY = 128

cdef uint8_t BID = 1
cdef uint8_t ASK = 2

# Raw limits of the Nautilus value types (computed as Nautilus does, from the doubles); beyond
# them Nautilus panics and the process aborts
cdef object _PRICE_MAX_RAW = int(PRICE_MAX * FIXED_SCALAR)
cdef object _QUANTITY_MAX_RAW = int(QUANTITY_MAX * FIXED_SCALAR)
# Nautilus formats values (repr, str) through a 96-bit decimal mantissa at their precision and
# panics beyond it: at precision 16 that is below PRICE_MAX
cdef object _MANTISSA_MAX = 2**96 - 1
cdef object _UINT64_MAX = 0xFFFF_FFFF_FFFF_FFFF


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


ctypedef OrderBookDeltas_API (*DeltasNew)(InstrumentId_t, const CVec*) noexcept nogil

# Nautilus's own constructor of an OrderBookDeltas from a vector of delta structs (the Rust
# function its `OrderBookDeltas.__init__` calls after copying each object's struct). It is not
# linked into this module: it is looked up in the loaded `nautilus_trader.model.data`. Without
# it, each delta becomes an object for `OrderBookDeltas(...)` as before (same result, slower)
cdef DeltasNew _deltas_new = NULL
cdef DeltasNew _deltas_new_found = NULL


cdef void _find_deltas_new():
    global _deltas_new, _deltas_new_found
    cdef void* handle = dlopen(os.fsencode(_nautilus_data.__file__), RTLD_NOW | RTLD_LOCAL)
    if handle != NULL:  # Already loaded: the same handle, kept for the process
        _deltas_new_found = <DeltasNew>dlsym(handle, b"orderbook_deltas_new")
    _deltas_new = _deltas_new_found


_find_deltas_new()


def _direct_deltas(bint enabled) -> bool:
    """
    Build `OrderBookDeltas` through Nautilus's vector constructor (True, if found) or through
    its Python constructor (False); return whether the vector constructor is now used. For tests.
    """
    global _deltas_new
    _deltas_new = _deltas_new_found if enabled else NULL
    return _deltas_new != NULL


cdef class L2Book:
    """
    Maintain a dYdX v4 L2 (price-level) book in C arrays.

    Each level keeps its raw price and size and the Indexer ``message_id`` that last set it, so
    that a crossed book can be resolved without losing the raw levels (protocol reference
    section 3.9). The raw book stays equal to the venue's; quotes, depth and the published deltas
    all describe the same uncrossed book: while crossed, the level set by the older message is
    left out (one message: the smaller size is netted out of the larger). Left-out levels are
    deleted from the published book and come back when later updates uncross the raw book.

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
        If a precision is not in [0, ``FIXED_PRECISION``] or `max_cross_ns` not a uint64.
    TypeError
        If an argument is not an integer.

    """

    def __cinit__(self):
        self._bids = NULL
        self._asks = NULL
        self._nbids = 0
        self._nasks = 0
        self._cap_bids = 0
        self._cap_asks = 0
        self._old_sizes = NULL
        self._cap_old = 0
        self._out = NULL
        self._nout = 0
        self._cap_out = 0

    def __init__(
        self,
        InstrumentId instrument_id not None,
        price_precision,
        size_precision,
        max_cross_ns=5_000_000_000,
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
            _PRICE_MAX_RAW, _MANTISSA_MAX * 10 ** (FIXED_PRECISION - price_precision),
        )
        self._size_limit = min(
            _QUANTITY_MAX_RAW, _MANTISSA_MAX * 10 ** (FIXED_PRECISION - size_precision),
        )
        self._grow(BID, _INITIAL_CAPACITY)
        self._grow(ASK, _INITIAL_CAPACITY)
        self.reset()

    def __dealloc__(self):
        PyMem_Free(self._bids)
        PyMem_Free(self._asks)
        PyMem_Free(self._old_sizes)
        PyMem_Free(self._out)

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
        self.remember_published_c(0, 0, 0, 0)

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
        # Raw levels only: the published state is `reset`'s and `apply_c`'s to keep
        self._nbids = 0
        self._nasks = 0

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef int set_level_c(
        self, uint8_t side, PriceRaw price, QuantityRaw size, uint64_t stamp,
        QuantityRaw* old_size,
    ) except -1:
        # Set (size 0: delete) one raw level; its previous size goes to `old_size` if not NULL
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
        if old_size != NULL:
            old_size[0] = levels[i].size if found else 0
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

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef QuantityRaw size_at_c(self, uint8_t side, PriceRaw price) noexcept:
        cdef bint found = False
        cdef Py_ssize_t i
        if side == BID:
            i = _search(self._bids, self._nbids, price, True, &found)
            return self._bids[i].size if found else 0
        i = _search(self._asks, self._nasks, price, False, &found)
        return self._asks[i].size if found else 0

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
        # Levels were validated by the caller; the range check below only keeps values Nautilus
        # cannot represent (it aborts the process) out of the book, before anything changes
        cdef:
            OrderBookDeltas out
            CVec vec
            Py_ssize_t i
            Py_ssize_t bid_index = 0
            Py_ssize_t ask_index = 0
            PriceRaw bid = 0
            PriceRaw ask = 0
            QuantityRaw bid_size = 0
            QuantityRaw ask_size = 0
            bint old_bid_on = self._pub_bid_on
            PriceRaw old_bid_price = self._pub_bid_price
            QuantityRaw old_bid_size = self._pub_bid_size
            bint old_ask_on = self._pub_ask_on
            PriceRaw old_ask_price = self._pub_ask_price
            QuantityRaw old_ask_size = self._pub_ask_size
            bint was_raw = self._pub_raw
        for i in range(count):
            if (
                levels[i].price > self._price_limit
                or levels[i].price < -self._price_limit
                or levels[i].size > self._size_limit
                or (levels[i].side != BID and levels[i].side != ASK)
            ):
                raise ValueError(
                    f"level outside the Nautilus range, was {(levels[i].price, levels[i].size)!r}"
                    f" side {levels[i].side}",
                )
        self._nout = 0
        if snapshot:
            self.reset()
            self.last_message_id = message_id
            for i in range(count):
                self.set_level_c(levels[i].side, levels[i].price, levels[i].size, message_id, NULL)
            self.top_c(&bid, &bid_size, &ask, &ask_size, &bid_index, &ask_index)
            self.publish_snapshot_c(
                bid_index, bid_size, ask_index, ask_size, message_id, ts_event, ts_init,
            )
        else:
            if count == 0:
                return None
            self.check_message_id_c(message_id)
            if count > self._cap_old:
                self._old_sizes = <QuantityRaw*>_realloc(
                    self._old_sizes, count * sizeof(QuantityRaw),
                )
                self._cap_old = count
            for i in range(count):
                self.set_level_c(
                    levels[i].side, levels[i].price, levels[i].size, message_id,
                    &self._old_sizes[i],
                )
            self.top_c(&bid, &bid_size, &ask, &ask_size, &bid_index, &ask_index)
            if was_raw and bid_index == 0 and ask_index == 0:
                # Common case: published and raw books agree before and after the frame
                self.publish_raw_c(levels, count, message_id, ts_event, ts_init)
            else:
                self.publish_diff_c(
                    levels, count,
                    old_bid_on, old_bid_price, old_bid_size,
                    old_ask_on, old_ask_price, old_ask_size,
                    bid_index, bid_size, ask_index, ask_size,
                    message_id, ts_event, ts_init,
                )
        self.remember_published_c(bid_index, bid_size, ask_index, ask_size)
        self.track_cross_c(ts_init)
        if self._nout == 0:
            return None
        if _deltas_new == NULL:
            return self._deltas_from_objects()
        # OrderBookDeltas(instrument_id, [OrderBookDelta, ...]) copies each delta's struct into
        # a Rust vector and drops the objects: copy the structs from the buffer instead
        out = OrderBookDeltas.__new__(OrderBookDeltas)
        vec.ptr = self._out
        vec.len = self._nout
        vec.cap = self._nout
        out._mem = _deltas_new(self.instrument_id._mem, &vec)
        return out

    cdef OrderBookDeltas _deltas_from_objects(self):
        cdef list deltas = []
        cdef OrderBookDelta delta
        cdef Py_ssize_t i
        for i in range(self._nout):
            delta = OrderBookDelta.__new__(OrderBookDelta)
            delta._mem = self._out[i]
            deltas.append(delta)
        return OrderBookDeltas(self.instrument_id, deltas)

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef int push_c(
        self, BookAction action, OrderSide side, PriceRaw price, QuantityRaw size,
        uint8_t flags, uint64_t message_id, uint64_t ts_event, uint64_t ts_init,
    ) except -1:
        # One delta into the frame's buffer: the fields OrderBookDelta.from_raw_c fills, and its
        # one check (a positive size to add or update)
        cdef OrderBookDelta_t* delta
        if size == 0 and (action == BookAction.ADD or action == BookAction.UPDATE):
            raise ValueError(f"invalid `size_raw` for {self.instrument_id}: not positive, was 0")
        if self._nout == self._cap_out:
            self._cap_out = 2 * self._cap_out + 8
            self._out = <OrderBookDelta_t*>_realloc(
                self._out, self._cap_out * sizeof(OrderBookDelta_t),
            )
        delta = &self._out[self._nout]
        delta.instrument_id = self.instrument_id._mem
        delta.action = action
        delta.order.side = side
        delta.order.price.raw = price
        delta.order.size.raw = size
        if action == BookAction.CLEAR:  # As Nautilus's own CLEAR: zero precision
            delta.order.price.precision = 0
            delta.order.size.precision = 0
        else:
            delta.order.price.precision = self.price_precision
            delta.order.size.precision = self.size_precision
        delta.order.order_id = 0  # Price-level book, no venue order ID
        delta.flags = flags
        delta.sequence = message_id
        delta.ts_event = ts_event
        delta.ts_init = ts_init
        self._nout += 1
        return 0

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef int publish_snapshot_c(
        self, Py_ssize_t bid_index, QuantityRaw bid_size, Py_ssize_t ask_index,
        QuantityRaw ask_size, uint64_t message_id, uint64_t ts_event, uint64_t ts_init,
    ) except -1:
        # CLEAR then the uncrossed levels, best first, bids then asks
        cdef:
            Py_ssize_t k
            Py_ssize_t last_bid = self._nbids - 1
            Py_ssize_t last_ask = self._nasks - 1
            bint no_asks = ask_index >= self._nasks
            uint8_t flags
        self.push_c(
            BookAction.CLEAR, OrderSide.NO_ORDER_SIDE, 0, 0,
            RecordFlag.F_SNAPSHOT | (
                RecordFlag.F_LAST if bid_index >= self._nbids and no_asks else 0
            ),
            message_id, ts_event, ts_init,
        )
        for k in range(bid_index, self._nbids):
            flags = RecordFlag.F_SNAPSHOT | (
                RecordFlag.F_LAST if k == last_bid and no_asks else 0
            )
            self.push_c(
                BookAction.ADD, OrderSide.BUY, self._bids[k].price,
                bid_size if k == bid_index else self._bids[k].size,
                flags, message_id, ts_event, ts_init,
            )
        for k in range(ask_index, self._nasks):
            flags = RecordFlag.F_SNAPSHOT | (RecordFlag.F_LAST if k == last_ask else 0)
            self.push_c(
                BookAction.ADD, OrderSide.SELL, self._asks[k].price,
                ask_size if k == ask_index else self._asks[k].size,
                flags, message_id, ts_event, ts_init,
            )
        return 0

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef int publish_raw_c(
        self, const PendingLevel* levels, Py_ssize_t count,
        uint64_t message_id, uint64_t ts_event, uint64_t ts_init,
    ) except -1:
        # One delta per level as the venue sent it: UPDATE, or DELETE for size 0
        cdef Py_ssize_t i
        for i in range(count):
            self.push_c(
                BookAction.DELETE if levels[i].size == 0 else BookAction.UPDATE,
                <OrderSide>levels[i].side, levels[i].price, levels[i].size,
                RecordFlag.F_LAST if i == count - 1 else 0, message_id, ts_event, ts_init,
            )
        return 0

    cdef int publish_diff_c(
        self, const PendingLevel* levels, Py_ssize_t count,
        bint old_bid_on, PriceRaw old_bid_price, QuantityRaw old_bid_size,
        bint old_ask_on, PriceRaw old_ask_price, QuantityRaw old_ask_size,
        Py_ssize_t bid_index, QuantityRaw bid_size, Py_ssize_t ask_index, QuantityRaw ask_size,
        uint64_t message_id, uint64_t ts_event, uint64_t ts_init,
    ) except -1:
        # Deltas from the last published book to the new one: DELETEs first, then ADD/UPDATE
        cdef:
            list bid_deletes = []
            list ask_deletes = []
            list bid_changes = []
            list ask_changes = []
            list changes
            Py_ssize_t k
            Py_ssize_t n
        _diff_side(
            self, BID, levels, count, old_bid_on, old_bid_price, old_bid_size,
            bid_index, bid_size, bid_deletes, bid_changes,
        )
        _diff_side(
            self, ASK, levels, count, old_ask_on, old_ask_price, old_ask_size,
            ask_index, ask_size, ask_deletes, ask_changes,
        )
        changes = bid_deletes + ask_deletes + bid_changes + ask_changes
        n = len(changes)
        for k in range(n):
            action, side, price, size = changes[k]
            self.push_c(
                <BookAction>action, <OrderSide>side, <PriceRaw>price, <QuantityRaw>size,
                RecordFlag.F_LAST if k == n - 1 else 0, message_id, ts_event, ts_init,
            )
        return 0

    cdef void remember_published_c(
        self, Py_ssize_t bid_index, QuantityRaw bid_size, Py_ssize_t ask_index,
        QuantityRaw ask_size,
    ) noexcept:
        self._pub_raw = bid_index == 0 and ask_index == 0
        self._pub_bid_on = bid_index < self._nbids
        self._pub_bid_price = self._bids[bid_index].price if self._pub_bid_on else 0
        self._pub_bid_size = bid_size if self._pub_bid_on else 0
        self._pub_ask_on = ask_index < self._nasks
        self._pub_ask_price = self._asks[ask_index].price if self._pub_ask_on else 0
        self._pub_ask_size = ask_size if self._pub_ask_on else 0

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
        message_id,
        ts_event=0,
        ts_init=0,
    ) -> OrderBookDeltas:
        """
        Replace the book with a snapshot and return its deltas (CLEAR then uncrossed ADDs).

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
            If a level is malformed, a price is not positive, a size is not positive, a value is
            finer than the precision or beyond what Nautilus represents, or `message_id` or a
            timestamp is not a uint64. Nothing is changed then.
        TypeError
            If a price, size, message id or timestamp is not an integer.

        """
        return self._apply_py(bids, asks, True, message_id, ts_event, ts_init)

    def apply_update(
        self,
        list bids not None,
        list asks not None,
        message_id,
        ts_event=0,
        ts_init=0,
    ):
        """
        Apply absolute level sizes (0 deletes) and return the deltas of the published book.

        While the raw book is not crossed the deltas are the venue's levels (UPDATE, or DELETE
        for size 0); otherwise they take the last published book to the new uncrossed one.

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
            ``None`` if the update is empty or leaves the published book unchanged.

        Raises
        ------
        ValueError
            If a level is malformed, a price is not positive, a size is negative, a value is
            finer than the precision or beyond what Nautilus represents, or `message_id` or a
            timestamp is not a uint64. Nothing is changed then.
        TypeError
            If a price, size, message id or timestamp is not an integer.

        """
        return self._apply_py(bids, asks, False, message_id, ts_event, ts_init)

    def _apply_py(self, list bids, list asks, bint snapshot, message_id, ts_event, ts_init):
        cdef uint64_t mid = _uint64(message_id, "message_id")
        cdef uint64_t t_event = _uint64(ts_event, "ts_event")
        cdef uint64_t t_init = _uint64(ts_init, "ts_init")
        # Python ints: a C `**` would go through a double
        cdef object unit_p = 10 ** <object>(FIXED_PRECISION - self.price_precision)
        cdef object unit_s = 10 ** <object>(FIXED_PRECISION - self.size_precision)
        cdef object price_limit = self._price_limit
        cdef object size_limit = self._size_limit
        cdef list checked = []
        for side, group in ((BID, bids), (ASK, asks)):
            for level in group:
                if not isinstance(level, (tuple, list)) or len(level) != 2:
                    raise ValueError(f"level must be (price, size), was {level!r}")
                price = _index(level[0], "price")
                size = _index(level[1], "size")
                if not 0 < price <= price_limit:
                    raise ValueError(f"raw price must be in (0, {price_limit}], was {price}")
                if not 0 <= size <= size_limit:
                    raise ValueError(f"raw size must be in [0, {size_limit}], was {size}")
                if snapshot and size == 0:
                    raise ValueError(f"snapshot size must be positive, was {(price, size)!r}")
                if price % unit_p or size % unit_s:
                    raise ValueError(f"level finer than the precision, was {(price, size)!r}")
                checked.append((side, price, size))
        cdef Py_ssize_t n = len(checked)
        cdef PendingLevel* pending = <PendingLevel*>_realloc(
            NULL, (n + 1) * sizeof(PendingLevel),
        )
        cdef Py_ssize_t k
        try:
            for k in range(n):
                side, price, size = checked[k]
                pending[k].side = side
                pending[k].price = price
                pending[k].size = size
            return self.apply_c(pending, n, snapshot, mid, t_event, t_init)
        finally:
            PyMem_Free(pending)

    def quote(self, ts_event=0, ts_init=0):
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

        Raises
        ------
        ValueError
            If a timestamp is not a uint64.

        """
        return self.quote_if_changed_c(
            _uint64(ts_event, "ts_event"), _uint64(ts_init, "ts_init"),
        )

    def check_cross(self, ts_now) -> bool:
        """
        Update crossing statistics at `ts_now` and return whether a resync is needed.

        Parameters
        ----------
        ts_now : int
            UNIX timestamp (nanoseconds) now.

        Returns
        -------
        bool

        Raises
        ------
        ValueError
            If a timestamp is not a uint64.

        """
        self.track_cross_c(_uint64(ts_now, "ts_now"))
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

    def view(self, depth=10) -> tuple:
        """
        Return up to `depth` levels per side of the uncrossed (published) book.

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
            Py_ssize_t limit = min(max(_index(depth, "depth"), 0), len(self))
        self.top_c(&bid, &bid_size, &ask, &ask_size, &i, &j)
        for k in range(i, min(self._nbids, i + limit)):
            bids.append((self._bids[k].price, bid_size if k == i else self._bids[k].size))
        for k in range(j, min(self._nasks, j + limit)):
            asks.append((self._asks[k].price, ask_size if k == j else self._asks[k].size))
        return tuple(bids), tuple(asks)

    def depth10(self, ts_event=0, ts_init=0) -> OrderBookDepth10:
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

        Raises
        ------
        ValueError
            If a timestamp is not a uint64.

        """
        cdef uint64_t t_event = _uint64(ts_event, "ts_event")
        cdef uint64_t t_init = _uint64(ts_init, "ts_init")
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
            RecordFlag.F_SNAPSHOT | RecordFlag.F_LAST, self.last_message_id, t_event, t_init,
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


cdef void* _realloc(void* ptr, size_t size) except NULL:
    cdef void* out = PyMem_Realloc(ptr, size)
    if out == NULL:
        raise MemoryError()
    return out


@cython.boundscheck(False)
@cython.wraparound(False)
cdef int _diff_side(
    L2Book book, uint8_t side, const PendingLevel* levels, Py_ssize_t count,
    bint old_on, PriceRaw old_cut, QuantityRaw old_top,
    Py_ssize_t new_index, QuantityRaw new_top, list deletes, list changes,
) except -1:
    # The published side is the raw side from its cut level outwards (the cut level with its
    # netted size); levels beyond the cut are hidden. Only the levels the frame touched and the
    # levels beyond either cut can differ between the old and the new published side.
    cdef:
        bint descending = side == BID
        BookLevel* raw = book._bids if descending else book._asks
        Py_ssize_t n = book._nbids if descending else book._nasks
        bint new_on = new_index < n
        PriceRaw new_cut = raw[new_index].price if new_on else 0
        dict old_raw = {}
        set candidates
        Py_ssize_t i
        PriceRaw price
        QuantityRaw raw_new
        QuantityRaw raw_old
        QuantityRaw old_size
        QuantityRaw new_size
    for i in range(count):
        if levels[i].side == side and levels[i].price not in old_raw:
            old_raw[levels[i].price] = book._old_sizes[i]
    candidates = set(old_raw)
    if old_on:
        candidates.add(old_cut)
    if new_on:
        candidates.add(new_cut)
    i = 0
    while i < n and (
        i < new_index
        or not old_on
        or (raw[i].price > old_cut if descending else raw[i].price < old_cut)
    ):
        candidates.add(raw[i].price)
        i += 1
    for key in sorted(candidates, reverse=descending):
        price = key
        raw_new = book.size_at_c(side, price)
        raw_old = old_raw.get(key, raw_new)
        if not old_on or (price > old_cut if descending else price < old_cut):
            old_size = 0
        else:
            old_size = old_top if price == old_cut else raw_old
        if not new_on or (price > new_cut if descending else price < new_cut):
            new_size = 0
        else:
            new_size = new_top if price == new_cut else raw_new
        if new_size == old_size:
            continue
        if new_size == 0:
            deletes.append((BookAction.DELETE, side, key, 0))
        elif old_size == 0:
            changes.append((BookAction.ADD, side, key, new_size))
        else:
            changes.append((BookAction.UPDATE, side, key, new_size))
    return 0


cdef object _index(object value, str name):
    try:
        return PyNumber_Index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, was {type(value).__name__}") from None


cdef object _uint64(object value, str name):
    value = _index(value, name)
    if not 0 <= value <= _UINT64_MAX:
        raise ValueError(f"{name} must be in [0, 2**64), was {value}")
    return value
