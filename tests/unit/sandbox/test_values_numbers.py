# SPDX-License-Identifier: Apache-2.0
"""Number formatting, funding arithmetic, unknown fields and maintenance margin, by hand."""

from __future__ import annotations

import argparse
from decimal import Decimal
from fractions import Fraction

import pytest

from nautilus_dydx.sandbox import AccountConfig
from nautilus_dydx.sandbox import SandboxConfig
from nautilus_dydx.sandbox import SandboxNode
from nautilus_dydx.sandbox import cli
from nautilus_dydx.sandbox.engine import Position
from nautilus_dydx.sandbox.extras import EXTRA_FIELDS
from nautilus_dydx.sandbox.extras import ExtraFields
from nautilus_dydx.sandbox.extras import extra_keys
from nautilus_dydx.sandbox.funding import clamp_ppm
from nautilus_dydx.sandbox.funding import predicted_rate_ppm
from nautilus_dydx.sandbox.funding import sample_noise_ppm
from nautilus_dydx.sandbox.numbers import add
from nautilus_dydx.sandbox.numbers import div
from nautilus_dydx.sandbox.numbers import fmt
from nautilus_dydx.sandbox.numbers import fmt_big
from nautilus_dydx.sandbox.numbers import mul
from nautilus_dydx.sandbox.numbers import places


def test_division_rounds_to_twenty_places_like_the_real_indexer() -> None:
    # A real entry price: 0.7 ETH bought for 1859.58 USDC in total
    assert fmt(div(Decimal("1859.58"), Decimal("0.7"))) == "2656.54285714285714285714"
    assert fmt(div(2, 3)) == "0.66666666666666666667"
    assert fmt(div(-2, 3)) == "-0.66666666666666666667"
    assert fmt(div(Fraction(1, 8), 1)) == "0.125"
    assert fmt(div(10, 4)) == "2.5"
    with pytest.raises(ZeroDivisionError):
        div(1, 0)


def test_products_are_exact_and_print_plain() -> None:
    assert fmt(mul(Decimal("0.57142857142857142857"), Decimal("0.0007"))) == (
        "0.000399999999999999999999"
    )
    assert places("0.000399999999999999999999") == 24
    assert fmt(Decimal("65000.000")) == "65000"
    assert fmt(Decimal("1E+3")) == "1000"
    assert fmt(Decimal("-0.0")) == "0"
    assert places("12") == 0 and places("1.25e-7") == 9


def test_big_number_to_string_uses_exponents_only_for_tiny_and_huge_values() -> None:
    assert fmt_big(Decimal("0.000000125")) == "1.25e-7"
    assert fmt_big(Decimal("-0.00000003")) == "-3e-8"
    assert fmt_big(Decimal("0.000001")) == "0.000001"
    assert fmt_big(Decimal("0.00053383928571428571")) == "0.00053383928571428571"
    assert fmt_big(Decimal("1e21")) == "1e+21"
    assert fmt_big(Decimal("123456789012345678901")) == "123456789012345678901"
    assert fmt_big(0) == "0"


def test_predicted_rate_reproduces_a_real_next_funding_rate() -> None:
    # Seven samples summing to 29 195 ppm plus 100 ppm interest: 29 895 / 7 ppm per 8 hours
    samples = [4170] * 6 + [4175]
    rate = predicted_rate_ppm(samples, clamp=120_000)
    assert rate == Fraction(29_895, 7)
    assert fmt(div(rate, 8_000_000)) == "0.00053383928571428571"
    assert predicted_rate_ppm([], clamp=120_000) == 100
    assert predicted_rate_ppm([500_000], clamp=120_000) == 120_000
    assert predicted_rate_ppm([-500_000], clamp=120_000) == -120_000


def test_noise_is_seeded_bounded_and_clamp_follows_margins() -> None:
    values = [sample_noise_ppm(0, "BTC-USD", minute) for minute in range(200)]
    assert values == [sample_noise_ppm(0, "BTC-USD", minute) for minute in range(200)]
    assert values != [sample_noise_ppm(1, "BTC-USD", minute) for minute in range(200)]
    assert all(-60 <= v <= 180 for v in values) and len(set(values)) > 50
    node = SandboxNode(SandboxConfig(auto_blocks=False))
    # 6 × (5 % - 3 %) = 12 % per 8 hours
    assert clamp_ppm(node.chain.markets[0]) == 120_000


def test_extra_fields_are_deterministic_and_leave_the_input_alone() -> None:
    payload = {"fills": [{"id": str(i), "price": "1"} for i in range(60)], "pageSize": 60}
    extras = ExtraFields(5, True)
    first = extras.apply(payload)
    assert first == ExtraFields(5, True).apply(payload)
    assert not extra_keys(payload)
    hits = sum(1 for fill in first["fills"] if extra_keys(fill))
    assert 5 < hits < 40
    assert set(first) == {"fills", "pageSize"}
    assert extra_keys(first) <= set(EXTRA_FIELDS)
    assert ExtraFields(5, False).apply(payload) is payload
    # Level arrays and plain maps are not records
    book = {"bids": [["1", "2"]], "asks": []}
    assert extras.apply(book) == book


def test_maintenance_margin_and_liquidatable_by_hand() -> None:
    config = SandboxConfig(auto_blocks=False, accounts=(AccountConfig(subaccounts={0: 0}),))
    node = SandboxNode(config)
    chain = node.chain
    owner = node.accounts[0].address
    sub = chain.subaccounts[(owner, 0)]
    # 1 BTC long bought for 63 000 USDC with 2 000 USDC of collateral
    sub.positions[0] = Position(size=10_000_000_000, entry_quote=63_000_000_000)
    sub.usdc = 2_000_000_000 - 63_000_000_000
    # At 65 000: collateral 4 000 USDC, maintenance 3 % × 65 000 = 1 950 USDC
    assert chain.liquidator.maintenance(sub) == (4_000_000_000, 1_950_000_000)
    assert not chain.liquidator.is_liquidatable(sub)
    node.set_oracle_price("BTC-USD", "62900")
    # Collateral 1 900, maintenance 1 887
    assert chain.liquidator.maintenance(sub) == (1_900_000_000, 1_887_000_000)
    assert not chain.liquidator.is_liquidatable(sub)
    node.set_oracle_price("BTC-USD", "62800")
    assert chain.liquidator.maintenance(sub) == (1_800_000_000, 1_884_000_000)
    assert chain.liquidator.is_liquidatable(sub)


def test_cli_switches_unknown_fields() -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert cli.build_config(parser.parse_args([])).extra_fields is True
    assert cli.build_config(parser.parse_args(["--no-extra-fields"])).extra_fields is False
    assert cli.build_config(parser.parse_args(["--extra-fields"])).extra_fields is True


def test_sums_keep_every_place_beyond_decimal_default_precision() -> None:
    long_value = Decimal("125399.661874999999999999998")
    assert fmt(add(long_value, Decimal("0.000000000000000000001"))) == (
        "125399.661874999999999999999"
    )
    assert fmt(add(Decimal("1e20"), Decimal("1e-20"))) == (
        "100000000000000000000.00000000000000000001"
    )
