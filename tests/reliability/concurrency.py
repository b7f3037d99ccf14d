# SPDX-License-Identifier: Apache-2.0
"""Concurrent places, cancels and cancel-replaces across markets while the WebSocket drops."""

from __future__ import annotations

import asyncio
import time

from nautilus_dydx._core.orders import MarketEncoder
from nautilus_dydx.grpc import TxStatus
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.reliability.rig import Rig
from tests.reliability.suite import FaultResult
from tests.reliability.suite import OrderIds
from tests.reliability.suite import settle_books


SHORT_TERM = 0
LONG_TERM = 64
BUY = 1
FIRST_ID = 5_000_000


def encoders(rig: Rig) -> list[MarketEncoder]:
    result = []
    for market in rig.sandbox.node.chain.markets.values():
        c = market.config
        result.append(MarketEncoder(
            K1_ADDRESS, 0, c.clob_pair_id, c.atomic_resolution, c.quantum_conversion_exponent,
            c.step_base_quantums, c.subticks_per_tick,
        ))
    return result


def far_bid(rig: Rig, clob_pair_id: int, offset_ticks: int) -> int:
    market = rig.sandbox.node.chain.markets[clob_pair_id]
    tick = market.config.subticks_per_tick
    price = market.oracle_subticks // 2 - offset_ticks * tick
    return max(tick, price - price % tick)


def ours_on_venue(rig: Rig) -> dict[tuple[int, int, int], int]:
    chain = rig.sandbox.node.chain
    counts: dict[tuple[int, int, int], int] = {}
    for key in list(chain.short_orders) + list(chain.stateful):
        if key[0] == K1_ADDRESS:
            # (client id, flags, clob pair id) from the chain's order key
            ident = (key[2], key[3], key[4]) if len(key) > 4 else (key[2], key[3], -1)
            counts[ident] = counts.get(ident, 0) + 1
    return counts


async def run_concurrency(rig: Rig, rounds: int = 5, per_market: int = 8) -> FaultResult:
    """Each round: places, cancels and cancel-replaces across every market at once, a WS drop."""
    result = FaultResult("sender_concurrency", "order+data")
    ids = OrderIds(FIRST_ID)
    markets = encoders(rig)
    short_live: dict[int, tuple[MarketEncoder, int]] = {}
    stateful_live: dict[int, tuple[MarketEncoder, int]] = {}
    cancelled: set[int] = set()
    placed: set[int] = set()
    errors_before = len(rig.errors)
    for round_index in range(rounds):
        violations_before = len(result.violations)
        node = rig.sandbox.node
        gtb = node.height + 15
        gtbt = node.block_time_ns // 1_000_000_000 + 3_600
        jobs = []
        for encoder in markets:
            for k in range(per_market):
                client_id = ids()
                price = far_bid(rig, encoder.clob_pair_id, k + round_index)
                if k % 2 == 0:
                    jobs.append(("place", client_id, rig.sender.send_short_term(
                        encoder.place_order_any(client_id, SHORT_TERM, BUY,
                                                encoder.step_base_quantums, price,
                                                good_til_block=gtb))))
                    short_live[client_id] = (encoder, gtb)
                else:
                    jobs.append(("place", client_id, rig.sender.send_stateful(
                        encoder.place_order_any(client_id, LONG_TERM, BUY,
                                                encoder.step_base_quantums, price,
                                                good_til_block_time=gtbt))))
                    stateful_live[client_id] = (encoder, gtbt)
                placed.add(client_id)
        # Cancel all of last round's orders, cancel-replacing half of its stateful ones: what
        # rests stays one round's worth, under the equity tier's stateful cap (and no
        # short-term order outlives its good-til-block unnoticed)
        this_round = placed_this(jobs)
        for client_id in [c for c in list(short_live) if c not in this_round]:
            encoder, order_gtb = short_live.pop(client_id)
            jobs.append(("cancel", client_id, rig.sender.send_short_term(
                encoder.cancel_order_any(client_id, SHORT_TERM, good_til_block=order_gtb))))
            cancelled.add(client_id)
        previous_stateful = [c for c in list(stateful_live) if c not in this_round]
        for index, client_id in enumerate(previous_stateful):
            encoder, order_gtbt = stateful_live.pop(client_id)
            jobs.append(("cancel", client_id, rig.sender.send_stateful(
                encoder.cancel_order_any(client_id, LONG_TERM, good_til_block_time=order_gtbt))))
            cancelled.add(client_id)
            if index % 2:
                continue
            new_id = ids()
            jobs.append(("place", new_id, rig.sender.send_stateful(
                encoder.place_order_any(new_id, LONG_TERM, BUY, encoder.step_base_quantums,
                                        far_bid(rig, encoder.clob_pair_id, 50),
                                        good_til_block_time=gtbt))))
            stateful_live[new_id] = (encoder, gtbt)
            placed.add(new_id)

        async def drop_midway() -> None:
            await asyncio.sleep(0.005)
            rig.sandbox.faults.drop_ws()

        started = time.perf_counter()
        outcomes = await asyncio.gather(*(job for _, _, job in jobs), drop_midway())
        outcomes = outcomes[:-1]
        result.runs += 1
        for (kind, client_id, _), outcome in zip(jobs, outcomes, strict=True):
            if outcome.status != TxStatus.ACCEPTED:
                result.violations.append(
                    f"{kind} {client_id}: {outcome.status.name} {outcome.codespace}/"
                    f"{outcome.code} {outcome.raw_log[:60]}",
                )
            if "sequence" in outcome.raw_log.lower():
                result.violations.append(f"{kind} {client_id}: sequence error surfaced")
        hashes = [o.txhash for o in outcomes]
        if len(set(hashes)) != len(hashes):
            result.violations.append("a transaction hash repeated (something sent twice)")
        rig.step(1)
        await asyncio.sleep(0.05)
        on_venue = ours_on_venue(rig)
        duplicates = [k for k, n in on_venue.items() if n > 1]
        if duplicates:
            result.violations.append(f"duplicate client ids on the venue: {duplicates[:3]}")
        # Only this run's ids: earlier fault trials leave their own orders resting
        venue_ids = {k[0] for k in on_venue if k[0] > FIRST_ID}
        expected = (set(short_live) | set(stateful_live))
        if venue_ids != expected:
            result.violations.append(
                f"venue orders differ: missing {sorted(expected - venue_ids)[:3]}, "
                f"extra {sorted(venue_ids - expected)[:3]}",
            )
        trial = await settle_books(rig, started)
        result.violations.extend(trial.violations)
        if trial.recovery_s is not None:
            result.recovery_s.append(trial.recovery_s)
        result.failed_runs += len(result.violations) > violations_before
    result.violations.extend(await cancel_left(rig, short_live, stateful_live))
    result.violations.extend(f"unhandled: {e}" for e in rig.errors[errors_before:])
    return result


async def cancel_left(rig: Rig, short_live: dict, stateful_live: dict) -> list[str]:
    """Cancel what the last round left resting, so later runs start under the tier cap."""
    cancels = [
        rig.sender.send_short_term(encoder.cancel_order_any(
            client_id, SHORT_TERM, good_til_block=order_gtb,
        ))
        for client_id, (encoder, order_gtb) in short_live.items()
    ]
    cancels += [
        rig.sender.send_stateful(encoder.cancel_order_any(
            client_id, LONG_TERM, good_til_block_time=order_gtbt,
        ))
        for client_id, (encoder, order_gtbt) in stateful_live.items()
    ]
    outcomes = await asyncio.gather(*cancels)
    violations = [
        f"final cancel: {o.status.name} {o.codespace}/{o.code} {o.raw_log[:60]}"
        for o in outcomes if o.status != TxStatus.ACCEPTED
    ]
    rig.step(1)
    await asyncio.sleep(0.05)
    left = [k for k in ours_on_venue(rig) if k[0] > FIRST_ID]
    if left:
        violations.append(f"orders left resting after the final cancels: {left[:3]}")
    short_live.clear()
    stateful_live.clear()
    return violations


def placed_this(jobs: list) -> set[int]:
    return {client_id for kind, client_id, _ in jobs if kind == "place"}
