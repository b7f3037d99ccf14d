# SPDX-License-Identifier: Apache-2.0
"""How the sandbox Indexer computes and prints decimal values: the rules, in one place."""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from decimal import Context
from decimal import Decimal
from fractions import Fraction


# The real Indexer computes with an arbitrary-precision decimal library and prints plain
# decimal strings. The sandbox reproduces its visible behaviour with these rules:
#
# * Exact products and sums: sizes times prices, volumes, PnL, funding payments
#   (size x rate x oracle price) and funding indices; a 20-place price times a 4-place size
#   prints with 24 places (an unrealized PnL of "-0.000399999999999999999999").
# * Divisions round half up to 20 places, the library's default: entry and exit prices
#   ("2656.54285714285714285714"), the predicted funding rate (a mean of premium samples,
#   "0.00053383928571428571") and deleveraging prices (quote amount / size, off the tick
#   grid: "59999.55833333333333333333"; one real deleveraging trade printed 16 places,
#   "2340.7442700369913687", so decoders must accept any count).
# * Printing: trailing zeros dropped, zero is "0", plain notation (`fmt`). The predicted
#   funding rate prints as the library's toString does (`fmt_big`): exponent form below
#   1e-6 ("1.25e-7") and from 1e21 up.
# * Chain amounts stay integers (quote quantums of 1e-6 USDC): balances, asset positions,
#   fees and applied funding rates (whole ppm per 8 hours / 8e6) have few places; only
#   Indexer-derived fields carry more.

DIVISION_PLACES = 20
_CONTEXT = Context(prec=200, rounding=ROUND_HALF_UP)
_QUANTUM = Decimal(1).scaleb(-DIVISION_PLACES)
# The library's toString switches to exponent form below 1e-6 and from 1e21
_EXPONENT_LOW = -7
_EXPONENT_HIGH = 21


def mul(*values: Decimal | int) -> Decimal:
    """
    Return the exact product of `values`.

    Parameters
    ----------
    *values : Decimal | int
        The factors.

    Returns
    -------
    Decimal

    """
    result = Decimal(1)
    for value in values:
        result = _CONTEXT.multiply(result, Decimal(value))
    return result


def add(*values: Decimal | int) -> Decimal:
    """
    Return the exact sum of `values` (Decimal's default 28 digits would round long values).

    Parameters
    ----------
    *values : Decimal | int
        The terms (negate one to subtract).

    Returns
    -------
    Decimal

    """
    result = Decimal(0)
    for value in values:
        result = _CONTEXT.add(result, Decimal(value))
    return result


def div(numerator: Decimal | int | Fraction, denominator: Decimal | int = 1) -> Decimal:
    """
    Return `numerator / denominator` rounded half up to 20 decimal places.

    Parameters
    ----------
    numerator : Decimal | int | Fraction
        The dividend (a Fraction is divided exactly first).
    denominator : Decimal | int, default 1
        The divisor (non-zero).

    Returns
    -------
    Decimal

    Raises
    ------
    ZeroDivisionError
        If `denominator` is zero.

    """
    if isinstance(numerator, Fraction):
        quotient = numerator / Fraction(Decimal(denominator))
        value = _CONTEXT.divide(Decimal(quotient.numerator), Decimal(quotient.denominator))
    else:
        if Decimal(denominator) == 0:
            raise ZeroDivisionError("division by zero")
        value = _CONTEXT.divide(Decimal(numerator), Decimal(denominator))
    return value.quantize(_QUANTUM, rounding=ROUND_HALF_UP, context=_CONTEXT)


def fmt(value: Decimal | int) -> str:
    """
    Return `value` in plain notation without trailing zeros ("0" for zero).

    Parameters
    ----------
    value : Decimal | int
        The value.

    Returns
    -------
    str

    """
    value = Decimal(value)
    if value == 0:
        return "0"
    return format(value.normalize(_CONTEXT), "f")


def fmt_big(value: Decimal | int) -> str:
    """
    Return `value` as the Indexer's decimal library's `toString` prints it.

    Plain notation unless the decimal exponent is below -6 or at least 21, then
    ``"<coefficient>e<exponent>"`` (``"1.25e-7"``, ``"-3e-8"``).

    Parameters
    ----------
    value : Decimal | int
        The value.

    Returns
    -------
    str

    """
    value = Decimal(value)
    if value == 0:
        return "0"
    normal = value.normalize(_CONTEXT)
    exponent = normal.adjusted()
    if _EXPONENT_LOW < exponent < _EXPONENT_HIGH:
        return format(normal, "f")
    sign, digits, _ = normal.as_tuple()
    text = "".join(str(d) for d in digits)
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    prefix = "-" if sign else ""
    suffix = f"e+{exponent}" if exponent > 0 else f"e{exponent}"
    return prefix + mantissa + suffix


def places(text: str) -> int:
    """
    Return the number of decimal places of a plain decimal string.

    Parameters
    ----------
    text : str
        The decimal string.

    Returns
    -------
    int

    """
    if "e" in text or "E" in text:
        return max(0, -Decimal(text).as_tuple().exponent)
    return len(text.split(".", 1)[1]) if "." in text else 0
