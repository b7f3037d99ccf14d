# SPDX-License-Identifier: Apache-2.0
"""The soak run: a sandbox process with agents, a TradingNode with the data client, orders."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections import Counter
from collections import deque
from dataclasses import dataclass
from dataclasses import field
from types import SimpleNamespace

import httpx
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from rich.console import Console
from rich.table import Table

from nautilus_dydx import DYDX
from nautilus_dydx import DYDXLiveDataClientFactory
from nautilus_dydx._core.orders import MarketEncoder
from nautilus_dydx.factories import clear_cached_clients
from nautilus_dydx.grpc import DYDXNodeClient
from nautilus_dydx.grpc import DYDXTransactionSender
from nautilus_dydx.grpc import TxStatus
from nautilus_dydx.grpc.errors import DYDXNodeError
from tests.integration.data.support import data_config
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.transport.support import alice
from tests.reliability.report import percentile
from tests.reliability.rig import TimedCollector
from tests.reliability.rig import closed_port_endpoint
from tests.reliability.rig import wait


BLOCK_TIME_MS = 100
ORDERS_PER_SECOND = 10
# Latency windows: the first and the last this many seconds of the run (after warm-up)
WINDOW_S = 30.0
WARMUP_S = 10.0
# dYdX sandbox default chain id (SandboxConfig.chain_id)
SANDBOX_CHAIN_ID = "dydx-sandbox-1"


def rss_mb(pid: int | None = None) -> float:
    path = f"/proc/{pid or 'self'}/status"
    with open(path) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) points, in MB per hour."""
    n = len(points)
    if n < 2:
        return float("nan")
    mean_x = sum(p[0] for p in points) / n
    mean_y = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mean_x) ** 2 for p in points)
    sxy = sum((p[0] - mean_x) * (p[1] - mean_y) for p in points)
    return sxy / sxx * 3600 if sxx else float("nan")


@dataclass
class SoakReport:
    seconds: float
    samples: list[tuple[float, float, float, int, int]] = field(default_factory=list)
    message_start: list[float] = field(default_factory=list)
    message_end: deque = field(default_factory=lambda: deque(maxlen=2_000))
    order_start: list[float] = field(default_factory=list)
    order_end: deque = field(default_factory=lambda: deque(maxlen=2_000))
    orders: int = 0
    order_failures: int = 0
    failure_reasons: Counter = field(default_factory=Counter)
    deltas: int = 0
    resyncs: int = 0
    growth_mb_per_hour: float = float("nan")
    sandbox_growth_mb_per_hour: float = float("nan")

    @property
    def ok(self) -> bool:
        return self.order_failures == 0 and self.growth_mb_per_hour < 1.0


def free_port() -> int:
    return int(closed_port_endpoint().rsplit(":", 1)[1])


@contextlib.contextmanager
def sandbox_process(seconds: float):
    grpc_port, http_port, ws_port = free_port(), free_port(), free_port()
    command = [
        sys.executable, "-m", "nautilus_dydx.sandbox",
        "--markets", "BTC-USD,ETH-USD,PEPE-USD", "--block-time-ms", str(BLOCK_TIME_MS),
        "--grpc-port", str(grpc_port), "--http-port", str(http_port),
        "--ws-port", str(ws_port), "--no-rate-limit", "--no-extra-fields",
        "--fund", f"{K1_ADDRESS}=100000", "--duration", str(int(seconds + 120)),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield process, SimpleNamespace(
            http_url=f"http://127.0.0.1:{http_port}/v4",
            ws_url=f"ws://127.0.0.1:{ws_port}/v4/ws",
            grpc_endpoint=f"127.0.0.1:{grpc_port}",
        )
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


async def wait_for_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=1.0) as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/height")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"sandbox did not answer on {url}")


async def order_flow(sender: DYDXTransactionSender, rpc: DYDXNodeClient, report: SoakReport,
                     started: float, duration: float) -> None:
    encoder = MarketEncoder(K1_ADDRESS, 0, 0, -10, -9, 1_000_000, 100_000)
    client_id = 1
    height = (await rpc.get_latest_block()).height
    interval = 1.0 / ORDERS_PER_SECOND
    while time.perf_counter() - started < duration:
        client_id += 1
        if client_id % 5 == 0:
            with contextlib.suppress(DYDXNodeError):
                height = (await rpc.get_latest_block()).height
        # A far-from-market bid (1 000 USD) that expires after a few blocks
        message = encoder.place_order_any(
            client_id, 0, 1, 1_000_000, 100_000_000 + (client_id % 100) * 100_000,
            good_til_block=height + 10,
        )
        t0 = time.perf_counter()
        report.orders += 1
        try:
            outcome = await sender.send_short_term(message)
            latency = time.perf_counter() - t0
            if outcome.status != TxStatus.ACCEPTED:
                report.order_failures += 1
                report.failure_reasons[f"{outcome.codespace}/{outcome.code}"] += 1
                height = (await rpc.get_latest_block()).height
        except DYDXNodeError as e:
            # An overloaded machine can time a call out: count it, keep the run going
            report.order_failures += 1
            report.failure_reasons[type(e).__name__] += 1
            await asyncio.sleep(interval)
            continue
        elapsed = time.perf_counter() - started
        if WARMUP_S <= elapsed < WARMUP_S + WINDOW_S:
            report.order_start.append(latency)
        report.order_end.append(latency)
        await asyncio.sleep(interval)


async def run_soak(seconds: float, sample_every: float = 5.0,
                   console: Console | None = None) -> SoakReport:
    """Run the soak for `seconds`; print and return the report."""
    console = console or Console()
    report = SoakReport(seconds)
    with sandbox_process(seconds) as (process, endpoints):
        await wait_for_http(endpoints.http_url)
        clear_cached_clients()
        loop = asyncio.get_running_loop()
        actor = TimedCollector()
        actor.use_stamps = True
        node = TradingNode(
            config=TradingNodeConfig(
                trader_id="SOAK-001", logging=LoggingConfig(log_level="ERROR"),
                data_clients={DYDX: data_config(endpoints)},
            ),
            loop=loop,
        )
        node.add_data_client_factory(DYDX, DYDXLiveDataClientFactory)
        node.trader.add_actor(actor)
        node.build()
        task = loop.create_task(node.run_async())
        rpc = DYDXNodeClient([endpoints.grpc_endpoint], timeout_secs=5.0)
        await rpc.__aenter__()
        try:
            await wait(lambda: node.is_running() and actor.is_running, 60.0)
            sender = DYDXTransactionSender(rpc, alice(), SANDBOX_CHAIN_ID)
            await sender.start()
            started = time.perf_counter()
            flow = loop.create_task(order_flow(sender, rpc, report, started, seconds))
            next_sample = 0.0
            while (elapsed := time.perf_counter() - started) < seconds:
                if elapsed >= next_sample:
                    _take_latencies(actor, report, started)
                    actor.forget()
                    report.samples.append((
                        elapsed, rss_mb(), rss_mb(process.pid), actor.delta_count, report.orders,
                    ))
                    next_sample += sample_every
                await asyncio.sleep(0.2)
            _take_latencies(actor, report, started)
            report.samples.append((
                time.perf_counter() - started, rss_mb(), rss_mb(process.pid),
                actor.delta_count, report.orders,
            ))
            await flow
            report.deltas = actor.delta_count
            report.resyncs = node.kernel.data_engine._clients[
                next(iter(node.kernel.data_engine._clients))
            ].resyncs
        finally:
            await rpc.__aexit__(None, None, None)
            await node.stop_async()
            await asyncio.sleep(0.05)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            clear_cached_clients()
    half = [s for s in report.samples if s[0] >= seconds / 2]
    report.growth_mb_per_hour = slope_per_hour([(s[0], s[1]) for s in half])
    report.sandbox_growth_mb_per_hour = slope_per_hour([(s[0], s[2]) for s in half])
    print_soak(report, console)
    return report


def _take_latencies(actor: TimedCollector, report: SoakReport, started: float) -> None:
    # Message latency from the deltas' own stamps: ts_init (node receipt) - ts_event (block)
    for wall, latency in actor.latencies:
        elapsed = wall - started
        if WARMUP_S <= elapsed < WARMUP_S + WINDOW_S:
            report.message_start.append(latency)
        report.message_end.append(latency)
    actor.latencies.clear()


def print_soak(report: SoakReport, console: Console) -> None:
    rss = Table(title=f"Soak RSS over time ({report.seconds:.0f} s)")
    for column in ("t s", "node RSS MB", "sandbox RSS MB", "deltas", "orders"):
        rss.add_column(column, justify="right")
    step = max(1, len(report.samples) // 15)
    for t, node_mb, sandbox_mb, deltas, orders in report.samples[::step] + report.samples[-1:]:
        rss.add_row(f"{t:.0f}", f"{node_mb:.1f}", f"{sandbox_mb:.1f}", str(deltas), str(orders))
    console.print(rss)
    duration = report.samples[-1][0] if report.samples else float("nan")
    summary = Table(title="Soak summary")
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    summary.add_row("node RSS growth, 2nd half (MB/hour, target < 1)",
                    f"{report.growth_mb_per_hour:.2f}")
    summary.add_row("sandbox RSS growth, 2nd half (MB/hour)",
                    f"{report.sandbox_growth_mb_per_hour:.2f}")
    summary.add_row("book delta messages / s", f"{report.deltas / duration:.1f}")
    summary.add_row("orders sent / s", f"{report.orders / duration:.1f}")
    summary.add_row("orders not accepted", str(report.order_failures))
    summary.add_row("book resyncs", str(report.resyncs))
    for name, start, end in (
        ("block-to-strategy ms", report.message_start, list(report.message_end)),
        ("order broadcast RTT ms", report.order_start, list(report.order_end)),
    ):
        for label, values in (("start", start), ("end", end[-len(start) or None:])):
            ms = [v * 1000 for v in values]
            p50, p95, p99 = (percentile(ms, q) for q in (0.5, 0.95, 0.99))
            summary.add_row(f"{name} {label} p50/p95/p99", f"{p50:.2f} / {p95:.2f} / {p99:.2f}")
    console.print(summary)
    for reason, count in report.failure_reasons.most_common(5):
        console.print(f"  order not accepted x{count}: {reason}", highlight=False)
