# SPDX-License-Identifier: Apache-2.0
"""Run the fault suite or the soak: `python -m tests.reliability faults|soak ...`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from rich.console import Console


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability")
    sub = parser.add_subparsers(dest="command", required=True)
    faults = sub.add_parser("faults", help="inject each fault N times and check invariants")
    faults.add_argument("--faults", default="all", help="comma list of fault names, or all")
    faults.add_argument("--count", type=int, default=100)
    faults.add_argument("--budget-minutes", type=float, default=10.0,
                        help="wall-time budget per fault; it stops early once spent")
    faults.add_argument("--concurrency-rounds", type=int, default=5,
                        help="rounds of each concurrency run (0: none)")
    soak = sub.add_parser("soak", help="steady flow and orders; RSS and latency over time")
    soak.add_argument("--seconds", type=float, default=300.0)
    soak.add_argument("--sample-every", type=float, default=5.0)
    soak.add_argument("--warmup", type=float, default=60.0,
                      help="seconds before the RSS slope is fitted")
    soak.add_argument("--no-purge", action="store_true",
                      help="keep closed orders in the cache (measures the per-order cost)")
    soak.add_argument("--orders-per-second", type=float, default=2.0,
                      help="order actions per second through the execution client (0: data only)")
    soak.add_argument("--client-closed-kept", type=int, default=None,
                      help="closed orders the execution client remembers (default 10 000)")
    soak.add_argument("--tick-capacity", type=int, default=None,
                      help="quotes, trades and bars Nautilus's cache keeps per instrument "
                           "(default 100: filled within the warm-up)")
    soak.add_argument("--ws-drop-every", type=float, default=60.0,
                      help="seconds between injected WebSocket drops (0: none)")
    soak.add_argument("--one-sided", action="store_true",
                      help="never close the positions: Nautilus keeps every fill of an open "
                           "position (about 1.1 KB each), which reads as growth")
    soak.add_argument("--tracemalloc", action="store_true",
                      help="name the allocation sites that grew after the warm-up (slower)")
    soak.add_argument("--containers", action="store_true",
                      help="name the dicts, sets, lists and deques that grew after the warm-up")
    soak.add_argument("--malloc-trim-every", type=float, default=0.0,
                      help="seconds between malloc_trim(0) calls in the node (0: none); tells "
                           "freed memory malloc keeps from memory in use")
    soak.add_argument("--log-level", default="ERROR",
                      choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                      help="the node's log level (its lines go to stdout)")
    args = parser.parse_args(argv)
    console = Console(width=150)
    if args.command == "faults":
        from tests.reliability.runner import EXEC_NAMES
        from tests.reliability.runner import run_faults
        from tests.reliability.suite import FAULTS

        known = [*FAULTS, *EXEC_NAMES]
        names = known if args.faults == "all" else args.faults.split(",")
        unknown = [n for n in names if n not in known]
        if unknown:
            console.print(f"unknown faults: {unknown}; known: {known}")
            return 2
        results = asyncio.run(run_faults(
            names, args.count, console, concurrency_rounds=args.concurrency_rounds,
            budget_s=args.budget_minutes * 60,
        ))
        violations = sum(len(r.violations) for r in results)
        return 1 if violations else 0
    from tests.reliability.soak import run_soak

    report = asyncio.run(run_soak(
        args.seconds, args.sample_every, console, warmup=args.warmup,
        purge=not args.no_purge, trace=args.tracemalloc,
        rate=args.orders_per_second, closed_kept=args.client_closed_kept,
        drop_every=args.ws_drop_every, round_trip=not args.one_sided,
        containers=args.containers, trim_every=args.malloc_trim_every,
        log_level=args.log_level,
        **({} if args.tick_capacity is None else {"tick_capacity": args.tick_capacity}),
    ))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
