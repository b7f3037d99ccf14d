# SPDX-License-Identifier: Apache-2.0
"""`nautilus-dydx download` into a catalog, re-runs without duplicates, and a backtest on it."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from nautilus_dydx._core.frames import iso_to_ns
from nautilus_dydx.cli import main
from nautilus_dydx.sandbox.agents import AgentConfig
from nautilus_dydx.tools.catalog import register_funding_rate_serialization
from tests.integration.cli.support import SandboxThread
from tests.integration.sandbox.helpers import GENESIS_NS
from tests.integration.sandbox.helpers import make_config


REPO = Path(__file__).resolve().parents[3]
MINUTE_NS = 60_000_000_000
BAR_TYPE = "BTC-USD-PERP.DYDX-1-MINUTE-LAST-EXTERNAL"
START = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def venue() -> Iterator[SandboxThread]:
    # 15 s blocks on a fixed genesis: 300 blocks are 75 minutes of candles and one funding hour
    config = make_config(block_time_ms=15_000)
    agents = AgentConfig(levels=5, taker_probability=1.0, volatility_bps=20.0)
    with SandboxThread(config, agents) as sandbox:
        sandbox.step_blocks(300)
        yield sandbox


def download(venue: SandboxThread, catalog: Path, capsys: pytest.CaptureFixture[str],
             *extra: str) -> str:
    # A later --start in `extra` overrides this one
    code = main([
        "download", "BTC-USD", "ETH-USD", "--catalog", str(catalog), "--start", START,
        *extra, *venue.network_args(),
    ])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def load(catalog: Path) -> tuple[list, list, list]:
    register_funding_rate_serialization()
    store = ParquetDataCatalog(str(catalog))
    return (
        store.bars(bar_types=[BAR_TYPE]),
        store.trade_ticks(instrument_ids=["BTC-USD-PERP.DYDX"]),
        store.query(FundingRateUpdate, identifiers=["BTC-USD-PERP.DYDX"]),
    )


def venue_snapshot(venue: SandboxThread) -> tuple[int, list[dict], list[dict], dict]:
    def read() -> tuple[int, list[dict], list[dict], dict]:
        market = venue.sandbox.state.markets["BTC-USD"]
        return (
            venue.sandbox.node.block_time_ns,
            list(market.trades),
            list(market.funding),
            {start: dict(c) for start, c in market.candles["1MIN"].items()},
        )

    return venue.call(read)


def test_download_writes_closed_bars_trades_funding_and_the_instrument(
    venue: SandboxThread, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    now, trades, funding, candles = venue_snapshot(venue)

    download(venue, tmp_path, capsys)

    bars, ticks, rates = load(tmp_path)
    # Every candle that closed by the last block, stamped at its close; the forming one is out
    closed = sorted(s for s in candles if (s + 60) * 1_000_000_000 <= now)
    assert len(closed) == len(candles) - 1  # The last block opened a candle that still forms
    assert [b.ts_event for b in bars] == [(s + 60) * 1_000_000_000 for s in closed]
    assert len(bars) >= 70
    last = candles[closed[-1]]
    assert str(bars[-1].close) == str(Decimal(last["close"]))
    assert str(bars[-1].high) == str(Decimal(last["high"]))
    assert bars[-1].volume.as_decimal() == Decimal(last["baseTokenVolume"])
    # Trades: every venue trade, ascending, taker side as aggressor
    assert sorted(t.trade_id.value for t in ticks) == sorted(t["id"] for t in trades)
    assert [t.ts_event for t in ticks] == sorted(t.ts_event for t in ticks)
    by_id = {t["id"]: t for t in trades}
    for tick in ticks[:20]:
        venue_trade = by_id[tick.trade_id.value]
        assert tick.ts_event == iso_to_ns(venue_trade["createdAt"])
        expected = AggressorSide.BUYER if venue_trade["side"] == "BUY" else AggressorSide.SELLER
        assert tick.aggressor_side == expected
    # Funding: the hourly rate as Nautilus FundingRateUpdate
    assert len(rates) == len(funding) >= 1
    assert rates[0].rate == Decimal(funding[0]["rate"])
    assert rates[0].ts_event == iso_to_ns(funding[0]["effectiveAt"])
    store = ParquetDataCatalog(str(tmp_path))
    instrument = store.instruments(instrument_ids=["BTC-USD-PERP.DYDX"])[0]
    assert str(instrument.price_increment) == "1"
    assert str(instrument.size_increment) == "0.0001"


def test_rerun_adds_nothing_and_a_later_run_resumes_after_the_last_item(
    venue: SandboxThread, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    download(venue, tmp_path, capsys)
    first = load(tmp_path)
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet"))

    out = download(venue, tmp_path, capsys)

    assert "BTC-USD bars: +0" in out and "BTC-USD trades: +0" in out
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet")) == files
    again = load(tmp_path)
    assert [len(x) for x in again] == [len(x) for x in first]

    venue.step_blocks(24)  # Six more minutes
    download(venue, tmp_path, capsys)

    bars, ticks, _ = load(tmp_path)
    assert len(bars) == len(first[0]) + 6
    assert len({b.ts_event for b in bars}) == len(bars)
    assert len({t.trade_id for t in ticks}) == len(ticks) > len(first[1])
    assert [b.ts_event for b in bars] == sorted(b.ts_event for b in bars)


def test_a_range_split_in_two_runs_equals_one_run(
    venue: SandboxThread, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    end = "2026-01-01T01:00:00Z"
    download(venue, whole, capsys, "--end", end)
    # The later half first: the earlier half is then a gap before the stored interval
    download(venue, parts, capsys, "--end", end, "--start", "2026-01-01T00:30:00Z")
    download(venue, parts, capsys, "--end", end)

    a, b = load(whole), load(parts)
    assert [x.ts_event for x in a[0]] == [x.ts_event for x in b[0]]
    assert [x.trade_id for x in a[1]] == [x.trade_id for x in b[1]]
    assert len(a[2]) == len(b[2])
    assert all(x.ts_event <= iso_to_ns(end) for x in a[0])
    assert all(x.ts_event < iso_to_ns(end) for x in a[1])


def test_backtest_example_trades_on_the_downloaded_catalog(
    venue: SandboxThread, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    download(venue, tmp_path, capsys)
    spec = importlib.util.spec_from_file_location(
        "backtest_from_catalog", REPO / "examples" / "backtest_from_catalog.py",
    )
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)

    summary = module.run_backtest(str(tmp_path), "BTC-USD", fast_period=3, slow_period=8)

    bars, _, rates = load(tmp_path)
    assert summary.bars == len(bars)
    assert summary.funding_rates == len(rates)
    assert summary.orders >= 2
    assert summary.filled == summary.orders
    assert len(summary.fills) == summary.orders
    assert summary.realized_pnl is not None


def test_bars_before_genesis_are_not_requested(
    venue: SandboxThread, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = download(venue, tmp_path, capsys, "--start", "1767225000", "--end", "1767225500")

    bars, ticks, rates = load(tmp_path)
    assert GENESIS_NS > 1767225500 * 1_000_000_000
    assert (bars, ticks, rates) == ([], [], [])
    assert "BTC-USD bars: +0" in out
