# SPDX-License-Identifier: Apache-2.0
"""List the perpetual markets and their parameters."""

from __future__ import annotations

import argparse

from rich.table import Table

from nautilus_dydx.tools.common import add_network_arguments
from nautilus_dydx.tools.common import endpoints_from
from nautilus_dydx.tools.common import fetch_markets
from nautilus_dydx.tools.common import http_client
from nautilus_dydx.tools.common import make_console
from nautilus_dydx.tools.common import run_command


COLUMNS = (
    "ticker", "status", "oracle", "tick", "step", "atomic res", "IMF", "MMF",
    "24h volume (USD)", "next funding",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the `markets` options to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.

    """
    add_network_arguments(parser)
    parser.add_argument("tickers", nargs="*", metavar="TICKER",
                        help="only these markets (default: all)")


def market_rows(markets: dict, tickers: list[str] | None = None) -> list[tuple[str, ...]]:
    """
    Return one row of `COLUMNS` per market, sorted by ticker.

    Parameters
    ----------
    markets : dict[str, PerpetualMarket]
        The markets by ticker.
    tickers : list[str], optional
        Only these.

    Returns
    -------
    list[tuple[str, ...]]

    """
    rows = []
    for ticker in sorted(tickers or markets):
        m = markets[ticker]
        rows.append((
            m.ticker, m.status, m.oracle_price or "-", m.tick_size, m.step_size,
            str(m.atomic_resolution), m.initial_margin_fraction, m.maintenance_margin_fraction,
            m.volume_24h or "-", m.next_funding_rate or "-",
        ))
    return rows


async def _markets(args: argparse.Namespace) -> int:
    endpoints = endpoints_from(args)
    async with http_client(endpoints) as http:
        markets = await fetch_markets(http, args.tickers)
    table = Table(title=f"dYdX perpetual markets ({endpoints.network})")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column in ("ticker", "status") else "right")
    for row in market_rows(markets, args.tickers):
        table.add_row(*row)
    make_console().print(table)
    return 0


def run(args: argparse.Namespace) -> int:
    """
    Run `nautilus-dydx markets` and return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int

    """
    return run_command(lambda: _markets(args))
