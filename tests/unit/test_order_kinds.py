# SPDX-License-Identifier: Apache-2.0
"""Tests of order kind selection, expiries, refusals, cancels and batch splitting (§4)."""

from __future__ import annotations

import pandas as pd
import pytest
from google.protobuf import any_pb2
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.common.component import TestClock
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from v4_proto.dydxprotocol.clob.tx_pb2 import MsgPlaceOrder

from nautilus_dydx._core.orders import MarketEncoder
from nautilus_dydx.client_ids import ClientIdCodec
from nautilus_dydx.order_errors import OrderRefused
from nautilus_dydx.order_kinds import FLAGS_CONDITIONAL
from nautilus_dydx.order_kinds import FLAGS_LONG_TERM
from nautilus_dydx.order_kinds import FLAGS_SHORT_TERM
from nautilus_dydx.order_kinds import STATEFUL_WINDOW_SECONDS
from nautilus_dydx.order_kinds import OrderFields
from nautilus_dydx.order_kinds import OrderKindConfig
from nautilus_dydx.order_kinds import fields_from_order
from nautilus_dydx.order_kinds import place_order_any
from nautilus_dydx.order_kinds import plan_cancel
from nautilus_dydx.order_kinds import plan_order
from nautilus_dydx.order_kinds import split_batch_cancels


S = 10**16
HEIGHT = 50_000_000
BLOCK_NS = 1_000_000_000
NOW_NS = 1_767_225_600 * 10**9
NOW_S = NOW_NS // 10**9
K1 = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"


def _fields(**kw) -> OrderFields:
    base = dict(
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        quantity_raw=S // 100,
        price_raw=65_000 * S,
    )
    base.update(kw)
    return OrderFields(**base)


def _decode_place(raw: bytes):
    return MsgPlaceOrder.FromString(any_pb2.Any.FromString(raw).value).order


def _plan(**kw):
    return plan_order(_fields(**kw), HEIGHT, BLOCK_NS, NOW_NS)


def test_limit_gtc_is_long_term_with_horizon() -> None:
    plan = _plan()
    assert plan.order_flags == FLAGS_LONG_TERM and plan.good_til_block == 0
    assert plan.good_til_block_time == NOW_S + 90 * 86400
    assert plan.time_in_force == 0


@pytest.mark.parametrize(("blocks", "window", "expected"), [(20, 20, 20), (40, 20, 20),
                                                           (40, 40, 40), (15, 40, 15)])
def test_short_term_blocks_are_capped_by_the_chain_window(blocks, window, expected) -> None:
    config = OrderKindConfig(short_term_blocks=blocks, short_block_window=window)
    plan = plan_order(_fields(time_in_force=TimeInForce.IOC), HEIGHT, BLOCK_NS, NOW_NS, config)
    assert plan.good_til_block == HEIGHT + expected
    cancel = plan_cancel(FLAGS_SHORT_TERM, HEIGHT + 1, 0, HEIGHT, NOW_NS, config)
    assert cancel.good_til_block == HEIGHT + expected


def test_configurable_gtc_horizon() -> None:
    config = OrderKindConfig(gtc_horizon_seconds=3600)
    plan = plan_order(_fields(), HEIGHT, BLOCK_NS, NOW_NS, config)
    assert plan.good_til_block_time == NOW_S + 3600


def test_limit_ioc_is_short_term_within_20_blocks() -> None:
    plan = _plan(time_in_force=TimeInForce.IOC)
    assert plan.order_flags == FLAGS_SHORT_TERM and plan.time_in_force == 1
    assert HEIGHT < plan.good_til_block <= HEIGHT + 20 and plan.good_til_block_time == 0


def test_short_gtd_is_short_term_and_long_gtd_is_long_term() -> None:
    short = _plan(time_in_force=TimeInForce.GTD, expire_time_ns=NOW_NS + 5 * BLOCK_NS)
    assert short.order_flags == FLAGS_SHORT_TERM and short.good_til_block == HEIGHT + 5
    long = _plan(time_in_force=TimeInForce.GTD, expire_time_ns=NOW_NS + 3600 * 10**9 + 1)
    assert long.order_flags == FLAGS_LONG_TERM
    assert long.good_til_block_time == NOW_S + 3601  # Rounded up, never before the expiry


def test_post_only_limit() -> None:
    assert _plan(post_only=True).time_in_force == 2
    assert _plan(post_only=True, time_in_force=TimeInForce.GTD,
                 expire_time_ns=NOW_NS + 2 * BLOCK_NS).time_in_force == 2


def test_day_expires_at_next_utc_midnight() -> None:
    plan = _plan(time_in_force=TimeInForce.DAY)
    assert plan.order_flags == FLAGS_LONG_TERM and plan.good_til_block_time == NOW_S + 86400


def test_market_is_short_term_ioc_with_worst_price() -> None:
    plan = _plan(order_type=OrderType.MARKET, price_raw=70_000 * S, reduce_only=True)
    assert (plan.order_flags, plan.time_in_force, plan.price_raw) == (0, 1, 70_000 * S)
    assert plan.reduce_only


@pytest.mark.parametrize(
    ("order_type", "tif", "condition", "chain_tif"),
    [
        (OrderType.STOP_MARKET, TimeInForce.GTC, 1, 1),
        (OrderType.STOP_LIMIT, TimeInForce.GTC, 1, 0),
        (OrderType.STOP_LIMIT, TimeInForce.IOC, 1, 1),
        (OrderType.MARKET_IF_TOUCHED, TimeInForce.GTC, 2, 1),
        (OrderType.LIMIT_IF_TOUCHED, TimeInForce.GTD, 2, 0),
    ],
)
def test_conditional_mapping(order_type, tif, condition, chain_tif) -> None:
    plan = _plan(
        order_type=order_type,
        time_in_force=tif,
        trigger_price_raw=64_000 * S,
        expire_time_ns=NOW_NS + 86400 * 10**9,
    )
    assert plan.order_flags == FLAGS_CONDITIONAL
    assert (plan.condition_type, plan.time_in_force) == (condition, chain_tif)
    assert plan.trigger_price_raw == 64_000 * S and plan.good_til_block_time > NOW_S


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        (dict(time_in_force=TimeInForce.FOK), 48),
        (dict(order_type=OrderType.MARKET, time_in_force=TimeInForce.FOK, price_raw=S), 48),
        (dict(reduce_only=True), 9003),
        (dict(reduce_only=True, post_only=True), 9003),
        (dict(order_type=OrderType.STOP_LIMIT, trigger_price_raw=S, reduce_only=True), 9003),
        (dict(order_type=OrderType.STOP_LIMIT), 6001),
        (dict(order_type=OrderType.STOP_MARKET, trigger_price_raw=0), 6001),
        (dict(order_type=OrderType.MARKET, price_raw=None), 6),
        (dict(price_raw=0), 6),
        (dict(quantity_raw=0), 4),
        (dict(time_in_force=TimeInForce.GTD, expire_time_ns=NOW_NS - 10**9 * 100), 10),
        (dict(order_type=OrderType.STOP_LIMIT, trigger_price_raw=S, time_in_force=TimeInForce.GTD,
              expire_time_ns=NOW_NS - 10**9), 3003),
        (dict(trigger_price_raw=S), 6001),
        (dict(time_in_force=TimeInForce.GTD,
              expire_time_ns=NOW_NS + (STATEFUL_WINDOW_SECONDS + 1) * 10**9), 3004),
        (dict(time_in_force=TimeInForce.GTD), 3001),
        (dict(time_in_force=TimeInForce.AT_THE_OPEN), 44),
        (dict(post_only=True, time_in_force=TimeInForce.IOC), 44),
        (dict(order_type=OrderType.TRAILING_STOP_MARKET), 9002),
        (dict(side=OrderSide.NO_ORDER_SIDE), 3),
    ],
)
def test_chain_rejections_are_refused_before_signing(kw, code) -> None:
    with pytest.raises(OrderRefused) as info:
        _plan(**kw)
    assert info.value.code == code and info.value.codespace == "clob"
    assert info.value.reason and str(code) in str(info.value)


@settings(max_examples=600, deadline=None)
@given(
    side=st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
    order_type=st.sampled_from(list(OrderType)),
    tif=st.sampled_from(list(TimeInForce)),
    post_only=st.booleans(),
    reduce_only=st.booleans(),
    trigger=st.one_of(st.none(), st.just(60_000 * S)),
    expire_s=st.one_of(st.none(), st.integers(-100, 100 * 86400)),
)
def test_every_accepted_plan_satisfies_chain_rules(
    side, order_type, tif, post_only, reduce_only, trigger, expire_s,
) -> None:
    fields = _fields(
        side=side, order_type=order_type, time_in_force=tif, post_only=post_only,
        reduce_only=reduce_only, trigger_price_raw=trigger,
        expire_time_ns=None if expire_s is None else NOW_NS + expire_s * 10**9,
    )
    try:
        plan = plan_order(fields, HEIGHT, BLOCK_NS, NOW_NS)
    except OrderRefused as e:
        assert e.codespace == "clob" and e.code > 0
        return
    # Stateless rules of §4.3 / §4.4
    assert plan.order_flags in (0, 32, 64) and plan.time_in_force in (0, 1, 2)
    if plan.reduce_only:
        assert plan.time_in_force == 1
    if plan.order_flags == 0:
        assert HEIGHT + 1 <= plan.good_til_block <= HEIGHT + 20 and plan.good_til_block_time == 0
        assert plan.condition_type == 0 and plan.trigger_price_raw == 0
    else:
        assert plan.good_til_block == 0
        assert NOW_S < plan.good_til_block_time <= NOW_S + STATEFUL_WINDOW_SECONDS
    if plan.order_flags == 64:
        assert plan.time_in_force != 1 and plan.condition_type == 0
    if plan.order_flags == 32:
        assert plan.condition_type in (1, 2) and plan.trigger_price_raw > 0


def test_short_term_cancel_outlives_the_order() -> None:
    cancel = plan_cancel(0, HEIGHT + 20, 0, HEIGHT + 3, NOW_NS)
    assert cancel.good_til_block >= HEIGHT + 20 and cancel.good_til_block <= HEIGHT + 3 + 20
    late = plan_cancel(0, HEIGHT + 2, 0, HEIGHT + 5, NOW_NS)
    assert late.good_til_block == HEIGHT + 25


def test_stateful_cancel_outlives_the_order() -> None:
    cancel = plan_cancel(64, 0, NOW_S + 86400, HEIGHT, NOW_NS)
    assert cancel.good_til_block_time == NOW_S + 86400 and cancel.good_til_block == 0
    soon = plan_cancel(32, 0, NOW_S + 5, HEIGHT, NOW_NS)
    assert soon.good_til_block_time == NOW_S + 120


def test_cancel_with_invalid_flags_is_refused() -> None:
    with pytest.raises(OrderRefused) as info:
        plan_cancel(128, 0, 0, HEIGHT, NOW_NS)
    assert info.value.code == 3000


def test_batch_cancels_split_at_100_ids() -> None:
    batches = split_batch_cancels({0: list(range(150)) + [3, 3], 1: list(range(60))})
    assert [sum(len(ids) for _, ids in msg) for msg in batches] == [100, 100, 10]
    for msg in batches:
        clobs = [clob for clob, _ in msg]
        assert len(clobs) == len(set(clobs)) and all(ids for _, ids in msg)
    flat = [(c, i) for msg in batches for c, ids in msg for i in ids]
    assert sorted(flat) == sorted({(0, i) for i in range(150)} | {(1, i) for i in range(60)})


def test_conservative_rounding_and_exact_refusal() -> None:
    encoder = MarketEncoder(K1, 0, 0, -10, -9, 1_000_000, 100_000)
    plan_buy = _plan(price_raw=654321 * S // 10, time_in_force=TimeInForce.IOC)
    with pytest.raises(ValueError, match="tick size 1"):
        place_order_any(encoder, plan_buy, 1, 0)
    conservative = OrderKindConfig(price_rounding="conservative")
    buy = _decode_place(place_order_any(encoder, plan_buy, 1, 0, conservative))
    assert buy.subticks == 6_543_200_000
    plan_sell = _plan(
        price_raw=654321 * S // 10, time_in_force=TimeInForce.IOC, side=OrderSide.SELL,
    )
    sell = _decode_place(place_order_any(encoder, plan_sell, 1, 0, conservative))
    assert sell.subticks == 6_543_300_000


def test_nautilus_order_adapter_end_to_end() -> None:
    clock = TestClock()
    clock.set_time(NOW_NS)
    factory = OrderFactory(TraderId("TRADER-001"), StrategyId("S-001"), clock)
    instrument_id = InstrumentId.from_str("BTC-USD-PERP.DYDX")
    order = factory.stop_limit(
        instrument_id,
        OrderSide.SELL,
        Quantity.from_str("0.001"),
        Price.from_str("60000"),
        Price.from_str("61000"),
        time_in_force=TimeInForce.GTD,
        expire_time=pd.Timestamp(1767225600 + 86400, unit="s", tz="UTC"),
    )
    fields = fields_from_order(order)
    plan = plan_order(fields, HEIGHT, BLOCK_NS, NOW_NS)
    encoder = MarketEncoder(K1, 0, 0, -10, -9, 1_000_000, 100_000)
    client_id, metadata = ClientIdCodec().encode(order.client_order_id.value)
    raw = place_order_any(encoder, plan, client_id, metadata)
    decoded = _decode_place(raw)
    assert decoded.order_id.order_flags == 32 and decoded.condition_type == 1
    assert decoded.subticks == 6_000_000_000
    assert decoded.conditional_order_trigger_subticks == 6_100_000_000
    assert decoded.quantums == 10_000_000 and decoded.side == 2
    assert decoded.good_til_block_time == 1767225600 + 86400
    assert ClientIdCodec().decode(decoded.order_id.client_id, decoded.client_metadata) == (
        order.client_order_id.value
    )


def test_nautilus_market_order_needs_caller_worst_price() -> None:
    clock = TestClock()
    clock.set_time(NOW_NS)
    factory = OrderFactory(TraderId("TRADER-001"), StrategyId("S-001"), clock)
    order = factory.market(
        InstrumentId.from_str("BTC-USD-PERP.DYDX"), OrderSide.BUY, Quantity.from_str("0.01"),
    )
    with pytest.raises(OrderRefused) as info:
        plan_order(fields_from_order(order), HEIGHT, BLOCK_NS, NOW_NS)
    assert info.value.code == 6
    plan = plan_order(fields_from_order(order, 68_000 * S), HEIGHT, BLOCK_NS, NOW_NS)
    assert plan.order_flags == 0 and plan.time_in_force == 1 and plan.price_raw == 68_000 * S
