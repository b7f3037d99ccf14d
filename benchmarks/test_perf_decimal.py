# SPDX-License-Identifier: Apache-2.0
"""Decimal text -> raw fixed-point: compiled, its pure-Python twin, Price.from_str, Decimal."""

from __future__ import annotations

import decimal
import random

import pytest
from nautilus_trader.model.objects import Price

from nautilus_dydx._core import decimal as compiled
from tests.reference import decimal as reference


def _book_like_prices(count: int = 200) -> list[bytes]:
    # Prices and sizes as the Indexer writes them: 1-6 decimals, magnitudes from PEPE to BTC
    rng = random.Random(7)
    texts = []
    for _ in range(count):
        whole = rng.choice([0, 1, 12, 3456, 65432, 104250])
        decimals = rng.randint(0, 6)
        frac = "".join(rng.choice("0123456789") for _ in range(decimals))
        texts.append((f"{whole}.{frac}" if decimals else str(whole)).encode())
    return texts


TEXTS = _book_like_prices()
STRINGS = [t.decode() for t in TEXTS]
EXPECTED = [Price.from_str(s).raw for s in STRINGS]


def _run(parse, items) -> list[int]:
    return [parse(item)[0] for item in items]


@pytest.mark.benchmark(group="decimal: 200 strings -> raw")
def test_perf_decimal_compiled(benchmark) -> None:
    parse = compiled.price_raw

    result = benchmark(_run, parse, TEXTS)

    assert result == EXPECTED


@pytest.mark.benchmark(group="decimal: 200 strings -> raw")
def test_perf_decimal_reference_twin(benchmark) -> None:
    parse = reference.price_raw

    result = benchmark(_run, parse, TEXTS)

    assert result == EXPECTED


@pytest.mark.benchmark(group="decimal: 200 strings -> raw")
def test_perf_decimal_nautilus_price_from_str(benchmark) -> None:
    from_str = Price.from_str

    result = benchmark(lambda: [from_str(s).raw for s in STRINGS])

    assert result == EXPECTED


@pytest.mark.benchmark(group="decimal: 200 strings -> raw")
def test_perf_decimal_stdlib_decimal(benchmark) -> None:
    scale = decimal.Decimal(10) ** 16
    to_decimal = decimal.Decimal

    result = benchmark(lambda: [int(to_decimal(s) * scale) for s in STRINGS])

    assert result == EXPECTED
