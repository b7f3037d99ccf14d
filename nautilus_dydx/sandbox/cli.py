# SPDX-License-Identifier: Apache-2.0
"""Run the offline dYdX venue: chain node (gRPC) plus Indexer REST and WebSocket on loopback."""

from __future__ import annotations

import argparse
import asyncio
import errno
import hashlib
import json
import os
import signal
import sys
from datetime import datetime
from datetime import timezone
from decimal import Decimal
from decimal import InvalidOperation

from mnemonic import Mnemonic

from nautilus_dydx.sandbox.agents import MarketAgents
from nautilus_dydx.sandbox.config import AccountConfig
from nautilus_dydx.sandbox.config import SandboxConfig
from nautilus_dydx.sandbox.config import default_markets
from nautilus_dydx.sandbox.http_server import PortInUseError
from nautilus_dydx.sandbox.indexer import IndexerSandbox
from nautilus_dydx.sandbox.keys import is_valid_address
from nautilus_dydx.sandbox.keys import key_from_mnemonic
from nautilus_dydx.sandbox.replay import ReplayServer
from nautilus_dydx.sandbox.replay import load_frames
from nautilus_dydx.wallet import Wallet
from nautilus_dydx.wallet import WalletError


FUND_ENV = "DYDX_SANDBOX_FUND"


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
                        help="USDC per funded account, subaccount 0 (default: 100000)")
    parser.add_argument(
        "--fund", action="append", default=[], metavar="MNEMONIC_OR_ADDRESS[=USDC]",
        help=f"fund your own account (repeatable); also read from ${FUND_ENV} (entries "
             "separated by ';'), which keeps a mnemonic out of the shell history",
    )
    parser.add_argument("--block-time-ms", type=int, default=1000)
    parser.add_argument(
        "--genesis", default=None, metavar="TIME",
        help="fixed genesis time (ISO 8601 or unix seconds): blocks then add exactly "
             "--block-time-ms each, for deterministic runs (default: follow the wall clock)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--grpc-port", type=int, default=9090)
    parser.add_argument("--http-port", type=int, default=3002)
    parser.add_argument("--ws-port", type=int, default=3003)
    parser.add_argument("--no-rate-limit", action="store_true",
                        help="no REST budget (default: the venue's 100 per 10 s, 429 beyond)")
    parser.add_argument("--no-agents", action="store_true",
                        help="do not run the liquidity agents (empty books, fixed oracle)")
    parser.add_argument("--replay", metavar="NDJSON",
                        help="serve a recorded Indexer WebSocket session instead of the venue")
    parser.add_argument("--duration", type=float, default=None,
                        help="stop after this many seconds (default: run until Ctrl-C)")
    # Values: occasional unknown fields in Indexer messages (SandboxConfig.extra_fields)
    parser.add_argument("--extra-fields", action=argparse.BooleanOptionalAction, default=True,
                        help="add occasional unknown fields to Indexer messages (default: on)")


def seeded_mnemonic(seed: int, index: int) -> str:
    """
    Return the mnemonic of seeded test account `index` (sandbox only: never fund it elsewhere).

    Parameters
    ----------
    seed : int
        The sandbox seed.
    index : int
        The account index.

    Returns
    -------
    str

    """
    entropy = hashlib.sha256(f"sandbox-mnemonic:{seed}:{index}".encode()).digest()
    return Mnemonic("english").to_mnemonic(entropy)


def parse_fund(entry: str, default_usdc: int, position: int) -> tuple[str, int]:
    """
    Return (address, USDC quote quantums) of one `--fund MNEMONIC_OR_ADDRESS[=USDC]` entry.

    Errors name the entry by position and never repeat its text (it may be a mnemonic).

    Parameters
    ----------
    entry : str
        A `dydx1...` address or a BIP-39 mnemonic, optionally followed by `=USDC`.
    default_usdc : int
        The USDC amount when none is given.
    position : int
        The entry's position (1-based), for error messages.

    Returns
    -------
    tuple[str, int]

    Raises
    ------
    ValueError
        If the account or amount is invalid.

    """
    value, sep, amount_text = entry.rpartition("=")
    if not sep:
        value, amount_text = entry, ""
    amount = Decimal(default_usdc)
    if amount_text.strip():
        try:
            amount = Decimal(amount_text.strip())
        except InvalidOperation:
            raise ValueError(f"invalid --fund entry {position}: the USDC amount is not a "
                             "number") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"invalid --fund entry {position}: the USDC amount must be positive")
    quantums = int(amount.scaleb(6))
    value = " ".join(value.split())
    if is_valid_address(value):
        return value, quantums
    try:
        return Wallet.from_mnemonic(value).address, quantums
    except WalletError:
        raise ValueError(f"invalid --fund entry {position}: neither a dydx1 address nor a valid "
                         "BIP-39 mnemonic") from None


def fund_entries(args: argparse.Namespace) -> list[str]:
    """
    Return the `--fund` entries followed by those of the environment variable.

    Parameters
    ----------
    args : argparse.Namespace
        The options.

    Returns
    -------
    list[str]

    """
    entries = list(args.fund or [])
    text = os.environ.get(FUND_ENV, "")
    entries += [e for e in text.replace("\n", ";").split(";") if e.strip()]
    return entries


def parse_genesis(text: str) -> int:
    """
    Return a `--genesis` time (ISO 8601 or unix seconds) in unix nanoseconds.

    Parameters
    ----------
    text : str
        The time.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the text is not a time.

    """
    try:
        return int(Decimal(text).scaleb(9))
    except InvalidOperation:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"invalid --genesis, was {text!r} (ISO 8601 or unix seconds)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def check_ports(args: argparse.Namespace) -> None:
    """
    Check the port options.

    Parameters
    ----------
    args : argparse.Namespace
        The options.

    Raises
    ------
    ValueError
        If a port is outside 0-65535.

    """
    for option in ("grpc_port", "http_port", "ws_port"):
        port = getattr(args, option)
        if not 0 <= port <= 65_535:
            name = "--" + option.replace("_", "-")
            raise ValueError(f"invalid {name}, was {port} (0-65535; 0 picks a free port)")


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
        If a market, a count, the genesis or a `--fund` entry is invalid.

    """
    known = {m.ticker: m for m in default_markets()}
    wanted = [t.strip().upper() for t in args.markets.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in known]
    if unknown or not wanted:
        raise ValueError(f"invalid --markets, was {args.markets!r} (known: {', '.join(known)})")
    check_ports(args)
    if args.accounts < 0 or args.block_time_ms <= 0 or args.usdc < 0:
        raise ValueError("invalid --accounts, --usdc or --block-time-ms (negative or zero)")
    accounts = [
        AccountConfig(mnemonic=seeded_mnemonic(args.seed, index),
                      subaccounts={0: args.usdc * 1_000_000})
        for index in range(args.accounts)
    ]
    seeded = {key_from_mnemonic(a.mnemonic or "").address for a in accounts}
    funded: dict[str, int] = {}
    for position, entry in enumerate(fund_entries(args), start=1):
        address, quantums = parse_fund(entry, args.usdc, position)
        if address in seeded:
            raise ValueError(f"invalid --fund entry {position}: {address} is a seeded test "
                             "account already")
        funded[address] = funded.get(address, 0) + quantums
    accounts += [AccountConfig(address=a, subaccounts={0: q}) for a, q in funded.items()]
    genesis = None if args.genesis is None else parse_genesis(args.genesis)
    return SandboxConfig(
        seed=args.seed,
        host=args.host,
        port=args.grpc_port,
        block_time_ms=args.block_time_ms,
        genesis_time_ns=genesis,
        markets=tuple(known[t] for t in wanted),
        accounts=tuple(accounts),
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
        mnemonic = seeded_mnemonic(seed, 0)
        lines += [
            "exec = DYDXExecClientConfig(",
            '    network="sandbox",',
            f"    wallet_address={key_from_mnemonic(mnemonic).address!r},",
            f"    mnemonic={mnemonic!r},  # sandbox test account, never fund it",
            "    subaccount=0,",
            f"    base_url_http={sandbox.http_url!r},",
            f"    base_url_ws={sandbox.ws_url!r},",
            f"    grpc_endpoints=[{sandbox.grpc_endpoint!r}],",
            f"    chain_id={sandbox.node.chain.chain_id!r},",
            ")",
        ]
    return "\n".join(lines)


def _account_lines(args: argparse.Namespace, config: SandboxConfig) -> list[str]:
    lines = []
    for index in range(args.accounts):
        mnemonic = seeded_mnemonic(args.seed, index)
        address = key_from_mnemonic(mnemonic).address
        lines.append(f"account {index}: {address} ({args.usdc} USDC)")
        lines.append(f"  mnemonic (sandbox test account, never fund it): {mnemonic}")
    for account in config.accounts[args.accounts:]:
        usdc = Decimal(account.subaccounts[0]).scaleb(-6)
        lines.append(f"funded: {account.address} ({usdc.normalize():f} USDC, your key signs)")
    if args.accounts:
        lines += [
            "",
            '# With default ports, network="sandbox" needs only these (env vars or fields):',
            f'export DYDX_SANDBOX_MNEMONIC="{seeded_mnemonic(args.seed, 0)}"',
            f"export DYDX_SANDBOX_WALLET_ADDRESS="
            f"{key_from_mnemonic(seeded_mnemonic(args.seed, 0)).address}",
        ]
    return lines


async def _serve(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    if args.replay:
        check_ports(args)
        server = ReplayServer(load_frames(args.replay), args.host, args.ws_port, close_at_end=False)
        try:
            await server.start()
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            raise PortInUseError("WebSocket", args.host, args.ws_port, "--ws-port") from None
        print(f"replaying {len(server.frames)} frames on {server.url}", flush=True)
        try:
            await _wait(stop, args.duration)
        finally:
            await server.stop()
        return 0
    started = loop.time()
    config = build_config(args)
    sandbox = IndexerSandbox(
        config, http_port=args.http_port, ws_port=args.ws_port,
        rate_limit=None if args.no_rate_limit else "default", keep_history=False,
    )
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
            "rate_limit": not args.no_rate_limit,
            "startup_s": round(loop.time() - started, 3),
        }
        print("dYdX sandbox running (Ctrl-C to stop)", flush=True)
        print(json.dumps(endpoints, indent=2), flush=True)
        print("\n".join(_account_lines(args, config)), flush=True)
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
    except (ValueError, PortInUseError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print(f"error: file not found: {e.filename}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e.strerror or e}", file=sys.stderr)
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
