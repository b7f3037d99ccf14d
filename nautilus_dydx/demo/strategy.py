# SPDX-License-Identifier: Apache-2.0
"""`DemoStrategy`: short-term quotes with replacements, a long-term order and a stop bracket."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderModifyRejected
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order
from nautilus_trader.trading.strategy import Strategy

from nautilus_dydx.common.types import DYDXOrderTags


SHORT_TERM = DYDXOrderTags(is_short_term_order=True, num_blocks_open=20).value
LONG_TERM = DYDXOrderTags(is_short_term_order=False).value
_NANOS = 1_000_000_000


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


class DemoStrategyConfig(StrategyConfig, frozen=True):
    """
    Configuration of `DemoStrategy`.

    Parameters
    ----------
    instrument_id : str
        The instrument, e.g. ``BTC-USD-PERP.DYDX``.
    trade_size : str, default "0.001"
        Size of each order.
    max_position : str, default "0.005"
        Quoting stops on the side that would grow the position beyond this.
    requote_secs : float, default 0.5
        Least time between requotes of one side.
    replacements_before_cancel : int, default 4
        A quote is replaced this many times, then canceled and placed anew.
    bracket_bps : int, default 4
        Distance of the conditional orders' triggers from the mid, in basis points.
    bracket_interval_secs : float, default 5.0
        Least time between two brackets (stateful orders are rate limited per block).
    long_term_offset_bps : int, default 300
        Distance of the resting long-term order below the mid, in basis points.
    flatten_on_stop : bool, default False
        Close the position with a reduce-only market order when stopping (real networks).

    """

    instrument_id: str = "BTC-USD-PERP.DYDX"
    trade_size: str = "0.001"
    max_position: str = "0.005"
    requote_secs: float = 0.5
    replacements_before_cancel: int = 4
    bracket_bps: int = 4
    bracket_interval_secs: float = 5.0
    long_term_offset_bps: int = 300
    flatten_on_stop: bool = False


class DemoStrategy(Strategy):
    """
    Exercise every dYdX order kind from one strategy.

    - a short-term IOC market order on the first quote (a sure fill);
    - short-term quotes one tick inside the spread, requoted by replacement (same client
      ID, higher good-til-block), canceled and placed anew after a few replacements;
    - a long-term GTC limit order resting far from the market, canceled after a while;
    - a conditional bracket: a STOP_MARKET buy above and a LIMIT_IF_TOUCHED buy below the
      mid; when one triggers and fills, the other is canceled and a new bracket follows.

    Parameters
    ----------
    config : DemoStrategyConfig

    """

    def __init__(self, config: DemoStrategyConfig | None = None) -> None:
        super().__init__(config if config is not None else DemoStrategyConfig())
        self.instrument_id = InstrumentId.from_str(self.config.instrument_id)
        self.instrument = None
        self.quotes: dict[OrderSide, ClientOrderId | None] = {
            OrderSide.BUY: None, OrderSide.SELL: None,
        }
        self.replacements: dict[ClientOrderId, int] = {}
        self.last_requote_ns: dict[OrderSide, int] = {OrderSide.BUY: 0, OrderSide.SELL: 0}
        self.bracket: list[ClientOrderId] = []
        self.long_term: ClientOrderId | None = None
        self.started_ns = 0
        self.entered = False
        self.brackets_filled = 0
        self.last_bracket_ns = 0

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.instrument_id)
        if self.instrument is None:
            self.log.error(f"No instrument {self.instrument_id}: stopping")
            self.stop()
            return
        self.started_ns = self.clock.timestamp_ns()
        self.subscribe_quote_ticks(self.instrument_id)

    def on_stop(self) -> None:
        self.cancel_all_orders(self.instrument_id)
        if self.config.flatten_on_stop:
            self.close_all_positions(
                self.instrument_id, tags=[SHORT_TERM], time_in_force=TimeInForce.IOC,
                reduce_only=True,
            )

    # -- Decisions -----------------------------------------------------------------------------

    def on_quote_tick(self, tick: QuoteTick) -> None:
        bid, ask = tick.bid_price.as_decimal(), tick.ask_price.as_decimal()
        if bid >= ask:
            return  # A crossed top of book is transient: wait for the next quote
        if not self.entered:
            self.entered = True
            self._enter()
        now = self.clock.timestamp_ns()
        elapsed_s = (now - self.started_ns) / _NANOS
        self._manage_long_term(bid, elapsed_s)
        interval_ns = self.config.bracket_interval_secs * _NANOS
        if elapsed_s > 1.0 and not self.bracket and now - self.last_bracket_ns >= interval_ns:
            self.last_bracket_ns = now
            self._place_bracket((bid + ask) / 2)
        own_bid = self._working(self.quotes[OrderSide.BUY])
        own_ask = self._working(self.quotes[OrderSide.SELL])
        targets = dict(zip(
            (OrderSide.BUY, OrderSide.SELL),
            quote_prices(
                bid, ask, self.instrument.price_increment.as_decimal(),
                None if own_bid is None else own_bid.price.as_decimal(),
                None if own_ask is None else own_ask.price.as_decimal(),
            ),
        ))
        # Move the side that gets out of the way first, so the quotes never cross each other
        sides = (OrderSide.BUY, OrderSide.SELL)
        if own_ask is not None and targets[OrderSide.BUY] >= own_ask.price.as_decimal():
            sides = (OrderSide.SELL, OrderSide.BUY)
        for side in sides:
            if now - self.last_requote_ns[side] >= self.config.requote_secs * _NANOS:
                self._quote(side, targets[side], now)

    def _enter(self) -> None:
        order = self.order_factory.market(
            self.instrument_id, OrderSide.BUY, self._size(), time_in_force=TimeInForce.IOC,
            tags=[SHORT_TERM],
        )
        self.submit_order(order)

    def _quote(self, side: OrderSide, target: Decimal, now: int) -> None:
        position = self._position()
        limit = Decimal(self.config.max_position)
        if (side == OrderSide.BUY and position >= limit) or (
            side == OrderSide.SELL and position <= -limit
        ):
            self._cancel_quote(side)
            return
        price = self.instrument.make_price(target)
        order = self._working(self.quotes[side])
        self.last_requote_ns[side] = now
        if order is None:
            new = self.order_factory.limit(
                self.instrument_id, side, self._size(), price, tags=[SHORT_TERM],
            )
            self.quotes[side] = new.client_order_id
            self.replacements[new.client_order_id] = 0
            self.submit_order(new)
        elif order.is_open and not order.is_pending_update and not order.is_pending_cancel:
            if order.price == price:
                return
            if self.replacements[order.client_order_id] >= self.config.replacements_before_cancel:
                self._cancel_quote(side)  # A fresh quote follows on the next requote
                return
            self.replacements[order.client_order_id] += 1
            self.modify_order(order, price=price)

    def _cancel_quote(self, side: OrderSide) -> None:
        order = self._working(self.quotes[side])
        if order is not None and order.is_open and not order.is_pending_cancel:
            self.cancel_order(order)

    def _manage_long_term(self, bid: Decimal, elapsed_s: float) -> None:
        if self.long_term is None and elapsed_s > 2.0:
            price = bid * (1 - Decimal(self.config.long_term_offset_bps) / 10_000)
            order = self.order_factory.limit(
                self.instrument_id, OrderSide.BUY, self._size(), self.instrument.make_price(price),
                time_in_force=TimeInForce.GTC, tags=[LONG_TERM],
            )
            self.long_term = order.client_order_id
            self.submit_order(order)
            return
        order = self._working(self.long_term)
        if order is not None and order.is_open and not order.is_pending_cancel and elapsed_s > 8.0:
            self.cancel_order(order)

    def _place_bracket(self, mid: Decimal) -> None:
        distance = mid * Decimal(self.config.bracket_bps) / 10_000
        stop = self.order_factory.stop_market(
            self.instrument_id, OrderSide.BUY, self._size(),
            trigger_price=self.instrument.make_price(mid + distance),
            trigger_type=TriggerType.DEFAULT, time_in_force=TimeInForce.GTC,
        )
        touched = self.order_factory.limit_if_touched(
            self.instrument_id, OrderSide.BUY, self._size(),
            price=self.instrument.make_price(mid),
            trigger_price=self.instrument.make_price(mid - distance),
            trigger_type=TriggerType.DEFAULT, time_in_force=TimeInForce.GTC,
        )
        self.bracket = [stop.client_order_id, touched.client_order_id]
        self.submit_order(stop)
        self.submit_order(touched)

    # -- Events --------------------------------------------------------------------------------

    def on_order_filled(self, event: OrderFilled) -> None:
        if event.client_order_id in self.bracket:
            order = self.cache.order(event.client_order_id)
            if order is not None and order.is_closed:
                self.brackets_filled += 1
                self._close_bracket()

    def on_order_event(self, event) -> None:
        closed = (OrderCanceled, OrderExpired, OrderRejected, OrderDenied)
        if isinstance(event, closed) and event.client_order_id in self.bracket:
            self._close_bracket()
        if isinstance(event, OrderModifyRejected):
            # The replacement lost the race (filled or expired first): quote anew next time
            for side, client_order_id in self.quotes.items():
                if client_order_id is not None and client_order_id == event.client_order_id:
                    self._cancel_quote(side)
                    self.quotes[side] = None

    def _close_bracket(self) -> None:
        orders = [self.cache.order(c) for c in self.bracket]
        open_orders = [o for o in orders if o is not None and not o.is_closed]
        for order in open_orders:
            if not order.is_pending_cancel:
                self.cancel_order(order)
        if not open_orders:
            self.bracket = []  # Every leg closed: the next quote places a new bracket

    # -- Helpers -------------------------------------------------------------------------------

    def _size(self):
        return self.instrument.make_qty(Decimal(self.config.trade_size))

    def _working(self, client_order_id: ClientOrderId | None) -> Order | None:
        if client_order_id is None:
            return None
        order = self.cache.order(client_order_id)
        if order is None or order.is_closed:
            return None
        return order

    def _position(self) -> Decimal:
        return sum(
            (Decimal(str(p.signed_qty))
             for p in self.cache.positions_open(instrument_id=self.instrument_id)),
            Decimal(0),
        )
