# SPDX-License-Identifier: Apache-2.0
"""Decode Indexer WebSocket frames (NDJSON) offline and print what the clients would publish."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import IO
from typing import TextIO

from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core.frames import FrameError
from nautilus_dydx._core.frames import FrameParser
from nautilus_dydx._core.frames import MarketUpdate
from nautilus_dydx._core.frames import precision_from_increment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the `decode` options to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.

    """
    parser.add_argument(
        "--markets",
        required=True,
        metavar="MARKETS.json",
        help="a /v4/perpetualMarkets response body; precisions come from tickSize/stepSize",
    )
    parser.add_argument(
        "--frames",
        default="-",
        metavar="FILE|-",
        help="NDJSON file of Indexer frames, one per line ('-' reads standard input)",
    )
    parser.add_argument(
        "--ts-init",
        type=int,
        default=0,
        metavar="NS",
        help="ts_init for every object (default: the clock when each frame is parsed)",
    )
    parser.add_argument(
        "--no-scanner",
        action="store_true",
        help="parse every frame with orjson and the typed walk (no in-place scanner)",
    )


def instrument_id_for(ticker: str) -> InstrumentId:
    """
    Return the Nautilus instrument ID of a dYdX perpetual ticker (``BTC-USD-PERP.DYDX``).

    Parameters
    ----------
    ticker : str
        The venue ticker, e.g. ``"BTC-USD"``.

    Returns
    -------
    InstrumentId

    """
    return InstrumentId.from_str(f"{ticker}-PERP.DYDX")


def register_markets(parser: FrameParser, body: dict) -> int:
    """
    Register every market of a /v4/perpetualMarkets body with `parser` and return the count.

    Parameters
    ----------
    parser : FrameParser
        The frame parser.
    body : dict
        The decoded response body ``{"markets": {TICKER: market}}``.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the body has no markets or a market lacks a valid tickSize/stepSize.

    """
    markets = body.get("markets") if isinstance(body, dict) else None
    if not isinstance(markets, dict):
        raise ValueError("markets file has no 'markets' object")
    for ticker, market in markets.items():
        if not isinstance(market, dict):
            raise ValueError(f"market {ticker!r} is not an object")
        tick = market.get("tickSize")
        step = market.get("stepSize")
        if not isinstance(tick, str) or not isinstance(step, str):
            raise ValueError(f"market {ticker!r} lacks tickSize/stepSize")
        parser.register(
            ticker,
            instrument_id_for(ticker),
            precision_from_increment(tick),
            precision_from_increment(step),
        )
    return len(markets)


def decode_stream(
    parser: FrameParser,
    lines: IO,
    out: TextIO,
    ts_init: int = 0,
) -> tuple[Counter, int, int]:
    """
    Decode NDJSON frames, print one line per object, error or skipped item, and return the counts.

    A bad item inside a valid frame is skipped by the parser (the rest of the frame is kept) and
    printed as ``SKIPPED`` with its reason. New listings seen in ``v4_markets`` (with
    tickSize/stepSize) are registered as they arrive.

    Parameters
    ----------
    parser : FrameParser
        The frame parser with the markets registered.
    lines : IO
        The NDJSON input, binary (bytes lines, as read) or text.
    out : TextIO
        Where to print.
    ts_init : int, default 0
        ts_init for every object; 0 reads the clock.

    Returns
    -------
    tuple[Counter, int, int]
        Objects by type name, frames read, frames in error.

    """
    counts: Counter = Counter()
    frames = 0
    errors = 0
    for lineno, line in enumerate(lines, start=1):
        data = line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")
        if not data.strip():
            continue
        frames += 1
        skipped = dict(parser.skipped)
        try:
            objects = parser.parse(data, ts_init)
        except FrameError as e:
            errors += 1
            print(f"{lineno}: ERROR {e}", file=out)
            continue
        finally:
            parser.take_new_reasons()
        for reason, count in parser.skipped.items():
            if count > skipped.get(reason, 0):
                print(f"{lineno}: SKIPPED {count - skipped.get(reason, 0)} {reason}", file=out)
        for obj in objects:
            counts[type(obj).__name__] += 1
            print(f"{lineno}: {obj!r}", file=out)
            if (
                isinstance(obj, MarketUpdate)
                and parser.context(obj.ticker) is None
                and obj.price_precision is not None
                and obj.size_precision is not None
            ):
                parser.register(
                    obj.ticker,
                    instrument_id_for(obj.ticker),
                    obj.price_precision,
                    obj.size_precision,
                )
    return counts, frames, errors


def run(args: argparse.Namespace) -> int:
    """
    Run `nautilus-dydx decode` and return the exit status.

    0: every frame decoded in full; 1: frame errors or skipped items; 2: bad input.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int

    """
    parser = FrameParser(scanner=not args.no_scanner)
    try:
        with open(args.markets, encoding="utf-8") as f:
            markets = register_markets(parser, json.load(f))
    except (OSError, ValueError) as e:
        print(f"error: cannot load markets from {args.markets}: {e}", file=sys.stderr)
        return 2
    try:
        if args.frames == "-":
            stdin = getattr(sys.stdin, "buffer", sys.stdin)
            counts, frames, errors = decode_stream(parser, stdin, sys.stdout, args.ts_init)
        else:
            with open(args.frames, "rb") as f:
                counts, frames, errors = decode_stream(parser, f, sys.stdout, args.ts_init)
    except OSError as e:
        print(f"error: cannot read frames from {args.frames}: {e}", file=sys.stderr)
        return 2
    print(f"-- {frames} frames, {markets} markets, {sum(counts.values())} objects, {errors} errors")
    for name, count in sorted(counts.items()):
        print(f"   {name}: {count}")
    for (field, value), count in sorted(parser.unknown_enums.items()):
        print(f"   unknown {field}={value!r}: {count}")
    for reason, count in sorted(parser.skipped.items()):
        print(f"   skipped {reason}: {count}")
    for reason, count in sorted(parser.adapted.items()):
        print(f"   adapted {reason}: {count}")
    return 1 if errors or parser.skipped else 0
