# SPDX-License-Identifier: Apache-2.0
"""The run's chart: mid price with own fills, position, and PnL over time (PNG, matplotlib)."""

from __future__ import annotations

from pathlib import Path

from nautilus_dydx.demo.recorder import RunRecord


def write_chart(record: RunRecord, path: str | Path, title: str = "nautilus-dydx demo") -> Path:
    """
    Write a PNG of the run: mid price and own fills, position, PnL.

    Parameters
    ----------
    record : RunRecord
        The recorded run.
    path : str | Path
        The PNG file to write (parent directories are created).
    title : str, default "nautilus-dydx demo"

    Returns
    -------
    Path

    Raises
    ------
    RuntimeError
        If matplotlib is not installed (``pip install nautilus-dydx[demo]``).

    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise RuntimeError(
            "the chart needs matplotlib: pip install 'nautilus-dydx[demo]'",
        ) from e
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = record.samples
    starts = [s.ts_ns for s in samples[:1]] + [t for t, _ in record.mids[:1]]
    starts += [f.ts_init for f in record.fills[:1]]
    t0 = min(starts) if starts else 0

    def seconds(ts_ns: int) -> float:
        return (ts_ns - t0) / 1e9

    figure, (price_ax, position_ax, pnl_ax) = plt.subplots(
        3, 1, figsize=(10, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1, 1]},
    )
    mids = record.mids or [(s.ts_ns, s.mid) for s in samples if s.mid is not None]
    price_ax.step([seconds(t) for t, _ in mids], [float(m) for _, m in mids], where="post",
                  color="tab:gray", linewidth=1, label="mid")
    for is_buy, color, marker, label in ((True, "tab:green", "^", "own buy"),
                                         (False, "tab:red", "v", "own sell")):
        fills = [f for f in record.fills if f.is_buy == is_buy]
        price_ax.scatter([seconds(f.ts_init) for f in fills],
                         [float(f.last_px.as_decimal()) for f in fills],
                         color=color, marker=marker, s=30, label=f"{label} ({len(fills)})",
                         zorder=3)
    price_ax.set_ylabel(f"{record.instrument_id.symbol}")
    price_ax.legend(loc="best", fontsize="small")
    price_ax.set_title(title)
    position_ax.step([seconds(s.ts_ns) for s in samples], [float(s.position) for s in samples],
                     where="post", color="tab:blue")
    position_ax.axhline(0, color="black", linewidth=0.5)
    position_ax.set_ylabel("position")
    with_pnl = [s for s in samples if s.pnl is not None]
    pnl_ax.plot([seconds(s.ts_ns) for s in with_pnl], [float(s.pnl) for s in with_pnl],
                color="tab:purple")
    pnl_ax.axhline(0, color="black", linewidth=0.5)
    pnl_ax.set_ylabel("PnL (USDC)")
    pnl_ax.set_xlabel("seconds")
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)
    return path
