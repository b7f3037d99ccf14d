# SPDX-License-Identifier: Apache-2.0
"""The run summary: data counts, orders by kind and outcome, fills, venue checks, latencies."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderInitialized
from nautilus_trader.model.events import OrderModifyRejected
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import OrderSubmitted
from nautilus_trader.model.events import OrderTriggered
from nautilus_trader.model.events import OrderUpdated

from nautilus_dydx.demo.venue_state import VenueSnapshot


KINDS = ("short-term", "long-term", "conditional")
OUTCOMES = (
    "submitted", "accepted", "triggered", "replaced", "filled", "partially filled", "canceled",
    "expired", "rejected", "denied", "modify rejected",
)
_FLAG_KINDS = {0: "short-term", 64: "long-term", 32: "conditional"}
_CONDITIONAL_TYPES = (
    OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.MARKET_IF_TOUCHED,
    OrderType.LIMIT_IF_TOUCHED,
)
# Nautilus keeps average prices as floats: PnL agrees with the venue's to well under a cent
PNL_TOLERANCE = Decimal("0.01")


def order_kind(init: OrderInitialized, order_flags: int | None = None) -> str:
    """
    Return the dYdX kind of an order: the venue's order flags when known, else from its fields.

    Parameters
    ----------
    init : OrderInitialized
        The order's first event.
    order_flags : int | None
        The order flags the execution client placed it with (None if never placed).

    Returns
    -------
    str
        ``short-term``, ``long-term`` or ``conditional``.

    """
    if order_flags is not None and order_flags in _FLAG_KINDS:
        return _FLAG_KINDS[order_flags]
    if init.order_type in _CONDITIONAL_TYPES:
        return "conditional"
    tags = " ".join(init.tags or ())
    if (
        init.order_type == OrderType.MARKET
        or init.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
        or '"is_short_term_order":true' in tags
    ):
        return "short-term"
    return "long-term"


def percentiles(values_ns: list[int], quantiles: tuple[float, ...] = (50, 90, 99)) -> dict:
    """
    Return nearest-rank percentiles of nanosecond samples in milliseconds.

    Parameters
    ----------
    values_ns : list[int]
    quantiles : tuple[float, ...], default (50, 90, 99)

    Returns
    -------
    dict
        ``{"count": n, "p50_ms": ..., ...}`` (None values without samples).

    """
    ordered = sorted(values_ns)
    row: dict = {"count": len(ordered)}
    for q in quantiles:
        key = f"p{q:g}_ms"
        if not ordered:
            row[key] = None
            continue
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        row[key] = round(ordered[rank - 1] / 1e6, 3)
    return row


@dataclass
class Summary:
    """
    The checked result of a run.

    Parameters
    ----------
    network : str
    seconds : float
        Trading time.
    execution : bool
        Whether the execution client ran (False: data only).
    instruments : int
    data : dict[str, int]
        Market data received per kind.
    orders : dict[str, dict[str, int]]
        Per kind, orders per outcome.
    reasons : list[str]
        Rejection, denial and modify-rejection reasons with counts.
    fills : dict
        Count, quantity bought and sold, commissions.
    position : dict
        Nautilus's and the venue's final positions.
    pnl : dict
        Nautilus's and the venue's PnL over the run (USDC).
    latency : dict
        Per stage percentiles (ms).
    problems : list[str]
        Every inconsistency found; empty when the run checks out.

    """

    network: str
    seconds: float
    execution: bool
    instruments: int = 0
    data: dict = field(default_factory=dict)
    orders: dict = field(default_factory=dict)
    reasons: list = field(default_factory=list)
    fills: dict = field(default_factory=dict)
    position: dict = field(default_factory=dict)
    pnl: dict = field(default_factory=dict)
    latency: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether no inconsistency was found."""
        return not self.problems

    def to_dict(self) -> dict:
        """
        Return the summary as JSON-ready values (decimals as strings).
        """
        def plain(value):
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        return plain({
            "network": self.network, "seconds": self.seconds, "execution": self.execution,
            "instruments": self.instruments, "data": self.data, "orders": self.orders,
            "reasons": self.reasons, "fills": self.fills, "position": self.position,
            "pnl": self.pnl, "latency": self.latency, "problems": self.problems,
            "ok": self.ok,
        })


def order_outcomes(events: list, order_flags: dict) -> tuple[dict, list[str]]:
    """
    Return orders per kind and outcome, and the rejection reasons with counts.

    Parameters
    ----------
    events : list
        Every order event of the run, in order.
    order_flags : dict[ClientOrderId, int]
        The order flags the execution client placed each order with.

    Returns
    -------
    tuple[dict[str, dict[str, int]], list[str]]

    """
    inits: dict = {}
    seen: dict = {}
    filled_qty: dict = {}
    reasons: Counter = Counter()
    for event in events:
        coid = event.client_order_id
        if isinstance(event, OrderInitialized):
            inits[coid] = event
            seen[coid] = Counter()
            filled_qty[coid] = Decimal(0)
            continue
        if coid not in seen:
            continue
        seen[coid][type(event).__name__] += 1
        if isinstance(event, OrderFilled):
            filled_qty[coid] += event.last_qty.as_decimal()
        if isinstance(event, OrderRejected | OrderDenied | OrderModifyRejected):
            kind = order_kind(inits[coid], order_flags.get(coid))
            reasons[f"{kind} {_label(event)}: {_shorten(event.reason)}"] += 1
    table = {kind: Counter({outcome: 0 for outcome in OUTCOMES}) for kind in KINDS}
    names = {
        "submitted": OrderSubmitted, "accepted": OrderAccepted, "triggered": OrderTriggered,
        "canceled": OrderCanceled, "expired": OrderExpired, "rejected": OrderRejected,
        "denied": OrderDenied,
    }
    for coid, init in inits.items():
        row = table[order_kind(init, order_flags.get(coid))]
        counts = seen[coid]
        for outcome, cls in names.items():
            if counts[cls.__name__]:
                row[outcome] += 1
        row["replaced"] += counts[OrderUpdated.__name__]
        row["modify rejected"] += counts[OrderModifyRejected.__name__]
        quantity = init.quantity.as_decimal()
        if filled_qty[coid] >= quantity:
            row["filled"] += 1
        elif filled_qty[coid] > 0:
            row["partially filled"] += 1
    orders = {kind: dict(row) for kind, row in table.items()}
    for kind in KINDS:
        orders[kind]["orders"] = sum(
            1 for coid, init in inits.items()
            if order_kind(init, order_flags.get(coid)) == kind
        )
    return orders, [f"{count} x {text}" for text, count in reasons.most_common()]


def _label(event) -> str:
    return {
        OrderRejected: "rejected", OrderDenied: "denied", OrderModifyRejected: "modify rejected",
    }[type(event)]


def _shorten(reason: str, limit: int = 110) -> str:
    # Group like reasons: order identities and quantities vary, the reason does not
    text = " ".join(str(reason).split())
    text = re.sub(r"dydx1[0-9a-z]+(/\d+)?", "<subaccount>", text)
    text = re.sub(r"ClientOrderId\('[^']*'\)", "<order>", text)
    text = re.sub(r"\b\d{4,}\b", "<n>", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def order_latencies(events: list) -> dict:
    """
    Return submit -> accepted and accepted -> first fill latencies from the events' `ts_init`.

    Parameters
    ----------
    events : list

    Returns
    -------
    dict

    """
    submitted: dict = {}
    accepted: dict = {}
    first_fill: dict = {}
    for event in events:
        coid = event.client_order_id
        if isinstance(event, OrderSubmitted):
            submitted.setdefault(coid, event.ts_init)
        elif isinstance(event, OrderAccepted):
            accepted.setdefault(coid, event.ts_init)
        elif isinstance(event, OrderFilled):
            first_fill.setdefault(coid, event.ts_init)
    return {
        "submitted -> accepted": percentiles(
            [accepted[c] - submitted[c] for c in accepted if c in submitted],
        ),
        "accepted -> first fill": percentiles(
            [first_fill[c] - accepted[c] for c in first_fill if c in accepted],
        ),
        "submitted -> first fill": percentiles(
            [first_fill[c] - submitted[c] for c in first_fill if c in submitted],
        ),
    }


def fill_totals(fills: list[OrderFilled]) -> dict:
    """
    Return the count, signed quantity, quantity bought and sold, commissions and cash flow.

    Parameters
    ----------
    fills : list[OrderFilled]

    Returns
    -------
    dict

    """
    bought = sold = cash = commissions = Decimal(0)
    for fill in fills:
        quantity = fill.last_qty.as_decimal()
        notional = quantity * fill.last_px.as_decimal()
        if fill.is_buy:
            bought += quantity
            cash -= notional
        else:
            sold += quantity
            cash += notional
        commissions += fill.commission.as_decimal()
    return {
        "count": len(fills), "bought": bought, "sold": sold, "net": bought - sold,
        "commissions": commissions, "cash_flow": cash - commissions,
    }


def _fill_key(side: str, price: Decimal, size: Decimal) -> tuple[str, Decimal, Decimal]:
    return side, price.normalize(), size.normalize()


def check_against_venue(
    summary: Summary,
    ticker: str,
    fills: list[OrderFilled],
    nautilus_position: Decimal,
    nautilus_pnl: Decimal | None,
    start: VenueSnapshot,
    end: VenueSnapshot,
) -> None:
    """
    Fill the summary's position and PnL and record every disagreement with the venue.

    Parameters
    ----------
    summary : Summary
    ticker : str
        The venue's market, e.g. ``BTC-USD``.
    fills : list[OrderFilled]
        Nautilus's fills of the run.
    nautilus_position : Decimal
        Nautilus's signed net position at the end.
    nautilus_pnl : Decimal | None
        Nautilus's realized plus unrealized PnL at the venue's mark price (None: unknown).
    start, end : VenueSnapshot
        The venue before trading and after (`end.fills` lists the run's fills).

    """
    totals = fill_totals(fills)
    venue_start = start.position_size(ticker)
    venue_end = end.position_size(ticker)
    venue_fills = [f for f in end.fills if f.market == ticker]
    summary.position = {
        "nautilus": nautilus_position,
        "venue": venue_end,
        "venue at start": venue_start,
        "from fills": venue_start + totals["net"],
    }
    if nautilus_position != venue_end:
        summary.problems.append(
            f"position: Nautilus {nautilus_position} != venue {venue_end} ({ticker})",
        )
    if venue_start + totals["net"] != venue_end:
        summary.problems.append(
            f"position: venue start {venue_start} + Nautilus fills {totals['net']} != venue "
            f"end {venue_end}",
        )
    ours = Counter(
        _fill_key("BUY" if f.is_buy else "SELL", f.last_px.as_decimal(), f.last_qty.as_decimal())
        for f in fills
    )
    theirs = Counter(_fill_key(f.side, f.price, f.size) for f in venue_fills)
    summary.fills["venue count"] = len(venue_fills)
    summary.fills["venue fees"] = sum((f.fee for f in venue_fills), Decimal(0))
    if ours != theirs:
        missing = sum((theirs - ours).values())
        extra = sum((ours - theirs).values())
        summary.problems.append(
            f"fills: {missing} venue fill(s) missing in Nautilus, {extra} Nautilus fill(s) "
            "unknown to the venue",
        )
    if summary.fills["venue fees"] != totals["commissions"]:
        summary.problems.append(
            f"fees: Nautilus commissions {totals['commissions']} != venue fees "
            f"{summary.fills['venue fees']}",
        )
    funding = sum((p.net_funding for p in end.positions.values()), Decimal(0)) - sum(
        (p.net_funding for p in start.positions.values()), Decimal(0),
    )
    venue_pnl = end.equity - start.equity - funding
    position = end.positions.get(ticker)
    mark = position.mark_price if position is not None else None
    summary.pnl = {
        "nautilus": nautilus_pnl,
        "venue": venue_pnl,
        "venue funding": funding,
        "mark price": mark,
        "cash from fills": totals["cash_flow"],
        "venue cash change": end.usdc - start.usdc,
    }
    other_markets = [t for t in set(start.positions) | set(end.positions) if t != ticker]
    if other_markets:
        summary.problems.append(
            f"PnL not comparable: the account also holds {', '.join(sorted(other_markets))}",
        )
        return
    if nautilus_pnl is None:
        summary.problems.append("PnL: Nautilus has no PnL (no account or instrument)")
    elif abs(nautilus_pnl - venue_pnl) > PNL_TOLERANCE:
        summary.problems.append(
            f"PnL: Nautilus {nautilus_pnl:.6f} != venue {venue_pnl:.6f} USDC "
            f"(equity change less funding)",
        )
    cash_gap = (end.usdc - start.usdc) - totals["cash_flow"] - funding
    if abs(cash_gap) > PNL_TOLERANCE:
        summary.problems.append(
            f"cash: venue USDC change {end.usdc - start.usdc} != Nautilus fills' cash flow "
            f"{totals['cash_flow']} + funding {funding}",
        )


def build_summary(
    network: str,
    seconds: float,
    record,
    order_flags: dict,
    metrics: dict | None,
    execution: bool = True,
    open_orders: Sequence[str] = (),
) -> Summary:
    """
    Return the summary of the Nautilus side of a run (venue checks come after).

    Parameters
    ----------
    network : str
    seconds : float
    record : RunRecord
    order_flags : dict[ClientOrderId, int]
    metrics : dict | None
        The execution client's `metrics.percentiles()` (microseconds), if any.
    execution : bool, default True
        Whether the execution client ran.
    open_orders : Sequence[str], default ()
        Orders still open after the strategies stopped, one line each (named in the problem).

    Returns
    -------
    Summary

    """
    summary = Summary(network=network, seconds=seconds, execution=execution)
    summary.instruments = record.instruments
    kinds = ("deltas", "quotes", "trades", "bars")
    summary.data = {k: record.data_counts.get(k, 0) for k in kinds}
    if record.instruments == 0:
        summary.problems.append("no instruments loaded")
    for kind in ("deltas", "quotes", "trades"):
        if summary.data[kind] == 0:
            summary.problems.append(f"no {kind} received")
    if not execution:
        return summary
    summary.orders, summary.reasons = order_outcomes(record.events, order_flags)
    fills = record.fills
    summary.fills = fill_totals(fills)
    if not fills:
        summary.problems.append("no order was filled")
    if open_orders:
        summary.problems.append(
            f"{len(open_orders)} order(s) still open after the strategy stopped: "
            + "; ".join(open_orders),
        )
    latency = order_latencies(record.events)
    if metrics:
        for stage, label in (("venue_ack", "command -> venue ack (client)"),
                             ("first_fill", "command -> first fill (client)")):
            row = metrics.get(stage)
            if row is None:
                continue
            latency[label] = {
                "count": row.get("count"),
                **{k.replace("_us", "_ms"): (None if v is None else round(v / 1000, 3))
                   for k, v in row.items() if k.endswith("_us")},
            }
    summary.latency = latency
    return summary


def format_summary(summary: Summary) -> str:
    """
    Return the summary as text for the terminal.

    Parameters
    ----------
    summary : Summary

    Returns
    -------
    str

    """
    lines = [
        f"== nautilus-dydx demo: {summary.network}, {summary.seconds:g} s of trading ==",
        f"instruments loaded: {summary.instruments}",
        "data received:      " + ", ".join(f"{k} {v}" for k, v in summary.data.items()),
    ]
    if not summary.execution:
        lines.append("execution: NOT RUN (data only)")
    else:
        lines.append("orders:")
        header = ["kind", "orders", *OUTCOMES]
        rows = [header] + [
            [kind, str(summary.orders.get(kind, {}).get("orders", 0))]
            + [str(summary.orders.get(kind, {}).get(o, 0)) for o in OUTCOMES]
            for kind in KINDS
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        for row in rows:
            lines.append("  " + "  ".join(cell.rjust(w) if i else cell.ljust(w)
                                          for i, (cell, w) in enumerate(zip(row, widths))))
        if summary.reasons:
            lines.append("reasons:")
            lines += [f"  {r}" for r in summary.reasons]
        f = summary.fills
        lines.append(
            f"fills: {f.get('count', 0)} (venue {f.get('venue count', '?')}), bought "
            f"{f.get('bought')}, sold {f.get('sold')}, commissions {f.get('commissions')} USDC "
            f"(venue fees {f.get('venue fees', '?')})",
        )
        p = summary.position
        if p:
            lines.append(
                f"position: Nautilus {p.get('nautilus')}, venue {p.get('venue')} "
                f"(start {p.get('venue at start')} + fills = {p.get('from fills')})",
            )
        q = summary.pnl
        if q:
            lines.append(
                f"PnL (USDC): Nautilus {_fmt(q.get('nautilus'))}, venue {_fmt(q.get('venue'))} "
                f"(equity change less funding {_fmt(q.get('venue funding'))}; mark "
                f"{_fmt(q.get('mark price'))})",
            )
        lines.append("latency (ms):")
        for stage, row in summary.latency.items():
            values = ", ".join(f"{k[:-3]} {v}" for k, v in row.items() if k.endswith("_ms"))
            lines.append(f"  {stage}: n={row['count']}, {values}")
    if summary.problems:
        lines.append("INCONSISTENT:")
        lines += [f"  - {p}" for p in summary.problems]
    else:
        lines.append("all checks passed: Nautilus agrees with the venue")
    return "\n".join(lines)


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, Decimal):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)
