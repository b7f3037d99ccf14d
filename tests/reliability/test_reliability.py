# SPDX-License-Identifier: Apache-2.0
"""Short form of the fault suite and the concurrency run (each fault a few times)."""

from __future__ import annotations

import asyncio
import gc
import math
import time

import pytest
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.test_kit.stubs.events import TestEventStubs
from nautilus_trader.test_kit.stubs.execution import TestExecStubs

from nautilus_dydx.grpc import TxStatus
from tests.integration.data.support import BTC
from tests.integration.data.support import book_levels
from tests.integration.data.support import expected_levels
from tests.reliability.concurrency import BUY
from tests.reliability.concurrency import FIRST_ID
from tests.reliability.concurrency import SHORT_TERM
from tests.reliability.concurrency import encoders
from tests.reliability.concurrency import far_bid
from tests.reliability.concurrency import run_concurrency
from tests.reliability.exec_suite import check_venue
from tests.reliability.exec_suite import exec_rig
from tests.reliability.exec_suite import run_exec_suite
from tests.reliability.exec_suite import venue_differences
from tests.reliability.proxy import TcpProxy
from tests.reliability.report import percentile
from tests.reliability.runner import EXEC_NAMES
from tests.reliability.rig import SNAPSHOT_DEPTH
from tests.reliability.rig import running_rig
from tests.reliability.rig import side_matches
from tests.reliability.rig import wait
from tests.reliability.soak import Series
from tests.reliability.soak import SoakReport
from tests.reliability.soak import container_lengths
from tests.reliability.soak import grown_containers
from tests.reliability.soak import interning_cost
from tests.reliability.soak import interning_share
from tests.reliability.soak import mapping_rss
from tests.reliability.soak import pymalloc_kb
from tests.reliability.soak import rss_mb
from tests.reliability.soak import slope_per_hour
from tests.reliability.soak import slope_stderr_per_hour
from tests.reliability.soak import type_counts
from tests.reliability.suite import FAULTS
from tests.reliability.suite import flow_blocks
from tests.reliability.suite import run_suite
from tests.reliability.suite import settle_books


def run(coro, timeout: float = 240.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_every_fault_twice_leaves_the_book_equal_and_orders_placed_once() -> None:
    async def scenario():
        async with running_rig() as rig:
            await flow_blocks(rig, 10)
            faults = await run_suite(rig, list(FAULTS), count=2)
            concurrency = await run_concurrency(rig, rounds=3, per_market=6)
            return faults, concurrency, dict(rig.sandbox.faults.counters), rig.accepted["K1"]

    results, concurrency, counters, accepted = run(scenario())
    # The "placed once" oracle saw the suite's own transactions
    assert accepted >= 10
    for result in results:
        assert result.runs == 2, result.name
        assert result.violations == [], (result.name, result.violations)
        assert len(result.recovery_s) == 2, result.name
    # The faults really fired (the sandbox counts each one)
    for name in ("ws_drop", "ws_restart", "ws_malformed", "ws_duplicate", "ws_reorder",
                 "crossed_book", "rest_error", "grpc_error", "sequence_skew", "block_stall",
                 "ws_snapshot_fail"):
        assert counters.get(name, 0) >= 2, name
    assert concurrency.runs == 3
    assert concurrency.violations == []


def test_execution_faults_leave_every_order_and_fill_equal_to_the_venue() -> None:
    results = run(run_exec_suite(list(EXEC_NAMES), count=1, concurrency_rounds=2))
    faults, concurrency = results[:-1], results[-1]
    assert [r.name for r in faults] == list(EXEC_NAMES)
    for result in results:
        assert result.runs == len(result.recovery_s), result.name
        assert result.violations == [], (result.name, result.violations)
    for result in faults:
        assert result.runs == 1, result.name
    # The fill oracle was exercised: the marketable orders filled
    main = [r for r in faults if r.name != "exec_liquidation"]
    assert int(main[-1].detail.split()[0]) >= len(main)
    # The endpoint in use really died; the liquidation reached the strategy as fills
    dead = next(r for r in faults if r.name == "exec_dead_grpc_endpoint")
    assert "1 endpoint kills" in dead.detail
    liquidated = next(r for r in faults if r.name == "exec_liquidation")
    assert int(liquidated.detail.split()[0]) >= 2  # The levered buy, then the liquidation
    # Concurrency through the client: 2 rounds of 3 kinds on 2 markets, modifies and cancels
    assert concurrency.runs == 2
    orders, modified = (int(w) for w in concurrency.detail.split()[0:3:2])
    assert orders == 24 and modified >= 4


def test_the_venue_check_reports_a_doubled_fill_once_not_in_every_later_run() -> None:
    async def scenario():
        async with exec_rig() as rig:
            node = rig.node
            assert await check_venue(node, rig.sandbox, rig.http) == []
            # One more OrderFilled than the venue made: what a doubled fill looks like
            node.events.append(TestEventStubs.order_filled(
                TestExecStubs.limit_order(), TestInstrumentProvider.btcusdt_binance(),
            ))
            doubled = await check_venue(node, rig.sandbox, rig.http)
            baseline = await venue_differences(node, rig.sandbox, rig.http)
            later = await check_venue(node, rig.sandbox, rig.http, baseline)
            return doubled, baseline, later

    doubled, baseline, later = run(scenario())
    assert doubled == ["OrderFilled count differs from the venue's by 1 (by 0 before)"]
    assert baseline["OrderFilled count"] == 1
    assert later == []


def test_side_matches_wants_the_snapshot_depth_equal_and_known_deep_levels_right() -> None:
    venue = [(1_000 - i, 1) for i in range(SNAPSHOT_DEPTH + 5)]
    # Only the snapshot's depth known (after a resync), or all of it: both match
    assert side_matches(venue[:SNAPSHOT_DEPTH], venue)
    assert side_matches(venue, venue)
    # A deep level heard of through an update, with the venue's size: matches; a stale one not
    assert side_matches(venue[:SNAPSHOT_DEPTH] + [venue[-1]], venue)
    assert not side_matches(venue[:SNAPSHOT_DEPTH] + [(venue[-1][0], 2)], venue)
    assert not side_matches(venue[:SNAPSHOT_DEPTH] + [(1, 1)], venue)
    # Within the depth every level counts, and a short book must be short at the venue too
    assert not side_matches(venue[:SNAPSHOT_DEPTH - 1], venue)
    assert not side_matches(venue[:3], venue[:4])


def test_a_book_deeper_than_the_snapshot_recovers_to_what_the_venue_shows() -> None:
    # More bid levels than the Indexer's 100-level snapshot: after a drop the strategy's book
    # holds the snapshot's depth, and the suite's recovery check accepts exactly that
    async def scenario():
        async with running_rig() as rig:
            await flow_blocks(rig, 10)
            btc = encoders(rig)[0]
            gtb = rig.sandbox.node.height + 15
            outcomes = await asyncio.gather(*(
                rig.sender.send_short_term(btc.place_order_any(
                    FIRST_ID + k, SHORT_TERM, BUY, btc.step_base_quantums,
                    far_bid(rig, btc.clob_pair_id, k), good_til_block=gtb,
                ))
                for k in range(SNAPSHOT_DEPTH + 10)
            ))
            rig.step(1)
            deep = await wait(lambda: len(book_levels(rig.actor, BTC)[0]) > SNAPSHOT_DEPTH, 10.0)
            started = time.perf_counter()
            rig.sandbox.faults.drop_ws()
            await flow_blocks(rig, 3)
            trial = await settle_books(rig, started)
            bids = book_levels(rig.actor, BTC)[0]
            venue_bids = expected_levels(rig.sandbox, "BTC-USD")[0]
            return outcomes, deep, trial, bids, venue_bids

    outcomes, deep, trial, bids, venue_bids = run(scenario())
    assert all(o.status == TxStatus.ACCEPTED for o in outcomes)
    assert deep  # Before the drop the updates had shown every level
    assert trial.violations == []
    assert len(venue_bids) > SNAPSHOT_DEPTH + 5
    assert bids[:SNAPSHOT_DEPTH] == venue_bids[:SNAPSHOT_DEPTH]
    assert len(bids) < len(venue_bids)  # The levels past the snapshot are not known again


def test_slope_per_hour_is_the_least_squares_slope() -> None:
    # 1 MB every 60 s is 60 MB/hour; a flat series is 0
    assert slope_per_hour([(0, 100), (60, 101), (120, 102)]) == pytest.approx(60.0)
    assert slope_per_hour([(0, 5), (10, 5), (20, 5)]) == 0.0
    # Noise around a line: (0,0) (1,2) (2,1) (3,3) -> slope 0.8 per second
    assert slope_per_hour([(0, 0), (1, 2), (2, 1), (3, 3)]) == pytest.approx(0.8 * 3600)
    # Its standard error by hand: fit 0.3 + 0.8 t, residuals -0.3 0.9 -0.9 0.3 (sum of
    # squares 1.8), n - 2 = 2, Sxx = 5: sqrt(1.8 / 2 / 5) per second
    assert slope_stderr_per_hour([(0, 0), (1, 2), (2, 1), (3, 3)]) == pytest.approx(
        (1.8 / 2 / 5) ** 0.5 * 3600,
    )
    assert slope_stderr_per_hour([(0, 100), (60, 101), (120, 102)]) == 0.0


class _Holder:
    def __init__(self) -> None:
        self.grows: dict = {"first": [0.0]}  # Holds a list: the collector tracks it
        self.stays: list = [1, 2, 3]
        self.untracked: dict = {}  # Strings only: the collector does not track it


def test_soak_diagnostics_name_the_container_and_the_types_that_grew() -> None:
    holder = _Holder()
    lengths, types = container_lengths(), type_counts()
    for i in range(500):
        holder.grows[f"key-{i}"] = [float(i)]  # One list and one float per entry
        holder.untracked[f"key-{i}"] = f"value-{i}"
    assert not gc.is_tracked(holder.untracked)
    grown = grown_containers(lengths)
    assert grown[0] == ("_Holder.grows (dict str -> list)", 501, 500)
    assert ("_Holder.untracked (dict str -> str)", 500, 500) in grown
    assert all("_Holder.stays" not in name for name, _, _ in grown)
    growth = type_counts() - types
    assert growth["list"] >= 500
    assert growth["float"] >= 500


def test_soak_series_records_rows_in_memory_taken_up_front() -> None:
    series = Series(capacity=4, width=3)
    buffer = series._data.buffer_info()
    for i in range(4):
        series.append((i, i * 2.5, 10**9 + i))
    assert series._data.buffer_info() == buffer  # Nothing allocated while within capacity
    assert len(series) == 4
    assert series[0] == (0.0, 0.0, 1e9) and series[-1] == (3.0, 7.5, 1e9 + 3)
    assert series[1:3] == [(1.0, 2.5, 1e9 + 1), (2.0, 5.0, 1e9 + 2)]
    assert [row[0] for row in series if row[0] >= 2] == [2.0, 3.0]
    series.append((4, 10.0, 0))  # Beyond the capacity: the array grows
    assert len(series) == 5 and series[4] == (4.0, 10.0, 0.0)
    with pytest.raises(IndexError):
        series[5]


def test_soak_tells_the_interning_of_new_ids_from_the_rest_of_the_growth() -> None:
    client, venue, position = interning_cost(20_000)
    # Each new id keeps at least its characters (27, 36 and 63 here) in RSS for good
    assert client >= 27 and venue >= 36 and position >= 63
    report = SoakReport(4000.0, warmup=300.0, sample_every=100.0)
    report.samples.append((0.0, 300.0, 0.0, 0.0, 0.0))
    report.samples.append((300.0, 310.0, 0.0, 0.0, 500.0))
    report.samples.append((3900.0, 312.0, 0.0, 0.0, 7_700.0))  # 7,200 orders in the hour
    report.modifies_at_warmup, report.modifies = 20, 380
    report.snapshots_at_warmup, report.position_snapshots = 100, 1_300
    report.interned_bytes = (50.0, 60.0, 90.0)
    assert interning_share(report) == pytest.approx(
        (7_200 * 110 + 360 * 60 + 1_200 * 90) / 2**20)
    report.modifies_at_warmup = -1  # The warm-up never ended
    assert math.isnan(interning_share(report))


def test_soak_memory_map_splits_the_rss_by_allocator() -> None:
    before, heap_mapped = mapping_rss()
    assert abs(sum(before.values()) / 1024 - rss_mb()) < 0.1 * rss_mb()
    assert before["file-backed"] > 0 and before["malloc main heap"] > 0
    assert heap_mapped >= before["malloc main heap"]
    # 64 MB from malloc is mmapped on its own: it shows among the other anonymous maps once
    # its pages are touched
    block = bytearray(64 * 2**20)
    block[::4096] = b"x" * (len(block) // 4096)
    grown = mapping_rss()[0]["other anonymous"] - before["other anonymous"]
    assert grown >= 60 * 1024
    del block
    # A million small objects land in Python's arenas, which pymalloc_kb counts
    arenas, live = pymalloc_kb()
    small = [(i,) for i in range(1_000_000)]  # 48 bytes each
    arenas_after, live_after = pymalloc_kb()
    assert live_after - live >= 40 * 1024  # kB
    # Freed blocks in the arenas a busy process already has may take them, so the arenas
    # need not grow; they always hold at least the live blocks
    assert arenas >= live and arenas_after >= live_after
    del small


def test_percentile_picks_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 51.0  # round(0.5 * 99) = 50 -> the 51st value
    assert percentile(values, 0.95) == 95.0
    assert percentile([3.0], 0.99) == 3.0


def test_a_killed_proxy_cuts_its_connections_and_revives_on_the_same_port() -> None:
    async def scenario():
        async def echo(reader, writer):
            while data := await reader.read(100):
                writer.write(data)
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        target = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
        proxy = TcpProxy(target)
        await proxy.start()
        port = proxy.port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping")
        assert await asyncio.wait_for(reader.read(4), 5.0) == b"ping"
        await proxy.kill()
        # The open connection is cut and new ones are refused
        assert await asyncio.wait_for(reader.read(4), 5.0) == b""
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)
        await proxy.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"pong")
        assert await asyncio.wait_for(reader.read(4), 5.0) == b"pong"
        writer.close()
        await proxy.kill()
        server.close()
        return proxy.port == port, proxy.kills, proxy.bytes_up

    same_port, kills, bytes_up = run(scenario(), timeout=30.0)
    assert same_port and kills == 2 and bytes_up == 8


def test_an_order_closes_at_its_cancel_expiry_or_last_fill_if_filled() -> None:
    from types import SimpleNamespace

    from nautilus_trader.model.enums import OrderStatus
    from nautilus_trader.model.identifiers import ClientOrderId
    from nautilus_trader.model.identifiers import TradeId
    from nautilus_trader.model.objects import Quantity

    from tests.reliability.exec_concurrency import closing_indexes

    instrument = TestInstrumentProvider.btcusdt_binance()
    canceled, filled, partial = (
        TestExecStubs.limit_order(instrument=instrument, client_order_id=ClientOrderId(f"O-{k}"))
        for k in (1, 2, 3)
    )
    half = Quantity.from_str("50")
    events = [
        TestEventStubs.order_filled(filled, instrument, last_qty=half, trade_id=TradeId("T1")),
        TestEventStubs.order_canceled(canceled),
        TestEventStubs.order_filled(filled, instrument, last_qty=half, trade_id=TradeId("T2")),
        TestEventStubs.order_filled(partial, instrument, last_qty=half, trade_id=TradeId("T3")),
    ]
    status = {filled.client_order_id: OrderStatus.FILLED,
              partial.client_order_id: OrderStatus.PARTIALLY_FILLED}
    cache = SimpleNamespace(
        order=lambda i: SimpleNamespace(status=status[i]) if i in status else None,
    )
    assert closing_indexes(events, SimpleNamespace(cache=cache)) == {
        canceled.client_order_id: 1, filled.client_order_id: 2,
    }
