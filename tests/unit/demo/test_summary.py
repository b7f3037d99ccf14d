# SPDX-License-Identifier: Apache-2.0
"""The demo summary from synthetic events: kinds, outcomes, latencies and venue checks."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.stubs.events import TestEventStubs

from nautilus_dydx import DYDXOrderTags
from nautilus_dydx.demo.recorder import RunRecord
from nautilus_dydx.demo.summary import Summary
from nautilus_dydx.demo.summary import build_summary
from nautilus_dydx.demo.summary import check_against_venue
from nautilus_dydx.demo.summary import fill_totals
from nautilus_dydx.demo.summary import format_summary
from nautilus_dydx.demo.summary import order_kind
from nautilus_dydx.demo.summary import order_latencies
from nautilus_dydx.demo.summary import order_outcomes
from nautilus_dydx.demo.summary import percentiles
from nautilus_dydx.demo.venue_state import VenueFill
from nautilus_dydx.demo.venue_state import VenuePosition
from nautilus_dydx.demo.venue_state import VenueSnapshot
from tests.unit.demo.events import BTC
from tests.unit.demo.events import factory
from tests.unit.demo.events import filled
from tests.unit.demo.events import limit


SHORT = DYDXOrderTags(is_short_term_order=True).value


def test_order_kind_prefers_the_venue_flags() -> None:
    order = limit()
    assert order_kind(order.init_event, 0) == "short-term"
    assert order_kind(order.init_event, 64) == "long-term"
    assert order_kind(order.init_event, 32) == "conditional"


def test_order_kind_without_flags_follows_the_order_fields() -> None:
    orders = factory()
    qty = Quantity.from_str("0.001")
    stop = orders.stop_market(BTC, OrderSide.SELL, qty, Price.from_str("60000"),
                              trigger_type=TriggerType.DEFAULT)
    market = orders.market(BTC, OrderSide.BUY, qty)
    tagged = limit(tags=[SHORT])
    plain_gtc = limit(time_in_force=TimeInForce.GTC)
    assert order_kind(stop.init_event) == "conditional"
    assert order_kind(market.init_event) == "short-term"
    assert order_kind(tagged.init_event) == "short-term"
    assert order_kind(plain_gtc.init_event) == "long-term"


def test_percentiles_are_nearest_rank_in_milliseconds() -> None:
    row = percentiles([i * 1_000_000 for i in range(1, 11)])  # 1 .. 10 ms
    assert row == {"count": 10, "p50_ms": 5.0, "p90_ms": 9.0, "p99_ms": 10.0}
    assert percentiles([]) == {"count": 0, "p50_ms": None, "p90_ms": None, "p99_ms": None}


def _lifecycle():
    # A quote replaced twice then filled in two parts, a rejected quote, a canceled GTC
    quote = limit(tags=[SHORT])
    rejected = limit(side=OrderSide.SELL, tags=[SHORT])
    resting = limit(time_in_force=TimeInForce.GTC)
    events = [
        quote.init_event, TestEventStubs.order_submitted(quote, ts_event=10),
        rejected.init_event, resting.init_event,
        TestEventStubs.order_submitted(rejected, ts_event=11),
        TestEventStubs.order_submitted(resting, ts_event=12),
    ]
    return quote, rejected, resting, events


def test_order_outcomes_count_each_order_once_per_outcome() -> None:
    quote, rejected, resting, events = _lifecycle()
    events += [
        TestEventStubs.order_accepted(quote),
        TestEventStubs.order_updated(quote, price=Price.from_str("65001")),
        TestEventStubs.order_updated(quote, price=Price.from_str("65002")),
        filled(quote, "0.0004", "65002"),
        filled(quote, "0.0006", "65002"),
        TestEventStubs.order_rejected(rejected),
        TestEventStubs.order_accepted(resting),
        TestEventStubs.order_canceled(resting),
    ]
    flags = {quote.client_order_id: 0, rejected.client_order_id: 0,
             resting.client_order_id: 64}

    orders, reasons = order_outcomes(events, flags)

    assert orders["short-term"]["orders"] == 2
    assert orders["short-term"]["submitted"] == 2
    assert orders["short-term"]["accepted"] == 1
    assert orders["short-term"]["replaced"] == 2
    assert orders["short-term"]["filled"] == 1
    assert orders["short-term"]["partially filled"] == 0
    assert orders["short-term"]["rejected"] == 1
    assert orders["long-term"]["orders"] == orders["long-term"]["canceled"] == 1
    assert orders["conditional"]["orders"] == 0
    assert reasons == ["1 x short-term rejected: ORDER_REJECTED"]


def test_partial_fill_is_not_counted_as_filled() -> None:
    quote = limit(tags=[SHORT])
    events = [quote.init_event, filled(quote, "0.0004", "65000")]
    orders, _ = order_outcomes(events, {})
    assert orders["short-term"]["filled"] == 0
    assert orders["short-term"]["partially filled"] == 1


def _at(event, ts_init: int):
    return type(event).from_dict({**type(event).to_dict(event), "ts_init": ts_init})


def test_latencies_measure_from_submitted_to_accepted_and_first_fill() -> None:
    quote = limit()
    submitted = TestEventStubs.order_submitted(quote)
    accepted = TestEventStubs.order_accepted(quote)
    first, second = filled(quote, "0.0005", "65000", ts=9_000_000), filled(
        quote, "0.0005", "65000", ts=20_000_000,
    )
    # ts_init of the stubs is 0: rebuild them on a timeline (submitted 1 ms, accepted 3 ms)
    submitted = _at(submitted, 1_000_000)
    accepted = _at(accepted, 3_000_000)

    latency = order_latencies([quote.init_event, submitted, accepted, first, second])

    assert latency["submitted -> accepted"]["p50_ms"] == 2.0
    assert latency["accepted -> first fill"]["p50_ms"] == 6.0
    assert latency["submitted -> first fill"]["count"] == 1


def test_fill_totals_sum_quantities_cash_and_commissions() -> None:
    buy, sell = limit(), limit(side=OrderSide.SELL)
    totals = fill_totals([
        filled(buy, "0.0020", "65000", fee="0.065"),
        filled(sell, "0.0010", "65100", fee="-0.0065"),
    ])
    assert totals["count"] == 2
    assert totals["net"] == Decimal("0.0010")
    assert totals["commissions"] == Decimal("0.0585")
    assert totals["cash_flow"] == Decimal(-130) + Decimal("65.1") - Decimal("0.0585")


def _venue(size: str, equity: str, usdc: str, fills: list[VenueFill]) -> VenueSnapshot:
    positions = {}
    if Decimal(size):
        positions["BTC-USD"] = VenuePosition("BTC-USD", Decimal(size), Decimal(65000),
                                             Decimal(size) * 50, Decimal(0))
    return VenueSnapshot(10, Decimal(equity), Decimal(usdc), positions, fills)


def _venue_fill(side: str, size: str, price: str, fee: str) -> VenueFill:
    return VenueFill("f", "BTC-USD", side, Decimal(price), Decimal(size), Decimal(fee), 5, "o")


def _checked(nautilus_position: str, nautilus_pnl: str | None, end: VenueSnapshot) -> Summary:
    buy = limit()
    fills = [filled(buy, "0.0010", "65000", fee="0.0325")]
    start = _venue("0", "1000", "1000", [])
    summary = Summary("sandbox", 1.0, True)
    check_against_venue(
        summary, "BTC-USD", fills, Decimal(nautilus_position),
        None if nautilus_pnl is None else Decimal(nautilus_pnl), start, end,
    )
    return summary


# One buy of 0.001 at 65 000 with a 0.0325 fee; mark 65 050: PnL 0.05 - 0.0325 = 0.0175
GOOD_END = _venue("0.001", "1000.0175", "934.9675", [_venue_fill("BUY", "0.001", "65000",
                                                                 "0.0325")])


def test_venue_check_passes_when_everything_agrees() -> None:
    summary = _checked("0.001", "0.0175", GOOD_END)
    assert summary.problems == []
    assert summary.position["from fills"] == Decimal("0.001")
    assert summary.pnl["mark price"] == Decimal(65050)


def test_venue_check_flags_a_position_mismatch() -> None:
    summary = _checked("0.002", "0.0175", GOOD_END)
    assert any(p.startswith("position: Nautilus 0.002 != venue 0.001") for p in summary.problems)


def test_venue_check_flags_a_fill_the_venue_does_not_know() -> None:
    end = _venue("0.001", "1000.0175", "934.9675", [])
    summary = _checked("0.001", "0.0175", end)
    assert any(p.startswith("fills: 0 venue fill(s) missing in Nautilus, 1 Nautilus")
               for p in summary.problems)


def test_venue_check_flags_pnl_beyond_a_cent_and_fee_gaps() -> None:
    summary = _checked("0.001", "0.05", GOOD_END)  # Fees left out of Nautilus's PnL
    assert any(p.startswith("PnL: Nautilus 0.050000 != venue 0.017500") for p in summary.problems)
    end = _venue("0.001", "1000.0175", "934.9675", [_venue_fill("BUY", "0.001", "65000",
                                                                "0.03")])
    assert any(p.startswith("fees:") for p in _checked("0.001", "0.0175", end).problems)


def test_build_summary_flags_missing_data_and_no_fills() -> None:
    record = RunRecord(BTC, data_counts=Counter(deltas=3, quotes=0, trades=1), instruments=2)
    summary = build_summary("sandbox", 5.0, record, {}, None, open_orders=["O-1 LIMIT ACCEPTED"])
    assert "no quotes received" in summary.problems
    assert "no order was filled" in summary.problems
    problem = "1 order(s) still open after the strategy stopped: O-1 LIMIT ACCEPTED"
    assert problem in summary.problems
    text = format_summary(summary)
    assert "INCONSISTENT" in text and "instruments loaded: 2" in text


def test_data_only_summary_says_execution_did_not_run() -> None:
    record = RunRecord(BTC, data_counts=Counter(deltas=3, quotes=2, trades=1), instruments=2)
    summary = build_summary("testnet", 5.0, record, {}, None, execution=False)
    assert summary.ok
    assert "execution: NOT RUN (data only)" in format_summary(summary)


def test_like_reasons_are_grouped_across_orders() -> None:
    from nautilus_trader.core.uuid import UUID4
    from nautilus_trader.model.events import OrderModifyRejected

    first, second = limit(tags=[SHORT]), limit(tags=[SHORT])
    events = [first.init_event, second.init_event]
    for order, client_id in ((first, 3797858301), (second, 58423341)):
        events.append(OrderModifyRejected(
            order.trader_id, order.strategy_id, order.instrument_id, order.client_order_id,
            None, None,
            f"clob 24: Order dydx1h5r02hc73ezwnvcrcz9l0adn54alrejp8wswv5/0 client {client_id} "
            "has filled 10000000 of 10000000 quantums: Order is fully filled",
            UUID4(), 0, 0,
        ))

    orders, reasons = order_outcomes(events, {})

    assert orders["short-term"]["modify rejected"] == 2
    assert reasons == [
        (
            "2 x short-term modify rejected: clob 24: Order <subaccount> client <n> has filled "
            "<n> of <n> quantums: Order is fully filled"
        ),
    ]
