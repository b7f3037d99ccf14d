# SPDX-License-Identifier: Apache-2.0
"""Typed sandbox events and the in-process event bus the Indexer subscribes to."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import fields
from typing import ClassVar


@dataclass(frozen=True)
class OrderSnapshot:
    """
    The full state of an order at the time of an event (all prices and sizes are integers).

    Parameters
    ----------
    owner : str
        The subaccount owner address.
    subaccount_number : int
        The subaccount number.
    client_id : int
        The client id.
    order_flags : int
        0 short-term, 32 conditional, 64 long-term, 128 TWAP, 256 TWAP suborder.
    clob_pair_id : int
        The CLOB pair id.
    ticker : str
        The market ticker.
    side : str
        "BUY" or "SELL".
    quantums : int
        The order size in base quantums.
    subticks : int
        The limit price in subticks.
    good_til_block : int
        The short-term expiry height (0 for stateful).
    good_til_block_time : int
        The stateful expiry in unix seconds (0 for short-term).
    time_in_force : str
        The chain enum name, e.g. "TIME_IN_FORCE_IOC".
    reduce_only : bool
        The reduce-only flag.
    client_metadata : int
        The opaque client metadata.
    condition_type : str
        The chain enum name, e.g. "CONDITION_TYPE_STOP_LOSS".
    trigger_subticks : int
        The conditional trigger price in subticks (0 if not conditional).
    total_filled : int
        The filled amount in base quantums.
    status : str
        The indexer status: OPEN, FILLED, CANCELED, BEST_EFFORT_CANCELED, UNTRIGGERED,
        BEST_EFFORT_OPENED.
    created_at_height : int
        The height at which the order was placed.
    tx_hash : str
        The upper-case hex hash of the placing transaction.
    twap_duration : int, default 0
        The TWAP duration in seconds (TWAP orders only).
    twap_interval : int, default 0
        The TWAP suborder interval in seconds (TWAP orders only).
    twap_price_tolerance : int, default 0
        The TWAP suborder price tolerance in ppm of the oracle price (TWAP orders only).

    """

    owner: str
    subaccount_number: int
    client_id: int
    order_flags: int
    clob_pair_id: int
    ticker: str
    side: str
    quantums: int
    subticks: int
    good_til_block: int
    good_til_block_time: int
    time_in_force: str
    reduce_only: bool
    client_metadata: int
    condition_type: str
    trigger_subticks: int
    total_filled: int
    status: str
    created_at_height: int
    tx_hash: str
    twap_duration: int = 0
    twap_interval: int = 0
    twap_price_tolerance: int = 0


@dataclass(frozen=True)
class SandboxEvent:
    """
    Base class of sandbox events; `seq` is the bus-wide sequence number.

    Parameters
    ----------
    seq : int
        The sequence number assigned by the bus (0 until published).
    height : int
        The block height the state change belongs to.
    time_ns : int
        The block time of that height in unix nanoseconds.

    """

    type: ClassVar[str] = "event"

    seq: int
    height: int
    time_ns: int

    def to_dict(self) -> dict:
        """
        Return the event as a JSON-compatible dict with a "type" key.

        Returns
        -------
        dict

        """
        data = asdict(self)
        data["type"] = self.type
        return data

    def to_json(self) -> str:
        """
        Return the event as one canonical JSON line (sorted keys, no spaces).

        Returns
        -------
        str

        """
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class BlockEvent(SandboxEvent):
    """A block was committed at `height` with block time `time_ns`."""

    type: ClassVar[str] = "block"

    tx_hashes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderPlacedEvent(SandboxEvent):
    """
    An order was accepted: on the book (OPEN / BEST_EFFORT_OPENED) or waiting (UNTRIGGERED).

    Parameters
    ----------
    order : OrderSnapshot
        The order state after placement.
    replaced : bool
        Whether the placement replaced a short-term order with the same id.

    """

    type: ClassVar[str] = "order_placed"

    order: OrderSnapshot | None = None
    replaced: bool = False


@dataclass(frozen=True)
class OrderUpdatedEvent(SandboxEvent):
    """
    An order changed in place (partial fill, conditional triggered).

    Parameters
    ----------
    order : OrderSnapshot
        The order state after the change.
    reason : str
        "FILL" or "TRIGGERED".
    book : bool
        False when the event reports a match already shown on the book by a `MemclobEvent`
        (matching results are delivered with the block that commits them).

    """

    type: ClassVar[str] = "order_updated"

    order: OrderSnapshot | None = None
    reason: str = ""
    book: bool = True


@dataclass(frozen=True)
class OrderRemovedEvent(SandboxEvent):
    """
    An order left the book or state, or a best-effort short-term cancel was accepted.

    Parameters
    ----------
    order : OrderSnapshot
        The last known order state (`status` is the final indexer status).
    removal_reason : str
        The §3.7 name, e.g. "ORDER_REMOVAL_REASON_USER_CANCELED".
    removed : bool
        False for a best-effort cancel that did not remove a live order.
    book : bool
        False when the event reports a match already shown on the book by a `MemclobEvent`
        (matching results are delivered with the block that commits them).

    """

    type: ClassVar[str] = "order_removed"

    order: OrderSnapshot | None = None
    removal_reason: str = ""
    removed: bool = True
    book: bool = True


@dataclass(frozen=True)
class FillEvent(SandboxEvent):
    """
    A match between a taker and a maker order.

    Parameters
    ----------
    event_id : str
        Hex of height (4 bytes) || transaction index (4) || event index (4).
    clob_pair_id : int
        The CLOB pair id.
    ticker : str
        The market ticker.
    quantums : int
        The matched size in base quantums.
    subticks : int
        The match price (the maker's price) in subticks.
    quote_quantums : int
        The notional in quote quantums, rounded down.
    taker_side : str
        "BUY" or "SELL".
    taker : OrderSnapshot
        The taker order after the fill.
    maker : OrderSnapshot
        The maker order after the fill.
    taker_fee : int
        The taker fee in quote quantums.
    maker_fee : int
        The maker fee in quote quantums (negative is a rebate).
    tx_hash : str
        The hash of the transaction that caused the match.
    book : bool
        False when the event reports a match already shown on the book by a `MemclobEvent`
        (matching results are delivered with the block that commits them).

    """

    type: ClassVar[str] = "fill"

    event_id: str = ""
    clob_pair_id: int = 0
    ticker: str = ""
    quantums: int = 0
    subticks: int = 0
    quote_quantums: int = 0
    taker_side: str = ""
    taker: OrderSnapshot | None = None
    maker: OrderSnapshot | None = None
    taker_fee: int = 0
    maker_fee: int = 0
    tx_hash: str = ""
    book: bool = True


@dataclass(frozen=True)
class MemclobEvent(SandboxEvent):
    """
    The node's in-memory book changed an order at once (off-chain, before any block).

    The matching results themselves (fills, statuses, positions) follow with the block that
    commits them; this event only moves book levels.

    Parameters
    ----------
    order : OrderSnapshot
        The order after the change.
    removed : bool
        Whether the order left the book.

    """

    type: ClassVar[str] = "memclob"

    order: OrderSnapshot | None = None
    removed: bool = False


@dataclass(frozen=True)
class PositionEvent(SandboxEvent):
    """
    A perpetual position changed.

    Parameters
    ----------
    owner : str
        The owner address.
    subaccount_number : int
        The subaccount number.
    perpetual_id : int
        The perpetual (= CLOB pair) id.
    ticker : str
        The market ticker.
    size : int
        The signed size in base quantums (positive long).
    side : str
        "LONG", "SHORT" or "" when flat.
    status : str
        "OPEN" or "CLOSED".
    entry_quote_quantums : int
        The cost basis of the open size in quote quantums (entry price = this / |size|).
    realized_pnl : int
        The realized PnL of the position in quote quantums (fees excluded).
    sum_open : int
        The total opened size in base quantums.
    sum_close : int
        The total closed size in base quantums.
    max_size : int
        The largest absolute size reached, signed like the position.

    """

    type: ClassVar[str] = "position"

    owner: str = ""
    subaccount_number: int = 0
    perpetual_id: int = 0
    ticker: str = ""
    size: int = 0
    side: str = ""
    status: str = ""
    entry_quote_quantums: int = 0
    realized_pnl: int = 0
    sum_open: int = 0
    sum_close: int = 0
    max_size: int = 0


@dataclass(frozen=True)
class BalanceEvent(SandboxEvent):
    """
    A subaccount asset (USDC, asset id 0) balance changed.

    Parameters
    ----------
    owner : str
        The owner address.
    subaccount_number : int
        The subaccount number.
    asset_id : int
        The asset id (0 = USDC).
    quantums : int
        The new balance in quote quantums (1e-6 USDC), may be negative.
    reason : str
        "GENESIS", "DEPOSIT", "FILL", "FUNDING" or "LIQUIDATION".

    """

    type: ClassVar[str] = "balance"

    owner: str = ""
    subaccount_number: int = 0
    asset_id: int = 0
    quantums: int = 0
    reason: str = ""


@dataclass(frozen=True)
class OraclePriceEvent(SandboxEvent):
    """
    An oracle price changed.

    Parameters
    ----------
    clob_pair_id : int
        The CLOB pair id.
    ticker : str
        The market ticker.
    subticks : int
        The oracle price in subticks.
    price : str
        The oracle price in USD as an exact decimal string.

    """

    type: ClassVar[str] = "oracle_price"

    clob_pair_id: int = 0
    ticker: str = ""
    subticks: int = 0
    price: str = ""


# -- Values events (funding.py, margin.py) -----------------------------------------------------


@dataclass(frozen=True)
class PremiumSampleEvent(SandboxEvent):
    """
    A funding premium sample of a market (taken once per minute of block time).

    Parameters
    ----------
    clob_pair_id : int
        The CLOB pair (= perpetual) id.
    ticker : str
        The market ticker.
    premium_ppm : int
        The sampled 8-hour premium in parts per million.

    """

    type: ClassVar[str] = "premium_sample"

    clob_pair_id: int = 0
    ticker: str = ""
    premium_ppm: int = 0


@dataclass(frozen=True)
class FundingEvent(SandboxEvent):
    """
    An hourly funding tick of a market: the rate was applied to every open position.

    Parameters
    ----------
    clob_pair_id : int
        The CLOB pair (= perpetual) id.
    ticker : str
        The market ticker.
    rate_ppm : int
        The 8-hour funding rate in ppm (the 1-hour rate paid is rate_ppm / 8e6).
    oracle_price : str
        The oracle price used, as an exact decimal string.

    """

    type: ClassVar[str] = "funding"

    clob_pair_id: int = 0
    ticker: str = ""
    rate_ppm: int = 0
    oracle_price: str = ""


@dataclass(frozen=True)
class LiquidationFillEvent(SandboxEvent):
    """
    A fill made by the liquidation engine: against the book or by deleveraging.

    Parameters
    ----------
    kind : str
        "LIQUIDATED" (against a resting order) or "DELEVERAGED" (against an offsetting position).
    event_id : str
        Hex of height (4 bytes) || transaction index (4) || event index (4).
    clob_pair_id : int
        The CLOB pair id.
    ticker : str
        The market ticker.
    quantums : int
        The size in base quantums.
    subticks : int
        The maker's price in subticks (0 for deleveraging: the price is quote / size).
    quote_quantums : int
        The notional in quote quantums.
    taker_side : str
        The liquidated subaccount's side, "BUY" or "SELL".
    owner : str
        The liquidated subaccount's owner.
    subaccount_number : int
        The liquidated subaccount's number.
    maker_owner : str
        The owner of the resting order or offsetting position.
    maker_subaccount_number : int
        Its subaccount number.
    maker : OrderSnapshot | None
        The resting order after the fill (None for deleveraging).
    taker_fee : int
        The liquidation fee in quote quantums paid by the liquidated subaccount.
    maker_fee : int
        The maker fee in quote quantums (negative is a rebate).

    """

    type: ClassVar[str] = "liquidation_fill"

    kind: str = "LIQUIDATED"
    event_id: str = ""
    clob_pair_id: int = 0
    ticker: str = ""
    quantums: int = 0
    subticks: int = 0
    quote_quantums: int = 0
    taker_side: str = ""
    owner: str = ""
    subaccount_number: int = 0
    maker_owner: str = ""
    maker_subaccount_number: int = 0
    maker: OrderSnapshot | None = None
    taker_fee: int = 0
    maker_fee: int = 0


EventCallback = Callable[[SandboxEvent], None]


class EventBus:
    """
    A synchronous publish/subscribe bus that numbers every event.

    Parameters
    ----------
    record : bool, default False
        Whether to keep every published event in `history`.

    """

    def __init__(self, record: bool = False) -> None:
        self._subscribers: list[EventCallback] = []
        self._next_seq = 1
        self.record = record
        self.history: list[SandboxEvent] = []

    def subscribe(self, callback: EventCallback, replay: bool = False) -> Callable[[], None]:
        """
        Register `callback` for every later event and return a function that unsubscribes it.

        Parameters
        ----------
        callback : Callable[[SandboxEvent], None]
            Called synchronously on the node's event loop; it must not block.
        replay : bool, default False
            Deliver the recorded history first (genesis deposits included), when recording.

        Returns
        -------
        Callable[[], None]

        """
        if replay:
            for event in tuple(self.history):
                callback(event)
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: SandboxEvent) -> SandboxEvent:
        """
        Number `event`, deliver it to every subscriber and return the numbered event.

        Parameters
        ----------
        event : SandboxEvent
            The event with any `seq`.

        Returns
        -------
        SandboxEvent

        """
        numbered = _with_seq(event, self._next_seq)
        self._next_seq += 1
        if self.record:
            self.history.append(numbered)
        for callback in tuple(self._subscribers):
            callback(numbered)
        return numbered

    def to_json_lines(self) -> str:
        """
        Return the recorded history as JSON lines.

        Returns
        -------
        str

        """
        return "".join(event.to_json() + "\n" for event in self.history)


def _with_seq(event: SandboxEvent, seq: int) -> SandboxEvent:
    values = {f.name: getattr(event, f.name) for f in fields(event)}
    values["seq"] = seq
    return type(event)(**values)
