# SPDX-License-Identifier: Apache-2.0
"""Print a live price line of one market: bid/ask mid, last trade and oracle price."""

from __future__ import annotations

import argparse
from typing import Any

from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.objects import Price
from rich.console import RenderableType
from rich.text import Text

from nautilus_dydx.tools.live import LiveView
from nautilus_dydx.tools.live import add_live_arguments
from nautilus_dydx.tools.live import run_view
from nautilus_dydx.websocket.client import DYDXWebSocketClient


PRICE_TYPES = (QuoteTick, TradeTick, MarkPriceUpdate, IndexPriceUpdate)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the `price` options to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.

    """
    add_live_arguments(parser)


class PriceView(LiveView):
    """
    The live price: one update per frame that changes the quote, the last trade or the oracle.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        self.bid: Price | None = None
        self.ask: Price | None = None
        self.last: Price | None = None
        self.oracle: Price | None = None

    async def subscribe(self, ws: DYDXWebSocketClient) -> None:
        await ws.subscribe_orderbook(self.ticker)
        await ws.subscribe_trades(self.ticker)
        await ws.subscribe_markets()

    @property
    def mid(self) -> str:
        """The mid price, exact (one more decimal place than the tick when needed)."""
        if self.bid is None or self.ask is None:
            return "-"
        return str((self.bid.as_decimal() + self.ask.as_decimal()) / 2)

    def line(self) -> str:
        """Return the price line."""
        return (
            f"{self.ticker} mid={self.mid} bid={self.bid or '-'} ask={self.ask or '-'} "
            f"last={self.last or '-'} oracle={self.oracle or '-'}"
        )

    def on_objects(self, objects: list[Any]) -> list[str]:
        assert self.context is not None
        instrument_id = self.context.instrument_id
        before = (self.bid, self.ask, self.last, self.oracle)
        trades = []
        for obj in objects:
            if not isinstance(obj, PRICE_TYPES) or obj.instrument_id != instrument_id:
                continue
            if isinstance(obj, QuoteTick):
                self.bid, self.ask = obj.bid_price, obj.ask_price
            elif isinstance(obj, TradeTick):
                trades.append(obj)
            elif isinstance(obj, (MarkPriceUpdate, IndexPriceUpdate)):
                self.oracle = obj.value
        if trades:
            self.last = max(trades, key=lambda t: t.ts_event).price
        if (self.bid, self.ask, self.last, self.oracle) == before:
            return []
        return [self.line()]

    def render(self) -> RenderableType:
        return Text(self.line())


def run(args: argparse.Namespace) -> int:
    """
    Run `nautilus-dydx price` and return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int

    """
    return run_view(PriceView, args)
