# SPDX-License-Identifier: Apache-2.0
"""Synthetic order events for the demo summary tests, built with Nautilus's own factories."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.common.component import TestClock
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity


BTC = InstrumentId.from_str("BTC-USD-PERP.DYDX")
ACCOUNT = AccountId("DYDX-001")


_FACTORY = OrderFactory(TraderId("TESTER-001"), StrategyId("S-001"), TestClock())


def factory() -> OrderFactory:
    # One factory for the module: every order gets its own client order ID
    return _FACTORY


def filled(order, quantity: str, price: str, fee: str = "0", ts: int = 0) -> OrderFilled:
    return OrderFilled(
        trader_id=order.trader_id,
        strategy_id=order.strategy_id,
        instrument_id=order.instrument_id,
        client_order_id=order.client_order_id,
        venue_order_id=VenueOrderId("V-1"),
        account_id=ACCOUNT,
        trade_id=TradeId(UUID4().value),
        position_id=None,
        order_side=order.side,
        order_type=order.order_type,
        last_qty=Quantity.from_str(quantity),
        last_px=Price.from_str(price),
        currency=USDC,
        commission=Money(Decimal(fee), USDC),
        liquidity_side=LiquiditySide.MAKER,
        event_id=UUID4(),
        ts_event=ts,
        ts_init=ts,
    )


def limit(side: OrderSide = OrderSide.BUY, quantity: str = "0.0010", price: str = "65000",
          **kwargs):
    return _FACTORY.limit(
        BTC, side, Quantity.from_str(quantity), Price.from_str(price), **kwargs,
    )
