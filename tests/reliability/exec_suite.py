# SPDX-License-Identifier: Apache-2.0
"""Execution-client faults: a strategy trading on two markets while faults hit its paths."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import httpx
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderFilled

from nautilus_dydx.sandbox.agents import AgentConfig
from nautilus_dydx.sandbox.agents import MarketAgents
from tests.integration.execution.support import BTC_PERP
from tests.integration.execution.support import ETH_PERP
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_orders import SHORT
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.reliability.rig import LoseAnswers
from tests.reliability.suite import FaultResult


IN_FLIGHT = {
    OrderStatus.INITIALIZED, OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL,
    OrderStatus.PENDING_UPDATE,
}
SETTLE_TIMEOUT_S = 20.0


def _ws_drop(sandbox, answers) -> None:
    sandbox.faults.drop_ws()


def _grpc(code: str):
    def inject(sandbox, answers) -> None:
        sandbox.faults.grpc_error(code, count=1, method="BroadcastTx")

    return inject


def _lost(sandbox, answers) -> None:
    answers.armed = 1


def _skew(sandbox, answers) -> None:
    sandbox.faults.skew_sequence(K1_ADDRESS, 2)


def _rest(sandbox, answers) -> None:
    sandbox.faults.rest_error(503, count=3)


EXEC_FAULTS = {
    "exec_ws_drop": _ws_drop,
    "exec_grpc_unavailable": _grpc("UNAVAILABLE"),
    "exec_grpc_resource_exhausted": _grpc("RESOURCE_EXHAUSTED"),
    "exec_lost_broadcast_answer": _lost,
    "exec_sequence_skew": _skew,
    "exec_rest_5xx": _rest,
}


def _orders(node, round_index: int) -> list:
    # Per market: a resting short-term bid, a resting stateful bid, a marketable IOC buy
    orders = []
    for instrument_id, far, cross in ((BTC_PERP, "30000", "130000"), (ETH_PERP, "1000", "9000")):
        instrument = node.cache.instrument(instrument_id)
        qty = instrument.make_qty(instrument.size_increment.as_decimal() * 10)
        factory = node.strategy.order_factory
        orders.append(factory.limit(instrument_id, OrderSide.BUY, qty,
                                    instrument.make_price(Decimal(far)), tags=SHORT))
        orders.append(factory.limit(instrument_id, OrderSide.BUY, qty,
                                    instrument.make_price(Decimal(far) - round_index)))
        orders.append(factory.limit(instrument_id, OrderSide.BUY, qty,
                                    instrument.make_price(Decimal(cross)),
                                    time_in_force=TimeInForce.IOC, tags=SHORT))
    return orders


async def check_venue(node, sandbox, http: httpx.AsyncClient) -> list[str]:
    violations = []
    orders = node.cache.orders()
    stuck = [o for o in orders if o.status in IN_FLIGHT]
    if stuck:
        violations.append(f"{len(stuck)} orders left in flight, e.g. {stuck[0].status.name}")
    chain = sandbox.node.chain
    on_venue = {(k[2], k[4]) for k in list(chain.short_orders) + list(chain.stateful)
                if k[0] == K1_ADDRESS}
    for order in orders:
        state = node.client.venue_order(order.client_order_id)
        if state is None:
            continue
        resting = any(client_id == state.client_id for client_id, _ in on_venue)
        if order.is_open and not resting and order.status != OrderStatus.PENDING_CANCEL:
            violations.append(f"{order.client_order_id} open in Nautilus, not on the venue")
        if order.is_closed and resting:
            violations.append(f"{order.client_order_id} closed in Nautilus, rests on the venue")
    fills = [e for e in node.events if isinstance(e, OrderFilled)]
    trade_ids = [(f.instrument_id, f.trade_id) for f in fills]
    if len(set(trade_ids)) != len(trade_ids):
        violations.append("an OrderFilled repeated a trade id")
    venue_fills = (await http.get("/fills", params={
        "address": K1_ADDRESS, "subaccountNumber": 0, "limit": 1000,
    })).json()["fills"]
    if len(venue_fills) != len(fills):
        violations.append(f"venue fills {len(venue_fills)} != OrderFilled {len(fills)}")
    sub = sandbox.node.subaccount(K1_ADDRESS) or {"positions": {}}
    for instrument_id, perpetual_id in ((BTC_PERP, 0), (ETH_PERP, 1)):
        venue_size = sub["positions"].get(perpetual_id, {"size": 0})["size"]
        positions = node.cache.positions_open(instrument_id=instrument_id)
        net = sum((p.signed_decimal_qty() for p in positions), Decimal(0))
        atomic = chain.markets[perpetual_id].config.atomic_resolution
        venue_qty = Decimal(venue_size).scaleb(atomic)
        if venue_qty != net:
            violations.append(f"{instrument_id} position {net} != venue {venue_qty}")
    return violations


async def settle(node, orders: list) -> bool:
    # Cancel each resting order once it is accepted; wait for every order to be closed
    cancelled: set = set()
    deadline = time.perf_counter() + SETTLE_TIMEOUT_S
    while time.perf_counter() < deadline:
        for order in orders:
            if order.is_open and order.status not in IN_FLIGHT and order not in cancelled:
                node.strategy.cancel_order(order)
                cancelled.add(order)
        if all(o.status not in IN_FLIGHT and not o.is_open for o in orders):
            return True
        await asyncio.sleep(0.1)
    return False


async def run_exec_suite(names: list[str], count: int) -> list[FaultResult]:
    """Run each execution fault `count` times with a strategy trading BTC and ETH."""
    results = []
    answers = LoseAnswers()
    async with venue(interceptors=[answers], short_term_rate_limits=((1, 1_000_000),),
                     stateful_rate_limits=((1, 1_000_000),)) as sandbox:
        sandbox.agents = MarketAgents(sandbox.node, AgentConfig(levels=20, requote_every=3))
        sandbox.agents.start()
        async with trading_node(sandbox) as node, httpx.AsyncClient(
            base_url=sandbox.http_url, timeout=5.0,
        ) as http:
            for name in names:
                result = FaultResult(name, "exec")
                results.append(result)
                for index in range(count):
                    started = time.perf_counter()
                    orders = _orders(node, index)
                    EXEC_FAULTS[name](sandbox, answers)
                    for order in orders:
                        node.strategy.submit_order(order)
                    settled = await settle(node, orders)
                    sandbox.faults.clear()
                    answers.armed = 0
                    result.runs += 1
                    if settled:
                        result.recovery_s.append(time.perf_counter() - started)
                    else:
                        states = sorted({o.status.name for o in orders})
                        result.violations.append(f"orders not settled: {states}")
                    await asyncio.sleep(0.3)  # let the last fills arrive on the stream
                    result.violations.extend(await check_venue(node, sandbox, http))
                fills = sum(isinstance(e, OrderFilled) for e in node.events)
                result.detail = f"{fills} fills, {len(node.cache.orders())} orders so far"
    return results
