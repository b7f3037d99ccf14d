# SPDX-License-Identifier: Apache-2.0
"""The soak run: a sandbox process, a TradingNode with the data client and a strategy trading
through the execution client; RSS, latency and the end state against the venue."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from array import array
from collections import Counter
from collections import deque
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from types import SimpleNamespace

import httpx
from nautilus_trader.config import CacheConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LiveRiskEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderCancelRejected
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderModifyRejected
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import PositionOpened
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import PositionId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.trading.strategy import Strategy
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nautilus_dydx import DYDX
from nautilus_dydx import DYDXLiveDataClientFactory
from nautilus_dydx.common.types import DYDXOrderTags
from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.factories import DYDXLiveExecClientFactory
from nautilus_dydx.factories import clear_cached_clients
from tests.integration.data.support import data_config
from tests.integration.execution.support import BTC_PERP
from tests.integration.execution.support import ETH_PERP
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_PRIVATE_KEY
from tests.reliability.report import percentile
from tests.reliability.rig import TimedCollector
from tests.reliability.rig import closed_port_endpoint
from tests.reliability.rig import wait

BLOCK_TIME_MS = 100
ORDERS_PER_SECOND = 2
# Latency windows: the first and the last this many seconds of the run (after warm-up)
WINDOW_S = 30.0
WARMUP_S = 10.0
# dYdX sandbox default chain id (SandboxConfig.chain_id)
SANDBOX_CHAIN_ID = "dydx-sandbox-1"
WS_DROP_EVERY_S = 60.0
VENUE_SETTLE_S = 10.0
# Nautilus's cache keeps the last `tick_capacity` quotes and trades per instrument (10 000 by
# default): bounded, but at the soak's rates it would fill for hours and read as growth. A small
# capacity fills within the warm-up, so the slope after it is what is never freed
TICK_CAPACITY = 100
TRACE_FRAMES = 8
MAPPINGS_EVERY = 6  # samples between readings of the memory map
# Far from the market (the sandbox oracles start near 66 000 and 3 300)
FAR_BID = {BTC_PERP: Decimal(30_000), ETH_PERP: Decimal(1_000)}
SOAK_SHORT = [DYDXOrderTags(is_short_term_order=True, num_blocks_open=10).value]


def rss_mb(pid: int | None = None) -> float:
    path = f"/proc/{pid or 'self'}/status"
    with open(path) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost",
    )]


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


LIBC = _libc()  # glibc: mallinfo2 (2.33 and later) and malloc_trim
_MALLINFO2 = getattr(LIBC, "mallinfo2", None)
if _MALLINFO2 is not None:
    _MALLINFO2.restype = _MallInfo2


def malloc_mb() -> tuple[float, float]:
    """
    What malloc holds, in MB: (in use, free in its heaps); NaN without glibc's `mallinfo2`.

    In use: native allocations (Nautilus's Rust core, compiled extensions) and Python's
    objects larger than 512 bytes; Python's small objects live in its own arenas, outside it.
    Free: freed memory malloc keeps for reuse; a growth there beside a flat in-use figure is
    fragmentation (free pieces too small or too scattered for the new requests).
    """
    if _MALLINFO2 is None:
        return float("nan"), float("nan")
    info = _MALLINFO2()
    return (info.uordblks + info.hblkhd) / 2**20, info.fordblks / 2**20


_THREAD_ARENA = 64 * 2**20  # glibc's per-thread malloc heaps: 64 MiB-aligned regions
_PYMALLOC_ARENA_KB = 1024  # Python's small-object arenas: one 1 MiB mmap each (3.10 and later)


def mapping_rss() -> tuple[Counter, int]:
    """
    Resident kB of this process by kind of mapping, and the main heap's mapped kB, from smaps.

    The kinds tell which allocator holds a growth: malloc's main heap (`[heap]`), its
    per-thread arenas, other anonymous maps (Python's object arenas, which the kernel merges
    with their neighbours so that no map tells them apart, large mallocs, thread stacks) and
    file-backed pages (code, read-only data). `pymalloc_kb` gives Python's arenas.
    The heap's mapped size is its whole extent, resident or not: the heap's RSS can grow inside
    it without malloc asking for more (memory malloc already handed out or holds free, written
    for the first time; Nautilus's interners reserve such memory at import).
    """
    totals: Counter = Counter()
    heap_mapped = 0
    kind = "other"
    try:
        with open("/proc/self/smaps") as f:
            for line in f:
                head = line.split(maxsplit=5)
                if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                    start, end = (int(x, 16) for x in head[0].split("-"))
                    path = head[5].strip() if len(head) > 5 else ""
                    if path == "[heap]":
                        kind = "malloc main heap"
                    elif path.startswith("["):
                        kind = path
                    elif path:
                        kind = "file-backed"
                    elif start % _THREAD_ARENA == 0:
                        kind = "malloc thread arenas"
                    else:
                        kind = "other anonymous"
                elif head[0] == "Rss:":
                    totals[kind] += int(head[1])
                elif head[0] == "Size:" and kind == "malloc main heap":
                    heap_mapped += int(head[1])
    except OSError:
        pass
    return totals, heap_mapped


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


def slope_stderr_per_hour(points: list[tuple[float, float]]) -> float:
    """Standard error of the least-squares slope of (seconds, MB) points, in MB per hour."""
    n = len(points)
    if n < 3:
        return float("nan")
    slope = slope_per_hour(points) / 3600
    mean_x = sum(p[0] for p in points) / n
    mean_y = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mean_x) ** 2 for p in points)
    if not sxx:
        return float("nan")
    residuals = sum((p[1] - mean_y - slope * (p[0] - mean_x)) ** 2 for p in points)
    return (residuals / (n - 2) / sxx) ** 0.5 * 3600


MAPPING_KINDS = ("malloc main heap", "malloc thread arenas", "other anonymous", "file-backed")
PYMALLOC_KINDS = ("  Python's object arenas (inside other anonymous)",
                  "    Python's live small objects (inside those arenas)")


def pymalloc_kb() -> tuple[float, float]:
    """
    Python's small-object allocator: kB its arenas map, and kB its live blocks take.

    Read from `sys._debugmallocstats`, which writes to file descriptor 2: it is pointed at a
    temporary file for the call, so a line another thread writes to stderr meanwhile is lost.
    """
    arenas = blocks = float("nan")
    with tempfile.TemporaryFile() as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        for line in out.read().decode(errors="replace").splitlines():
            name, _, value = line.partition("=")
            if name.strip() == "# arenas allocated current":
                arenas = int(value.replace(",", "")) * _PYMALLOC_ARENA_KB
            elif name.strip() == "# bytes in allocated blocks":
                blocks = int(value.replace(",", "")) / 1024
    return arenas, blocks


class Series:
    """
    Rows of numbers in one array allocated and written whole at construction.

    The soak's own records then add nothing to the memory it measures (a list of tuples of
    floats grew about 0.3 MB an hour, inside the node's process). Rows beyond `capacity` still
    fit: the array grows then. Reads give tuples of floats, like a list of tuples.
    """

    def __init__(self, capacity: int, width: int) -> None:
        self._width = width
        self._data = array("d", bytes(8 * max(1, capacity) * width))
        self._rows = 0

    def append(self, row: tuple[float, ...]) -> None:
        start = self._rows * self._width
        if start + self._width > len(self._data):
            self._data.extend(array("d", bytes(len(self._data) * 8)))
        self._data[start:start + self._width] = array("d", row)
        self._rows += 1

    def __len__(self) -> int:
        return self._rows

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._rows))]
        if index < 0:
            index += self._rows
        if not 0 <= index < self._rows:
            raise IndexError(index)
        return tuple(self._data[index * self._width:(index + 1) * self._width])

    def __iter__(self):
        return (self[i] for i in range(self._rows))


@dataclass
class SoakReport:
    seconds: float
    warmup: float = 60.0
    purge: bool = True
    tick_capacity: int = TICK_CAPACITY
    sample_every: float = 5.0
    # (s, node MB, sandbox MB, deltas, orders)
    samples: Series = field(init=False)
    traced: Series = field(init=False)  # (s, MB) with tracemalloc
    # (s, MB held from malloc, Python blocks allocated, MB free inside malloc's heaps)
    heap: Series = field(init=False)
    # (s, resident kB of each of MAPPING_KINDS, of the rest ([stack] and such), Python's arenas
    # and live small objects kB, heap's mapped kB)
    mappings: Series = field(init=False)
    mapping_growth: list[tuple[str, float, float]] = field(default_factory=list)
    heap_mapped: tuple[float, float] = (float("nan"), float("nan"))  # MB at the end, MB/hour
    trim_seconds: list[float] = field(default_factory=list)
    message_start: list[float] = field(default_factory=list)
    message_end: deque = field(default_factory=lambda: deque(maxlen=2_000))
    order_start: list[float] = field(default_factory=list)
    order_end: deque = field(default_factory=lambda: deque(maxlen=2_000))
    orders: int = 0
    modifies: int = 0
    modifies_at_warmup: int = -1
    # Reopenings of a closed NETTING position still cached: Nautilus snapshots it under a new,
    # unique PositionId (the position's id and a UUID), interned for good like the order ids
    position_snapshots: int = 0
    snapshots_at_warmup: int = -1
    # Bytes Nautilus's interner keeps per new ClientOrderId, VenueOrderId and snapshot
    # PositionId, measured at the end
    interned_bytes: tuple[float, float, float] = (float("nan"),) * 3
    fills: int = 0
    round_trip: bool = True
    closes: int = 0
    ws_drops: int = 0
    ws_drop_errors: int = 0
    rate: float = 5.0
    client_maps: dict = field(default_factory=dict)
    # Nautilus's order purge loop still running at the end (an exception ends it for good)
    order_purge_alive: bool = True
    purge_guard: dict = field(default_factory=dict)
    venue_open: int = -1
    venue_open_orders: list[str] = field(default_factory=list)
    nautilus_open: int = -1
    nautilus_in_flight: int = -1
    position_mismatches: list[str] = field(default_factory=list)
    order_failures: int = 0
    in_flight_at_end: int = 0
    cached_orders: int = 0
    client_orders: int = 0
    position_fills: int = 0
    failure_reasons: Counter = field(default_factory=Counter)
    deltas: int = 0
    resyncs: int = 0
    rss_after_warmup: float = float("nan")
    growth_mb_per_hour: float = float("nan")
    growth_stderr: float = float("nan")
    half_growth_mb_per_hour: float = float("nan")
    sandbox_growth_mb_per_hour: float = float("nan")
    malloc_growth_mb_per_hour: float = float("nan")
    blocks_growth_per_hour: float = float("nan")
    malloc_free_growth_mb_per_hour: float = float("nan")
    top_growth: list[tuple[str, int, int]] = field(default_factory=list)
    grown_containers: list[tuple[str, int, int]] = field(default_factory=list)
    grown_types: list[tuple[str, int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rows = int(self.seconds / self.sample_every) + 16
        self.samples = Series(rows, 5)
        self.traced = Series(rows, 2)
        self.heap = Series(rows, 4)
        self.mappings = Series(rows // MAPPINGS_EVERY + 16,
                               len(MAPPING_KINDS) + len(PYMALLOC_KINDS) + 3)

    @property
    def ok(self) -> bool:
        return (self.order_failures == 0 and self.growth_mb_per_hour < 1.0
                and self.order_purge_alive
                and self.venue_open == self.nautilus_open == self.nautilus_in_flight == 0
                and not self.position_mismatches)


def net_position(cache, instrument_id, strategy_id=None) -> Decimal:
    """The signed size of the open positions of a market (of one strategy, if given)."""
    return sum((p.signed_decimal_qty() for p in cache.positions_open(
        instrument_id=instrument_id, strategy_id=strategy_id,
    )), Decimal(0))


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
        # Its own end only guards against an orphaned sandbox: the diagnostics of a traced run
        # (type counts, tracemalloc snapshots) took more than two minutes after the flow
        "--fund", f"{K1_ADDRESS}=100000", "--duration", str(int(seconds + 900)),
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


class OrderFlow:
    """
    A strategy's order flow through the execution client, one action per tick.

    Per 20 ticks, alternating BTC and ETH: twelve short-term bids far from the market (every
    other one canceled once accepted, the rest expire), a long-term bid, a modify and
    cancels of the oldest long-term bids, and marketable IOCs (fills) or, every 50th tick, a
    conditional stop that replaces the previous one (stateful orders stay inside the chain's
    20 per 100 blocks). Accepted latency is command to
    OrderAccepted; only in-flight orders are remembered.

    With `round_trip`, each IOC that filled is answered at once by an IOC that closes the
    position, as a taker that hedges would; the positions are flat nearly all the time, so the
    minute's purge finds them closed. Nautilus keeps every fill of an open position (about
    1.1 KB each) until it closes: a position that never closes grows by its fill rate.
    """

    def __init__(self, node: TradingNode, strategy: Strategy, report: SoakReport,
                 started: float, round_trip: bool = True) -> None:
        self.node = node
        self.strategy = strategy
        self.report = report
        self.started = started
        self.round_trip = round_trip
        self.closing: dict = {}  # instrument id -> its closing IOC's client order id
        self.sent: dict = {}  # client order id -> (t0, cancel once accepted)
        self.stateful: deque = deque()
        self.conditional = None
        self.tick = 0
        self.snapshots: dict = {}  # position id -> its snapshots the cache holds
        node.kernel.msgbus.subscribe("events.order.*", self.on_event)
        node.kernel.msgbus.subscribe("events.position.*", self.on_position)

    def on_position(self, event) -> None:
        if type(event) is not PositionOpened:
            return
        # One more snapshot than last seen: this opening reused a closed position (a purge
        # in between empties the list, and the next reuse starts it again)
        held = len(self.node.cache.position_snapshot_bytes(event.position_id))
        if held > self.snapshots.get(event.position_id, 0):
            self.report.position_snapshots += 1
        self.snapshots[event.position_id] = held

    def on_event(self, event) -> None:
        kind = type(event)
        if kind is OrderAccepted:
            entry = self.sent.pop(event.client_order_id, None)
            if entry is None:
                return
            latency = time.perf_counter() - entry[0]
            elapsed = time.perf_counter() - self.started
            if WARMUP_S <= elapsed < WARMUP_S + WINDOW_S:
                self.report.order_start.append(latency)
            self.report.order_end.append(latency)
            order = self.node.cache.order(event.client_order_id)
            if entry[1] and order is not None and order.is_open:
                self.strategy.cancel_order(order)
        elif kind in (OrderRejected, OrderDenied, OrderModifyRejected, OrderCancelRejected):
            self.sent.pop(event.client_order_id, None)
            self._after_close(event)
            self.report.order_failures += 1
            self.report.failure_reasons[f"{kind.__name__}: {event.reason[:60]}"] += 1
        elif kind is OrderFilled:
            self.report.fills += 1
            self.sent.pop(event.client_order_id, None)
            self._after_close(event)
        elif kind in (OrderCanceled, OrderExpired):
            self.sent.pop(event.client_order_id, None)
            self._after_close(event)

    def _after_close(self, event) -> None:
        # Once an order has closed: it is no longer its market's closing IOC in flight, and a
        # taker that filled gets its position closed
        order = self.node.cache.order(event.client_order_id)
        if order is None or not order.is_closed:
            return
        closing = self.closing.get(order.instrument_id)
        if closing is not None and closing == order.client_order_id:  # None raises in ==
            del self.closing[order.instrument_id]
        if (self.round_trip and order.time_in_force == TimeInForce.IOC
                and order.filled_qty.as_decimal() > 0):
            # The engine updates the position after it publishes the order event
            asyncio.get_running_loop().call_soon(self._flatten, order.instrument_id)

    def _flatten(self, instrument_id) -> None:
        if instrument_id in self.closing:
            return
        net = net_position(self.node.cache, instrument_id, self.strategy.id)
        if not net:
            return
        instrument = self.node.cache.instrument(instrument_id)
        order = self._taker(
            instrument, OrderSide.SELL if net > 0 else OrderSide.BUY, instrument.make_qty(abs(net)),
        )
        self.closing[instrument_id] = order.client_order_id
        self.report.closes += 1
        self._submit(order)

    def step(self) -> None:
        self.tick += 1
        tick = self.tick
        instrument = self.node.cache.instrument((BTC_PERP, ETH_PERP)[tick % 2])
        factory = self.strategy.order_factory
        quantity = instrument.make_qty(instrument.size_increment.as_decimal() * 10)
        far = FAR_BID[instrument.id] - instrument.price_increment.as_decimal() * (tick % 100)
        slot = tick % 10
        order = None
        if slot < 6:
            order = factory.limit(instrument.id, OrderSide.BUY, quantity,
                                  instrument.make_price(far), tags=SOAK_SHORT)
            self._submit(order, cancel=slot % 2 == 0)
        elif tick % 20 == 6:
            order = factory.limit(instrument.id, OrderSide.BUY, quantity,
                                  instrument.make_price(far))
            self._submit(order)
            self.stateful.append(order)
        elif tick % 20 == 7:
            live = [o for o in self.stateful if o.is_open and not o.is_inflight]
            if live:
                old = live[0]
                of = self.node.cache.instrument(old.instrument_id)
                price = of.make_price(old.price.as_decimal() - of.price_increment.as_decimal())
                self.strategy.modify_order(old, price=price)
                self.report.modifies += 1  # A stateful modify: one new venue order id
        elif slot == 8:
            while len(self.stateful) > 3:
                old = self.stateful.popleft()
                if old.is_open and not old.is_inflight:
                    self.strategy.cancel_order(old)
                elif old.is_open:
                    self.stateful.appendleft(old)
                    break
        elif tick % 50 == 9:
            if self.conditional is not None and self.conditional.is_open:
                self.strategy.cancel_order(self.conditional)
            trigger = instrument.make_price(far / 2)
            self.conditional = factory.stop_limit(
                instrument.id, OrderSide.SELL, quantity, price=trigger, trigger_price=trigger,
                trigger_type=TriggerType.DEFAULT,
            )
            self._submit(self.conditional)
        else:
            side = OrderSide.BUY if tick % 20 in (9, 16) else OrderSide.SELL
            self._submit(self._taker(instrument, side, quantity))

    def _taker(self, instrument, side: OrderSide, quantity):
        # A short-term IOC priced far through the book: it takes what rests there
        cross = FAR_BID[instrument.id] * (4 if side == OrderSide.BUY else Decimal("0.25"))
        return self.strategy.order_factory.limit(
            instrument.id, side, quantity, instrument.make_price(cross),
            time_in_force=TimeInForce.IOC, tags=SOAK_SHORT,
        )

    def _submit(self, order, cancel: bool = False) -> None:
        self.sent[order.client_order_id] = (time.perf_counter(), cancel)
        self.report.orders += 1
        self.strategy.submit_order(order)

    async def run(self, duration: float, control_url: str, rate: float,
                  first_drop: float = WS_DROP_EVERY_S,
                  drop_every: float = WS_DROP_EVERY_S) -> None:
        interval = 1.0 / rate if rate > 0 else 1.0
        next_drop = first_drop if drop_every > 0 else float("inf")
        # Only unanswered drops are kept: the soak measures the node's memory, its own included
        drops: set[asyncio.Future] = set()

        def answered(future: asyncio.Future) -> None:
            drops.discard(future)
            failed = future.cancelled() or future.exception() is not None
            if failed or future.result().status_code != 200:
                self.report.ws_drop_errors += 1

        async with httpx.AsyncClient(timeout=30.0) as http:
            while (elapsed := time.perf_counter() - self.started) < duration:
                if rate > 0:
                    self.step()
                if elapsed >= next_drop:
                    next_drop += drop_every
                    self.report.ws_drops += 1
                    # Not awaited: a busy sandbox answers late, the order flow goes on
                    drop = asyncio.ensure_future(http.post(f"{control_url}/ws/drop"))
                    drops.add(drop)
                    drop.add_done_callback(answered)
                await asyncio.sleep(interval)
            await asyncio.gather(*drops, return_exceptions=True)
        # Whatever still rests: cancel it so the run ends clean
        for order in self.node.cache.orders_open(strategy_id=self.strategy.id):
            self.strategy.cancel_order(order)
        self.report.in_flight_at_end = len(self.sent)


def exec_config(endpoints: SimpleNamespace, state_dir: str) -> DYDXExecClientConfig:
    return DYDXExecClientConfig(
        network="sandbox", base_url_http=endpoints.http_url, base_url_ws=endpoints.ws_url,
        grpc_endpoints=[endpoints.grpc_endpoint], chain_id=SANDBOX_CHAIN_ID,
        private_key=K1_PRIVATE_KEY, state_dir=state_dir, http_rate_limit_per_10s=100_000,
    )


def engine_config(purge: bool, round_trip: bool = True) -> LiveExecEngineConfig:
    if not purge:
        return LiveExecEngineConfig(reconciliation=False)
    # What a long-running node should do: drop closed orders after a minute, and closed
    # positions. A NETTING position that reopens keeps a pickled copy of each closed round
    # (`Cache.snapshot_position`) until it is purged while closed: a position that is flat
    # between round trips is purged at once, or it would rarely be closed for a whole minute
    return LiveExecEngineConfig(
        reconciliation=False,
        purge_closed_orders_interval_mins=1, purge_closed_orders_buffer_mins=1,
        purge_closed_positions_interval_mins=1,
        purge_closed_positions_buffer_mins=0 if round_trip else 1,
        purge_account_events_interval_mins=1, purge_account_events_lookback_mins=1,
    )


async def run_soak(seconds: float, sample_every: float = 5.0, console: Console | None = None,
                   warmup: float = 60.0, purge: bool = True, trace: bool = False,
                   rate: float = ORDERS_PER_SECOND,
                   closed_kept: int | None = None,
                   tick_capacity: int = TICK_CAPACITY,
                   drop_every: float = WS_DROP_EVERY_S,
                   round_trip: bool = True, containers: bool = False,
                   trim_every: float = 0.0, log_level: str = "ERROR") -> SoakReport:
    """
    Run the soak for `seconds`; print and return the report.

    RSS growth is the least-squares slope over the samples after `warmup` seconds (start-up
    allocations settle first). With `trace`, tracemalloc snapshots taken at the end of the
    warm-up and at the end name the allocation sites that grew (the run is slower then). With
    `containers`, the lengths of every live dict, set, list and deque are taken at the same two
    points and the ones that grew most are named by their owner (the table of lengths is held
    meanwhile, so the RSS figures of such a run are not the product's).
    """
    console = console or Console()
    report = SoakReport(seconds, warmup=warmup, purge=purge, rate=rate, sample_every=sample_every,
                        tick_capacity=tick_capacity, round_trip=round_trip)
    if trace:
        tracemalloc.start(TRACE_FRAMES)
    with sandbox_process(seconds) as (process, endpoints), \
            tempfile.TemporaryDirectory() as state_dir:
        await wait_for_http(endpoints.http_url)
        clear_cached_clients()
        loop = asyncio.get_running_loop()
        actor = TimedCollector()
        actor.use_stamps = True
        node = TradingNode(
            config=TradingNodeConfig(
                trader_id="SOAK-001", logging=LoggingConfig(log_level=log_level),
                data_clients={DYDX: data_config(endpoints)},
                exec_clients={DYDX: exec_config(endpoints, state_dir)},
                exec_engine=engine_config(purge, round_trip),
                cache=CacheConfig(tick_capacity=tick_capacity, bar_capacity=tick_capacity),
                risk_engine=LiveRiskEngineConfig(max_order_submit_rate="1000/00:00:01",
                                                 max_order_modify_rate="1000/00:00:01"),
            ),
            loop=loop,
        )
        node.add_data_client_factory(DYDX, DYDXLiveDataClientFactory)
        node.add_exec_client_factory(DYDX, DYDXLiveExecClientFactory)
        node.trader.add_actor(actor)
        strategy = Strategy(StrategyConfig(strategy_id="SOAK-001", order_id_tag="001"))
        node.trader.add_strategy(strategy)
        node.build()
        task = loop.create_task(node.run_async())
        control_url = endpoints.http_url.rsplit("/v4", 1)[0] + "/control"
        try:
            await wait(lambda: node.is_running() and strategy.is_running
                       and node.cache.instrument(ETH_PERP) is not None, 90.0)
            client = next(iter(node.kernel.exec_engine._clients.values()))
            if closed_kept is not None:  # How many closed orders the client remembers
                client._max_closed = closed_kept
            started = time.perf_counter()
            orders = OrderFlow(node, strategy, report, started, round_trip)
            # The first stream-gap recovery raises the allocator's high-water mark once
            # (~20 MB of transient REST objects): let it happen inside the warm-up
            flow = loop.create_task(orders.run(seconds, control_url, rate, warmup / 2,
                                               drop_every))
            next_sample = 0.0
            next_trim = trim_every or float("inf")
            baseline = None
            lengths = None
            while (elapsed := time.perf_counter() - started) < seconds:
                if elapsed >= next_sample:
                    _sample(actor, report, started, process.pid)
                    next_sample += sample_every
                if elapsed >= next_trim:
                    t0 = time.perf_counter()
                    LIBC.malloc_trim(0)
                    report.trim_seconds.append(time.perf_counter() - t0)
                    next_trim += trim_every
                if report.modifies_at_warmup < 0 and elapsed >= warmup:
                    report.modifies_at_warmup = report.modifies
                    report.snapshots_at_warmup = report.position_snapshots
                if trace and baseline is None and elapsed >= warmup:
                    baseline = tracemalloc.take_snapshot()
                if containers and lengths is None and elapsed >= warmup:
                    lengths = container_lengths()
                    types = type_counts()
                await asyncio.sleep(0.2)
            _sample(actor, report, started, process.pid)
            if trace and baseline is not None:
                report.top_growth = top_growth(baseline, tracemalloc.take_snapshot())
            if lengths is not None:
                report.grown_containers = grown_containers(lengths)
                after_types = type_counts()
                report.grown_types = [(name, after_types[name], count) for name, count in
                                      (after_types - types).most_common(12)]
                lengths = None
            await flow
            await end_state(node, strategy, endpoints.http_url, report)
            report.deltas = actor.delta_count
            report.resyncs = node.kernel.data_engine._clients[
                next(iter(node.kernel.data_engine._clients))
            ].resyncs
            report.cached_orders = len(node.cache.orders())
            report.client_orders = len(client._orders)
            # Nautilus keeps every fill of an open position (freed only once it closes)
            report.position_fills = sum(p.event_count for p in node.cache.positions_open())
            purge = node.kernel.exec_engine._purge_closed_orders_task
            report.order_purge_alive = not purge or not purge.done()
            if client.purge_guard is not None:
                guard = client.purge_guard
                report.purge_guard = {
                    "position ids restored": guard.restored, "dropped": guard.dropped,
                    "half-purged orders finished": guard.half_purged,
                    "order purge restarts": guard.restarts,
                }
            report.client_maps = {
                "orders": len(client._orders), "by venue id": len(client._by_venue_id),
                "closed kept": len(client._closed), "orphan fills": len(client._orphan_fills),
                "fill ids": len(client._fill_ids),
                "latency samples": sum(len(h) for h in client.metrics.histograms.values()),
                **{f"codec {k}": v for k, v in client.codec.sizes().items()},
            }
        finally:
            await node.stop_async()
            await asyncio.sleep(0.05)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            clear_cached_clients()
            if trace:
                tracemalloc.stop()
    report.interned_bytes = interning_cost()
    after = [s for s in report.samples if s[0] >= warmup]
    half = [s for s in report.samples if s[0] >= seconds / 2]
    report.growth_mb_per_hour = slope_per_hour([(s[0], s[1]) for s in after])
    report.growth_stderr = slope_stderr_per_hour([(s[0], s[1]) for s in after])
    report.half_growth_mb_per_hour = slope_per_hour([(s[0], s[1]) for s in half])
    report.sandbox_growth_mb_per_hour = slope_per_hour([(s[0], s[2]) for s in after])
    report.rss_after_warmup = after[0][1] if after else float("nan")
    heap = [h for h in report.heap if h[0] >= warmup]
    report.malloc_growth_mb_per_hour = slope_per_hour([(h[0], h[1]) for h in heap])
    report.blocks_growth_per_hour = slope_per_hour([(h[0], h[2]) for h in heap])
    report.malloc_free_growth_mb_per_hour = slope_per_hour([(h[0], h[3]) for h in heap])
    mapped = [m for m in report.mappings if m[0] >= warmup]
    if len(mapped) > 1:
        names = (*MAPPING_KINDS, "[stack] and other named maps")
        growth = [(name, mapped[-1][i + 1] / 1024,
                   slope_per_hour([(m[0], m[i + 1] / 1024) for m in mapped]))
                  for i, name in enumerate((*names, *PYMALLOC_KINDS))]
        report.mapping_growth = sorted(growth[:len(names)], key=lambda g: g[2], reverse=True)
        report.mapping_growth += growth[len(names):]
        report.heap_mapped = (mapped[-1][-1] / 1024,
                              slope_per_hour([(m[0], m[-1] / 1024) for m in mapped]))
    print_soak(report, console)
    return report


async def end_state(node: TradingNode, strategy: Strategy, http_url: str,
                    report: SoakReport) -> None:
    """After the final cancels: orders open on the venue and in Nautilus, positions."""
    def settled() -> bool:
        return not node.cache.orders_open(strategy_id=strategy.id) and not any(
            o.is_inflight for o in node.cache.orders(strategy_id=strategy.id)
        )

    await wait(settled, 30.0)
    report.nautilus_open = len(node.cache.orders_open(strategy_id=strategy.id))
    report.nautilus_in_flight = sum(
        1 for o in node.cache.orders(strategy_id=strategy.id) if o.is_inflight
    )
    async with httpx.AsyncClient(base_url=http_url, timeout=30.0) as http:
        # The Indexer shows a cancel a block or two after the node's answer: an order that
        # stays open on the venue for VENUE_SETTLE_S is a real difference
        deadline = time.monotonic() + VENUE_SETTLE_S
        while True:
            orders = (await http.get("/orders", params={
                "address": K1_ADDRESS, "subaccountNumber": 0, "limit": 1000,
                "status": "OPEN,UNTRIGGERED,BEST_EFFORT_OPENED",
            })).json()
            if len(orders) == report.nautilus_open or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.5)
        report.venue_open = len(orders)
        report.venue_open_orders = [
            f"{o.get('clientId')} {o.get('status')} {o.get('orderFlags')} {o.get('type')}"
            for o in orders[:5]
        ]
        sub = (await http.get(f"/addresses/{K1_ADDRESS}/subaccountNumber/0")).json()
    positions = sub["subaccount"]["openPerpetualPositions"]
    for instrument_id in (BTC_PERP, ETH_PERP):
        ticker = instrument_id.symbol.value.removesuffix("-PERP")
        venue = Decimal(positions.get(ticker, {}).get("size", "0"))
        net = net_position(node.cache, instrument_id)
        if venue != net:
            report.position_mismatches.append(f"{ticker} Nautilus {net} != venue {venue}")


def _sample(actor: TimedCollector, report: SoakReport, started: float, pid: int) -> None:
    _take_latencies(actor, report, started)
    actor.forget()
    report.samples.append((
        time.perf_counter() - started, rss_mb(), rss_mb(pid), actor.delta_count, report.orders,
    ))
    in_use, free = malloc_mb()
    report.heap.append((report.samples[-1][0], in_use, sys.getallocatedblocks(), free))
    if len(report.samples) % MAPPINGS_EVERY == 1:  # Reading smaps takes ~15 ms
        kinds, heap_mapped = mapping_rss()
        known = [kinds[k] for k in MAPPING_KINDS]
        report.mappings.append((report.samples[-1][0], *known, sum(kinds.values()) - sum(known),
                                *pymalloc_kb(), heap_mapped))
    if tracemalloc.is_tracing():
        report.traced.append((report.samples[-1][0], tracemalloc.get_traced_memory()[0] / 2**20))


def top_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot,
               limit: int = 15) -> list[tuple[str, int, int]]:
    """The allocation sites that grew most: (site, bytes grown, blocks grown)."""
    ignore = (tracemalloc.Filter(False, tracemalloc.__file__),
              tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"))
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "traceback")
    result = []
    for stat in sorted(stats, key=lambda s: s.size_diff, reverse=True)[:limit]:
        frames = [f"{_short(f.filename)}:{f.lineno}" for f in reversed(stat.traceback)][:3]
        result.append((" < ".join(frames), stat.size_diff, stat.count_diff))
    return result


_CONTAINERS = (dict, set, list, deque)


def live_objects() -> list:
    """
    Every live object the collector can reach: the ones it tracks and, at any depth below them,
    the ones it does not (a dict holding only strings, ints or identifiers is untracked).
    """
    gc.collect()
    tracked = gc.get_objects()
    seen = {id(o) for o in tracked}
    found = []
    stack = [r for o in tracked for r in gc.get_referents(o)]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        found.append(x)
        stack.extend(gc.get_referents(x))
    return tracked + found


def container_lengths() -> dict[int, tuple[type, int]]:
    """The type and length of every live container, tracked or not, by id."""
    return {id(o): (type(o), len(o)) for o in live_objects() if isinstance(o, _CONTAINERS)}


def type_counts() -> Counter:
    """Live objects by type, tracked by the collector or held below one that is."""
    return Counter(type(o).__name__ for o in live_objects())


def grown_containers(before: dict[int, tuple[type, int]],
                     limit: int = 12) -> list[tuple[str, int, int]]:
    """The containers alive at both points that grew most: (owner and kind, length, growth)."""
    grown = []
    for o in live_objects():
        if isinstance(o, _CONTAINERS):
            kind, length = before.get(id(o), (None, 0))
            if kind is type(o) and len(o) > length:
                grown.append((len(o) - length, o))
    grown.sort(key=lambda g: g[0], reverse=True)
    return [(_describe(o), len(o), growth) for growth, o in grown[:limit]]


def _describe(container) -> str:
    # Owner: the object holding it (an instance's attribute name where there is one) and the
    # type of one element, which is usually enough to tell which index it is
    owner = "?"
    for ref in gc.get_referrers(container):
        if isinstance(ref, dict):
            name = next((k for k, v in ref.items() if v is container), None)
            holders = [h for h in gc.get_referrers(ref) if getattr(h, "__dict__", None) is ref]
            if holders:
                owner = f"{type(holders[0]).__name__}.{name}"
                break
            if name is not None and "__name__" in ref:
                owner = f"{ref['__name__']}.{name}"
                break
        elif not isinstance(ref, (*_CONTAINERS, type(gc.get_referrers))) and \
                type(ref).__module__ != "builtins":
            # An instance whose attributes live inline (no dict object) refers to them itself
            attributes = getattr(ref, "__dict__", {})
            name = next((k for k, v in attributes.items() if v is container), None)
            owner = type(ref).__name__ + ("" if name is None else f".{name}")
            break
    item = next(iter(container), None)
    if isinstance(container, dict) and item is not None:
        kinds = f"{type(item).__name__} -> {type(container[item]).__name__}"
        return f"{owner} ({type(container).__name__} {kinds})"
    return f"{owner} ({type(container).__name__} of {type(item).__name__})"


def _short(path: str) -> str:
    for marker in ("site-packages/", "nautilus_dydx/", "tests/"):
        if marker in path:
            return path[path.index(marker):]
    return path.rsplit("/", 1)[-1]


def _take_latencies(actor: TimedCollector, report: SoakReport, started: float) -> None:
    # Message latency from the deltas' own stamps: ts_init (node receipt) - ts_event (block)
    for wall, latency in actor.latencies:
        elapsed = wall - started
        if WARMUP_S <= elapsed < WARMUP_S + WINDOW_S:
            report.message_start.append(latency)
        report.message_end.append(latency)
    actor.latencies.clear()


def interning_cost(count: int = 50_000) -> tuple[float, float, float]:
    """
    RSS bytes per new `ClientOrderId`, `VenueOrderId` and snapshot `PositionId`, now.

    Nautilus 1.221 interns identifier strings for the life of the process: every order costs
    its ids' bytes for good, whatever the adapter does, and so does each snapshot of a
    reopened position (its id and a UUID). Measured here (IDs nothing uses) so the soak can
    tell that share of its growth from the rest.
    """
    costs = []
    for make in (lambda i: ClientOrderId(f"O-20000101-000000-999-999-{i + 1}"),
                 lambda i: VenueOrderId(str(uuid.uuid4())),
                 lambda i: PositionId(f"BTC-USD-PERP.DYDX-SOAK-001-{uuid.uuid4()}")):
        before = rss_mb()
        for i in range(count):
            make(i)
        costs.append((rss_mb() - before) * 2**20 / count)
    return tuple(costs)


def interning_share(report: SoakReport) -> float:
    """MB per hour of the window's RSS growth that its new ids' interning explains."""
    after = [s for s in report.samples if s[0] >= report.warmup]
    if len(after) < 2 or report.modifies_at_warmup < 0:
        return float("nan")
    hours = (after[-1][0] - after[0][0]) / 3600
    orders = after[-1][4] - after[0][4]  # Each: a ClientOrderId, and a VenueOrderId once placed
    modifies = report.modifies - report.modifies_at_warmup
    snapshots = report.position_snapshots - report.snapshots_at_warmup
    client, venue, position = report.interned_bytes
    return (orders * (client + venue) + modifies * venue + snapshots * position) / 2**20 / hours


def print_soak(report: SoakReport, console: Console) -> None:
    rss = Table(title=f"Soak RSS over time ({report.seconds:.0f} s)")
    for column in ("t s", "node RSS MB", "sandbox RSS MB", "deltas", "orders"):
        rss.add_column(column, justify="right")
    step = max(1, len(report.samples) // 15)
    for t, node_mb, sandbox_mb, deltas, orders in report.samples[::step] + report.samples[-1:]:
        rss.add_row(f"{t:.0f}", f"{node_mb:.1f}", f"{sandbox_mb:.1f}", f"{deltas:.0f}",
                    f"{orders:.0f}")
    console.print(rss)
    duration = report.samples[-1][0] if report.samples else float("nan")
    summary = Table(title="Soak summary")
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    warm = f"after {report.warmup:.0f} s warm-up"
    summary.add_row(f"node RSS {warm} (MB)", f"{report.rss_after_warmup:.1f}")
    summary.add_row("node RSS at the end (MB)",
                    f"{report.samples[-1][1]:.1f}" if report.samples else "nan")
    summary.add_row(f"node RSS growth {warm} (MB/hour +- std error, target < 1)",
                    f"{report.growth_mb_per_hour:.2f} +- {report.growth_stderr:.2f}")
    summary.add_row("node RSS growth, 2nd half (MB/hour)",
                    f"{report.half_growth_mb_per_hour:.2f}")
    share = interning_share(report)
    summary.add_row("  Nautilus interning each new id for good: bytes per ClientOrderId / "
                    "VenueOrderId / snapshot PositionId (measured at the end)",
                    "{:.0f} / {:.0f} / {:.0f}".format(*report.interned_bytes))
    summary.add_row(f"  of the growth {warm}: the new ids' interning / the rest (MB/hour)",
                    f"{share:.2f} / {report.growth_mb_per_hour - share:.2f}")
    if report.traced:
        # What Python allocated and still holds; the rest of the RSS growth is native
        traced = [t for t in report.traced if t[0] >= report.warmup]
        summary.add_row(f"Python-allocated (tracemalloc) growth {warm} (MB/hour)",
                        f"{slope_per_hour(traced):.2f}")
    summary.add_row(f"held from malloc (native, Python objects > 512 B): growth {warm} (MB/hour)",
                    f"{report.malloc_growth_mb_per_hour:.2f}")
    summary.add_row(f"free but kept by malloc: MB at the end, growth {warm} (MB/hour)",
                    f"{report.heap[-1][3] if report.heap else float('nan'):.1f}, "
                    f"{report.malloc_free_growth_mb_per_hour:.2f}")
    summary.add_row(f"Python objects alive (allocated blocks): growth {warm} (per hour)",
                    f"{report.blocks_growth_per_hour:,.0f}")
    if report.trim_seconds:
        summary.add_row("malloc_trim calls, ms each (median / max)",
                        f"{len(report.trim_seconds)}, "
                        f"{percentile(report.trim_seconds, 0.5) * 1000:.1f} / "
                        f"{max(report.trim_seconds) * 1000:.1f}")
    for kind, mb, growth in report.mapping_growth:
        if kind in PYMALLOC_KINDS:  # Python's own figures, not a kind of map
            summary.add_row(f"{escape(kind)}: MB at the end, growth {warm} (MB/hour)",
                            f"{mb:.1f}, {growth:+.2f}")
        elif mb >= 1.0 or abs(growth) >= 0.05:
            summary.add_row(f"  RSS in {escape(kind)}: MB at the end, growth {warm} (MB/hour)",
                            f"{mb:.1f}, {growth:+.2f}")
    if report.mapping_growth:
        summary.add_row(f"  malloc main heap, mapped (resident or not): MB at the end, growth "
                        f"{warm} (MB/hour)",
                        f"{report.heap_mapped[0]:.1f}, {report.heap_mapped[1]:+.2f}")
    summary.add_row(f"sandbox RSS growth {warm} (MB/hour)",
                    f"{report.sandbox_growth_mb_per_hour:.2f}")
    summary.add_row("closed orders purged from the cache",
                    "every minute (1 min buffer)" if report.purge else "never")
    summary.add_row("quotes, trades and bars the cache keeps per instrument",
                    f"{report.tick_capacity}")
    if report.purge:
        summary.add_row("Nautilus's order purge loop running at the end",
                        "yes" if report.order_purge_alive else "[red]no[/red]")
        summary.add_row("purge guard", ", ".join(f"{k} {v}" for k, v in
                                                 report.purge_guard.items()) or "not installed")
    summary.add_row("orders in the cache / in the client at the end",
                    f"{report.cached_orders} / {report.client_orders}")
    summary.add_row("fills kept by Nautilus's open positions at the end",
                    str(report.position_fills))
    summary.add_row("client maps at the end",
                    ", ".join(f"{k} {v}" for k, v in report.client_maps.items() if v))
    summary.add_row("book delta messages / s", f"{report.deltas / duration:.1f}")
    summary.add_row(f"orders sent / s (execution client, target {report.rate:g})",
                    f"{report.orders / duration:.1f}")
    summary.add_row("fills", str(report.fills))
    summary.add_row("closing IOCs (round trips)" if report.round_trip else
                    "closing IOCs (none: one-sided flow, positions never close)",
                    str(report.closes))
    summary.add_row("positions reopened while still cached (Nautilus snapshots each)",
                    str(report.position_snapshots))
    summary.add_row("WebSocket drops injected (control errors)",
                    f"{report.ws_drops} ({report.ws_drop_errors})")
    summary.add_row("orders rejected, denied or refused a modify/cancel",
                    str(report.order_failures))
    summary.add_row("orders still awaiting acceptance when the flow stopped",
                    str(report.in_flight_at_end))
    summary.add_row("after the final cancels: open on the venue / open, in flight in Nautilus",
                    f"{report.venue_open} / {report.nautilus_open}, {report.nautilus_in_flight}")
    if report.venue_open_orders:
        summary.add_row("still open on the venue (client id, status, flags, type)",
                        "; ".join(report.venue_open_orders))
    summary.add_row("positions equal the venue's",
                    "yes" if not report.position_mismatches else
                    "; ".join(report.position_mismatches))
    summary.add_row("book resyncs", str(report.resyncs))
    for name, start, end in (
        ("block-to-strategy ms", report.message_start, list(report.message_end)),
        ("order command-to-accepted ms", report.order_start, list(report.order_end)),
    ):
        for label, values in (("start", start), ("end", end[-len(start) or None:])):
            ms = [v * 1000 for v in values]
            p50, p95, p99 = (percentile(ms, q) for q in (0.5, 0.95, 0.99))
            summary.add_row(f"{name} {label} p50/p95/p99", f"{p50:.2f} / {p95:.2f} / {p99:.2f}")
    console.print(summary)
    for reason, count in report.failure_reasons.most_common(5):
        console.print(f"  order not accepted x{count}: {reason}", highlight=False)
    if report.top_growth:
        growth = Table(title="tracemalloc: allocation sites grown after the warm-up")
        for column in ("site (innermost first)", "KiB", "blocks"):
            growth.add_column(column, justify="left" if column.startswith("site") else "right")
        for site, size, count in report.top_growth:
            growth.add_row(site, f"{size / 1024:.1f}", str(count))
        console.print(growth)
    if report.grown_containers:
        grown = Table(title="containers grown after the warm-up")
        for column in ("owner (container: element)", "length at the end", "grown by"):
            grown.add_column(column, justify="left" if column.startswith("owner") else "right")
        for name, length, growth in report.grown_containers:
            grown.add_row(name, f"{length:,}", f"{growth:,}")
        console.print(grown)
    if report.grown_types:
        types = Table(title="object types grown after the warm-up")
        for column in ("type", "alive at the end", "grown by"):
            types.add_column(column, justify="left" if column == "type" else "right")
        for name, alive, growth in report.grown_types:
            types.add_row(name, f"{alive:,}", f"{growth:,}")
        console.print(types)
