# SPDX-License-Identifier: Apache-2.0
"""Exact ASCII decimal text <-> Nautilus raw fixed-point integers (no Decimal, no float)."""

from libc.stdint cimport uint8_t

from nautilus_trader.core.rust.model cimport PriceRaw
from nautilus_trader.core.rust.model cimport QuantityRaw


# Status codes of parse_decimal_c (0 is success)
cdef enum:
    DEC_OK = 0
    DEC_EMPTY = -1
    DEC_NO_DIGITS = -2
    DEC_BAD_CHAR = -3
    DEC_TWO_DOTS = -4
    DEC_TOO_PRECISE = -5
    DEC_OVERFLOW = -6
    DEC_NEGATIVE = -7


# Largest magnitude a parsed value may take: QUANTITY_RAW_MAX (the widest Nautilus range)
cdef QuantityRaw DECIMAL_RAW_LIMIT
cdef PriceRaw PRICE_RAW_LIMIT
cdef QuantityRaw QUANTITY_RAW_LIMIT


cdef int parse_decimal_c(
    const char* ptr,
    Py_ssize_t size,
    PriceRaw* raw_out,
    uint8_t* precision_out,
) noexcept nogil

cdef int parse_decimal_round_c(
    const char* ptr,
    Py_ssize_t size,
    uint8_t target,
    PriceRaw* raw_out,
    uint8_t* precision_out,
) noexcept nogil

cdef object decimal_error_c(int code, const char* ptr, Py_ssize_t size, str what)

cdef PriceRaw price_raw_c(const char* ptr, Py_ssize_t size, uint8_t* precision_out) except? -1

cdef QuantityRaw quantity_raw_c(
    const char* ptr,
    Py_ssize_t size,
    uint8_t* precision_out,
) except? 0
