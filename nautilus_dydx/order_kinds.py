# SPDX-License-Identifier: Apache-2.0
"""Map Nautilus order fields to dYdX order kinds, expiries and cancels as pure functions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from typing import Final

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce

from nautilus_dydx._core.orders import ROUND_CEIL_MODE
from nautilus_dydx._core.orders import ROUND_EXACT_MODE
from nautilus_dydx._core.orders import ROUND_FLOOR_MODE
from nautilus_dydx._core.orders import MarketEncoder
from nautilus_dydx.common import limits
from nautilus_dydx.order_errors import OrderRefused


# Chain enums and flags (§4.1)
SIDE_BUY: Final = 1
SIDE_SELL: Final = 2
TIF_UNSPECIFIED: Final = 0
TIF_IOC: Final = 1
TIF_POST_ONLY: Final = 2
CONDITION_NONE: Final = 0
CONDITION_STOP_LOSS: Final = 1
CONDITION_TAKE_PROFIT: Final = 2
FLAGS_SHORT_TERM: Final = 0
FLAGS_CONDITIONAL: Final = 32
FLAGS_LONG_TERM: Final = 64

SHORT_TERM_MAX_BLOCKS: Final = limits.SHORT_BLOCK_WINDOW_SAFE  # Valid on every chain version
STATEFUL_WINDOW_SECONDS: Final = limits.STATEFUL_ORDER_WINDOW_SECS
MAX_BATCH_CANCEL_IDS: Final = 100
NANOS: Final = 1_000_000_000

_CONDITIONAL = {
    OrderType.STOP_MARKET: (CONDITION_STOP_LOSS, True),
    OrderType.STOP_LIMIT: (CONDITION_STOP_LOSS, False),
    OrderType.MARKET_IF_TOUCHED: (CONDITION_TAKE_PROFIT, True),
    OrderType.LIMIT_IF_TOUCHED: (CONDITION_TAKE_PROFIT, False),
}
_SIDES = {OrderSide.BUY: SIDE_BUY, OrderSide.SELL: SIDE_SELL}
_AUCTIONS = (TimeInForce.AT_THE_OPEN, TimeInForce.AT_THE_CLOSE)
_MARKET_TYPES = (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.MARKET_IF_TOUCHED)
_GTC = TimeInForce.GTC
_IOC = TimeInForce.IOC


@dataclass(frozen=True, slots=True)
class OrderKindConfig:
    """
    Expiry and rounding policy for order kinds.

    The limits come from `nautilus_dydx.common.limits`, the module the client config checks
    against too, so a policy built from an accepted config never fails.

    Parameters
    ----------
    short_term_blocks : int, default 20
        Blocks ahead for short-term orders and cancels (1 to 40), capped by
        `short_block_window`.
    short_block_window : int, default 20
        The chain's ShortBlockWindow: 20 (valid on every version) or 40 (protocol v9), see
        `limits.short_block_window_for_version`.
    gtc_horizon_seconds : int, default 90 days
        Lifetime given to GTC limit and conditional orders (at most 94 days).
    stateful_margin_seconds : int, default 60
        Safety margin kept below the 95-day window for clock skew (0 to one day).
    stateful_cancel_seconds : int, default 120
        Minimum lifetime of a stateful cancel from now.
    price_rounding : str, default "exact"
        ``"exact"`` refuses off-tick prices; ``"conservative"`` rounds buys down, sells up.

    Raises
    ------
    ValueError
        If a field is out of range (the message names the field).

    """

    short_term_blocks: int = SHORT_TERM_MAX_BLOCKS
    short_block_window: int = limits.SHORT_BLOCK_WINDOW_SAFE
    gtc_horizon_seconds: int = limits.GTC_HORIZON_DAYS_DEFAULT * limits.DAY_SECS
    stateful_margin_seconds: int = limits.STATEFUL_MARGIN_SECS_DEFAULT
    stateful_cancel_seconds: int = limits.STATEFUL_CANCEL_SECS_DEFAULT
    price_rounding: str = "exact"

    def __post_init__(self) -> None:
        limits.check_short_term_blocks("short_term_blocks", self.short_term_blocks)
        limits.check_short_block_window("short_block_window", self.short_block_window)
        limits.check_gtc_horizon_seconds("gtc_horizon_seconds", self.gtc_horizon_seconds)
        limits.check_stateful_margin("stateful_margin_seconds", self.stateful_margin_seconds)
        cancel = self.stateful_cancel_seconds
        if isinstance(cancel, bool) or not isinstance(cancel, int):
            raise ValueError(f"invalid `stateful_cancel_seconds`, was {cancel!r}")
        if not 0 < cancel <= limits.GTC_HORIZON_SECS_MAX:
            raise ValueError(f"invalid `stateful_cancel_seconds`, was {cancel}")
        if self.price_rounding not in ("exact", "conservative"):
            raise ValueError(f"invalid `price_rounding`, was {self.price_rounding!r}")

    @property
    def blocks_ahead(self) -> int:
        """
        Return the blocks ahead actually used: `short_term_blocks` capped by the window.
        """
        return min(self.short_term_blocks, self.short_block_window)

    @classmethod
    def from_exec_config(
        cls,
        config: Any,
        short_block_window: int = limits.SHORT_BLOCK_WINDOW_SAFE,
        price_rounding: str = "exact",
    ) -> OrderKindConfig:
        """
        Return the policy of an execution client config.

        Parameters
        ----------
        config : DYDXExecClientConfig
            The validated config (its `short_term_block_window` and `gtc_horizon_days`).
        short_block_window : int, default 20
            The chain's ShortBlockWindow, from
            ``limits.short_block_window_for_version(node application version)``.
        price_rounding : str, default "exact"
            The price rounding policy.

        Returns
        -------
        OrderKindConfig

        """
        return cls(
            short_term_blocks=config.short_term_block_window,
            short_block_window=short_block_window,
            gtc_horizon_seconds=config.gtc_horizon_days * limits.DAY_SECS,
            price_rounding=price_rounding,
        )


DEFAULT_CONFIG: Final = OrderKindConfig()


@dataclass(frozen=True, slots=True)
class OrderFields:
    """
    The Nautilus order fields that decide the dYdX encoding (raw values at ``10**16``).

    Parameters
    ----------
    side : OrderSide
    order_type : OrderType
    time_in_force : TimeInForce
    quantity_raw : int
    price_raw : int, optional
        The limit price; for market-type orders the caller's worst acceptable price.
    trigger_price_raw : int, optional
    expire_time_ns : int, optional
        The GTD expiry in UNIX nanoseconds.
    post_only : bool, default False
    reduce_only : bool, default False

    """

    side: OrderSide
    order_type: OrderType
    time_in_force: TimeInForce
    quantity_raw: int
    price_raw: int | None = None
    trigger_price_raw: int | None = None
    expire_time_ns: int | None = None
    post_only: bool = False
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """
    A chain order kind with its expiry, ready for quantization and encoding.

    Parameters
    ----------
    order_flags : int
    side : int
    time_in_force : int
    condition_type : int
    good_til_block : int
    good_til_block_time : int
    reduce_only : bool
    price_raw : int
    trigger_price_raw : int
    quantity_raw : int

    """

    order_flags: int
    side: int
    time_in_force: int
    condition_type: int
    good_til_block: int
    good_til_block_time: int
    reduce_only: bool
    price_raw: int
    trigger_price_raw: int
    quantity_raw: int


def _short_term_gtb(
    expire_time_ns: int | None,
    block_height: int,
    block_time_ns: int,
    now_ns: int,
    config: OrderKindConfig,
) -> int:
    blocks = config.blocks_ahead
    if expire_time_ns is not None and expire_time_ns <= now_ns:
        raise OrderRefused(
            10,
            "clob",
            "the next block height is greater than the GoodTilBlock (expiry in the past)",
        )
    if expire_time_ns is not None:
        blocks = min(blocks, max(1, math.ceil((expire_time_ns - now_ns) / block_time_ns)))
    return block_height + blocks


def _stateful_gtbt(expire_time_ns: int | None, now_ns: int, config: OrderKindConfig) -> int:
    now_s = now_ns // NANOS
    if expire_time_ns is None:
        return now_s + config.gtc_horizon_seconds
    gtbt = -(-expire_time_ns // NANOS)  # Never expire before the requested time
    if gtbt <= now_s:
        raise OrderRefused(
            3003,
            "clob",
            "the block time is greater than the GoodTilBlockTime (expiry in the past)",
        )
    if gtbt > now_s + STATEFUL_WINDOW_SECONDS - config.stateful_margin_seconds:
        raise OrderRefused(
            3004, "clob", "the GoodTilBlockTime is further than StatefulOrderTimeWindow (95 days)",
        )
    return gtbt


def plan_order(  # noqa: C901 - a flat decision table reads best in one place
    fields: OrderFields,
    block_height: int,
    block_time_ns: int,
    now_ns: int,
    config: OrderKindConfig = DEFAULT_CONFIG,
) -> OrderPlan:
    """
    Return the dYdX order kind for the fields, or refuse what the chain would reject.

    Parameters
    ----------
    fields : OrderFields
        The order fields.
    block_height : int
        The latest committed block height.
    block_time_ns : int
        The estimated time between blocks (nanoseconds), to turn a GTD expiry into blocks.
    now_ns : int
        The current UNIX time in nanoseconds (an estimate of the previous block's time).
    config : OrderKindConfig, optional
        The expiry and rounding policy.

    Returns
    -------
    OrderPlan

    Raises
    ------
    OrderRefused
        With the chain's codespace/code for a combination the chain rejects.

    """
    if block_time_ns <= 0:
        raise ValueError(f"invalid block_time_ns, was {block_time_ns}")
    side = _SIDES.get(fields.side)
    if side is None:
        raise OrderRefused(3, "clob", f"invalid order side, was {fields.side!r}")
    if fields.quantity_raw <= 0:
        raise OrderRefused(4, "clob", "invalid order quantums (size must be positive)")
    tif = fields.time_in_force
    if tif == TimeInForce.FOK:
        raise OrderRefused(48, "clob", "fill-or-kill is deprecated on dYdX (emulate with IOC)")
    if tif in _AUCTIONS:
        raise OrderRefused(44, "clob", f"invalid time in force {tif.name} (no auctions)")
    if tif == TimeInForce.GTD and fields.expire_time_ns is None:
        raise OrderRefused(3001, "clob", "GTD order without an expire time")
    if fields.post_only and tif == TimeInForce.IOC:
        raise OrderRefused(44, "clob", "post-only and IOC cannot be combined")
    if fields.price_raw is None or fields.price_raw <= 0:
        what = "worst acceptable price" if fields.order_type in _MARKET_TYPES else "limit price"
        raise OrderRefused(6, "clob", f"invalid order subticks (a positive {what} is required)")
    expire = fields.expire_time_ns if tif == TimeInForce.GTD else None
    if tif == TimeInForce.DAY:
        expire = (now_ns // (86_400 * NANOS) + 1) * 86_400 * NANOS  # Next 00:00 UTC

    order_type = fields.order_type
    if order_type == OrderType.MARKET:
        flags, chain_tif, condition = FLAGS_SHORT_TERM, TIF_IOC, CONDITION_NONE
        if fields.post_only:
            raise OrderRefused(44, "clob", "a market order cannot be post-only")
    elif order_type == OrderType.LIMIT:
        condition = CONDITION_NONE
        if tif == TimeInForce.IOC:
            flags, chain_tif = FLAGS_SHORT_TERM, TIF_IOC
        else:
            chain_tif = TIF_POST_ONLY if fields.post_only else TIF_UNSPECIFIED
            short_window_ns = config.blocks_ahead * block_time_ns
            if expire is not None and expire - now_ns <= short_window_ns:
                flags = FLAGS_SHORT_TERM
            else:
                flags = FLAGS_LONG_TERM
    elif order_type in _CONDITIONAL:
        condition, is_market = _CONDITIONAL[order_type]
        flags = FLAGS_CONDITIONAL
        if fields.trigger_price_raw is None or fields.trigger_price_raw <= 0:
            raise OrderRefused(6001, "clob", "conditional order trigger subticks is invalid")
        if is_market:
            if fields.post_only:
                raise OrderRefused(44, "clob", "a stop-market order cannot be post-only")
            chain_tif = TIF_IOC
        elif tif == TimeInForce.IOC:
            chain_tif = TIF_IOC
        else:
            chain_tif = TIF_POST_ONLY if fields.post_only else TIF_UNSPECIFIED
    else:
        raise OrderRefused(9002, "clob", f"order type {order_type.name} is not supported")
    if flags != FLAGS_CONDITIONAL and fields.trigger_price_raw:
        raise OrderRefused(6001, "clob", "a trigger price on a non-conditional order is invalid")

    if fields.reduce_only and chain_tif != TIF_IOC:
        raise OrderRefused(9003, "clob", "reduce-only is currently disabled for non-IOC orders")
    if flags == FLAGS_LONG_TERM and chain_tif == TIF_IOC:
        raise OrderRefused(3002, "clob", "stateful orders cannot require immediate execution")

    gtb = gtbt = 0
    if flags == FLAGS_SHORT_TERM:
        gtb = _short_term_gtb(expire, block_height, block_time_ns, now_ns, config)
    else:
        gtbt = _stateful_gtbt(expire, now_ns, config)
    return OrderPlan(
        flags, side, chain_tif, condition, gtb, gtbt, fields.reduce_only, fields.price_raw,
        fields.trigger_price_raw or 0, fields.quantity_raw,
    )


def plan_limit_order(
    side: OrderSide,
    quantity_raw: int,
    price_raw: int,
    time_in_force: TimeInForce,
    post_only: bool,
    reduce_only: bool,
    short_term: bool,
    block_height: int,
    now_ns: int,
    config: OrderKindConfig = DEFAULT_CONFIG,
) -> OrderPlan | None:
    """
    Return the plan of a GTC or IOC limit order, or None where `plan_order` must decide.

    The fast path of the common quote: the same plan as `plan_order`, without building
    `OrderFields`. With `short_term`, a GTC order lives `config.blocks_ahead` blocks (as
    `plan_order` plans a GTD expiry that many block times ahead); without it, a GTC order
    is long-term. Anything `plan_order` would refuse returns None.

    Parameters
    ----------
    side : OrderSide
    quantity_raw : int
    price_raw : int
        The limit price (raw at ``10**16``).
    time_in_force : TimeInForce
        GTC or IOC; any other returns None.
    post_only : bool
    reduce_only : bool
    short_term : bool
        Whether a GTC order is placed as short-term.
    block_height : int
        The latest committed block height.
    now_ns : int
        The current UNIX time in nanoseconds (for a long-term expiry).
    config : OrderKindConfig, optional
        The expiry policy.

    Returns
    -------
    OrderPlan | None

    """
    values = plan_limit_values(
        side, quantity_raw, price_raw, time_in_force, post_only, reduce_only, short_term,
        block_height, now_ns, config,
    )
    return None if values is None else OrderPlan(*values)


def plan_limit_values(
    side: OrderSide,
    quantity_raw: int,
    price_raw: int,
    time_in_force: TimeInForce,
    post_only: bool,
    reduce_only: bool,
    short_term: bool,
    block_height: int,
    now_ns: int,
    config: OrderKindConfig = DEFAULT_CONFIG,
) -> tuple | None:
    """
    Return the fields of `plan_limit_order`'s plan as a tuple in `OrderPlan` order, or None.

    A tuple is built in a fraction of the time of the frozen `OrderPlan`: the submit path
    encodes and signs from it, and builds its venue state afterwards.

    Parameters
    ----------
    side : OrderSide
    quantity_raw : int
    price_raw : int
    time_in_force : TimeInForce
    post_only : bool
    reduce_only : bool
    short_term : bool
    block_height : int
    now_ns : int
    config : OrderKindConfig, optional

    Returns
    -------
    tuple | None

    """
    chain_side = _SIDES.get(side)
    if chain_side is None or quantity_raw <= 0 or price_raw <= 0:
        return None
    if time_in_force == _IOC:
        if post_only:
            return None
        return (
            FLAGS_SHORT_TERM, chain_side, TIF_IOC, CONDITION_NONE,
            block_height + config.blocks_ahead, 0, reduce_only, price_raw, 0, quantity_raw,
        )
    if time_in_force != _GTC or reduce_only:
        return None
    chain_tif = TIF_POST_ONLY if post_only else TIF_UNSPECIFIED
    if short_term:
        return (
            FLAGS_SHORT_TERM, chain_side, chain_tif, CONDITION_NONE,
            block_height + config.blocks_ahead, 0, False, price_raw, 0, quantity_raw,
        )
    return (
        FLAGS_LONG_TERM, chain_side, chain_tif, CONDITION_NONE, 0,
        now_ns // NANOS + config.gtc_horizon_seconds, False, price_raw, 0, quantity_raw,
    )


def plan_trigger_limit_values(
    order_type: OrderType,
    side: OrderSide,
    quantity_raw: int,
    price_raw: int,
    trigger_price_raw: int,
    time_in_force: TimeInForce,
    post_only: bool,
    reduce_only: bool,
    now_ns: int,
    config: OrderKindConfig = DEFAULT_CONFIG,
) -> tuple | None:
    """
    Return `plan_values` of a GTC or IOC stop-limit or limit-if-touched order, or None.

    The same plan as `plan_order` (a conditional order living the GTC horizon), or None
    where `plan_order` must decide (another type or time in force, or a refusal).

    Parameters
    ----------
    order_type : OrderType
        STOP_LIMIT or LIMIT_IF_TOUCHED; any other returns None.
    side : OrderSide
    quantity_raw : int
    price_raw : int
    trigger_price_raw : int
    time_in_force : TimeInForce
        GTC or IOC; any other returns None.
    post_only : bool
    reduce_only : bool
    now_ns : int
        The current UNIX time in nanoseconds.
    config : OrderKindConfig, optional

    Returns
    -------
    tuple | None

    """
    chain_side = _SIDES.get(side)
    kind = _CONDITIONAL.get(order_type)
    if chain_side is None or kind is None or kind[1]:
        return None
    if quantity_raw <= 0 or price_raw <= 0 or trigger_price_raw <= 0:
        return None
    if time_in_force == _IOC:
        if post_only:
            return None
        chain_tif = TIF_IOC
    elif time_in_force != _GTC or reduce_only:
        return None
    else:
        chain_tif = TIF_POST_ONLY if post_only else TIF_UNSPECIFIED
    return (
        FLAGS_CONDITIONAL, chain_side, chain_tif, kind[0], 0,
        now_ns // NANOS + config.gtc_horizon_seconds, reduce_only, price_raw, trigger_price_raw,
        quantity_raw,
    )


def plan_values(plan: OrderPlan) -> tuple:
    """
    Return the fields of a plan as a tuple in field order (as `plan_limit_values`).

    Parameters
    ----------
    plan : OrderPlan

    Returns
    -------
    tuple

    """
    return (
        plan.order_flags, plan.side, plan.time_in_force, plan.condition_type,
        plan.good_til_block, plan.good_til_block_time, plan.reduce_only, plan.price_raw,
        plan.trigger_price_raw, plan.quantity_raw,
    )


def rounding_for(side: int, config: OrderKindConfig = DEFAULT_CONFIG) -> int:
    """
    Return the price rounding mode for a side: exact, or buy floor / sell ceil.

    Parameters
    ----------
    side : int
        1 buy, 2 sell.
    config : OrderKindConfig, optional

    Returns
    -------
    int

    """
    if config.price_rounding == "exact":
        return ROUND_EXACT_MODE
    return ROUND_FLOOR_MODE if side == SIDE_BUY else ROUND_CEIL_MODE


def place_order_any(
    encoder: MarketEncoder,
    plan: OrderPlan,
    client_id: int,
    client_metadata: int,
    config: OrderKindConfig = DEFAULT_CONFIG,
) -> bytes:
    """
    Return the ``Any``-wrapped ``MsgPlaceOrder`` of a plan (quantize, then encode).

    Parameters
    ----------
    encoder : MarketEncoder
        The market's encoder.
    plan : OrderPlan
        The planned order.
    client_id : int
        The uint32 venue client ID.
    client_metadata : int
        The uint32 client metadata.
    config : OrderKindConfig, optional
        The rounding policy (sizes are always exact multiples of the step).

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        If the price, trigger or size does not quantize (the message names the tick or step).

    """
    rounding = rounding_for(plan.side, config)
    return encoder.place_order_any(
        client_id,
        plan.order_flags,
        plan.side,
        encoder.quantums(plan.quantity_raw),
        encoder.subticks(plan.price_raw, rounding),
        plan.good_til_block,
        plan.good_til_block_time,
        plan.time_in_force,
        plan.reduce_only,
        client_metadata,
        plan.condition_type,
        encoder.subticks(plan.trigger_price_raw, rounding) if plan.trigger_price_raw else 0,
    )


def place_values_any(
    encoder: MarketEncoder,
    values: tuple,
    client_id: int,
    client_metadata: int,
    config: OrderKindConfig = DEFAULT_CONFIG,
) -> bytes:
    """
    Return `place_order_any` of a plan given as its `plan_values` tuple.

    Parameters
    ----------
    encoder : MarketEncoder
    values : tuple
        The plan's fields in `OrderPlan` order.
    client_id : int
    client_metadata : int
    config : OrderKindConfig, optional

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        If the price, trigger or size does not quantize.

    """
    flags, side, tif, condition, gtb, gtbt, reduce_only, price_raw, trigger_raw, quantity_raw = (
        values
    )
    rounding = rounding_for(side, config)
    subticks = encoder.subticks
    return encoder.place_order_any(
        client_id, flags, side, encoder.quantums(quantity_raw), subticks(price_raw, rounding),
        gtb, gtbt, tif, reduce_only, client_metadata, condition,
        subticks(trigger_raw, rounding) if trigger_raw else 0,
    )


@dataclass(frozen=True, slots=True)
class CancelPlan:
    """
    The expiry of a cancel: a block for short-term orders, a time for stateful ones.

    Parameters
    ----------
    order_flags : int
    good_til_block : int
    good_til_block_time : int

    """

    order_flags: int
    good_til_block: int
    good_til_block_time: int


def plan_cancel(
    order_flags: int,
    order_good_til_block: int,
    order_good_til_block_time: int,
    block_height: int,
    now_ns: int,
    config: OrderKindConfig = DEFAULT_CONFIG,
) -> CancelPlan:
    """
    Return a cancel whose expiry is at least the order's own (else the cancel has no effect).

    Parameters
    ----------
    order_flags : int
        The order's flags.
    order_good_til_block : int
        The short-term order's expiry block.
    order_good_til_block_time : int
        The stateful order's expiry (unix seconds).
    block_height : int
        The latest committed block height.
    now_ns : int
        The current UNIX time in nanoseconds.
    config : OrderKindConfig, optional

    Returns
    -------
    CancelPlan

    Raises
    ------
    OrderRefused
        If the flags are invalid.

    """
    if order_flags == FLAGS_SHORT_TERM:
        # The order's GTB was at most its height + window, so this stays inside the window
        gtb = max(order_good_til_block, block_height + config.blocks_ahead)
        return CancelPlan(order_flags, gtb, 0)
    if order_flags in (FLAGS_LONG_TERM, FLAGS_CONDITIONAL):
        now_s = now_ns // NANOS
        gtbt = max(order_good_til_block_time, now_s + config.stateful_cancel_seconds)
        return CancelPlan(order_flags, 0, gtbt)
    raise OrderRefused(3000, "clob", f"invalid order flags, was {order_flags}")


def split_batch_cancels(
    client_ids_by_clob: dict[int, list[int]],
    max_ids: int = MAX_BATCH_CANCEL_IDS,
) -> list[list[tuple[int, list[int]]]]:
    """
    Return ``MsgBatchCancel`` batch lists with at most `max_ids` IDs each.

    Duplicate IDs are dropped and each message has distinct, non-empty CLOB pair batches.

    Parameters
    ----------
    client_ids_by_clob : dict[int, list[int]]
        Short-term client IDs to cancel per CLOB pair ID.
    max_ids : int, default 100
        The chain's limit per message.

    Returns
    -------
    list[list[tuple[int, list[int]]]]

    """
    messages: list[list[tuple[int, list[int]]]] = []
    current: list[tuple[int, list[int]]] = []
    room = max_ids
    for clob_pair_id, ids in client_ids_by_clob.items():
        unique = list(dict.fromkeys(ids))
        while unique:
            take, unique = unique[:room], unique[room:]
            current.append((clob_pair_id, take))
            room -= len(take)
            if room == 0:
                messages.append(current)
                current, room = [], max_ids
    if current:
        messages.append(current)
    return messages


def fields_from_order(order: Any, worst_price_raw: int | None = None) -> OrderFields:
    """
    Return the fields of a Nautilus order.

    Parameters
    ----------
    order : Order
        The Nautilus order.
    worst_price_raw : int, optional
        The worst acceptable price of a market-type order, chosen by the caller (for example
        the oracle price plus or minus a slippage bound).

    Returns
    -------
    OrderFields

    """
    price = getattr(order, "price", None) if order.has_price else None
    trigger = getattr(order, "trigger_price", None) if order.has_trigger_price else None
    expire = getattr(order, "expire_time_ns", 0) or None
    return OrderFields(
        side=order.side,
        order_type=order.order_type,
        time_in_force=order.time_in_force,
        quantity_raw=order.quantity.raw,
        price_raw=price.raw if price is not None else worst_price_raw,
        trigger_price_raw=trigger.raw if trigger is not None else None,
        expire_time_ns=expire,
        post_only=order.is_post_only,
        reduce_only=order.is_reduce_only,
    )
