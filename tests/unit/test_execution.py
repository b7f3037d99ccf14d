# SPDX-License-Identifier: Apache-2.0
"""Unit checks of the execution client's helpers: metrics, status mapping, tags, venue IDs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.stubs.identifiers import TestIdStubs
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.common.component import TestClock

from nautilus_dydx.common.types import DYDXOrderTags
from nautilus_dydx.execution import DYDXExecutionClient
from nautilus_dydx.execution_state import base_client_order_id
from nautilus_dydx.execution import parse_order_tags
from nautilus_dydx.execution_metrics import ExecutionMetrics
from nautilus_dydx.execution_metrics import LatencyHistogram
from nautilus_dydx.execution_state import report_status
from nautilus_dydx.execution_state import report_time_in_force
from nautilus_dydx.execution_state import short_reason


K1 = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
R = "ORDER_REMOVAL_REASON_"


def test_histogram_nearest_rank_percentiles() -> None:
    histogram = LatencyHistogram()
    assert histogram.percentile(50) is None
    for value in range(100, 0, -1):  # 100 .. 1, out of order
        histogram.record(value)
    assert (histogram.percentile(50), histogram.percentile(99), histogram.percentile(100)) == (
        50, 99, 100,
    )
    assert histogram.percentile(0) == 1
    histogram.record(-5)  # Clock steps backwards are clamped
    assert histogram.percentile(0) == 0
    with pytest.raises(ValueError):
        histogram.percentile(101)


def test_histogram_keeps_the_latest_samples_but_counts_all() -> None:
    histogram = LatencyHistogram(capacity=3)
    for value in (1000, 1, 2, 3):
        histogram.record(value)
    assert len(histogram) == 3 and histogram.count == 4
    assert histogram.percentile(100) == 3


def test_histogram_memory_stays_at_its_capacity_after_wrapping() -> None:
    # A ring of 8-byte samples: however many are recorded, the newest `capacity` are kept
    histogram = LatencyHistogram(capacity=5)
    for value in range(1, 10_001):
        histogram.record(value)
    assert len(histogram) == 5 and histogram.count == 10_000
    assert histogram.nbytes == 5 * 8
    assert [histogram.percentile(q) for q in (0, 20, 40, 60, 80, 100)] == [
        9_996, 9_996, 9_997, 9_998, 9_999, 10_000,
    ]
    histogram.record(1 << 70)  # Beyond int64: clamped, not an OverflowError
    assert histogram.percentile(100) == (1 << 63) - 1 and len(histogram) == 5


def test_histogram_takes_its_whole_ring_at_once_and_reads_only_what_was_recorded() -> None:
    # Allocated whole, so a filling ring never reads as growth; its unused slots are not samples
    histogram = LatencyHistogram(capacity=1_000)
    assert histogram.nbytes == 8_000 and len(histogram) == 0 and histogram.percentile(0) is None
    for value in (500, 700, 600):
        histogram.record(value)
    assert histogram.nbytes == 8_000 and len(histogram) == 3
    assert [histogram.percentile(q) for q in (0, 50, 100)] == [500, 600, 700]


def test_metrics_histograms_are_bounded_per_stage() -> None:
    metrics = ExecutionMetrics(capacity=100)
    for index in range(1_000):
        for stage in ("signed", "broadcast", "venue_ack", "first_fill"):
            metrics.record(stage, 0, index)
    assert {stage: len(h) for stage, h in metrics.histograms.items()} == {
        "signed": 100, "broadcast": 100, "venue_ack": 100, "first_fill": 100,
    }
    assert all(h.nbytes == 800 and h.count == 1_000 for h in metrics.histograms.values())


def test_metrics_report_microseconds_per_stage() -> None:
    metrics = ExecutionMetrics()
    metrics.record("signed", 1_000, 3_000)
    metrics.record("signed", 1_000, 5_000)
    table = metrics.percentiles((50.0, 100.0))
    assert table["signed"] == {"count": 2, "p50_us": 2.0, "p100_us": 4.0}
    assert table["first_fill"] == {"count": 0, "p50_us": None, "p100_us": None}
    with pytest.raises(KeyError):
        metrics.record("unknown", 0, 1)


@pytest.mark.parametrize(("status", "reason", "filled", "expected"), [
    ("OPEN", None, False, OrderStatus.ACCEPTED),
    ("BEST_EFFORT_OPENED", None, True, OrderStatus.PARTIALLY_FILLED),
    ("UNTRIGGERED", None, False, OrderStatus.ACCEPTED),
    ("BEST_EFFORT_CANCELED", R + "USER_CANCELED", False, OrderStatus.ACCEPTED),  # May fill
    ("FILLED", R + "FULLY_FILLED", True, OrderStatus.FILLED),
    ("CANCELED", R + "USER_CANCELED", True, OrderStatus.CANCELED),
    ("CANCELED", R + "EXPIRED", False, OrderStatus.EXPIRED),
    ("CANCELED", R + "INDEXER_EXPIRED", True, OrderStatus.EXPIRED),
    ("CANCELED", R + "UNDERCOLLATERALIZED", False, OrderStatus.REJECTED),
    ("CANCELED", R + "UNDERCOLLATERALIZED", True, OrderStatus.CANCELED),
    ("CANCELED", R + "POST_ONLY_WOULD_CROSS_MAKER_ORDER", False, OrderStatus.REJECTED),
    ("CANCELED", R + "IMMEDIATE_OR_CANCEL_WOULD_REST_ON_BOOK", False, OrderStatus.CANCELED),
])
def test_report_status_of_indexer_orders(status, reason, filled, expected) -> None:
    assert report_status(status, reason, filled) == expected


def test_report_time_in_force_and_reasons() -> None:
    assert report_time_in_force("IOC", 0) == TimeInForce.IOC
    assert report_time_in_force("GTT", 0) == TimeInForce.GTD
    assert report_time_in_force("GTT", 64) == TimeInForce.GTC
    assert short_reason(R + "EQUITY_TIER") == "EQUITY_TIER"
    assert short_reason(None) == "UNSPECIFIED"


def test_order_tags_and_replacement_suffix() -> None:
    factory = OrderFactory(TestIdStubs.trader_id(), TestIdStubs.strategy_id(), TestClock())
    instrument_id = InstrumentId.from_str("BTC-USD-PERP.DYDX")
    tags = DYDXOrderTags(is_short_term_order=False, num_blocks_open=7)
    order = factory.limit(instrument_id, OrderSide.BUY, Quantity.from_str("0.001"),
                          Price.from_str("60000"), tags=["other", tags.value])
    assert parse_order_tags(order) == tags
    plain = factory.limit(instrument_id, OrderSide.BUY, Quantity.from_str("0.001"),
                          Price.from_str("60000"))
    assert parse_order_tags(plain) is None
    assert base_client_order_id("O-20260101-000000-001-001-7.r2") == "O-20260101-000000-001-001-7"
    assert base_client_order_id("O-20260101-000000-001-001-7") == "O-20260101-000000-001-001-7"


def test_venue_order_id_matches_the_protocol_vector() -> None:
    owner = SimpleNamespace(_subaccount_uuid=None, _address=K1, _subaccount=0)
    venue_id = DYDXExecutionClient._venue_order_id(owner, 123456789, 0, 0)
    assert venue_id == "abf17845-a8c4-5be3-a976-b0639386fd5e"
    assert owner._subaccount_uuid == "9534705d-6c4c-54d3-bdf9-48340caf07e9"
