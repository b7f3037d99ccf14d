# SPDX-License-Identifier: Apache-2.0
"""Concurrent submits, cancels and modifies through the execution client while the WS drops."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderCancelRejected
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderModifyRejected
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.events import OrderUpdated

from nautilus_dydx.common.types import DYDXOrderTags
from tests.reliability.exec_suite import IN_FLIGHT
from tests.reliability.exec_suite import MARKETS
from tests.reliability.exec_suite import SETTLE_TIMEOUT_S
from tests.reliability.exec_suite import ExecRig
from tests.reliability.exec_suite import check_venue
from tests.reliability.exec_suite import venue_differences
from tests.reliability.exec_suite import settle
from tests.reliability.suite import FaultResult


# The longest short-term window, so a short-term order outlives its own round
SHORT_TERM = [DYDXOrderTags(is_short_term_order=True, num_blocks_open=20).value]
KINDS = ("short-term", "long-term", "conditional")


def _far(node, instrument_id, fraction: str, offset_ticks: int):
    # A price a fraction of the oracle away, shifted by whole ticks (so every order differs)
    instrument = node.cache.instrument(instrument_id)
    ticker = instrument_id.symbol.value.removesuffix("-PERP")
    oracle = node.client._oracle[ticker][0]
    price = oracle * Decimal(fraction) - instrument.price_increment.as_decimal() * offset_ticks
    return instrument.make_price(price)


def _new_orders(node, round_index: int, per_market: int) -> list:
    orders = []
    factory = node.strategy.order_factory
    for instrument_id, _, _ in MARKETS:
        instrument = node.cache.instrument(instrument_id)
        quantity = instrument.make_qty(instrument.size_increment.as_decimal() * 10)
        for k in range(per_market):
            offset = round_index * per_market + k
            kind = KINDS[k % len(KINDS)]
            if kind == "conditional":
                # A sell stop far below the market: accepted untriggered, never triggers
                trigger = _far(node, instrument_id, "0.5", offset)
                orders.append(factory.stop_limit(
                    instrument_id, OrderSide.SELL, quantity, price=trigger,
                    trigger_price=trigger, trigger_type=TriggerType.DEFAULT,
                ))
                continue
            price = _far(node, instrument_id, "0.6", offset)
            tags = SHORT_TERM if kind == "short-term" else None
            orders.append(factory.limit(instrument_id, OrderSide.BUY, quantity, price, tags=tags))
    return orders


def _modify(node, order) -> None:
    instrument = node.cache.instrument(order.instrument_id)
    tick = instrument.price_increment.as_decimal()
    price = instrument.make_price(order.price.as_decimal() - tick)
    if order.has_trigger_price:
        node.strategy.modify_order(order, price=price, trigger_price=price)
    else:
        node.strategy.modify_order(order, price=price)


async def _until(condition, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def _venue_price_violations(rig: ExecRig, orders: list) -> list[str]:
    # An open order rests on the venue at the price Nautilus holds (modifies not lost)
    chain = rig.sandbox.node.chain
    resting = {k[2]: o for k, o in list(chain.short_orders.items()) + list(chain.stateful.items())
               if k[0] == rig.node.client.address and k[1] == 0}
    violations = []
    for order in orders:
        state = rig.node.client.venue_order(order.client_order_id)
        if not order.is_open or state is None or state.client_id not in resting:
            continue
        market = chain.markets[state.clob_pair_id].config
        if resting[state.client_id].subticks != market.price_to_subticks(order.price.as_decimal()):
            violations.append(f"{order.client_order_id} rests at a price Nautilus does not hold")
    return violations


def closing_indexes(events: list, node) -> dict:
    """The index in `events` of each order's closing event: its cancel, expiry or last fill
    (when it ended filled)."""
    closed_at = {}
    for i, event in enumerate(events):
        if isinstance(event, OrderCanceled | OrderExpired):
            closed_at.setdefault(event.client_order_id, i)
        elif isinstance(event, OrderFilled):
            order = node.cache.order(event.client_order_id)
            if order is not None and order.status == OrderStatus.FILLED:
                closed_at[event.client_order_id] = i
    return closed_at


async def run_exec_concurrency(rig: ExecRig, rounds: int = 5,
                               per_market: int = 6) -> FaultResult:
    """
    Each round, at once across BTC and ETH: new short-term, long-term and conditional orders,
    modifies and cancels of the previous round's stateful orders, a WebSocket drop; then
    modifies and cancels of this round's short-term orders while they live.
    """
    result = FaultResult("exec_concurrency", "exec+ws")
    node = rig.node
    errors_before = len(rig.errors)
    events_before = len(node.events)
    baseline = await venue_differences(node, rig.sandbox, rig.http)
    live: list = []
    every: list = []
    violations_before = 0
    for round_index in range(rounds):
        if round_index:
            result.failed_runs += len(result.violations) > violations_before
        violations_before = len(result.violations)
        started = time.perf_counter()
        orders = _new_orders(node, round_index, per_market)
        every.extend(orders)
        for order in orders:
            node.strategy.submit_order(order)
        stateful = [o for o in live if o.is_open and o.status not in IN_FLIGHT]
        for k, order in enumerate(stateful):
            if k % 2 == 0:
                _modify(node, order)
            else:
                node.strategy.cancel_order(order)
        await asyncio.sleep(0.01)
        rig.sandbox.faults.drop_ws()
        # Short-term orders: modify half, cancel the rest while their window lasts
        short = [o for o in orders if not o.has_trigger_price and o.tags == SHORT_TERM]
        await _until(lambda s=short: all(o.status != OrderStatus.SUBMITTED for o in s), 10.0)
        for k, order in enumerate(o for o in short if o.is_open):
            if k % 2 == 0:
                _modify(node, order)
            else:
                node.strategy.cancel_order(order)
        settled = await _until(
            lambda: all(o.status not in IN_FLIGHT for o in every), SETTLE_TIMEOUT_S,
        )
        result.runs += 1
        if not settled:
            stuck = sorted({o.status.name for o in every if o.status in IN_FLIGHT})
            result.violations.append(f"round {round_index}: orders not settled: {stuck}")
            continue
        result.recovery_s.append(time.perf_counter() - started)
        await asyncio.sleep(0.3)
        result.violations.extend(_venue_price_violations(rig, every))
        live = [o for o in orders if o not in short]
    # Everything left: cancel, then every invariant of the suite (counted with the last round)
    remaining = [o for o in every if o.is_open]
    if not await settle(node, remaining):
        result.violations.append("final cancels did not settle")
    await asyncio.sleep(0.3)
    result.violations.extend(await check_venue(node, rig.sandbox, rig.http, baseline))
    events = node.events[events_before:]
    closed_at = closing_indexes(events, node)
    for i, event in enumerate(events):
        if isinstance(event, OrderModifyRejected | OrderCancelRejected) and (
            closed_at.get(event.client_order_id, i) < i
        ):
            continue  # Sent while the venue was closing the order: rejected after its close
        if isinstance(event, OrderRejected | OrderModifyRejected | OrderCancelRejected):
            result.violations.append(f"{type(event).__name__}: {event.reason[:80]}")
    client_ids = [node.client.venue_order(o.client_order_id) for o in every]
    ids = [(s.clob_pair_id, s.client_id) for s in client_ids if s is not None]
    if len(set(ids)) != len(ids):
        result.violations.append("two orders of the run share a venue client id")
    if len(ids) != len(every):
        result.violations.append(f"{len(every) - len(ids)} orders never reached the client")
    result.violations.extend(f"unhandled: {e}" for e in rig.errors[errors_before:])
    if rounds:
        result.failed_runs += len(result.violations) > violations_before
    updated = sum(1 for e in events if isinstance(e, OrderUpdated))
    canceled = sum(1 for o in every if o.status == OrderStatus.CANCELED)
    result.detail = f"{len(every)} orders, {updated} modified, {canceled} canceled"
    return result
