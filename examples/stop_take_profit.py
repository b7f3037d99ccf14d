# SPDX-License-Identifier: Apache-2.0
"""Stop-loss and take-profit as dYdX conditional orders around a long entry (OCO by hand)."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

from nautilus_dydx import DYDXOrderTags
from nautilus_dydx.demo.session import Session
from nautilus_dydx.demo.session import SandboxSettings
from nautilus_dydx.demo.session import sandbox_session
from nautilus_dydx.demo.session import stop_strategies


SHORT_TERM = DYDXOrderTags(is_short_term_order=True).value


class StopTakeProfitConfig(StrategyConfig, frozen=True):
    """
    Configuration of `StopTakeProfit`.

    Parameters
    ----------
    instrument_id : str, default "BTC-USD-PERP.DYDX"
    size : str, default "0.001"
    stop_bps : int, default 4
        Stop-loss trigger below the entry price, in basis points.
    take_profit_bps : int, default 4
        Take-profit trigger above the entry price, in basis points.
    limit_slack_bps : int, default 10
        How far below its trigger the take-profit's limit price sits (a sell that fills).

    """

    instrument_id: str = "BTC-USD-PERP.DYDX"
    size: str = "0.001"
    stop_bps: int = 4
    take_profit_bps: int = 4
    limit_slack_bps: int = 10


class StopTakeProfit(Strategy):
    """
    Buy, then protect the position with two reduce-only conditional sells.

    - stop-loss: ``STOP_MARKET`` sell, triggered when the price falls to the stop;
    - take-profit: ``LIMIT_IF_TOUCHED`` sell (IOC), triggered when the price rises to it.

    The adapter places both as dYdX conditional orders (stateful, untriggered until the
    venue's trigger price crosses). When one fills the strategy cancels the other, waits for
    a flat position and enters again.

    Parameters
    ----------
    config : StopTakeProfitConfig

    """

    def __init__(self, config: StopTakeProfitConfig | None = None) -> None:
        super().__init__(config if config is not None else StopTakeProfitConfig())
        self.instrument_id = InstrumentId.from_str(self.config.instrument_id)
        self.instrument = None
        self.entry: ClientOrderId | None = None
        self.exits: dict[str, ClientOrderId] = {}
        self.counts: Counter = Counter()

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.instrument_id)
        if self.instrument is None:
            self.log.error(f"No instrument {self.instrument_id}")
            self.stop()
            return
        self.subscribe_quote_ticks(self.instrument_id)

    def on_stop(self) -> None:
        self.cancel_all_orders(self.instrument_id)

    def on_quote_tick(self, tick) -> None:
        if self.entry is None and not self.exits and self.net_position() == 0:
            order = self.order_factory.market(
                self.instrument_id, OrderSide.BUY,
                self.instrument.make_qty(Decimal(self.config.size)),
                time_in_force=TimeInForce.IOC, tags=[SHORT_TERM],
            )
            self.entry = order.client_order_id
            self.counts["entries"] += 1
            self.submit_order(order)

    def on_order_filled(self, event: OrderFilled) -> None:
        for name, client_order_id in self.exits.items():
            if client_order_id == event.client_order_id:
                self.counts[f"{name} fills"] += 1

    def on_order_event(self, event) -> None:
        order = self.cache.order(event.client_order_id)
        if order is None or not order.is_closed:
            return
        if self.entry is not None and event.client_order_id == self.entry:
            self.entry = None
            if order.filled_qty.as_decimal() > 0:
                self._protect(order.avg_px, order.filled_qty)
            return
        if event.client_order_id in self.exits.values():
            # One-cancels-other by hand: the first exit to close cancels the rest
            for client_order_id in self.exits.values():
                other = self.cache.order(client_order_id)
                if other is not None and other.is_open and not other.is_pending_cancel:
                    self.cancel_order(other)
            if all(self.cache.order(c).is_closed for c in self.exits.values()):
                self.exits = {}

    def _protect(self, entry_price: float, quantity) -> None:
        entry = Decimal(str(entry_price))
        stop = entry * (1 - Decimal(self.config.stop_bps) / 10_000)
        take = entry * (1 + Decimal(self.config.take_profit_bps) / 10_000)
        limit = take * (1 - Decimal(self.config.limit_slack_bps) / 10_000)
        stop_loss = self.order_factory.stop_market(
            self.instrument_id, OrderSide.SELL, quantity,
            trigger_price=self.instrument.make_price(stop), trigger_type=TriggerType.DEFAULT,
            reduce_only=True,
        )
        take_profit = self.order_factory.limit_if_touched(
            self.instrument_id, OrderSide.SELL, quantity,
            price=self.instrument.make_price(limit),
            trigger_price=self.instrument.make_price(take), trigger_type=TriggerType.DEFAULT,
            time_in_force=TimeInForce.IOC, reduce_only=True,
        )
        self.exits = {
            "stop-loss": stop_loss.client_order_id,
            "take-profit": take_profit.client_order_id,
        }
        self.submit_order(stop_loss)
        self.submit_order(take_profit)

    def net_position(self) -> Decimal:
        """
        Return the signed net position of the instrument.
        """
        return sum(
            (Decimal(str(p.signed_qty))
             for p in self.cache.positions_open(instrument_id=self.instrument_id)),
            Decimal(0),
        )


async def run(
    seconds: float,
    settings: SandboxSettings | None = None,
    inspect: Callable[[Session, StopTakeProfit], Awaitable[None]] | None = None,
) -> StopTakeProfit:
    """
    Run the example against a fresh sandbox for `seconds`.

    Parameters
    ----------
    seconds : float
    settings : SandboxSettings | None
    inspect : callable, optional
        Awaited with the session and strategy after the strategy stopped, before teardown.

    Returns
    -------
    StopTakeProfit

    """
    strategy = StopTakeProfit()
    async with sandbox_session([strategy], settings=settings) as session:
        await asyncio.sleep(seconds)
        await stop_strategies(session.node)
        if inspect is not None:
            await inspect(session, strategy)
    return strategy


def main(argv: list[str] | None = None) -> int:
    """
    Run the example against an in-process sandbox and print what it did.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    strategy = asyncio.run(run(args.seconds))
    for name, count in sorted(strategy.counts.items()):
        print(f"{name}: {count}")
    print(f"final position: {strategy.net_position()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
