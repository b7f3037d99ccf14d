# SPDX-License-Identifier: Apache-2.0
"""Pure parts of the CLI tools: ranges, times, conversions, tiers, catalog round trips, version."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from nautilus_dydx.grpc.types import EquityTier
from nautilus_dydx.schemas import indexer as schemas
from nautilus_dydx.tools.account import equity_tier_usage
from nautilus_dydx.tools.catalog import bar_from_candle
from nautilus_dydx.tools.catalog import bar_type_for
from nautilus_dydx.tools.catalog import funding_from_historical
from nautilus_dydx.tools.catalog import perpetual_from_market
from nautilus_dydx.tools.catalog import register_funding_rate_serialization
from nautilus_dydx.tools.catalog import trade_tick_from_trade
from nautilus_dydx.tools.common import UserError
from nautilus_dydx.tools.common import account_from
from nautilus_dydx.tools.common import endpoints_from
from nautilus_dydx.tools.download import iso
from nautilus_dydx.tools.download import missing_ranges
from nautilus_dydx.tools.download import parse_kinds
from nautilus_dydx.tools.download import parse_time


REPO = Path(__file__).resolve().parents[2]
# By module path: the package's __init__ may bind the name `_version` to something else
_version = importlib.import_module("nautilus_dydx._version")
K1_ADDRESS = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"


def market(**overrides: object) -> schemas.PerpetualMarket:
    values = dict(
        clob_pair_id="0", ticker="BTC-USD", status="ACTIVE", atomic_resolution=-10,
        quantum_conversion_exponent=-9, step_base_quantums=1_000_000, subticks_per_tick=100_000,
        tick_size="1", step_size="0.0001", initial_margin_fraction="0.05",
        maintenance_margin_fraction="0.03",
    )
    values.update(overrides)
    return schemas.PerpetualMarket(**values)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ([], [(0, 100)]),
        ([(10, 20), (30, 40)], [(0, 9), (21, 29), (41, 100)]),
        ([(0, 100)], []),
        ([(-5, 3), (90, 200)], [(4, 89)]),
        ([(30, 40), (10, 20)], [(0, 9), (21, 29), (41, 100)]),
        ([(200, 300)], [(0, 100)]),
        ([(0, 50), (51, 100)], []),
    ],
)
def test_missing_ranges_are_the_complement_of_stored_intervals(
    stored: list[tuple[int, int]], expected: list[tuple[int, int]],
) -> None:
    assert missing_ranges(0, 100, stored) == expected


def test_missing_ranges_cover_exactly_the_uncovered_points() -> None:
    # Brute-force oracle over a small domain
    stored = [(3, 7), (12, 12), (15, 30), (29, 33)]
    covered = {t for a, b in stored for t in range(a, b + 1)}
    gaps = missing_ranges(0, 40, stored)
    in_gaps = {t for a, b in gaps for t in range(a, b + 1)}
    assert in_gaps == set(range(0, 41)) - covered


@pytest.mark.parametrize(
    ("text", "expected_ns"),
    [
        ("2026-01-01", 1_767_225_600_000_000_000),
        ("2026-01-01T00:00:00Z", 1_767_225_600_000_000_000),
        ("2026-01-01T01:00:00+01:00", 1_767_225_600_000_000_000),
        ("1767225600", 1_767_225_600_000_000_000),
        ("1767225600.5", 1_767_225_600_500_000_000),
    ],
)
def test_parse_time_accepts_iso_and_unix_seconds(text: str, expected_ns: int) -> None:
    assert parse_time(text, "--start") == expected_ns


@pytest.mark.parametrize("text", ["soon", "", "2026-13-45"])
def test_parse_time_rejects_other_text(text: str) -> None:
    with pytest.raises(UserError, match="invalid --end"):
        parse_time(text, "--end")


def test_iso_is_the_indexer_millisecond_format() -> None:
    assert iso(1_767_225_600_123_456_789) == "2026-01-01T00:00:00.123Z"


def test_parse_kinds() -> None:
    assert parse_kinds("bars, funding") == ["bars", "funding"]
    with pytest.raises(UserError):
        parse_kinds("bars,quotes")
    with pytest.raises(UserError):
        parse_kinds(" , ")


@pytest.mark.parametrize(
    ("tick", "step", "price_precision", "size_precision"),
    [
        ("1", "0.0001", 0, 4),
        ("0.1", "0.001", 1, 3),
        ("0.0000000001", "10000000", 10, 0),
        ("0.00001", "1", 5, 0),
    ],
)
def test_perpetual_from_market_takes_tick_and_step_exactly(
    tick: str, step: str, price_precision: int, size_precision: int,
) -> None:
    instrument = perpetual_from_market(market(ticker="PEPE-USD", tick_size=tick, step_size=step))

    assert instrument.id == InstrumentId.from_str("PEPE-USD-PERP.DYDX")
    assert instrument.raw_symbol.value == "PEPE-USD"
    assert instrument.price_precision == price_precision
    assert instrument.size_precision == size_precision
    assert instrument.price_increment.as_decimal() == Decimal(tick)
    assert instrument.size_increment.as_decimal() == Decimal(step)
    assert instrument.min_quantity == instrument.size_increment
    assert str(instrument.quote_currency) == "USD"
    assert str(instrument.settlement_currency) == "USDC"
    assert instrument.margin_init == Decimal("0.05")
    assert instrument.margin_maint == Decimal("0.03")


def test_perpetual_from_market_rejects_a_ticker_without_quote() -> None:
    with pytest.raises(ValueError, match="invalid ticker"):
        perpetual_from_market(market(ticker="BTCUSD"))


def test_bar_is_stamped_at_the_candle_close() -> None:
    instrument = perpetual_from_market(market())
    candle = schemas.Candle(
        started_at="2026-01-01T00:05:00.000Z", ticker="BTC-USD", resolution="5MINS",
        low="64990", high="65100", open="65000", close="65050", base_token_volume="1.2345",
        usd_volume="80000", trades=7,
    )
    bar_type = bar_type_for(instrument.id, "5MINS")

    bar = bar_from_candle(candle, bar_type, instrument)

    assert str(bar_type) == "BTC-USD-PERP.DYDX-5-MINUTE-LAST-EXTERNAL"
    assert bar.ts_event == bar.ts_init == 1_767_225_600_000_000_000 + 600 * 1_000_000_000
    assert (str(bar.open), str(bar.high), str(bar.low), str(bar.close)) == (
        "65000", "65100", "64990", "65050",
    )
    assert str(bar.volume) == "1.2345"


def test_trade_tick_takes_the_taker_side_as_aggressor() -> None:
    instrument = perpetual_from_market(market())
    trade = schemas.Trade(
        id="abc", side="SELL", size="0.0100", price="65000", created_at="2026-01-01T00:00:01.5Z",
        created_at_height="12",
    )

    tick = trade_tick_from_trade(trade, instrument)

    assert tick.aggressor_side == AggressorSide.SELLER
    assert tick.trade_id.value == "abc"
    assert tick.ts_event == 1_767_225_601_500_000_000
    assert str(tick.size) == "0.0100"


def test_funding_rates_round_trip_through_the_catalog(tmp_path: Path) -> None:
    register_funding_rate_serialization()
    instrument_id = InstrumentId.from_str("BTC-USD-PERP.DYDX")
    rates = [
        funding_from_historical(
            schemas.HistoricalFunding(
                ticker="BTC-USD", rate=rate, price="65000",
                effective_at=f"2026-01-01T0{hour}:00:00.000Z", effective_at_height=str(hour),
            ),
            instrument_id,
        )
        for hour, rate in ((1, "0.0000125"), (2, "-0.00000375"), (3, "0"))
    ]
    catalog = ParquetDataCatalog(str(tmp_path))

    catalog.write_data(rates)
    loaded = catalog.query(FundingRateUpdate, identifiers=[str(instrument_id)])

    assert [(r.rate, r.ts_event, r.instrument_id) for r in loaded] == [
        (Decimal("0.0000125"), 1_767_229_200_000_000_000, instrument_id),
        (Decimal("-0.00000375"), 1_767_232_800_000_000_000, instrument_id),
        (Decimal("0"), 1_767_236_400_000_000_000, instrument_id),
    ]


TIERS = (
    EquityTier(0, 0), EquityTier(20_000_000, 10), EquityTier(100_000_000, 20),
    EquityTier(1_000_000_000, 40), EquityTier(10_000_000_000, 100),
    EquityTier(50_000_000_000, 200),
)


@pytest.mark.parametrize(
    ("equity", "limit", "required"),
    [
        ("0", 0, "0"),
        ("19.999999", 0, "0"),
        ("20", 10, "20"),
        ("999.99", 20, "100"),
        ("50000", 200, "50000"),
        ("1000000", 200, "50000"),
    ],
)
def test_equity_tier_is_the_last_one_at_or_below_net_collateral(
    equity: str, limit: int, required: str,
) -> None:
    usage = equity_tier_usage(TIERS, Decimal(equity), 3)

    assert usage.open_stateful == 3
    assert usage.limit == limit
    assert usage.required_usdc == Decimal(required)


def test_equity_below_every_tier_has_no_limit() -> None:
    usage = equity_tier_usage(TIERS[1:], Decimal("5"), 0)

    assert usage.limit is None


def namespace(**values: object) -> argparse.Namespace:
    defaults = dict(network="sandbox", rest_url=None, ws_url=None, grpc=None, address=None,
                    subaccount="0")
    defaults.update(values)
    return argparse.Namespace(**defaults)


def test_endpoints_default_to_the_network_and_take_overrides() -> None:
    assert endpoints_from(namespace()).rest_url == "http://127.0.0.1:3002/v4"
    mainnet = endpoints_from(namespace(network="mainnet"))
    assert mainnet.ws_url == "wss://indexer.dydx.trade/v4/ws"
    custom = endpoints_from(namespace(rest_url="http://h:1/v4", grpc="a:1, b:2"))
    assert custom.rest_url == "http://h:1/v4"
    assert custom.grpc == ("a:1", "b:2")
    with pytest.raises(UserError, match="--ws-url"):
        endpoints_from(namespace(ws_url="http://h:1/ws"))


def test_account_options_are_checked() -> None:
    assert account_from(namespace(address=K1_ADDRESS, subaccount="3")) == (K1_ADDRESS, 3)
    with pytest.raises(UserError, match="no account"):
        account_from(namespace())
    with pytest.raises(UserError, match="checksum|bech32"):
        account_from(namespace(address=K1_ADDRESS[:-1] + "q"))
    with pytest.raises(UserError, match="0..128000"):
        account_from(namespace(address=K1_ADDRESS, subaccount="128001"))


def test_version_has_one_source_the_project_metadata() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())

    assert _version.__version__ == importlib.metadata.version("nautilus-dydx")
    assert _version.__version__ == pyproject["project"]["version"]


def test_version_flag_uses_the_single_source() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nautilus_dydx.cli", "--version"],
        capture_output=True, text=True, timeout=60, cwd=REPO, check=True,
    )

    assert result.stdout.strip() == f"nautilus-dydx {_version.__version__}"


def test_nautilus_pin_is_exact_and_identical_for_build_and_runtime() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    runtime = [d for d in pyproject["project"]["dependencies"] if d.startswith("nautilus_trader")]
    build = [d for d in pyproject["build-system"]["requires"] if d.startswith("nautilus_trader")]

    assert runtime == build == ["nautilus_trader==1.221.0"]
    assert any(d.startswith("rich") for d in pyproject["project"]["dependencies"])
    test_extras = pyproject["project"]["optional-dependencies"]["test"]
    assert any(d.startswith("twine") for d in test_extras)


def test_changelog_has_unreleased_and_the_first_release() -> None:
    text = (REPO / "CHANGELOG.md").read_text()

    assert "## [Unreleased]" in text
    assert "## [0.1.0]" in text
    assert text.index("## [Unreleased]") < text.index("## [0.1.0]")
