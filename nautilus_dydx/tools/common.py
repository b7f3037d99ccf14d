# SPDX-License-Identifier: Apache-2.0
"""Shared plumbing of the network subcommands: endpoints, addresses, errors and exit codes."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation

from rich.console import Console

from nautilus_dydx.common.address import check_address
from nautilus_dydx.common.urls import NETWORKS
from nautilus_dydx.common.urls import network_endpoints
from nautilus_dydx.grpc.client import DYDXNodeClient
from nautilus_dydx.grpc.errors import DYDXNodeError
from nautilus_dydx.http.client import DYDXHttpClient
from nautilus_dydx.http.errors import DYDXHttpError
from nautilus_dydx.schemas import indexer as schemas


ENV_NETWORK = "DYDX_NETWORK"
ENV_REST_URL = "DYDX_REST_URL"
ENV_WS_URL = "DYDX_WS_URL"
ENV_GRPC = "DYDX_GRPC"
ENV_ADDRESS = "DYDX_WALLET_ADDRESS"
ENV_SUBACCOUNT = "DYDX_SUBACCOUNT"
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """
    A mistake the user can fix (bad ticker, address, option or endpoint): one line, exit 2.
    """


@dataclass(frozen=True)
class Endpoints:
    """
    The endpoints a subcommand talks to.
    """

    network: str
    rest_url: str
    ws_url: str
    grpc: tuple[str, ...]


def add_network_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add `--network`, `--rest-url`, `--ws-url` and `--grpc` to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.

    """
    group = parser.add_argument_group("network")
    group.add_argument(
        "--network", choices=sorted(NETWORKS), default=os.environ.get(ENV_NETWORK, "sandbox"),
        help=f"the dYdX network (default: ${ENV_NETWORK} or sandbox)",
    )
    group.add_argument("--rest-url", default=os.environ.get(ENV_REST_URL),
                       help=f"Indexer REST URL override (also ${ENV_REST_URL})")
    group.add_argument("--ws-url", default=os.environ.get(ENV_WS_URL),
                       help=f"Indexer WebSocket URL override (also ${ENV_WS_URL})")
    group.add_argument("--grpc", default=os.environ.get(ENV_GRPC), metavar="HOST:PORT[,...]",
                       help=f"validator gRPC endpoints override (also ${ENV_GRPC})")


def add_account_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add `--address` and `--subaccount` (defaults from the environment) to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.

    """
    group = parser.add_argument_group("account")
    group.add_argument("--address", default=os.environ.get(ENV_ADDRESS),
                       help=f"the dydx1... wallet address (default: ${ENV_ADDRESS})")
    group.add_argument("--subaccount", default=os.environ.get(ENV_SUBACCOUNT, "0"),
                       help=f"the subaccount number (default: ${ENV_SUBACCOUNT} or 0)")


def endpoints_from(args: argparse.Namespace) -> Endpoints:
    """
    Return the endpoints selected by the network options.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    Endpoints

    Raises
    ------
    UserError
        If a URL override has the wrong scheme.

    """
    try:
        defaults = network_endpoints(args.network)
    except ValueError as e:
        raise UserError(str(e)) from None
    rest = args.rest_url or defaults.http
    ws = args.ws_url or defaults.ws
    if not rest.startswith(("http://", "https://")):
        raise UserError(f"invalid --rest-url: must start with http:// or https://, was {rest!r}")
    if not ws.startswith(("ws://", "wss://")):
        raise UserError(f"invalid --ws-url: must start with ws:// or wss://, was {ws!r}")
    grpc = tuple(e.strip() for e in args.grpc.split(",") if e.strip()) if args.grpc else None
    return Endpoints(args.network, rest, ws, grpc or defaults.grpc)


def account_from(args: argparse.Namespace) -> tuple[str, int]:
    """
    Return the (address, subaccount number) of the account options.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    tuple[str, int]

    Raises
    ------
    UserError
        If the address is missing or invalid, or the subaccount is not in 0..128000.

    """
    if not args.address:
        raise UserError(f"no account: pass --address or set ${ENV_ADDRESS}")
    try:
        check_address("--address", args.address)
    except ValueError as e:
        raise UserError(str(e)) from None
    try:
        number = int(args.subaccount)
    except ValueError:
        raise UserError(f"invalid --subaccount: not an integer, was {args.subaccount!r}") from None
    if not 0 <= number <= 128_000:
        raise UserError(f"invalid --subaccount: must be in 0..128000, was {number}")
    return args.address, number


def http_client(endpoints: Endpoints) -> DYDXHttpClient:
    """
    Return an Indexer REST client for a command line (short timeout, one retry).

    Parameters
    ----------
    endpoints : Endpoints
        The endpoints.

    Returns
    -------
    DYDXHttpClient

    """
    return DYDXHttpClient(
        endpoints.rest_url, timeout_secs=10.0, max_retries=1, retry_delay_initial_ms=200,
    )


def node_client(endpoints: Endpoints) -> DYDXNodeClient:
    """
    Return a validator gRPC client for a command line.

    Parameters
    ----------
    endpoints : Endpoints
        The endpoints.

    Returns
    -------
    DYDXNodeClient

    """
    return DYDXNodeClient(endpoints.grpc, timeout_secs=10.0, max_retries=1)


async def fetch_markets(
    http: DYDXHttpClient,
    tickers: list[str] | None = None,
) -> dict[str, schemas.PerpetualMarket]:
    """
    Return the perpetual markets, checking that every ticker in `tickers` exists.

    Parameters
    ----------
    http : DYDXHttpClient
        The REST client.
    tickers : list[str], optional
        Tickers the caller needs.

    Returns
    -------
    dict[str, PerpetualMarket]

    Raises
    ------
    UserError
        If a ticker is unknown.

    """
    markets = await http.get_perpetual_markets()
    for ticker in tickers or ():
        if ticker not in markets:
            known = ", ".join(sorted(markets)[:8])
            more = ", ..." if len(markets) > 8 else ""
            raise UserError(f"unknown market {ticker!r} (markets: {known}{more})")
    return markets


def decimal_or_none(text: str | None) -> Decimal | None:
    """
    Return `text` as a Decimal, or None when missing or not a number.

    Parameters
    ----------
    text : str | None
        The decimal string.

    Returns
    -------
    Decimal | None

    """
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def positive_int(text: str) -> int:
    """
    Parse a positive integer option (argparse `type`).

    Parameters
    ----------
    text : str
        The option value.

    Returns
    -------
    int

    Raises
    ------
    argparse.ArgumentTypeError
        If the value is not a positive integer.

    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer, was {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, was {value}")
    return value


def positive_float(text: str) -> float:
    """
    Parse a positive number option (argparse `type`).

    Parameters
    ----------
    text : str
        The option value.

    Returns
    -------
    float

    Raises
    ------
    argparse.ArgumentTypeError
        If the value is not a positive number.

    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number, was {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, was {text!r}")
    return value


def run_command(command: Callable[[], Awaitable[int]]) -> int:
    """
    Run an async subcommand; user and network errors print one line and return 2.

    Ctrl-C stops it cleanly (exit 130, no traceback).

    Parameters
    ----------
    command : Callable[[], Awaitable[int]]
        Returns the coroutine to run.

    Returns
    -------
    int

    """
    # The clients log reconnect attempts as warnings: a command reports its own errors instead
    logger = logging.getLogger("nautilus_dydx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return asyncio.run(command())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UserError as e:
        return fail(str(e))
    except DYDXHttpError as e:
        if e.status is None:
            return fail(f"cannot reach the Indexer: {e}")
        return fail(str(e))
    except DYDXNodeError as e:
        return fail(f"validator gRPC: {e}")
    except (TimeoutError, OSError) as e:
        return fail(f"{type(e).__name__}: {e}")
    finally:
        logger.setLevel(level)


def fail(message: str) -> int:
    """
    Print `message` as one `nautilus-dydx: error:` line on stderr and return exit status 2.

    Parameters
    ----------
    message : str
        The error text.

    Returns
    -------
    int

    """
    line = " ".join(str(message).split())
    print(f"nautilus-dydx: error: {line}", file=sys.stderr)
    return EXIT_USER_ERROR


def make_console() -> Console:
    """
    Return the rich console of standard output (wide and plain when it is not a terminal).

    Returns
    -------
    Console

    """
    if sys.stdout.isatty():
        return Console()
    return Console(width=200, no_color=True, highlight=False, soft_wrap=True)
