# SPDX-License-Identifier: Apache-2.0
"""Show the live top of the order book of one market and its spread."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from nautilus_trader.model.data import OrderBookDeltas
from rich.console import Group
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from nautilus_dydx.tools.common import positive_int
from nautilus_dydx.tools.live import LiveView
from nautilus_dydx.tools.live import add_live_arguments
from nautilus_dydx.tools.live import run_view
from nautilus_dydx.websocket.client import DYDXWebSocketClient


FIXED_SCALE = Decimal(10) ** 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the `book` options to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.

    """
    add_live_arguments(parser)
    parser.add_argument("--depth", type=positive_int, default=10, metavar="N",
                        help="levels per side (default: 10)")


def from_raw(raw: int, precision: int) -> Decimal:
    """
    Return a fixed-point raw value (scaled by 10**16) as a Decimal with `precision` places.

    Parameters
    ----------
    raw : int
        The raw value.
    precision : int
        Decimal places to show.

    Returns
    -------
    Decimal

    """
    return (Decimal(raw) / FIXED_SCALE).quantize(Decimal(1).scaleb(-precision))


class BookView(LiveView):
    """
    The live book: one update per book frame, top `depth` levels and the spread.
    """

    async def subscribe(self, ws: DYDXWebSocketClient) -> None:
        await ws.subscribe_orderbook(self.ticker)

    def levels(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """Return the (price, size) levels per side, best first."""
        assert self.context is not None
        book = self.context.book
        bids, asks = book.view(self.args.depth)
        price_precision = book.price_precision
        size_precision = book.size_precision
        return (
            [(from_raw(p, price_precision), from_raw(s, size_precision)) for p, s in bids],
            [(from_raw(p, price_precision), from_raw(s, size_precision)) for p, s in asks],
        )

    def summary(self) -> str:
        """Return the one-line top of book: best bid, best ask, spread and depth."""
        bids, asks = self.levels()
        if not bids or not asks:
            bid = bids[0][0] if bids else "-"
            ask = asks[0][0] if asks else "-"
            return f"{self.ticker} bid={bid} ask={ask}"
        bid, bid_size = bids[0]
        ask, ask_size = asks[0]
        spread = ask - bid
        return (
            f"{self.ticker} bid={bid} x {bid_size} ask={ask} x {ask_size} spread={spread} "
            f"levels={len(bids)}/{len(asks)}"
        )

    def on_objects(self, objects: list[Any]) -> list[str]:
        if any(isinstance(obj, OrderBookDeltas) for obj in objects):
            return [self.summary()]
        return []

    def render(self) -> RenderableType:
        if self.context is None:
            return Text(f"{self.ticker}: connecting...")
        bids, asks = self.levels()
        table = Table(title=f"{self.ticker} order book (top {self.args.depth})")
        for column in ("bid size", "bid", "ask", "ask size"):
            table.add_column(column, justify="right")
        for i in range(max(len(bids), len(asks))):
            bid = bids[i] if i < len(bids) else ("", "")
            ask = asks[i] if i < len(asks) else ("", "")
            table.add_row(str(bid[1]), f"[green]{bid[0]}[/]", f"[red]{ask[0]}[/]", str(ask[1]))
        spread = f"spread {asks[0][0] - bids[0][0]}" if bids and asks else "spread -"
        return Group(table, Text(f"{spread}   updates {self.updates}"))


def run(args: argparse.Namespace) -> int:
    """
    Run `nautilus-dydx book` and return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int

    """
    return run_view(BookView, args)
