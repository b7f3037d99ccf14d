# SPDX-License-Identifier: Apache-2.0
"""Drive the fault suite on one rig and print the table."""

from __future__ import annotations

import asyncio
import logging

from rich.console import Console

from tests.reliability.concurrency import run_concurrency
from tests.reliability.report import print_faults
from tests.reliability.rig import running_rig
from tests.reliability.suite import run_suite


async def run_faults(names: list[str], count: int, console: Console | None = None,
                     concurrency_rounds: int = 5):
    """Run the named faults `count` times each on a fresh rig; print and return the results."""
    console = console or Console()
    # The sandbox logs every fault it fires as a warning: keep the report readable
    logging.getLogger("nautilus_dydx.sandbox").setLevel(logging.ERROR)
    async with running_rig() as rig:
        # Let the books fill before the first injection
        for _ in range(10):
            rig.step(1)
            await asyncio.sleep(0.05)

        def progress(name: str, done: int) -> None:
            if done == count or done % 10 == 0:
                console.print(f"  {name}: {done}/{count}", highlight=False)

        results = await run_suite(rig, names, count, progress)
        if concurrency_rounds:
            results.append(await run_concurrency(rig, rounds=concurrency_rounds))
    print_faults(results, count, console)
    for r in results:
        for violation in sorted(set(r.violations))[:5]:
            console.print(f"  [red]{r.name}[/red]: {violation}", highlight=False)
    return results
