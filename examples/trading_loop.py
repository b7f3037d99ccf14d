# SPDX-License-Identifier: Apache-2.0
"""A full trading loop: data -> decision -> order -> fill -> position -> account check."""

from __future__ import annotations

import argparse
import asyncio
from collections import deque
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

from nautilus_dydx import DYDX_VENUE
from nautilus_dydx import DYDXOrderTags
from nautilus_dydx.demo.session import Session
from nautilus_dydx.demo.session import SandboxSettings
from nautilus_dydx.demo.session import sandbox_session
from nautilus_dydx.demo.session import stop_strategies


SHORT_TERM = DYDXOrderTags(is_short_term_order=True).value


class TradingLoopConfig(StrategyConfig, frozen=True):
    """
    Configuration of `TradingLoop`.

    Parameters
    ----------
    instrument_id : str, default "BTC-USD-PERP.DYDX"
    size : str, default "0.001"
        The target position's size (long or short).
    window : int, default 8
        Mid prices in the moving average.
    decision_secs : float, default 1.0
        Interval between decisions.

    """

    instrument_id: str = "BTC-USD-PERP.DYDX"
    size: str = "0.001"
    window: int = 8
    decision_secs: float = 1.0


@dataclass
class Cycle:
    """
    One pass through the loop.

    Parameters
    ----------
    mid : Decimal
        The mid price the decision saw.
    target : Decimal
        The decided signed position.
    client_order_id : ClientOrderId
        The order sent.
    filled : Decimal
        The signed quantity filled.
    position : Decimal | None
        The net position once the order closed.
    account_free : Decimal | None
        Free USDC collateral of the account after the fill.
    closed : bool
        Whether the order closed.
    checked : bool
        Whether position and account checked out.

    """

    mid: Decimal
    target: Decimal
    client_order_id: ClientOrderId
    filled: Decimal = Decimal(0)
    position: Decimal | None = None
    account_free: Decimal | None = None
    closed: bool = False
    checked: bool = False


class TradingLoop(Strategy):
    """
    Follow the mid's moving average: long above it, short below, one market order per change.

    Each decision records a `Cycle`; when its order closes the strategy checks that the
    position moved by exactly the filled quantity and that the account state (pushed by the
    venue) still shows free collateral. A failed check stops trading.

    Parameters
    ----------
    config : TradingLoopConfig

    """

    def __init__(self, config: TradingLoopConfig | None = None) -> None:
        super().__init__(config if config is not None else TradingLoopConfig())
        self.instrument_id = InstrumentId.from_str(self.config.instrument_id)
        self.instrument = None
        self.mids: deque[Decimal] = deque(maxlen=self.config.window)
        self.cycles: list[Cycle] = []
        self.failures: list[str] = []
        self._position_before = Decimal(0)

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.instrument_id)
        if self.instrument is None:
            self.log.error(f"No instrument {self.instrument_id}")
            self.stop()
            return
        self.subscribe_quote_ticks(self.instrument_id)
        self.clock.set_timer(
            "decide", timedelta(seconds=self.config.decision_secs), callback=self._decide,
        )

    def on_stop(self) -> None:
        if self.cycles and self.cycles[-1].closed and self.cycles[-1].position is None:
            self._check(self.cycles[-1])
        if "decide" in self.clock.timer_names:
            self.clock.cancel_timer("decide")
        self.cancel_all_orders(self.instrument_id)

    # Data
    def on_quote_tick(self, tick: QuoteTick) -> None:
        if tick.bid_price < tick.ask_price:
            self.mids.append((tick.bid_price.as_decimal() + tick.ask_price.as_decimal()) / 2)

    # Decision -> order
    def _decide(self, event) -> None:
        if len(self.mids) < self.mids.maxlen or self.failures:
            return
        if self.cycles and self.cycles[-1].position is None:
            if not self.cycles[-1].closed:
                return  # The last order is still working
            self._check(self.cycles[-1])
            if self.failures:
                return
        mid = self.mids[-1]
        average = sum(self.mids) / len(self.mids)
        size = Decimal(self.config.size)
        target = size if mid >= average else -size
        position = self.net_position()
        delta = target - position
        if delta == 0:
            return
        order = self.order_factory.market(
            self.instrument_id, OrderSide.BUY if delta > 0 else OrderSide.SELL,
            self.instrument.make_qty(abs(delta)), time_in_force=TimeInForce.IOC,
            tags=[SHORT_TERM],
        )
        self._position_before = position
        self.cycles.append(Cycle(mid, target, order.client_order_id))
        self.submit_order(order)

    # Fill -> position -> account
    def on_order_filled(self, event: OrderFilled) -> None:
        cycle = self._cycle(event.client_order_id)
        if cycle is not None:
            quantity = event.last_qty.as_decimal()
            cycle.filled += quantity if event.is_buy else -quantity

    def on_order_event(self, event) -> None:
        cycle = self._cycle(event.client_order_id)
        order = self.cache.order(event.client_order_id)
        if cycle is not None and order is not None and order.is_closed:
            cycle.closed = True

    def _check(self, cycle: Cycle) -> None:
        # Run on the next timer tick: position events follow the fill that closed the order
        cycle.position = self.net_position()
        account = self.portfolio.account(DYDX_VENUE)
        free = None if account is None else account.balance_free(USDC)
        cycle.account_free = None if free is None else free.as_decimal()
        if cycle.position != self._position_before + cycle.filled:
            self.failures.append(
                f"{cycle.client_order_id}: position {cycle.position} != "
                f"{self._position_before} + filled {cycle.filled}",
            )
        elif cycle.account_free is None or cycle.account_free <= 0:
            self.failures.append(f"{cycle.client_order_id}: no free collateral")
        else:
            cycle.checked = True

    def _cycle(self, client_order_id: ClientOrderId) -> Cycle | None:
        for cycle in reversed(self.cycles):
            if cycle.client_order_id == client_order_id:
                return cycle
        return None

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
    inspect: Callable[[Session, TradingLoop], Awaitable[None]] | None = None,
) -> TradingLoop:
    """
    Run the loop against a fresh sandbox for `seconds`.

    Parameters
    ----------
    seconds : float
    settings : SandboxSettings | None
    inspect : callable, optional
        Awaited with the session and strategy after the strategy stopped, before teardown.

    Returns
    -------
    TradingLoop

    """
    strategy = TradingLoop()
    async with sandbox_session([strategy], settings=settings) as session:
        await asyncio.sleep(seconds)
        await stop_strategies(session.node)
        if inspect is not None:
            await inspect(session, strategy)
    return strategy


def main(argv: list[str] | None = None) -> int:
    """
    Run the example against an in-process sandbox and print each cycle.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    strategy = asyncio.run(run(args.seconds))
    for cycle in strategy.cycles:
        print(f"mid {cycle.mid} -> target {cycle.target}: filled {cycle.filled}, position "
              f"{cycle.position}, free {cycle.account_free} USDC, checked {cycle.checked}")
    for failure in strategy.failures:
        print(f"FAILED: {failure}")
    return 1 if strategy.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
