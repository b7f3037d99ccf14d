# SPDX-License-Identifier: Apache-2.0
"""`RunRecorder`: an actor that counts market data and keeps order events and a time series."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from decimal import Decimal

from nautilus_trader.common.actor import Actor
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import InstrumentId


MAX_MIDS = 200_000


@dataclass
class Sample:
    """
    One point of the run's time series.

    Parameters
    ----------
    ts_ns : int
        UNIX nanoseconds.
    mid : Decimal | None
        The quote mid price.
    position : Decimal
        The signed net position.
    pnl : Decimal | None
        Realized plus unrealized PnL (USDC), None before a price is known.

    """

    ts_ns: int
    mid: Decimal | None
    position: Decimal
    pnl: Decimal | None


@dataclass
class RunRecord:
    """
    Everything a run summary needs from the Nautilus side.

    Parameters
    ----------
    instrument_id : InstrumentId
        The traded instrument.
    data_counts : Counter
        Market data received per kind (deltas, quotes, trades, bars).
    instruments : int
        Instruments in the cache.
    events : list
        Every order event, in order.
    samples : list[Sample]
        The sampled time series.
    mids : list[tuple[int, Decimal]]
        (UNIX nanoseconds, mid price) of every quote, up to `MAX_MIDS`.

    """

    instrument_id: InstrumentId
    data_counts: Counter = field(default_factory=Counter)
    instruments: int = 0
    events: list = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    mids: list[tuple[int, Decimal]] = field(default_factory=list)

    @property
    def fills(self) -> list[OrderFilled]:
        """The fill events."""
        return [e for e in self.events if isinstance(e, OrderFilled)]


def bar_type_for(instrument_id: InstrumentId) -> BarType:
    """
    Return the 1-minute external bar type of an instrument (dYdX candles).

    Parameters
    ----------
    instrument_id : InstrumentId

    Returns
    -------
    BarType

    """
    return BarType.from_str(f"{instrument_id}-1-MINUTE-LAST-EXTERNAL")


def signed_position(cache, instrument_id: InstrumentId) -> Decimal:
    """
    Return the signed net quantity of the open positions of an instrument in a cache.

    Parameters
    ----------
    cache : Cache
    instrument_id : InstrumentId

    Returns
    -------
    Decimal

    """
    return sum(
        (Decimal(str(p.signed_qty)) for p in cache.positions_open(instrument_id=instrument_id)),
        Decimal(0),
    )


class RunRecorder(Actor):
    """
    Subscribes to the instrument's deltas, quotes, trades and bars, and records order events.

    Parameters
    ----------
    instrument_id : InstrumentId
        The instrument to follow.
    sample_interval_secs : float, default 0.5
        Interval of the time series samples.

    """

    def __init__(self, instrument_id: InstrumentId, sample_interval_secs: float = 0.5) -> None:
        super().__init__()
        self.record = RunRecord(instrument_id)
        self._interval = sample_interval_secs
        self._mid: Decimal | None = None

    def on_start(self) -> None:
        instrument_id = self.record.instrument_id
        self.subscribe_order_book_deltas(instrument_id, BookType.L2_MBP)
        self.subscribe_quote_ticks(instrument_id)
        self.subscribe_trade_ticks(instrument_id)
        self.subscribe_bars(bar_type_for(instrument_id))
        self.msgbus.subscribe("events.order.*", self._on_order_event)
        self.clock.set_timer(
            "demo-sample", timedelta(seconds=self._interval), callback=self._on_sample,
        )

    def on_stop(self) -> None:
        self._sample()
        if "demo-sample" in self.clock.timer_names:
            self.clock.cancel_timer("demo-sample")

    def on_order_book_deltas(self, deltas) -> None:
        self.record.data_counts["deltas"] += 1

    def on_quote_tick(self, tick) -> None:
        self.record.data_counts["quotes"] += 1
        self._mid = (tick.bid_price.as_decimal() + tick.ask_price.as_decimal()) / 2
        if len(self.record.mids) < MAX_MIDS:
            self.record.mids.append((tick.ts_init, self._mid))

    def on_trade_tick(self, tick) -> None:
        self.record.data_counts["trades"] += 1

    def on_bar(self, bar) -> None:
        self.record.data_counts["bars"] += 1

    def _on_order_event(self, event) -> None:
        self.record.events.append(event)

    def _on_sample(self, event) -> None:
        self._sample()

    def _sample(self) -> None:
        instrument_id = self.record.instrument_id
        self.record.instruments = len(self.cache.instruments())
        position = signed_position(self.cache, instrument_id)
        pnl = None
        if self._mid is not None:
            pnl = nautilus_pnl(self.cache, self.portfolio, instrument_id, self._mid)
        self.record.samples.append(
            Sample(self.clock.timestamp_ns(), self._mid, position, pnl),
        )


def nautilus_pnl(cache, portfolio, instrument_id: InstrumentId, mark: Decimal) -> Decimal:
    """
    Return Nautilus's realized PnL plus the open positions' unrealized PnL at `mark`.

    Parameters
    ----------
    cache : Cache
    portfolio : Portfolio
    instrument_id : InstrumentId
    mark : Decimal
        The price of the unrealized PnL.

    Returns
    -------
    Decimal

    """
    instrument = cache.instrument(instrument_id)
    realized = portfolio.realized_pnl(instrument_id)
    total = Decimal(0) if realized is None else realized.as_decimal()
    if instrument is None:
        return total
    price = instrument.make_price(mark)
    for position in cache.positions_open(instrument_id=instrument_id):
        total += position.unrealized_pnl(price).as_decimal()
    return total
