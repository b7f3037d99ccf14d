# SPDX-License-Identifier: Apache-2.0
"""Order quantization and protobuf wire encoding for dYdX v4 order transactions."""

import cython

from hashlib import sha256 as _sha256

import os

import coincurve
import coincurve._libsecp256k1 as _coincurve_lib

from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport PyBytes_AS_STRING
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.bytes cimport PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_AsUTF8AndSize
from libc.stdint cimport UINT32_MAX
from libc.stdint cimport UINT64_MAX
from libc.stdint cimport int32_t
from libc.stdint cimport int64_t
from libc.stdint cimport uint32_t
from libc.stdint cimport uint64_t
from libc.string cimport memcmp
from libc.string cimport memcpy
from libc.string cimport memset
from posix.dlfcn cimport RTLD_LOCAL
from posix.dlfcn cimport RTLD_NOW
from posix.dlfcn cimport dlopen
from posix.dlfcn cimport dlsym

from nautilus_trader.core.rust.model cimport FIXED_PRECISION
from nautilus_trader.core.rust.model cimport PriceRaw
from nautilus_trader.core.rust.model cimport QuantityRaw


ROUND_EXACT_MODE = ROUND_EXACT
ROUND_FLOOR_MODE = ROUND_FLOOR
ROUND_CEIL_MODE = ROUND_CEIL

ORDER_FLAGS_SHORT_TERM = 0
ORDER_FLAGS_CONDITIONAL = 32
ORDER_FLAGS_LONG_TERM = 64

TYPE_URL_PLACE_ORDER = "/dydxprotocol.clob.MsgPlaceOrder"
TYPE_URL_CANCEL_ORDER = "/dydxprotocol.clob.MsgCancelOrder"
TYPE_URL_BATCH_CANCEL = "/dydxprotocol.clob.MsgBatchCancel"
TYPE_URL_PUBKEY = "/cosmos.crypto.secp256k1.PubKey"
TYPE_URL_TX_EXTENSION = "/dydxprotocol.accountplus.TxExtension"

# Largest values the chain, protobuf and Nautilus accept here
cdef uint32_t MAX_SUBACCOUNT_NUMBER = 128_000
cdef Py_ssize_t MAX_OWNER_LENGTH = 128
cdef object RAW_SCALE = 10 ** FIXED_PRECISION
cdef object U128_LIMIT = (1 << 127) - 1  # Keep raw values inside the signed 128-bit range
cdef object SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
cdef bytes HALF_N = (SECP256K1_N // 2).to_bytes(32, "big")

# Any type_url fields (tag 0x0a, length, URL)
cdef bytes ANY_PLACE_ORDER = b"\x0a\x20" + TYPE_URL_PLACE_ORDER.encode()
cdef bytes ANY_CANCEL_ORDER = b"\x0a\x21" + TYPE_URL_CANCEL_ORDER.encode()
cdef bytes ANY_BATCH_CANCEL = b"\x0a\x21" + TYPE_URL_BATCH_CANCEL.encode()

# Headroom in the order buffer for the MsgPlaceOrder and Any headers written in front of it
# libsecp256k1 entry points, resolved at import from the copy coincurve ships, so signing is
# one C call (RFC 6979 nonce, low-S output) without Python wrapper overhead
ctypedef void* (*ctx_create_fn)(unsigned int flags) noexcept nogil
ctypedef int (*ctx_randomize_fn)(void* ctx, const unsigned char* seed32) noexcept nogil
ctypedef int (*sign_fn)(
    const void* ctx,
    unsigned char* sig,
    const unsigned char* msg32,
    const unsigned char* seckey,
    const void* noncefp,
    const void* ndata,
) noexcept nogil
ctypedef int (*serialize_fn)(
    const void* ctx, unsigned char* out64, const unsigned char* sig,
) noexcept nogil

cdef void* _secp_ctx = NULL
cdef sign_fn _secp_sign = NULL
cdef serialize_fn _secp_serialize = NULL


cdef bint _load_secp256k1():
    global _secp_ctx, _secp_sign, _secp_serialize
    cdef bytes path = os.fsencode(_coincurve_lib.__file__)
    cdef void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)
    if handle == NULL:
        return False
    cdef ctx_create_fn create = <ctx_create_fn>dlsym(handle, b"secp256k1_context_create")
    cdef ctx_randomize_fn randomize = <ctx_randomize_fn>dlsym(
        handle, b"secp256k1_context_randomize",
    )
    cdef sign_fn sign = <sign_fn>dlsym(handle, b"secp256k1_ecdsa_sign")
    cdef serialize_fn serialize = <serialize_fn>dlsym(
        handle, b"secp256k1_ecdsa_signature_serialize_compact",
    )
    if create == NULL or randomize == NULL or sign == NULL or serialize == NULL:
        return False
    # SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY (accepted by old and new releases)
    cdef void* ctx = create(0x301)
    if ctx == NULL:
        return False
    cdef bytes seed = os.urandom(32)
    if not randomize(ctx, seed):  # Blinding against side channels
        return False
    _secp_ctx = ctx
    _secp_sign = sign
    _secp_serialize = serialize
    return True


DIRECT_SECP256K1 = _load_secp256k1()


cdef enum:
    HEADROOM = 48
    ORDER_BUF = 512


@cython.boundscheck(False)
@cython.wraparound(False)
cdef Py_ssize_t put_varint(unsigned char* buf, Py_ssize_t pos, uint64_t value) noexcept nogil:
    while value >= 0x80:
        buf[pos] = <unsigned char>((value & 0x7F) | 0x80)
        value >>= 7
        pos += 1
    buf[pos] = <unsigned char>value
    return pos + 1


cdef Py_ssize_t varint_size(uint64_t value) noexcept nogil:
    cdef Py_ssize_t n = 1
    while value >= 0x80:
        value >>= 7
        n += 1
    return n


cdef inline Py_ssize_t put_fixed32(
    unsigned char* buf, Py_ssize_t pos, uint32_t value,
) noexcept nogil:
    buf[pos] = <unsigned char>(value & 0xFF)
    buf[pos + 1] = <unsigned char>((value >> 8) & 0xFF)
    buf[pos + 2] = <unsigned char>((value >> 16) & 0xFF)
    buf[pos + 3] = <unsigned char>((value >> 24) & 0xFF)
    return pos + 4


cdef bytes length_delimited(uint64_t field, bytes payload):
    # Tag (wire type 2), length varint, payload
    cdef unsigned char hdr[20]
    cdef Py_ssize_t n = put_varint(hdr, 0, (field << 3) | 2)
    cdef Py_ssize_t size = PyBytes_GET_SIZE(payload)
    n = put_varint(hdr, n, <uint64_t>size)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, n + size)
    cdef char* p = PyBytes_AS_STRING(out)
    memcpy(p, hdr, n)
    memcpy(p + n, PyBytes_AS_STRING(payload), size)
    return out


cdef bytes _varint_field(uint64_t field, uint64_t value):
    cdef unsigned char buf[24]
    cdef Py_ssize_t n = put_varint(buf, 0, field << 3)
    n = put_varint(buf, n, value)
    return PyBytes_FromStringAndSize(<char*>buf, n)


cdef bytes _packed_varints(object values, uint64_t maximum, str what):
    cdef list items = values if type(values) is list else list(values)
    cdef Py_ssize_t count = len(items)
    cdef bytearray out = bytearray(10 * count)
    cdef unsigned char* p = <unsigned char*>PyByteArray_AS_STRING(out)
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t i
    cdef uint64_t u
    for i in range(count):
        try:
            u = items[i]
        except OverflowError:
            raise ValueError(f"invalid {what} (out of range), was {items[i]!r}") from None
        if u > maximum:
            raise ValueError(f"invalid {what} (out of range), was {items[i]!r}")
        pos = put_varint(p, pos, u)
    return PyBytes_FromStringAndSize(<char*>p, pos)


cdef str _fmt_raw(object raw):
    # Raw fixed-point -> shortest exact decimal text
    sign = "-" if raw < 0 else ""
    whole, frac = divmod(abs(raw), RAW_SCALE)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{FIXED_PRECISION}d}".rstrip("0")


cdef bytes _encode_subaccount(str owner, uint32_t number):
    cdef bytes out = length_delimited(1, owner.encode("utf-8")) if owner else b""
    if number:
        out += _varint_field(2, number)
    return out


cdef bytes _check_bytes(object value, str what):
    if not isinstance(value, bytes):
        raise TypeError(f"{what} must be bytes, was {type(value).__name__}")
    return <bytes>value


cdef class MarketEncoder:
    """
    Encode orders and cancels of one market for one subaccount.

    The market parameters and the encoded subaccount are computed once, so each order costs only
    integer arithmetic and a few buffer writes.

    Parameters
    ----------
    owner : str
        The bech32 ``dydx1...`` address owning the subaccount.
    subaccount_number : int
        The subaccount number, from 0 to 128 000.
    clob_pair_id : int
        The market's CLOB pair ID.
    atomic_resolution : int
        The market's atomic resolution ``A``.
    quantum_conversion_exponent : int
        The market's quantum conversion exponent ``Q``.
    step_base_quantums : int
        The market's step base quantums ``S`` (the minimum order size in quantums).
    subticks_per_tick : int
        The market's subticks per tick ``P``.

    Raises
    ------
    ValueError
        If a parameter is out of range, or the tick or step size cannot be expressed with
        ``FIXED_PRECISION`` decimals.

    """

    def __init__(
        self,
        str owner not None,
        uint32_t subaccount_number,
        uint32_t clob_pair_id,
        int32_t atomic_resolution,
        int32_t quantum_conversion_exponent,
        uint64_t step_base_quantums,
        uint32_t subticks_per_tick,
    ):
        if len(owner) > MAX_OWNER_LENGTH or not owner.isascii():
            raise ValueError(f"invalid owner (not a short ASCII address), was {owner!r}")
        if subaccount_number > MAX_SUBACCOUNT_NUMBER:
            raise ValueError(f"invalid subaccount_number, was {subaccount_number}")
        if step_base_quantums == 0:
            raise ValueError("invalid step_base_quantums, was 0")
        if subticks_per_tick == 0:
            raise ValueError("invalid subticks_per_tick, was 0")
        if not -40 <= atomic_resolution <= 40 or not -40 <= quantum_conversion_exponent <= 40:
            raise ValueError(
                f"invalid exponents, was A={atomic_resolution} Q={quantum_conversion_exponent}",
            )
        cdef object exponent = atomic_resolution - quantum_conversion_exponent + 6 - FIXED_PRECISION
        tick_raw = _scale_exact(subticks_per_tick, -exponent, "tick size")
        step_raw = _scale_exact(
            step_base_quantums, <object>(atomic_resolution + FIXED_PRECISION), "step size",
        )
        self._m.atomic_resolution = atomic_resolution
        self._m.quantum_conversion_exponent = quantum_conversion_exponent
        self._m.step_base_quantums = step_base_quantums
        self._m.subticks_per_tick = subticks_per_tick
        self._m.clob_pair_id = clob_pair_id
        self._m.tick_raw = tick_raw
        self._m.step_raw = step_raw
        self._m.price_exponent = exponent
        self.owner = owner
        self.subaccount_number = subaccount_number
        self._subaccount_msg = _encode_subaccount(owner, subaccount_number)
        self._subaccount_field = length_delimited(1, self._subaccount_msg)

    def __repr__(self) -> str:
        return (
            f"MarketEncoder(clob_pair_id={self._m.clob_pair_id}, "
            f"atomic_resolution={self._m.atomic_resolution}, "
            f"quantum_conversion_exponent={self._m.quantum_conversion_exponent}, "
            f"step_base_quantums={self._m.step_base_quantums}, "
            f"subticks_per_tick={self._m.subticks_per_tick}, "
            f"subaccount_number={self.subaccount_number})"
        )

    @property
    def clob_pair_id(self) -> int:
        """
        Return the market's CLOB pair ID.

        Returns
        -------
        int

        """
        return self._m.clob_pair_id

    @property
    def atomic_resolution(self) -> int:
        """
        Return the market's atomic resolution.

        Returns
        -------
        int

        """
        return self._m.atomic_resolution

    @property
    def quantum_conversion_exponent(self) -> int:
        """
        Return the market's quantum conversion exponent.

        Returns
        -------
        int

        """
        return self._m.quantum_conversion_exponent

    @property
    def step_base_quantums(self) -> int:
        """
        Return the market's step base quantums.

        Returns
        -------
        int

        """
        return self._m.step_base_quantums

    @property
    def subticks_per_tick(self) -> int:
        """
        Return the market's subticks per tick.

        Returns
        -------
        int

        """
        return self._m.subticks_per_tick

    @property
    def tick_size_raw(self) -> int:
        """
        Return one tick (price increment) scaled to ``10**FIXED_PRECISION``.

        Returns
        -------
        int

        """
        return self._m.tick_raw

    @property
    def step_size_raw(self) -> int:
        """
        Return one step (size increment, the minimum size) scaled to ``10**FIXED_PRECISION``.

        Returns
        -------
        int

        """
        return self._m.step_raw

    # -- Quantization -------------------------------------------------------------------------

    cdef uint64_t subticks_c(self, PriceRaw price_raw, Rounding mode) except 0:
        cdef QuantityRaw ticks
        cdef QuantityRaw rem
        if price_raw <= 0:
            raise ValueError(f"invalid price (not positive), was {_fmt_raw(price_raw)}")
        ticks = (<QuantityRaw>price_raw) / self._m.tick_raw
        rem = (<QuantityRaw>price_raw) % self._m.tick_raw
        if rem != 0:
            if mode == ROUND_EXACT:
                raise ValueError(
                    f"invalid price (not a multiple of the tick size "
                    f"{_fmt_raw(self._m.tick_raw)}), was {_fmt_raw(price_raw)}",
                )
            if mode == ROUND_CEIL:
                ticks += 1
        if ticks == 0:
            raise ValueError(
                f"invalid price (below one tick of {_fmt_raw(self._m.tick_raw)}), "
                f"was {_fmt_raw(price_raw)}",
            )
        if ticks > UINT64_MAX / self._m.subticks_per_tick:
            raise ValueError(f"invalid price (subticks overflow uint64), was {_fmt_raw(price_raw)}")
        return <uint64_t>(ticks * self._m.subticks_per_tick)

    cdef uint64_t quantums_c(self, QuantityRaw size_raw, Rounding mode) except 0:
        cdef QuantityRaw steps = size_raw / self._m.step_raw
        cdef QuantityRaw rem = size_raw % self._m.step_raw
        if size_raw == 0:
            raise ValueError("invalid size (not positive), was 0")
        if rem != 0:
            if mode == ROUND_EXACT:
                raise ValueError(
                    f"invalid size (not a multiple of the step size "
                    f"{_fmt_raw(self._m.step_raw)}), was {_fmt_raw(size_raw)}",
                )
            if mode == ROUND_CEIL:
                steps += 1
        if steps == 0:
            raise ValueError(
                f"invalid size (below one step of {_fmt_raw(self._m.step_raw)}), "
                f"was {_fmt_raw(size_raw)}",
            )
        if steps > UINT64_MAX / self._m.step_base_quantums:
            raise ValueError(f"invalid size (quantums overflow uint64), was {_fmt_raw(size_raw)}")
        return <uint64_t>(steps * self._m.step_base_quantums)

    def subticks(self, price_raw, int rounding=ROUND_EXACT) -> int:
        """
        Return the subticks of a price given as a Nautilus raw value.

        Parameters
        ----------
        price_raw : int
            The price scaled to ``10**FIXED_PRECISION`` (``Price.raw``).
        rounding : int, default ROUND_EXACT_MODE
            ``ROUND_EXACT_MODE`` refuses off-tick prices; ``ROUND_FLOOR_MODE`` rounds down (buy
            limits) and ``ROUND_CEIL_MODE`` rounds up (sell limits) to a whole tick.

        Returns
        -------
        int
            A positive multiple of ``subticks_per_tick``.

        Raises
        ------
        ValueError
            If the price is not positive, is off-tick under exact rounding, rounds to zero, or
            the subticks do not fit uint64. The message names the tick size.

        """
        if price_raw > U128_LIMIT or price_raw < -U128_LIMIT:
            raise ValueError(f"invalid price (out of range), was {_fmt_raw(price_raw)}")
        return self.subticks_c(<PriceRaw>price_raw, <Rounding>_check_rounding(rounding))

    def quantums(self, size_raw, int rounding=ROUND_EXACT) -> int:
        """
        Return the base quantums of a size given as a Nautilus raw value.

        Parameters
        ----------
        size_raw : int
            The size scaled to ``10**FIXED_PRECISION`` (``Quantity.raw``).
        rounding : int, default ROUND_EXACT_MODE
            ``ROUND_EXACT_MODE`` refuses sizes off the step; floor and ceil round to a step.

        Returns
        -------
        int
            A positive multiple of ``step_base_quantums``.

        Raises
        ------
        ValueError
            If the size is not positive, is off-step under exact rounding, rounds to zero, or
            the quantums do not fit uint64. The message names the step size.

        """
        if size_raw < 0:
            raise ValueError(f"invalid size (not positive), was {_fmt_raw(size_raw)}")
        if size_raw > U128_LIMIT:
            raise ValueError(f"invalid size (out of range), was {_fmt_raw(size_raw)}")
        return self.quantums_c(<QuantityRaw>size_raw, <Rounding>_check_rounding(rounding))

    def price_raw_from_subticks(self, subticks) -> int:
        """
        Return the Nautilus raw price of a subticks value.

        Parameters
        ----------
        subticks : int
            The price in subticks (uint64).

        Returns
        -------
        int
            The price scaled to ``10**FIXED_PRECISION``.

        Raises
        ------
        ValueError
            If `subticks` is outside uint64 or the price has more than ``FIXED_PRECISION``
            decimals.

        """
        _check_u64(subticks, "subticks")
        return _scale_exact(subticks, <object>(-self._m.price_exponent), "price")

    def size_raw_from_quantums(self, quantums) -> int:
        """
        Return the Nautilus raw size of a base quantums value.

        Parameters
        ----------
        quantums : int
            The size in base quantums (uint64).

        Returns
        -------
        int
            The size scaled to ``10**FIXED_PRECISION``.

        Raises
        ------
        ValueError
            If `quantums` is outside uint64 or the size has more than ``FIXED_PRECISION``
            decimals.

        """
        _check_u64(quantums, "quantums")
        return _scale_exact(
            quantums, <object>(self._m.atomic_resolution + FIXED_PRECISION), "size",
        )

    def quote_quantums(self, subticks, quantums) -> int:
        """
        Return the quote quantums (1e-6 USDC) of a fill, rounded down as the chain does.

        Parameters
        ----------
        subticks : int
            The price in subticks.
        quantums : int
            The size in base quantums.

        Returns
        -------
        int

        """
        _check_u64(subticks, "subticks")
        _check_u64(quantums, "quantums")
        cdef object q = self._m.quantum_conversion_exponent
        if q >= 0:
            return subticks * quantums * 10 ** q
        return (subticks * quantums) // 10 ** (-q)

    # -- Wire encoding ------------------------------------------------------------------------

    cdef Py_ssize_t _order_id_size(self, uint32_t client_id, uint32_t order_flags) noexcept:
        cdef Py_ssize_t n = PyBytes_GET_SIZE(self._subaccount_field)
        if client_id:
            n += 5
        if order_flags:
            n += 1 + varint_size(order_flags)
        if self._m.clob_pair_id:
            n += 1 + varint_size(self._m.clob_pair_id)
        return n

    cdef Py_ssize_t _write_order_id(
        self, unsigned char* buf, Py_ssize_t pos, uint32_t client_id, uint32_t order_flags,
    ) noexcept:
        cdef Py_ssize_t n = PyBytes_GET_SIZE(self._subaccount_field)
        memcpy(buf + pos, PyBytes_AS_STRING(self._subaccount_field), n)
        pos += n
        if client_id:
            buf[pos] = 0x15  # Field 2 client_id, fixed32
            pos = put_fixed32(buf, pos + 1, client_id)
        if order_flags:
            buf[pos] = 0x18
            pos = put_varint(buf, pos + 1, order_flags)
        if self._m.clob_pair_id:
            buf[pos] = 0x20
            pos = put_varint(buf, pos + 1, self._m.clob_pair_id)
        return pos

    def encode_order_id(self, uint32_t client_id, uint32_t order_flags) -> bytes:
        """
        Return the encoded ``OrderId`` of this market and subaccount.

        Parameters
        ----------
        client_id : int
            The uint32 client ID.
        order_flags : int
            0 short-term, 32 conditional, 64 long-term.

        Returns
        -------
        bytes

        """
        cdef unsigned char buf[ORDER_BUF]
        cdef Py_ssize_t end = self._write_order_id(buf, 0, client_id, order_flags)
        return PyBytes_FromStringAndSize(<char*>buf, end)

    cdef Py_ssize_t _write_order(
        self,
        unsigned char* buf,
        Py_ssize_t pos,
        uint32_t client_id,
        uint32_t order_flags,
        int side,
        uint64_t quantums,
        uint64_t subticks,
        uint32_t good_til_block,
        uint32_t good_til_block_time,
        int time_in_force,
        bint reduce_only,
        uint32_t client_metadata,
        int condition_type,
        uint64_t trigger_subticks,
    ) except -1:
        if side < 0 or side > 2:
            raise ValueError(f"invalid side, was {side}")
        if time_in_force < 0 or time_in_force > 3:
            raise ValueError(f"invalid time_in_force, was {time_in_force}")
        if condition_type < 0 or condition_type > 2:
            raise ValueError(f"invalid condition_type, was {condition_type}")
        buf[pos] = 0x0a
        pos = put_varint(buf, pos + 1, <uint64_t>self._order_id_size(client_id, order_flags))
        pos = self._write_order_id(buf, pos, client_id, order_flags)
        if side:
            buf[pos] = 0x10
            pos = put_varint(buf, pos + 1, <uint64_t>side)
        if quantums:
            buf[pos] = 0x18
            pos = put_varint(buf, pos + 1, quantums)
        if subticks:
            buf[pos] = 0x20
            pos = put_varint(buf, pos + 1, subticks)
        # Oneof good_til_oneof: the block time wins when both are given
        if good_til_block_time:
            buf[pos] = 0x35
            pos = put_fixed32(buf, pos + 1, good_til_block_time)
        elif good_til_block:
            buf[pos] = 0x28
            pos = put_varint(buf, pos + 1, good_til_block)
        if time_in_force:
            buf[pos] = 0x38
            pos = put_varint(buf, pos + 1, <uint64_t>time_in_force)
        if reduce_only:
            buf[pos] = 0x40
            buf[pos + 1] = 0x01
            pos += 2
        if client_metadata:
            buf[pos] = 0x48
            pos = put_varint(buf, pos + 1, client_metadata)
        if condition_type:
            buf[pos] = 0x50
            pos = put_varint(buf, pos + 1, <uint64_t>condition_type)
        if trigger_subticks:
            buf[pos] = 0x58
            pos = put_varint(buf, pos + 1, trigger_subticks)
        return pos

    cpdef bytes encode_order(
        self,
        uint32_t client_id,
        uint32_t order_flags,
        int side,
        uint64_t quantums,
        uint64_t subticks,
        uint32_t good_til_block=0,
        uint32_t good_til_block_time=0,
        int time_in_force=0,
        bint reduce_only=False,
        uint32_t client_metadata=0,
        int condition_type=0,
        uint64_t conditional_order_trigger_subticks=0,
    ):
        """
        Return the encoded ``dydxprotocol.clob.Order``.

        Zero-valued fields are omitted as in canonical protobuf; of ``good_til_block`` and
        ``good_til_block_time`` (a oneof) the non-zero one is written, the block time if both.

        Parameters
        ----------
        client_id : int
            The uint32 client ID (fixed32 on the wire).
        order_flags : int
            0 short-term, 32 conditional, 64 long-term.
        side : int
            1 buy, 2 sell.
        quantums : int
            The size in base quantums.
        subticks : int
            The limit (or worst acceptable) price in subticks.
        good_til_block : int, default 0
            The expiry block of a short-term order.
        good_til_block_time : int, default 0
            The expiry unix time (seconds) of a stateful order.
        time_in_force : int, default 0
            0 unspecified, 1 IOC, 2 post-only, 3 fill-or-kill.
        reduce_only : bool, default False
            If the order may only reduce a position.
        client_metadata : int, default 0
            The opaque uint32 echoed by the indexer.
        condition_type : int, default 0
            0 none, 1 stop-loss, 2 take-profit.
        conditional_order_trigger_subticks : int, default 0
            The trigger price in subticks of a conditional order.

        Returns
        -------
        bytes

        Raises
        ------
        ValueError
            If an enum value is out of range.

        """
        cdef unsigned char buf[ORDER_BUF]
        cdef Py_ssize_t end = self._write_order(
            buf, 0, client_id, order_flags, side, quantums, subticks, good_til_block,
            good_til_block_time, time_in_force, reduce_only, client_metadata, condition_type,
            conditional_order_trigger_subticks,
        )
        return PyBytes_FromStringAndSize(<char*>buf, end)

    def place_order_any(
        self,
        uint32_t client_id,
        uint32_t order_flags,
        int side,
        uint64_t quantums,
        uint64_t subticks,
        uint32_t good_til_block=0,
        uint32_t good_til_block_time=0,
        int time_in_force=0,
        bint reduce_only=False,
        uint32_t client_metadata=0,
        int condition_type=0,
        uint64_t conditional_order_trigger_subticks=0,
    ) -> bytes:
        """
        Return the ``Any`` holding a ``MsgPlaceOrder`` for the order (see `encode_order`).

        Returns
        -------
        bytes

        """
        cdef unsigned char buf[ORDER_BUF]
        cdef Py_ssize_t end = self._write_order(
            buf, HEADROOM, client_id, order_flags, side, quantums, subticks, good_til_block,
            good_til_block_time, time_in_force, reduce_only, client_metadata, condition_type,
            conditional_order_trigger_subticks,
        )
        cdef uint64_t order_len = end - HEADROOM
        cdef uint64_t msg_len = 1 + varint_size(order_len) + order_len
        cdef Py_ssize_t url_len = PyBytes_GET_SIZE(ANY_PLACE_ORDER)
        cdef Py_ssize_t start = HEADROOM - (
            url_len + 1 + varint_size(msg_len) + 1 + varint_size(order_len)
        )
        cdef Py_ssize_t pos = start
        memcpy(buf + pos, PyBytes_AS_STRING(ANY_PLACE_ORDER), url_len)
        buf[pos + url_len] = 0x12
        pos = put_varint(buf, pos + url_len + 1, msg_len)
        buf[pos] = 0x0a
        put_varint(buf, pos + 1, order_len)
        return PyBytes_FromStringAndSize(<char*>buf + start, end - start)

    def encode_place_order(self, *args, **kwargs) -> bytes:
        """
        Return the encoded ``MsgPlaceOrder`` (arguments as `encode_order`).

        Returns
        -------
        bytes

        """
        return length_delimited(1, self.encode_order(*args, **kwargs))

    cpdef bytes encode_cancel_order(
        self,
        uint32_t client_id,
        uint32_t order_flags,
        uint32_t good_til_block=0,
        uint32_t good_til_block_time=0,
    ):
        """
        Return the encoded ``MsgCancelOrder``.

        Parameters
        ----------
        client_id : int
            The client ID of the order to cancel.
        order_flags : int
            The order flags of the order to cancel.
        good_til_block : int, default 0
            The cancel's expiry block (short-term cancels).
        good_til_block_time : int, default 0
            The cancel's expiry unix time in seconds (stateful cancels); wins if both are given.

        Returns
        -------
        bytes

        """
        cdef unsigned char buf[ORDER_BUF]
        cdef Py_ssize_t pos
        buf[0] = 0x0a
        pos = put_varint(buf, 1, <uint64_t>self._order_id_size(client_id, order_flags))
        pos = self._write_order_id(buf, pos, client_id, order_flags)
        if good_til_block_time:
            buf[pos] = 0x1d
            pos = put_fixed32(buf, pos + 1, good_til_block_time)
        elif good_til_block:
            buf[pos] = 0x10
            pos = put_varint(buf, pos + 1, good_til_block)
        return PyBytes_FromStringAndSize(<char*>buf, pos)

    def cancel_order_any(
        self,
        uint32_t client_id,
        uint32_t order_flags,
        uint32_t good_til_block=0,
        uint32_t good_til_block_time=0,
    ) -> bytes:
        """
        Return the ``Any`` holding a ``MsgCancelOrder`` (see `encode_cancel_order`).

        Returns
        -------
        bytes

        """
        cdef bytes msg = self.encode_cancel_order(
            client_id, order_flags, good_til_block, good_til_block_time,
        )
        return ANY_CANCEL_ORDER + length_delimited(2, msg)

    def encode_batch_cancel(self, list batches not None, uint32_t good_til_block) -> bytes:
        """
        Return the encoded ``MsgBatchCancel`` for this subaccount.

        Parameters
        ----------
        batches : list[tuple[int, list[int]]]
            ``(clob_pair_id, client_ids)`` pairs; client IDs are packed uint32 varints.
        good_til_block : int
            The expiry block of every listed cancel.

        Returns
        -------
        bytes

        Raises
        ------
        ValueError
            If a clob pair ID or client ID is out of uint32 range.

        """
        cdef list parts = [length_delimited(1, self._subaccount_msg)]
        cdef bytes batch
        for clob_pair_id, client_ids in batches:
            if clob_pair_id < 0 or clob_pair_id > UINT32_MAX:
                raise ValueError(f"invalid clob_pair_id, was {clob_pair_id!r}")
            batch = _varint_field(1, clob_pair_id) if clob_pair_id else b""
            if client_ids:
                batch += length_delimited(2, _packed_varints(client_ids, UINT32_MAX, "client_id"))
            parts.append(length_delimited(2, batch))
        if good_til_block:
            parts.append(_varint_field(3, good_til_block))
        return b"".join(parts)

    def batch_cancel_any(self, list batches not None, uint32_t good_til_block) -> bytes:
        """
        Return the ``Any`` holding a ``MsgBatchCancel`` (see `encode_batch_cancel`).

        Returns
        -------
        bytes

        """
        return ANY_BATCH_CANCEL + length_delimited(
            2, self.encode_batch_cancel(batches, good_til_block),
        )


cdef object _scale_exact(object value, object exponent, str what):
    # value * 10**exponent as an exact integer inside the signed 128-bit range, else ValueError
    if exponent >= 0:
        result = value * 10 ** exponent
    else:
        result, rem = divmod(value, 10 ** (-exponent))
        if rem:
            raise ValueError(
                f"invalid {what} (more than {FIXED_PRECISION} decimals), was {value} "
                f"x 10^{exponent - FIXED_PRECISION}",
            )
    if result > U128_LIMIT:
        raise ValueError(f"invalid {what} (out of range), was {value} x 10^{exponent}")
    if result == 0 and value != 0:
        raise ValueError(f"invalid {what} (rounds to zero), was {value}")
    return result


cdef int _check_rounding(int rounding) except -1:
    if rounding != ROUND_EXACT and rounding != ROUND_FLOOR and rounding != ROUND_CEIL:
        raise ValueError(f"invalid rounding, was {rounding}")
    return rounding


cdef int _check_u64(object value, str what) except -1:
    if value < 0 or value > UINT64_MAX:
        raise ValueError(f"invalid {what} (outside uint64), was {value!r}")
    return 0


def encode_any(str type_url not None, bytes value not None) -> bytes:
    """
    Return an encoded ``google.protobuf.Any``.

    Parameters
    ----------
    type_url : str
        The type URL, such as ``"/dydxprotocol.clob.MsgPlaceOrder"``.
    value : bytes
        The encoded message.

    Returns
    -------
    bytes

    """
    cdef bytes out = length_delimited(1, type_url.encode("utf-8")) if type_url else b""
    if value:
        out += length_delimited(2, value)
    return out


cdef bytes _tx_body(object messages, str memo, uint64_t timeout_height, object authenticators):
    cdef list parts
    if isinstance(messages, bytes):
        parts = [length_delimited(1, <bytes>messages)]
    else:
        parts = [length_delimited(1, _check_bytes(m, "message")) for m in messages]
    if memo:
        parts.append(length_delimited(2, memo.encode("utf-8")))
    if timeout_height:
        parts.append(_varint_field(3, timeout_height))
    if authenticators is not None:
        ext = _packed_varints(authenticators, UINT64_MAX, "authenticator id")
        ext_msg = length_delimited(1, ext) if ext else b""
        parts.append(length_delimited(2047, encode_any(TYPE_URL_TX_EXTENSION, ext_msg)))
    return b"".join(parts)


def encode_tx_body(
    messages,
    str memo not None="",
    uint64_t timeout_height=0,
    authenticators=None,
) -> bytes:
    """
    Return an encoded ``cosmos.tx.v1beta1.TxBody``.

    Parameters
    ----------
    messages : bytes | list[bytes]
        One encoded ``Any`` or a list of them.
    memo : str, default ""
        The memo.
    timeout_height : int, default 0
        The timeout height (leave 0 for order transactions).
    authenticators : list[int], optional
        If given (even empty), a ``/dydxprotocol.accountplus.TxExtension`` with these
        selected authenticator IDs is added to ``non_critical_extension_options``.

    Returns
    -------
    bytes

    """
    return _tx_body(messages, memo, timeout_height, authenticators)


cdef bytes _pubkey_signer_fields(bytes public_key):
    cdef bytes pubkey_msg = length_delimited(1, public_key)
    cdef bytes pubkey_any = encode_any(TYPE_URL_PUBKEY, pubkey_msg)
    # Field 2 mode_info { single { mode: SIGN_MODE_DIRECT } }
    return length_delimited(1, pubkey_any) + b"\x12\x04\x0a\x02\x08\x01"


cdef bytes _fee(uint64_t gas_limit, object fee_amount):
    cdef list parts = []
    if fee_amount:
        for denom, amount in fee_amount:
            coin = b""
            if denom:
                coin += length_delimited(1, str(denom).encode("utf-8"))
            if str(amount):
                coin += length_delimited(2, str(amount).encode("utf-8"))
            parts.append(length_delimited(1, coin))
    if gas_limit:
        parts.append(_varint_field(2, gas_limit))
    return length_delimited(2, b"".join(parts))


def encode_auth_info(
    bytes public_key not None,
    uint64_t sequence,
    uint64_t gas_limit,
    fee_amount=None,
) -> bytes:
    """
    Return an encoded ``AuthInfo`` with one SIGN_MODE_DIRECT secp256k1 signer.

    Parameters
    ----------
    public_key : bytes
        The 33-byte compressed public key.
    sequence : int
        The signer's account sequence.
    gas_limit : int
        The fee gas limit.
    fee_amount : list[tuple[str, int | str]], optional
        Fee coins as ``(denom, amount)``; none for order transactions.

    Returns
    -------
    bytes

    """
    cdef bytes signer = _pubkey_signer_fields(public_key)
    if sequence:
        signer += _varint_field(3, sequence)
    return length_delimited(1, signer) + _fee(gas_limit, fee_amount)


def encode_sign_doc(
    bytes body_bytes not None,
    bytes auth_info_bytes not None,
    str chain_id not None,
    uint64_t account_number,
) -> bytes:
    """
    Return an encoded ``SignDoc``.

    Parameters
    ----------
    body_bytes : bytes
        The encoded ``TxBody``.
    auth_info_bytes : bytes
        The encoded ``AuthInfo``.
    chain_id : str
        The chain ID, such as ``"dydx-mainnet-1"``.
    account_number : int
        The signer's account number.

    Returns
    -------
    bytes

    """
    return (
        (length_delimited(1, body_bytes) if body_bytes else b"")
        + (length_delimited(2, auth_info_bytes) if auth_info_bytes else b"")
        + _sign_doc_tail(chain_id, account_number)
    )


cdef bytes _sign_doc_tail(str chain_id, uint64_t account_number):
    cdef bytes out = length_delimited(3, chain_id.encode("utf-8")) if chain_id else b""
    if account_number:
        out += _varint_field(4, account_number)
    return out


def encode_tx_raw(
    bytes body_bytes not None,
    bytes auth_info_bytes not None,
    list signatures not None,
) -> bytes:
    """
    Return an encoded ``TxRaw``.

    Parameters
    ----------
    body_bytes : bytes
        The encoded ``TxBody``, exactly as signed.
    auth_info_bytes : bytes
        The encoded ``AuthInfo``, exactly as signed.
    signatures : list[bytes]
        The 64-byte signatures.

    Returns
    -------
    bytes

    """
    cdef list parts = []
    if body_bytes:
        parts.append(length_delimited(1, body_bytes))
    if auth_info_bytes:
        parts.append(length_delimited(2, auth_info_bytes))
    for sig in signatures:
        parts.append(length_delimited(3, _check_bytes(sig, "signature")))
    return b"".join(parts)


def tx_hash(bytes tx_raw not None) -> str:
    """
    Return the transaction hash: upper-case hex SHA-256 of the ``TxRaw`` bytes.

    Parameters
    ----------
    tx_raw : bytes

    Returns
    -------
    str

    """
    return _sha256(tx_raw).hexdigest().upper()


cdef class TxSigner:
    """
    Sign transactions for one account with SIGN_MODE_DIRECT (secp256k1, RFC 6979, low-S).

    The private key stays inside a coincurve key object; it is never stored as an attribute,
    shown by ``repr`` or included in exception text.

    Parameters
    ----------
    private_key : bytes
        The 32-byte secp256k1 private key.
    chain_id : str
        The chain ID, such as ``"dydx-mainnet-1"``.
    account_number : int
        The account number.
    gas_limit : int, default 1_000_000
        The fee gas limit (clob transactions run with free gas).
    fee_amount : list[tuple[str, int | str]], optional
        Fee coins as ``(denom, amount)``; none for order transactions.

    Raises
    ------
    ValueError
        If the private key is not a valid secp256k1 secret.

    """

    def __init__(
        self,
        bytes private_key not None,
        str chain_id not None,
        uint64_t account_number,
        uint64_t gas_limit=1_000_000,
        fee_amount=None,
    ):
        if len(private_key) != 32:
            raise ValueError("invalid private key (expected 32 bytes)")
        try:
            key = coincurve.PrivateKey(private_key)
        except Exception:
            # Never chain the original exception: its text could quote the secret
            raise ValueError("invalid private key (not a valid secp256k1 secret)") from None
        self._sign = key.sign_recoverable
        memcpy(self._seckey, PyBytes_AS_STRING(private_key), 32)
        self.public_key = key.public_key.format(compressed=True)
        self.chain_id = chain_id
        self.account_number = account_number
        self.gas_limit = gas_limit
        self._pubkey_any_field = _pubkey_signer_fields(self.public_key)
        self._fee_field = _fee(gas_limit, fee_amount)
        self._sign_doc_tail = _sign_doc_tail(chain_id, account_number)

    def __repr__(self) -> str:
        return (
            f"TxSigner(public_key={self.public_key.hex()}, chain_id={self.chain_id!r}, "
            f"account_number={self.account_number})"
        )

    def __reduce__(self):
        raise TypeError("TxSigner holds a private key and cannot be pickled")

    def __dealloc__(self):
        memset(self._seckey, 0, 32)

    cpdef bytes auth_info(self, uint64_t sequence):
        """
        Return the encoded ``AuthInfo`` for a sequence.

        Parameters
        ----------
        sequence : int
            The account sequence.

        Returns
        -------
        bytes

        """
        cdef bytes signer = self._pubkey_any_field
        if sequence:
            signer = signer + _varint_field(3, sequence)
        return length_delimited(1, signer) + self._fee_field

    cpdef bytes sign_digest(self, bytes digest):
        """
        Return the 64-byte ``r || s`` low-S signature of a 32-byte digest (RFC 6979 nonce).

        Parameters
        ----------
        digest : bytes
            The SHA-256 digest to sign.

        Returns
        -------
        bytes

        Raises
        ------
        ValueError
            If the digest is not 32 bytes.

        """
        if digest is None or PyBytes_GET_SIZE(digest) != 32:
            raise ValueError("invalid digest (expected 32 bytes)")
        cdef unsigned char sig_struct[64]
        cdef unsigned char compact[64]
        cdef const unsigned char* msg = <const unsigned char*>PyBytes_AS_STRING(digest)
        cdef bytes sig
        if _secp_sign != NULL:
            with nogil:
                if _secp_sign(_secp_ctx, sig_struct, msg, self._seckey, NULL, NULL) != 1:
                    with gil:
                        raise ValueError("signing failed")
                _secp_serialize(_secp_ctx, compact, sig_struct)
            sig = PyBytes_FromStringAndSize(<char*>compact, 64)
        else:
            sig = (<bytes>self._sign(digest, None))[:64]
        if memcmp(PyBytes_AS_STRING(sig) + 32, PyBytes_AS_STRING(HALF_N), 32) > 0:
            # libsecp256k1 already normalises; kept so the invariant never depends on it
            s = SECP256K1_N - int.from_bytes(sig[32:], "big")
            sig = sig[:32] + s.to_bytes(32, "big")
        return sig

    cpdef bytes sign_tx(
        self,
        object messages,
        uint64_t sequence,
        str memo="",
        uint64_t timeout_height=0,
        object authenticators=None,
    ):
        """
        Return the signed ``TxRaw`` bytes for the messages.

        Parameters
        ----------
        messages : bytes | list[bytes]
            One encoded ``Any`` or a list of them.
        sequence : int
            The account sequence (covered by the signature).
        memo : str, default ""
            The memo.
        timeout_height : int, default 0
            The timeout height.
        authenticators : list[int], optional
            Selected authenticator IDs for a ``TxExtension`` (see `encode_tx_body`).

        Returns
        -------
        bytes

        """
        cdef bytes body = _tx_body(messages, memo or "", timeout_height, authenticators)
        cdef bytes auth = self.auth_info(sequence)
        cdef bytes prefix = length_delimited(1, body) + length_delimited(2, auth)
        cdef bytes sig = self.sign_digest(_sha256(prefix + self._sign_doc_tail).digest())
        return prefix + b"\x1a\x40" + sig


# -- Client order IDs -------------------------------------------------------------------------
# The packed layout of `nautilus_dydx.client_ids` (documented there), for ASCII IDs

cdef int64_t _PACK_EPOCH_SECONDS = 1_704_067_200  # 2024-01-01T00:00:00Z
cdef int _PACK_TIME_BITS = 28
cdef int _PACK_TAG_BITS = 10
cdef int _PACK_COUNT_BITS = 14
cdef Py_ssize_t _PACK_PREFIX_LENGTH = 26  # len("O-YYYYMMDD-HHMMSS-TTT-SSS-")


cdef inline bint _ascii_digits(const char* p, Py_ssize_t n, int64_t* out) noexcept nogil:
    cdef int64_t value = 0
    cdef Py_ssize_t i
    for i in range(n):
        if p[i] < 48 or p[i] > 57:
            return False
        value = value * 10 + (p[i] - 48)
    out[0] = value
    return True


cdef inline int64_t _days_from_civil(int64_t y, int64_t m, int64_t d) noexcept nogil:
    # Days since 1970-01-01 of a proleptic Gregorian date (y >= 0)
    cdef int64_t era
    cdef int64_t yoe
    cdef int64_t doy
    cdef int64_t doe
    if m <= 2:
        y -= 1
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


cdef inline int64_t _days_in_month(int64_t y, int64_t m) noexcept nogil:
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    if m == 4 or m == 6 or m == 9 or m == 11:
        return 30
    return 31


cdef inline uint32_t _mix32(uint32_t value) noexcept nogil:
    # Murmur3 finaliser, as `client_ids._mix32`
    value ^= value >> 16
    value = value * 0x85EBCA6BU
    value ^= value >> 13
    value = value * 0xC2B2AE35U
    value ^= value >> 16
    return value


@cython.cdivision(False)
def pack_ascii_client_order_id(str client_order_id not None):
    """
    Return the packed ``(client_id, client_metadata)`` of an ASCII ID, or ``None``.

    The compiled form of `nautilus_dydx.client_ids.pack_client_order_id` for ASCII IDs
    (``O-YYYYMMDD-HHMMSS-TTT-SSS-N``, N without leading zeros and below 16384, generated
    from 2024 until the 28-bit time runs out); ``None`` for any other ID, non-ASCII included.

    Parameters
    ----------
    client_order_id : str
        The Nautilus client order ID.

    Returns
    -------
    tuple[int, int] | None

    """
    cdef Py_ssize_t n = 0
    cdef const char* p
    cdef int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0
    cdef int64_t trader = 0, strategy = 0, count = 0, seconds
    cdef uint64_t payload
    cdef uint32_t metadata
    if not client_order_id.isascii():
        return None
    p = PyUnicode_AsUTF8AndSize(client_order_id, &n)
    if n <= _PACK_PREFIX_LENGTH or n > _PACK_PREFIX_LENGTH + 5:
        return None
    if (
        p[0] != 79 or p[1] != 45 or p[10] != 45 or p[17] != 45 or p[21] != 45
        or p[25] != 45  # "O-", then "-" after the date, time and both tags
    ):
        return None
    if not (
        _ascii_digits(p + 2, 4, &year) and _ascii_digits(p + 6, 2, &month)
        and _ascii_digits(p + 8, 2, &day) and _ascii_digits(p + 11, 2, &hour)
        and _ascii_digits(p + 13, 2, &minute) and _ascii_digits(p + 15, 2, &second)
        and _ascii_digits(p + 18, 3, &trader) and _ascii_digits(p + 22, 3, &strategy)
    ):
        return None
    if not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    # The count: 1 to 5 digits, no leading zero, below 2**14
    if p[26] < 49 or p[26] > 57 or not _ascii_digits(p + 26, n - 26, &count):
        return None
    if count >= (1 << _PACK_COUNT_BITS):
        return None
    seconds = (
        _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
        - _PACK_EPOCH_SECONDS
    )
    if seconds < 0 or seconds >= (<int64_t>1 << _PACK_TIME_BITS):
        return None
    payload = (
        ((((<uint64_t>seconds << _PACK_TAG_BITS) | <uint64_t>trader) << _PACK_TAG_BITS)
         | <uint64_t>strategy) << _PACK_COUNT_BITS
    )
    metadata = <uint32_t>(0x8000_0000 | (payload >> 32))
    return (
        (<uint32_t>(payload & 0xFFFF_FFFF) | <uint32_t>count) ^ _mix32(metadata),
        metadata,
    )
