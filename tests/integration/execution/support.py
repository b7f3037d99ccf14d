# SPDX-License-Identifier: Apache-2.0
"""A Nautilus live execution engine, risk engine and strategy wired to the sandbox venue."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from decimal import Decimal

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LiveRiskEngineConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.live.execution_engine import LiveExecutionEngine
from nautilus_trader.live.risk_engine import LiveRiskEngine
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.portfolio.portfolio import Portfolio
from nautilus_trader.trading.strategy import Strategy

from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.execution import DYDXExecutionClient
from nautilus_dydx.factories import clear_cached_clients
from nautilus_dydx.factories import DYDXLiveExecClientFactory
from nautilus_dydx.sandbox.indexer import IndexerSandbox
from nautilus_dydx.sandbox.indexer_ws import WsSettings
from tests.integration.sandbox.helpers import CHAIN_ID
from tests.integration.sandbox.helpers import K1_PRIVATE_KEY
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.test_indexer_support import wait_for


BTC_PERP = InstrumentId.from_str("BTC-USD-PERP.DYDX")
ETH_PERP = InstrumentId.from_str("ETH-USD-PERP.DYDX")


def run(coro, timeout: float = 90.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


@contextlib.asynccontextmanager
async def venue(**overrides) -> AsyncIterator[IndexerSandbox]:
    overrides.setdefault("auto_blocks", True)
    overrides.setdefault("block_time_ms", 100)
    overrides.setdefault("short_term_rate_limits", ((1, 1_000_000),))
    interceptors = overrides.pop("interceptors", None)
    sandbox = IndexerSandbox(
        make_config(**overrides), ws_settings=WsSettings(batch_interval_s=0.05), rate_limit=None,
    )
    if interceptors:
        from nautilus_dydx.sandbox.faults import FaultInterceptor
        from nautilus_dydx.sandbox.node import SandboxNode

        sandbox.node = SandboxNode(
            sandbox.node.config, interceptors=[FaultInterceptor(sandbox.faults), *interceptors],
        )
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


class Node:
    """The pieces of a trading node an execution test needs, with recorded order events."""

    def __init__(self, client: DYDXExecutionClient, strategy: Strategy, cache: Cache,
                 engines: list) -> None:
        self.client = client
        self.strategy = strategy
        self.cache = cache
        self.engines = engines
        self.events: list = []

    def of(self, client_order_id) -> list[str]:
        return [
            type(e).__name__ for e in self.events if e.client_order_id == client_order_id
        ]

    def kinds(self, client_order_id) -> list:
        return [e for e in self.events if e.client_order_id == client_order_id]

    async def wait(self, condition, timeout: float = 10.0) -> None:
        await wait_for(condition, timeout)

    def limit(self, side, quantity: str, price: str, **kwargs):
        return self.strategy.order_factory.limit(
            kwargs.pop("instrument_id", BTC_PERP), side,
            self.cache.instrument(BTC_PERP).make_qty(Decimal(quantity)),
            self.cache.instrument(BTC_PERP).make_price(Decimal(price)), **kwargs,
        )

    async def accepted_limit(self, side, quantity: str, price: str, **kwargs):
        """Submit a limit order (as `limit`) and return it once the venue accepted it."""
        order = self.limit(side, quantity, price, **kwargs)
        self.strategy.submit_order(order)
        await self.wait(lambda: order.status == OrderStatus.ACCEPTED)
        return order


def exec_config(sandbox: IndexerSandbox, state_dir: str, **kwargs) -> DYDXExecClientConfig:
    kwargs.setdefault("private_key", K1_PRIVATE_KEY)
    kwargs.setdefault("grpc_endpoints", [sandbox.grpc_endpoint])
    return DYDXExecClientConfig(
        network="sandbox",
        base_url_http=sandbox.http_url,
        base_url_ws=sandbox.ws_url,
        chain_id=CHAIN_ID,
        state_dir=state_dir,
        http_rate_limit_per_10s=100_000,
        **kwargs,
    )


@contextlib.asynccontextmanager
async def trading_node(
    sandbox: IndexerSandbox,
    state_dir: str | None = None,
    reconcile: bool = False,
    cache: Cache | None = None,
    config: dict | None = None,
    engine_config: LiveExecEngineConfig | None = None,
) -> AsyncIterator[Node]:
    clear_cached_clients()
    loop = asyncio.get_running_loop()
    tmp = None
    if state_dir is None:
        tmp = tempfile.TemporaryDirectory()
        state_dir = tmp.name
    clock = LiveClock()
    trader_id = TraderId("TESTER-001")
    msgbus = MessageBus(trader_id, clock)
    cache = cache if cache is not None else Cache()
    portfolio = Portfolio(msgbus, cache, clock)
    exec_engine = LiveExecutionEngine(
        loop, msgbus, cache, clock, engine_config or LiveExecEngineConfig(reconciliation=False),
    )
    risk_config = LiveRiskEngineConfig(
        max_order_submit_rate="1000/00:00:01", max_order_modify_rate="1000/00:00:01",
    )
    risk_engine = LiveRiskEngine(loop, portfolio, msgbus, cache, clock, risk_config)
    config = exec_config(sandbox, state_dir, **(config or {}))
    client = DYDXLiveExecClientFactory.create(loop, "DYDX", config, msgbus, cache, clock)
    exec_engine.register_client(client)
    strategy = Strategy(StrategyConfig(
        strategy_id="S-001", order_id_tag="001", external_order_claims=[str(BTC_PERP)],
    ))
    strategy.register(trader_id, portfolio, msgbus, cache, clock)
    exec_engine.register_external_order_claims(strategy)
    node = Node(client, strategy, cache, [exec_engine, risk_engine])
    msgbus.subscribe("events.order.*", node.events.append)
    exec_engine.start()
    risk_engine.start()
    await client._connect()
    client._set_connected(True)
    if reconcile:
        assert await exec_engine.reconcile_execution_state()
    strategy.start()
    try:
        yield node
    finally:
        strategy.stop()
        await client._disconnect()
        exec_engine.stop()
        risk_engine.stop()
        await asyncio.sleep(0)
        if client.codec is not None:
            client.codec.store.close()
        await client._node.close()
        await client._http.close()
        clear_cached_clients()
        if tmp is not None:
            tmp.cleanup()
