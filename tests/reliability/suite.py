# SPDX-License-Identifier: Apache-2.0
"""The fault suite: inject each fault N times against the rig and check invariants after each."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from nautilus_dydx.grpc import DYDXNodeClient
from nautilus_dydx.grpc import DYDXTransactionSender
from nautilus_dydx.grpc import TxStatus
from nautilus_dydx.sandbox.engine import SIDE_SELL
from tests.integration.sandbox.helpers import CHAIN_ID
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.transport.support import alice
from tests.integration.transport.support import btc
from tests.reliability.rig import Rig
from tests.reliability.rig import closed_port_endpoint
from tests.reliability.rig import wait


RECOVERY_TIMEOUT_S = 20.0
# Reason for the execution faults when the execution client cannot be imported
EXEC_MISSING = "needs the execution client (nautilus_dydx.execution not importable)"


@dataclass
class FaultResult:
    """What one fault kind did over its trials."""

    name: str
    kind: str
    runs: int = 0
    violations: list[str] = field(default_factory=list)
    recovery_s: list[float] = field(default_factory=list)
    not_run: str = ""
    detail: str = ""
    failed_runs: int = 0  # Trials with at least one violation


@dataclass
class Trial:
    """One injection's outcome: violations and the recovery time (None when none applies)."""

    violations: list[str]
    recovery_s: float | None


class OrderIds:
    """Fresh client ids for the suite's own orders."""

    def __init__(self, start: int = 1_000_000) -> None:
        self.next = start

    def __call__(self) -> int:
        self.next += 1
        return self.next


# -- data faults ---------------------------------------------------------------------------------


async def settle_books(rig: Rig, started: float) -> Trial:
    """Stop the flow, wait for the strategy's books to equal the venue's; time since `started`."""
    await rig.stop_flow()
    violations: list[str] = []
    matched = await wait(rig.books_equal_node, RECOVERY_TIMEOUT_S)
    recovery = time.perf_counter() - started
    if not matched:
        violations.append(
            f"book differs from the node's book after the recovery timeout: "
            f"{rig.book_difference()}",
        )
    elif not await rig.books_equal_rest():
        violations.append("book differs from the Indexer REST snapshot")
    if rig.crossed():
        violations.append(f"{rig.crossed()} crossed books/quotes reached the strategy")
        rig.actor.crossed_books.clear()
        rig.actor.crossed_quotes.clear()
    return Trial(violations, recovery if matched else None)


async def flow_blocks(rig: Rig, blocks: int) -> None:
    for _ in range(blocks):
        rig.step(1)
        await asyncio.sleep(0.05)


def data_fault(inject: Callable[[Rig], object], release: Callable[[Rig], object] | None = None,
               blocks: int = 4):
    async def trial(rig: Rig, ids: OrderIds) -> Trial:
        await flow_blocks(rig, 2)
        started = time.perf_counter()
        inject(rig)
        await flow_blocks(rig, blocks)
        if release is not None:
            release(rig)
        await flow_blocks(rig, 2)
        return await settle_books(rig, started)

    return trial


def _crossed(rig: Rig) -> None:
    rig._crossed_price = rig.sandbox.faults.force_crossed_book("BTC-USD", ticks=2)


def _uncross(rig: Rig) -> None:
    # Put the injected level back to the node's own size there (usually none), so the
    # Indexer's book equals the node's again
    market = rig.sandbox.node.chain.markets[0].config
    subticks = market.price_to_subticks(rig._crossed_price)
    bids, _ = rig.sandbox.node.orderbook("BTC-USD")
    quantums = dict(bids).get(subticks, 0)
    size = Decimal(quantums).scaleb(market.atomic_resolution)
    rig.sandbox.state.set_level("BTC-USD", "BUY", rig._crossed_price, size)


def _fail_subscribe(rig: Rig) -> None:
    rig.sandbox.faults.fail_snapshots("v4_orderbook")
    rig.sandbox.faults.drop_ws()


def _rest_then_cross(status: int) -> Callable[[Rig], None]:
    def inject(rig: Rig) -> None:
        rig.sandbox.faults.rest_error(status, count=2, path_prefix="/v4/orderbooks")
        _crossed(rig)

    return inject


async def stalled_blocks(rig: Rig, ids: OrderIds) -> Trial:
    resyncs = rig.client.resyncs
    rig.sandbox.faults.stall_blocks(True)
    # No blocks, no book updates for 2 s: the connection must stay healthy, orders still go in
    await asyncio.sleep(2.0)
    outcome = await rig.sender.send_short_term(short_term(rig, ids()))
    rig.sandbox.faults.stall_blocks(False)
    await flow_blocks(rig, 2)
    started = time.perf_counter()
    trial = await settle_books(rig, started)
    if outcome.status != TxStatus.ACCEPTED:
        trial.violations.append(f"order during a stall was {outcome.status.name}")
    if rig.client.resyncs != resyncs:
        trial.violations.append("a stall alone caused a book resync")
    return trial


# Position size of the liquidation trial, in size steps, and its leverage over the collateral
LIQUIDATION_STEPS = 50
LIQUIDATION_LEVERAGE = 11


async def liquidation(rig: Rig, ids: OrderIds) -> Trial:
    """
    Open a levered long on a fresh account, force its liquidation, check the books recover.

    Forcing moves the BTC oracle about 9 % down and the agents quote around it for a few
    blocks. Left alone, the next run's long buys those stale cheap asks, its liquidation price
    is lower still, and the runs walk the book down until the long needs no borrowed USDC and
    no positive price liquidates it. So the oracle is put back afterwards and each run first
    waits until no ask rests below the oracle; the collateral follows the notional at the
    oracle so the leverage is the same every run.
    """
    chain = rig.sandbox.node.chain
    oracle_before = chain.markets[0].oracle_price
    try:
        return await _liquidation(rig, ids)
    finally:
        chain.set_oracle_price(0, oracle_before)


async def _asks_above_oracle(rig: Rig, market) -> bool:
    # Stale asks expire with their good-til-block: at most twice the agents' re-quote period
    for _ in range(4 * rig.sandbox.agents.config.requote_every):
        asks = market.book.levels(SIDE_SELL)
        if not asks or asks[0][0] > market.oracle_subticks:
            return True
        await flow_blocks(rig, 1)
    return False


async def _liquidation(rig: Rig, ids: OrderIds) -> Trial:
    from nautilus_dydx.sandbox.keys import key_from_seed
    from tests.integration.sandbox.helpers import IOC

    chain = rig.sandbox.node.chain
    index = 20_000 + ids()
    key = key_from_seed(rig.sandbox.node.config.seed, index)
    chain.add_account(key, 2_000_000 + index % 1_000_000)
    market = chain.markets[0]
    if not await _asks_above_oracle(rig, market):
        return Trial(["setup: asks below the oracle did not expire"], None)
    step = market.config.step_base_quantums
    quantums = LIQUIDATION_STEPS * step
    notional = Decimal(quantums).scaleb(market.config.atomic_resolution) * Decimal(
        market.oracle_price,
    )
    # Quote quantums (1e-6 USDC) behind the long: about LIQUIDATION_LEVERAGE x
    chain.fund(key.address, 0, int(notional * 10**6) // LIQUIDATION_LEVERAGE)
    agents = rig.sandbox.agents
    agents._account_numbers[key.address] = chain.accounts[key.address].account_number
    limit = market.oracle_subticks * 2
    limit -= limit % market.config.subticks_per_tick
    agents._send(key, [agents._order(key, 0, 1, quantums, limit, chain.height + 5, IOC)])
    await flow_blocks(rig, 1)
    position = chain.subaccounts[(key.address, 0)].positions.get(0)
    if position is None or position.size <= 0:
        return Trial(["setup: the levered long was not filled"], None)
    bought = position.size  # The position object changes in place as it is liquidated
    started = time.perf_counter()
    try:
        chain.liquidator.force(key.address, 0, 0)
    except ValueError as e:
        return Trial([f"setup: {e}"], None)
    await flow_blocks(rig, 3)
    position = chain.subaccounts[(key.address, 0)].positions.get(0)
    # A partial liquidation that leaves a healthy remainder is a liquidation too
    liquidated = position is None or position.size < bought
    trial = await settle_books(rig, started)
    if not liquidated:
        trial.violations.append("setup: the position was not liquidated")
    return trial


# -- order-path faults (transaction sender; the execution client is not on this branch) ---------


def short_term(rig: Rig, client_id: int) -> bytes:
    node = rig.sandbox.node
    market = node.chain.markets[0]
    price = market.oracle_subticks // 2
    price -= price % market.config.subticks_per_tick
    return btc().place_order_any(
        client_id, 0, 1, market.config.step_base_quantums, price,
        good_til_block=node.height + 15,
    )


def stateful(rig: Rig, client_id: int) -> bytes:
    node = rig.sandbox.node
    market = node.chain.markets[0]
    price = market.oracle_subticks // 2
    price -= price % market.config.subticks_per_tick
    return btc().place_order_any(
        client_id, 64, 1, market.config.step_base_quantums, price,
        good_til_block_time=node.block_time_ns // 1_000_000_000 + 3_600,
    )


def on_venue(rig: Rig, client_id: int) -> int:
    chain = rig.sandbox.node.chain
    keys = list(chain.short_orders) + list(chain.stateful)
    return sum(1 for k in keys if k[0] == K1_ADDRESS and k[2] == client_id)


async def order_trial(rig: Rig, client_id: int, send: Callable[[], Awaitable],
                      expect_unknown_ok: bool = True) -> Trial:
    before = rig.accepted["K1"]
    started = time.perf_counter()
    outcome = await send()
    elapsed = time.perf_counter() - started
    # Stateful orders enter the book at the next block
    rig.step(1)
    await asyncio.sleep(0.01)
    accepted = rig.accepted["K1"] - before
    present = on_venue(rig, client_id)
    violations = []
    if accepted > 1:
        violations.append(f"client id {client_id} accepted {accepted} times (placed twice)")
    if present > 1:
        violations.append(f"client id {client_id} rests {present} times")
    if outcome.status == TxStatus.ACCEPTED and present != 1:
        violations.append(f"ACCEPTED but {present} on the venue")
    if outcome.status == TxStatus.REJECTED and (present or accepted):
        violations.append("REJECTED but the venue holds the order")
    if outcome.status == TxStatus.UNKNOWN and not expect_unknown_ok:
        violations.append("UNKNOWN outcome where a definitive one was possible")
    return Trial(violations, elapsed)


def grpc_code(code: str):
    async def trial(rig: Rig, ids: OrderIds) -> Trial:
        client_id = ids()
        rig.sandbox.faults.grpc_error(code, count=1, method="BroadcastTx")
        result = await order_trial(
            rig, client_id, lambda: rig.sender.send_short_term(short_term(rig, client_id)),
        )
        rig.sandbox.faults.grpc_error("")
        return result

    return trial


async def lost_answer(rig: Rig, ids: OrderIds) -> Trial:
    client_id = ids()
    rig.answers.armed = 1
    trial = await order_trial(
        rig, client_id, lambda: rig.sender.send_short_term(short_term(rig, client_id)),
    )
    rig.answers.armed = 0
    if on_venue(rig, client_id) != 1:
        trial.violations.append("the order whose answer was lost is not on the venue once")
    return trial


async def sequence_skew(rig: Rig, ids: OrderIds) -> Trial:
    client_id = ids()
    delta = 3 if client_id % 2 else -2
    rig.sandbox.faults.skew_sequence(K1_ADDRESS, delta)
    trial = await order_trial(
        rig, client_id, lambda: rig.sender.send_stateful(stateful(rig, client_id)),
        expect_unknown_ok=False,
    )
    if on_venue(rig, client_id) != 1:
        trial.violations.append("the stateful order after a sequence skew is not on the venue")
    return trial


async def dead_endpoint(rig: Rig, ids: OrderIds) -> Trial:
    client_id = ids()
    endpoints = [closed_port_endpoint(), rig.sandbox.grpc_endpoint]
    async with DYDXNodeClient(endpoints, connect_timeout_secs=0.2, timeout_secs=1.0) as rpc:
        sender = DYDXTransactionSender(rpc, alice(), CHAIN_ID)
        await sender.start()
        trial = await order_trial(
            rig, client_id, lambda: sender.send_short_term(short_term(rig, client_id)),
            expect_unknown_ok=False,
        )
    # The suite's own sender must pick up the sequence the other one may have used
    await rig.sender.resync()
    return trial


# -- the catalogue -------------------------------------------------------------------------------

DATA = "data"
ORDER = "order"
EXEC = "exec"

FAULTS: dict[str, tuple[str, Callable]] = {
    "ws_drop": (DATA, data_fault(lambda r: r.sandbox.faults.drop_ws())),
    "indexer_restart": (DATA, data_fault(lambda r: r.sandbox.faults.restart_ws())),
    "paused_stream": (DATA, data_fault(
        lambda r: r.sandbox.faults.pause_stream("v4_orderbook", "ETH-USD"),
        lambda r: r.sandbox.faults.resume_stream("v4_orderbook", "ETH-USD"),
    )),
    "crossed_book": (DATA, data_fault(_crossed, _uncross)),
    "duplicate_frames": (DATA, data_fault(lambda r: r.sandbox.faults.duplicate_next(3))),
    "out_of_order_frames": (DATA, data_fault(lambda r: r.sandbox.faults.reorder_next(1))),
    "malformed_frames": (DATA, data_fault(lambda r: r.sandbox.faults.inject_malformed(1))),
    "subscribe_internal_error": (DATA, data_fault(
        _fail_subscribe, lambda r: r.sandbox.faults.fail_snapshots("v4_orderbook", on=False),
    )),
    "rest_429": (DATA, data_fault(_rest_then_cross(429), _uncross)),
    "rest_5xx": (DATA, data_fault(_rest_then_cross(503), _uncross)),
    "stalled_blocks": (DATA, stalled_blocks),
    "liquidation": (DATA, liquidation),
    "grpc_unavailable": (ORDER, grpc_code("UNAVAILABLE")),
    "grpc_resource_exhausted": (ORDER, grpc_code("RESOURCE_EXHAUSTED")),
    "dead_grpc_endpoint": (ORDER, dead_endpoint),
    "lost_broadcast_answer": (ORDER, lost_answer),
    "sequence_skew": (ORDER, sequence_skew),
}


async def run_suite(rig: Rig, names: list[str], count: int,
                    progress: Callable[[str, int], None] | None = None,
                    budget_s: float = float("inf")) -> list[FaultResult]:
    """Run each named fault `count` times (or until `budget_s` is spent on it)."""
    ids = OrderIds()
    results = []
    for name in names:
        kind, trial_fn = FAULTS[name]
        result = FaultResult(name, kind)
        results.append(result)
        if trial_fn is None:
            result.not_run = EXEC_MISSING
            continue
        budget_end = time.perf_counter() + budget_s
        audit_resyncs = _audit_resyncs(rig)
        for index in range(count):
            if time.perf_counter() > budget_end:
                result.detail = f"time budget {budget_s:.0f} s spent after {index} runs; "
                break
            errors_before = len(rig.errors)
            try:
                trial = await trial_fn(rig, ids)
            except Exception as e:  # noqa: BLE001 (a raising trial is a violation)
                trial = Trial([f"trial raised {type(e).__name__}: {e}"], None)
            result.runs += 1
            result.violations.extend(trial.violations)
            new_errors = rig.errors[errors_before:]
            result.violations.extend(f"unhandled: {e}" for e in new_errors)
            result.failed_runs += bool(trial.violations or new_errors)
            if trial.recovery_s is not None:
                result.recovery_s.append(trial.recovery_s)
            rig.actor.forget()
            if progress is not None:
                progress(name, index + 1)
        healed = _audit_resyncs(rig) - audit_resyncs
        if healed:
            result.detail += f"REST audit resynced a book {healed}x"
        rig.sandbox.faults.clear()
    return results


def _audit_resyncs(rig: Rig) -> int:
    auditor = rig.client._auditor
    return auditor.resyncs if auditor is not None else 0
