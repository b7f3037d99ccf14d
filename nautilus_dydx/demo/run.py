# SPDX-License-Identifier: Apache-2.0
"""Run the demo: a venue, a TradingNode with the demo strategy, the checked summary, a chart."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx.common.constants import DYDX
from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.demo.chart import write_chart
from nautilus_dydx.demo.recorder import RunRecorder
from nautilus_dydx.demo.recorder import nautilus_pnl
from nautilus_dydx.demo.recorder import signed_position
from nautilus_dydx.demo.session import NETWORK_ENV
from nautilus_dydx.demo.session import SandboxSettings
from nautilus_dydx.demo.session import Venue
from nautilus_dydx.demo.session import build_node
from nautilus_dydx.demo.session import network_venue
from nautilus_dydx.demo.session import running_node
from nautilus_dydx.demo.session import sandbox_venue
from nautilus_dydx.demo.session import stop_strategies
from nautilus_dydx.demo.strategy import DemoStrategy
from nautilus_dydx.demo.strategy import DemoStrategyConfig
from nautilus_dydx.demo.summary import Summary
from nautilus_dydx.demo.summary import build_summary
from nautilus_dydx.demo.summary import check_against_venue
from nautilus_dydx.demo.summary import format_summary
from nautilus_dydx.demo.venue_state import VenueSnapshot
from nautilus_dydx.demo.venue_state import fetch_snapshot
from nautilus_dydx.wallet import Wallet


SECONDS_ENV = "DEMO_SECONDS"
DEFAULT_SECONDS = 60.0
DEFAULT_CHART = "build/demo/demo-run.png"


@dataclass(frozen=True)
class DemoOptions:
    """
    Options of a demo run.

    Parameters
    ----------
    seconds : float, default 60
        Trading time.
    network : str, default "sandbox"
        ``sandbox`` (in-process, free ports), ``testnet`` or ``mainnet``.
    instrument_id : str, default "BTC-USD-PERP.DYDX"
    trade_size : str, default "0.001"
    chart : str | None, default "build/demo/demo-run.png"
        The PNG to write (None: no chart).
    json_path : str | None
        Also write the summary as JSON here.
    block_time_ms : int, default 250
        The sandbox's block interval.
    seed : int, default 7
        The sandbox's seed.
    log_level : str, default "ERROR"
        Nautilus's log level.
    flatten : bool | None
        Close the position when stopping; None: on real networks only.

    """

    seconds: float = DEFAULT_SECONDS
    network: str = "sandbox"
    instrument_id: str = "BTC-USD-PERP.DYDX"
    trade_size: str = "0.001"
    chart: str | None = DEFAULT_CHART
    json_path: str | None = None
    block_time_ms: int = 250
    seed: int = 7
    log_level: str = "ERROR"
    flatten: bool | None = None


@contextlib.asynccontextmanager
async def demo_venue(options: DemoOptions) -> AsyncIterator[Venue]:
    """
    Yield the demo's venue: an in-process sandbox, or a real network from the environment.

    Parameters
    ----------
    options : DemoOptions

    Yields
    ------
    Venue

    """
    if options.network == "sandbox":
        settings = SandboxSettings(block_time_ms=options.block_time_ms, seed=options.seed)
        async with sandbox_venue(settings) as venue:
            yield venue
    else:
        yield network_venue(options.network)


def account_address(config: DYDXExecClientConfig) -> str:
    """
    Return the address of the execution client's account (from the key when not configured).

    Parameters
    ----------
    config : DYDXExecClientConfig

    Returns
    -------
    str

    """
    if config.wallet_address is not None:
        return config.wallet_address
    if config.mnemonic is not None:
        return Wallet.from_mnemonic(config.mnemonic.reveal()).address
    assert config.private_key is not None
    return Wallet.from_private_key(config.private_key.reveal()).address


def _consistent(snapshot: VenueSnapshot, ticker: str, position: Decimal, fills: int) -> bool:
    return (
        snapshot.position_size(ticker) == position
        and len([f for f in snapshot.fills if f.market == ticker]) == fills
    )


async def run_demo(options: DemoOptions) -> tuple[Summary, Path | None]:
    """
    Run the demo and return its checked summary and the chart's path.

    Parameters
    ----------
    options : DemoOptions

    Returns
    -------
    tuple[Summary, Path | None]

    """
    instrument_id = InstrumentId.from_str(options.instrument_id)
    ticker = instrument_id.symbol.value.removesuffix("-PERP")
    async with demo_venue(options) as venue:
        exec_config = venue.exec_config()
        address = account_address(exec_config)
        http_url = exec_config.endpoints.http
        subaccount = exec_config.subaccount
        start = await fetch_snapshot(http_url, address, subaccount)
        strategy = DemoStrategy(
            DemoStrategyConfig(
                instrument_id=options.instrument_id, trade_size=options.trade_size,
                strategy_id="DEMO-001", order_id_tag="001",
                # Real networks: the venue's stateful order budget, and no position left behind
                bracket_interval_secs=5.0 if venue.sandbox is not None else 20.0,
                flatten_on_stop=(
                    venue.sandbox is None if options.flatten is None else options.flatten
                ),
            ),
        )
        recorder = RunRecorder(instrument_id)
        node = build_node(venue, [strategy], [recorder], log_level=options.log_level)
        async with running_node(node):
            await asyncio.sleep(options.seconds)
            await stop_strategies(node)
            cache = node.kernel.cache
            client = node.kernel.exec_engine._clients[ClientId(DYDX)]
            record = recorder.record
            position = signed_position(cache, instrument_id)
            end = await fetch_snapshot(http_url, address, subaccount, start.height)

            # The Indexer may trail the stream by a block: wait until it shows every fill
            async def settled() -> bool:
                nonlocal end, position
                position = signed_position(cache, instrument_id)
                end = await fetch_snapshot(http_url, address, subaccount, start.height)
                return _consistent(end, ticker, position, len(record.fills))

            for _ in range(20):
                if await settled():
                    break
                await asyncio.sleep(0.25)
            recorder._sample()
            venue_position = end.positions.get(ticker)
            mark = venue_position.mark_price if venue_position is not None else None
            pnl = None
            if mark is not None:
                pnl = nautilus_pnl(cache, node.portfolio, instrument_id, mark)
            elif not cache.positions_open(instrument_id=instrument_id):
                realized = node.portfolio.realized_pnl(instrument_id)
                pnl = Decimal(0) if realized is None else realized.as_decimal()
            flags = {
                coid: state.order_flags
                for coid in (o.client_order_id for o in cache.orders(instrument_id=instrument_id))
                if (state := client.venue_order(coid)) is not None
            }
            summary = build_summary(
                options.network, options.seconds, record, flags, client.metrics.percentiles(),
                open_orders=[
                    f"{o.client_order_id} {o.order_type.name} {o.status.name}"
                    for o in cache.orders_open(instrument_id=instrument_id)
                ],
            )
            check_against_venue(summary, ticker, record.fills, position, pnl, start, end)
    chart = None
    if options.chart:
        chart = write_chart(record, options.chart, title=f"nautilus-dydx demo: {ticker} on "
                                                           f"{options.network}")
    if options.json_path:
        Path(options.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(options.json_path).write_text(json.dumps(summary.to_dict(), indent=2))
    return summary, chart


def parse_args(argv: list[str] | None = None) -> DemoOptions:
    """
    Return the demo options from the command line and the environment.

    Parameters
    ----------
    argv : list[str] | None

    Returns
    -------
    DemoOptions

    """
    parser = argparse.ArgumentParser(
        prog="python -m nautilus_dydx.demo",
        description="Trade the demo strategy for a bounded time and check the result against "
                    "the venue.",
    )
    seconds_env = os.environ.get(SECONDS_ENV)
    parser.add_argument(
        "--seconds", type=float,
        default=float(seconds_env) if seconds_env else DEFAULT_SECONDS,
        help=f"trading time (default {DEFAULT_SECONDS:g}, or ${SECONDS_ENV})",
    )
    parser.add_argument(
        "--network", choices=("sandbox", "testnet", "mainnet"),
        default=os.environ.get(NETWORK_ENV, "sandbox"),
        help=f"venue (default sandbox, or ${NETWORK_ENV}); testnet/mainnet read "
             "DYDX_MNEMONIC or DYDX_PRIVATE_KEY and DYDX_WALLET_ADDRESS",
    )
    parser.add_argument("--instrument", default="BTC-USD-PERP.DYDX")
    parser.add_argument("--size", default="0.001", help="order size (default 0.001)")
    parser.add_argument("--chart", default=DEFAULT_CHART, help="PNG to write ('' for none)")
    parser.add_argument("--json", default=None, help="also write the summary as JSON")
    parser.add_argument("--block-time-ms", type=int, default=250, help="sandbox block time")
    parser.add_argument("--seed", type=int, default=7, help="sandbox seed")
    parser.add_argument("--log-level", default="ERROR", help="Nautilus log level")
    parser.add_argument(
        "--flatten", action=argparse.BooleanOptionalAction, default=None,
        help="close the position at the end (default: on testnet/mainnet, off on the sandbox)",
    )
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        parser.error(f"invalid --seconds, was {args.seconds}")
    return DemoOptions(
        seconds=args.seconds, network=args.network, instrument_id=args.instrument,
        trade_size=args.size, chart=args.chart or None, json_path=args.json,
        block_time_ms=args.block_time_ms, seed=args.seed, log_level=args.log_level,
        flatten=args.flatten,
    )


def main(argv: list[str] | None = None) -> int:
    """
    Run the demo from the command line; return 0 when every check passes.

    Parameters
    ----------
    argv : list[str] | None

    Returns
    -------
    int

    """
    options = parse_args(argv)
    if options.network == "mainnet":
        print("WARNING: mainnet - the demo strategy places real orders with real funds",
              file=sys.stderr)
    try:
        summary, chart = asyncio.run(run_demo(options))
    except (ValueError, RuntimeError, OSError) as e:
        print(f"demo failed: {e}", file=sys.stderr)
        return 2
    print(format_summary(summary))
    if chart is not None:
        print(f"chart: {chart}")
    return 0 if summary.ok else 1
