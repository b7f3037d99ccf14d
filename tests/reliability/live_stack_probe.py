# SPDX-License-Identifier: Apache-2.0
"""
What Nautilus's live stack keeps per order action, with no adapter and no venue.

A `TradingNode` (live execution and risk engines, portfolio, cache, message bus) runs a
strategy against an execution client that answers every command at once: resting bids it
cancels, IOC round trips that fill, and modifies under the same venue order ID. The cache is
purged before each measurement, so what stays is what the stack keeps.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import uuid
from collections import deque
from datetime import timedelta

from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.config import CacheConfig
from nautilus_trader.config import LiveExecClientConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LiveRiskEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.execution_client import LiveExecutionClient
from nautilus_trader.live.factories import LiveExecClientFactory
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.objects import AccountBalance
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.strategy import Strategy

from tests.reliability.soak import rss_mb


INSTRUMENT = TestInstrumentProvider.btcusdt_perp_binance()
USDT = INSTRUMENT.quote_currency
TICK = timedelta(milliseconds=5)


class InstantVenue(LiveExecutionClient):
    """Accepts every order at once, fills IOCs in full, applies modifies and cancels."""

    def __init__(self, loop, msgbus, cache, clock) -> None:
        provider = InstrumentProvider()
        provider.add(INSTRUMENT)
        super().__init__(
            loop=loop, client_id=ClientId(INSTRUMENT.venue.value), venue=INSTRUMENT.venue,
            oms_type=OmsType.NETTING, account_type=AccountType.MARGIN, base_currency=None,
            instrument_provider=provider, msgbus=msgbus, cache=cache, clock=clock,
        )
        self._set_account_id(AccountId(f"{INSTRUMENT.venue.value}-001"))

    def _account(self) -> None:
        balance = AccountBalance(Money(1_000_000, USDT), Money(0, USDT), Money(1_000_000, USDT))
        self.generate_account_state([balance], [], True, self._clock.timestamp_ns())

    async def _connect(self) -> None:
        self._account()

    async def _disconnect(self) -> None:
        return None

    async def _submit_order(self, command) -> None:
        order = command.order
        ts = self._clock.timestamp_ns()
        ids = (order.strategy_id, order.instrument_id, order.client_order_id)
        self.generate_order_submitted(*ids, ts)
        venue_order_id = VenueOrderId(str(uuid.uuid4()))
        self.generate_order_accepted(*ids, venue_order_id, ts)
        if order.time_in_force == TimeInForce.IOC:
            self.generate_order_filled(
                *ids, venue_order_id, None, TradeId(str(uuid.uuid4())), order.side,
                order.order_type, order.quantity, order.price, USDT, Money(0.01, USDT),
                LiquiditySide.TAKER, ts,
            )
            self._account()

    async def _cancel_order(self, command) -> None:
        order = self._cache.order(command.client_order_id)
        self.generate_order_canceled(order.strategy_id, order.instrument_id,
                                     order.client_order_id, order.venue_order_id,
                                     self._clock.timestamp_ns())

    async def _modify_order(self, command) -> None:
        order = self._cache.order(command.client_order_id)
        self.generate_order_updated(order.strategy_id, order.instrument_id,
                                    order.client_order_id, order.venue_order_id,
                                    order.quantity, command.price, None,
                                    self._clock.timestamp_ns())

    async def _cancel_all_orders(self, command) -> None:
        return None

    async def generate_order_status_reports(self, command) -> list:
        return []

    async def generate_fill_reports(self, command) -> list:
        return []

    async def generate_position_status_reports(self, command) -> list:
        return []

    async def generate_order_status_report(self, command) -> None:
        return None


class InstantVenueFactory(LiveExecClientFactory):
    @staticmethod
    def create(loop, name, config, msgbus, cache, clock) -> InstantVenue:
        return InstantVenue(loop, msgbus, cache, clock)


class Cycle(Strategy):
    """Per four ticks: a bid canceled later, an IOC round trip, a bid modified then canceled."""

    def __init__(self) -> None:
        super().__init__(StrategyConfig(strategy_id="S-001", order_id_tag="001"))
        self.actions = 0
        self._resting: deque = deque()
        self._openers: set = set()
        self._modified: set = set()

    def on_start(self) -> None:
        self.clock.set_timer("tick", TICK, callback=self._tick)

    def _limit(self, side: OrderSide, price: float, tif: TimeInForce = TimeInForce.GTC):
        return self.order_factory.limit(INSTRUMENT.id, side, Quantity.from_str("0.010"),
                                        Price(price, 1), time_in_force=tif)

    def _tick(self, event) -> None:
        step = self.actions % 4
        self.actions += 1
        if step == 0:
            order = self._limit(OrderSide.BUY, 1000.0)
            self._resting.append(order.client_order_id)
        elif step == 1:
            if len(self._resting) > 4:
                order = self.cache.order(self._resting.popleft())
                if order is not None and order.is_open:
                    self.cancel_order(order)
            return
        elif step == 2:
            order = self._limit(OrderSide.BUY, 50000.0, TimeInForce.IOC)
            self._openers.add(order.client_order_id)
        else:
            order = self._limit(OrderSide.BUY, 1001.0)
            self._modified.add(order.client_order_id)
        self.submit_order(order)

    def on_order_accepted(self, event) -> None:
        if event.client_order_id in self._modified:
            self.modify_order(self.cache.order(event.client_order_id), price=Price(1002.0, 1))

    def on_order_updated(self, event) -> None:
        if event.client_order_id in self._modified:
            self._modified.discard(event.client_order_id)
            self.cancel_order(self.cache.order(event.client_order_id))

    def on_order_filled(self, event) -> None:
        if event.client_order_id in self._openers:  # Close the position at once
            self._openers.discard(event.client_order_id)
            self.submit_order(self._limit(OrderSide.SELL, 49000.0, TimeInForce.IOC))


async def _run(count: int) -> None:
    loop = asyncio.get_running_loop()
    node = TradingNode(config=TradingNodeConfig(
        trader_id="PROBE-001", logging=LoggingConfig(log_level="ERROR"),
        exec_clients={INSTRUMENT.venue.value: LiveExecClientConfig()},
        exec_engine=LiveExecEngineConfig(reconciliation=False),
        cache=CacheConfig(tick_capacity=100, bar_capacity=100),
        # The throttlers keep one timestamp per order up to their limit: 1,000 fills at once
        risk_engine=LiveRiskEngineConfig(max_order_submit_rate="1000/00:00:01",
                                         max_order_modify_rate="1000/00:00:01"),
    ), loop=loop)
    node.add_exec_client_factory(INSTRUMENT.venue.value, InstantVenueFactory)
    strategy = Cycle()
    node.trader.add_strategy(strategy)
    node.build()
    node.cache.add_instrument(INSTRUMENT)
    task = loop.create_task(node.run_async())

    def purge() -> None:  # As the engine's purge loops would, every second
        ts = node.kernel.clock.timestamp_ns()
        node.cache.purge_closed_orders(ts, 0)
        node.cache.purge_closed_positions(ts, 0)
        node.cache.purge_account_events(ts, 0)

    async def settled_after(actions: int) -> tuple[int, float, int]:
        while strategy.actions < actions:
            await asyncio.sleep(1.0)
            purge()
        purge()
        gc.collect()
        return strategy.actions, rss_mb(), sys.getallocatedblocks()

    try:
        a0, rss0, blocks0 = await settled_after(count // 5)
        a1, rss1, blocks1 = await settled_after(count // 5 + count)
    finally:
        await node.stop_async()
        try:
            await asyncio.wait_for(task, 5.0)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
    n = a1 - a0
    # Per four actions: four new orders (ClientOrderId, VenueOrderId) and one reopening of the
    # position (a snapshot PositionId), each interned for good; nothing else should stay
    print(f"{'Nautilus live stack':28s} {n:>9} actions  {(rss1 - rss0) * 2**20 / n:8.1f} B/action "
          f"RSS  {(blocks1 - blocks0) / n:8.4f} Python blocks/action  "
          f"(8 new ids and 1 snapshot id per 4 actions)", flush=True)


def live_stack(count: int) -> None:
    asyncio.run(_run(count))
