# SPDX-License-Identifier: Apache-2.0
"""The reliability rig: sandbox with agents, a TradingNode with the data client, a sender."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator
from collections.abc import Callable

import grpc
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode

from nautilus_dydx import DYDX
from nautilus_dydx import DYDXLiveDataClientFactory
from nautilus_dydx.factories import clear_cached_clients
from nautilus_dydx.grpc import DYDXNodeClient
from nautilus_dydx.grpc import DYDXTransactionSender
from nautilus_dydx.sandbox import AccountConfig
from nautilus_dydx.sandbox.agents import AgentConfig
from nautilus_dydx.sandbox.agents import MarketAgents
from nautilus_dydx.sandbox.faults import FaultInterceptor
from nautilus_dydx.sandbox.indexer import IndexerSandbox
from nautilus_dydx.sandbox.indexer_ws import WsSettings
from nautilus_dydx.sandbox.node import SandboxNode
from tests.integration.data.support import BTC
from tests.integration.data.support import ETH
from tests.integration.data.support import PEPE
from tests.integration.data.support import Collector
from tests.integration.data.support import book_levels
from tests.integration.data.support import data_client
from tests.integration.data.support import data_config
from tests.integration.data.support import expected_levels
from tests.integration.data.support import indexer_levels
from tests.integration.data.support import rest_levels
from tests.integration.data.support import sandbox_config
from tests.integration.sandbox.helpers import CHAIN_ID
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_PRIVATE_KEY
from tests.integration.transport.support import alice


TICKERS = {BTC: "BTC-USD", ETH: "ETH-USD", PEPE: "PEPE-USD"}
# The Indexer's book snapshot holds the top 100 levels per side (protocol §2.6, §3.8): after a
# resync a client knows deeper levels only once an update touches them
SNAPSHOT_DEPTH = 100
# Seconds between manual blocks while the flow runs (20 blocks/s)
FLOW_INTERVAL_S = 0.05


def closed_port_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


class LoseAnswers(grpc.aio.ServerInterceptor):
    """Run BroadcastTx (CheckTx happens) but lose the answer while armed."""

    def __init__(self) -> None:
        self.armed = 0

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or "BroadcastTx" not in handler_call_details.method:
            return handler
        inner = handler.unary_unary

        async def behaviour(request, context):
            response = await inner(request, context)
            if self.armed:
                self.armed -= 1
                await context.abort(grpc.StatusCode.UNAVAILABLE, "answer lost")
            return response

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class TimedCollector(Collector):
    """The data collector, also timing the first deltas after each block (block-to-strategy)."""

    def __init__(self) -> None:
        super().__init__(tuple(TICKERS))
        self.block_started: float | None = None
        self.latencies: list[tuple[float, float]] = []  # (wall time, seconds)
        self.delta_count = 0
        # Time from the block stamp (ts_event) to receipt, instead of in-process blocks
        self.use_stamps = False

    def on_order_book_deltas(self, deltas) -> None:
        super().on_order_book_deltas(deltas)
        self.delta_count += 1
        if self.use_stamps:
            # The sandbox follows the wall clock: ts_event is the block's commit time
            latency = (time.time_ns() - deltas.ts_event) / 1e9
            self.latencies.append((time.perf_counter(), latency))
            return
        started = self.block_started
        if started is not None:
            now = time.perf_counter()
            self.latencies.append((now, now - started))
            self.block_started = None

    def forget(self) -> None:
        # Keep memory flat over long runs: only the books and counters matter here
        self.received.clear()


class Rig:
    """A running sandbox (agents, faults), a TradingNode with the data client and a sender."""

    def __init__(self, sandbox: IndexerSandbox, node: TradingNode, actor: TimedCollector,
                 rpc: DYDXNodeClient, sender: DYDXTransactionSender,
                 answers: LoseAnswers) -> None:
        self.sandbox = sandbox
        self.node = node
        self.actor = actor
        self.rpc = rpc
        self.sender = sender
        self.answers = answers
        self.errors: list[str] = []
        self.accepted = Counter()
        self._flow: asyncio.Task | None = None
        self.blocks = 0
        chain = sandbox.node.chain
        original = chain.check_tx

        # Count accepted CheckTx of the trading account by tx: "never placed twice" oracle
        def counting_check_tx(tx: bytes, *args, **kwargs):
            result = original(tx, *args, **kwargs)
            if result.code == 0 and not kwargs.get("simulate") and self._is_ours(tx):
                self.accepted["K1"] += 1
            return result

        self._ours = alice().public_key
        chain.check_tx = counting_check_tx

    def _is_ours(self, tx: bytes) -> bool:
        return self._ours in tx

    @property
    def client(self):
        return data_client(self.node)

    def step(self, count: int = 1) -> None:
        self.actor.block_started = time.perf_counter()
        self.sandbox.node.step_blocks(count)
        self.blocks += count

    def start_flow(self) -> None:
        if self._flow is None:
            self._flow = asyncio.get_running_loop().create_task(self._run_flow())

    async def stop_flow(self) -> None:
        task, self._flow = self._flow, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run_flow(self) -> None:
        while True:
            self.step(1)
            await asyncio.sleep(FLOW_INTERVAL_S)

    def books_equal_node(self) -> bool:
        return all(
            side_matches(mine, theirs)
            for i, t in TICKERS.items()
            for mine, theirs in zip(book_levels(self.actor, i), expected_levels(self.sandbox, t))
        )

    def book_difference(self) -> str:
        """Where the strategy's books differ from the node's: the first differing level each."""
        notes = []
        for instrument_id, ticker in TICKERS.items():
            ours = book_levels(self.actor, instrument_id)
            venue = tuple(expected_levels(self.sandbox, ticker))
            for side, mine, theirs in zip(("bids", "asks"), ours, venue, strict=True):
                if side_matches(mine, theirs):
                    continue
                index = next(
                    (i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b),
                    min(len(mine), len(theirs)),
                )
                notes.append(
                    f"{ticker} {side}: {len(mine)} vs {len(theirs)} levels, first difference at "
                    f"{index}: {mine[index:index + 1]} vs {theirs[index:index + 1]}",
                )
        # Whether the Indexer itself still agrees with the node (a sandbox-side divergence) or
        # the strategy's book went wrong against both
        indexer = {
            ticker: indexer_levels(self.sandbox, ticker)
            == tuple(expected_levels(self.sandbox, ticker))
            for ticker in TICKERS.values()
        }
        client = self.client
        notes.append(
            f"Indexer equals node: {indexer}; client gaps={client._ws.gaps} "
            f"resyncs={client._ws.resyncs}",
        )
        return "; ".join(notes)

    async def books_equal_rest(self) -> bool:
        http = self.client._http
        for instrument_id, ticker in TICKERS.items():
            rest = await http.get_orderbook(ticker)
            bids, asks = book_levels(self.actor, instrument_id)
            if (bids[:SNAPSHOT_DEPTH], asks[:SNAPSHOT_DEPTH]) != rest_levels(rest):
                return False
        return True

    def crossed(self) -> int:
        return len(self.actor.crossed_books) + len(self.actor.crossed_quotes)


def side_matches(mine: list[tuple[int, int]], theirs: list[tuple[int, int]]) -> bool:
    """
    One side of the strategy's book against the venue's, as far as a client can know it.

    The top `SNAPSHOT_DEPTH` levels must be equal; every deeper level the client holds must
    have the venue's size at its price (deeper venue levels it never heard of are allowed).
    """
    if mine[:SNAPSHOT_DEPTH] != theirs[:SNAPSHOT_DEPTH]:
        return False
    deep = dict(theirs[SNAPSHOT_DEPTH:])
    return all(deep.get(price) == size for price, size in mine[SNAPSHOT_DEPTH:])


def rig_config(**overrides):
    values = dict(
        accounts=(AccountConfig(private_key=K1_PRIVATE_KEY, account_number=12345),),
        chain_id=CHAIN_ID,
        short_term_rate_limits=((1, 1_000_000),),
        stateful_rate_limits=((1, 1_000_000),),
    )
    values.update(overrides)
    return sandbox_config(**values)


@contextlib.asynccontextmanager
async def running_rig(levels: int = 30, **config_overrides) -> AsyncIterator[Rig]:
    answers = LoseAnswers()
    sandbox = IndexerSandbox(
        rig_config(**config_overrides), ws_settings=WsSettings(batch_interval_s=0.05),
        rate_limit=None,
    )
    sandbox.node = SandboxNode(
        sandbox.node.config, interceptors=[FaultInterceptor(sandbox.faults), answers],
    )
    await sandbox.start()
    sandbox.agents = MarketAgents(sandbox.node, AgentConfig(levels=levels, requote_every=3))
    sandbox.agents.start()
    loop = asyncio.get_running_loop()
    errors: list[str] = []
    previous_handler = loop.get_exception_handler()

    def on_loop_error(_loop, context: dict) -> None:
        errors.append(f"{context.get('message')}: {context.get('exception')!r}")

    loop.set_exception_handler(on_loop_error)
    clear_cached_clients()
    actor = TimedCollector()
    node = TradingNode(
        config=TradingNodeConfig(
            trader_id="RELIABILITY-001",
            logging=LoggingConfig(log_level="ERROR"),
            data_clients={DYDX: data_config(sandbox)},
        ),
        loop=loop,
    )
    node.add_data_client_factory(DYDX, DYDXLiveDataClientFactory)
    node.trader.add_actor(actor)
    node.build()
    task = loop.create_task(node.run_async())
    rpc = DYDXNodeClient([sandbox.grpc_endpoint], timeout_secs=2.0, max_retries=1,
                         retry_delay_initial_ms=20, retry_delay_max_ms=50)
    await rpc.__aenter__()
    sender = DYDXTransactionSender(rpc, alice(), CHAIN_ID)
    rig = Rig(sandbox, node, actor, rpc, sender, answers)
    rig.errors = errors
    try:
        await wait(lambda: node.is_running() and actor.is_running, 30.0)
        await sender.start()
        yield rig
    finally:
        await rig.stop_flow()
        await rpc.__aexit__(None, None, None)
        await node.stop_async()
        await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        clear_cached_clients()
        await sandbox.stop()
        loop.set_exception_handler(previous_handler)


async def wait(condition: Callable[[], bool], timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


__all__ = ["K1_ADDRESS", "Rig", "closed_port_endpoint", "running_rig", "wait"]
