# SPDX-License-Identifier: Apache-2.0
"""dYdX v4 Indexer WebSocket frames -> Nautilus data objects and typed account records."""

# How each object is built (one way each):
# - Hot frames (book, trades; channel_data and channel_batch_data) are scanned in place from the
#   frame bytes into C values; every other frame is orjson.loads + the typed walk below. Both give
#   equal objects (tests run both and the pure-Python twin in tests/reference/frames.py).
# - OrderBookDelta(s): structs in L2Book.push_c, one OrderBookDeltas per frame (book.pyx).
# - QuoteTick: book.make_quote_c; TradeTick: _trade_tick; Bar: _make_bar; Mark/IndexPriceUpdate:
#   _oracle. Each is __new__ plus filling _mem: from_raw_c of these types passes bare 128-bit raws
#   on the stack, where this compiler and the one that built the Nautilus wheel disagree on
#   alignment (Rust panics); filling _mem also skips the TradeId object of a trade.
# - InstrumentStatus, FundingRateUpdate (cold): their Python constructors.
# - Records (control, account, market, history): msgspec structs of nautilus_dydx.schemas.records,
#   called with positional fields; subaccount records are parsed by their field tables there.

from decimal import Decimal

import cython
import orjson

from cpython.bytes cimport PyBytes_AS_STRING
from cpython.bytes cimport PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Malloc
from cpython.mem cimport PyMem_Free
from cpython.mem cimport PyMem_Realloc
from cpython.memoryview cimport PyMemoryView_FromMemory
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New
from cpython.tuple cimport PyTuple_SET_ITEM
from cpython.buffer cimport PyBUF_READ
from cpython.unicode cimport PyUnicode_AsUTF8AndSize
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.stdint cimport int64_t
from libc.stdint cimport uint8_t
from libc.stdint cimport uint64_t
from libc.string cimport memcmp
from libc.string cimport memcpy
from libc.string cimport memset
from libc.string cimport strlen
from posix.time cimport CLOCK_REALTIME
from posix.time cimport clock_gettime
from posix.time cimport timespec

from nautilus_trader.core.rust.model cimport FIXED_PRECISION
from nautilus_trader.core.rust.model cimport AggressorSide
from nautilus_trader.core.rust.model cimport MarketStatusAction
from nautilus_trader.core.rust.model cimport PriceRaw
from nautilus_trader.core.rust.model cimport QuantityRaw
from nautilus_trader.model.data cimport Bar
from nautilus_trader.model.data cimport BarType
from nautilus_trader.model.data cimport FundingRateUpdate
from nautilus_trader.model.data cimport IndexPriceUpdate
from nautilus_trader.model.data cimport InstrumentStatus
from nautilus_trader.model.data cimport MarkPriceUpdate
from nautilus_trader.model.data cimport TradeTick
from nautilus_trader.model.identifiers cimport InstrumentId

from picows.picows cimport WSFrame
from picows.picows cimport WSListener
from picows.picows cimport WSMsgType
from picows.picows cimport WSTransport

from nautilus_dydx._core.book cimport L2Book
from nautilus_dydx._core.book cimport PendingLevel
from nautilus_dydx._core.decimal cimport DEC_OK
from nautilus_dydx._core.decimal cimport PRICE_RAW_LIMIT
from nautilus_dydx._core.decimal cimport DEC_OVERFLOW
from nautilus_dydx._core.decimal cimport parse_decimal_c
from nautilus_dydx._core.decimal cimport parse_decimal_round_c


class FrameError(ValueError):
    """
    A malformed Indexer frame: bad JSON, wrong types, bad numbers or missing required keys.

    Parameters
    ----------
    channel : str or None
        The channel of the frame, if it could be read.
    message : str
        What is wrong with the frame.
    reason : str, optional
        A short fixed text naming the problem (no values), used to count skipped items.

    """

    def __init__(self, channel, str message, str reason=None) -> None:
        self.channel = channel
        self.reason = reason
        super().__init__(f"{channel or 'frame'}: {message}")


# Records and protocol constants are defined once in nautilus_dydx.schemas.records (shared with
# the twin) and re-exported here, where consumers import them
from nautilus_dydx.schemas.records import *  # noqa: F403

# C-level copies of the constants the walk reads per frame or per item
cdef str _CH_BOOK = ORDERBOOK_CHANNEL
cdef str _CH_TRADES = TRADES_CHANNEL
cdef str _CH_CANDLES = CANDLES_CHANNEL
cdef str _CH_MARKETS = MARKETS_CHANNEL
cdef str _CH_SUBACCOUNTS = SUBACCOUNTS_CHANNEL
cdef str _CH_PARENT_SUBACCOUNTS = PARENT_SUBACCOUNTS_CHANNEL
cdef str _CH_BLOCK_HEIGHT = BLOCK_HEIGHT_CHANNEL
cdef frozenset _SIDE = SIDE
cdef frozenset _TRADE_TYPE = TRADE_TYPE
cdef frozenset _MARKET_STATUS = MARKET_STATUS
cdef frozenset _OFF_GRID_TRADE_TYPES = OFF_GRID_TRADE_TYPES
cdef dict _STATUS_ACTIONS = STATUS_ACTIONS
cdef tuple _MARKET_DECIMALS = MARKET_DECIMALS
cdef tuple _MARKET_INTEGERS = MARKET_INTEGERS
cdef Py_ssize_t _MAX_SEEN_IDS = MAX_SEEN_IDS
cdef Py_ssize_t _MAX_UNKNOWN_VALUES = MAX_UNKNOWN_VALUES
# The scanner matches channel names in the frame bytes
cdef bytes _CH_BOOK_B = ORDERBOOK_CHANNEL.encode()
cdef bytes _CH_TRADES_B = TRADES_CHANNEL.encode()

cdef PriceRaw[17] _POW10
_POW10[0] = 1
for _i in range(1, 17):
    _POW10[_i] = _POW10[_i - 1] * 10
# Nautilus formats values (repr, str, logs) through a 96-bit decimal mantissa at their
# precision and panics beyond it: at precision 16 that is below PRICE_RAW_LIMIT
cdef PriceRaw _MANTISSA_MAX = ((<PriceRaw>1) << 96) - 1


cdef PriceRaw _raw_limit(PriceRaw unit):
    # Largest raw of a value on a grid of `unit` that is in range and can be formatted
    if unit > 0 and PRICE_RAW_LIMIT // unit > _MANTISSA_MAX:
        return _MANTISSA_MAX * unit
    return PRICE_RAW_LIMIT


cdef inline uint64_t _now_ns() noexcept:
    cdef timespec ts
    clock_gettime(CLOCK_REALTIME, &ts)
    return <uint64_t>ts.tv_sec * 1_000_000_000 + <uint64_t>ts.tv_nsec


# -- ISO-8601 timestamps ------------------------------------------------------------------------

cdef inline int _digits(const char* p, int n) noexcept nogil:
    cdef int v = 0
    cdef int i
    for i in range(n):
        if p[i] < 48 or p[i] > 57:
            return -1
        v = v * 10 + (p[i] - 48)
    return v


cdef int64_t _days_from_civil(int64_t y, int64_t m, int64_t d) noexcept nogil:
    # Howard Hinnant's days_from_civil (public-domain algorithm), days since 1970-01-01
    y -= m <= 2
    cdef int64_t era = (y if y >= 0 else y - 399) // 400
    cdef int64_t yoe = y - era * 400
    cdef int64_t doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    cdef int64_t doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


cdef inline int _days_in_month(int y, int m) noexcept nogil:
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if (m == 4 or m == 6 or m == 9 or m == 11) else 31


@cython.boundscheck(False)
@cython.wraparound(False)
cdef int64_t iso_to_ns_c(const char* p, Py_ssize_t n) noexcept nogil:
    # "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" -> UNIX ns, or -1
    cdef int y, mo, d, h, mi, s
    cdef int64_t frac = 0
    cdef int fd = 0
    cdef Py_ssize_t i = 19
    if n < 20 or p[4] != 45 or p[7] != 45 or p[10] != 84 or p[13] != 58 or p[16] != 58:
        return -1
    y = _digits(p, 4)
    mo = _digits(p + 5, 2)
    d = _digits(p + 8, 2)
    h = _digits(p + 11, 2)
    mi = _digits(p + 14, 2)
    s = _digits(p + 17, 2)
    # Years after 2261 overflow int64 nanoseconds
    if y < 1970 or y > 2261 or mo < 1 or mo > 12 or d < 1 or d > 31:
        return -1
    if h < 0 or h > 23 or mi < 0 or mi > 59:
        return -1
    if s < 0 or s > 60 or d > _days_in_month(y, mo):
        return -1
    if p[i] == 46:  # '.'
        i += 1
        while i < n and 48 <= p[i] <= 57:
            if fd < 9:
                frac = frac * 10 + (p[i] - 48)
                fd += 1
            i += 1
        if fd == 0:
            return -1
    if i != n - 1 or p[i] != 90:  # 'Z'
        return -1
    while fd < 9:
        frac *= 10
        fd += 1
    return (
        (_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1_000_000_000 + frac
    )


cdef uint64_t _iso_ns(str text, str channel) except? 0:
    cdef Py_ssize_t n = 0
    cdef const char* p = PyUnicode_AsUTF8AndSize(text, &n)
    cdef int64_t v = iso_to_ns_c(p, n)
    if v < 0:
        raise FrameError(channel, f"invalid ISO-8601 timestamp, was {text!r}", "invalid timestamp")
    return <uint64_t>v


def iso_to_ns(str text) -> int:
    """
    Return UNIX nanoseconds for an Indexer ISO-8601 UTC timestamp.

    Parameters
    ----------
    text : str
        A timestamp such as ``"2025-12-08T16:11:59.450Z"``.

    Returns
    -------
    int

    Raises
    ------
    FrameError
        If the text is not such a timestamp.

    """
    return _iso_ns(text, None)


def precision_from_increment(str text) -> int:
    """
    Return the decimal precision of a tick or step size such as ``"0.0001"``.

    Parameters
    ----------
    text : str
        A positive decimal increment; trailing zeros after the point are ignored.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the text is not a positive plain decimal.

    """
    cdef Py_ssize_t n = 0
    cdef const char* p = PyUnicode_AsUTF8AndSize(text, &n)
    cdef PriceRaw raw = 0
    cdef uint8_t prec = 0
    if parse_decimal_c(p, n, &raw, &prec) != DEC_OK or raw <= 0:
        raise ValueError(f"invalid increment, was {text!r}")
    while prec > 0 and raw % _POW10[FIXED_PRECISION - prec + 1] == 0:
        prec -= 1
    return prec


# -- Field helpers (Python objects from orjson) -------------------------------------------------

cdef inline dict _as_dict(object obj, str channel, str what):
    if type(obj) is not dict:
        raise FrameError(
            channel, f"{what} must be an object, was {type(obj).__name__}",
            f"{what} not an object",
        )
    return <dict>obj


cdef inline list _as_list(object obj, str channel, str what):
    if type(obj) is not list:
        raise FrameError(
            channel, f"{what} must be an array, was {type(obj).__name__}", f"{what} not an array",
        )
    return <list>obj


cdef inline object _missing(str key, str channel):
    return FrameError(channel, f"missing required key {key!r}", f"missing {key!r}")


cdef str _str(dict d, str key, str channel, bint required):
    cdef object v = d.get(key)
    if v is None:
        if required:
            raise _missing(key, channel)
        return None
    if type(v) is str:
        return <str>v
    if type(v) is int:
        return str(v)
    raise FrameError(
        channel, f"{key!r} must be a string, was {type(v).__name__}", f"invalid {key!r}",
    )


cdef inline bint _is_decimal(str s):
    # Any ASCII decimal: any number of places, sign, exponent (range not checked)
    cdef Py_ssize_t n = 0
    cdef const char* p = PyUnicode_AsUTF8AndSize(s, &n)
    cdef PriceRaw raw = 0
    cdef uint8_t prec = 0
    cdef int code = parse_decimal_round_c(p, n, 0, &raw, &prec)
    return code == DEC_OK or code == DEC_OVERFLOW


cdef str _dec(dict d, str key, str channel, bint required):
    # A decimal kept as the venue text: any valid decimal, however many places
    cdef str s = _str(d, key, channel, required)
    if s is not None and not _is_decimal(s):
        raise FrameError(channel, f"{key!r} is not a decimal, was {s!r}", f"invalid {key!r}")
    return s


cdef object _height(dict d, str key, str channel, bint required):
    cdef object v = d.get(key)
    if v is None:
        if required:
            raise _missing(key, channel)
        return None
    if type(v) is int:
        if v < 0:
            raise FrameError(
                channel, f"{key!r} must not be negative, was {v!r}", f"invalid {key!r}",
            )
        return v
    if type(v) is str and 0 < len(<str>v) <= 20 and (<str>v).isascii() and (<str>v).isdigit():
        return int(v)
    raise FrameError(channel, f"{key!r} must be a block height, was {v!r}", f"invalid {key!r}")


cdef object _int(dict d, str key, str channel, bint required):
    cdef object v = d.get(key)
    if v is None:
        if required:
            raise _missing(key, channel)
        return None
    if type(v) is int:
        return v
    if type(v) is str and 0 < len(<str>v) <= 20 and (<str>v).isascii() and (
        (<str>v).isdigit() or ((<str>v)[0] == "-" and (<str>v)[1:].isdigit())
    ):
        return int(v)
    raise FrameError(channel, f"{key!r} must be an integer, was {v!r}", f"invalid {key!r}")


cdef object _bool(dict d, str key, str channel, bint required):
    cdef object v = d.get(key)
    if v is None:
        if required:
            raise _missing(key, channel)
        return None
    if v is True or v is False:
        return v
    raise FrameError(channel, f"{key!r} must be a boolean, was {v!r}", f"invalid {key!r}")


cdef str _enum(FrameParser parser, dict d, str key, frozenset known, str channel, bint required):
    cdef str s = _str(d, key, channel, required)
    if s is not None and s not in known:
        parser._unknown(key, s)
    return s


cdef int _parse_number(
    object text, str channel, str what, PriceRaw unit, bint allow_zero,
    PriceRaw* raw_out, uint8_t* prec_out, uint8_t target=FIXED_PRECISION,
) except -1:
    # Decimal string -> raw at FIXED_PRECISION, rounded half-even to `target` decimals;
    # unit > 1 requires a multiple of it (reason "off grid")
    cdef Py_ssize_t n = 0
    cdef const char* p
    cdef int code
    cdef PriceRaw scale
    if type(text) is not str:
        if text is None:
            raise FrameError(channel, f"{what} is missing", f"{what} missing")
        raise FrameError(
            channel, f"{what} must be a decimal string, was {text!r}", f"{what} not a string",
        )
    p = PyUnicode_AsUTF8AndSize(text, &n)
    code = parse_decimal_round_c(p, n, target, raw_out, prec_out)
    if code == DEC_OVERFLOW or (
        code == DEC_OK and (raw_out[0] > PRICE_RAW_LIMIT or raw_out[0] < -PRICE_RAW_LIMIT)
    ):
        raise FrameError(channel, f"{what} is out of range, was {text!r}", f"{what} out of range")
    if code != DEC_OK:
        raise FrameError(
            channel, f"{what} is not a decimal, was {text!r}", f"{what} not a decimal",
        )
    if raw_out[0] < 0 or (raw_out[0] == 0 and not allow_zero):
        raise FrameError(channel, f"{what} must be positive, was {text!r}", f"{what} not positive")
    if unit > 1 and raw_out[0] % unit != 0:
        raise FrameError(
            channel, f"{what} is finer than the instrument precision, was {text!r}",
            f"{what} off grid",
        )
    # The value's precision: the grid's, else the rounding target's, else its own decimals
    if unit > 0:
        scale = unit
    elif target < FIXED_PRECISION:
        scale = _POW10[FIXED_PRECISION - target]
    else:
        scale = _POW10[FIXED_PRECISION - prec_out[0]]
    if raw_out[0] // scale > _MANTISSA_MAX:
        raise FrameError(
            channel, f"{what} has too many digits at its precision, was {text!r}",
            f"{what} out of range",
        )
    return 0


cdef inline bint _valid_trade_id(const char* p, Py_ssize_t n) noexcept nogil:
    # 1..36 printable ASCII bytes (Nautilus aborts on non-ASCII trade ids)
    cdef Py_ssize_t i
    if n < 1 or n > 36:
        return False
    for i in range(n):
        if p[i] < 32 or p[i] > 126:
            return False
    return True


cdef TradeTick _trade_tick(
    MarketContext ctx, PriceRaw price, PriceRaw size, uint8_t aggressor, const char* trade_id,
    Py_ssize_t id_len, uint64_t ts_event, uint64_t ts_init,
):
    # Fill the struct directly: one allocation, no TradeId object (id validated by the caller)
    cdef TradeTick tick = TradeTick.__new__(TradeTick)
    tick._mem.instrument_id = ctx.instrument_id._mem
    tick._mem.price.raw = price
    tick._mem.price.precision = ctx.price_precision
    tick._mem.size.raw = <QuantityRaw>size
    tick._mem.size.precision = ctx.size_precision
    tick._mem.aggressor_side = <AggressorSide>aggressor
    memset(tick._mem.trade_id.value, 0, sizeof(tick._mem.trade_id.value))
    memcpy(tick._mem.trade_id.value, trade_id, id_len)
    tick._mem.ts_event = ts_event
    tick._mem.ts_init = ts_init
    return tick


cdef class IdRing:
    """
    The newest `capacity` ids seen, in memory fixed at construction.

    Ids are kept as their 64-bit string hashes (in this process) in an insertion-order ring and
    an open-addressing table, so memory does not grow as ids arrive: 24 bytes per id of
    capacity, against about 140 for the strings themselves in a set. Two distinct ids share a
    hash with probability about 2^-64 per pair.

    Parameters
    ----------
    capacity : int, default MAX_SEEN_IDS
        How many ids are remembered; adding one more forgets the oldest.

    """

    def __cinit__(self, Py_ssize_t capacity=MAX_SEEN_IDS) -> None:
        cdef Py_ssize_t size = 1
        if capacity < 1:
            raise ValueError(f"invalid capacity, was {capacity}")
        while size < 2 * capacity:  # Load factor at most one half
            size <<= 1
        self._ring = <uint64_t*>PyMem_Malloc(capacity * sizeof(uint64_t))
        self._table = <uint64_t*>PyMem_Malloc(size * sizeof(uint64_t))
        if self._ring == NULL or self._table == NULL:
            raise MemoryError()
        # Zeroed by hand, not calloc: a calloc'd ring is mapped lazily and its pages would turn
        # resident one by one as ids arrive (RSS growth for hours), not all at once here
        memset(self._ring, 0, capacity * sizeof(uint64_t))
        memset(self._table, 0, size * sizeof(uint64_t))
        self._mask = size - 1
        self._pos = 0
        self._count = 0
        self._capacity = capacity

    def __dealloc__(self) -> None:
        PyMem_Free(self._ring)
        PyMem_Free(self._table)

    cdef uint64_t _key(self, str item) except? 0:
        cdef uint64_t key = <uint64_t>hash(item)
        return key if key != 0 else 1  # 0 marks an empty slot

    cdef Py_ssize_t _find(self, uint64_t key) noexcept:
        # The slot holding `key`, or -1 (linear probing)
        cdef Py_ssize_t i = <Py_ssize_t>(key & <uint64_t>self._mask)
        while self._table[i] != 0:
            if self._table[i] == key:
                return i
            i = (i + 1) & self._mask
        return -1

    cdef void _insert(self, uint64_t key) noexcept:
        cdef Py_ssize_t i = <Py_ssize_t>(key & <uint64_t>self._mask)
        while self._table[i] != 0:
            i = (i + 1) & self._mask
        self._table[i] = key
        self._count += 1

    cdef void _remove(self, uint64_t key) noexcept:
        # Backward-shift deletion: no tombstones, so probes stay short
        cdef Py_ssize_t hole = self._find(key)
        cdef Py_ssize_t j, home
        if hole < 0:
            return
        j = hole
        while True:
            j = (j + 1) & self._mask
            if self._table[j] == 0:
                break
            home = <Py_ssize_t>(self._table[j] & <uint64_t>self._mask)
            # The entry at j stays when its home lies cyclically in (hole, j]
            if hole <= j:
                if hole < home <= j:
                    continue
            elif hole < home or home <= j:
                continue
            self._table[hole] = self._table[j]
            hole = j
        self._table[hole] = 0
        self._count -= 1

    cdef bint add_c(self, str item) except -1:
        # True if `item` is new (and remembers it), False if seen
        cdef uint64_t key = self._key(item)
        cdef uint64_t old
        if self._find(key) >= 0:
            return False
        old = self._ring[self._pos]
        if old != 0:
            self._remove(old)
        self._ring[self._pos] = key
        self._insert(key)
        self._pos += 1
        if self._pos == self._capacity:
            self._pos = 0
        return True

    def add(self, str item not None) -> bool:
        """
        Remember `item` and return True if it is new, else return False.

        Parameters
        ----------
        item : str
            The id.

        Returns
        -------
        bool

        """
        return self.add_c(item)

    def __contains__(self, item) -> bool:
        if not isinstance(item, str):
            return False
        return self._find(self._key(item)) >= 0

    def __len__(self) -> int:
        return self._count


cdef Bar _make_bar(MarketContext ctx, str resolution, tuple candle, uint64_t ts_init):
    # candle = (start, open, high, low, close, volume) raws; ts_event at the close
    cdef BarType bar_type
    cdef uint64_t duration
    cdef Bar bar = Bar.__new__(Bar)
    bar_type, duration = ctx._bar_types[resolution]
    # Bar.from_raw_c passes 128-bit raws on the stack (ABI mismatch, see book.make_quote_c)
    bar._mem.bar_type = bar_type._mem
    bar._mem.open.raw = <PriceRaw>candle[1]
    bar._mem.open.precision = ctx.price_precision
    bar._mem.high.raw = <PriceRaw>candle[2]
    bar._mem.high.precision = ctx.price_precision
    bar._mem.low.raw = <PriceRaw>candle[3]
    bar._mem.low.precision = ctx.price_precision
    bar._mem.close.raw = <PriceRaw>candle[4]
    bar._mem.close.precision = ctx.price_precision
    bar._mem.volume.raw = <QuantityRaw>candle[5]
    bar._mem.volume.precision = ctx.size_precision
    bar._mem.ts_event = <uint64_t>candle[0] + duration
    bar._mem.ts_init = ts_init
    bar.is_revision = False
    return bar


# -- In-place scanner for the hot frames (book and trade channel_data and channel_batch_data) ----
#
# Parses the frame bytes directly into C values. It validates the JSON it reads (strict grammar,
# ASCII strings) and returns "not handled" on anything unusual, so the orjson path reports the
# error or handles the rare shape; both paths give the same objects.

cdef enum:
    SCAN_MAX_DEPTH = 32
    _CONTEXT_SLOTS = 64  # A power of two


cdef inline Py_ssize_t _ws(const char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    while i < n and (p[i] == 32 or p[i] == 10 or p[i] == 13 or p[i] == 9):
        i += 1
    return i


cdef inline int _hex(char c) noexcept nogil:
    return (48 <= c <= 57) or (65 <= c <= 70) or (97 <= c <= 102)


cdef extern from *:
    """
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
    #define DYDX_SWAR 1
    #define DYDX_CTZ64(x) __builtin_ctzll(x)
    #else
    #define DYDX_SWAR 0
    #define DYDX_CTZ64(x) 0
    #endif
    """
    const bint DYDX_SWAR
    int DYDX_CTZ64(uint64_t x) nogil


cdef inline uint64_t _special8(uint64_t x) noexcept nogil:
    # The high bit of each byte of `x` that is '"', '\\', a control character or non-ASCII. Only
    # the lowest flagged byte is exact (a borrow can flag bytes above it), and only it is used
    cdef uint64_t ones = 0x0101010101010101
    cdef uint64_t quote = x ^ (ones * 34)
    cdef uint64_t backslash = x ^ (ones * 92)
    return (
        ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | ((x - ones * 32) & ~x) | x
    ) & (ones * 128)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef Py_ssize_t _string_end(
    const char* p, Py_ssize_t i, Py_ssize_t n, bint* escaped,
) noexcept nogil:
    # p[i] is '"': index after the closing quote, or -1 (ASCII only; escapes validated)
    cdef unsigned char c
    cdef uint64_t word = 0
    cdef uint64_t special = 0
    i += 1
    while i < n:
        if DYDX_SWAR and i + 8 <= n:
            # Eight plain bytes at a time; else straight to the first byte that needs a look
            memcpy(&word, p + i, 8)
            special = _special8(word)
            if special == 0:
                i += 8
                continue
            i += DYDX_CTZ64(special) >> 3
        c = <unsigned char>p[i]
        if c == 34:
            return i + 1
        if c == 92:
            escaped[0] = True
            if i + 1 >= n:
                return -1
            c = <unsigned char>p[i + 1]
            if c == 117:  # \uXXXX
                if i + 5 >= n or not (
                    _hex(p[i + 2]) and _hex(p[i + 3]) and _hex(p[i + 4]) and _hex(p[i + 5])
                ):
                    return -1
                if (p[i + 2] == 100 or p[i + 2] == 68) and (
                    56 <= p[i + 3] <= 57 or 97 <= p[i + 3] <= 102 or 65 <= p[i + 3] <= 70
                ):
                    return -1  # \uD800-\uDFFF: orjson decides (it refuses unpaired ones)
                i += 6
                continue
            if not (c == 34 or c == 92 or c == 47 or c == 98 or c == 102 or c == 110
                    or c == 114 or c == 116):
                return -1
            i += 2
            continue
        if c < 32 or c >= 128:
            return -1
        i += 1
    return -1


@cython.boundscheck(False)
@cython.wraparound(False)
cdef Py_ssize_t _number_end(const char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    # JSON number grammar; index after it, or -1
    cdef Py_ssize_t start
    if i < n and p[i] == 45:
        i += 1
    if i >= n:
        return -1
    if p[i] == 48:
        i += 1
    elif 49 <= p[i] <= 57:
        while i < n and 48 <= p[i] <= 57:
            i += 1
    else:
        return -1
    if i < n and p[i] == 46:
        i += 1
        start = i
        while i < n and 48 <= p[i] <= 57:
            i += 1
        if i == start:
            return -1
    if i < n and (p[i] == 101 or p[i] == 69):
        i += 1
        if i < n and (p[i] == 43 or p[i] == 45):
            i += 1
        start = i
        while i < n and 48 <= p[i] <= 57:
            i += 1
        if i == start:
            return -1
    return i


cdef inline bint _literal(const char* p, Py_ssize_t i, Py_ssize_t n, const char* word,
                          Py_ssize_t k) noexcept nogil:
    return i + k <= n and memcmp(p + i, word, k) == 0


@cython.boundscheck(False)
@cython.wraparound(False)
cdef Py_ssize_t _value_end(const char* p, Py_ssize_t i, Py_ssize_t n, int depth) noexcept nogil:
    # Validate and skip any JSON value starting at p[i]; index after it, or -1
    cdef bint escaped = False
    cdef char c
    if i >= n or depth > SCAN_MAX_DEPTH:
        return -1
    c = p[i]
    if c == 34:
        return _string_end(p, i, n, &escaped)
    if c == 123:  # {
        i = _ws(p, i + 1, n)
        if i < n and p[i] == 125:
            return i + 1
        while True:
            if i >= n or p[i] != 34:
                return -1
            i = _string_end(p, i, n, &escaped)
            if i < 0:
                return -1
            i = _ws(p, i, n)
            if i >= n or p[i] != 58:
                return -1
            i = _value_end(p, _ws(p, i + 1, n), n, depth + 1)
            if i < 0:
                return -1
            i = _ws(p, i, n)
            if i < n and p[i] == 44:
                i = _ws(p, i + 1, n)
                continue
            if i < n and p[i] == 125:
                return i + 1
            return -1
    if c == 91:  # [
        i = _ws(p, i + 1, n)
        if i < n and p[i] == 93:
            return i + 1
        while True:
            i = _value_end(p, i, n, depth + 1)
            if i < 0:
                return -1
            i = _ws(p, i, n)
            if i < n and p[i] == 44:
                i = _ws(p, i + 1, n)
                continue
            if i < n and p[i] == 93:
                return i + 1
            return -1
    if c == 116:
        return i + 4 if _literal(p, i, n, b"true", 4) else -1
    if c == 102:
        return i + 5 if _literal(p, i, n, b"false", 5) else -1
    if c == 110:
        return i + 4 if _literal(p, i, n, b"null", 4) else -1
    return _number_end(p, i, n)


cdef inline bint _key_is(const char* p, Py_ssize_t start, Py_ssize_t length,
                         const char* key, Py_ssize_t k) noexcept nogil:
    return length == k and memcmp(p + start, key, k) == 0


@cython.boundscheck(False)
@cython.wraparound(False)
cdef Py_ssize_t _plain_string(
    const char* p, Py_ssize_t i, Py_ssize_t n, Py_ssize_t* start, Py_ssize_t* length,
) noexcept nogil:
    # A string without escapes at p[i]: its content span; index after it, or -1
    cdef bint escaped = False
    cdef Py_ssize_t end
    if i >= n or p[i] != 34:
        return -1
    end = _string_end(p, i, n, &escaped)
    if end < 0 or escaped:
        return -1
    start[0] = i + 1
    length[0] = end - i - 2
    return end


@cython.boundscheck(False)
@cython.wraparound(False)
cdef Py_ssize_t _levels_scan(
    FrameParser parser, const char* p, Py_ssize_t i, Py_ssize_t n, uint8_t side,
    PriceRaw unit_p, PriceRaw unit_s, PriceRaw limit_p, PriceRaw limit_s, bint snapshot,
    Py_ssize_t* k,
) except -2:
    # [["price","size"], ...] or [{"price":..,"size":..}, ...] into the pending buffer
    cdef Py_ssize_t s0 = 0, l0 = 0, s1 = 0, l1 = 0, ks = 0, kl = 0
    cdef PriceRaw price = 0
    cdef PriceRaw size = 0
    cdef uint8_t prec = 0
    cdef int got
    if i >= n or p[i] != 91:
        return -1
    i = _ws(p, i + 1, n)
    if i < n and p[i] == 93:
        return i + 1
    while True:
        if i < n and p[i] == 91:
            i = _plain_string(p, _ws(p, i + 1, n), n, &s0, &l0)
            if i < 0:
                return -1
            i = _ws(p, i, n)
            if i >= n or p[i] != 44:
                return -1
            i = _plain_string(p, _ws(p, i + 1, n), n, &s1, &l1)
            if i < 0:
                return -1
            i = _ws(p, i, n)
            if i >= n or p[i] != 93:
                return -1
        elif i < n and p[i] == 123:
            got = 0
            i = _ws(p, i + 1, n)
            while True:
                i = _plain_string(p, i, n, &ks, &kl)
                if i < 0:
                    return -1
                i = _ws(p, i, n)
                if i >= n or p[i] != 58:
                    return -1
                i = _ws(p, i + 1, n)
                if _key_is(p, ks, kl, b"price", 5):
                    i = _plain_string(p, i, n, &s0, &l0)
                    got |= 1
                elif _key_is(p, ks, kl, b"size", 4):
                    i = _plain_string(p, i, n, &s1, &l1)
                    got |= 2
                else:
                    i = _value_end(p, i, n, 4)
                if i < 0:
                    return -1
                i = _ws(p, i, n)
                if i < n and p[i] == 44:
                    i = _ws(p, i + 1, n)
                    continue
                if i < n and p[i] == 125 and got == 3:
                    break
                return -1
        else:
            return -1
        if parse_decimal_c(p + s0, l0, &price, &prec) != DEC_OK:
            return -1
        if parse_decimal_c(p + s1, l1, &size, &prec) != DEC_OK:
            return -1
        if (
            price <= 0 or price > limit_p or size < 0 or size > limit_s
            or price % unit_p != 0 or size % unit_s != 0
        ):
            return -1
        if not (snapshot and size == 0):
            if k[0] >= parser._cap:
                parser._reserve(k[0] + 1)
            parser._pending[k[0]].price = price
            parser._pending[k[0]].size = <QuantityRaw>size
            parser._pending[k[0]].side = side
            k[0] += 1
        i = _ws(p, i + 1, n)
        if i < n and p[i] == 44:
            i = _ws(p, i + 1, n)
            continue
        if i < n and p[i] == 93:
            return i + 1
        return -1


@cython.boundscheck(False)
@cython.wraparound(False)
cdef Py_ssize_t _book_contents_scan(
    FrameParser parser, const char* p, Py_ssize_t i, Py_ssize_t n, MarketContext ctx,
    bint snapshot, Py_ssize_t* k,
) except -2:
    cdef Py_ssize_t ks = 0, kl = 0
    cdef int sides = 0  # 1 = bids seen, 2 = asks seen: the generic path takes bids first
    if i >= n or p[i] != 123:
        return -1
    i = _ws(p, i + 1, n)
    if i < n and p[i] == 125:
        return i + 1
    while True:
        i = _plain_string(p, i, n, &ks, &kl)
        if i < 0:
            return -1
        i = _ws(p, i, n)
        if i >= n or p[i] != 58:
            return -1
        i = _ws(p, i + 1, n)
        if _key_is(p, ks, kl, b"bids", 4):
            if sides != 0:
                return -1
            sides |= 1
            i = _levels_scan(
                parser, p, i, n, 1, ctx._unit_p, ctx._unit_s, ctx._limit_p, ctx._limit_s,
                snapshot, k,
            )
        elif _key_is(p, ks, kl, b"asks", 4):
            if sides & 2:
                return -1
            sides |= 2
            i = _levels_scan(
                parser, p, i, n, 2, ctx._unit_p, ctx._unit_s, ctx._limit_p, ctx._limit_s,
                snapshot, k,
            )
        else:
            i = _value_end(p, i, n, 2)
        if i < 0:
            return -1
        i = _ws(p, i, n)
        if i < n and p[i] == 44:
            i = _ws(p, i + 1, n)
            continue
        if i < n and p[i] == 125:
            return i + 1
        return -1


# TRADE_TYPE as C strings for the nogil scanner (the tuple keeps the bytes alive)
cdef tuple _TRADE_TYPE_BYTES = tuple(sorted(t.encode() for t in TRADE_TYPE))
cdef Py_ssize_t _N_TRADE_TYPES = len(_TRADE_TYPE_BYTES)
cdef const char* _TRADE_TYPES[16]
if _N_TRADE_TYPES > 16:
    raise ImportError(f"too many trade types, was {_N_TRADE_TYPES}")
for _j in range(_N_TRADE_TYPES):
    _TRADE_TYPES[_j] = <bytes>_TRADE_TYPE_BYTES[_j]


@cython.boundscheck(False)
@cython.wraparound(False)
cdef Py_ssize_t _trade_scan(
    const char* p, Py_ssize_t i, Py_ssize_t n, MarketContext ctx, TradeScan* t,
) noexcept nogil:
    # One trade object; index after it, or -1 for anything the generic path should see
    cdef Py_ssize_t ks = 0, kl = 0, vs = 0, vl = 0
    cdef uint8_t prec = 0
    cdef bint has_id = False, has_side = False, has_price = False, has_size = False
    cdef bint has_ts = False
    cdef int64_t ts
    cdef int j
    cdef bint known
    if i >= n or p[i] != 123:
        return -1
    i = _ws(p, i + 1, n)
    while True:
        i = _plain_string(p, i, n, &ks, &kl)
        if i < 0:
            return -1
        i = _ws(p, i, n)
        if i >= n or p[i] != 58:
            return -1
        i = _ws(p, i + 1, n)
        if _key_is(p, ks, kl, b"id", 2):
            i = _plain_string(p, i, n, &vs, &vl)
            if i < 0 or not _valid_trade_id(p + vs, vl):
                return -1
            t.id_start = vs
            t.id_len = vl
            has_id = True
        elif _key_is(p, ks, kl, b"side", 4):
            i = _plain_string(p, i, n, &vs, &vl)
            if i < 0:
                return -1
            if _key_is(p, vs, vl, b"BUY", 3):
                t.aggressor = AggressorSide.BUYER
            elif _key_is(p, vs, vl, b"SELL", 4):
                t.aggressor = AggressorSide.SELLER
            else:
                return -1
            has_side = True
        elif _key_is(p, ks, kl, b"price", 5):
            i = _plain_string(p, i, n, &vs, &vl)
            if i < 0 or parse_decimal_c(p + vs, vl, &t.price, &prec) != DEC_OK:
                return -1
            if t.price <= 0 or t.price > ctx._limit_p or t.price % ctx._unit_p != 0:
                return -1
            has_price = True
        elif _key_is(p, ks, kl, b"size", 4):
            i = _plain_string(p, i, n, &vs, &vl)
            if i < 0 or parse_decimal_c(p + vs, vl, &t.size, &prec) != DEC_OK:
                return -1
            if t.size <= 0 or t.size > ctx._limit_s or t.size % ctx._unit_s != 0:
                return -1
            has_size = True
        elif _key_is(p, ks, kl, b"createdAt", 9):
            i = _plain_string(p, i, n, &vs, &vl)
            if i < 0:
                return -1
            ts = iso_to_ns_c(p + vs, vl)
            if ts < 0:
                return -1
            t.ts_event = <uint64_t>ts
            has_ts = True
        elif _key_is(p, ks, kl, b"type", 4):
            i = _plain_string(p, i, n, &vs, &vl)
            if i < 0:
                return -1
            known = False
            for j in range(_N_TRADE_TYPES):
                if _key_is(p, vs, vl, _TRADE_TYPES[j], strlen(_TRADE_TYPES[j])):
                    known = True
            if not known:
                return -1
        else:
            i = _value_end(p, i, n, 3)
            if i < 0:
                return -1
        i = _ws(p, i, n)
        if i < n and p[i] == 44:
            i = _ws(p, i + 1, n)
            continue
        if i < n and p[i] == 125:
            if has_id and has_side and has_price and has_size and has_ts:
                return i + 1
            return -1
        return -1


# -- Records parsed by table (nautilus_dydx.schemas.records) ------------------------------------

cdef enum:
    K_STR = 0
    K_DEC = 1
    K_INT = 2
    K_HEIGHT = 3
    K_BOOL = 4
    K_TIME = 5
    K_ENUM = 6
    MAX_RECORD_FIELDS = 48

cdef dict _KINDS = {
    "str": K_STR, "dec": K_DEC, "int": K_INT, "height": K_HEIGHT, "bool": K_BOOL, "time": K_TIME,
}


cdef class _RecordSpec:
    # One field table compiled to C arrays and tuples, indexed by field
    cdef object cls
    cdef str what
    cdef str name
    cdef Py_ssize_t n
    cdef Py_ssize_t size
    cdef tuple keys
    cdef tuple alternates
    cdef tuple parents
    cdef tuple parent_names
    cdef tuple enums
    cdef int kinds[MAX_RECORD_FIELDS]
    cdef bint required[MAX_RECORD_FIELDS]
    cdef bint plain[MAX_RECORD_FIELDS]  # No parent object and no alternate key
    cdef Py_ssize_t number_at
    cdef Py_ssize_t address_at
    cdef Py_ssize_t ts_at


cdef _RecordSpec _compile_spec(object cls):
    cdef _RecordSpec spec = _RecordSpec.__new__(_RecordSpec)
    cdef tuple table
    cdef tuple names = cls.__struct_fields__
    cdef list keys = [], alternates = [], parents = [], parent_names = [], enums = []
    table, spec.what, spec.name = TABLES[cls]
    if len(table) > MAX_RECORD_FIELDS:
        raise ValueError(f"{cls.__name__}: too many fields, was {len(table)}")
    spec.cls = cls
    spec.n = len(table)
    spec.size = len(names)
    spec.number_at = spec.address_at = spec.ts_at = -1
    for i, (attr, key, kind, required) in enumerate(table):
        if names[i] != attr:
            raise ValueError(f"{cls.__name__}: field {i} is {names[i]!r}, table says {attr!r}")
        parent, _, key = key.rpartition(".")
        key, _, alternate = key.partition("|")
        keys.append(key)
        alternates.append(alternate or None)
        parents.append(parent or None)
        if parent and parent not in parent_names:
            parent_names.append(parent)
        enums.append(kind if isinstance(kind, frozenset) else None)
        spec.kinds[i] = K_ENUM if isinstance(kind, frozenset) else _KINDS[kind]
        spec.required[i] = required
        spec.plain[i] = not parent and not alternate
        if attr == "subaccount_number":
            spec.number_at = i
        elif attr == "address":
            spec.address_at = i
    if "ts_event" in names:
        spec.ts_at = names.index("ts_event")
    spec.keys = tuple(keys)
    spec.alternates = tuple(alternates)
    spec.parents = tuple(parents)
    spec.parent_names = tuple(parent_names)
    spec.enums = tuple(enums)
    return spec


# Record kinds of the subaccount messages, in the order _subaccount_update reads them
cdef enum:
    R_PERPETUAL = 0
    R_ASSET = 1
    R_ORDER = 2
    R_FILL = 3
    R_TRANSFER = 4
    R_REWARD = 5
    R_SUBACCOUNT = 6

# Venue key -> record kind, in the order they are read (built once: C enum values)
cdef tuple _SNAPSHOT_KEYS = (("openPerpetualPositions", R_PERPETUAL), ("assetPositions", R_ASSET))
cdef tuple _UPDATE_KEYS = (
    ("perpetualPositions", R_PERPETUAL), ("assetPositions", R_ASSET), ("orders", R_ORDER),
    ("fills", R_FILL), ("transfers", R_TRANSFER), ("tradingReward", R_REWARD),
)

cdef tuple _SPECS = tuple(_compile_spec(cls) for cls in (
    PerpetualPositionUpdate, AssetPositionUpdate, OrderUpdate, FillUpdate, TransferUpdate,
    TradingRewardUpdate, SubaccountInfo,
))


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.nonecheck(False)
cdef inline object _field(
    FrameParser parser, _RecordSpec spec, Py_ssize_t i, dict d, str key, str channel,
    bint required,
):
    cdef int kind = spec.kinds[i]
    if kind == K_STR or kind == K_TIME:
        return _str(d, key, channel, required)
    if kind == K_DEC:
        return _dec(d, key, channel, required)
    if kind == K_ENUM:
        return _enum(parser, d, key, <frozenset>spec.enums[i], channel, required)
    if kind == K_HEIGHT:
        return _height(d, key, channel, required)
    if kind == K_INT:
        return _int(d, key, channel, required)
    return _bool(d, key, channel, required)


cdef object _other_field(
    FrameParser parser, _RecordSpec spec, Py_ssize_t i, dict d, dict nested, str channel,
):
    # A field in a nested object ("parent.key") or with an alternate key ("key|other")
    cdef object parent = spec.parents[i]
    cdef object alternate = spec.alternates[i]
    cdef str key = <str>spec.keys[i]
    cdef dict src = d if parent is None else <dict>nested[parent]
    cdef object v
    if alternate is None:
        return _field(parser, spec, i, src, key, channel, spec.required[i])
    v = _field(parser, spec, i, src, key, channel, False)
    if v is None or v == "":
        v = _field(parser, spec, i, src, <str>alternate, channel, False)
        if v is None and spec.required[i]:
            raise _missing(key, channel)
    return v


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.nonecheck(False)
cdef object _parse_record(
    FrameParser parser, _RecordSpec spec, object obj, str channel, object number, str address,
):
    # Venue object -> record by its table; a missing subaccount number / address is the owner's
    cdef dict d = _as_dict(obj, channel, spec.what)
    cdef dict nested = None
    cdef tuple values = PyTuple_New(spec.size)  # Slots filled in order (NULLs freed on error)
    cdef Py_ssize_t i
    cdef int kind
    cdef object v
    cdef object ts_event = 0
    if spec.parent_names:
        nested = {}
        for name in spec.parent_names:
            nested[name] = _as_dict(d.get(name) or {}, channel, f"{spec.what} {name}")
    for i in range(spec.n):
        kind = spec.kinds[i]
        if not spec.plain[i]:
            v = _other_field(parser, spec, i, d, nested, channel)
        elif kind == K_STR or kind == K_TIME:  # _field, inlined by hand: most fields are plain
            v = _str(d, <str>spec.keys[i], channel, spec.required[i])
        elif kind == K_DEC:
            v = _dec(d, <str>spec.keys[i], channel, spec.required[i])
        elif kind == K_ENUM:
            v = _enum(
                parser, d, <str>spec.keys[i], <frozenset>spec.enums[i], channel, spec.required[i],
            )
        else:
            v = _field(parser, spec, i, d, <str>spec.keys[i], channel, spec.required[i])
        if v is None:
            if i == spec.number_at:
                v = number
            elif i == spec.address_at:
                v = address
        elif kind == K_TIME:
            ts_event = _iso_ns(<str>v, channel)
        Py_INCREF(v)
        PyTuple_SET_ITEM(values, i, v)
    if spec.ts_at >= 0:
        Py_INCREF(ts_event)
        PyTuple_SET_ITEM(values, spec.ts_at, ts_event)
    return spec.cls(*values)


# -- Parser -------------------------------------------------------------------------------------

cdef class MarketContext:
    """
    Per-instrument context registered at subscribe time.

    Parameters
    ----------
    ticker : str
        The venue ticker, e.g. ``"BTC-USD"``.
    instrument_id : InstrumentId
        The Nautilus instrument ID.
    price_precision : int
        The price precision (decimals of the tick size).
    size_precision : int
        The size precision (decimals of the step size).
    max_cross_ns : int, default 5_000_000_000
        How long the book may stay crossed before a resync is requested.

    Notes
    -----
    `publish_deltas`, `publish_quotes` and `publish_trades` (all True at first) let the owner
    switch off the objects nobody subscribed to: the book and the trade-id memory stay current,
    only the returned list is shorter, so the owner needs no per-object membership checks.

    """

    def __init__(
        self,
        str ticker not None,
        InstrumentId instrument_id not None,
        int price_precision,
        int size_precision,
        uint64_t max_cross_ns=5_000_000_000,
    ) -> None:
        if not 0 <= price_precision <= FIXED_PRECISION:
            raise ValueError(f"invalid price_precision, was {price_precision}")
        if not 0 <= size_precision <= FIXED_PRECISION:
            raise ValueError(f"invalid size_precision, was {size_precision}")
        self.book = L2Book(instrument_id, price_precision, size_precision, max_cross_ns)
        self.ticker = ticker
        self.instrument_id = instrument_id
        self.price_precision = price_precision
        self.size_precision = size_precision
        self._unit_p = _POW10[FIXED_PRECISION - price_precision]
        self._unit_s = _POW10[FIXED_PRECISION - size_precision]
        self._limit_p = _raw_limit(self._unit_p)
        self._limit_s = _raw_limit(self._unit_s)
        self._trade_ids = IdRing(_MAX_SEEN_IDS)
        self._bar_types = {}
        for resolution, (step, aggregation, seconds) in RESOLUTIONS.items():
            self._bar_types[resolution] = (
                BarType.from_str(f"{instrument_id}-{step}-{aggregation}-LAST-EXTERNAL"),
                <uint64_t>seconds * 1_000_000_000,
            )
        self._resync_reported = False
        self._history_ts = 0
        self._candles = {}
        self.publish_deltas = True
        self.publish_quotes = True
        self.publish_trades = True

    def __repr__(self) -> str:
        return (
            f"MarketContext({self.ticker}, {self.instrument_id}, "
            f"price_precision={self.price_precision}, size_precision={self.size_precision})"
        )


cdef class FrameParser:
    """
    Parse dYdX v4 Indexer WebSocket frames into what the clients publish.

    Market data becomes Nautilus objects (``OrderBookDeltas``, ``QuoteTick``, ``TradeTick``,
    ``Bar``, ``MarkPriceUpdate``, ``IndexPriceUpdate``, ``FundingRateUpdate``,
    ``InstrumentStatus``); account and control messages become typed records.

    Only a broken envelope (bad JSON, wrong types at the top, unknown market id) raises
    `FrameError`. A bad item (a book level, trade, candle, market, position, order, fill...) is
    skipped and counted in `skipped` by reason while the rest of its frame is kept; a skipped book
    level also returns a `ResyncNeeded`. A liquidation or deleveraging trade printed off the tick
    grid, and a candle price off the grid (it comes from such a trade), are rounded half-even to
    the price precision and counted in `adapted`.
    `take_new_reasons` returns each reason once, for logging.

    Decimal fields kept as text accept any valid decimal (any number of places, exponent form);
    numbers that become Nautilus values are rounded half-even to 16 places, and a value beyond
    the Nautilus range, or with more than 96 bits of digits at its precision (Nautilus could not
    format it), is an item error.

    Subscription snapshots of trades and candles are history: a `TradeHistory` or `BarHistory`
    record, never live ticks or bars. A candle becomes a `Bar` (``ts_event`` at its close) once
    a later candle of the same market and resolution arrives or `flush_closed_bars` finds its
    period ended; each closed candle is published once. Trade ids (the newest `MAX_SEEN_IDS` per
    market, and no trade older than the latest snapshot's newest) survive reconnects, so no trade
    is published twice; fill ids likewise per parser.

    Parameters
    ----------
    emit_quotes : bool, default True
        If book frames also return a `QuoteTick` when the (uncrossed) top of book changes.
    scanner : bool, default True
        If book and trade ``channel_data`` / ``channel_batch_data`` frames are parsed in place by
        the scanner (faster); otherwise every frame goes through ``orjson.loads`` and the typed
        walk.

    """

    def __cinit__(self):
        self._pending = NULL
        self._cap = 0
        self._tscan = NULL
        self._tcap = 0

    def __init__(self, bint emit_quotes=True, bint scanner=True) -> None:
        self._contexts = {}
        self._context_slots = [None] * _CONTEXT_SLOTS
        self._known_tickers = set()
        self._fill_ids = IdRing(_MAX_SEEN_IDS)
        self.unknown_enums = {}
        self._unknown_values = {}
        self.skipped = {}
        self.adapted = {}
        self._new_reasons = []
        self.frames = 0
        self.errors = 0
        self.scanned_frames = 0
        self.emit_quotes = emit_quotes
        self.scanner = scanner
        self._reserve(256)
        self._reserve_trades(64)

    def __dealloc__(self):
        PyMem_Free(self._pending)
        PyMem_Free(self._tscan)

    cdef int _reserve_trades(self, Py_ssize_t n) except -1:
        cdef void* ptr
        if n <= self._tcap:
            return 0
        n = max(n, self._tcap * 2)
        ptr = PyMem_Realloc(self._tscan, n * sizeof(TradeScan))
        if ptr == NULL:
            raise MemoryError()
        self._tscan = <TradeScan*>ptr
        self._tcap = n
        return 0

    cdef int _reserve(self, Py_ssize_t n) except -1:
        cdef void* ptr
        if n <= self._cap:
            return 0
        n = max(n, self._cap * 2)
        ptr = PyMem_Realloc(self._pending, n * sizeof(PendingLevel))
        if ptr == NULL:
            raise MemoryError()
        self._pending = <PendingLevel*>ptr
        self._cap = n
        return 0

    def register(
        self,
        str ticker not None,
        InstrumentId instrument_id not None,
        int price_precision,
        int size_precision,
        uint64_t max_cross_ns=5_000_000_000,
    ) -> MarketContext:
        """
        Register the context of one market (call at subscribe time) and return it.

        Parameters
        ----------
        ticker : str
            The venue ticker, e.g. ``"BTC-USD"``.
        instrument_id : InstrumentId
            The Nautilus instrument ID.
        price_precision : int
            The price precision.
        size_precision : int
            The size precision.
        max_cross_ns : int, default 5_000_000_000
            How long the book may stay crossed before a resync is requested.

        Returns
        -------
        MarketContext

        Raises
        ------
        ValueError
            If a precision is outside 0..FIXED_PRECISION.

        """
        cdef MarketContext ctx
        cdef object old = self._contexts.get(ticker)
        if old is not None and (
            (<MarketContext>old).instrument_id == instrument_id
            and (<MarketContext>old).price_precision == price_precision
            and (<MarketContext>old).size_precision == size_precision
        ):
            # Same market again (a reconnect): keep its seen trade ids and candle state
            return <MarketContext>old
        ctx = MarketContext(
            ticker, instrument_id, price_precision, size_precision, max_cross_ns,
        )
        self._contexts[ticker] = ctx
        self._context_slots = [None] * _CONTEXT_SLOTS
        self._known_tickers.add(ticker)
        return ctx

    def take_new_reasons(self) -> list:
        """
        Return the skip and adaptation reasons first seen since the last call (for logging once).

        Each entry reads ``"skipped: <reason>"`` or ``"adapted: <reason>"``; the running counts
        are in `skipped` and `adapted`.

        Returns
        -------
        list[str]

        """
        cdef list out = self._new_reasons
        self._new_reasons = []
        return out

    def flush_closed_bars(self, uint64_t now_ns) -> list:
        """
        Return the bars of the forming candles whose period ended at or before `now_ns`.

        Call it from a timer: a candle otherwise closes only when a later candle of the same
        market and resolution arrives. Each closed candle is returned exactly once.

        Parameters
        ----------
        now_ns : int
            UNIX timestamp (nanoseconds), used as ``ts_init`` of the bars.

        Returns
        -------
        list[Bar]

        """
        cdef list out = []
        cdef MarketContext ctx
        cdef list state
        for ctx_obj in self._contexts.values():
            ctx = <MarketContext>ctx_obj
            for resolution, state in ctx._candles.items():
                forming = state[0]
                if forming is not None and forming[0] + ctx._bar_types[resolution][1] <= now_ns:
                    out.append(_make_bar(ctx, resolution, forming, now_ns))
                    state[0] = None
                    state[1] = forming[0]
        return out

    cdef int _skip(self, str what, object e) except -1:
        cdef str reason = f"{what}: {getattr(e, 'reason', None) or 'malformed'}"
        cdef object n = self.skipped.get(reason)
        if n is None:
            self._new_reasons.append("skipped: " + reason)
            n = 0
        self.skipped[reason] = n + 1
        return 0

    cdef int _unknown(self, str field, object value) except -1:
        # The first MAX_UNKNOWN_VALUES distinct values of a field by value, the rest as None
        cdef tuple k = (field, value)
        cdef object n = self.unknown_enums.get(k)
        cdef object distinct
        if n is None:
            distinct = self._unknown_values.get(field, 0)
            if distinct < _MAX_UNKNOWN_VALUES:
                self._unknown_values[field] = distinct + 1
            else:
                k = (field, None)
            n = self.unknown_enums.get(k, 0)
        self.unknown_enums[k] = n + 1
        return 0

    cdef int _adapt(self, str reason) except -1:
        cdef object n = self.adapted.get(reason)
        if n is None:
            self._new_reasons.append("adapted: " + reason)
            n = 0
        self.adapted[reason] = n + 1
        return 0

    def context(self, str ticker) -> MarketContext | None:
        """
        Return the registered context for `ticker`, or ``None``.

        Parameters
        ----------
        ticker : str
            The venue ticker.

        Returns
        -------
        MarketContext or None

        """
        return self._contexts.get(ticker)

    def parse(self, data, uint64_t ts_init=0) -> list:
        """
        Parse one frame and return the objects it produces, in order.

        Parameters
        ----------
        data : bytes | bytearray | memoryview | str
            The frame payload as received.
        ts_init : int, default 0
            UNIX timestamp (nanoseconds) for ``ts_init``; 0 reads the clock once.

        Returns
        -------
        list

        Raises
        ------
        FrameError
            If the frame is malformed; nothing was changed.

        """
        cdef bytes raw
        if isinstance(data, str):
            try:
                raw = (<str>data).encode("utf-8")
            except UnicodeEncodeError as e:
                self.frames += 1
                self.errors += 1
                raise FrameError(None, f"invalid JSON ({e})") from None
        elif isinstance(data, bytes):
            raw = <bytes>data
        else:
            raw = bytes(data)
        return self.parse_c(PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), ts_init)

    cdef list parse_c(self, const char* ptr, Py_ssize_t size, uint64_t ts_init):
        # Entry point for picows: payload pointer + size, no copy
        cdef object msg
        cdef object fast
        self.frames += 1
        self.scanned_id = False
        if ts_init == 0:
            ts_init = _now_ns()
        if self.scanner:
            fast = self._scan_c(ptr, size, ts_init)
            if fast is not None:
                self.scanned_frames += 1
                return <list>fast
        try:
            msg = orjson.loads(PyMemoryView_FromMemory(<char*>ptr, size, PyBUF_READ))
        except orjson.JSONDecodeError as e:
            self.errors += 1
            raise FrameError(None, f"invalid JSON ({e})") from None
        try:
            return self.dispatch_c(msg, ts_init)
        except FrameError:
            self.errors += 1
            raise
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as e:
            self.errors += 1
            channel = msg.get("channel") if type(msg) is dict else None
            raise FrameError(
                channel if type(channel) is str else None, f"malformed frame ({e!r})",
            ) from None

    cdef list dispatch_c(self, object msg, uint64_t ts_init):
        cdef dict m = _as_dict(msg, None, "frame")
        cdef object typ = m.get("type")
        cdef object channel_obj = m.get("channel")
        cdef str channel
        if channel_obj is not None and type(channel_obj) is not str:
            raise FrameError(None, f"'channel' must be a string, was {channel_obj!r}")
        channel = <str>channel_obj
        if type(typ) is not str:
            raise FrameError(channel, f"missing or invalid 'type', was {typ!r}")
        if typ == "channel_data":
            return self._on_data(m, channel, m.get("contents"), False, ts_init)
        if typ == "channel_batch_data":
            return self._on_data(
                m, channel, _as_list(m.get("contents"), channel, "contents"), True, ts_init,
            )
        if typ == "subscribed":
            return self._on_subscribed(m, channel, ts_init)
        if typ == "unsubscribed":
            return [self._control(Unsubscribed, m, channel)]
        if typ == "connected":
            return [self._connected(m)]
        if typ == "error":
            return [self._error(m, channel)]
        self._unknown("type", typ)
        return []

    cdef object _message_id(self, dict m, str channel):
        cdef object v = m.get("message_id")
        if type(v) is not int or v < 0:
            raise FrameError(channel, f"missing or invalid 'message_id', was {v!r}")
        return v

    cdef object _connected(self, dict m):
        return Connected(_str(m, "connection_id", None, False), self._message_id(m, None))

    cdef object _error(self, dict m, str channel):
        return WsError(
            _str(m, "message", channel, True), channel, _str(m, "id", channel, False),
            _str(m, "connection_id", channel, False), _int(m, "message_id", channel, False),
        )

    cdef object _control(self, object cls, dict m, str channel):
        # Subscribed and Unsubscribed share their fields
        if channel is None:
            raise FrameError(None, "missing required key 'channel'")
        return cls(
            channel, _str(m, "id", channel, False), _str(m, "connection_id", channel, False),
            self._message_id(m, channel),
        )

    cdef MarketContext _ctx(self, dict m, str channel):
        cdef str ident = _str(m, "id", channel, True)
        cdef object ctx
        if channel == _CH_CANDLES:
            ident = ident.partition("/")[0]
        ctx = self._contexts.get(ident)
        if ctx is None:
            raise FrameError(channel, f"no market context registered for id {ident!r}")
        return <MarketContext>ctx

    cdef list _on_subscribed(self, dict m, str channel, uint64_t ts_init):
        cdef list out = [self._control(Subscribed, m, channel)]
        cdef object contents = m.get("contents")
        cdef object message_id = out[0].message_id
        if channel == _CH_BOOK:
            out.extend(self._book(
                self._ctx(m, channel), channel, contents, False, True, message_id, ts_init,
            ))
        elif channel == _CH_TRADES:
            out.extend(self._trades(
                self._ctx(m, channel), channel, contents, False, True, ts_init,
            ))
        elif channel == _CH_CANDLES:
            contents = _as_dict(contents, channel, "contents")
            candles = _as_list(contents.get("candles"), channel, "candles")
            out.extend(self._candles(m, channel, list(reversed(candles)), True, ts_init))
        elif channel == _CH_MARKETS:
            out.extend(self._markets_snapshot(channel, contents, ts_init))
        elif channel == _CH_SUBACCOUNTS or channel == _CH_PARENT_SUBACCOUNTS:
            out.extend(self._subaccount_snapshot(channel, contents))
        elif channel == _CH_BLOCK_HEIGHT:
            out.append(self._block_height(channel, contents, "height", True))
        else:
            self._unknown("channel", channel)
        return out

    cdef list _on_data(
        self, dict m, str channel, object contents, bint batched, uint64_t ts_init,
    ):
        cdef object message_id = self._message_id(m, channel)
        cdef list out
        cdef list items
        if channel is None:
            raise FrameError(None, "missing required key 'channel'")
        if channel == _CH_BOOK:
            return self._book(
                self._ctx(m, channel), channel, contents, batched, False, message_id, ts_init,
            )
        if channel == _CH_TRADES:
            return self._trades(self._ctx(m, channel), channel, contents, batched, False, ts_init)
        items = contents if batched else [contents]
        if channel == _CH_CANDLES:
            return self._candles(m, channel, items, False, ts_init)
        out = []
        if channel == _CH_MARKETS:
            for c in items:
                out.extend(self._markets_update(channel, c, ts_init))
        elif channel == _CH_SUBACCOUNTS or channel == _CH_PARENT_SUBACCOUNTS:
            number = _int(m, "subaccountNumber", channel, False)
            for c in items:
                out.extend(self._subaccount_update(channel, c, number))
        elif channel == _CH_BLOCK_HEIGHT:
            for c in items:
                out.append(self._block_height(channel, c, "blockHeight", True))
        else:
            self._unknown("channel", channel)
        return out

    # -- Scanner fast path -----------------------------------------------------------------

    cdef object _scan_c(self, const char* p, Py_ssize_t n, uint64_t ts_init):
        # Book or trade channel_data parsed in place; None means "use the generic path"
        cdef:
            Py_ssize_t i = _ws(p, 0, n)
            Py_ssize_t ks = 0, kl = 0
            Py_ssize_t type_s = -1, type_l = 0, ch_s = -1, ch_l = 0, id_s = -1, id_l = 0
            Py_ssize_t cid_s = -1, cid_l = 0
            Py_ssize_t contents_at = -1
            Py_ssize_t start
            Py_ssize_t k = 0
            Py_ssize_t count = 0
            uint64_t message_id = 0
            int seen = 0
            int bit
            int channel = 0  # 1 = book, 2 = trades
            bint scanned = False
            bint snapshot = False
            bint batched = False
            object ctx_obj = None
            object sub
            MarketContext ctx = None
        if i >= n or p[i] != 123:
            return None
        i = _ws(p, i + 1, n)
        while True:
            i = _plain_string(p, i, n, &ks, &kl)
            if i < 0:
                return None
            i = _ws(p, i, n)
            if i >= n or p[i] != 58:
                return None
            i = _ws(p, i + 1, n)
            bit = 0
            if _key_is(p, ks, kl, b"type", 4):
                bit = 1
                i = _plain_string(p, i, n, &type_s, &type_l)
                if i >= 0:
                    if _key_is(p, type_s, type_l, b"subscribed", 10):
                        snapshot = True
                    elif _key_is(p, type_s, type_l, b"channel_batch_data", 18):
                        batched = True
                    elif not _key_is(p, type_s, type_l, b"channel_data", 12):
                        return None
            elif _key_is(p, ks, kl, b"connection_id", 13):
                bit = 32
                i = _plain_string(p, i, n, &cid_s, &cid_l)
            elif _key_is(p, ks, kl, b"channel", 7):
                bit = 2
                i = _plain_string(p, i, n, &ch_s, &ch_l)
                if i >= 0:
                    if _key_is(p, ch_s, ch_l, _CH_BOOK_B, len(_CH_BOOK_B)):
                        channel = 1
                    elif _key_is(p, ch_s, ch_l, _CH_TRADES_B, len(_CH_TRADES_B)):
                        channel = 2
                    else:
                        return None
            elif _key_is(p, ks, kl, b"id", 2):
                bit = 4
                i = _plain_string(p, i, n, &id_s, &id_l)
                if i >= 0:
                    ctx_obj = self._context_at(p + id_s, id_l)
                    if ctx_obj is None:
                        return None
                    ctx = <MarketContext>ctx_obj
            elif _key_is(p, ks, kl, b"message_id", 10):
                bit = 8
                start = i
                while i < n and 48 <= p[i] <= 57:
                    message_id = message_id * 10 + <uint64_t>(p[i] - 48)
                    i += 1
                if i == start or i - start > 19 or (p[start] == 48 and i - start > 1):
                    return None
                if i < n and (p[i] == 46 or p[i] == 101 or p[i] == 69):
                    return None
            elif _key_is(p, ks, kl, b"contents", 8):
                bit = 16
                contents_at = i
                if channel != 0 and ctx is not None and (seen & 1):
                    i = self._scan_contents(
                        p, i, n, channel, ctx, snapshot, batched, &k, &count,
                    )
                    scanned = True
                else:
                    i = _value_end(p, i, n, 1)
            else:
                i = _value_end(p, i, n, 1)
            if i < 0 or (seen & bit):
                return None
            seen |= bit
            i = _ws(p, i, n)
            if i < n and p[i] == 44:
                i = _ws(p, i + 1, n)
                continue
            if i < n and p[i] == 125:
                break
            return None
        if _ws(p, i + 1, n) != n or (seen & 31) != 31 or channel == 0 or ctx is None:
            return None
        if snapshot and channel != 1:
            return None
        if not scanned:
            if self._scan_contents(
                p, contents_at, n, channel, ctx, snapshot, batched, &k, &count,
            ) < 0:
                return None
        # `seen` holds the message_id bit: the session need not search the frame for it
        self.scanned_id = True
        self.scanned_message_id = message_id
        if channel == 2:
            return self._trades_finish(p, ctx, count, ts_init)
        if not snapshot:
            return self._book_finish(ctx, _CH_BOOK, k, False, message_id, ts_init)
        sub = Subscribed(
            _CH_BOOK, ctx.ticker,
            None if cid_s < 0 else PyUnicode_DecodeASCII(p + cid_s, cid_l, NULL), message_id,
        )
        return [sub] + self._book_finish(ctx, _CH_BOOK, k, True, message_id, ts_init)

    cdef object _context_at(self, const char* ticker, Py_ssize_t length):
        # The market of a frame's id without making a str of it each time: a small cache keyed
        # by the id's length and first, middle and last bytes, checked byte for byte
        cdef Py_ssize_t slot
        cdef object entry
        cdef object ctx
        cdef bytes key
        if length == 0:
            return None
        slot = (
            length * 131 + <unsigned char>ticker[0] * 31 + <unsigned char>ticker[length // 2] * 7
            + <unsigned char>ticker[length - 1]
        ) & (_CONTEXT_SLOTS - 1)
        entry = self._context_slots[slot]
        if entry is not None:
            key = <bytes>(<tuple>entry)[0]
            if PyBytes_GET_SIZE(key) == length and memcmp(
                PyBytes_AS_STRING(key), ticker, length,
            ) == 0:
                return (<tuple>entry)[1]
        ctx = self._contexts.get(PyUnicode_DecodeASCII(ticker, length, NULL))
        if ctx is not None:
            self._context_slots[slot] = (ticker[:length], ctx)
        return ctx

    cdef Py_ssize_t _scan_contents(
        self, const char* p, Py_ssize_t i, Py_ssize_t n, int channel, MarketContext ctx,
        bint snapshot, bint batched, Py_ssize_t* k, Py_ssize_t* count,
    ) except -2:
        # One contents object, or (batched) an array of them gathered into one result
        k[0] = 0
        count[0] = 0
        if not batched:
            return self._scan_item(p, i, n, channel, ctx, snapshot, k, count)
        if i >= n or p[i] != 91:
            return -1
        i = _ws(p, i + 1, n)
        if i < n and p[i] == 93:
            return i + 1
        while True:
            i = self._scan_item(p, i, n, channel, ctx, False, k, count)
            if i < 0:
                return -1
            i = _ws(p, i, n)
            if i < n and p[i] == 44:
                i = _ws(p, i + 1, n)
                continue
            if i < n and p[i] == 93:
                return i + 1
            return -1

    cdef Py_ssize_t _scan_item(
        self, const char* p, Py_ssize_t i, Py_ssize_t n, int channel, MarketContext ctx,
        bint snapshot, Py_ssize_t* k, Py_ssize_t* count,
    ) except -2:
        cdef Py_ssize_t ks = 0, kl = 0
        cdef bint has_trades = False
        if channel == 1:
            return _book_contents_scan(self, p, i, n, ctx, snapshot, k)
        if i >= n or p[i] != 123:
            return -1
        i = _ws(p, i + 1, n)
        while True:
            i = _plain_string(p, i, n, &ks, &kl)
            if i < 0:
                return -1
            i = _ws(p, i, n)
            if i >= n or p[i] != 58:
                return -1
            i = _ws(p, i + 1, n)
            if _key_is(p, ks, kl, b"trades", 6):
                if has_trades or i >= n or p[i] != 91:
                    return -1
                has_trades = True
                i = _ws(p, i + 1, n)
                if i < n and p[i] == 93:
                    i += 1
                else:
                    while True:
                        if count[0] >= self._tcap:
                            self._reserve_trades(count[0] + 1)
                        i = _trade_scan(p, i, n, ctx, &self._tscan[count[0]])
                        if i < 0:
                            return -1
                        count[0] += 1
                        i = _ws(p, i, n)
                        if i < n and p[i] == 44:
                            i = _ws(p, i + 1, n)
                            continue
                        if i < n and p[i] == 93:
                            i += 1
                            break
                        return -1
            else:
                i = _value_end(p, i, n, 2)
                if i < 0:
                    return -1
            i = _ws(p, i, n)
            if i < n and p[i] == 44:
                i = _ws(p, i + 1, n)
                continue
            if i < n and p[i] == 125:
                return i + 1 if has_trades else -1
            return -1

    cdef list _trades_finish(
        self, const char* p, MarketContext ctx, Py_ssize_t count, uint64_t ts_init,
    ):
        cdef list out = []
        cdef Py_ssize_t j
        cdef TradeScan* t
        cdef str trade_id
        for j in range(count):
            t = &self._tscan[j]
            trade_id = PyUnicode_DecodeASCII(p + t.id_start, t.id_len, NULL)
            if t.ts_event < ctx._history_ts or not ctx._trade_ids.add_c(trade_id):
                ctx.duplicate_trades += 1
                continue
            if not ctx.publish_trades:
                continue
            out.append(
                _trade_tick(
                    ctx, t.price, t.size, t.aggressor, p + t.id_start, t.id_len, t.ts_event,
                    ts_init,
                ),
            )
        return out

    # -- Order book ------------------------------------------------------------------------

    @cython.boundscheck(False)
    @cython.wraparound(False)
    cdef Py_ssize_t _collect_side(
        self, MarketContext ctx, object levels, uint8_t side, bint snapshot, Py_ssize_t k,
        str channel, bint* damaged,
    ) except -1:
        # A bad level is skipped and counted; the caller then asks for a resync
        cdef:
            list lv
            Py_ssize_t i
            Py_ssize_t n
            object level
            object price
            object size
            PriceRaw p_raw = 0
            PriceRaw s_raw = 0
            uint8_t prec = 0
            str what = "bids" if side == 1 else "asks"
        if levels is None:
            return k
        lv = _as_list(levels, channel, what)
        n = len(lv)
        self._reserve(k + n)
        for i in range(n):
            level = lv[i]
            try:
                if type(level) is list and len(<list>level) == 2:
                    price = (<list>level)[0]
                    size = (<list>level)[1]
                elif type(level) is dict:
                    price = (<dict>level).get("price")
                    size = (<dict>level).get("size")
                else:
                    raise FrameError(
                        channel, f"{what} level must be [price, size], was {level!r}",
                        "not [price, size]",
                    )
                _parse_number(
                    price, channel, "price", ctx._unit_p, False, &p_raw, &prec,
                )
                _parse_number(size, channel, "size", ctx._unit_s, True, &s_raw, &prec)
            except (ValueError, TypeError, OverflowError) as e:
                self._skip("book level", e)
                damaged[0] = True
                continue
            if snapshot and s_raw == 0:
                continue
            self._pending[k].price = p_raw
            self._pending[k].size = <QuantityRaw>s_raw
            self._pending[k].side = side
            k += 1
        return k

    cdef list _book(
        self, MarketContext ctx, str channel, object contents, bint batched, bint snapshot,
        object message_id, uint64_t ts_init,
    ):
        cdef Py_ssize_t k = 0
        cdef dict c
        cdef bint damaged = False
        if batched:
            for item in <list>contents:
                c = _as_dict(item, channel, "contents")
                k = self._collect_side(ctx, c.get("bids"), 1, False, k, channel, &damaged)
                k = self._collect_side(ctx, c.get("asks"), 2, False, k, channel, &damaged)
        else:
            c = _as_dict(contents, channel, "contents")
            k = self._collect_side(ctx, c.get("bids"), 1, snapshot, k, channel, &damaged)
            k = self._collect_side(ctx, c.get("asks"), 2, snapshot, k, channel, &damaged)
        return self._book_finish(ctx, channel, k, snapshot, message_id, ts_init, damaged)

    cdef list _book_finish(
        self, MarketContext ctx, str channel, Py_ssize_t k, bint snapshot, uint64_t message_id,
        uint64_t ts_init, bint damaged=False,
    ):
        cdef list out = []
        cdef object deltas
        cdef object quote
        cdef L2Book book = ctx.book
        if snapshot and not damaged:
            # A damaged snapshot keeps the report: resubscribing would loop on the same data
            ctx._resync_reported = False
        deltas = book.apply_c(self._pending, k, snapshot, message_id, ts_init, ts_init)
        if deltas is not None and ctx.publish_deltas:
            out.append(deltas)
        if self.emit_quotes:
            # Always asked, so the last quote stays current while nobody subscribes
            quote = book.quote_if_changed_c(ts_init, ts_init)
            if quote is not None and ctx.publish_quotes:
                out.append(quote)
        if (book.resync_needed or damaged) and not ctx._resync_reported:
            ctx._resync_reported = True
            out.append(ResyncNeeded(
                channel, ctx.ticker, ctx.instrument_id,
                book.resync_reason if book.resync_needed else "invalid level skipped",
            ))
        return out

    # -- Trades ----------------------------------------------------------------------------

    cdef tuple _trade_item(self, MarketContext ctx, str channel, object obj):
        # One trade -> (id, price raw, size raw, aggressor, ts_event); FrameError to skip it
        cdef dict t = _as_dict(obj, channel, "trade")
        cdef str trade_id = _str(t, "id", channel, True)
        cdef str side
        cdef str kind
        cdef PriceRaw p_raw = 0
        cdef PriceRaw s_raw = 0
        cdef uint8_t prec = 0
        cdef const char* id_ptr
        cdef Py_ssize_t id_len = 0
        cdef AggressorSide aggressor
        id_ptr = PyUnicode_AsUTF8AndSize(trade_id, &id_len)
        if not _valid_trade_id(id_ptr, id_len):
            raise FrameError(channel, f"invalid trade id, was {trade_id!r}", "invalid 'id'")
        side = _enum(self, t, "side", _SIDE, channel, True)
        kind = _enum(self, t, "type", _TRADE_TYPE, channel, False)
        try:
            _parse_number(t.get("price"), channel, "price", ctx._unit_p, False, &p_raw, &prec)
        except FrameError as e:
            if e.reason != "price off grid" or kind not in _OFF_GRID_TRADE_TYPES:
                raise
            # Liquidation and deleveraging trades print at the bankruptcy price
            _parse_number(
                t.get("price"), channel, "price", 0, False, &p_raw, &prec, ctx.price_precision,
            )
            if p_raw == 0:
                raise FrameError(
                    channel, f"price rounds to zero, was {t.get('price')!r}", "price not positive",
                )
            self._adapt(f"trade price off grid: rounded half-even ({kind})")
        _parse_number(t.get("size"), channel, "size", ctx._unit_s, False, &s_raw, &prec)
        ts_event = _iso_ns(_str(t, "createdAt", channel, True), channel)
        if side == "BUY":
            aggressor = AggressorSide.BUYER
        elif side == "SELL":
            aggressor = AggressorSide.SELLER
        else:
            aggressor = AggressorSide.NO_AGGRESSOR
        return (trade_id, p_raw, s_raw, <int>aggressor, ts_event)

    cdef list _trades(
        self, MarketContext ctx, str channel, object contents, bint batched, bint snapshot,
        uint64_t ts_init,
    ):
        cdef list items = contents if batched else [contents]
        cdef list parsed = []
        cdef list trades
        cdef str trade_id
        cdef const char* id_ptr
        cdef Py_ssize_t id_len = 0
        cdef uint64_t newest = 0
        cdef list out = []
        for item in items:
            c = _as_dict(item, channel, "contents")
            trades = _as_list(c.get("trades"), channel, "trades")
            if snapshot:
                trades = list(reversed(trades))  # REST order is newest first
            for obj in trades:
                try:
                    parsed.append(self._trade_item(ctx, channel, obj))
                except (ValueError, TypeError, OverflowError) as e:
                    self._skip("trade", e)
        if snapshot:
            # History, not live: remembered as seen, never republished by later updates
            for trade_id, p_raw, s_raw, agg, ts_event in parsed:
                ctx._trade_ids.add_c(trade_id)
                if ts_event > newest:
                    newest = ts_event
                id_ptr = PyUnicode_AsUTF8AndSize(trade_id, &id_len)
                out.append(
                    _trade_tick(ctx, p_raw, s_raw, agg, id_ptr, id_len, ts_event, ts_init),
                )
            if newest > ctx._history_ts:
                ctx._history_ts = newest
            return [TradeHistory(ctx.instrument_id, out)]
        for trade_id, p_raw, s_raw, agg, ts_event in parsed:
            if <uint64_t>ts_event < ctx._history_ts or not ctx._trade_ids.add_c(trade_id):
                ctx.duplicate_trades += 1
                continue
            if not ctx.publish_trades:
                continue
            id_ptr = PyUnicode_AsUTF8AndSize(trade_id, &id_len)
            out.append(_trade_tick(ctx, p_raw, s_raw, agg, id_ptr, id_len, ts_event, ts_init))
        return out

    # -- Candles ---------------------------------------------------------------------------

    cdef PriceRaw _candle_price(
        self, MarketContext ctx, str channel, dict c, str key,
    ) except? -1:
        # A candle holding a liquidation or deleveraging price is off grid like that trade:
        # rounded half-even to the price precision, as the trade is
        cdef PriceRaw raw = 0
        cdef uint8_t prec = 0
        try:
            _parse_number(c.get(key), channel, key, ctx._unit_p, False, &raw, &prec)
        except FrameError as e:
            if e.reason != f"{key} off grid":
                raise
            _parse_number(
                c.get(key), channel, key, 0, False, &raw, &prec, ctx.price_precision,
            )
            if raw == 0:
                raise FrameError(
                    channel, f"{key} rounds to zero, was {c.get(key)!r}", f"{key} not positive",
                )
            self._adapt("candle price off grid: rounded half-even")
        return raw

    cdef tuple _candle_item(self, str channel, object item, str ticker, str resolution):
        # One candle -> (ctx, resolution, (start, o, h, l, c, v)), or None for an unknown
        # resolution; FrameError to skip it
        cdef dict c = _as_dict(item, channel, "candle")
        cdef MarketContext ctx
        cdef PriceRaw o = 0, h = 0, l = 0, cl = 0, v = 0
        cdef uint8_t prec = 0
        ticker = _str(c, "ticker", channel, False) or ticker
        resolution = _str(c, "resolution", channel, False) or resolution
        ctx_obj = self._contexts.get(ticker)
        if ctx_obj is None:
            raise FrameError(
                channel, f"no market context registered for id {ticker!r}", "unknown market",
            )
        ctx = <MarketContext>ctx_obj
        if resolution not in ctx._bar_types:
            self._unknown("resolution", resolution)
            return None
        o = self._candle_price(ctx, channel, c, "open")
        h = self._candle_price(ctx, channel, c, "high")
        l = self._candle_price(ctx, channel, c, "low")
        cl = self._candle_price(ctx, channel, c, "close")
        _parse_number(
            c.get("baseTokenVolume"), channel, "baseTokenVolume", ctx._unit_s, True, &v, &prec,
        )
        _int(c, "trades", channel, False)
        _dec(c, "usdVolume", channel, False)
        if not (l <= o <= h and l <= cl <= h):
            raise FrameError(
                channel, f"candle prices are inconsistent, was {c!r}", "prices inconsistent",
            )
        started = _iso_ns(_str(c, "startedAt", channel, True), channel)
        return (ctx, resolution, (started, o, h, l, cl, v))

    cdef list _candles(
        self, dict m, str channel, list items, bint snapshot, uint64_t ts_init,
    ):
        # Updates of the forming candle are kept; a candle becomes a Bar once a later candle
        # of the same market and resolution arrives (or flush_closed_bars finds it ended)
        cdef str ident = _str(m, "id", channel, True)
        cdef str ticker
        cdef str resolution
        cdef MarketContext ctx
        cdef list parsed = []
        cdef list out = []
        cdef list state
        cdef dict histories = {}
        cdef object history
        cdef uint64_t duration
        self._ctx(m, channel)
        ticker, _, resolution = ident.partition("/")
        for item in items:
            try:
                entry = self._candle_item(channel, item, ticker, resolution)
            except (ValueError, TypeError, OverflowError) as e:
                self._skip("candle", e)
                continue
            if entry is not None:
                parsed.append(entry)
        if snapshot:
            # Oldest first: every candle but the newest is closed; the newest too if it ended
            for ctx, resolution, candle in parsed:
                state = ctx._candles.get(resolution)
                if state is None:
                    state = ctx._candles[resolution] = [None, 0]
                key = (ctx.ticker, resolution)
                if key not in histories:
                    history = BarHistory(ctx._bar_types[resolution][0], [])
                    histories[key] = history
                    out.append(history)
                    state[0] = None
                forming = state[0]
                if forming is not None:
                    if candle[0] <= forming[0]:
                        continue
                    histories[key].bars.append(
                        _make_bar(ctx, resolution, forming, ts_init),
                    )
                    state[1] = forming[0]
                state[0] = candle
            for key, history in histories.items():
                ctx = <MarketContext>self._contexts[key[0]]
                state = ctx._candles[key[1]]
                forming = state[0]
                if forming is not None and forming[0] + ctx._bar_types[key[1]][1] <= ts_init:
                    history.bars.append(_make_bar(ctx, key[1], forming, ts_init))
                    state[0] = None
                    state[1] = forming[0]
            return out
        for ctx, resolution, candle in parsed:
            state = ctx._candles.get(resolution)
            if state is None:
                state = ctx._candles[resolution] = [None, 0]
            forming = state[0]
            if candle[0] <= state[1] and state[1] != 0:
                # An update of a candle already published (or older): never republished
                self._skip("candle", FrameError(channel, "", "update after close"))
                continue
            if forming is None or candle[0] == forming[0]:
                state[0] = candle
            elif candle[0] > forming[0]:
                out.append(_make_bar(ctx, resolution, forming, ts_init))
                state[1] = forming[0]
                state[0] = candle
            else:
                self._skip("candle", FrameError(channel, "", "older than the forming candle"))
        return out

    # -- Markets ---------------------------------------------------------------------------

    cdef list _market_entry(
        self, str channel, str ticker, object obj, bint snapshot, uint64_t ts_init,
    ):
        cdef dict fields = _as_dict(obj, channel, "market")
        cdef list out
        cdef object ctx_obj = self._contexts.get(ticker)
        cdef MarketContext ctx
        cdef str status
        cdef str rate
        cdef dict decimals = {}
        for key in _MARKET_DECIMALS:
            # A decimal sent as a JSON number counts as its text, as everywhere else
            decimals[key] = _dec(fields, key, channel, False)
        for key in _MARKET_INTEGERS:
            _int(fields, key, channel, False)
        status = _enum(self, fields, "status", _MARKET_STATUS, channel, False)
        _str(fields, "ticker", channel, False)
        _str(fields, "clobPairId", channel, False)
        tick = decimals.get("tickSize")
        step = decimals.get("stepSize")
        try:
            price_precision = None if tick is None else precision_from_increment(tick)
            size_precision = None if step is None else precision_from_increment(step)
        except ValueError as e:
            raise FrameError(channel, f"market {ticker}: {e}", "invalid increment") from None
        out = [MarketUpdate(
            ticker, ticker not in self._known_tickers, snapshot, fields, price_precision,
            size_precision,
        )]
        if ctx_obj is not None:
            ctx = <MarketContext>ctx_obj
            if fields.get("oraclePrice") is not None:
                out.extend(
                    self._oracle(ctx, channel, fields.get("oraclePrice"), ts_init, ts_init),
                )
            if status is not None:
                action = _STATUS_ACTIONS.get(status)
                if action is None:
                    status_update = InstrumentStatus(
                        ctx.instrument_id, MarketStatusAction.NOT_AVAILABLE_FOR_TRADING,
                        ts_init, ts_init, reason=status, trading_event=status,
                    )
                else:
                    status_update = InstrumentStatus(
                        ctx.instrument_id, action[0], ts_init, ts_init, reason=status,
                        trading_event=status, is_trading=action[1], is_quoting=action[2],
                    )
                out.insert(1, status_update)
            rate = decimals.get("nextFundingRate")
            if rate is not None:
                out.append(FundingRateUpdate(ctx.instrument_id, Decimal(rate), ts_init, ts_init))
        self._known_tickers.add(ticker)
        return out

    cdef list _oracle(
        self, MarketContext ctx, str channel, object price, uint64_t ts_event, uint64_t ts_init,
    ):
        cdef PriceRaw raw = 0
        cdef uint8_t prec = 0
        cdef MarkPriceUpdate mark = MarkPriceUpdate.__new__(MarkPriceUpdate)
        cdef IndexPriceUpdate index = IndexPriceUpdate.__new__(IndexPriceUpdate)
        _parse_number(price, channel, "oraclePrice", 0, False, &raw, &prec)
        # The oracle price keeps its own decimals (finer than the tick size), at most 16
        mark._mem.instrument_id = ctx.instrument_id._mem
        mark._mem.value.raw = raw
        mark._mem.value.precision = prec
        mark._mem.ts_event = ts_event
        mark._mem.ts_init = ts_init
        index._mem.instrument_id = ctx.instrument_id._mem
        index._mem.value.raw = raw
        index._mem.value.precision = prec
        index._mem.ts_event = ts_event
        index._mem.ts_init = ts_init
        return [mark, index]

    cdef list _markets_snapshot(self, str channel, object contents, uint64_t ts_init):
        cdef dict markets = _as_dict(
            _as_dict(contents, channel, "contents").get("markets"), channel, "markets",
        )
        cdef list out = []
        for ticker, market in markets.items():
            try:
                out.extend(self._market_entry(channel, ticker, market, True, ts_init))
            except (ValueError, TypeError, OverflowError) as e:
                self._skip("market", e)
        return out

    cdef list _markets_update(self, str channel, object contents, uint64_t ts_init):
        cdef dict c = _as_dict(contents, channel, "contents")
        cdef object trading = c.get("trading")
        cdef object oracles = c.get("oraclePrices")
        cdef list out = []
        cdef dict o
        cdef object ctx
        if trading is not None:
            for ticker, market in _as_dict(trading, channel, "trading").items():
                try:
                    out.extend(self._market_entry(channel, ticker, market, False, ts_init))
                except (ValueError, TypeError, OverflowError) as e:
                    self._skip("market", e)
        if oracles is not None:
            for ticker, entry in _as_dict(oracles, channel, "oraclePrices").items():
                try:
                    o = _as_dict(entry, channel, "oracle price")
                    price = _dec(o, "oraclePrice", channel, True)
                    at = _str(o, "effectiveAt", channel, False)
                    _height(o, "effectiveAtHeight", channel, False)
                    ts_event = ts_init if at is None else _iso_ns(at, channel)
                    ctx = self._contexts.get(ticker)
                    if ctx is not None:
                        out.extend(
                            self._oracle(<MarketContext>ctx, channel, price, ts_event, ts_init),
                        )
                except (ValueError, TypeError, OverflowError) as e:
                    self._skip("oracle price", e)
        return out

    # -- Subaccounts -----------------------------------------------------------------------

    cdef object _block_height(self, str channel, object contents, str key, bint required):
        cdef dict c = _as_dict(contents, channel, "contents")
        cdef object height = _height(c, key, channel, required)
        cdef str time = _str(c, "time", channel, False)
        return BlockHeight(channel, height, time, None if time is None else _iso_ns(time, channel))

    cdef object _record(
        self, int kind, object obj, str channel, object number, str address,
    ):
        return _parse_record(self, <_RecordSpec>_SPECS[kind], obj, channel, number, address)

    cdef list _subaccount(self, str channel, dict sub, object number):
        cdef list out = []
        cdef object owner_number = None
        cdef str owner_address = None
        try:
            info = self._record(R_SUBACCOUNT, sub, channel, None, None)
            owner_number = info.subaccount_number
            owner_address = info.address
            out.append(info)
        except (ValueError, TypeError, OverflowError) as e:
            self._skip("subaccount", e)
        for key, kind in _SNAPSHOT_KEYS:
            positions = sub.get(key)
            if positions is None:
                continue
            name = (<_RecordSpec>_SPECS[kind]).name
            if type(positions) is not dict:
                self._skip(name, FrameError(channel, "", f"{key!r} not an object"))
                continue
            for pos in (<dict>positions).values():
                try:
                    out.append(self._record(kind, pos, channel, owner_number, owner_address))
                except (ValueError, TypeError, OverflowError) as e:
                    self._skip(name, e)
        children = sub.get("childSubaccounts")
        if children is not None:
            for child in _as_list(children, channel, "childSubaccounts"):
                if type(child) is not dict:
                    self._skip("subaccount", FrameError(channel, "", "subaccount not an object"))
                    continue
                out.extend(self._subaccount(channel, <dict>child, None))
        return out

    cdef list _subaccount_snapshot(self, str channel, object contents):
        cdef dict c = _as_dict(contents, channel, "contents")
        cdef list out = []
        sub = c.get("subaccount")
        if sub is not None:
            out.extend(self._subaccount(channel, _as_dict(sub, channel, "subaccount"), None))
        orders = c.get("orders")
        if orders is not None:
            for o in _as_list(orders, channel, "orders"):
                try:
                    out.append(self._record(R_ORDER, o, channel, None, None))
                except (ValueError, TypeError, OverflowError) as e:
                    self._skip("order", e)
        if c.get("blockHeight") is not None:
            try:
                out.append(self._block_height(channel, c, "blockHeight", True))
            except (ValueError, TypeError, OverflowError) as e:
                self._skip("block height", e)
        return out

    cdef list _subaccount_update(self, str channel, object contents, object number):
        cdef dict c = _as_dict(contents, channel, "contents")
        cdef list out = []
        cdef list fills = []
        for key, kind in _UPDATE_KEYS:
            items = c.get(key)
            if items is None:
                continue
            name = (<_RecordSpec>_SPECS[kind]).name
            if kind >= R_TRANSFER and type(items) is not list:
                items = [items]  # A single transfer or reward object
            if type(items) is not list:
                self._skip(name, FrameError(channel, "", f"{key!r} not an array"))
                continue
            for obj in <list>items:
                try:
                    rec = self._record(kind, obj, channel, number, None)
                except (ValueError, TypeError, OverflowError) as e:
                    self._skip(name, e)
                    continue
                if kind == R_FILL:
                    fills.append(rec)
                else:
                    out.append(rec)
        if c.get("blockHeight") is not None:
            try:
                out.append(self._block_height(channel, c, "blockHeight", True))
            except (ValueError, TypeError, OverflowError) as e:
                self._skip("block height", e)
        # Drop fills already seen (de-duplicate by id, section 3.1)
        for rec in fills:
            if self._fill_ids.add_c(rec.id):
                out.append(rec)
        return out


cdef class DYDXWsListener(WSListener):
    """
    A picows listener that parses every Indexer text message in place.

    The handler is called once per message with the list of objects it produced (never with an
    empty list); a malformed message goes to `on_error` instead. Fragmented messages are joined
    before parsing; a close frame disconnects.

    Parameters
    ----------
    parser : FrameParser
        The parser with the markets registered.
    handler : Callable[[list], None]
        Receives the objects of each message.
    on_error : Callable[[FrameError], None], optional
        Receives each `FrameError`; errors are dropped when ``None``.
    on_reason : Callable[[list[str]], None], optional
        Receives the skip/adaptation reasons seen for the first time (see
        `FrameParser.take_new_reasons`), once each, for logging; the counts stay in
        ``parser.skipped`` and ``parser.adapted``.

    """

    def __init__(
        self, FrameParser parser not None, handler not None, on_error=None, on_reason=None,
    ) -> None:
        self.parser = parser
        self._handler = handler
        self._on_error = on_error
        self._on_reason = on_reason
        self._partial = None

    cpdef on_ws_frame(self, WSTransport transport, WSFrame frame):
        cdef WSMsgType msg_type = frame.msg_type
        cdef list objects
        cdef bytes data
        if msg_type == WSMsgType.TEXT:
            if not frame.fin:
                self._partial = bytearray(frame.get_payload_as_bytes())
                return
            self._partial = None
            try:
                objects = self.parser.parse_c(frame.payload_ptr, frame.payload_size, 0)
            except (ValueError, TypeError, OverflowError) as e:
                if self._on_error is not None:
                    self._on_error(e)
                return
        elif msg_type == WSMsgType.CONTINUATION:
            if self._partial is None:
                return
            self._partial += frame.get_payload_as_bytes()
            if not frame.fin:
                return
            data = bytes(self._partial)
            self._partial = None
            try:
                objects = self.parser.parse_c(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), 0)
            except (ValueError, TypeError, OverflowError) as e:
                if self._on_error is not None:
                    self._on_error(e)
                return
        elif msg_type == WSMsgType.CLOSE:
            transport.disconnect()
            return
        else:
            return
        if self.parser._new_reasons and self._on_reason is not None:
            self._on_reason(self.parser.take_new_reasons())
        if objects:
            self._handler(objects)
