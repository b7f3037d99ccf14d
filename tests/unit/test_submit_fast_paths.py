# SPDX-License-Identifier: Apache-2.0
"""Fast paths of order submission: the same plans, client IDs and venue IDs as the general path."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC
from datetime import datetime
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.objects import Money

from nautilus_dydx._core.orders import MarketEncoder
from nautilus_dydx.client_ids import INDEXER_NAMESPACE
from nautilus_dydx.client_ids import OrderUuids
from nautilus_dydx.client_ids import order_uuid
from nautilus_dydx.client_ids import pack_client_order_id
from nautilus_dydx.client_ids import unpack_client_order_id
from nautilus_dydx.execution import DYDXExecutionClient
from nautilus_dydx.grpc.types import EquityTier
from nautilus_dydx.order_errors import OrderRefused
from nautilus_dydx.order_kinds import FLAGS_LONG_TERM
from nautilus_dydx.order_kinds import FLAGS_SHORT_TERM
from nautilus_dydx.order_kinds import OrderFields
from nautilus_dydx.order_kinds import OrderKindConfig
from nautilus_dydx.order_kinds import OrderPlan
from nautilus_dydx.order_kinds import place_order_any
from nautilus_dydx.order_kinds import place_values_any
from nautilus_dydx.order_kinds import plan_limit_order
from nautilus_dydx.order_kinds import plan_limit_values
from nautilus_dydx.order_kinds import plan_order
from nautilus_dydx.order_kinds import plan_trigger_limit_values
from nautilus_dydx.order_kinds import plan_values


S = 10**16
HEIGHT = 50_000_000
NOW_NS = 1_767_225_600 * 10**9
K1 = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def _general(side, quantity, price, tif, post_only, reduce_only, short_term, block_ns, config):
    # What `DYDXExecutionClient._plan` does: a short-term GTC order becomes a GTD order that
    # expires `blocks_ahead` block times from now, then `plan_order` decides
    fields = OrderFields(
        side=side, order_type=OrderType.LIMIT, time_in_force=tif, quantity_raw=quantity,
        price_raw=price, post_only=post_only, reduce_only=reduce_only,
    )
    if tif == TimeInForce.GTC and short_term:
        fields = dataclasses.replace(
            fields, time_in_force=TimeInForce.GTD,
            expire_time_ns=NOW_NS + config.blocks_ahead * block_ns,
        )
    return plan_order(fields, HEIGHT, block_ns, NOW_NS, config)


@settings(max_examples=400, deadline=None)
@given(
    side=st.sampled_from([OrderSide.BUY, OrderSide.SELL, OrderSide.NO_ORDER_SIDE]),
    quantity=st.integers(-S, 10 * S),
    price=st.integers(-S, 100_000 * S),
    tif=st.sampled_from(list(TimeInForce)),
    post_only=st.booleans(),
    reduce_only=st.booleans(),
    short_term=st.booleans(),
    block_ns=st.integers(1, 5 * 10**9),
    blocks=st.integers(1, 40),
    window=st.sampled_from([20, 40]),
    horizon_days=st.integers(1, 94),
)
def test_fast_limit_plan_equals_the_general_plan(
    side, quantity, price, tif, post_only, reduce_only, short_term, block_ns, blocks, window,
    horizon_days,
) -> None:
    config = OrderKindConfig(
        short_term_blocks=blocks, short_block_window=window,
        gtc_horizon_seconds=horizon_days * 86_400,
    )
    fast = plan_limit_order(
        side, quantity, price, tif, post_only, reduce_only, short_term, HEIGHT, NOW_NS, config,
    )
    args = (side, quantity, price, tif, post_only, reduce_only, short_term, block_ns, config)
    if fast is None:
        # Left to the general path: anything but GTC/IOC, or a refusal
        if tif in (TimeInForce.GTC, TimeInForce.IOC):
            with pytest.raises(OrderRefused):
                _general(*args)
        return
    assert tif in (TimeInForce.GTC, TimeInForce.IOC)
    general = _general(*args)
    assert fast == general
    assert plan_values(general) == plan_limit_values(
        side, quantity, price, tif, post_only, reduce_only, short_term, HEIGHT, NOW_NS, config,
    )


@settings(max_examples=400, deadline=None)
@given(
    order_type=st.sampled_from(list(OrderType)),
    side=st.sampled_from([OrderSide.BUY, OrderSide.SELL, OrderSide.NO_ORDER_SIDE]),
    quantity=st.integers(-S, 10 * S),
    price=st.integers(-S, 100_000 * S),
    trigger=st.integers(-S, 100_000 * S),
    tif=st.sampled_from(list(TimeInForce)),
    post_only=st.booleans(),
    reduce_only=st.booleans(),
    horizon_days=st.integers(1, 94),
)
def test_fast_trigger_limit_plan_equals_the_general_plan(
    order_type, side, quantity, price, trigger, tif, post_only, reduce_only, horizon_days,
) -> None:
    config = OrderKindConfig(gtc_horizon_seconds=horizon_days * 86_400)
    fast = plan_trigger_limit_values(
        order_type, side, quantity, price, trigger, tif, post_only, reduce_only, NOW_NS, config,
    )
    fields = OrderFields(
        side=side, order_type=order_type, time_in_force=tif, quantity_raw=quantity,
        price_raw=price, trigger_price_raw=trigger, post_only=post_only,
        reduce_only=reduce_only,
    )
    decidable = order_type in (OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED) and tif in (
        TimeInForce.GTC, TimeInForce.IOC,
    )
    if fast is None:
        if decidable:
            with pytest.raises(OrderRefused):
                plan_order(fields, HEIGHT, 10**9, NOW_NS, config)
        return
    assert decidable
    assert OrderPlan(*fast) == plan_order(fields, HEIGHT, 10**9, NOW_NS, config)


def test_fast_trigger_limit_plan_hand_checked_value() -> None:
    # A take-profit sell, post-only: conditional (32), take profit (2), 90 days from now
    values = plan_trigger_limit_values(
        OrderType.LIMIT_IF_TOUCHED, OrderSide.SELL, S, 70_000 * S, 69_000 * S,
        TimeInForce.GTC, True, False, NOW_NS,
    )
    assert values == (32, 2, 2, 2, 0, 1_775_001_600, False, 70_000 * S, 69_000 * S, S)


def test_fast_limit_plan_hand_checked_values() -> None:
    config = OrderKindConfig(short_term_blocks=15)
    quote = plan_limit_order(
        OrderSide.SELL, S // 1000, 65_001 * S, TimeInForce.GTC, True, False, True, HEIGHT,
        NOW_NS, config,
    )
    assert quote == OrderPlan(
        FLAGS_SHORT_TERM, 2, 2, 0, 50_000_015, 0, False, 65_001 * S, 0, S // 1000,
    )
    resting = plan_limit_order(
        OrderSide.BUY, S, 60_000 * S, TimeInForce.GTC, False, False, False, HEIGHT, NOW_NS,
        config,
    )
    # 2026-01-01T00:00:00Z plus 90 days
    assert resting == OrderPlan(
        FLAGS_LONG_TERM, 1, 0, 0, 0, 1_775_001_600, False, 60_000 * S, 0, S,
    )
    taker = plan_limit_order(
        OrderSide.BUY, S, 60_000 * S, TimeInForce.IOC, False, True, False, HEIGHT, NOW_NS,
        config,
    )
    assert taker == OrderPlan(FLAGS_SHORT_TERM, 1, 1, 0, 50_000_015, 0, True, 60_000 * S, 0, S)


def test_fast_limit_plan_encodes_the_same_bytes() -> None:
    encoder = MarketEncoder(K1, 0, 0, -10, -9, 1_000_000, 100_000)
    config = OrderKindConfig()
    fast = plan_limit_order(
        OrderSide.BUY, S // 100, 65_000 * S, TimeInForce.GTC, True, False, True, HEIGHT, NOW_NS,
        config,
    )
    general = _general(
        OrderSide.BUY, S // 100, 65_000 * S, TimeInForce.GTC, True, False, True, 10**9, config,
    )
    assert place_order_any(encoder, fast, 7, 8) == place_order_any(encoder, general, 7, 8)


@settings(max_examples=300, deadline=None)
@given(
    order_type=st.sampled_from([OrderType.LIMIT, OrderType.MARKET, OrderType.STOP_LIMIT,
                                OrderType.STOP_MARKET, OrderType.LIMIT_IF_TOUCHED,
                                OrderType.MARKET_IF_TOUCHED]),
    side=st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
    tif=st.sampled_from([TimeInForce.GTC, TimeInForce.IOC, TimeInForce.GTD]),
    steps=st.integers(1, 10_000),
    ticks=st.integers(1, 200_000),
    trigger_ticks=st.integers(1, 200_000),
    post_only=st.booleans(),
    reduce_only=st.booleans(),
    expire_s=st.integers(1, 3_000),
    conservative=st.booleans(),
)
def test_values_encoding_equals_plan_encoding(
    order_type, side, tif, steps, ticks, trigger_ticks, post_only, reduce_only, expire_s,
    conservative,
) -> None:
    # Every plan kind encodes to the same bytes from its tuple as from the `OrderPlan`
    is_conditional = order_type not in (OrderType.LIMIT, OrderType.MARKET)
    fields = OrderFields(
        side=side, order_type=order_type, time_in_force=tif, quantity_raw=steps * S // 10_000,
        price_raw=ticks * S, trigger_price_raw=trigger_ticks * S if is_conditional else None,
        expire_time_ns=NOW_NS + expire_s * 10**9, post_only=post_only, reduce_only=reduce_only,
    )
    config = OrderKindConfig(price_rounding="conservative" if conservative else "exact")
    try:
        plan = plan_order(fields, HEIGHT, 10**9, NOW_NS, config)
    except OrderRefused:
        return
    encoder = MarketEncoder(K1, 0, 0, -10, -9, 1_000_000, 100_000)
    assert place_values_any(encoder, plan_values(plan), 9, 10, config) == place_order_any(
        encoder, plan, 9, 10, config,
    )
    assert OrderPlan(*plan_values(plan)) == plan


# -- Packed client IDs ------------------------------------------------------------------------


def _packed_oracle(client_order_id: str) -> tuple[int, int] | None:
    # Independent of the module: datetime for the time, str methods for the shape
    parts = client_order_id.split("-")
    if len(parts) != 6 or parts[0] != "O":
        return None
    date, clock, trader, strategy, count = parts[1:]
    if not all(
        len(text) == size and text.isdecimal()
        for text, size in ((date, 8), (clock, 6), (trader, 3), (strategy, 3))
    ):
        return None
    if not 1 <= len(count) <= 5 or count[0] not in "123456789" or not count.isdecimal():
        return None
    try:
        moment = datetime(
            int(date[:4]), int(date[4:6]), int(date[6:]), int(clock[:2]), int(clock[2:4]),
            int(clock[4:]), tzinfo=UTC,
        )
    except ValueError:
        return None
    seconds = int((moment - EPOCH).total_seconds())
    number = int(count)
    if not 0 <= seconds < 1 << 28 or number >= 1 << 14:
        return None
    payload = (((seconds << 10 | int(trader)) << 10 | int(strategy)) << 14) | number
    metadata = 0x8000_0000 | payload >> 32
    return (payload & 0xFFFF_FFFF) ^ _murmur_finaliser(metadata), metadata


def _murmur_finaliser(value: int) -> int:
    value ^= value >> 16
    value = value * 0x85EBCA6B % 2**32
    value ^= value >> 13
    value = value * 0xC2B2AE35 % 2**32
    return value ^ value >> 16


_DIGITS = st.sampled_from("0123456789")
_ODD = st.sampled_from("0123456789\u0663x-")  # An Arabic-Indic three, a letter, a dash


@settings(max_examples=400, deadline=None)
@given(
    year=st.integers(2023, 2033),
    month=st.integers(0, 13),
    day=st.integers(0, 32),
    hour=st.integers(0, 24),
    minute=st.integers(0, 60),
    second=st.integers(0, 60),
    trader=st.integers(0, 999),
    strategy=st.integers(0, 999),
    count=st.one_of(st.integers(0, 20_000).map(str), st.text(_ODD, max_size=6)),
    repeat=st.booleans(),
)
def test_packed_ids_match_an_independent_oracle(
    year, month, day, hour, minute, second, trader, strategy, count, repeat,
) -> None:
    text = (
        f"O-{year:04d}{month:02d}{day:02d}-{hour:02d}{minute:02d}{second:02d}-"
        f"{trader:03d}-{strategy:03d}-{count}"
    )
    expected = _packed_oracle(text)
    assert pack_client_order_id(text) == expected
    if repeat:  # The second call reads the cached head
        assert pack_client_order_id(text) == expected
    if expected is not None and text.isascii():  # Other decimal digits decode as ASCII
        assert unpack_client_order_id(*expected) == text


@pytest.mark.parametrize(
    "text",
    [
        "O-20260101-000000-001-001-1",
        "O-20260101-000000-001-001-16383",
        "O-2026010\u0663-000000-001-001-1",  # Unicode digits in the head and the count
        "O-20260101-000000-001-001-1\u0663",
        "O-20260101-000000-001-001-",
        "O-20260101-000000-001-001",
        "O-20260101-000000-001-001-1-2",
        "X-20260101-000000-001-001-1",
    ],
)
def test_packed_ids_of_edge_shapes(text: str) -> None:
    assert pack_client_order_id(text) == _packed_oracle(text)


def test_packed_id_hand_checked_value() -> None:
    # 2026-01-01T00:00:00Z is 63_158_400 s after 2024-01-01
    payload = ((63_158_400 << 10 | 1) << 10 | 1) << 14 | 1
    metadata = 0x8000_0000 | payload >> 32
    assert metadata == 2_400_117_248
    client_id = (payload & 0xFFFF_FFFF) ^ _murmur_finaliser(metadata)
    assert pack_client_order_id("O-20260101-000000-001-001-1") == (client_id, metadata)


# -- Indexer order UUIDs ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    subaccount=st.integers(0, 128_000),
    client_id=st.integers(0, 2**32 - 1),
    clob_pair_id=st.integers(0, 2**32 - 1),
    order_flags=st.sampled_from([0, 32, 64, 128, 256]),
)
def test_order_uuids_match_the_standard_library(
    subaccount, client_id, clob_pair_id, order_flags,
) -> None:
    sub = uuid.uuid5(INDEXER_NAMESPACE, f"{K1}-{subaccount}")
    expected = uuid.uuid5(INDEXER_NAMESPACE, f"{sub}-{client_id}-{clob_pair_id}-{order_flags}")
    made = OrderUuids(K1, subaccount)
    assert made(client_id, clob_pair_id, order_flags) == str(expected)
    assert made(client_id, clob_pair_id, order_flags) == str(
        order_uuid(K1, subaccount, client_id, clob_pair_id, order_flags),
    )


def test_order_uuid_protocol_vector() -> None:
    assert OrderUuids(K1, 0)(123456789, 0, 0) == "abf17845-a8c4-5be3-a976-b0639386fd5e"


# -- Equity-tier limit ------------------------------------------------------------------------


class _Account:
    def __init__(self, usdc: str) -> None:
        self.usdc = usdc

    def balance(self, currency):
        return SimpleNamespace(total=Money(self.usdc, currency))


def _owner(account: _Account, open_stateful: int, tiers: tuple) -> SimpleNamespace:
    orders = {
        i: SimpleNamespace(closed=False, is_short_term=False) for i in range(open_stateful)
    }
    orders[-1] = SimpleNamespace(closed=False, is_short_term=True)  # Not counted
    cache = SimpleNamespace(account_for_venue=lambda venue: account)
    return SimpleNamespace(_equity_tiers=tiers, _cache=cache, _orders=orders, _tier_limit=None)


TIERS = (EquityTier(0, 0), EquityTier(20_000_000, 10), EquityTier(100_000_000, 20))


def test_equity_tier_limit_follows_the_equity_and_the_tiers() -> None:
    account = _Account("50")  # 50 USDC: the 20 USD tier, 10 stateful orders
    owner = _owner(account, 10, TIERS)
    with pytest.raises(OrderRefused, match="10 open stateful orders, limit 10"):
        DYDXExecutionClient._check_equity_tier(owner)
    with pytest.raises(OrderRefused):  # The cached limit, same answer
        DYDXExecutionClient._check_equity_tier(owner)
    account.usdc = "150"  # The 100 USD tier: 20 orders
    DYDXExecutionClient._check_equity_tier(owner)
    account.usdc = "19.999999"  # Below the first paid tier: no stateful order at all
    owner._orders = {0: SimpleNamespace(closed=False, is_short_term=True)}
    with pytest.raises(OrderRefused, match="0 open stateful orders, limit 0"):
        DYDXExecutionClient._check_equity_tier(owner)
    account.usdc = "50"
    owner._orders = _owner(account, 9, TIERS)._orders
    DYDXExecutionClient._check_equity_tier(owner)  # 9 of 10
    owner._equity_tiers = (EquityTier(0, 0), EquityTier(20_000_000, 9))  # New tiers
    with pytest.raises(OrderRefused, match="9 open stateful orders, limit 9"):
        DYDXExecutionClient._check_equity_tier(owner)
