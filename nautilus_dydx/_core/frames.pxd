# SPDX-License-Identifier: Apache-2.0
"""dYdX v4 Indexer WebSocket frames -> Nautilus data objects and typed account records."""

from libc.stdint cimport uint8_t
from libc.stdint cimport uint64_t

from nautilus_trader.core.rust.model cimport PriceRaw
from nautilus_trader.model.identifiers cimport InstrumentId

from picows.picows cimport WSFrame
from picows.picows cimport WSListener
from picows.picows cimport WSTransport

from nautilus_dydx._core.book cimport L2Book
from nautilus_dydx._core.book cimport PendingLevel


cdef struct TradeScan:
    Py_ssize_t id_start      # Trade id span in the frame
    Py_ssize_t id_len
    PriceRaw price
    PriceRaw size
    uint8_t aggressor
    uint64_t ts_event


cdef class IdRing:
    cdef uint64_t* _ring
    cdef uint64_t* _table
    cdef Py_ssize_t _mask
    cdef Py_ssize_t _pos
    cdef Py_ssize_t _count
    cdef Py_ssize_t _capacity

    cdef uint64_t _key(self, str item) except? 0
    cdef Py_ssize_t _find(self, uint64_t key) noexcept
    cdef void _insert(self, uint64_t key) noexcept
    cdef void _remove(self, uint64_t key) noexcept
    cdef bint add_c(self, str item) except -1


cdef class MarketContext:
    cdef readonly str ticker
    """The venue ticker, e.g. ``"BTC-USD"``.\n\n:returns: `str`"""
    cdef readonly InstrumentId instrument_id
    """The Nautilus instrument ID.\n\n:returns: `InstrumentId`"""
    cdef readonly uint8_t price_precision
    """The price precision (from the market tick size).\n\n:returns: `int`"""
    cdef readonly uint8_t size_precision
    """The size precision (from the market step size).\n\n:returns: `int`"""
    cdef readonly L2Book book
    """The order book of the market.\n\n:returns: `L2Book`"""
    cdef readonly uint64_t duplicate_trades
    """How many trades were dropped as duplicates by id.\n\n:returns: `int`"""
    cdef public bint publish_deltas
    """Whether book deltas are returned (the book is maintained either way).\n\n:returns: `bool`"""
    cdef public bint publish_quotes
    """Whether quotes are returned (when the parser emits quotes).\n\n:returns: `bool`"""
    cdef public bint publish_trades
    """Whether live trades are returned (ids are remembered either way).\n\n:returns: `bool`"""
    cdef PriceRaw _unit_p    # Raw value of one price tick at price_precision
    cdef PriceRaw _unit_s
    cdef PriceRaw _limit_p   # Largest price raw Nautilus can format at price_precision
    cdef PriceRaw _limit_s
    cdef IdRing _trade_ids   # The newest trade ids of this market
    cdef dict _bar_types     # Resolution -> (BarType, duration in ns)
    cdef bint _resync_reported
    cdef uint64_t _history_ts  # Newest trade time of the latest trades snapshot
    cdef dict _candles       # Resolution -> [forming candle tuple or None, last closed start]


cdef class FrameParser:
    cdef dict _contexts
    cdef list _context_slots  # (ticker bytes, MarketContext) or None; see _context_at
    cdef set _known_tickers
    cdef IdRing _fill_ids
    cdef PendingLevel* _pending
    cdef Py_ssize_t _cap
    cdef TradeScan* _tscan
    cdef Py_ssize_t _tcap
    cdef readonly dict unknown_enums
    """Counts of unknown enum values by (field, value); (field, None) counts the values beyond
    `MAX_UNKNOWN_VALUES` distinct ones of a field.\n\n:returns: `dict`"""
    cdef dict _unknown_values   # Field -> distinct unknown values kept
    cdef readonly dict skipped
    """Counts of items skipped (the rest of their frame kept), by reason.\n\n:returns: `dict`"""
    cdef readonly dict adapted
    """Counts of items adapted (e.g. an off-grid price rounded), by reason.\n\n:returns: `dict`"""
    cdef list _new_reasons
    cdef readonly uint64_t frames
    """How many frames were parsed.\n\n:returns: `int`"""
    cdef readonly uint64_t errors
    """How many frames raised `FrameError`.\n\n:returns: `int`"""
    cdef readonly uint64_t scanned_frames
    """How many frames the in-place scanner handled.\n\n:returns: `int`"""
    cdef readonly bint emit_quotes
    """If book frames also return a `QuoteTick` when the top of book changes.\n\n:returns: `bool`"""
    cdef readonly bint scanner
    """If hot frames are parsed in place instead of by orjson.\n\n:returns: `bool`"""
    # The envelope's message_id of the last frame, if the in-place scanner parsed it
    cdef bint scanned_id
    cdef uint64_t scanned_message_id

    cdef list parse_c(self, const char* ptr, Py_ssize_t size, uint64_t ts_init)
    cdef list dispatch_c(self, object msg, uint64_t ts_init)
    cdef int _reserve(self, Py_ssize_t n) except -1
    cdef int _reserve_trades(self, Py_ssize_t n) except -1
    cdef object _scan_c(self, const char* p, Py_ssize_t n, uint64_t ts_init)
    cdef object _context_at(self, const char* ticker, Py_ssize_t length)
    cdef int _skip(self, str what, object e) except -1
    cdef int _adapt(self, str reason) except -1
    cdef int _unknown(self, str field, object value) except -1
    cdef Py_ssize_t _scan_contents(
        self, const char* p, Py_ssize_t i, Py_ssize_t n, int channel, MarketContext ctx,
        bint snapshot, bint batched, Py_ssize_t* k, Py_ssize_t* count,
    ) except -2
    cdef Py_ssize_t _scan_item(
        self, const char* p, Py_ssize_t i, Py_ssize_t n, int channel, MarketContext ctx,
        bint snapshot, Py_ssize_t* k, Py_ssize_t* count,
    ) except -2
    cdef list _trades_finish(
        self, const char* p, MarketContext ctx, Py_ssize_t count, uint64_t ts_init,
    )
    cdef list _book_finish(
        self, MarketContext ctx, str channel, Py_ssize_t k, bint snapshot, uint64_t message_id,
        uint64_t ts_init, bint damaged=*,
    )
    cdef object _message_id(self, dict m, str channel)
    cdef object _connected(self, dict m)
    cdef object _error(self, dict m, str channel)
    cdef object _control(self, object cls, dict m, str channel)
    cdef MarketContext _ctx(self, dict m, str channel)
    cdef list _on_subscribed(self, dict m, str channel, uint64_t ts_init)
    cdef list _on_data(
        self, dict m, str channel, object contents, bint batched, uint64_t ts_init,
    )
    cdef Py_ssize_t _collect_side(
        self, MarketContext ctx, object levels, uint8_t side, bint snapshot, Py_ssize_t k,
        str channel, bint* damaged,
    ) except -1
    cdef list _book(
        self, MarketContext ctx, str channel, object contents, bint batched, bint snapshot,
        object message_id, uint64_t ts_init,
    )
    cdef tuple _trade_item(self, MarketContext ctx, str channel, object obj)
    cdef list _trades(
        self, MarketContext ctx, str channel, object contents, bint batched, bint snapshot,
        uint64_t ts_init,
    )
    cdef PriceRaw _candle_price(
        self, MarketContext ctx, str channel, dict c, str key,
    ) except? -1
    cdef tuple _candle_item(self, str channel, object item, str ticker, str resolution)
    cdef list _candles(
        self, dict m, str channel, list items, bint snapshot, uint64_t ts_init,
    )
    cdef list _market_entry(
        self, str channel, str ticker, object obj, bint snapshot, uint64_t ts_init,
    )
    cdef list _oracle(
        self, MarketContext ctx, str channel, object price, uint64_t ts_event, uint64_t ts_init,
    )
    cdef list _markets_snapshot(self, str channel, object contents, uint64_t ts_init)
    cdef list _markets_update(self, str channel, object contents, uint64_t ts_init)
    cdef object _block_height(self, str channel, object contents, str key, bint required)
    cdef object _record(
        self, int kind, object obj, str channel, object number, str address,
    )
    cdef list _subaccount(self, str channel, dict sub, object number)
    cdef list _subaccount_snapshot(self, str channel, object contents)
    cdef list _subaccount_update(self, str channel, object contents, object number)


cdef class DYDXWsListener(WSListener):
    cdef readonly FrameParser parser
    """The parser that turns frames into objects.\n\n:returns: `FrameParser`"""
    cdef object _handler     # Python callable receiving the list of objects of one frame
    cdef object _on_error    # Python callable receiving a FrameError, or None
    cdef object _on_reason   # Python callable receiving new skip/adapt reasons, or None
    cdef bytearray _partial  # Fragments of a message not finished yet
