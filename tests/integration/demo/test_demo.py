# SPDX-License-Identifier: Apache-2.0
"""The demo in short mode against the in-process sandbox: its summary checked, its chart a PNG."""

from __future__ import annotations

import asyncio
import json
import struct
from decimal import Decimal

import pytest

from nautilus_dydx.demo.run import DemoOptions
from nautilus_dydx.demo.run import run_demo


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("demo")
    options = DemoOptions(
        seconds=20.0, chart=str(directory / "run.png"), json_path=str(directory / "run.json"),
        block_time_ms=200,
    )
    summary, chart = asyncio.run(asyncio.wait_for(run_demo(options), 120))
    return summary, chart, directory / "run.json"


def test_demo_fills_orders_of_every_kind(demo) -> None:
    summary, _, _ = demo
    orders = summary.orders
    assert summary.instruments >= 1
    assert summary.data["deltas"] > 0 and summary.data["quotes"] > 0
    assert summary.data["trades"] > 0
    assert orders["short-term"]["filled"] >= 1
    assert orders["short-term"]["replaced"] >= 1
    assert orders["long-term"]["accepted"] == orders["long-term"]["canceled"] == 1
    assert orders["conditional"]["orders"] >= 2
    assert orders["conditional"]["filled"] + orders["conditional"]["partially filled"] >= 1
    for kind in orders.values():
        assert kind["submitted"] + kind["denied"] == kind["orders"]


def test_demo_position_equals_the_venue_and_the_fills(demo) -> None:
    summary, _, _ = demo
    position = summary.position
    assert summary.fills["count"] > 0
    assert summary.fills["venue count"] == summary.fills["count"]
    assert position["nautilus"] == position["venue"] == position["from fills"]
    assert position["venue at start"] == 0
    assert position["from fills"] == summary.fills["bought"] - summary.fills["sold"]
    assert not [p for p in summary.problems if p.startswith(("position", "fills"))]


def test_demo_latencies_come_from_the_run(demo) -> None:
    summary, _, _ = demo
    accepted = summary.latency["submitted -> accepted"]
    client = summary.latency["command -> venue ack (client)"]
    assert accepted["count"] == client["count"] > 0
    assert 0 < accepted["p50_ms"] <= accepted["p90_ms"] <= accepted["p99_ms"]


def test_demo_writes_a_png_chart_and_the_json_summary(demo) -> None:
    summary, chart, json_path = demo
    data = chart.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    width, height = struct.unpack(">II", data[16:24])
    assert (length, kind) == (13, b"IHDR") and width > 100 and height > 100
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"
    import matplotlib.image

    assert matplotlib.image.imread(str(chart)).shape[:2] == (height, width)
    saved = json.loads(json_path.read_text())
    assert saved["fills"]["count"] == summary.fills["count"]
    assert Decimal(saved["position"]["venue"]) == summary.position["venue"]


def test_demo_pnl_and_fees_agree_with_the_venue(demo) -> None:
    summary, _, _ = demo
    assert summary.problems == []
    assert summary.ok
