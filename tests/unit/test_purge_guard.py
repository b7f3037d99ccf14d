# SPDX-License-Identifier: Apache-2.0
"""`PurgeGuard`: Nautilus's order purge survives the purge of a position its orders name."""

from __future__ import annotations

import asyncio

import pytest
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.live.execution_engine import LiveExecutionEngine
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import AccountState
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderSubmitted
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.objects import AccountBalance
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.portfolio.portfolio import Portfolio
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from nautilus_dydx.common.purge_guard import TASK_NAME
from nautilus_dydx.common.purge_guard import PurgeGuard


MINUTE = 60_000_000_000
INSTRUMENT = TestInstrumentProvider.btcusdt_perp_binance()
TRADER = TraderId("TRADER-001")
STRATEGY = StrategyId("S-001")
ACCOUNT = AccountId("BINANCE-001")


class Rig:
    """A live engine and its cache; a round trip opens and closes one NETTING position."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.clock = TestClock()
        self.clock.set_time(MINUTE)
        msgbus = MessageBus(trader_id=TRADER, clock=self.clock)
        self.cache = Cache()
        self.cache.add_instrument(INSTRUMENT)
        self.engine = LiveExecutionEngine(
            loop=loop, msgbus=msgbus, cache=self.cache, clock=self.clock,
            config=LiveExecEngineConfig(
                reconciliation=False,
                purge_closed_orders_interval_mins=1, purge_closed_orders_buffer_mins=1,
                purge_closed_positions_interval_mins=1, purge_closed_positions_buffer_mins=0,
            ),
        )
        portfolio = Portfolio(msgbus=msgbus, cache=self.cache, clock=self.clock)
        usdt = INSTRUMENT.quote_currency
        portfolio.update_account(AccountState(
            ACCOUNT, AccountType.MARGIN, None, True,
            [AccountBalance(Money(1_000_000, usdt), Money(0, usdt), Money(1_000_000, usdt))],
            [], {}, UUID4(), MINUTE, MINUTE,
        ))
        self.factory = OrderFactory(trader_id=TRADER, strategy_id=STRATEGY, clock=self.clock)
        self.seq = 0

    def fill(self, side: OrderSide):
        order = self.factory.limit(INSTRUMENT.id, side, Quantity.from_str("0.010"),
                                   Price.from_str("50000.0"), time_in_force=TimeInForce.IOC)
        self.cache.add_order(order)
        self.seq += 1
        ts = self.clock.timestamp_ns()
        venue_order_id = VenueOrderId(f"V-{self.seq}")
        for event in (
            OrderSubmitted(TRADER, STRATEGY, INSTRUMENT.id, order.client_order_id, ACCOUNT,
                           UUID4(), ts, ts),
            OrderAccepted(TRADER, STRATEGY, INSTRUMENT.id, order.client_order_id,
                          venue_order_id, ACCOUNT, UUID4(), ts, ts),
            OrderFilled(TRADER, STRATEGY, INSTRUMENT.id, order.client_order_id, venue_order_id,
                        ACCOUNT, TradeId(f"T-{self.seq}"), None, side, order.order_type,
                        order.quantity, order.price, INSTRUMENT.quote_currency,
                        Money(0.01, INSTRUMENT.quote_currency), LiquiditySide.TAKER, UUID4(),
                        ts, ts),
        ):
            self.engine._handle_event(event)
        return order

    def round_trip(self) -> list:
        return [self.fill(OrderSide.BUY), self.fill(OrderSide.SELL)]

    def advance(self, minutes: float) -> int:
        self.clock.set_time(self.clock.timestamp_ns() + int(minutes * MINUTE))
        return self.clock.timestamp_ns()


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def test_nautilus_order_purge_raises_once_the_position_is_purged_and_the_guard_mends(loop):
    rig = Rig(loop)
    orders = rig.round_trip()
    position_id = orders[0].position_id
    assert rig.cache.position(position_id).is_closed
    guard = PurgeGuard(rig.engine, rig.cache)
    guard._find()  # While the position is cached
    assert guard._index is not None
    # The engine's loops as configured: the flat position goes at once, its orders a minute on
    rig.cache.purge_closed_positions(rig.advance(0.5), 0)
    assert rig.cache.position(position_id) is None
    with pytest.raises(KeyError):  # The error that ends Nautilus 1.221's order purge loop
        rig.cache.purge_closed_orders(rig.advance(1), 60)
    # The first order the purge reached is half-removed: gone, yet still indexed as closed
    gone = [o.client_order_id for o in orders if rig.cache.order(o.client_order_id) is None]
    assert len(gone) == 1 and gone[0] in rig.cache.client_order_ids_closed()

    guard.mend()
    assert (guard.half_purged, guard.restored) == (1, 1)
    assert gone[0] not in rig.cache.client_order_ids_closed()
    rig.cache.purge_closed_orders(rig.advance(1), 60)
    assert rig.cache.orders() == [] and rig.cache.client_order_ids_closed() == set()
    guard.mend()  # No order names the position any more: its empty entry goes
    assert guard.dropped == 1 and position_id not in guard._index


def test_positions_purged_through_the_guard_never_break_the_order_purge(loop):
    rig = Rig(loop)
    guard = PurgeGuard(rig.engine, rig.cache)
    for _ in range(3):
        orders = rig.round_trip()
        guard.purge_positions(rig.advance(0.5), 0)
        assert rig.cache.position(orders[0].position_id) is None
        rig.cache.purge_closed_orders(rig.advance(1), 60)  # Raises without the guard
        assert rig.cache.orders() == []
    guard.mend()
    assert (guard.restored, guard.half_purged) == (3, 0)
    assert guard._index == {}  # The reopened position's entry went each time


def test_a_reopened_position_keeps_its_orders_indexed(loop):
    rig = Rig(loop)
    guard = PurgeGuard(rig.engine, rig.cache)
    first = rig.round_trip()
    guard.purge_positions(rig.advance(0.5), 0)
    second = rig.fill(OrderSide.BUY)  # NETTING: the same position ID opens again
    assert second.position_id == first[0].position_id
    assert rig.cache.orders_for_position(second.position_id) == [second]
    rig.cache.purge_closed_orders(rig.advance(0.5), 60)  # The first round trip's orders only
    assert rig.cache.orders() == [second]
    assert rig.cache.orders_for_position(second.position_id) == [second]
    assert rig.cache.position(second.position_id).is_open


def test_the_index_is_found_from_a_position_whose_first_order_is_purged(loop):
    rig = Rig(loop)
    first = rig.fill(OrderSide.BUY)
    rig.cache.purge_closed_orders(rig.advance(2), 60)  # Filled, so purged; the position is open
    rig.fill(OrderSide.BUY)
    position = rig.cache.position(first.position_id)
    assert position.client_order_ids[0] == first.client_order_id  # Purged, still listed
    guard = PurgeGuard(rig.engine, rig.cache)
    guard._find()
    assert guard._index is not None and set(guard._index) == {position.id}


def test_install_takes_over_the_position_loop_once_and_revives_a_dead_order_loop(loop):
    rig = Rig(loop)

    async def scenario() -> None:
        engine = rig.engine
        nautilus = loop.create_task(engine._purge_closed_positions_loop(1))
        engine._purge_closed_positions_task = nautilus
        guard = PurgeGuard.install(rig.cache, loop)
        assert guard is not None
        assert engine._purge_closed_positions_task.get_name() == TASK_NAME
        assert PurgeGuard.install(rig.cache, loop) is None  # Once per engine
        await asyncio.sleep(0)
        assert nautilus.cancelled()

        async def ended() -> None:  # As Nautilus's loop ends after logging an exception
            return None

        engine._purge_closed_orders_task = loop.create_task(ended())
        await asyncio.sleep(0)
        guard.revive_order_purge()
        revived = engine._purge_closed_orders_task
        assert guard.restarts == 1 and not revived.done()
        assert revived.get_coro().__name__ == "_purge_closed_orders_loop"
        guard.revive_order_purge()  # Alive: left alone
        assert guard.restarts == 1 and engine._purge_closed_orders_task is revived
        # A stopped and restarted engine starts its own loop again: installed again
        ours = engine._purge_closed_positions_task
        ours.cancel()
        engine._purge_closed_positions_task = loop.create_task(
            engine._purge_closed_positions_loop(1))
        assert PurgeGuard.install(rig.cache, loop) is not None
        assert engine._purge_closed_positions_task.get_name() == TASK_NAME
        for task in (revived, engine._purge_closed_positions_task):
            task.cancel()
        await asyncio.gather(revived, ours, engine._purge_closed_positions_task,
                             return_exceptions=True)

    loop.run_until_complete(scenario())


def test_nothing_is_installed_without_a_position_purge(loop):
    cache = Cache()
    assert PurgeGuard.install(cache, loop) is None  # No engine at all
    engine = LiveExecutionEngine(loop=loop, msgbus=MessageBus(TRADER, TestClock()), cache=cache,
                                 clock=TestClock(), config=LiveExecEngineConfig())
    assert engine.purge_closed_positions_interval_mins is None
    assert PurgeGuard.install(cache, loop) is None
