# SPDX-License-Identifier: Apache-2.0
"""The compiled decimal parser and its pure-Python twin, on the same inputs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.objects import FIXED_PRECISION
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_dydx._core import decimal as compiled
from tests.reference import decimal as reference


TWINS = [pytest.param(compiled, id="compiled"), pytest.param(reference, id="reference")]

VALID = [
    "0",
    "-0",
    "65432.1",
    "65919.5",
    "0.0001",
    "-3.25",
    "+7",
    "5.",
    ".5",
    "0005.10",
    "0.0000000000000001",
    "17014118346045.99",
    "-17014118346045.9",
    "123456789.123456",
]

MALFORMED = [
    ("", "empty"),
    ("-", "no digits"),
    ("+", "no digits"),
    (".", "no digits"),
    ("-.", "no digits"),
    ("1..2", "more than one '.'"),
    ("1.2.3", "more than one '.'"),
    ("1e5", "plain"),
    ("1E-5", "plain"),
    (" 1", "plain"),
    ("1 ", "plain"),
    ("\t1", "plain"),
    ("1_000", "plain"),
    ("1,5", "plain"),
    ("--1", "plain"),
    ("0x10", "plain"),
    ("nan", "plain"),
    ("inf", "plain"),
    ("1.00000000000000001", "decimal places"),
    ("99999999999999999999999999", "range"),
    ("é", "ASCII"),
    ("١٢", "ASCII"),
]


@pytest.mark.parametrize("impl", TWINS)
@pytest.mark.parametrize("text", VALID)
def test_price_raw_matches_nautilus(impl, text: str) -> None:
    # Arrange
    expected = Price.from_str(text)

    # Act
    raw, precision = impl.price_raw(text)

    # Assert
    assert raw == expected.raw
    assert precision == expected.precision


@pytest.mark.parametrize("impl", TWINS)
@pytest.mark.parametrize("text", [t for t in VALID if not t.startswith("-")])
def test_quantity_raw_matches_nautilus(impl, text: str) -> None:
    expected = Quantity.from_str(text)

    raw, precision = impl.quantity_raw(text.encode())

    assert raw == expected.raw
    assert precision == expected.precision


@pytest.mark.parametrize("impl", TWINS)
@pytest.mark.parametrize(("text", "reason"), MALFORMED)
def test_malformed_input_raises_value_error_naming_input(impl, text: str, reason: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        impl.price_raw(text)

    message = str(excinfo.value)
    assert repr(text) in message
    assert reason in message


@pytest.mark.parametrize("impl", TWINS)
def test_non_ascii_bytes_are_refused(impl) -> None:
    with pytest.raises(ValueError, match="ASCII"):
        impl.price_raw(b"\xff1")


@pytest.mark.parametrize("impl", TWINS)
def test_price_beyond_nautilus_range_is_refused_before_any_constructor(impl) -> None:
    # Nautilus aborts or raises on these; our parser refuses them itself
    with pytest.raises(ValueError, match="range"):
        impl.price_raw("17014118346046")
    with pytest.raises(ValueError, match="range"):
        impl.price_raw("-17014118346046")


@pytest.mark.parametrize("impl", TWINS)
def test_quantity_refuses_negative_and_out_of_range(impl) -> None:
    with pytest.raises(ValueError, match="negative"):
        impl.quantity_raw("-1")
    with pytest.raises(ValueError, match="range"):
        impl.quantity_raw("34028236692093")


@pytest.mark.parametrize("impl", TWINS)
def test_type_error_for_non_text(impl) -> None:
    with pytest.raises(TypeError):
        impl.price_raw(12)


@pytest.mark.parametrize("impl", TWINS)
@pytest.mark.parametrize(
    ("raw", "precision", "expected"),
    [
        (0, 0, "0"),
        (0, 3, "0.000"),
        (654321000000000000000, 1, "65432.1"),
        (654321000000000000000, 4, "65432.1000"),
        (-5000000000000000, 1, "-0.5"),
        (1, 16, "0.0000000000000001"),
        (10**16, 0, "1"),
    ],
)
def test_format_raw(impl, raw: int, precision: int, expected: str) -> None:
    assert impl.format_raw(raw, precision) == expected


@pytest.mark.parametrize("impl", TWINS)
def test_format_raw_never_rounds(impl) -> None:
    with pytest.raises(ValueError, match="beyond precision"):
        impl.format_raw(654321000000000000000, 0)
    with pytest.raises(ValueError, match="precision"):
        impl.format_raw(1, 17)


def test_fixed_precision_matches_installed_nautilus() -> None:
    raw, precision = compiled.parse_decimal("1")
    assert raw == 10**FIXED_PRECISION
    assert precision == 0


# Decimal strings of the grammar both twins accept, within the Nautilus price range
_decimals = st.builds(
    lambda sign, whole, frac: f"{sign}{whole}" + (f".{frac}" if frac is not None else ""),
    st.sampled_from(["", "-", "+"]),
    st.integers(min_value=0, max_value=17014118346045).map(str),
    st.none() | st.text(alphabet="0123456789", min_size=0, max_size=FIXED_PRECISION),
)


def _significant_digits(text: str) -> int:
    return len(text.lstrip("+-").replace(".", "").lstrip("0"))


# `Price.from_str` goes through a binary float: it is exact only up to 15 significant digits
_float_exact = _decimals.filter(lambda t: _significant_digits(t) <= 15)


@given(text=_float_exact)
def test_property_price_raw_equals_nautilus_from_str_for_both_twins(text: str) -> None:
    expected = Price.from_str(text)

    for impl in (compiled, reference):
        assert impl.price_raw(text) == (expected.raw, expected.precision)


@given(text=_float_exact.filter(lambda t: not t.startswith("-")))
def test_property_quantity_raw_equals_nautilus_from_str_for_both_twins(text: str) -> None:
    expected = Quantity.from_str(text)

    for impl in (compiled, reference):
        assert impl.quantity_raw(text) == (expected.raw, expected.precision)


@given(text=_decimals)
def test_property_price_raw_is_exact_over_the_whole_range(text: str) -> None:
    # Beyond 15 digits Nautilus's own text paths round through f64: compare exact integers
    raw, precision = compiled.price_raw(text)

    assert (raw, precision) == reference.price_raw(text)
    assert Price.from_raw(raw, precision).raw == raw
    whole, _, frac = text.lstrip("+-").partition(".")
    assert abs(raw) == int(whole or "0") * 10**16 + int(frac or "0") * 10 ** (16 - len(frac))


@given(text=st.text(max_size=24) | st.binary(max_size=24))
def test_property_arbitrary_input_twins_agree(text) -> None:
    outcomes = []
    for impl in (compiled, reference):
        try:
            outcomes.append(impl.parse_decimal(text))
        except ValueError:
            outcomes.append("ValueError")
    assert outcomes[0] == outcomes[1]


@given(raw=st.integers(min_value=-(10**29), max_value=10**29), precision=st.integers(0, 16))
def test_property_format_then_parse_round_trips(raw: int, precision: int) -> None:
    unit = 10 ** (FIXED_PRECISION - precision)
    raw -= raw % unit if raw >= 0 else -((-raw) % unit)

    text = compiled.format_raw(raw, precision)

    assert text == reference.format_raw(raw, precision)
    assert compiled.parse_decimal(text) == (raw, precision)


# -- Any-length decimals, rounded half-even (Indexer fields with 18-24 places) ------------------


@pytest.mark.parametrize(
    ("text", "precision", "raw", "places"),
    [
        # Hand-checked: 16 places kept, the 17th digit decides (ties go to the even digit)
        ("2656.54285714285714285714", 16, 26565428571428571429, 16),
        ("0.00053383928571428571", 16, 5338392857143, 16),
        ("2340.7442700369913687", 1, 23407 * 10**15, 1),
        ("2340.65", 1, 23406 * 10**15, 1),  # Tie: 6 is even (half-up would give 2340.7)
        ("2340.75", 1, 23408 * 10**15, 1),  # Tie: 8 is even
        ("-2.5", 0, -2 * 10**16, 0),
        ("-3.5", 0, -4 * 10**16, 0),
        ("0.00000000000000005", 16, 0, 16),  # Tie at the 17th place rounds to 0 (even)
        ("0.00000000000000015", 16, 2, 16),
        ("0.000000000000000150000000001", 16, 2, 16),
        ("1e-7", 16, 10**9, 7),
        ("1.5e-10", 16, 15 * 10**5, 11),
        ("1.25E3", 16, 1250 * 10**16, 0),
        ("-0.000012500000000000000001", 16, -125 * 10**9, 16),
        ("5.", 16, 5 * 10**16, 0),
        (".5", 0, 0, 0),
        ("1e-999999", 16, 0, 16),
        ("0e999999", 16, 0, 0),
    ],
)
def test_parse_decimal_rounded_hand_checked(text, precision, raw, places) -> None:
    for impl in (compiled, reference):
        assert impl.parse_decimal_rounded(text, precision) == (raw, places), impl


@pytest.mark.parametrize(
    "text", ["", "-", ".", "1e", "1e+", "e5", "1..2", "1.2.3", " 1", "1_0", "nan", "0x1", "١"],
)
def test_parse_decimal_rounded_refuses_non_decimals(text) -> None:
    for impl in (compiled, reference):
        with pytest.raises(ValueError, match="invalid decimal"):
            impl.parse_decimal_rounded(text)


def test_parse_decimal_rounded_refuses_values_beyond_nautilus() -> None:
    for impl in (compiled, reference):
        with pytest.raises(ValueError, match="range"):
            impl.parse_decimal_rounded("34028236692094")
        with pytest.raises(ValueError, match="range"):
            impl.parse_decimal_rounded("9e999999")
        with pytest.raises(ValueError, match="precision"):
            impl.parse_decimal_rounded("1", 17)


@settings(max_examples=1500, deadline=None)
@given(
    st.sampled_from(["", "-", "+"]),
    st.text("0123456789", max_size=30),
    st.sampled_from(["", "."]),
    st.text("0123456789", max_size=30),
    st.sampled_from(["", "e", "E-", "e+"]),
    st.text("0123456789", min_size=1, max_size=3),
    st.integers(0, 16),
)
def test_property_rounded_matches_python_decimal(sign, whole, dot, frac, e, exp, precision):
    # The twin rounds with the standard library's decimal module (ROUND_HALF_EVEN)
    text = sign + whole + dot + frac + (e + exp if e else "")
    outcomes = []
    for impl in (compiled, reference):
        try:
            outcomes.append(impl.parse_decimal_rounded(text, precision))
        except ValueError:
            outcomes.append("ValueError")
    assert outcomes[0] == outcomes[1], text
