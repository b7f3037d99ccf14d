# SPDX-License-Identifier: Apache-2.0
"""Indexer payloads the venue check reads (captured shapes), the chart, and the demo options."""

from __future__ import annotations

import struct
from collections import Counter
from decimal import Decimal

import orjson
import pytest

from nautilus_dydx.demo.chart import write_chart
from nautilus_dydx.demo.recorder import RunRecord
from nautilus_dydx.demo.recorder import Sample
from nautilus_dydx.demo.run import parse_args
from nautilus_dydx.demo.session import network_venue
from nautilus_dydx.demo.venue_state import VenuePosition
from nautilus_dydx.demo.venue_state import parse_fills
from nautilus_dydx.demo.venue_state import parse_subaccount
from nautilus_trader.model.enums import OrderSide
from tests.conftest import load_resource
from tests.unit.demo.events import BTC
from tests.unit.demo.events import filled
from tests.unit.demo.events import limit


def test_subaccount_capture_parses_equity_usdc_and_height() -> None:
    payload = orjson.loads(load_resource("http", "http_get_subaccount.json"))["result"]
    height, equity, usdc, positions = parse_subaccount(payload)
    assert height == 66624141
    assert equity == usdc == Decimal("45.201296")
    assert positions == {}


def test_short_position_is_negative_and_marks_at_the_indexer_price() -> None:
    payload = {"subaccount": {
        "equity": "1000", "latestProcessedBlockHeight": "7",
        "assetPositions": {"USDC": {"size": "50", "side": "SHORT"}},
        "openPerpetualPositions": {"ETH-USD": {
            "size": "-2", "side": "SHORT", "entryPrice": "3000", "unrealizedPnl": "20",
            "netFunding": "0.5",
        }},
    }}
    _, _, usdc, positions = parse_subaccount(payload)
    assert usdc == Decimal(-50)
    assert positions["ETH-USD"].size == Decimal(-2)
    assert positions["ETH-USD"].mark_price == Decimal(2990)  # Short gains when it falls
    assert VenuePosition("X", Decimal(0), Decimal(5), Decimal(0), Decimal(0)).mark_price == 5


def test_fills_capture_parses_every_fill() -> None:
    payload = orjson.loads(load_resource("http", "http_get_fills.json"))["result"]
    fills = parse_fills(payload)
    assert len(fills) == len(payload["fills"])
    first = fills[0]
    assert (first.side, first.price, first.size, first.height) == (
        "BUY", Decimal(105117), Decimal("0.0001"), 63049869,
    )


def test_malformed_payloads_raise_value_errors() -> None:
    with pytest.raises(ValueError, match="invalid subaccount payload"):
        parse_subaccount({"subaccount": {"assetPositions": {}}})
    with pytest.raises(ValueError, match="invalid fills payload"):
        parse_fills({"fills": [{"id": "x"}]})


def test_chart_is_a_png_of_the_recorded_run(tmp_path) -> None:
    record = RunRecord(BTC, Counter(quotes=3), 1)
    for i in range(5):
        record.samples.append(Sample(i * 500_000_000, Decimal(65000 + i), Decimal(i) / 1000,
                                     Decimal(i) / 10))
    record.mids += [(0, Decimal(65000)), (250_000_000, Decimal("65000.5"))]
    record.events += [filled(limit(), "0.0010", "65001", ts=600_000_000),
                      filled(limit(OrderSide.SELL), "0.0010", "65003", ts=1_600_000_000)]

    path = write_chart(record, tmp_path / "sub" / "run.png")

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1000, 800)


def test_demo_options_from_the_environment_and_flags(monkeypatch) -> None:
    monkeypatch.setenv("DEMO_SECONDS", "12.5")
    monkeypatch.setenv("DYDX_NETWORK", "testnet")
    options = parse_args([])
    assert (options.seconds, options.network) == (12.5, "testnet")
    options = parse_args(["--seconds", "3", "--network", "sandbox", "--chart", ""])
    assert (options.seconds, options.network, options.chart) == (3.0, "sandbox", None)
    with pytest.raises(SystemExit):
        parse_args(["--seconds", "0"])


def test_network_venue_reads_credentials_without_showing_them() -> None:
    secret = "a" * 64
    venue = network_venue("testnet", {"DYDX_PRIVATE_KEY": secret})
    assert venue.private_key == secret and venue.mnemonic is None
    assert secret not in repr(venue)
    with pytest.raises(ValueError, match="invalid network"):
        network_venue("sandbox", {})
    with pytest.raises(ValueError, match="no credentials for mainnet: set DYDX_MNEMONIC"):
        network_venue("mainnet", {"DYDX_WALLET_ADDRESS": "dydx1x"})
    # The adapter's own per-network variables are enough: its config reads them
    assert network_venue("testnet", {"DYDX_TESTNET_MNEMONIC": "m"}).mnemonic is None
