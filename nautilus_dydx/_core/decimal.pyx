# SPDX-License-Identifier: Apache-2.0
"""Exact ASCII decimal text <-> Nautilus raw fixed-point integers (no Decimal, no float)."""

import cython

from libc.stdint cimport uint8_t

from nautilus_trader.core.rust.model cimport FIXED_PRECISION
from nautilus_trader.core.rust.model cimport FIXED_SCALAR
from nautilus_trader.core.rust.model cimport PRICE_MAX
from nautilus_trader.core.rust.model cimport QUANTITY_MAX
from nautilus_trader.core.rust.model cimport PriceRaw
from nautilus_trader.core.rust.model cimport QuantityRaw


# Same expressions as Nautilus's PRICE_RAW_MAX / QUANTITY_RAW_MAX (f64 product cast to the raw type)
PRICE_RAW_LIMIT = <PriceRaw>(PRICE_MAX * FIXED_SCALAR)
QUANTITY_RAW_LIMIT = <QuantityRaw>(QUANTITY_MAX * FIXED_SCALAR)
DECIMAL_RAW_LIMIT = QUANTITY_RAW_LIMIT

cdef QuantityRaw[17] _POW10
cdef int _i
_POW10[0] = 1
for _i in range(1, 17):
    _POW10[_i] = _POW10[_i - 1] * 10

cdef dict _MESSAGES = {
    DEC_EMPTY: "empty",
    DEC_NO_DIGITS: "no digits",
    DEC_BAD_CHAR: "not a plain ASCII decimal (digits, one '.', optional leading sign)",
    DEC_TWO_DOTS: "more than one '.'",
    DEC_TOO_PRECISE: f"more than {FIXED_PRECISION} decimal places",
    DEC_OVERFLOW: "out of range",
    DEC_NEGATIVE: "negative",
}
_EXP_MESSAGES = dict(_MESSAGES)
_EXP_MESSAGES[DEC_BAD_CHAR] = (
    "not an ASCII decimal (digits, one '.', optional sign and exponent)"
)


@cython.boundscheck(False)
@cython.wraparound(False)
cdef int parse_decimal_c(
    const char* ptr,
    Py_ssize_t size,
    PriceRaw* raw_out,
    uint8_t* precision_out,
) noexcept nogil:
    # Grammar: [+-] digits [. digits], or [+-] . digits; at most FIXED_PRECISION decimals
    cdef:
        Py_ssize_t i = 0
        QuantityRaw value = 0
        QuantityRaw limit_div10 = DECIMAL_RAW_LIMIT // 10
        bint negative = False
        bint seen_dot = False
        int digits = 0
        int decimals = 0
        unsigned char c
        unsigned int d
    if size <= 0:
        return DEC_EMPTY
    c = <unsigned char>ptr[0]
    if c == 45 or c == 43:  # '-' or '+'
        negative = c == 45
        i = 1
    while i < size:
        c = <unsigned char>ptr[i]
        if 48 <= c <= 57:
            d = c - 48
            if seen_dot:
                decimals += 1
                if decimals > FIXED_PRECISION:
                    return DEC_TOO_PRECISE
            if value > limit_div10:
                return DEC_OVERFLOW
            value = value * 10 + d
            digits += 1
        elif c == 46:  # '.'
            if seen_dot:
                return DEC_TWO_DOTS
            seen_dot = True
        else:
            return DEC_BAD_CHAR
        i += 1
    if digits == 0:
        return DEC_NO_DIGITS
    # Scale to FIXED_PRECISION decimals, refusing anything beyond the widest Nautilus range
    if value > DECIMAL_RAW_LIMIT // _POW10[FIXED_PRECISION - decimals]:
        return DEC_OVERFLOW
    value *= _POW10[FIXED_PRECISION - decimals]
    raw_out[0] = -<PriceRaw>value if negative else <PriceRaw>value
    precision_out[0] = <uint8_t>decimals
    return DEC_OK


@cython.boundscheck(False)
@cython.wraparound(False)
cdef int parse_decimal_round_c(
    const char* ptr,
    Py_ssize_t size,
    uint8_t target,
    PriceRaw* raw_out,
    uint8_t* precision_out,
) noexcept nogil:
    # Grammar: [+-] (digits [. [digits]] | . digits) [(e|E) [+-] digits], any number of places;
    # rounds half-even to `target` (<= FIXED_PRECISION) decimals, raw at FIXED_PRECISION;
    # precision_out: the decimals written (after the exponent), at most `target`
    cdef:
        Py_ssize_t i = 0
        Py_ssize_t int_start, int_len = 0, frac_start = 0, frac_len = 0
        Py_ssize_t m, j, cut, kept
        Py_ssize_t exponent = 0
        Py_ssize_t effective
        bint negative = False
        bint exp_negative = False
        bint sticky = False
        int exp_digits = 0
        unsigned char c
        unsigned int d
        unsigned int round_digit = 0
        QuantityRaw value = 0
        QuantityRaw scale
    if size <= 0:
        return DEC_EMPTY
    if target > FIXED_PRECISION:
        return DEC_TOO_PRECISE
    c = <unsigned char>ptr[0]
    if c == 45 or c == 43:  # '-' or '+'
        negative = c == 45
        i = 1
    int_start = i
    while i < size and 48 <= <unsigned char>ptr[i] <= 57:
        i += 1
    int_len = i - int_start
    if i < size and ptr[i] == 46:  # '.'
        i += 1
        frac_start = i
        while i < size and 48 <= <unsigned char>ptr[i] <= 57:
            i += 1
        frac_len = i - frac_start
        if i < size and ptr[i] == 46:
            return DEC_TWO_DOTS
    if int_len + frac_len == 0:
        return DEC_NO_DIGITS
    if i < size and (ptr[i] == 101 or ptr[i] == 69):  # 'e' or 'E'
        i += 1
        if i < size and (ptr[i] == 43 or ptr[i] == 45):
            exp_negative = ptr[i] == 45
            i += 1
        while i < size and 48 <= <unsigned char>ptr[i] <= 57:
            # Saturate: beyond 10**6 every value is 0 or out of range anyway
            if exponent < 1_000_000:
                exponent = exponent * 10 + (ptr[i] - 48)
            exp_digits += 1
            i += 1
        if exp_digits == 0:
            return DEC_BAD_CHAR
        if exp_negative:
            exponent = -exponent
    if i != size:
        return DEC_BAD_CHAR
    # Digit j (of the int digits then the fraction digits) has place int_len - 1 - j + exponent;
    # the first `cut` digits are at or above 10**-target
    m = int_len + frac_len
    cut = int_len + exponent + target
    kept = cut if cut < m else m
    if kept < 0:
        kept = 0
    for j in range(kept):
        c = <unsigned char>(ptr[int_start + j] if j < int_len else ptr[frac_start + j - int_len])
        if value > DECIMAL_RAW_LIMIT:
            return DEC_OVERFLOW
        value = value * 10 + (c - 48)
    if cut > m:
        # Whole digits below the last digit written: scale up, refusing overflow
        j = cut - m
        while j > 0:
            if value == 0:
                break
            if value > DECIMAL_RAW_LIMIT:
                return DEC_OVERFLOW
            value *= 10
            j -= 1
    elif cut < m:
        for j in range(kept, m):
            c = <unsigned char>(
                ptr[int_start + j] if j < int_len else ptr[frac_start + j - int_len]
            )
            d = c - 48
            if j == cut:
                round_digit = d
            elif d != 0:
                sticky = True
        if round_digit > 5 or (round_digit == 5 and (sticky or (value & 1))):
            value += 1
    if value > DECIMAL_RAW_LIMIT:
        return DEC_OVERFLOW
    scale = _POW10[FIXED_PRECISION - target]
    if value > DECIMAL_RAW_LIMIT // scale:
        return DEC_OVERFLOW
    value *= scale
    raw_out[0] = -<PriceRaw>value if negative else <PriceRaw>value
    effective = frac_len - exponent
    if effective < 0:
        effective = 0
    precision_out[0] = <uint8_t>(effective if effective < target else target)
    return DEC_OK


cdef object decimal_error_c(int code, const char* ptr, Py_ssize_t size, str what):
    text = ptr[:size].decode("ascii", "backslashreplace")
    kind = f"{what} decimal" if what else "decimal"
    return ValueError(f"invalid {kind} ({_MESSAGES.get(code, code)}), was {text!r}")


cdef PriceRaw price_raw_c(const char* ptr, Py_ssize_t size, uint8_t* precision_out) except? -1:
    cdef PriceRaw raw = 0
    cdef int code = parse_decimal_c(ptr, size, &raw, precision_out)
    if code == DEC_OK and (raw > PRICE_RAW_LIMIT or raw < -PRICE_RAW_LIMIT):
        code = DEC_OVERFLOW
    if code != DEC_OK:
        raise decimal_error_c(code, ptr, size, "price")
    return raw


cdef QuantityRaw quantity_raw_c(
    const char* ptr,
    Py_ssize_t size,
    uint8_t* precision_out,
) except? 0:
    cdef PriceRaw raw = 0
    cdef int code = parse_decimal_c(ptr, size, &raw, precision_out)
    if code == DEC_OK and raw < 0:
        code = DEC_NEGATIVE
    if code != DEC_OK:
        raise decimal_error_c(code, ptr, size, "quantity")
    return <QuantityRaw>raw


cdef bytes _as_ascii(object text):
    if isinstance(text, bytes):
        return <bytes>text
    if isinstance(text, str):
        if not (<str>text).isascii():
            raise ValueError(f"invalid decimal (non-ASCII), was {text!r}")
        return (<str>text).encode("ascii")
    raise TypeError(f"decimal text must be str or bytes, was {type(text).__name__}")


def parse_decimal(text) -> tuple:
    """
    Return the raw fixed-point value and the precision of a decimal string.

    Parameters
    ----------
    text : str | bytes
        An ASCII decimal such as ``"65432.10"`` or ``b"-0.5"``; no exponent, no whitespace.

    Returns
    -------
    tuple[int, int]
        The value scaled by ``10**FIXED_PRECISION`` and the number of decimals written.

    Raises
    ------
    ValueError
        If the text is not a plain decimal, has more than ``FIXED_PRECISION`` decimals or is
        outside the widest Nautilus range.

    """
    cdef bytes data = _as_ascii(text)
    cdef PriceRaw raw = 0
    cdef uint8_t precision = 0
    cdef int code = parse_decimal_c(data, len(data), &raw, &precision)
    if code != DEC_OK:
        raise decimal_error_c(code, data, len(data), "")
    return raw, precision


def price_raw(text) -> tuple:
    """
    Return the raw value and precision that ``Price.from_str(text)`` would hold.

    Parameters
    ----------
    text : str | bytes
        An ASCII decimal price.

    Returns
    -------
    tuple[int, int]

    Raises
    ------
    ValueError
        If the text is malformed or outside the Nautilus price range.

    """
    cdef bytes data = _as_ascii(text)
    cdef uint8_t precision = 0
    cdef PriceRaw raw = price_raw_c(data, len(data), &precision)
    return raw, precision


def quantity_raw(text) -> tuple:
    """
    Return the raw value and precision that ``Quantity.from_str(text)`` would hold.

    Parameters
    ----------
    text : str | bytes
        An ASCII decimal quantity (not negative).

    Returns
    -------
    tuple[int, int]

    Raises
    ------
    ValueError
        If the text is malformed, negative or outside the Nautilus quantity range.

    """
    cdef bytes data = _as_ascii(text)
    cdef uint8_t precision = 0
    cdef QuantityRaw raw = quantity_raw_c(data, len(data), &precision)
    return raw, precision


@cython.boundscheck(False)
@cython.wraparound(False)
def format_raw(raw, int precision) -> str:
    """
    Return the decimal string of a raw fixed-point value with exactly `precision` decimals.

    Parameters
    ----------
    raw : int
        The value scaled by ``10**FIXED_PRECISION``.
    precision : int
        The decimals to write, from 0 to ``FIXED_PRECISION``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If `precision` is out of range, the value does not fit the raw type, or it has
        non-zero digits beyond `precision` (formatting never rounds).

    """
    if precision < 0 or precision > FIXED_PRECISION:
        raise ValueError(f"invalid precision, was {precision}")
    if raw > DECIMAL_RAW_LIMIT or raw < -<object>DECIMAL_RAW_LIMIT:
        raise ValueError(f"invalid raw value (out of range), was {raw}")
    cdef:
        bint negative = raw < 0
        QuantityRaw magnitude = -raw if negative else raw
        QuantityRaw unit = _POW10[FIXED_PRECISION - precision]
        char[48] buf
        int pos = 47
        int written = 0
    if magnitude % unit != 0:
        raise ValueError(f"invalid raw value (digits beyond precision {precision}), was {raw}")
    magnitude //= unit
    while written <= precision or magnitude != 0:
        if written == precision and precision != 0:
            buf[pos] = 46  # '.'
            pos -= 1
        buf[pos] = <char>(48 + <int>(magnitude % 10))
        magnitude //= 10
        pos -= 1
        written += 1
    if negative:
        buf[pos] = 45  # '-'
        pos -= 1
    return buf[pos + 1:48].decode("ascii")


def parse_decimal_rounded(text, int precision=FIXED_PRECISION) -> tuple:
    """
    Return the raw fixed-point value of any decimal string, rounded half-even to `precision`.

    Accepts any number of decimal places and the exponent form (``"1.5e-10"``); only a value
    beyond the widest Nautilus range is refused.

    Parameters
    ----------
    text : str | bytes
        An ASCII decimal such as ``"2656.54285714285714285714"`` or ``"1e-7"``.
    precision : int, default FIXED_PRECISION
        The decimals to keep, from 0 to ``FIXED_PRECISION``.

    Returns
    -------
    tuple[int, int]
        The value scaled by ``10**FIXED_PRECISION`` and the decimals written (at most
        `precision`).

    Raises
    ------
    ValueError
        If the text is not a decimal, `precision` is out of range, or the value is outside the
        widest Nautilus range.

    """
    if precision < 0 or precision > FIXED_PRECISION:
        raise ValueError(f"invalid precision, was {precision}")
    cdef bytes data = _as_ascii(text)
    cdef PriceRaw raw = 0
    cdef uint8_t places = 0
    cdef int code = parse_decimal_round_c(data, len(data), <uint8_t>precision, &raw, &places)
    if code != DEC_OK:
        text = data.decode("ascii", "backslashreplace")
        raise ValueError(f"invalid decimal ({_EXP_MESSAGES.get(code, code)}), was {text!r}")
    return raw, places
