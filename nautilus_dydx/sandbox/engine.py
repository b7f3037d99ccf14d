# SPDX-License-Identifier: Apache-2.0
"""Order books, subaccounts and price-time matching of the sandbox, in exact integers."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass

from nautilus_dydx.sandbox.config import MarketConfig
from nautilus_dydx.sandbox.events import OrderSnapshot


SIDE_BUY = 1
SIDE_SELL = 2
TIF_UNSPECIFIED = 0
TIF_IOC = 1
TIF_POST_ONLY = 2
TIF_FILL_OR_KILL = 3
FLAG_SHORT_TERM = 0
FLAG_CONDITIONAL = 32
FLAG_LONG_TERM = 64
FLAG_TWAP = 128
CONDITION_STOP_LOSS = 1
CONDITION_TAKE_PROFIT = 2

SIDE_NAMES = {SIDE_BUY: "BUY", SIDE_SELL: "SELL"}
TIF_NAMES = {
    0: "TIME_IN_FORCE_UNSPECIFIED",
    1: "TIME_IN_FORCE_IOC",
    2: "TIME_IN_FORCE_POST_ONLY",
    3: "TIME_IN_FORCE_FILL_OR_KILL",
}
CONDITION_NAMES = {
    0: "CONDITION_TYPE_UNSPECIFIED",
    1: "CONDITION_TYPE_STOP_LOSS",
    2: "CONDITION_TYPE_TAKE_PROFIT",
}
REMOVAL_REASONS = (
    "ORDER_REMOVAL_REASON_UNSPECIFIED",
    "ORDER_REMOVAL_REASON_EXPIRED",
    "ORDER_REMOVAL_REASON_USER_CANCELED",
    "ORDER_REMOVAL_REASON_UNDERCOLLATERALIZED",
    "ORDER_REMOVAL_REASON_INTERNAL_ERROR",
    "ORDER_REMOVAL_REASON_SELF_TRADE_ERROR",
    "ORDER_REMOVAL_REASON_POST_ONLY_WOULD_CROSS_MAKER_ORDER",
    "ORDER_REMOVAL_REASON_IMMEDIATE_OR_CANCEL_WOULD_REST_ON_BOOK",
    "ORDER_REMOVAL_REASON_FOK_ORDER_COULD_NOT_BE_FULLY_FULLED",
    "ORDER_REMOVAL_REASON_REDUCE_ONLY_RESIZE",
    "ORDER_REMOVAL_REASON_INDEXER_EXPIRED",
    "ORDER_REMOVAL_REASON_REPLACED",
    "ORDER_REMOVAL_REASON_FULLY_FILLED",
    "ORDER_REMOVAL_REASON_EQUITY_TIER",
    "ORDER_REMOVAL_REASON_FINAL_SETTLEMENT",
    "ORDER_REMOVAL_REASON_VIOLATES_ISOLATED_SUBACCOUNT_CONSTRAINTS",
)

OrderKey = tuple[str, int, int, int, int]
SubaccountKey = tuple[str, int]


def quote_quantums(quantums: int, subticks: int, quantum_conversion_exponent: int) -> int:
    """
    Return `subticks × quantums × 10^Q` rounded toward negative infinity.

    Parameters
    ----------
    quantums : int
        The signed size in base quantums.
    subticks : int
        The price in subticks.
    quantum_conversion_exponent : int
        The exponent Q.

    Returns
    -------
    int

    """
    if quantum_conversion_exponent >= 0:
        return quantums * subticks * 10**quantum_conversion_exponent
    return (quantums * subticks) // 10 ** (-quantum_conversion_exponent)


class Order:
    """
    A live order inside the sandbox (mutable; snapshots go into events).

    Parameters
    ----------
    key : OrderKey
        (owner, subaccount number, client id, order flags, clob pair id).
    side : int
        1 buy, 2 sell.
    quantums : int
        The size in base quantums.
    subticks : int
        The limit price in subticks.
    good_til_block : int
        The short-term expiry height.
    good_til_block_time : int
        The stateful expiry in unix seconds.
    time_in_force : int
        The chain enum value.
    reduce_only : bool
        The reduce-only flag.
    client_metadata : int
        The client metadata.
    condition_type : int
        The chain enum value.
    trigger_subticks : int
        The conditional trigger price.
    order_hash : bytes
        SHA-256 of the encoded order (replacement tie break).
    tx_hash : str
        The placing transaction hash.
    ticker : str
        The market ticker.

    """

    __slots__ = (
        "key", "side", "quantums", "subticks", "good_til_block", "good_til_block_time",
        "time_in_force", "reduce_only", "client_metadata", "condition_type", "trigger_subticks",
        "order_hash", "tx_hash", "ticker", "filled", "status", "created_at_height", "priority",
        "triggered",
    )

    def __init__(
        self,
        key: OrderKey,
        side: int,
        quantums: int,
        subticks: int,
        good_til_block: int,
        good_til_block_time: int,
        time_in_force: int,
        reduce_only: bool,
        client_metadata: int,
        condition_type: int,
        trigger_subticks: int,
        order_hash: bytes,
        tx_hash: str,
        ticker: str,
    ) -> None:
        self.key = key
        self.side = side
        self.quantums = quantums
        self.subticks = subticks
        self.good_til_block = good_til_block
        self.good_til_block_time = good_til_block_time
        self.time_in_force = time_in_force
        self.reduce_only = reduce_only
        self.client_metadata = client_metadata
        self.condition_type = condition_type
        self.trigger_subticks = trigger_subticks
        self.order_hash = order_hash
        self.tx_hash = tx_hash
        self.ticker = ticker
        self.filled = 0
        self.status = ""
        self.created_at_height = 0
        self.priority = 0
        self.triggered = False

    @property
    def subaccount(self) -> SubaccountKey:
        """The (owner, number) of the order's subaccount."""
        return (self.key[0], self.key[1])

    @property
    def order_flags(self) -> int:
        """The order flags."""
        return self.key[3]

    @property
    def clob_pair_id(self) -> int:
        """The CLOB pair id."""
        return self.key[4]

    @property
    def remaining(self) -> int:
        """The unfilled size in base quantums."""
        return self.quantums - self.filled

    def snapshot(self) -> OrderSnapshot:
        """
        Return an immutable snapshot for events.

        Returns
        -------
        OrderSnapshot

        """
        owner, number, client_id, flags, clob_pair_id = self.key
        return OrderSnapshot(
            owner=owner,
            subaccount_number=number,
            client_id=client_id,
            order_flags=flags,
            clob_pair_id=clob_pair_id,
            ticker=self.ticker,
            side=SIDE_NAMES[self.side],
            quantums=self.quantums,
            subticks=self.subticks,
            good_til_block=self.good_til_block,
            good_til_block_time=self.good_til_block_time,
            time_in_force=TIF_NAMES[self.time_in_force],
            reduce_only=self.reduce_only,
            client_metadata=self.client_metadata,
            condition_type=CONDITION_NAMES[self.condition_type],
            trigger_subticks=self.trigger_subticks,
            total_filled=self.filled,
            status=self.status,
            created_at_height=self.created_at_height,
            tx_hash=self.tx_hash,
        )


class Book:
    """
    One market's order book with price-time priority.

    Each side keeps a sorted list of prices and, per price, an insertion-ordered dict of orders.

    """

    def __init__(self) -> None:
        self._prices: dict[int, list[int]] = {SIDE_BUY: [], SIDE_SELL: []}
        self._levels: dict[int, dict[int, dict[OrderKey, Order]]] = {SIDE_BUY: {}, SIDE_SELL: {}}
        self.count = 0

    def add(self, order: Order) -> None:
        """
        Append `order` at the back of its price level.

        Parameters
        ----------
        order : Order
            The resting order.

        """
        levels = self._levels[order.side]
        level = levels.get(order.subticks)
        if level is None:
            level = {}
            levels[order.subticks] = level
            bisect.insort(self._prices[order.side], order.subticks)
        level[order.key] = order
        self.count += 1

    def remove(self, order: Order) -> bool:
        """
        Remove `order` from the book; return whether it was there.

        Parameters
        ----------
        order : Order
            The order to remove.

        Returns
        -------
        bool

        """
        levels = self._levels[order.side]
        level = levels.get(order.subticks)
        if level is None or level.get(order.key) is not order:
            return False
        del level[order.key]
        self.count -= 1
        if not level:
            del levels[order.subticks]
            prices = self._prices[order.side]
            del prices[bisect.bisect_left(prices, order.subticks)]
        return True

    def best_price(self, side: int) -> int | None:
        """
        Return the best price of `side`, or None when empty.

        Parameters
        ----------
        side : int
            1 bids, 2 asks.

        Returns
        -------
        int | None

        """
        prices = self._prices[side]
        if not prices:
            return None
        return prices[-1] if side == SIDE_BUY else prices[0]

    def crossing(self, taker_side: int, limit: int) -> Iterator[Order]:
        """
        Yield resting orders that cross `limit` for a taker on `taker_side`, best first.

        The book may change while iterating; each level is copied before it is walked.

        Parameters
        ----------
        taker_side : int
            The taker's side.
        limit : int
            The taker's limit price in subticks.

        Yields
        ------
        Order

        """
        maker_side = SIDE_SELL if taker_side == SIDE_BUY else SIDE_BUY
        prices = self._prices[maker_side]
        if maker_side == SIDE_SELL:
            crossing_prices = prices[:bisect.bisect_right(prices, limit)]
        else:
            crossing_prices = prices[bisect.bisect_left(prices, limit):][::-1]
        levels = self._levels[maker_side]
        for price in crossing_prices:
            level = levels.get(price)
            if level is not None:
                yield from tuple(level.values())

    def levels(self, side: int) -> list[tuple[int, int]]:
        """
        Return (price, total remaining quantums) levels of `side`, best first.

        Parameters
        ----------
        side : int
            1 bids, 2 asks.

        Returns
        -------
        list[tuple[int, int]]

        """
        prices = self._prices[side]
        ordered = reversed(prices) if side == SIDE_BUY else iter(prices)
        return [(p, sum(o.remaining for o in self._levels[side][p].values())) for p in ordered]


@dataclass
class Position:
    """
    A perpetual position in exact integers.

    Parameters
    ----------
    size : int
        Signed base quantums.
    entry_quote : int
        Cost basis of the open size in quote quantums.
    realized_pnl : int
        Realized PnL in quote quantums (fees excluded).
    sum_open : int
        Total opened base quantums.
    sum_close : int
        Total closed base quantums.
    max_size : int
        Largest absolute size, signed like the position.

    """

    size: int = 0
    entry_quote: int = 0
    realized_pnl: int = 0
    sum_open: int = 0
    sum_close: int = 0
    max_size: int = 0

    def apply(self, delta: int, quote: int) -> None:
        """
        Apply a fill of `delta` quantums (signed) with notional `quote` (positive).

        Parameters
        ----------
        delta : int
            Positive for buys, negative for sells.
        quote : int
            The fill notional in quote quantums.

        """
        if delta == 0:
            return
        magnitude = abs(delta)
        if self.size == 0:
            self.entry_quote = 0
            self.realized_pnl = 0
            self.sum_open = 0
            self.sum_close = 0
            self.max_size = 0
        if self.size == 0 or (self.size > 0) == (delta > 0):
            self.entry_quote += quote
            self.sum_open += magnitude
            self.size += delta
        else:
            closed = min(magnitude, abs(self.size))
            cost = self.entry_quote * closed // abs(self.size)
            proceeds = quote * closed // magnitude
            pnl = proceeds - cost if self.size > 0 else cost - proceeds
            self.realized_pnl += pnl
            self.entry_quote -= cost
            self.sum_close += closed
            sign = 1 if delta > 0 else -1
            self.size += sign * closed
            opened = magnitude - closed
            if opened > 0:
                self.entry_quote = quote - proceeds
                self.sum_open += opened
                self.size += sign * opened
        if abs(self.size) > abs(self.max_size):
            self.max_size = self.size


class Subaccount:
    """
    A subaccount: USDC collateral and perpetual positions.

    Parameters
    ----------
    owner : str
        The owner address.
    number : int
        The subaccount number.
    usdc : int
        The USDC balance in quote quantums.

    """

    __slots__ = ("owner", "number", "usdc", "positions")

    def __init__(self, owner: str, number: int, usdc: int) -> None:
        self.owner = owner
        self.number = number
        self.usdc = usdc
        self.positions: dict[int, Position] = {}

    def position_size(self, perpetual_id: int) -> int:
        """
        Return the signed position size in base quantums (0 if none).

        Parameters
        ----------
        perpetual_id : int
            The perpetual id.

        Returns
        -------
        int

        """
        position = self.positions.get(perpetual_id)
        return 0 if position is None else position.size


class Margin:
    """
    Collateral arithmetic over all markets, valued at oracle prices.

    Parameters
    ----------
    markets : dict[int, MarketConfig]
        The market configurations by perpetual id.
    oracle : Callable[[int], int]
        Returns a market's oracle price in subticks.

    """

    def __init__(self, markets: dict[int, MarketConfig], oracle: Callable[[int], int]) -> None:
        self._markets = markets
        self._oracle = oracle
        # Optional (subaccount, perpetual id) -> initial margin ppm, e.g. custom leverage
        self.initial_margin_ppm: Callable[[Subaccount, int], int] | None = None

    def _value_and_imr(
        self, perpetual_id: int, size: int, imf_ppm: int | None = None,
    ) -> tuple[int, int]:
        market = self._markets[perpetual_id]
        value = quote_quantums(size, self._oracle(perpetual_id), market.quantum_conversion_exponent)
        ppm = market.initial_margin_ppm if imf_ppm is None else imf_ppm
        imr = abs(value) * ppm // 1_000_000
        return value, imr

    def equity_and_imr(
        self,
        sub: Subaccount,
        override: tuple[int, int, int] | None = None,
    ) -> tuple[int, int]:
        """
        Return (net collateral, initial margin requirement) in quote quantums.

        Parameters
        ----------
        sub : Subaccount
            The subaccount.
        override : tuple[int, int, int] | None
            (perpetual id, size delta, usdc delta) to evaluate a hypothetical update.

        Returns
        -------
        tuple[int, int]

        """
        equity = sub.usdc
        imr = 0
        sizes = {pid: p.size for pid, p in sub.positions.items() if p.size != 0}
        if override is not None:
            pid, size_delta, usdc_delta = override
            sizes[pid] = sizes.get(pid, 0) + size_delta
            equity += usdc_delta
        for pid in sorted(sizes):
            custom = None if self.initial_margin_ppm is None else self.initial_margin_ppm(sub, pid)
            value, requirement = self._value_and_imr(pid, sizes[pid], custom)
            equity += value
            imr += requirement
        return equity, imr

    def allows(self, sub: Subaccount, perpetual_id: int, size_delta: int, usdc_delta: int) -> bool:
        """
        Return whether an update keeps `sub` collateralized or reduces its position.

        Parameters
        ----------
        sub : Subaccount
            The subaccount.
        perpetual_id : int
            The perpetual traded.
        size_delta : int
            Signed base quantums.
        usdc_delta : int
            USDC change in quote quantums, fees included.

        Returns
        -------
        bool

        """
        old = sub.position_size(perpetual_id)
        new = old + size_delta
        if abs(new) < abs(old) and (new == 0 or (new > 0) == (old > 0)):
            return True
        equity, imr = self.equity_and_imr(sub, (perpetual_id, size_delta, usdc_delta))
        return equity >= imr
