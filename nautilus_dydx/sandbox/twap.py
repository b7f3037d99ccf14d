# SPDX-License-Identifier: Apache-2.0
"""TWAP orders (flags 128): validation, the parent order and its suborders (flags 256)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from nautilus_dydx.sandbox import isolated
from nautilus_dydx.sandbox.chain_errors import ChainError
from nautilus_dydx.sandbox.engine import REMOVAL_REASONS
from nautilus_dydx.sandbox.engine import SIDE_BUY
from nautilus_dydx.sandbox.engine import Order
from nautilus_dydx.sandbox.engine import Subaccount
from nautilus_dydx.sandbox.engine import quote_quantums
from nautilus_dydx.sandbox.events import OrderPlacedEvent
from nautilus_dydx.sandbox.events import OrderRemovedEvent
from nautilus_dydx.sandbox.events import OrderSnapshot


if TYPE_CHECKING:
    from nautilus_dydx.sandbox.chain import ChainState


FLAG_TWAP = 128
FLAG_TWAP_SUBORDER = 256
MIN_INTERVAL_S = 30
MAX_INTERVAL_S = 3_600
MIN_DURATION_S = 300
MAX_DURATION_S = 86_400
MAX_PRICE_TOLERANCE_PPM = 1_000_000
# A suborder lives this many seconds past the block that placed it
SUBORDER_GOOD_TIL_OFFSET_S = 3
# A catching-up suborder is at most this multiple of the original size per leg
MAX_CATCHUP_MULTIPLE = 3
# Removal reasons (indices of engine.REMOVAL_REASONS)
_EXPIRED = 1
_UNDERCOLLATERALIZED = 3
_INTERNAL_ERROR = 4
_FULLY_FILLED = 12
_FINAL_SETTLEMENT = 14
_VIOLATES_ISOLATED = 15


def validate_basic(order) -> None:
    """
    Run the stateless TWAP checks of a MsgPlaceOrder order with flags 128.

    Parameters are refused as the chain does, with `clob` 12 (MsgPlaceOrder is invalid); a time
    in force other than UNSPECIFIED with `clob` 49 (Invalid TWAP order placement).

    Parameters
    ----------
    order : dydxprotocol.clob.Order
        The protobuf order.

    Raises
    ------
    ChainError

    """
    if not order.HasField("twap_parameters"):
        raise ChainError("clob", 12, "TWAP order must have a TWAP config: MsgPlaceOrder is "
                                     "invalid")
    parameters = order.twap_parameters
    if not MIN_INTERVAL_S <= parameters.interval <= MAX_INTERVAL_S:
        raise ChainError("clob", 12, f"TWAP order interval must be in the range "
                                     f"[{MIN_INTERVAL_S} seconds, {MAX_INTERVAL_S} seconds], was "
                                     f"{parameters.interval}: MsgPlaceOrder is invalid")
    if not MIN_DURATION_S <= parameters.duration <= MAX_DURATION_S:
        raise ChainError("clob", 12, f"TWAP order duration must be in the range "
                                     f"[{MIN_DURATION_S} seconds, {MAX_DURATION_S} seconds], was "
                                     f"{parameters.duration}: MsgPlaceOrder is invalid")
    if parameters.duration % parameters.interval != 0:
        raise ChainError("clob", 12, "TWAP order duration must be a multiple of the interval: "
                                     "MsgPlaceOrder is invalid")
    if parameters.price_tolerance >= MAX_PRICE_TOLERANCE_PPM:
        raise ChainError("clob", 12, f"TWAP order price tolerance must be in the range "
                                     f"[0, {MAX_PRICE_TOLERANCE_PPM}): MsgPlaceOrder is invalid")
    if order.time_in_force != 0:
        raise ChainError("clob", 49, f"TWAP orders take no time in force, was "
                                     f"{order.time_in_force}: Invalid TWAP order placement")


class TwapOrder(Order):
    """
    A TWAP parent order: never on the book, it places one suborder per interval.

    Parameters
    ----------
    base : Order
        The order built from the placement (flags 128).
    duration : int
        The duration in seconds.
    interval : int
        The interval in seconds (divides `duration`).
    price_tolerance : int
        The suborder price tolerance in ppm of the oracle price (market TWAP only).

    """

    __slots__ = (
        "duration", "interval", "price_tolerance", "total_legs", "remaining_legs",
        "remaining_quantums", "next_trigger_s",
    )

    def __init__(self, base: Order, duration: int, interval: int, price_tolerance: int) -> None:
        super().__init__(
            base.key, base.side, base.quantums, base.subticks, base.good_til_block,
            base.good_til_block_time, base.time_in_force, base.reduce_only, base.client_metadata,
            base.condition_type, base.trigger_subticks, base.order_hash, base.tx_hash,
            base.ticker,
        )
        self.priority = base.priority
        self.duration = duration
        self.interval = interval
        self.price_tolerance = price_tolerance
        self.total_legs = duration // interval
        self.remaining_legs = self.total_legs
        self.remaining_quantums = base.quantums
        self.next_trigger_s = 0

    def snapshot(self) -> OrderSnapshot:
        """
        Return an immutable snapshot carrying the TWAP parameters.

        Returns
        -------
        OrderSnapshot

        """
        return dataclasses.replace(
            super().snapshot(),
            twap_duration=self.duration,
            twap_interval=self.interval,
            twap_price_tolerance=self.price_tolerance,
        )

    @property
    def suborder_key(self) -> tuple[str, int, int, int, int]:
        """The order key of this TWAP's suborders (flags 256)."""
        owner, number, client_id, _, clob_pair_id = self.key
        return (owner, number, client_id, FLAG_TWAP_SUBORDER, clob_pair_id)


def parent_key(key: tuple[str, int, int, int, int]) -> tuple[str, int, int, int, int]:
    """
    Return the TWAP parent key of a suborder key.

    Parameters
    ----------
    key : OrderKey
        The suborder key.

    Returns
    -------
    OrderKey

    """
    owner, number, client_id, _, clob_pair_id = key
    return (owner, number, client_id, FLAG_TWAP, clob_pair_id)


def suborder_quantums(parent: TwapOrder, step_base_quantums: int) -> int:
    """
    Return the size of the next suborder, rounded down to whole steps (0 when below one step).

    The remaining size is spread over the remaining legs (rounding up), capped at three times
    the original size per leg so unfilled legs catch up gradually.

    Parameters
    ----------
    parent : TwapOrder
        The TWAP order.
    step_base_quantums : int
        The market's step.

    Returns
    -------
    int

    """
    if parent.remaining_legs <= 0 or parent.remaining_quantums <= 0:
        return 0
    per_leg = -(-parent.quantums // parent.total_legs)
    remaining_per_leg = -(-parent.remaining_quantums // parent.remaining_legs)
    size = min(remaining_per_leg, MAX_CATCHUP_MULTIPLE * per_leg, parent.remaining_quantums)
    return size // step_base_quantums * step_base_quantums


def suborder_subticks(parent: TwapOrder, oracle_subticks: int, subticks_per_tick: int) -> int:
    """
    Return the suborder price: the parent's limit, or the oracle moved by the tolerance.

    A market TWAP (subticks 0) buys at oracle × (1 + tolerance) rounded up to a tick and sells
    at oracle × (1 − tolerance) rounded down (never below one tick).

    Parameters
    ----------
    parent : TwapOrder
        The TWAP order.
    oracle_subticks : int
        The market's oracle price in subticks.
    subticks_per_tick : int
        The market's tick in subticks.

    Returns
    -------
    int

    """
    if parent.subticks != 0:
        return parent.subticks
    if parent.side == SIDE_BUY:
        numerator = oracle_subticks * (MAX_PRICE_TOLERANCE_PPM + parent.price_tolerance)
        denominator = MAX_PRICE_TOLERANCE_PPM * subticks_per_tick
        ticks = -(-numerator // denominator)
    else:
        numerator = oracle_subticks * (MAX_PRICE_TOLERANCE_PPM - parent.price_tolerance)
        ticks = numerator // (MAX_PRICE_TOLERANCE_PPM * subticks_per_tick)
    return max(ticks, 1) * subticks_per_tick


def place(chain: ChainState, parent: TwapOrder, height: int, time_ns: int) -> None:
    """
    Store a delivered TWAP order; its first suborder goes out at the end of this block.

    Parameters
    ----------
    chain : ChainState
        The chain.
    parent : TwapOrder
        The TWAP order.
    height : int
        The including block.
    time_ns : int
        Its time.

    """
    parent.status = "OPEN"
    parent.next_trigger_s = time_ns // 1_000_000_000
    chain._stateful_add(parent)
    chain.twaps[parent.key] = parent
    chain.bus.publish(OrderPlacedEvent(0, height, time_ns, parent.snapshot()))


def _finish(chain: ChainState, parent: TwapOrder, reason: int, height: int, time_ns: int) -> None:
    chain.twaps.pop(parent.key, None)
    if chain.stateful.get(parent.key) is not parent:
        return
    chain._stateful_remove(parent.key)
    chain.removed_last_block.add(parent.key)
    parent.status = "FILLED" if reason == _FULLY_FILLED else "CANCELED"
    chain.bus.publish(
        OrderRemovedEvent(0, height, time_ns, parent.snapshot(), REMOVAL_REASONS[reason]),
    )


def _collateral_ok(chain: ChainState, parent: TwapOrder, quantums: int, subticks: int) -> bool:
    # The stateful placement check of the suborder at its full size
    owner, number = parent.subaccount
    sub = chain.subaccounts.get((owner, number)) or Subaccount(owner, number, 0)
    exponent = chain.markets[parent.clob_pair_id].config.quantum_conversion_exponent
    quote = quote_quantums(quantums, subticks, exponent)
    buy = parent.side == SIDE_BUY
    return chain.margin.allows(
        sub, parent.clob_pair_id, quantums if buy else -quantums, -quote if buy else quote,
    )


def on_block(chain: ChainState, height: int, time_ns: int) -> None:
    """
    Place the suborders due at this block (EndBlocker), and retire finished TWAP orders.

    A TWAP whose legs are all placed, whose size is filled, or whose next suborder would be
    below one step is removed: FILLED (FULLY_FILLED) when fully filled, else CANCELED (EXPIRED).
    A suborder that cannot be placed (market status, collateral, isolated rules) removes its
    TWAP, as the chain does.

    Parameters
    ----------
    chain : ChainState
        The chain.
    height : int
        The block height.
    time_ns : int
        The block time.

    """
    block_s = time_ns // 1_000_000_000
    due = sorted(
        (p for p in chain.twaps.values() if p.next_trigger_s <= block_s),
        key=lambda p: (p.next_trigger_s, p.priority),
    )
    for parent in due:
        if chain.stateful.get(parent.key) is not parent:
            # Cancelled or expired: no further suborders
            chain.twaps.pop(parent.key, None)
            continue
        market = chain.markets[parent.clob_pair_id]
        cfg = market.config
        quantums = suborder_quantums(parent, cfg.step_base_quantums)
        if quantums == 0:
            filled = parent.filled >= parent.quantums
            _finish(chain, parent, _FULLY_FILLED if filled else _EXPIRED, height, time_ns)
            continue
        if market.status != "ACTIVE":
            reason = _FINAL_SETTLEMENT if market.status == "FINAL_SETTLEMENT" else _INTERNAL_ERROR
            _finish(chain, parent, reason, height, time_ns)
            continue
        subticks = suborder_subticks(parent, market.oracle_subticks, cfg.subticks_per_tick)
        owner, number = parent.subaccount
        if isolated.violation(chain, owner, number, parent.clob_pair_id) is not None:
            _finish(chain, parent, _VIOLATES_ISOLATED, height, time_ns)
            continue
        if not _collateral_ok(chain, parent, quantums, subticks):
            _finish(chain, parent, _UNDERCOLLATERALIZED, height, time_ns)
            continue
        parent.remaining_legs -= 1
        parent.next_trigger_s = block_s + parent.interval
        stale = chain.stateful.get(parent.suborder_key)
        if stale is not None:
            chain._remove_resting(stale, market, _EXPIRED, height, time_ns)
        suborder = Order(
            parent.suborder_key, parent.side, quantums, subticks, 0,
            block_s + SUBORDER_GOOD_TIL_OFFSET_S, 0, parent.reduce_only, parent.client_metadata,
            0, 0, parent.order_hash, parent.tx_hash, parent.ticker,
        )
        chain._priority += 1
        suborder.priority = chain._priority
        suborder.status = "OPEN"
        suborder.created_at_height = height
        chain._begin_tx()
        chain.bus.publish(OrderPlacedEvent(0, height, time_ns, suborder.snapshot()))
        chain._match_and_rest(suborder, market, height)


def on_fill(chain: ChainState, order: Order, quantums: int) -> None:
    """
    Count a suborder fill against its TWAP order (filled size, remaining size).

    Parameters
    ----------
    chain : ChainState
        The chain.
    order : Order
        The filled order (ignored unless it is a suborder).
    quantums : int
        The filled size.

    """
    if order.order_flags != FLAG_TWAP_SUBORDER:
        return
    parent = chain.twaps.get(parent_key(order.key))
    if parent is None:
        return
    parent.filled += quantums
    parent.remaining_quantums = max(parent.remaining_quantums - quantums, 0)
