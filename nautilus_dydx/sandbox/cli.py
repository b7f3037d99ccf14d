# SPDX-License-Identifier: Apache-2.0
"""Run the offline dYdX venue: chain node (gRPC) plus Indexer REST and WebSocket on loopback."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from nautilus_dydx.sandbox.agents import MarketAgents
from nautilus_dydx.sandbox.config import AccountConfig
from nautilus_dydx.sandbox.config import SandboxConfig
from nautilus_dydx.sandbox.config import default_markets
from nautilus_dydx.sandbox.indexer import IndexerSandbox
from nautilus_dydx.sandbox.keys import key_from_seed
from nautilus_dydx.sandbox.replay import ReplayServer
from nautilus_dydx.sandbox.replay import load_frames


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the sandbox options to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The (sub)parser.

    """
    tickers = ",".join(m.ticker for m in default_markets())
    parser.add_argument("--markets", default=tickers,
                        help=f"comma-separated tickers among {tickers} (default: all)")
    parser.add_argument("--accounts", type=int, default=2,
                        help="funded test accounts derived from the seed (default: 2)")
    parser.add_argument("--usdc", type=int, default=100_000,
                        help="USDC per test account subaccount 0 (default: 100000)")
    parser.add_argument("--block-time-ms", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--grpc-port", type=int, default=9090)
    parser.add_argument("--http-port", type=int, default=3002)
    parser.add_argument("--ws-port", type=int, default=3003)
    parser.add_argument("--no-agents", action="store_true",
                        help="do not run the liquidity agents (empty books, fixed oracle)")
    parser.add_argument("--replay", metavar="NDJSON",
                        help="serve a recorded Indexer WebSocket session instead of the venue")
    parser.add_argument("--duration", type=float, default=None,
                        help="stop after this many seconds (default: run until Ctrl-C)")
    # Values: occasional unknown fields in Indexer messages (SandboxConfig.extra_fields)
    parser.add_argument("--extra-fields", action=argparse.BooleanOptionalAction, default=True,
                        help="add occasional unknown fields to Indexer messages (default: on)")


def build_config(args: argparse.Namespace) -> SandboxConfig:
    """
    Return the node configuration for the parsed options.

    Parameters
    ----------
    args : argparse.Namespace
        The options.

    Returns
    -------
    SandboxConfig

    Raises
    ------
    ValueError
        If a market is unknown or a count is invalid.

    """
    known = {m.ticker: m for m in default_markets()}
    wanted = [t.strip().upper() for t in args.markets.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in known]
    if unknown or not wanted:
        raise ValueError(f"invalid --markets, was {args.markets!r} (known: {', '.join(known)})")
    if args.accounts < 0 or args.block_time_ms <= 0:
        raise ValueError("invalid --accounts or --block-time-ms")
    accounts = tuple(
        AccountConfig(subaccounts={0: args.usdc * 1_000_000}) for _ in range(args.accounts)
    )
    return SandboxConfig(
        seed=args.seed,
        host=args.host,
        port=args.grpc_port,
        block_time_ms=args.block_time_ms,
        markets=tuple(known[t] for t in wanted),
        accounts=accounts,
        extra_fields=getattr(args, "extra_fields", True),
    )


def config_snippet(sandbox: IndexerSandbox, seed: int, accounts: int) -> str:
    """
    Return Python a TradingNode config can use to trade against the running sandbox.

    Parameters
    ----------
    sandbox : IndexerSandbox
        The running sandbox.
    seed : int
        The node seed.
    accounts : int
        The number of test accounts.

    Returns
    -------
    str

    """
    lines = [
        "from nautilus_dydx.config import DYDXDataClientConfig, DYDXExecClientConfig",
        "",
        "data = DYDXDataClientConfig(",
        '    network="sandbox",',
        f"    base_url_http={sandbox.http_url!r},",
        f"    base_url_ws={sandbox.ws_url!r},",
        ")",
    ]
    if accounts:
        key = key_from_seed(seed, 0)
        lines += [
            "exec = DYDXExecClientConfig(",
            '    network="sandbox",',
            f"    wallet_address={key.address!r},",
            f"    private_key={key.private_key.hex()!r},  # sandbox test key, never fund it",
            "    subaccount=0,",
            f"    base_url_http={sandbox.http_url!r},",
            f"    base_url_ws={sandbox.ws_url!r},",
            f"    grpc_endpoints=[{sandbox.grpc_endpoint!r}],",
            f"    chain_id={sandbox.node.chain.chain_id!r},",
            ")",
        ]
    return "\n".join(lines)


async def _serve(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    if args.replay:
        server = ReplayServer(load_frames(args.replay), args.host, args.ws_port, close_at_end=False)
        await server.start()
        print(f"replaying {len(server.frames)} frames on {server.url}", flush=True)
        try:
            await _wait(stop, args.duration)
        finally:
            await server.stop()
        return 0
    started = loop.time()
    config = build_config(args)
    sandbox = IndexerSandbox(config, http_port=args.http_port, ws_port=args.ws_port)
    await sandbox.start()
    try:
        if not args.no_agents:
            sandbox.agents = MarketAgents(sandbox.node)
            sandbox.agents.start()
        endpoints = {
            "grpc": sandbox.grpc_endpoint,
            "http": sandbox.http_url,
            "ws": sandbox.ws_url,
            "control": sandbox.http_url.rsplit("/v4", 1)[0] + "/control/",
            "chain_id": sandbox.node.chain.chain_id,
            "startup_s": round(loop.time() - started, 3),
        }
        print("dYdX sandbox running (Ctrl-C to stop)", flush=True)
        print(json.dumps(endpoints, indent=2), flush=True)
        for index in range(args.accounts):
            key = key_from_seed(args.seed, index)
            print(f"account {index}: {key.address} private_key={key.private_key.hex()}")
        print("\n# TradingNode config\n" + config_snippet(sandbox, args.seed, args.accounts),
              flush=True)
        await _wait(stop, args.duration)
    finally:
        await sandbox.stop()
    print("sandbox stopped", flush=True)
    return 0


async def _wait(stop: asyncio.Event, duration: float | None) -> None:
    if duration is None:
        await stop.wait()
        return
    try:
        await asyncio.wait_for(stop.wait(), duration)
    except asyncio.TimeoutError:
        pass


def run(args: argparse.Namespace) -> int:
    """
    Run the sandbox until Ctrl-C (or `--duration`) and return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int

    """
    try:
        return asyncio.run(_serve(args))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def main(argv: list[str] | None = None) -> int:
    """
    Parse `argv` and run the sandbox.

    Parameters
    ----------
    argv : list[str] | None
        The arguments (default: sys.argv).

    Returns
    -------
    int

    """
    parser = argparse.ArgumentParser(prog="python -m nautilus_dydx.sandbox", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
