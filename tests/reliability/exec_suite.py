# SPDX-License-Identifier: Apache-2.0
"""Execution-client faults: a strategy trading on two markets while faults hit its paths."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

import httpx
from nautilus_trader.model.currencies import USDC
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
from tests.reliability.proxy import TcpProxy
from tests.reliability.rig import LoseAnswers
from tests.reliability.suite import FaultResult


IN_FLIGHT = {
    OrderStatus.INITIALIZED, OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL,
    OrderStatus.PENDING_UPDATE,
}
SETTLE_TIMEOUT_S = 20.0
# How long the account view may lag the venue (the Indexer streams a block late)
ACCOUNT_CATCH_UP_S = 3.0
MARKETS = ((BTC_PERP, 0, "BTC-USD"), (ETH_PERP, 1, "ETH-USD"))
LIQUIDATED_SUBACCOUNT = 1
LIQUIDATION_COLLATERAL = 30 * 10**6  # quote quantums behind a ~11x long


@dataclass
class ExecRig:
    """The venue, the trading node(s), the killable gRPC endpoints and the loop's errors."""

    sandbox: object
    answers: LoseAnswers
    node: object
    http: httpx.AsyncClient
    proxies: list[TcpProxy]
    errors: list[str] = field(default_factory=list)
    liquidated_node: object | None = None


@dataclass
class ExecTrial:
    violations: list[str]
    recovery_s: float | None


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
                                    instrument.make_price(Decimal(far) - round_index % 500)))
        orders.append(factory.limit(instrument_id, OrderSide.BUY, qty,
                                    instrument.make_price(Decimal(cross)),
                                    time_in_force=TimeInForce.IOC, tags=SHORT))
    return orders


def _order_violations(node, sandbox) -> list[str]:
    violations = []
    orders = node.cache.orders()
    stuck = [o for o in orders if o.status in IN_FLIGHT]
    if stuck:
        violations.append(f"{len(stuck)} orders left in flight, e.g. {stuck[0].status.name}")
    chain = sandbox.node.chain
    subaccount = node.client._subaccount
    on_venue = [k[2] for k in list(chain.short_orders) + list(chain.stateful)
                if k[0] == K1_ADDRESS and k[1] == subaccount]
    if len(set(on_venue)) != len(on_venue):
        violations.append("a client id rests twice on the venue (placed twice)")
    resting_ids = set(on_venue)
    for order in orders:
        state = node.client.venue_order(order.client_order_id)
        if state is None:
            continue
        resting = state.client_id in resting_ids
        if order.is_open and not resting and order.status != OrderStatus.PENDING_CANCEL:
            violations.append(f"{order.client_order_id} open in Nautilus, not on the venue")
        if order.is_closed and resting:
            violations.append(f"{order.client_order_id} closed in Nautilus, rests on the venue")
    fills = [e for e in node.events if isinstance(e, OrderFilled)]
    trade_ids = [(f.instrument_id, f.trade_id) for f in fills]
    if len(set(trade_ids)) != len(trade_ids):
        violations.append("an OrderFilled repeated a trade id")
    return violations


async def _venue_fill_count(http: httpx.AsyncClient, subaccount: int) -> int:
    count = 0
    for page in range(1, 1_000):
        fills = (await http.get("/fills", params={
            "address": K1_ADDRESS, "subaccountNumber": subaccount, "limit": 1000, "page": page,
        })).json()["fills"]
        count += len(fills)
        if len(fills) < 1000:
            break
    return count


async def venue_differences(node, sandbox, http: httpx.AsyncClient) -> dict[str, Decimal]:
    """
    What Nautilus and the client hold minus what the venue holds: positions (Nautilus's and
    the client's streamed view), the USDC balance and the number of fills (0 when equal).
    """
    chain = sandbox.node.chain
    subaccount = node.client._subaccount
    sub = sandbox.node.subaccount(K1_ADDRESS, subaccount) or {"usdc": 0, "positions": {}}
    streamed = node.client.venue_positions
    differences = {}
    for instrument_id, perpetual_id, ticker in MARKETS:
        venue_qty = _venue_qty(chain, sub, perpetual_id)
        positions = node.cache.positions_open(instrument_id=instrument_id)
        net = sum((p.signed_decimal_qty() for p in positions), Decimal(0))
        differences[f"{instrument_id} Nautilus position"] = net - venue_qty
        differences[f"{ticker} client position"] = streamed.get(ticker, Decimal(0)) - venue_qty
    differences["USDC balance"] = node.client.usdc_balance - Decimal(sub["usdc"]).scaleb(-6)
    fills = sum(isinstance(e, OrderFilled) for e in node.events)
    differences["OrderFilled count"] = Decimal(fills - await _venue_fill_count(http, subaccount))
    return differences


def _venue_qty(chain, sub: dict, perpetual_id: int) -> Decimal:
    venue_size = sub["positions"].get(perpetual_id, {"size": 0})["size"]
    return Decimal(venue_size).scaleb(chain.markets[perpetual_id].config.atomic_resolution)


def _equity_violations(node, sandbox) -> list[str]:
    # The Nautilus account's equity against the venue's at the client's oracle prices
    chain = sandbox.node.chain
    sub = sandbox.node.subaccount(K1_ADDRESS, node.client._subaccount) or {
        "usdc": 0, "positions": {},
    }
    venue_equity = Decimal(sub["usdc"]).scaleb(-6)
    gross = Decimal(0)
    for _, perpetual_id, ticker in MARKETS:
        venue_qty = _venue_qty(chain, sub, perpetual_id)
        oracle = node.client._oracle.get(ticker, (Decimal(chain.markets[perpetual_id]
                                                           .oracle_price), 0))[0]
        venue_equity += venue_qty * oracle
        gross += abs(venue_qty * oracle)
    account = node.cache.account(node.client.account_id)
    if account is None:
        return ["no Nautilus account"]
    total = account.balance_total(USDC).as_decimal()
    # The account is re-valued on account events, not on every oracle tick
    tolerance = gross * Decimal("0.01") + Decimal("0.01")
    if abs(total - max(venue_equity, Decimal(0))) > tolerance:
        return [f"account equity {total} != venue {venue_equity:.6f}"]
    return []


async def check_venue(node, sandbox, http: httpx.AsyncClient,
                      baseline: dict[str, Decimal] | None = None) -> list[str]:
    """
    Every invariant of the brief for one node; the account view may catch up for a while.

    A difference from the venue counts when it is not the one in `baseline` (taken when a
    run starts), so a difference one run leaves is reported by that run, not by every later
    one.
    """
    baseline = baseline or {}
    deadline = time.perf_counter() + ACCOUNT_CATCH_UP_S
    while True:
        violations = _order_violations(node, sandbox) + _equity_violations(node, sandbox)
        for name, difference in (await venue_differences(node, sandbox, http)).items():
            before = baseline.get(name, Decimal(0))
            if difference != before:
                violations.append(
                    f"{name} differs from the venue's by {difference} (by {before} before)",
                )
        if not violations or time.perf_counter() > deadline:
            return violations
        await asyncio.sleep(0.2)


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


async def order_round(rig: ExecRig, index: int, inject: Callable[[ExecRig, int], object],
                      during: Callable[[ExecRig, int], Awaitable] | None = None) -> ExecTrial:
    """Inject, trade a round on both markets (optionally acting mid-flight), settle, clear."""
    started = time.perf_counter()
    orders = _orders(rig.node, index)
    inject(rig, index)
    for order in orders:
        rig.node.strategy.submit_order(order)
    if during is not None:
        await during(rig, index)
    settled = await settle(rig.node, orders)
    rig.sandbox.faults.clear()
    rig.answers.armed = 0
    if settled:
        return ExecTrial([], time.perf_counter() - started)
    states = sorted({o.status.name for o in orders})
    return ExecTrial([f"orders not settled: {states}"], None)


def simple(inject: Callable[[ExecRig, int], object]):
    async def trial(rig: ExecRig, index: int) -> ExecTrial:
        return await order_round(rig, index, inject)

    return trial


def _grpc(code: str):
    return simple(lambda r, i: r.sandbox.faults.grpc_error(code, count=1, method="BroadcastTx"))


def _lose_answer(rig: ExecRig, index: int) -> None:
    rig.answers.armed = 1


async def dead_endpoint(rig: ExecRig, index: int) -> ExecTrial:
    """Kill the gRPC endpoint in use (before the round, or with it in flight); fail over."""
    rpc = rig.node.client._node
    victim = next(p for p in rig.proxies if p.endpoint == rpc.current_endpoint)
    survivor = next(p for p in rig.proxies if p is not victim)
    calls_before = survivor.bytes_up

    async def kill_in_flight(r: ExecRig, i: int) -> None:
        await asyncio.sleep(0.01)
        await victim.kill()

    if index % 2 == 0:
        await victim.kill()
        trial = await order_round(rig, index, lambda r, i: None)
    else:
        trial = await order_round(rig, index, lambda r, i: None, kill_in_flight)
    await victim.start()
    if survivor.bytes_up == calls_before:
        trial.violations.append("no call reached the surviving endpoint")
    return trial


async def stalled_blocks(rig: ExecRig, index: int) -> ExecTrial:
    """Trade a round while no block is produced for a second, then let blocks resume."""
    async def stall_a_second(r: ExecRig, i: int) -> None:
        await asyncio.sleep(1.0)
        r.sandbox.faults.stall_blocks(False)

    try:
        return await order_round(
            rig, index, lambda r, i: r.sandbox.faults.stall_blocks(True), stall_a_second,
        )
    finally:
        rig.sandbox.faults.stall_blocks(False)


def _held_size(sub) -> int:
    position = sub.positions.get(0)
    return 0 if position is None else position.size


async def liquidation(rig: ExecRig, index: int) -> ExecTrial:
    """
    Open a ~11x long with the strategy on a thin subaccount; the venue liquidates it.

    When the bids above the bankruptcy price run out, the venue closes only part of the
    position and the rest is healthy (no oracle price liquidates it): the strategy must then
    hold that remainder, and the next run buys on top of it.
    """
    node = rig.liquidated_node
    chain = rig.sandbox.node.chain
    key = (K1_ADDRESS, LIQUIDATED_SUBACCOUNT)
    sub = chain.subaccounts[key]
    if sub.usdc < LIQUIDATION_COLLATERAL:
        chain.fund(K1_ADDRESS, LIQUIDATED_SUBACCOUNT, LIQUIDATION_COLLATERAL - sub.usdc)
    market = chain.markets[0]
    instrument = node.cache.instrument(BTC_PERP)
    oracle = Decimal(market.oracle_price)
    quantity = instrument.make_qty(Decimal(11) * LIQUIDATION_COLLATERAL / 10**6 / oracle)
    order = node.strategy.order_factory.limit(
        BTC_PERP, OrderSide.BUY, quantity, instrument.make_price(oracle * Decimal("1.05")),
        time_in_force=TimeInForce.IOC, tags=SHORT,
    )
    held = _held_size(sub)  # A healthy remainder of an earlier partial liquidation
    node.strategy.submit_order(order)
    if not await settle(node, [order]):
        return ExecTrial([f"setup: the levered buy is {order.status.name}"], None)
    bought = _held_size(sub)
    if bought <= held:
        return ExecTrial([f"setup: the levered buy did not fill ({order.status.name})"], None)
    started = time.perf_counter()
    before = market.oracle_price
    violations = []
    deadline = time.perf_counter() + SETTLE_TIMEOUT_S
    try:
        while (size := _held_size(sub)) > 0:
            if time.perf_counter() > deadline:
                violations.append("setup: the position was not liquidated")
                break
            try:
                chain.liquidator.force(K1_ADDRESS, LIQUIDATED_SUBACCOUNT, 0)
            except ValueError:
                # No price liquidates what is left: a partial liquidation made it healthy
                if size < bought:
                    break
            await asyncio.sleep(0.15)
    finally:
        chain.set_oracle_price(0, before)
    atomic = market.config.atomic_resolution

    def venue_position_in_nautilus() -> bool:
        venue_qty = Decimal(_held_size(sub)).scaleb(atomic)
        positions = node.cache.positions_open(instrument_id=BTC_PERP)
        net = sum((p.signed_decimal_qty() for p in positions), Decimal(0))
        streamed = node.client.venue_positions.get("BTC-USD", Decimal(0))
        return net == venue_qty and streamed == venue_qty

    while not venue_position_in_nautilus():
        if time.perf_counter() > deadline:
            violations.append("the liquidation did not reach the strategy's position")
            return ExecTrial(violations, None)
        await asyncio.sleep(0.02)
    return ExecTrial(violations, time.perf_counter() - started)


EXEC_FAULTS: dict[str, Callable[[ExecRig, int], Awaitable[ExecTrial]]] = {
    "exec_ws_drop": simple(lambda r, i: r.sandbox.faults.drop_ws()),
    "exec_grpc_unavailable": _grpc("UNAVAILABLE"),
    "exec_grpc_resource_exhausted": _grpc("RESOURCE_EXHAUSTED"),
    "exec_lost_broadcast_answer": simple(_lose_answer),
    "exec_sequence_skew": simple(lambda r, i: r.sandbox.faults.skew_sequence(K1_ADDRESS, 2)),
    "exec_rest_5xx": simple(lambda r, i: r.sandbox.faults.rest_error(503, count=3)),
    "exec_dead_grpc_endpoint": dead_endpoint,
    "exec_stalled_blocks": stalled_blocks,
    "exec_liquidation": liquidation,
}


@contextlib.asynccontextmanager
async def exec_rig(liquidation_node: bool = False):
    """The sandbox with agents, two killable gRPC endpoints and a strategy's trading node."""
    answers = LoseAnswers()
    loop = asyncio.get_running_loop()
    previous_handler = loop.get_exception_handler()
    errors: list[str] = []
    loop.set_exception_handler(
        lambda _loop, context: errors.append(
            f"{context.get('message')}: {context.get('exception')!r}",
        ),
    )
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(loop.set_exception_handler, previous_handler)
        sandbox = await stack.enter_async_context(venue(
            interceptors=[answers], short_term_rate_limits=((1, 1_000_000),),
            stateful_rate_limits=((1, 1_000_000),),
        ))
        sandbox.agents = MarketAgents(sandbox.node, AgentConfig(levels=20, requote_every=3))
        sandbox.agents.start()
        proxies = [TcpProxy(sandbox.grpc_endpoint), TcpProxy(sandbox.grpc_endpoint)]
        for proxy in proxies:
            await proxy.start()
            stack.push_async_callback(proxy.kill)
        endpoints = {"grpc_endpoints": [p.endpoint for p in proxies]}
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=sandbox.http_url, timeout=5.0),
        )
        liquidated = None
        if liquidation_node:
            sandbox.node.chain.fund(K1_ADDRESS, LIQUIDATED_SUBACCOUNT, LIQUIDATION_COLLATERAL)
            liquidated = await stack.enter_async_context(trading_node(
                sandbox, config={**endpoints, "subaccount": LIQUIDATED_SUBACCOUNT},
            ))
        node = await stack.enter_async_context(trading_node(sandbox, config=endpoints))
        # A revived endpoint is preferred again soon, so every kill hits the one in use
        node.client._node.dead_cooldown_secs = 1.0
        yield ExecRig(sandbox, answers, node, http, proxies, errors, liquidated)


async def run_exec_suite(names: list[str], count: int,
                         progress: Callable[[str, int], None] | None = None,
                         concurrency_rounds: int = 0,
                         budget_s: float = float("inf")) -> list[FaultResult]:
    """
    Run each execution fault `count` times with a strategy trading BTC and ETH, then (when
    `concurrency_rounds`) the concurrent submits, cancels and modifies through the client.
    A fault stops early once `budget_s` seconds were spent on it (the table says so).
    """
    from tests.reliability.exec_concurrency import run_exec_concurrency

    results = []
    async with exec_rig(liquidation_node="exec_liquidation" in names) as rig:
        for name in names:
            result = FaultResult(name, "exec")
            results.append(result)
            node = rig.liquidated_node if name == "exec_liquidation" else rig.node
            budget_end = time.perf_counter() + budget_s
            for index in range(count):
                if time.perf_counter() > budget_end:
                    result.detail = f"time budget {budget_s:.0f} s spent after {index} runs; "
                    break
                errors_before = len(rig.errors)
                violations_before = len(result.violations)
                baseline = await venue_differences(node, rig.sandbox, rig.http)
                try:
                    trial = await EXEC_FAULTS[name](rig, index)
                except Exception as e:  # noqa: BLE001 (a raising trial is a violation)
                    trial = ExecTrial([f"trial raised {type(e).__name__}: {e}"], None)
                result.runs += 1
                result.violations.extend(trial.violations)
                if trial.recovery_s is not None:
                    result.recovery_s.append(trial.recovery_s)
                await asyncio.sleep(0.3)  # let the last fills arrive on the stream
                result.violations.extend(await check_venue(node, rig.sandbox, rig.http, baseline))
                result.violations.extend(f"unhandled: {e}" for e in rig.errors[errors_before:])
                result.failed_runs += len(result.violations) > violations_before
                if progress is not None:
                    progress(name, index + 1)
            fills = sum(isinstance(e, OrderFilled) for e in node.events)
            result.detail += f"{fills} fills, {len(node.cache.orders())} orders so far"
            if name == "exec_dead_grpc_endpoint":
                kills = sum(p.kills for p in rig.proxies)
                result.detail += f", {kills} endpoint kills"
        if concurrency_rounds:
            results.append(await run_exec_concurrency(rig, rounds=concurrency_rounds))
    return results
