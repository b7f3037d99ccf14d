# SPDX-License-Identifier: Apache-2.0
"""The sandbox Indexer's read model, built only from the node's event bus."""

from __future__ import annotations

import asyncio
import functools
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timezone
from decimal import Decimal

from nautilus_dydx.sandbox.config import MarketConfig
from nautilus_dydx.sandbox.events import BalanceEvent
from nautilus_dydx.sandbox.events import BlockEvent
from nautilus_dydx.sandbox.events import FillEvent
from nautilus_dydx.sandbox.events import FundingEvent
from nautilus_dydx.sandbox.events import LiquidationFillEvent
from nautilus_dydx.sandbox.events import MemclobEvent
from nautilus_dydx.sandbox.events import OraclePriceEvent
from nautilus_dydx.sandbox.events import OrderPlacedEvent
from nautilus_dydx.sandbox.events import OrderRemovedEvent
from nautilus_dydx.sandbox.events import OrderSnapshot
from nautilus_dydx.sandbox.events import OrderUpdatedEvent
from nautilus_dydx.sandbox.events import PositionEvent
from nautilus_dydx.sandbox.events import PremiumSampleEvent
from nautilus_dydx.sandbox.events import SandboxEvent
from nautilus_dydx.sandbox.extras import ExtraFields
from nautilus_dydx.sandbox.funding import DEFAULT_FUNDING_PPM
from nautilus_dydx.sandbox.funding import FUNDING_CLAMP_FACTOR_PPM
from nautilus_dydx.sandbox.funding import predicted_rate_ppm
from nautilus_dydx.sandbox.numbers import add
from nautilus_dydx.sandbox.numbers import div
from nautilus_dydx.sandbox.numbers import fmt_big
from nautilus_dydx.sandbox.numbers import mul
from nautilus_dydx.sandbox.numbers import fmt as _fmt
from nautilus_dydx.sandbox.transfers import TransferEvent


INDEXER_NAMESPACE = uuid.UUID("0f9da948-a6fb-4c45-9edc-4685c3f3317d")
RESOLUTIONS: dict[str, int] = {
    "1MIN": 60,
    "5MINS": 300,
    "15MINS": 900,
    "30MINS": 1800,
    "1HOUR": 3600,
    "4HOURS": 14400,
    "1DAY": 86400,
}
BOOK_SNAPSHOT_LEVELS = 100
# Statuses of orders that rest on the book (short-term orders are BEST_EFFORT_OPENED first)
_RESTING = ("OPEN", "BEST_EFFORT_OPENED")
_VERSIONS = {
    "v4_orderbook": "1.0.0",
    "v4_trades": "2.1.0",
    "v4_markets": "1.0.0",
    "v4_candles": "1.0.0",
    "v4_subaccounts": "3.0.0",
    "v4_parent_subaccounts": "3.0.0",
    "v4_block_height": "1.0.0",
}

_FLAG_TWAP = 128
_FLAG_TWAP_SUBORDER = 256
_TWAP_TYPES = {_FLAG_TWAP: "TWAP", _FLAG_TWAP_SUBORDER: "TWAP_SUBORDER"}

Update = tuple[str, str | None, dict, int | None]
UpdateListener = Callable[[str, str | None, dict, str, int | None], None]


def _twap_fields(snap: OrderSnapshot) -> dict:
    return {
        "duration": str(snap.twap_duration),
        "interval": str(snap.twap_interval),
        "priceTolerance": str(snap.twap_price_tolerance),
    }


def subaccount_uuid(address: str, subaccount_number: int) -> str:
    """
    Return the Indexer subaccount UUID (§2.14).

    Parameters
    ----------
    address : str
        The owner address.
    subaccount_number : int
        The subaccount number.

    Returns
    -------
    str

    """
    return str(uuid.uuid5(INDEXER_NAMESPACE, f"{address}-{subaccount_number}"))


def order_uuid(
    address: str, subaccount_number: int, client_id: int, clob_pair_id: int, order_flags: int,
) -> str:
    """
    Return the Indexer order UUID (§2.14).

    Parameters
    ----------
    address : str
        The owner address.
    subaccount_number : int
        The subaccount number.
    client_id : int
        The client id.
    clob_pair_id : int
        The CLOB pair id.
    order_flags : int
        The order flags.

    Returns
    -------
    str

    """
    sub = subaccount_uuid(address, subaccount_number)
    return str(uuid.uuid5(INDEXER_NAMESPACE, f"{sub}-{client_id}-{clob_pair_id}-{order_flags}"))


def fill_uuid(event_id: str, liquidity: str) -> str:
    """
    Return the Indexer fill UUID (§2.14).

    Parameters
    ----------
    event_id : str
        The hex event id.
    liquidity : str
        "TAKER" or "MAKER".

    Returns
    -------
    str

    """
    return str(uuid.uuid5(INDEXER_NAMESPACE, f"{event_id}-{liquidity}"))


def iso(time_ns: int) -> str:
    """
    Return `time_ns` as an ISO-8601 UTC string with milliseconds.

    Parameters
    ----------
    time_ns : int
        Unix nanoseconds.

    Returns
    -------
    str

    """
    moment = datetime.fromtimestamp(time_ns // 1_000_000_000, tz=timezone.utc)
    millis = (time_ns // 1_000_000) % 1000
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def parse_iso(text: str) -> int:
    """
    Return the unix nanoseconds of an ISO-8601 string.

    Parameters
    ----------
    text : str
        The timestamp, e.g. "2026-01-01T00:00:00.000Z".

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If `text` is not an ISO-8601 timestamp.

    """
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(Decimal(str(moment.timestamp())) * 1_000_000_000)


@functools.lru_cache(maxsize=65_536)
def _cached_iso_ns(text: str) -> int:
    # Market statistics re-read every trade time of the last day on each update
    return parse_iso(text)


def fmt(value: Decimal) -> str:
    """
    Return `value` as a plain decimal string without exponent or trailing zeros.

    The rules of every printed value are documented in `nautilus_dydx.sandbox.numbers`.

    Parameters
    ----------
    value : Decimal
        The value.

    Returns
    -------
    str

    """
    return _fmt(value)


def usdc(quantums: int) -> Decimal:
    """
    Return quote quantums as USDC.

    Parameters
    ----------
    quantums : int
        The amount in 1e-6 USDC.

    Returns
    -------
    Decimal

    """
    return Decimal(quantums).scaleb(-6)


class MarketView:
    """
    The Indexer's view of one market: params, oracle, book levels, trades, candles, funding.

    Parameters
    ----------
    config : MarketConfig
        The market parameters.

    """

    def __init__(self, config: MarketConfig) -> None:
        self.config = config
        self.ticker = config.ticker
        self.status = config.status
        self.oracle_price = Decimal(config.oracle_price)
        self.oracle_height = 0
        self.oracle_time_ns = 0
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.stamps: dict[tuple[str, int], int] = {}
        self.trades: list[dict] = []
        self.candles: dict[str, dict[int, dict]] = {r: {} for r in RESOLUTIONS}
        self.funding: list[dict] = []
        self.open_interest = 0
        self.first_price: Decimal | None = None
        self.samples: list[int] = []
        self.funding_index = Decimal(0)
        self.last_stats: dict[str, object] = {}

    def next_funding_rate(self) -> Decimal:
        """The predicted 1-hour funding rate: the mean of the hour's samples, 20 places."""
        c = self.config
        spread = max(c.initial_margin_ppm - c.maintenance_margin_ppm, 0)
        clamp = spread * FUNDING_CLAMP_FACTOR_PPM // 1_000_000
        return div(predicted_rate_ppm(self.samples, clamp), 8_000_000)

    def price(self, subticks: int) -> Decimal:
        """
        Return `subticks` as a USD price.

        Parameters
        ----------
        subticks : int
            The price in subticks.

        Returns
        -------
        Decimal

        """
        c = self.config
        return Decimal(subticks).scaleb(c.quantum_conversion_exponent - c.atomic_resolution - 6)

    def size(self, quantums: int) -> Decimal:
        """
        Return base quantums in base units.

        Parameters
        ----------
        quantums : int
            The size in base quantums.

        Returns
        -------
        Decimal

        """
        return Decimal(quantums).scaleb(self.config.atomic_resolution)

    @property
    def tick_size(self) -> Decimal:
        """The price increment in USD."""
        return self.price(self.config.subticks_per_tick)

    @property
    def step_size(self) -> Decimal:
        """The size increment in base units."""
        return self.size(self.config.step_base_quantums)

    def mid(self) -> Decimal | None:
        """The mid price of the uncrossed book, or None when a side is empty."""
        bids, asks = self.levels(uncross=True, depth=1)
        if not bids or not asks:
            return None
        return (self.price(bids[0][0]) + self.price(asks[0][0])) / 2

    def levels(
        self, uncross: bool = True, depth: int | None = BOOK_SNAPSHOT_LEVELS,
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """
        Return (bids, asks) as (subticks, quantums), best first, uncrossed as §3.9 by default.

        Parameters
        ----------
        uncross : bool, default True
            Whether to drop crossed top levels the way the Indexer does.
        depth : int | None, default 100
            The maximum number of levels per side.

        Returns
        -------
        tuple[list[tuple[int, int]], list[tuple[int, int]]]

        """
        bids = sorted(self.bids.items(), key=lambda item: -item[0])
        asks = sorted(self.asks.items())
        if uncross:
            while bids and asks and bids[0][0] >= asks[0][0]:
                bid_stamp = self.stamps.get(("b", bids[0][0]), 0)
                ask_stamp = self.stamps.get(("a", asks[0][0]), 0)
                if bid_stamp > ask_stamp or bids[0][1] > asks[0][1]:
                    asks.pop(0)
                else:
                    bids.pop(0)
        if depth is not None:
            bids = bids[:depth]
            asks = asks[:depth]
        return bids, asks


@dataclass
class PositionView:
    """
    One perpetual position instance (a new one starts when a closed position reopens).

    Parameters
    ----------
    address, subaccount_number, perpetual_id, ticker : identity of the position
    created_at_ns, created_at_height : when it opened

    """

    address: str
    subaccount_number: int
    perpetual_id: int
    ticker: str
    created_at_ns: int
    created_at_height: int
    size: int = 0
    side: str = "LONG"
    status: str = "OPEN"
    entry_quote: int = 0
    realized_pnl: int = 0
    sum_open: int = 0
    sum_close: int = 0
    max_size: int = 0
    exit_quote: Decimal = Decimal(0)
    net_funding: Decimal = Decimal(0)
    open_quote: Decimal = Decimal(0)
    closed_at_ns: int | None = None
    closed_at_height: int | None = None
    position_id: str = ""


@dataclass
class SubaccountView:
    """
    The Indexer's view of one subaccount.

    Parameters
    ----------
    address : str
        The owner address.
    number : int
        The subaccount number.

    """

    address: str
    number: int
    usdc: int = 0
    updated_at_height: int = 0
    positions: list[PositionView] = field(default_factory=list)
    orders: dict[str, dict] = field(default_factory=dict)
    fills: list[dict] = field(default_factory=list)
    transfers: list[dict] = field(default_factory=list)
    pnl: list[dict] = field(default_factory=list)
    funding_payments: list[dict] = field(default_factory=list)

    @property
    def uuid(self) -> str:
        """The Indexer subaccount UUID."""
        return subaccount_uuid(self.address, self.number)

    def open_position(self, perpetual_id: int) -> PositionView | None:
        """
        Return the open position in `perpetual_id`, if any.

        Parameters
        ----------
        perpetual_id : int
            The perpetual id.

        Returns
        -------
        PositionView | None

        """
        for position in reversed(self.positions):
            if position.perpetual_id == perpetual_id and position.status == "OPEN":
                return position
        return None


class IndexerState:
    """
    The sandbox Indexer's state: markets, subaccounts, orders, fills, trades, candles, funding.

    Feed it node events with `apply` (or `attach` it to a node); listeners receive one
    (channel, id, contents, version, subaccount_number) update per changed stream, coalesced per
    event-loop turn so a match never shows a transient crossed book.

    Parameters
    ----------
    markets : tuple[MarketConfig, ...]
        The markets.
    genesis_height : int, default 1
        The initial height.
    genesis_time_ns : int, default 0
        The initial block time.
    max_trades : int, default 10_000
        The trades kept per market.
    max_history : int, default 10_000
        The orders (oldest final ones are pruned first) and fills kept per subaccount.
    extra_fields : ExtraFields | None, default None
        Adds occasional unknown fields to published messages (None: never).
    stats_interval_ns : int, default 10 s
        The block-time interval of `trading` statistics updates on `v4_markets`.

    """

    def __init__(
        self,
        markets: tuple[MarketConfig, ...],
        genesis_height: int = 1,
        genesis_time_ns: int = 0,
        max_trades: int = 10_000,
        max_history: int = 10_000,
        extra_fields: ExtraFields | None = None,
        stats_interval_ns: int = 10_000_000_000,
    ) -> None:
        self.markets: dict[str, MarketView] = {m.ticker: MarketView(m) for m in markets}
        self.by_id: dict[int, MarketView] = {
            m.clob_pair_id: self.markets[m.ticker] for m in markets
        }
        self.height = genesis_height
        self.time_ns = genesis_time_ns
        self.subaccounts: dict[tuple[str, int], SubaccountView] = {}
        self.orders: dict[str, dict] = {}
        self.max_trades = max_trades
        self.max_history = max_history
        self.listeners: list[UpdateListener] = []
        self.events_applied = 0
        self._stamp = 0
        self._resting: dict[str, tuple[int, str, int, int]] = {}
        self._dirty_levels: dict[str, dict[tuple[str, int], None]] = {}
        self._pending: list[Update] = []
        self._pending_sub: dict[tuple[str, int], dict] = {}
        self._flush_scheduled = False
        self._unsubscribe: Callable[[], None] | None = None
        self.extra_fields = extra_fields if extra_fields is not None else ExtraFields(0, False)
        self.stats_interval_ns = max(int(stats_interval_ns), 1)
        self._liquidation_close: dict[tuple[str, int, int], str] = {}

    # -- Wiring --------------------------------------------------------------------------------

    @classmethod
    def from_node(cls, node) -> IndexerState:
        """
        Return a state for a `SandboxNode`, replaying its recorded history and subscribing.

        Parameters
        ----------
        node : SandboxNode
            The node (its bus should record events so genesis deposits are seen).

        Returns
        -------
        IndexerState

        """
        config = node.config
        state = cls(
            config.markets, config.genesis_height, node.chain.genesis_time_ns,
            extra_fields=ExtraFields(config.seed, getattr(config, "extra_fields", False)),
            stats_interval_ns=getattr(config, "market_stats_interval_s", 10) * 1_000_000_000,
        )
        for event in list(node.bus.history):
            state.apply(event)
        state.height = node.chain.height
        state.time_ns = node.chain.time_ns
        for market in node.chain.markets.values():
            view = state.by_id[market.config.clob_pair_id]
            view.status = market.status
            view.oracle_price = Decimal(market.oracle_price)
        for market in state.markets.values():
            market.last_stats = state.market_stats(market)
        state.flush()
        state._unsubscribe = node.subscribe(state.apply)
        return state

    def detach(self) -> None:
        """Stop receiving node events."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def add_listener(self, listener: UpdateListener) -> Callable[[], None]:
        """
        Register `listener` for coalesced channel updates; return the unregister function.

        Parameters
        ----------
        listener : Callable[[str, str | None, dict, str, int | None], None]
            Called with (channel, id, contents, version, subaccount_number).

        Returns
        -------
        Callable[[], None]

        """
        self.listeners.append(listener)

        def remove() -> None:
            if listener in self.listeners:
                self.listeners.remove(listener)

        return remove

    # -- Event application ---------------------------------------------------------------------

    def apply(self, event: SandboxEvent) -> None:
        """
        Apply one node event and schedule the resulting channel updates.

        Parameters
        ----------
        event : SandboxEvent
            The event.

        """
        self.events_applied += 1
        if isinstance(event, BlockEvent):
            self._on_block(event)
        elif isinstance(event, FillEvent):
            self._on_fill(event)
        elif isinstance(event, (OrderPlacedEvent, OrderUpdatedEvent, OrderRemovedEvent)):
            self._on_order(event)
        elif isinstance(event, PositionEvent):
            self._on_position(event)
        elif isinstance(event, BalanceEvent):
            self._on_balance(event)
        elif isinstance(event, OraclePriceEvent):
            self._on_oracle(event)
        elif isinstance(event, LiquidationFillEvent):
            self._on_liquidation_fill(event)
        elif isinstance(event, PremiumSampleEvent):
            self._on_premium_sample(event)
        elif isinstance(event, FundingEvent):
            self._on_funding(event)
        elif isinstance(event, MemclobEvent):
            self._on_memclob(event)
        elif isinstance(event, TransferEvent):
            self._on_transfer(event)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush_scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        """Publish every pending coalesced update to the listeners."""
        self._flush_scheduled = False
        for ticker, dirty in self._dirty_levels.items():
            if not dirty:
                continue
            market = self.markets[ticker]
            bids = []
            asks = []
            for side, subticks in dirty:
                book = market.bids if side == "b" else market.asks
                level = [fmt(market.price(subticks)), fmt(market.size(book.get(subticks, 0)))]
                (bids if side == "b" else asks).append(level)
            contents: dict = {}
            if bids:
                contents["bids"] = bids
            if asks:
                contents["asks"] = asks
            self._pending.append(("v4_orderbook", ticker, contents, None))
        self._dirty_levels = {}
        for (address, number), contents in self._pending_sub.items():
            contents["blockHeight"] = str(self.height)
            self._pending.append(("v4_subaccounts", f"{address}/{number}", contents, number))
        self._pending_sub = {}
        pending, self._pending = self._pending, []
        for channel, channel_id, contents, number in pending:
            self.emit(channel, channel_id, contents, number)

    def emit(
        self, channel: str, channel_id: str | None, contents: dict, number: int | None = None,
    ) -> None:
        """
        Deliver one update to every listener immediately.

        Parameters
        ----------
        channel : str
            The channel.
        channel_id : str | None
            The subscription id (None for v4_markets).
        contents : dict
            The update contents.
        number : int | None, default None
            The subaccount number for subaccount updates.

        """
        version = _VERSIONS.get(channel, "1.0.0")
        contents = self.extra_fields.apply(contents)
        for listener in tuple(self.listeners):
            listener(channel, channel_id, contents, version, number)

    def _sub(self, address: str, number: int) -> SubaccountView:
        sub = self.subaccounts.get((address, number))
        if sub is None:
            sub = SubaccountView(address, number)
            self.subaccounts[(address, number)] = sub
        return sub

    def _sub_update(self, address: str, number: int, key: str, item: dict) -> None:
        contents = self._pending_sub.setdefault((address, number), {})
        if key == "transfers":
            contents[key] = item
        else:
            contents.setdefault(key, []).append(item)

    def _on_block(self, event: BlockEvent) -> None:
        previous_hour = self.time_ns // 3_600_000_000_000
        previous_stats = self.time_ns // self.stats_interval_ns
        self.height = event.height
        self.time_ns = event.time_ns
        if event.time_ns // self.stats_interval_ns != previous_stats:
            self.publish_market_stats()
        self._pending.append(
            ("v4_block_height", "v4_block_height",
             {"blockHeight": str(event.height), "time": iso(event.time_ns)}, None),
        )
        if event.time_ns // 3_600_000_000_000 != previous_hour:
            self._hourly(event)

    def _hourly(self, event: BlockEvent) -> None:
        for sub in self.subaccounts.values():
            equity, _ = self.equity(sub)
            sub.pnl.append(
                {
                    "equity": fmt(equity),
                    "totalPnl": fmt(equity - sum(
                        (Decimal(t["size"]) for t in sub.transfers), Decimal(0),
                    )),
                    "netTransfers": "0",
                    "createdAt": iso(event.time_ns),
                    "blockHeight": str(event.height),
                    "blockTime": iso(event.time_ns),
                },
            )

    def _on_oracle(self, event: OraclePriceEvent) -> None:
        market = self.markets.get(event.ticker)
        if market is None:
            return
        market.oracle_price = Decimal(event.price)
        market.oracle_height = event.height
        market.oracle_time_ns = event.time_ns
        self._pending.append(
            ("v4_markets", None, {
                "oraclePrices": {
                    market.ticker: {
                        "oraclePrice": fmt(market.oracle_price),
                        "effectiveAt": iso(event.time_ns),
                        "effectiveAtHeight": str(event.height),
                        "marketId": market.config.clob_pair_id,
                    },
                },
            }, None),
        )

    # -- Funding and market statistics (values) -------------------------------------------------

    def market_stats(self, market: MarketView) -> dict[str, object]:
        """
        Return the periodically published statistics of `market` (§3.6 `trading` fields).

        Parameters
        ----------
        market : MarketView
            The market.

        Returns
        -------
        dict[str, object]

        """
        data = self.market_json(market)
        keys = ("volume24H", "trades24H", "priceChange24H", "openInterest", "nextFundingRate")
        return {key: data[key] for key in keys}

    def publish_market_stats(self) -> None:
        """Publish one `trading` update with the statistics that changed since the last one."""
        trading: dict[str, dict] = {}
        for market in self.markets.values():
            stats = self.market_stats(market)
            changed = {k: v for k, v in stats.items() if market.last_stats.get(k) != v}
            market.last_stats = stats
            if changed:
                trading[market.ticker] = changed
        if trading:
            self._pending.append(("v4_markets", None, {"trading": trading}, None))

    def _on_premium_sample(self, event: PremiumSampleEvent) -> None:
        market = self.markets.get(event.ticker)
        if market is not None:
            market.samples.append(event.premium_ppm)

    def _on_funding(self, event: FundingEvent) -> None:
        market = self.markets.get(event.ticker)
        if market is None:
            return
        market.samples = []
        rate = Decimal(event.rate_ppm) / 8_000_000
        price = Decimal(event.oracle_price)
        market.funding_index = add(market.funding_index, mul(rate, price))
        market.funding.append(
            {
                "ticker": market.ticker,
                "rate": fmt(rate),
                "price": fmt(price),
                "effectiveAtHeight": str(event.height),
                "effectiveAt": iso(event.time_ns),
            },
        )
        for sub in self.subaccounts.values():
            position = sub.open_position(event.clob_pair_id)
            if position is None or position.size == 0:
                continue
            size = market.size(position.size)
            # Longs pay a positive rate: payment = -size × rate × oracle price, exactly
            payment = -mul(size, rate, price)
            position.net_funding = add(position.net_funding, payment)
            sub.funding_payments.append(
                {
                    "createdAt": iso(event.time_ns),
                    "createdAtHeight": str(event.height),
                    "perpetualId": str(event.clob_pair_id),
                    "ticker": market.ticker,
                    "oraclePrice": fmt(price),
                    "size": fmt(abs(size)),
                    "side": position.side,
                    "rate": fmt(rate),
                    "payment": fmt(payment),
                    "subaccountNumber": str(sub.number),
                    "fundingIndex": fmt(market.funding_index),
                },
            )
            if len(sub.funding_payments) > self.max_history:
                del sub.funding_payments[: len(sub.funding_payments) - self.max_history]
            self._sub_update(
                sub.address, sub.number, "perpetualPositions", self._position_ws(sub, position),
            )

    def set_market_status(self, ticker: str, status: str) -> None:
        """
        Record a market status change and publish it on v4_markets.

        Parameters
        ----------
        ticker : str
            The ticker.
        status : str
            The new status.

        """
        market = self.markets[ticker]
        market.status = status
        next_rate = fmt_big(market.next_funding_rate())
        self._pending.append(
            ("v4_markets", None,
             {"trading": {ticker: {"status": status, "nextFundingRate": next_rate}}}, None),
        )
        self._schedule_flush()

    def _set_level(self, market: MarketView, side: str, subticks: int, delta: int) -> None:
        book = market.bids if side == "BUY" else market.asks
        key = ("b" if side == "BUY" else "a", subticks)
        total = book.get(subticks, 0) + delta
        if total > 0:
            book[subticks] = total
        else:
            book.pop(subticks, None)
        self._stamp += 1
        market.stamps[key] = self._stamp
        self._dirty_levels.setdefault(market.ticker, {})[key] = None

    def set_level(self, ticker: str, side: str, price: str | Decimal, size: str | Decimal) -> None:
        """
        Set a price level's absolute size directly (fault injection: e.g. force a crossed book).

        Parameters
        ----------
        ticker : str
            The market.
        side : str
            "BUY" (bids) or "SELL" (asks).
        price : str | Decimal
            The level price in USD.
        size : str | Decimal
            The absolute size in base units ("0" removes the level).

        """
        market = self.markets[ticker]
        subticks = market.config.price_to_subticks(price)
        quantums = market.config.size_to_quantums(size)
        book = market.bids if side == "BUY" else market.asks
        self._set_level(market, side, subticks, quantums - book.get(subticks, 0))
        self._schedule_flush()

    def _track_resting(self, market: MarketView, order_id: str, snap: OrderSnapshot) -> None:
        remaining = snap.quantums - snap.total_filled
        rests = (
            snap.status in _RESTING
            and remaining > 0
            and snap.time_in_force not in ("TIME_IN_FORCE_IOC", "TIME_IN_FORCE_FILL_OR_KILL")
        )
        previous = self._resting.pop(order_id, None)
        if previous is not None:
            _, side, subticks, quantums = previous
            self._set_level(market, side, subticks, -quantums)
        if rests:
            self._resting[order_id] = (snap.clob_pair_id, snap.side, snap.subticks, remaining)
            self._set_level(market, snap.side, snap.subticks, remaining)

    def _order_json(self, snap: OrderSnapshot, height: int, time_ns: int) -> dict:
        market = self.by_id[snap.clob_pair_id]
        order_id = order_uuid(snap.owner, snap.subaccount_number, snap.client_id,
                              snap.clob_pair_id, snap.order_flags)
        order_type = _TWAP_TYPES.get(snap.order_flags, "LIMIT")
        if snap.order_flags == 32:
            take_profit = snap.condition_type.endswith("TAKE_PROFIT")
            order_type = "TAKE_PROFIT" if take_profit else "STOP_LIMIT"
        tif = {"TIME_IN_FORCE_IOC": "IOC", "TIME_IN_FORCE_FILL_OR_KILL": "FOK"}.get(
            snap.time_in_force, "GTT",
        )
        data = {
            "id": order_id,
            "subaccountId": subaccount_uuid(snap.owner, snap.subaccount_number),
            "clientId": str(snap.client_id),
            "clobPairId": str(snap.clob_pair_id),
            "side": snap.side,
            "size": fmt(market.size(snap.quantums)),
            "totalFilled": fmt(market.size(snap.total_filled)),
            "price": fmt(market.price(snap.subticks)),
            "type": order_type,
            "status": snap.status,
            "timeInForce": tif,
            "reduceOnly": snap.reduce_only,
            "orderFlags": str(snap.order_flags),
        }
        if snap.good_til_block:
            data["goodTilBlock"] = str(snap.good_til_block)
        if snap.good_til_block_time:
            data["goodTilBlockTime"] = iso(snap.good_til_block_time * 1_000_000_000)
        data["createdAtHeight"] = str(snap.created_at_height or height)
        data["clientMetadata"] = str(snap.client_metadata)
        if snap.order_flags == 32:
            data["triggerPrice"] = fmt(market.price(snap.trigger_subticks))
        data["updatedAt"] = iso(time_ns)
        data["updatedAtHeight"] = str(height)
        data["orderRouterAddress"] = ""
        data["postOnly"] = snap.time_in_force == "TIME_IN_FORCE_POST_ONLY"
        data["ticker"] = market.ticker
        data["subaccountNumber"] = snap.subaccount_number
        if snap.order_flags == _FLAG_TWAP:
            data.update(_twap_fields(snap))
        return data

    def _store_order(self, snap: OrderSnapshot, height: int, time_ns: int, extra: dict) -> dict:
        data = self._order_json(snap, height, time_ns)
        previous = self.orders.get(data["id"])
        if snap.order_flags == _FLAG_TWAP and previous is not None and snap.total_filled:
            # A TWAP order's price is the average of its suborder fills
            data["price"] = previous["price"]
        if previous is not None and "createdAt" in previous:
            data["createdAt"] = previous["createdAt"]
        elif snap.order_flags != 0:
            data["createdAt"] = iso(time_ns)
        self.orders[data["id"]] = data
        sub = self._sub(snap.owner, snap.subaccount_number)
        sub.orders[data["id"]] = data
        if len(sub.orders) > self.max_history:
            self._prune_orders(sub)
        update = {k: v for k, v in data.items() if k not in ("createdAt", "subaccountNumber")}
        update.update(extra)
        self._sub_update(snap.owner, snap.subaccount_number, "orders", update)
        return data

    def _prune_orders(self, sub: SubaccountView) -> None:
        # The scan stops at the oldest `excess` final orders: at the cap every new order prunes
        # one, and reading all 10 000 each time slowed block production about fivefold
        excess = len(sub.orders) - self.max_history
        final = ("FILLED", "CANCELED")
        oldest_final = (i for i, o in sub.orders.items() if o["status"] in final)
        for order_id in list(itertools.islice(oldest_final, excess)):
            del sub.orders[order_id]
            self.orders.pop(order_id, None)

    def _on_order(self, event: SandboxEvent) -> None:
        snap = event.order
        if snap is None or snap.clob_pair_id not in self.by_id:
            return
        market = self.by_id[snap.clob_pair_id]
        if snap.order_flags == _FLAG_TWAP_SUBORDER:
            self._on_twap_suborder(event, market)
            return
        extra: dict = {}
        if isinstance(event, OrderRemovedEvent):
            extra["removalReason"] = event.removal_reason
        data = self._store_order(snap, event.height, event.time_ns, extra)
        if not getattr(event, "book", True):
            return
        if isinstance(event, OrderRemovedEvent):
            previous = self._resting.pop(data["id"], None)
            if previous is not None:
                _, side, subticks, quantums = previous
                self._set_level(market, side, subticks, -quantums)
        elif snap.order_flags != _FLAG_TWAP:
            # A TWAP order never rests on the book itself (its suborders do)
            self._track_resting(market, data["id"], snap)

    def _on_memclob(self, event: MemclobEvent) -> None:
        snap = event.order
        if snap is None or snap.clob_pair_id not in self.by_id:
            return
        market = self.by_id[snap.clob_pair_id]
        order_id = order_uuid(snap.owner, snap.subaccount_number, snap.client_id,
                              snap.clob_pair_id, snap.order_flags)
        if event.removed:
            previous = self._resting.pop(order_id, None)
            if previous is not None:
                _, side, subticks, quantums = previous
                self._set_level(market, side, subticks, -quantums)
        else:
            self._track_resting(market, order_id, snap)

    def _on_fill(self, event: FillEvent) -> None:
        market = self.markets.get(event.ticker)
        if market is None:
            return
        price = market.price(event.subticks)
        taker_flags = 0 if event.taker is None else event.taker.order_flags
        self._record_trade(
            market, event.event_id, event.taker_side, event.quantums, price,
            "TWAP_SUBORDER" if taker_flags == _FLAG_TWAP_SUBORDER else "LIMIT",
            event.height, event.time_ns,
        )
        for liquidity, snap, fee in (
            ("TAKER", event.taker, event.taker_fee),
            ("MAKER", event.maker, event.maker_fee),
        ):
            if snap is None:
                continue
            is_suborder = snap.order_flags == _FLAG_TWAP_SUBORDER
            self._record_fill(
                market, event.event_id, liquidity,
                "TWAP_SUBORDER" if is_suborder else "LIMIT", snap.owner,
                snap.subaccount_number, snap.side, event.quantums, price, event.quote_quantums,
                fee, event.height, event.time_ns, event.tx_hash, snap, book=event.book,
                # A TWAP suborder's fill belongs to its parent order
                parent_order_id=self._twap_fill(snap, event, price) if is_suborder else None,
            )

    def _on_liquidation_fill(self, event: LiquidationFillEvent) -> None:
        market = self.markets.get(event.ticker)
        if market is None:
            return
        size = market.size(event.quantums)
        if event.subticks:
            price = market.price(event.subticks)
        else:
            # Deleveraging happens at the bankruptcy price: quote / size, off the tick grid
            price = div(usdc(event.quote_quantums), size)
        self._record_trade(
            market, event.event_id, event.taker_side, event.quantums, price, event.kind,
            event.height, event.time_ns,
        )
        maker_side = "SELL" if event.taker_side == "BUY" else "BUY"
        maker_type = "LIQUIDATION" if event.kind == "LIQUIDATED" else "OFFSETTING"
        self._record_fill(
            market, event.event_id, "TAKER", event.kind, event.owner, event.subaccount_number,
            event.taker_side, event.quantums, price, event.quote_quantums, event.taker_fee,
            event.height, event.time_ns, "", None,
        )
        self._record_fill(
            market, event.event_id, "MAKER", maker_type, event.maker_owner,
            event.maker_subaccount_number, maker_side, event.quantums, price,
            event.quote_quantums, event.maker_fee, event.height, event.time_ns, "", event.maker,
        )
        self._liquidation_close[(event.owner, event.subaccount_number, event.clob_pair_id)] = (
            "LIQUIDATED"
        )

    def _record_trade(
        self, market: MarketView, event_id: str, side: str, quantums: int, price: Decimal,
        trade_type: str, height: int, time_ns: int,
    ) -> None:
        size = market.size(quantums)
        trade = {
            "id": event_id,
            "side": side,
            "size": fmt(size),
            "price": fmt(price),
            "type": trade_type,
            "createdAt": iso(time_ns),
            "createdAtHeight": str(height),
        }
        market.trades.append(trade)
        if len(market.trades) > self.max_trades:
            del market.trades[: len(market.trades) - self.max_trades]
        self._pending.append(("v4_trades", market.ticker, {"trades": [trade]}, None))
        self._update_candles(market, time_ns, price, size)

    def _record_fill(
        self, market: MarketView, event_id: str, liquidity: str, fill_type: str, owner: str,
        number: int, side: str, quantums: int, price: Decimal, quote_quantums: int, fee: int,
        height: int, time_ns: int, tx_hash: str, snap: OrderSnapshot | None, book: bool = True,
        parent_order_id: str | None = None,
    ) -> None:
        clob_pair_id = market.config.clob_pair_id
        fill = {
            "id": fill_uuid(event_id, liquidity),
            "side": side,
            "liquidity": liquidity,
            "type": fill_type,
            "market": market.ticker,
            "marketType": "PERPETUAL",
            "price": fmt(price),
            "size": fmt(market.size(quantums)),
            "fee": fmt(usdc(fee)),
            "affiliateRevShare": "0",
            "createdAt": iso(time_ns),
            "createdAtHeight": str(height),
        }
        order_id = None
        if snap is not None:
            order_id = order_uuid(
                snap.owner, snap.subaccount_number, snap.client_id, snap.clob_pair_id,
                snap.order_flags,
            )
            fill["orderId"] = order_id if parent_order_id is None else parent_order_id
            fill["clientMetadata"] = str(snap.client_metadata)
        fill["subaccountNumber"] = number
        sub = self._sub(owner, number)
        sub.fills.append(fill)
        if len(sub.fills) > self.max_history:
            del sub.fills[: len(sub.fills) - self.max_history]
        ws_fill = dict(fill)
        ws_fill.update(
            {
                "subaccountId": sub.uuid,
                "clobPairId": str(clob_pair_id),
                "quoteAmount": fmt(usdc(quote_quantums)),
                "eventId": event_id,
                "transactionHash": tx_hash,
                "ticker": market.ticker,
            },
        )
        self._sub_update(owner, number, "fills", ws_fill)
        if order_id is not None and book:
            if order_id in self._resting:
                self._track_resting(market, order_id, snap)

    def _on_twap_suborder(self, event: SandboxEvent, market: MarketView) -> None:
        # Suborders are not Indexer orders (their fills count on the TWAP order); they still
        # rest on the book while they live
        snap = event.order
        order_id = order_uuid(snap.owner, snap.subaccount_number, snap.client_id,
                              snap.clob_pair_id, snap.order_flags)
        if isinstance(event, OrderRemovedEvent):
            previous = self._resting.pop(order_id, None)
            if previous is not None:
                _, side, subticks, quantums = previous
                self._set_level(market, side, subticks, -quantums)
        else:
            self._track_resting(market, order_id, snap)

    def _twap_fill(self, snap: OrderSnapshot, event: FillEvent, price: Decimal) -> str:
        # A suborder fill updates its TWAP order: average price, filled size, status
        parent_id = order_uuid(snap.owner, snap.subaccount_number, snap.client_id,
                               snap.clob_pair_id, _FLAG_TWAP)
        parent = self.orders.get(parent_id)
        if parent is None:
            return parent_id
        market = self.by_id[snap.clob_pair_id]
        filled = Decimal(parent["totalFilled"])
        size = market.size(event.quantums)
        total = filled + size
        average = (Decimal(parent["price"]) * filled + price * size) / total
        parent["price"] = fmt(average.quantize(Decimal("1e-12")).normalize())
        parent["totalFilled"] = fmt(total)
        if total >= Decimal(parent["size"]):
            parent["status"] = "FILLED"
        parent["updatedAt"] = iso(event.time_ns)
        parent["updatedAtHeight"] = str(event.height)
        update = {k: v for k, v in parent.items() if k not in ("createdAt", "subaccountNumber")}
        self._sub_update(snap.owner, snap.subaccount_number, "orders", update)
        return parent_id

    def _update_candles(
        self, market: MarketView, time_ns: int, price: Decimal, size: Decimal,
    ) -> None:
        seconds = time_ns // 1_000_000_000
        mid = market.mid()
        for resolution, length in RESOLUTIONS.items():
            start = seconds - seconds % length
            candles = market.candles[resolution]
            candle = candles.get(start)
            if candle is None:
                mid_text = None if mid is None else fmt(mid)
                candle = {
                    "startedAt": iso(start * 1_000_000_000),
                    "ticker": market.ticker,
                    "resolution": resolution,
                    "low": fmt(price),
                    "high": fmt(price),
                    "open": fmt(price),
                    "close": fmt(price),
                    "baseTokenVolume": "0",
                    "usdVolume": "0",
                    "trades": 0,
                    "startingOpenInterest": fmt(market.size(market.open_interest)),
                    "orderbookMidPriceOpen": mid_text,
                    "orderbookMidPriceClose": mid_text,
                }
                candles[start] = candle
            candle["low"] = fmt(min(Decimal(candle["low"]), price))
            candle["high"] = fmt(max(Decimal(candle["high"]), price))
            candle["close"] = fmt(price)
            candle["baseTokenVolume"] = fmt(add(Decimal(candle["baseTokenVolume"]), size))
            candle["usdVolume"] = fmt(add(Decimal(candle["usdVolume"]), mul(size, price)))
            candle["trades"] += 1
            if mid is not None:
                candle["orderbookMidPriceClose"] = fmt(mid)
            self._pending.append(
                ("v4_candles", f"{market.ticker}/{resolution}", dict(candle), None),
            )

    def _on_position(self, event: PositionEvent) -> None:
        market = self.by_id.get(event.perpetual_id)
        if market is None:
            return
        sub = self._sub(event.owner, event.subaccount_number)
        sub.updated_at_height = event.height
        position = sub.open_position(event.perpetual_id)
        if position is None:
            if event.size == 0:
                return
            position = PositionView(
                event.owner, event.subaccount_number, event.perpetual_id, event.ticker,
                event.time_ns, event.height,
            )
            position.position_id = str(uuid.uuid5(
                INDEXER_NAMESPACE,
                f"{sub.uuid}-{event.perpetual_id}-{event.height}-{len(sub.positions)}",
            ))
            sub.positions.append(position)
        old_size = position.size
        closed = max(0, abs(old_size) - abs(event.size)) if old_size and (
            event.size == 0 or (old_size > 0) == (event.size > 0)
        ) else abs(old_size)
        liquidated = self._liquidation_close.pop(
            (event.owner, event.subaccount_number, event.perpetual_id), None,
        )
        cost = 0
        if closed and old_size:
            # The closing proceeds follow from the chain's cost basis and realized PnL
            cost = position.entry_quote * closed // abs(old_size)
            pnl = event.realized_pnl - position.realized_pnl
            proceeds = cost + pnl if old_size > 0 else cost - pnl
            position.exit_quote += usdc(proceeds)
        flipped = old_size != 0 and event.size != 0 and (old_size > 0) != (event.size > 0)
        if not flipped:
            position.open_quote += usdc(event.entry_quote_quantums - (position.entry_quote - cost))
        market.open_interest += max(event.size, 0) - max(old_size, 0)
        position.size = event.size
        position.entry_quote = event.entry_quote_quantums
        position.realized_pnl = event.realized_pnl
        position.sum_open = event.sum_open
        position.sum_close = event.sum_close
        position.max_size = event.max_size
        if event.size != 0:
            position.side = "LONG" if event.size > 0 else "SHORT"
        if event.size == 0 or (old_size != 0 and (old_size > 0) != (event.size > 0)):
            position.status = "LIQUIDATED" if liquidated else "CLOSED"
            position.closed_at_ns = event.time_ns
            position.closed_at_height = event.height
            update = self._position_ws(sub, position)
            self._sub_update(event.owner, event.subaccount_number, "perpetualPositions", update)
            if event.size != 0:
                # A flip closes the old position and opens a new one
                self._on_position(event)
            return
        update = self._position_ws(sub, position)
        self._sub_update(event.owner, event.subaccount_number, "perpetualPositions", update)

    def _on_balance(self, event: BalanceEvent) -> None:
        sub = self._sub(event.owner, event.subaccount_number)
        delta = event.quantums - sub.usdc
        sub.usdc = event.quantums
        sub.updated_at_height = event.height
        if event.reason not in ("FILL", "FUNDING", "TRANSFER") and delta != 0:
            transfer = {
                "id": str(uuid.uuid5(
                    INDEXER_NAMESPACE, f"{sub.uuid}-transfer-{event.seq}-{event.height}",
                )),
                "sender": {"address": event.owner},
                "recipient": {"address": event.owner, "subaccountNumber": event.subaccount_number},
                "size": fmt(usdc(abs(delta))),
                "createdAt": iso(event.time_ns),
                "createdAtHeight": str(event.height),
                "symbol": "USDC",
                "type": "DEPOSIT" if delta > 0 else "WITHDRAWAL",
                "transactionHash": "",
            }
            if delta < 0:
                transfer["sender"], transfer["recipient"] = (
                    transfer["recipient"], transfer["sender"],
                )
            sub.transfers.append(transfer)
            update = {k: v for k, v in transfer.items() if k != "id"}
            self._sub_update(event.owner, event.subaccount_number, "transfers", update)
        self._sub_update(
            event.owner, event.subaccount_number, "assetPositions",
            dict(self.asset_json(sub), address=sub.address,
                 positionId=str(uuid.uuid5(INDEXER_NAMESPACE, f"{sub.uuid}-0"))),
        )

    def _on_transfer(self, event: TransferEvent) -> None:
        sender = {"address": event.sender_owner, "subaccountNumber": event.sender_number}
        recipient = {"address": event.recipient_owner, "subaccountNumber": event.recipient_number}
        for owner, number, kind in (
            (event.sender_owner, event.sender_number, "TRANSFER_OUT"),
            (event.recipient_owner, event.recipient_number, "TRANSFER_IN"),
        ):
            sub = self._sub(owner, number)
            transfer = {
                "id": str(uuid.uuid5(
                    INDEXER_NAMESPACE, f"{sub.uuid}-transfer-{event.seq}-{event.height}",
                )),
                "sender": dict(sender),
                "recipient": dict(recipient),
                "size": fmt(usdc(event.quantums)),
                "createdAt": iso(event.time_ns),
                "createdAtHeight": str(event.height),
                "symbol": "USDC",
                "type": kind,
                "transactionHash": event.tx_hash,
            }
            sub.transfers.append(transfer)
            update = {k: v for k, v in transfer.items() if k != "id"}
            self._sub_update(owner, number, "transfers", update)

    # -- Views ---------------------------------------------------------------------------------

    def market_json(self, market: MarketView) -> dict:
        """
        Return the REST PerpetualMarket object of `market`.

        Parameters
        ----------
        market : MarketView
            The market.

        Returns
        -------
        dict

        """
        c = market.config
        imf = Decimal(c.initial_margin_ppm).scaleb(-6)
        mmf = Decimal(c.maintenance_margin_ppm).scaleb(-6)
        day_ago = self.time_ns - 86_400_000_000_000
        volume = Decimal(0)
        trades24 = 0
        first = None
        for trade in reversed(market.trades):
            if _cached_iso_ns(trade["createdAt"]) < day_ago:
                break
            volume = add(volume, mul(Decimal(trade["size"]), Decimal(trade["price"])))
            trades24 += 1
            first = Decimal(trade["price"])
        change = Decimal(0) if first is None else add(market.oracle_price, -first)
        next_rate = fmt_big(market.next_funding_rate())
        return {
            "clobPairId": str(c.clob_pair_id),
            "ticker": c.ticker,
            "status": market.status,
            "oraclePrice": fmt(market.oracle_price),
            "priceChange24H": fmt(change),
            "volume24H": fmt(volume),
            "trades24H": trades24,
            "nextFundingRate": next_rate,
            "initialMarginFraction": fmt(imf),
            "maintenanceMarginFraction": fmt(mmf),
            "openInterest": fmt(market.size(market.open_interest)),
            "atomicResolution": c.atomic_resolution,
            "quantumConversionExponent": c.quantum_conversion_exponent,
            "tickSize": fmt(market.tick_size),
            "stepSize": fmt(market.step_size),
            "stepBaseQuantums": c.step_base_quantums,
            "subticksPerTick": c.subticks_per_tick,
            "marketType": c.market_type,
            "openInterestLowerCap": "0",
            "openInterestUpperCap": "0",
            "baseOpenInterest": fmt(market.size(market.open_interest)),
            "defaultFundingRate1H": fmt(Decimal(DEFAULT_FUNDING_PPM) / 8_000_000),
        }

    def book_json(self, ticker: str) -> dict:
        """
        Return the REST order book of `ticker` (100 levels, uncrossed).

        Parameters
        ----------
        ticker : str
            The market.

        Returns
        -------
        dict

        """
        market = self.markets[ticker]
        bids, asks = market.levels()
        return {
            "bids": [{"price": fmt(market.price(p)), "size": fmt(market.size(q))} for p, q in bids],
            "asks": [{"price": fmt(market.price(p)), "size": fmt(market.size(q))} for p, q in asks],
        }

    def position_json(self, sub: SubaccountView, position: PositionView) -> dict:
        """
        Return the REST PerpetualPosition of `position`.

        Parameters
        ----------
        sub : SubaccountView
            The subaccount.
        position : PositionView
            The position.

        Returns
        -------
        dict

        """
        market = self.by_id[position.perpetual_id]
        size = market.size(position.size)
        entry = Decimal(0)
        if position.sum_open:
            # The Indexer's entry price is the size-weighted mean price of the opening fills
            entry = div(position.open_quote, market.size(position.sum_open))
        exit_price = None
        if position.sum_close:
            exit_price = fmt(div(position.exit_quote, market.size(position.sum_close)))
        unrealized = mul(add(market.oracle_price, -entry), size) if position.size else Decimal(0)
        return {
            "market": position.ticker,
            "status": position.status,
            "side": position.side,
            "size": fmt(size),
            "maxSize": fmt(market.size(position.max_size)),
            "entryPrice": fmt(entry),
            "exitPrice": exit_price,
            "realizedPnl": fmt(add(usdc(position.realized_pnl), position.net_funding)),
            "unrealizedPnl": fmt(unrealized),
            "createdAt": iso(position.created_at_ns),
            "createdAtHeight": str(position.created_at_height),
            "closedAt": None if position.closed_at_ns is None else iso(position.closed_at_ns),
            "sumOpen": fmt(market.size(position.sum_open)),
            "sumClose": fmt(market.size(position.sum_close)),
            "netFunding": fmt(position.net_funding),
            "subaccountNumber": sub.number,
        }

    def _position_ws(self, sub: SubaccountView, position: PositionView) -> dict:
        data = self.position_json(sub, position)
        for key in ("createdAt", "createdAtHeight", "closedAt"):
            data.pop(key)
        data["address"] = sub.address
        data["positionId"] = position.position_id
        return data

    def asset_json(self, sub: SubaccountView) -> dict:
        """
        Return the REST USDC AssetPosition of `sub`.

        Parameters
        ----------
        sub : SubaccountView
            The subaccount.

        Returns
        -------
        dict

        """
        return {
            "size": fmt(usdc(abs(sub.usdc))),
            "symbol": "USDC",
            "side": "LONG" if sub.usdc >= 0 else "SHORT",
            "assetId": "0",
            "subaccountNumber": sub.number,
        }

    def equity(self, sub: SubaccountView) -> tuple[Decimal, Decimal]:
        """
        Return (equity, free collateral) of `sub` in USDC at oracle prices.

        Parameters
        ----------
        sub : SubaccountView
            The subaccount.

        Returns
        -------
        tuple[Decimal, Decimal]

        """
        equity = usdc(sub.usdc)
        initial = Decimal(0)
        for position in sub.positions:
            if position.status != "OPEN":
                continue
            market = self.by_id[position.perpetual_id]
            notional = mul(market.size(position.size), market.oracle_price)
            equity = add(equity, notional)
            fraction = Decimal(market.config.initial_margin_ppm).scaleb(-6)
            initial = add(initial, mul(abs(notional), fraction))
        return equity, add(equity, -initial)

    def subaccount_json(self, sub: SubaccountView) -> dict:
        """
        Return the REST Subaccount object of `sub`.

        Parameters
        ----------
        sub : SubaccountView
            The subaccount.

        Returns
        -------
        dict

        """
        equity, free = self.equity(sub)
        positions = {
            p.ticker: self.position_json(sub, p) for p in sub.positions if p.status == "OPEN"
        }
        assets = {"USDC": self.asset_json(sub)} if sub.usdc != 0 else {}
        return {
            "address": sub.address,
            "subaccountNumber": sub.number,
            "equity": fmt(equity),
            "freeCollateral": fmt(free),
            "openPerpetualPositions": positions,
            "assetPositions": assets,
            "marginEnabled": True,
            "updatedAtHeight": str(sub.updated_at_height),
            "latestProcessedBlockHeight": str(self.height),
        }

    def live_orders(self, sub: SubaccountView) -> list[dict]:
        """
        Return the orders a subaccount snapshot lists (§3.7).

        Parameters
        ----------
        sub : SubaccountView
            The subaccount.

        Returns
        -------
        list[dict]

        """
        result = []
        for order in sub.orders.values():
            status = order["status"]
            if status in ("OPEN", "UNTRIGGERED", "BEST_EFFORT_OPENED"):
                result.append(order)
            elif status == "BEST_EFFORT_CANCELED" and int(order.get("goodTilBlock", 0)) > (
                self.height - 20
            ):
                result.append(order)
        return result

    def subaccount_snapshot(self, address: str, number: int) -> dict:
        """
        Return the v4_subaccounts snapshot contents ({} when the subaccount does not exist).

        Parameters
        ----------
        address : str
            The owner address.
        number : int
            The subaccount number.

        Returns
        -------
        dict

        """
        sub = self.subaccounts.get((address, number))
        if sub is None:
            return {}
        return {
            "subaccount": self.subaccount_json(sub),
            "orders": self.live_orders(sub),
            "blockHeight": str(self.height),
        }
