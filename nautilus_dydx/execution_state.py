# SPDX-License-Identifier: Apache-2.0
"""Venue-side state of one order and the mapping of Indexer order values to Nautilus enums."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from typing import Final

from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId


_GENERATION = re.compile(r"\.r(\d+)$")  # Replacement suffix of a cancel-replaced order

OPEN_STATUSES: Final = frozenset({"OPEN", "BEST_EFFORT_OPENED", "UNTRIGGERED"})
ACTIVE_STATUSES: Final = OPEN_STATUSES | {"BEST_EFFORT_CANCELED"}

_PREFIX = "ORDER_REMOVAL_REASON_"
EXPIRED_REASONS: Final = frozenset({_PREFIX + "EXPIRED", _PREFIX + "INDEXER_EXPIRED"})
# Removals that mean the venue refused the order rather than closed it
REJECTED_REASONS: Final = frozenset(
    _PREFIX + reason
    for reason in (
        "UNDERCOLLATERALIZED",
        "POST_ONLY_WOULD_CROSS_MAKER_ORDER",
        "EQUITY_TIER",
        "FINAL_SETTLEMENT",
        "VIOLATES_ISOLATED_SUBACCOUNT_CONSTRAINTS",
        "INTERNAL_ERROR",
    )
)
REPLACED_REASON: Final = _PREFIX + "REPLACED"

# Cancel outcomes that mean the order is already gone or already being canceled
BENIGN_CANCEL_CODES: Final = frozenset({9, 32, 3006, 3010})

VENUE_ORDER_TYPES: Final = {
    "LIMIT": OrderType.LIMIT,
    "MARKET": OrderType.MARKET,
    "STOP_LIMIT": OrderType.STOP_LIMIT,
    "STOP_MARKET": OrderType.STOP_MARKET,
    "TAKE_PROFIT": OrderType.LIMIT_IF_TOUCHED,
    "TAKE_PROFIT_MARKET": OrderType.MARKET_IF_TOUCHED,
    "TRAILING_STOP": OrderType.STOP_MARKET,
    "TWAP": OrderType.LIMIT,
    "TWAP_SUBORDER": OrderType.LIMIT,
}


def base_client_order_id(decoded: str) -> str:
    """
    Return the Nautilus client order ID of a decoded venue ID (without a replacement suffix).

    Parameters
    ----------
    decoded : str

    Returns
    -------
    str

    """
    return _GENERATION.sub("", decoded)


def short_reason(reason: str | None) -> str:
    """
    Return a removal reason without its ``ORDER_REMOVAL_REASON_`` prefix.

    Parameters
    ----------
    reason : str, optional

    Returns
    -------
    str

    """
    if not reason:
        return "UNSPECIFIED"
    return reason.removeprefix(_PREFIX)


def report_status(status: str, removal_reason: str | None, filled: bool) -> OrderStatus:
    """
    Return the Nautilus status of an Indexer order.

    A ``BEST_EFFORT_CANCELED`` order may still fill until its good-til-block passes, so it is
    reported open.

    Parameters
    ----------
    status : str
        The Indexer status.
    removal_reason : str, optional
        The removal reason of a closed order.
    filled : bool
        Whether any size was filled.

    Returns
    -------
    OrderStatus

    """
    if status in ACTIVE_STATUSES:
        return OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.ACCEPTED
    if status == "FILLED":
        return OrderStatus.FILLED
    if removal_reason in EXPIRED_REASONS:
        return OrderStatus.EXPIRED
    if removal_reason in REJECTED_REASONS and not filled:
        return OrderStatus.REJECTED
    return OrderStatus.CANCELED


def report_time_in_force(time_in_force: str | None, order_flags: int) -> TimeInForce:
    """
    Return the Nautilus time in force of an Indexer order.

    Parameters
    ----------
    time_in_force : str, optional
        ``GTT``, ``IOC`` or ``FOK``.
    order_flags : int
        The order flags (0 short-term).

    Returns
    -------
    TimeInForce

    """
    if time_in_force == "IOC":
        return TimeInForce.IOC
    if time_in_force == "FOK":
        return TimeInForce.FOK
    return TimeInForce.GTD if order_flags == 0 else TimeInForce.GTC


@dataclass(slots=True)
class VenueOrder:
    """
    One order of this client as the venue knows it: identity, expiry and progress.

    Parameters
    ----------
    client_order_id : ClientOrderId
    strategy_id : StrategyId
    instrument_id : InstrumentId
    client_id : int
        The venue uint32 client ID.
    client_metadata : int
    clob_pair_id : int
    order_flags : int
    venue_order_id : str
        The Indexer order UUID.
    side : int
    time_in_force : int
        The chain time in force.
    reduce_only : bool
    good_til_block : int
    good_til_block_time : int
    command_ns : int
        When the command arrived (0 when adopted from the venue).
    subaccount_number : int, optional
        The child subaccount of an isolated-market order; None for the client's own.

    """

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId
    client_id: int
    client_metadata: int
    clob_pair_id: int
    order_flags: int
    venue_order_id: str
    side: int = 0
    time_in_force: int = 0
    reduce_only: bool = False
    good_til_block: int = 0
    good_til_block_time: int = 0
    command_ns: int = 0
    accepted: bool = False
    untriggered: bool = False
    closed: bool = False
    pending_cancel: bool = False
    replacing: int = 0
    replace_unresolved: bool = False
    replace_sending: bool = False
    held_by_replace: list = field(default_factory=list)
    unknown_txhash: str | None = None
    filled_raw: int = 0
    venue_filled_raw: int = 0
    fills_seen: int = 0
    held_terminal: object | None = None
    generation: int = 0
    old_venue_order_ids: list[str] = field(default_factory=list)
    subaccount_number: int | None = None

    @property
    def is_short_term(self) -> bool:
        """Whether the order lives only in the validators' memory (flags 0)."""
        return self.order_flags == 0
