# SPDX-License-Identifier: Apache-2.0
"""Drive the fault suite on one rig and print the table."""

from __future__ import annotations

import logging

from rich.console import Console

from tests.reliability.concurrency import run_concurrency
from tests.reliability.report import print_faults
from tests.reliability.rig import running_rig
from tests.reliability.suite import EXEC_MISSING
from tests.reliability.suite import FAULTS
from tests.reliability.suite import FaultResult
from tests.reliability.suite import flow_blocks
from tests.reliability.suite import run_suite


EXEC_NAMES = (
    "exec_ws_drop", "exec_grpc_unavailable", "exec_grpc_resource_exhausted",
    "exec_lost_broadcast_answer", "exec_sequence_skew", "exec_rest_5xx",
    "exec_dead_grpc_endpoint", "exec_stalled_blocks", "exec_liquidation",
)


async def run_exec_faults(names: list[str], count: int, concurrency_rounds: int = 0,
                          progress=None, budget_s: float = float("inf")) -> list[FaultResult]:
    """Run the execution faults, or list them as not run when the client is missing."""
    try:
        from tests.reliability.exec_suite import run_exec_suite
    except ImportError:
        return [FaultResult(name, "exec", not_run=EXEC_MISSING) for name in names]
    return await run_exec_suite(names, count, progress, concurrency_rounds, budget_s)


async def run_faults(names: list[str], count: int, console: Console | None = None,
                     concurrency_rounds: int = 5, exec_names: list[str] | None = None,
                     budget_s: float = float("inf")):
    """
    Run the named faults `count` times each on a fresh rig; print and return the results.

    The data and order faults share one rig (then the sender's concurrency run); the
    execution faults share another, a strategy trading through the execution client (then
    its concurrency run, `concurrency_rounds` rounds). Each fault stops early once
    `budget_s` seconds were spent on it, so a slow machine still ends.
    """
    console = console or Console()
    # The sandbox logs every fault it fires as a warning: keep the report readable
    logging.getLogger("nautilus_dydx.sandbox").setLevel(logging.ERROR)
    data_names = [n for n in names if n in FAULTS]

    def progress(name: str, done: int) -> None:
        if done == count or done % 10 == 0:
            console.print(f"  {name}: {done}/{count}", highlight=False)

    results: list[FaultResult] = []
    if data_names:
        async with running_rig() as rig:
            # Let the books fill before the first injection
            await flow_blocks(rig, 10)
            results += await run_suite(rig, data_names, count, progress, budget_s)
            if concurrency_rounds:
                results.append(await run_concurrency(rig, rounds=concurrency_rounds))
    exec_names = [n for n in names if n in EXEC_NAMES] if exec_names is None else exec_names
    if exec_names or concurrency_rounds:
        results.extend(await run_exec_faults(
            exec_names, count, concurrency_rounds, progress, budget_s,
        ))
    print_faults(results, count, console)
    for r in results:
        for violation in sorted(set(r.violations))[:5]:
            console.print(f"  [red]{r.name}[/red]: {violation}", highlight=False)
    return results
