# SPDX-License-Identifier: Apache-2.0
"""The execution client's account stays venue-reported after a backtest of the same venue name."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from nautilus_trader.accounting.factory import AccountFactory
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import PositionId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.portfolio.portfolio import Portfolio

from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.execution import DYDXExecutionClient
from nautilus_dydx.providers import parse_perpetual_market
from tests.unit.test_limits import KEY_K2
from tests.unit.test_providers import BTC
from tests.unit.test_providers import provider


# A client name of this test's own: Nautilus's calculated-account registry is process-wide and
# cannot be undone, so registering it for `DYDX` here would reach every later test
NAME = "DYDXBACKTESTED"
K2_ADDRESS = "dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art"


def test_reported_equity_is_not_charged_a_fill_fee_again_after_a_same_named_backtest() -> None:
    # What `BacktestEngine.add_venue(Venue(NAME), ...)` leaves behind in the process
    AccountFactory.register_calculated_account(NAME)

    async def scenario() -> None:
        clock = LiveClock()
        msgbus = MessageBus(TraderId("TESTER-001"), clock)
        cache = Cache()
        portfolio = Portfolio(msgbus, cache, clock)
        published: list = []
        msgbus.subscribe("events.account.*", published.append)
        client = DYDXExecutionClient(
            asyncio.get_running_loop(), None, None, msgbus, cache, clock, provider([BTC]),
            DYDXExecClientConfig(network="sandbox", private_key=KEY_K2, wallet_address=K2_ADDRESS),
            name=NAME,
        )
        # The venue's equity after a maker buy of 0.01 BTC at 60 000 (oracle 65 000):
        # 100 000 + 50 - 0.06 fee
        client._send_account(Decimal("100049.94"), Decimal("100017.44"))
        account = cache.account(client.account_id)
        assert account is not None and not account.calculate_account_state
        assert published == account.events and len(published) == 1

        # The portfolio applies the fill after the venue's state (it comes through the engine)
        instrument = parse_perpetual_market(BTC, 0)
        cache.add_instrument(instrument)
        order = OrderFactory(TraderId("TESTER-001"), StrategyId("S-001"), clock).limit(
            instrument.id, OrderSide.BUY, Quantity.from_str("0.0100"), Price.from_str("60000"),
        )
        cache.add_order(order)
        fill = OrderFilled(
            order.trader_id, order.strategy_id, instrument.id, order.client_order_id,
            VenueOrderId("1"), client.account_id, TradeId("T-1"),
            PositionId(f"{instrument.id}-S-001"), OrderSide.BUY, OrderType.LIMIT,
            order.quantity, order.price, USDC, Money(Decimal("0.06"), USDC), LiquiditySide.MAKER, UUID4(), 0, 0,
        )
        portfolio.update_order(fill)
        assert account.balance_total(USDC).as_decimal() == Decimal("100049.94")

        # Later states go through the portfolio as usual
        client._send_account(Decimal("100051.00"), Decimal("100018.50"))
        assert account.balance_total(USDC).as_decimal() == Decimal("100051.00")
        assert published == account.events and len(published) == 2

    asyncio.run(scenario())
