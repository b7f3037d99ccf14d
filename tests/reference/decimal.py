# SPDX-License-Identifier: Apache-2.0
"""Pure-Python twin of nautilus_dydx._core.decimal (same grammar, same errors, same results)."""

from __future__ import annotations

import re


FIXED_PRECISION = 16
# Nautilus's PRICE_RAW_MAX / QUANTITY_RAW_MAX: f64 products cast to integers
PRICE_RAW_LIMIT = int(17014118346046.0 * 1e16)
QUANTITY_RAW_LIMIT = int(34028236692093.0 * 1e16)

_GRAMMAR = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?")


def _as_text(text: str | bytes) -> str:
    if isinstance(text, bytes):
        try:
            return text.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"invalid decimal (not ASCII), was {text!r}") from None
    if isinstance(text, str):
        if not text.isascii():
            raise ValueError(f"invalid decimal (non-ASCII), was {text!r}")
        return text
    raise TypeError(f"decimal text must be str or bytes, was {type(text).__name__}")


def parse_decimal(text: str | bytes) -> tuple[int, int]:
    """
    Return (raw at 10**16 scale, decimals written) of a plain ASCII decimal.
    """
    s = _as_text(text)
    if not s:
        raise ValueError(f"invalid decimal (empty), was {s!r}")
    if s.count(".") > 1:
        raise ValueError(f"invalid decimal (more than one '.'), was {s!r}")
    match = _GRAMMAR.fullmatch(s)
    if match is None:
        raise ValueError(f"invalid decimal (not a plain ASCII decimal), was {s!r}")
    sign, whole, frac = match.group(1), match.group(2), match.group(3) or ""
    if not whole and not frac:
        raise ValueError(f"invalid decimal (no digits), was {s!r}")
    if len(frac) > FIXED_PRECISION:
        raise ValueError(f"invalid decimal (more than {FIXED_PRECISION} decimal places), was {s!r}")
    raw = int(whole or "0") * 10**FIXED_PRECISION + int(frac or "0") * 10 ** (
        FIXED_PRECISION - len(frac)
    )
    if raw > QUANTITY_RAW_LIMIT:
        raise ValueError(f"invalid decimal (out of range), was {s!r}")
    return (-raw if sign == "-" else raw), len(frac)


def price_raw(text: str | bytes) -> tuple[int, int]:
    """
    Return what ``Price.from_str(text)`` holds as (raw, precision).
    """
    raw, precision = parse_decimal(text)
    if abs(raw) > PRICE_RAW_LIMIT:
        raise ValueError(f"invalid price decimal (out of range), was {text!r}")
    return raw, precision


def quantity_raw(text: str | bytes) -> tuple[int, int]:
    """
    Return what ``Quantity.from_str(text)`` holds as (raw, precision).
    """
    raw, precision = parse_decimal(text)
    if raw < 0:
        raise ValueError(f"invalid quantity decimal (negative), was {text!r}")
    return raw, precision


def format_raw(raw: int, precision: int) -> str:
    """
    Return `raw` (10**16 scale) written with exactly `precision` decimals, never rounding.
    """
    if not 0 <= precision <= FIXED_PRECISION:
        raise ValueError(f"invalid precision, was {precision}")
    if abs(raw) > QUANTITY_RAW_LIMIT:
        raise ValueError(f"invalid raw value (out of range), was {raw}")
    unit = 10 ** (FIXED_PRECISION - precision)
    magnitude = abs(raw)
    if magnitude % unit:
        raise ValueError(f"invalid raw value (digits beyond precision {precision}), was {raw}")
    digits = str(magnitude // unit).rjust(precision + 1, "0")
    text = digits if precision == 0 else f"{digits[:-precision]}.{digits[-precision:]}"
    return f"-{text}" if raw < 0 else text


_ANY = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_decimal_rounded(text: str | bytes, precision: int = FIXED_PRECISION) -> tuple[int, int]:
    """
    Return (raw at 10**16 scale, decimals written) of any decimal, rounded half-even.

    Uses the standard library's `decimal` module as the independent oracle.
    """
    import decimal

    if not 0 <= precision <= FIXED_PRECISION:
        raise ValueError(f"invalid precision, was {precision}")
    s = _as_text(text)
    if not _ANY.fullmatch(s):
        raise ValueError(f"invalid decimal (not an ASCII decimal), was {s!r}")
    mantissa, _, exp = s.lower().partition("e")
    exponent = int(exp) if exp else 0
    if abs(exponent) > 10_000:
        # Far beyond any raw: zero stays zero, tiny rounds to zero, huge is out of range
        digits = mantissa.lstrip("+-").replace(".", "").strip("0")
        if not digits or exponent < 0:
            return 0, precision if exponent < 0 else 0
        raise ValueError(f"invalid decimal (out of range), was {s!r}")
    frac = mantissa.partition(".")[2]
    places = min(max(len(frac) - exponent, 0), precision)
    with decimal.localcontext() as ctx:
        ctx.prec = 100_000
        ctx.Emax = 10**9
        ctx.Emin = -(10**9)
        value = decimal.Decimal(s).quantize(
            decimal.Decimal(1).scaleb(-precision), rounding=decimal.ROUND_HALF_EVEN,
        )
        raw = int(value.scaleb(FIXED_PRECISION))
    if abs(raw) > QUANTITY_RAW_LIMIT:
        raise ValueError(f"invalid decimal (out of range), was {s!r}")
    return raw, places
