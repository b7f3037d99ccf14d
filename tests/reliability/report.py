# SPDX-License-Identifier: Apache-2.0
"""Rich tables for the fault suite and the soak run."""

from __future__ import annotations

import statistics

from rich.console import Console
from rich.table import Table


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def fault_table(results, count: int) -> Table:
    table = Table(title=f"Fault suite ({count} injections per fault)")
    for column in ("fault", "path", "runs", "failed runs", "violations", "p50 ms", "p95 ms",
                   "max ms", "note"):
        numeric = "ms" in column or column in ("runs", "failed runs", "violations")
        table.add_column(
            column, no_wrap=column == "fault", justify="right" if numeric else "left",
        )
    for r in results:
        if r.not_run:
            table.add_row(r.name, r.kind, "0", "-", "-", "-", "-", "-", f"NOT RUN: {r.not_run}")
            continue
        ms = [s * 1000 for s in r.recovery_s]
        note = r.violations[0][:70] if r.violations else r.detail
        table.add_row(
            r.name, r.kind, str(r.runs), str(r.failed_runs), str(len(r.violations)),
            f"{percentile(ms, 0.5):.0f}", f"{percentile(ms, 0.95):.0f}",
            f"{max(ms):.0f}" if ms else "-", note,
        )
    return table


def print_faults(results, count: int, console: Console | None = None) -> None:
    (console or Console()).print(fault_table(results, count))


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")
