# SPDX-License-Identifier: Apache-2.0
"""A bounded live view over the Indexer WebSocket: rich in a terminal, plain lines otherwise."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from rich.console import RenderableType
from rich.live import Live

from nautilus_dydx._core.frames import FrameError
from nautilus_dydx._core.frames import FrameParser
from nautilus_dydx._core.frames import MarketContext
from nautilus_dydx._core.frames import precision_from_increment
from nautilus_dydx.schemas import indexer as schemas
from nautilus_dydx.tools.common import Endpoints
from nautilus_dydx.tools.common import add_network_arguments
from nautilus_dydx.tools.common import endpoints_from
from nautilus_dydx.tools.common import fetch_markets
from nautilus_dydx.tools.common import http_client
from nautilus_dydx.tools.common import make_console
from nautilus_dydx.tools.common import positive_float
from nautilus_dydx.tools.common import positive_int
from nautilus_dydx.tools.common import run_command
from nautilus_dydx.tools.decode import instrument_id_for
from nautilus_dydx.websocket.client import DYDXWebSocketClient


CONNECT_TIMEOUT_S = 10.0
REFRESH_S = 0.1


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the ticker, the network options and the bounds (`--count`, `--duration`) to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.

    """
    parser.add_argument("ticker", metavar="TICKER", help="the market, e.g. BTC-USD")
    add_network_arguments(parser)
    parser.add_argument("--count", type=positive_int, default=None, metavar="N",
                        help="stop after N updates (default: run until Ctrl-C)")
    parser.add_argument("--duration", type=positive_float, default=None, metavar="S",
                        help="stop after S seconds (default: run until Ctrl-C)")
    parser.add_argument("--plain", action="store_true",
                        help="print one plain line per update (the default when not a terminal)")


class LiveView:
    """
    A live view: subclasses subscribe, turn frames into updates and render the state.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (`ticker`, `count`, `duration`, `plain`).

    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.ticker: str = args.ticker
        self.updates = 0
        self.context: MarketContext | None = None
        self.market: schemas.PerpetualMarket | None = None
        self.plain = bool(args.plain) or not sys.stdout.isatty()
        self._changed = asyncio.Event()
        self._pending: list[str] = []

    # -- Subclass surface ----------------------------------------------------------------------

    async def subscribe(self, ws: DYDXWebSocketClient) -> None:
        """Send the subscriptions of this view."""
        raise NotImplementedError

    def on_objects(self, objects: list[Any]) -> list[str]:
        """Update the state from one frame and return its plain lines (one per update)."""
        raise NotImplementedError

    def render(self) -> RenderableType:
        """Return the terminal view of the state."""
        raise NotImplementedError

    # -- Loop ----------------------------------------------------------------------------------

    def _handle(self, objects: list[Any]) -> None:
        lines = self.on_objects(objects)
        if lines:
            self._pending.extend(lines)
            self._changed.set()

    def _on_error(self, error: FrameError) -> None:
        print(f"warning: dropped a malformed frame: {error}", file=sys.stderr)

    def _done(self, loop: asyncio.AbstractEventLoop, deadline: float | None) -> bool:
        if self.args.count is not None and self.updates >= self.args.count:
            return True
        return deadline is not None and loop.time() >= deadline

    def _drain(self) -> list[str]:
        lines = self._pending
        if self.args.count is not None:
            lines = lines[: max(0, self.args.count - self.updates)]
        self.updates += len(lines)
        self._pending = []
        return lines

    async def run(self) -> int:
        """
        Connect, subscribe and show updates until the bounds are met (or Ctrl-C).

        Returns
        -------
        int

        """
        endpoints: Endpoints = endpoints_from(self.args)
        async with http_client(endpoints) as http:
            markets = await fetch_markets(http, [self.ticker])
        self.market = markets[self.ticker]
        parser = FrameParser()
        ws = DYDXWebSocketClient(endpoints.ws_url, self._handle, parser, on_error=self._on_error)
        self.context = ws.register_market(
            self.ticker,
            instrument_id_for(self.ticker),
            precision_from_increment(self.market.tick_size),
            precision_from_increment(self.market.step_size),
        )
        try:
            await ws.connect(CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise TimeoutError(f"no WebSocket connection to {endpoints.ws_url}") from None
        try:
            await self.subscribe(ws)
            await self._loop()
        finally:
            await ws.disconnect()
        return 0

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = None if self.args.duration is None else loop.time() + self.args.duration
        console = make_console()
        live = None if self.plain else Live(self.render(), console=console, auto_refresh=False)
        if live is not None:
            live.start()
        rendered_at = 0.0
        try:
            while not self._done(loop, deadline):
                timeout = None if deadline is None else max(0.0, deadline - loop.time())
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout)
                except TimeoutError:
                    break
                self._changed.clear()
                lines = self._drain()
                if live is not None:
                    # Repaint at most REFRESH_S apart: a busy book sends many frames a second
                    if loop.time() - rendered_at >= REFRESH_S:
                        live.update(self.render(), refresh=True)
                        rendered_at = loop.time()
                else:
                    for line in lines:
                        print(line, flush=True)
        finally:
            if live is not None:
                live.update(self.render(), refresh=True)
                live.stop()


def run_view(view_factory: Callable[[argparse.Namespace], LiveView],
             args: argparse.Namespace) -> int:
    """
    Run a live view under the common error handling and return the exit status.

    Parameters
    ----------
    view_factory : Callable[[argparse.Namespace], LiveView]
        Builds the view (inside the event loop).
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int

    """
    return run_command(lambda: view_factory(args).run())
