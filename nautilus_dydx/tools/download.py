# SPDX-License-Identifier: Apache-2.0
"""Download candles, trades and funding rates into a Nautilus ParquetDataCatalog (resumable)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from rich.progress import BarColumn
from rich.progress import Progress
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn

from nautilus_dydx._core.frames import RESOLUTIONS
from nautilus_dydx._core.frames import iso_to_ns
from nautilus_dydx.http.client import DYDXHttpClient
from nautilus_dydx.tools.catalog import NANOS_PER_SECOND
from nautilus_dydx.tools.catalog import bar_from_candle
from nautilus_dydx.tools.catalog import bar_type_for
from nautilus_dydx.tools.catalog import funding_from_historical
from nautilus_dydx.tools.catalog import perpetual_from_market
from nautilus_dydx.tools.catalog import register_funding_rate_serialization
from nautilus_dydx.tools.catalog import resolution_seconds
from nautilus_dydx.tools.catalog import trade_tick_from_trade
from nautilus_dydx.tools.common import UserError
from nautilus_dydx.tools.common import add_network_arguments
from nautilus_dydx.tools.common import endpoints_from
from nautilus_dydx.tools.common import fetch_markets
from nautilus_dydx.tools.common import http_client
from nautilus_dydx.tools.common import make_console
from nautilus_dydx.tools.common import run_command


KINDS = ("bars", "trades", "funding")
# Items per catalog file while walking a listing newest first
CHUNK = 50_000
NANOS_PER_MS = 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the `download` options to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.

    """
    parser.add_argument("tickers", nargs="+", metavar="TICKER", help="markets, e.g. BTC-USD")
    add_network_arguments(parser)
    parser.add_argument("--catalog", required=True, metavar="PATH",
                        help="the ParquetDataCatalog directory (created if missing)")
    parser.add_argument("--start", default=None, metavar="TIME",
                        help="range start, ISO 8601 or unix seconds (default: end - 1 day)")
    parser.add_argument("--end", default=None, metavar="TIME",
                        help="range end (exclusive), ISO 8601 or unix seconds (default: now)")
    parser.add_argument("--resolution", default="1MIN", choices=list(RESOLUTIONS),
                        help="candle resolution (default: 1MIN)")
    parser.add_argument("--data", default=",".join(KINDS), metavar="KINDS",
                        help=f"comma-separated subset of {','.join(KINDS)} (default: all)")


def parse_time(text: str, option: str) -> int:
    """
    Return UNIX nanoseconds of an ISO 8601 time (UTC unless it says otherwise) or unix seconds.

    Parameters
    ----------
    text : str
        The option value.
    option : str
        The option name, for errors.

    Returns
    -------
    int

    Raises
    ------
    UserError
        If the text is not a time.

    """
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return int(round(seconds * NANOS_PER_SECOND))
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise UserError(
            f"invalid {option}: not an ISO 8601 time or unix seconds, was {text!r}",
        ) from None
    if stamp is pd.NaT:
        raise UserError(f"invalid {option}: not a time, was {text!r}")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value)


def iso(ns: int) -> str:
    """
    Return UNIX nanoseconds as the Indexer's ISO format (millisecond precision, ``Z``).

    Parameters
    ----------
    ns : int
        The time.

    Returns
    -------
    str

    """
    return pd.Timestamp(ns, tz="UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def missing_ranges(
    low: int, high: int, stored: list[tuple[int, int]],
) -> list[tuple[int, int]]:
    """
    Return the parts of [low, high] (inclusive nanoseconds) not covered by `stored` intervals.

    Parameters
    ----------
    low : int
        The range start.
    high : int
        The range end (inclusive).
    stored : list[tuple[int, int]]
        Inclusive intervals already in the catalog.

    Returns
    -------
    list[tuple[int, int]]
        Ascending, disjoint.

    """
    gaps = []
    cursor = low
    for start, end in sorted(stored):
        if end < cursor:
            continue
        if start > high:
            break
        if start > cursor:
            gaps.append((cursor, start - 1))
        cursor = max(cursor, end + 1)
        if cursor > high:
            break
    if cursor <= high:
        gaps.append((cursor, high))
    return gaps


@dataclass
class Outcome:
    """
    What one (market, data kind) download added to the catalog.
    """

    ticker: str
    kind: str
    added: int
    gaps: int


class Downloader:
    """
    Fill a catalog from the Indexer: only the time ranges it does not hold yet.

    Catalog intervals are the resume state: a re-run fetches the gaps of the requested range
    and writes items strictly inside them, so nothing is written twice. Bars are stamped at
    their close; a candle still forming (close after the Indexer's last block) is skipped.

    Parameters
    ----------
    http : DYDXHttpClient
        The Indexer REST client.
    catalog : ParquetDataCatalog
        The catalog.
    progress : Progress | None
        A rich progress display, or None.

    """

    def __init__(
        self, http: DYDXHttpClient, catalog: ParquetDataCatalog, progress: Progress | None = None,
    ) -> None:
        self.http = http
        self.catalog = catalog
        self.progress = progress
        register_funding_rate_serialization()

    def write_instrument(self, instrument: CryptoPerpetual) -> bool:
        """Write `instrument` unless the catalog has it; return whether it was written."""
        if self.catalog.instruments(instrument_ids=[str(instrument.id)]):
            return False
        self.catalog.write_data([instrument])
        return True

    async def bars(
        self, instrument: CryptoPerpetual, resolution: str, start: int, end: int, now: int,
    ) -> Outcome:
        """Download closed bars whose candle started in [start, end) and closed by `now`."""
        bar_type = bar_type_for(instrument.id, resolution)
        interval = resolution_seconds(resolution) * NANOS_PER_SECOND
        # Bars are stamped at the close: closes in [start + interval, min(end, now)]
        gaps = self._gaps(Bar, str(bar_type), start + interval, min(end, now))
        added = 0
        task = self._task(f"{instrument.raw_symbol} bars", gaps)
        for low, high in gaps:
            from_iso = iso(low - interval - (low - interval) % NANOS_PER_MS)
            to_iso = iso(high - interval + NANOS_PER_MS - (high - interval) % NANOS_PER_MS)
            bars = []
            async for candle in self.http.iter_candles(
                instrument.raw_symbol.value, resolution, from_iso, to_iso,
            ):
                bar = bar_from_candle(candle, bar_type, instrument)
                if low <= bar.ts_event <= high:
                    bars.append(bar)
            added += self._write(sorted(bars, key=lambda b: b.ts_event))
            self._advance(task, high - low + 1)
        return Outcome(str(instrument.raw_symbol), "bars", added, len(gaps))

    async def trades(self, instrument: CryptoPerpetual, start: int, end: int, now: int) -> Outcome:
        """Download the trades in [start, end) up to the Indexer's last block."""
        ticker = instrument.raw_symbol.value
        return await self._walk(
            "trades", ticker, TradeTick, str(instrument.id), start, min(end - 1, now),
            self.http.iter_trades(ticker),
            lambda trade: iso_to_ns(trade.created_at),
            lambda trade: trade_tick_from_trade(trade, instrument),
        )

    async def funding(
        self, instrument: CryptoPerpetual, start: int, end: int, now: int,
    ) -> Outcome:
        """Download the hourly funding rates that took effect in [start, end)."""
        ticker = instrument.raw_symbol.value
        return await self._walk(
            "funding", ticker, FundingRateUpdate, str(instrument.id), start, min(end - 1, now),
            self.http.iter_historical_funding(ticker),
            lambda funding: iso_to_ns(funding.effective_at),
            lambda funding: funding_from_historical(funding, instrument.id),
        )

    async def _walk(
        self,
        kind: str,
        ticker: str,
        data_cls: type,
        identifier: str,
        low: int,
        high: int,
        items: AsyncIterator[Any],
        ts_of: Callable[[Any], int],
        convert: Callable[[Any], Any],
    ) -> Outcome:
        # Listings come newest first: keep items inside a gap, stop below the oldest gap
        gaps = self._gaps(data_cls, identifier, low, high)
        if not gaps:
            return Outcome(ticker, kind, 0, 0)
        task = self._task(f"{ticker} {kind}", gaps)
        added = 0
        bottom, top = gaps[0][0], gaps[-1][1]
        batch: list = []
        batch_low = top + 1
        async for item in items:
            ts = ts_of(item)
            if ts > top:
                continue
            if ts < bottom:
                break
            self._advance_to(task, top - ts)
            if not any(a <= ts <= b for a, b in gaps):
                continue
            # Flush only between timestamps so files never share one (their intervals touch)
            if len(batch) >= CHUNK and ts < batch_low:
                added += self._write(batch[::-1])
                batch = []
            batch.append(convert(item))
            batch_low = ts
        added += self._write(batch[::-1])
        self._advance_to(task, top - bottom + 1)
        return Outcome(ticker, kind, added, len(gaps))

    def _gaps(self, data_cls: type, identifier: str, low: int, high: int) -> list[tuple[int, int]]:
        if low > high:
            return []
        stored = self.catalog.get_intervals(data_cls, identifier)
        return missing_ranges(low, high, stored)

    def _write(self, data: list) -> int:
        if data:
            self.catalog.write_data(data)
        return len(data)

    def _task(self, description: str, gaps: list[tuple[int, int]]) -> Any:
        if self.progress is None:
            return None
        total = sum(b - a + 1 for a, b in gaps) or 1
        return self.progress.add_task(description, total=total)

    def _advance(self, task: Any, amount: int) -> None:
        if task is not None and self.progress is not None:
            self.progress.advance(task, amount)

    def _advance_to(self, task: Any, completed: int) -> None:
        if task is not None and self.progress is not None:
            self.progress.update(task, completed=completed)


def parse_kinds(text: str) -> list[str]:
    """
    Return the data kinds of `--data`.

    Raises
    ------
    UserError
        If a kind is unknown or none is given.

    """
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise UserError(f"invalid --data: expected a subset of {','.join(KINDS)}, was {text!r}")
    return kinds


async def _download(args: argparse.Namespace) -> int:
    endpoints = endpoints_from(args)
    kinds = parse_kinds(args.data)
    end = parse_time(args.end, "--end") if args.end else None
    start = parse_time(args.start, "--start") if args.start else None
    path = Path(args.catalog)
    if path.exists() and not path.is_dir():
        raise UserError(f"invalid --catalog: not a directory, was {str(path)!r}")
    console = make_console()
    async with http_client(endpoints) as http:
        markets = await fetch_markets(http, args.tickers)
        now = iso_to_ns((await http.get_height()).time)
        end = now + 1 if end is None else end
        start = end - 86_400 * NANOS_PER_SECOND if start is None else start
        if start >= end:
            raise UserError(f"invalid range: --start {iso(start)} is not before --end {iso(end)}")
        path.mkdir(parents=True, exist_ok=True)
        catalog = ParquetDataCatalog(str(path))
        progress = Progress(
            TextColumn("{task.description:<20}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            disable=not sys.stdout.isatty(),
        )
        outcomes: list[Outcome] = []
        with progress:
            downloader = Downloader(http, catalog, progress)
            for ticker in args.tickers:
                instrument = perpetual_from_market(markets[ticker], ts_init=now)
                if downloader.write_instrument(instrument):
                    console.print(f"{ticker}: instrument {instrument.id} written")
                if "bars" in kinds:
                    outcomes.append(
                        await downloader.bars(instrument, args.resolution, start, end, now),
                    )
                if "trades" in kinds:
                    outcomes.append(await downloader.trades(instrument, start, end, now))
                if "funding" in kinds:
                    outcomes.append(await downloader.funding(instrument, start, end, now))
    console.print(f"range {iso(start)} .. {iso(end)} (Indexer at {iso(now)}), catalog {path}")
    for outcome in outcomes:
        console.print(f"{outcome.ticker} {outcome.kind}: +{outcome.added}")
    return 0


def run(args: argparse.Namespace) -> int:
    """
    Run `nautilus-dydx download` and return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int

    """
    return run_command(lambda: _download(args))
