# SPDX-License-Identifier: Apache-2.0
"""A short-term market maker: quotes requoted by replacement (dYdX's flow), then canceled."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderModifyRejected
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order
from nautilus_trader.trading.strategy import Strategy

from nautilus_dydx import DYDXOrderTags
from nautilus_dydx.demo.session import Session
from nautilus_dydx.demo.session import SandboxSettings
from nautilus_dydx.demo.session import sandbox_session
from nautilus_dydx.demo.session import stop_strategies


def quote_prices(
    best_bid: Decimal,
    best_ask: Decimal,
    tick: Decimal,
    own_bid: Decimal | None,
    own_ask: Decimal | None,
) -> tuple[Decimal, Decimal]:
    """
    Return (bid, ask) one tick inside the spread, never chasing our own best quote.

    Parameters
    ----------
    best_bid, best_ask : Decimal
        The top of the book (our quotes included).
    tick : Decimal
        The price increment.
    own_bid, own_ask : Decimal | None
        Our working quotes' prices.

    Returns
    -------
    tuple[Decimal, Decimal]

    """
    bid = best_bid if own_bid == best_bid else min(best_bid + tick, best_ask - tick)
    ask = best_ask if own_ask == best_ask else max(best_ask - tick, best_bid + tick)
    if ask <= bid:
        ask = bid + tick
    return bid, ask


class MarketMakerConfig(StrategyConfig, frozen=True):
    """
    Configuration of `ShortTermMarketMaker`.

    Parameters
    ----------
    instrument_id : str, default "BTC-USD-PERP.DYDX"
    size : str, default "0.001"
        Size of each quote.
    max_position : str, default "0.005"
        No quote on the side that would grow the position beyond this.
    requote_secs : float, default 0.5
        Least time between requotes.
    max_replacements : int, default 4
        Replacements of one quote before it is canceled and a new quote placed.
    num_blocks_open : int, default 20
        Good-til-block distance of the short-term quotes.

    """

    instrument_id: str = "BTC-USD-PERP.DYDX"
    size: str = "0.001"
    max_position: str = "0.005"
    requote_secs: float = 0.5
    max_replacements: int = 4
    num_blocks_open: int = 20


class ShortTermMarketMaker(Strategy):
    """
    Quote one tick inside the spread with short-term orders.

    A quote that should move is *replaced*: `modify_order` on a short-term order sends a
    new placement with the same client ID and a higher good-til-block, which replaces the
    resting order on the venue (no cancel round trip). After `max_replacements` the quote is
    canceled and a fresh one (new client ID) placed on the next requote. Quotes that are not
    requoted simply expire at their good-til-block.

    Parameters
    ----------
    config : MarketMakerConfig

    """

    def __init__(self, config: MarketMakerConfig | None = None) -> None:
        super().__init__(config if config is not None else MarketMakerConfig())
        self.instrument_id = InstrumentId.from_str(self.config.instrument_id)
        self.instrument = None
        self.tags = [
            DYDXOrderTags(
                is_short_term_order=True, num_blocks_open=self.config.num_blocks_open,
            ).value,
        ]
        self.quotes: dict[OrderSide, ClientOrderId | None] = {
            OrderSide.BUY: None, OrderSide.SELL: None,
        }
        self.replacements: Counter = Counter()
        self.last_requote_ns = 0
        self.counts: Counter = Counter()

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.instrument_id)
        if self.instrument is None:
            self.log.error(f"No instrument {self.instrument_id}")
            self.stop()
            return
        self.subscribe_quote_ticks(self.instrument_id)

    def on_stop(self) -> None:
        open_orders = self.cache.orders_open(instrument_id=self.instrument_id)
        self.counts["cancels sent"] += len(open_orders)
        self.cancel_all_orders(self.instrument_id)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        now = self.clock.timestamp_ns()
        if now - self.last_requote_ns < self.config.requote_secs * 1e9:
            return
        bid, ask = tick.bid_price.as_decimal(), tick.ask_price.as_decimal()
        if bid >= ask:
            return
        self.last_requote_ns = now
        own_bid, own_ask = self._open(self.quotes[OrderSide.BUY]), self._open(
            self.quotes[OrderSide.SELL],
        )
        bid_price, ask_price = quote_prices(
            bid, ask, self.instrument.price_increment.as_decimal(),
            None if own_bid is None else own_bid.price.as_decimal(),
            None if own_ask is None else own_ask.price.as_decimal(),
        )
        # Move the side that gets out of the way first, so the quotes never cross each other
        if own_ask is not None and bid_price >= own_ask.price.as_decimal():
            self._quote(OrderSide.SELL, ask_price)
            self._quote(OrderSide.BUY, bid_price)
        else:
            self._quote(OrderSide.BUY, bid_price)
            self._quote(OrderSide.SELL, ask_price)

    def _quote(self, side: OrderSide, target: Decimal) -> None:
        position = self.net_position()
        limit = Decimal(self.config.max_position)
        order = self._open(self.quotes[side])
        if (side == OrderSide.BUY and position >= limit) or (
            side == OrderSide.SELL and position <= -limit
        ):
            if order is not None:
                self._cancel(order)
            return
        price = self.instrument.make_price(target)
        if order is None:
            quote = self.order_factory.limit(
                self.instrument_id, side, self.instrument.make_qty(Decimal(self.config.size)),
                price, tags=self.tags,
            )
            self.quotes[side] = quote.client_order_id
            self.counts["placed"] += 1
            self.submit_order(quote)
        elif order.price != price and not (order.is_pending_update or order.is_pending_cancel):
            if self.replacements[order.client_order_id] >= self.config.max_replacements:
                self._cancel(order)
                return
            self.replacements[order.client_order_id] += 1
            self.counts["replacements sent"] += 1
            self.modify_order(order, price=price)

    def _cancel(self, order: Order) -> None:
        if not order.is_pending_cancel:
            self.counts["cancels sent"] += 1
            self.cancel_order(order)

    def _open(self, client_order_id: ClientOrderId | None) -> Order | None:
        order = None if client_order_id is None else self.cache.order(client_order_id)
        return order if order is not None and order.is_open else None

    def on_order_event(self, event) -> None:
        self.counts[type(event).__name__] += 1
        if isinstance(event, OrderModifyRejected):
            # The quote filled or expired before its replacement landed: start afresh
            order = self._open(event.client_order_id)
            if order is not None:
                self._cancel(order)

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
    inspect: Callable[[Session, ShortTermMarketMaker], Awaitable[None]] | None = None,
    config: MarketMakerConfig | None = None,
) -> ShortTermMarketMaker:
    """
    Run the market maker against a fresh sandbox for `seconds`.

    Parameters
    ----------
    seconds : float
    settings : SandboxSettings | None
    inspect : callable, optional
        Awaited with the session and strategy after the strategy stopped, before teardown.
    config : MarketMakerConfig | None
        The strategy's configuration.

    Returns
    -------
    ShortTermMarketMaker

    """
    strategy = ShortTermMarketMaker(config)
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
