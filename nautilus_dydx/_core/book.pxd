# SPDX-License-Identifier: Apache-2.0
"""Compiled L2 price-level book for one dYdX market, stamped by Indexer message id."""

from libc.stdint cimport uint8_t
from libc.stdint cimport uint64_t

from nautilus_trader.core.rust.model cimport BookAction
from nautilus_trader.core.rust.model cimport OrderBookDelta_t
from nautilus_trader.core.rust.model cimport OrderSide
from nautilus_trader.core.rust.model cimport PriceRaw
from nautilus_trader.core.rust.model cimport QuantityRaw
from nautilus_trader.model.data cimport OrderBookDeltas
from nautilus_trader.model.data cimport QuoteTick
from nautilus_trader.model.identifiers cimport InstrumentId


cdef struct BookLevel:
    PriceRaw price           # Scaled to 10**FIXED_PRECISION
    QuantityRaw size         # Scaled to 10**FIXED_PRECISION, never zero in the book
    uint64_t stamp           # message_id of the message that last set the level


cdef struct PendingLevel:
    PriceRaw price
    QuantityRaw size         # Zero deletes the level
    uint8_t side             # 1 = bid, 2 = ask (Nautilus OrderSide values)


cdef class L2Book:
    cdef readonly InstrumentId instrument_id
    """The instrument ID of the book.\n\n:returns: `InstrumentId`"""
    cdef readonly uint8_t price_precision
    """The price precision of the instrument.\n\n:returns: `int`"""
    cdef readonly uint8_t size_precision
    """The size precision of the instrument.\n\n:returns: `int`"""
    cdef readonly uint64_t last_message_id
    """The message_id of the last applied message (0 before any).\n\n:returns: `int`"""
    cdef readonly uint64_t crossings
    """How many times the raw book went from uncrossed to crossed.\n\n:returns: `int`"""
    cdef readonly uint64_t crossed_ns_total
    """Total nanoseconds spent crossed, over finished crossings.\n\n:returns: `int`"""
    cdef readonly uint64_t crossed_since_ns
    """Timestamp at which the current crossing began (0 when not crossed).\n\n:returns: `int`"""
    cdef readonly uint64_t max_cross_ns
    """A crossing older than this requests a resync (0 disables).\n\n:returns: `int`"""
    cdef readonly bint resync_needed
    """If the book detected an integrity problem and should be rebuilt.\n\n:returns: `bool`"""
    cdef readonly str resync_reason
    """Why a resync is needed, or ``None``.\n\n:returns: `str` or ``None``"""

    cdef BookLevel* _bids    # Descending by price, best first
    cdef BookLevel* _asks    # Ascending by price, best first
    cdef Py_ssize_t _nbids
    cdef Py_ssize_t _nasks
    cdef Py_ssize_t _cap_bids
    cdef Py_ssize_t _cap_asks
    cdef bint _has_quote
    cdef PriceRaw _q_bid
    cdef PriceRaw _q_ask
    cdef QuantityRaw _q_bid_size
    cdef QuantityRaw _q_ask_size
    cdef PriceRaw _price_limit    # Largest raw price Nautilus can represent and format
    cdef QuantityRaw _size_limit  # Largest raw size Nautilus can represent and format
    cdef QuantityRaw* _old_sizes  # Raw size each pending level replaced, for the current frame
    cdef Py_ssize_t _cap_old
    # The deltas of the current frame, copied into one OrderBookDeltas at its end
    cdef OrderBookDelta_t* _out
    cdef Py_ssize_t _nout
    cdef Py_ssize_t _cap_out
    # The book last published in deltas: the raw book from the cut levels outwards, the cut
    # level itself with the (possibly netted) size; `_pub_raw` when it equals the raw book
    cdef bint _pub_raw
    cdef bint _pub_bid_on
    cdef PriceRaw _pub_bid_price
    cdef QuantityRaw _pub_bid_size
    cdef bint _pub_ask_on
    cdef PriceRaw _pub_ask_price
    cdef QuantityRaw _pub_ask_size

    cdef int _grow(self, uint8_t side, Py_ssize_t capacity) except -1
    cdef void clear_c(self) noexcept
    cdef int set_level_c(
        self, uint8_t side, PriceRaw price, QuantityRaw size, uint64_t stamp,
        QuantityRaw* old_size,
    ) except -1
    cdef QuantityRaw size_at_c(self, uint8_t side, PriceRaw price) noexcept
    cdef int check_message_id_c(self, uint64_t message_id) except -1
    cdef object apply_c(
        self, const PendingLevel* levels, Py_ssize_t count, bint snapshot,
        uint64_t message_id, uint64_t ts_event, uint64_t ts_init,
    )
    cdef OrderBookDeltas _deltas_from_objects(self)
    cdef int push_c(
        self, BookAction action, OrderSide side, PriceRaw price, QuantityRaw size,
        uint8_t flags, uint64_t message_id, uint64_t ts_event, uint64_t ts_init,
    ) except -1
    cdef int publish_snapshot_c(
        self, Py_ssize_t bid_index, QuantityRaw bid_size, Py_ssize_t ask_index,
        QuantityRaw ask_size, uint64_t message_id, uint64_t ts_event, uint64_t ts_init,
    ) except -1
    cdef int publish_raw_c(
        self, const PendingLevel* levels, Py_ssize_t count,
        uint64_t message_id, uint64_t ts_event, uint64_t ts_init,
    ) except -1
    cdef int publish_diff_c(
        self, const PendingLevel* levels, Py_ssize_t count,
        bint old_bid_on, PriceRaw old_bid_price, QuantityRaw old_bid_size,
        bint old_ask_on, PriceRaw old_ask_price, QuantityRaw old_ask_size,
        Py_ssize_t bid_index, QuantityRaw bid_size, Py_ssize_t ask_index, QuantityRaw ask_size,
        uint64_t message_id, uint64_t ts_event, uint64_t ts_init,
    ) except -1
    cdef void remember_published_c(
        self, Py_ssize_t bid_index, QuantityRaw bid_size, Py_ssize_t ask_index,
        QuantityRaw ask_size,
    ) noexcept
    cdef void track_cross_c(self, uint64_t ts_now) noexcept
    cdef bint top_c(
        self, PriceRaw* bid, QuantityRaw* bid_size, PriceRaw* ask, QuantityRaw* ask_size,
        Py_ssize_t* bid_index, Py_ssize_t* ask_index,
    ) noexcept
    cdef QuoteTick quote_if_changed_c(self, uint64_t ts_event, uint64_t ts_init)


cdef QuoteTick make_quote_c(
    InstrumentId instrument_id, PriceRaw bid, PriceRaw ask, uint8_t price_prec,
    QuantityRaw bid_size, QuantityRaw ask_size, uint8_t size_prec,
    uint64_t ts_event, uint64_t ts_init,
)
