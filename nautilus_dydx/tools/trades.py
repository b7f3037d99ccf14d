# SPDX-License-Identifier: Apache-2.0
"""Print the live public trades of one market."""

from __future__ import annotations

import argparse
from collections import deque
from typing import Any

import pandas as pd
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from rich.console import RenderableType
from rich.table import Table

from nautilus_dydx._core.frames import Subscribed
from nautilus_dydx.tools.live import LiveView
from nautilus_dydx.tools.live import add_live_arguments
from nautilus_dydx.tools.live import run_view
from nautilus_dydx.websocket.client import DYDXWebSocketClient


SHOWN = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the `trades` options to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.

    """
    add_live_arguments(parser)


def trade_line(tick: TradeTick) -> str:
    """
    Return one plain line for a trade: time, side, size @ price, trade ID.

    Parameters
    ----------
    tick : TradeTick
        The trade.

    Returns
    -------
    str

    """
    side = "BUY " if tick.aggressor_side == AggressorSide.BUYER else "SELL"
    time = pd.Timestamp(tick.ts_event, tz="UTC").isoformat()
    symbol = tick.instrument_id.symbol
    return f"{time} {symbol} {side} {tick.size} @ {tick.price} id={tick.trade_id}"


class TradesView(LiveView):
    """
    The live trades: one update per trade (the subscribe snapshot of recent trades excluded).
    """

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        self.recent: deque[TradeTick] = deque(maxlen=SHOWN)

    async def subscribe(self, ws: DYDXWebSocketClient) -> None:
        await ws.subscribe_trades(self.ticker)

    def on_objects(self, objects: list[Any]) -> list[str]:
        ticks = [obj for obj in objects if isinstance(obj, TradeTick)]
        if any(isinstance(obj, Subscribed) for obj in objects):
            # The `subscribed` frame carries past trades: shown, not counted as live updates
            self.recent.extend(reversed(ticks))
            return []
        self.recent.extend(ticks)
        return [trade_line(tick) for tick in ticks]

    def render(self) -> RenderableType:
        table = Table(title=f"{self.ticker} trades ({self.updates} so far)")
        for column in ("time (UTC)", "side", "size", "price"):
            table.add_column(column, justify="right")
        for tick in reversed(self.recent):
            buy = tick.aggressor_side == AggressorSide.BUYER
            table.add_row(
                pd.Timestamp(tick.ts_event, tz="UTC").strftime("%H:%M:%S.%f")[:-3],
                "[green]BUY[/]" if buy else "[red]SELL[/]",
                str(tick.size),
                str(tick.price),
            )
        return table


def run(args: argparse.Namespace) -> int:
    """
    Run `nautilus-dydx trades` and return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int

    """
    return run_view(TradesView, args)
