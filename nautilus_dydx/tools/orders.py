# SPDX-License-Identifier: Apache-2.0
"""List the open (or recent) orders of a subaccount."""

from __future__ import annotations

import argparse

from rich.table import Table

from nautilus_dydx.schemas import indexer as schemas
from nautilus_dydx.tools.common import account_from
from nautilus_dydx.tools.common import add_account_arguments
from nautilus_dydx.tools.common import add_network_arguments
from nautilus_dydx.tools.common import endpoints_from
from nautilus_dydx.tools.common import fetch_markets
from nautilus_dydx.tools.common import http_client
from nautilus_dydx.tools.common import make_console
from nautilus_dydx.tools.common import positive_int
from nautilus_dydx.tools.common import run_command
from nautilus_dydx.tools.common import UserError


OPEN_STATUSES = ("OPEN", "UNTRIGGERED", "BEST_EFFORT_OPENED")
# Order flags of stateful orders (long-term 64, conditional 32; short-term is 0)
STATEFUL_FLAGS = frozenset({"32", "64"})
FLAG_NAMES = {"0": "short-term", "32": "conditional", "64": "long-term", "128": "twap"}
COLUMNS = (
    "ticker", "side", "type", "size", "filled", "price", "trigger", "status", "tif", "kind",
    "client id", "good til",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the `orders` options to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.

    """
    add_network_arguments(parser)
    add_account_arguments(parser)
    parser.add_argument("--ticker", default=None, help="only this market")
    parser.add_argument("--recent", action="store_true",
                        help="the most recent orders in any status (default: open orders only)")
    parser.add_argument("--limit", type=positive_int, default=50, metavar="N",
                        help="at most N orders with --recent (default: 50, at most 1000)")


def is_open_stateful(order: schemas.Order) -> bool:
    """
    Return whether `order` counts against the equity-tier limit (open long-term or conditional).

    Parameters
    ----------
    order : Order
        The Indexer order.

    Returns
    -------
    bool

    """
    return order.status in OPEN_STATUSES and order.order_flags in STATEFUL_FLAGS


async def open_orders(http, address: str, number: int, ticker: str | None = None) -> list:
    """
    Return every open order of a subaccount (all pages).

    Parameters
    ----------
    http : DYDXHttpClient
        The REST client.
    address : str
        The owner.
    number : int
        The subaccount number.
    ticker : str, optional
        Only this market.

    Returns
    -------
    list[Order]

    """
    return [
        order async for order in http.iter_orders(
            address, number, status=list(OPEN_STATUSES), ticker=ticker,
        )
    ]


def order_rows(orders: list[schemas.Order], tickers_by_clob: dict[str, str]) -> list[tuple]:
    """
    Return one row of `COLUMNS` per order.

    Parameters
    ----------
    orders : list[Order]
        The orders.
    tickers_by_clob : dict[str, str]
        Market ticker per CLOB pair id (orders may lack `ticker`).

    Returns
    -------
    list[tuple[str, ...]]

    """
    rows = []
    for o in orders:
        by_block = f"block {o.good_til_block}" if o.good_til_block else "-"
        good_til = o.good_til_block_time or by_block
        rows.append((
            o.ticker or tickers_by_clob.get(o.clob_pair_id, o.clob_pair_id), o.side, o.type,
            o.size, o.total_filled, o.price, o.trigger_price or "-", o.status, o.time_in_force,
            FLAG_NAMES.get(o.order_flags, o.order_flags), o.client_id, good_til,
        ))
    return rows


def orders_table(
    title: str, orders: list[schemas.Order], tickers_by_clob: dict[str, str],
) -> Table:
    """
    Return a rich table of `orders`.

    Parameters
    ----------
    title : str
        The table title.
    orders : list[Order]
        The orders.
    tickers_by_clob : dict[str, str]
        Market ticker per CLOB pair id.

    Returns
    -------
    Table

    """
    table = Table(title=title)
    for column in COLUMNS:
        numeric = column in ("size", "filled", "price")
        table.add_column(column, justify="right" if numeric else "left")
    for row in order_rows(orders, tickers_by_clob):
        table.add_row(*row)
    return table


async def _orders(args: argparse.Namespace) -> int:
    endpoints = endpoints_from(args)
    address, number = account_from(args)
    if args.limit > 1000:
        raise UserError(f"invalid --limit: at most 1000, was {args.limit}")
    async with http_client(endpoints) as http:
        markets = await fetch_markets(http, [args.ticker] if args.ticker else None)
        if args.recent:
            orders = await http.get_orders(
                address, number, limit=args.limit, ticker=args.ticker, return_latest_orders=True,
            )
            title = f"{len(orders)} most recent orders of {address}/{number}"
        else:
            orders = await open_orders(http, address, number, args.ticker)
            title = f"{len(orders)} open orders of {address}/{number}"
    by_clob = {m.clob_pair_id: ticker for ticker, m in markets.items()}
    make_console().print(orders_table(title, orders, by_clob))
    return 0


def run(args: argparse.Namespace) -> int:
    """
    Run `nautilus-dydx orders` and return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int

    """
    return run_command(lambda: _orders(args))
