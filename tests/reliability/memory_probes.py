# SPDX-License-Identifier: Apache-2.0
"""Per-operation memory of one thing repeated: `python -m tests.reliability.memory_probes NAME`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable

from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import PositionId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.position import Position
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from nautilus_dydx._core.frames import IdRing
from nautilus_dydx.client_id_store import ClientIdStore
from nautilus_dydx.client_ids import ClientIdCodec
from nautilus_dydx.client_ids import OrderUuids
from nautilus_dydx.execution_metrics import STAGES
from nautilus_dydx.execution_metrics import ExecutionMetrics
from nautilus_dydx.execution_state import VenueOrder
from tests.reliability.soak import LIBC
from tests.reliability.soak import malloc_mb
from tests.reliability.soak import rss_mb


K1 = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
ORDER_ID = "O-20261203-074157-001-001-{}"


def trimmed_rss_mb() -> float:
    """RSS after a full collection and `malloc_trim(0)` (freed memory glibc held returned)."""
    gc.collect()
    LIBC.malloc_trim(0)
    return rss_mb()


def measure(name: str, step: Callable[[int], object], count: int) -> tuple[float, float, float]:
    """
    Run `step(i)` `count` times; print and return the bytes per operation.

    Returns (RSS raw, RSS after a trim, malloc in use). The first fifth warms up (allocator
    pools, table resizes); the slope is over the rest. RSS that grows while malloc's in-use
    figure does not is memory malloc handed out earlier being written for the first time.
    """
    warm = count // 5
    for i in range(warm):
        step(i)
    raw0, trim0, heap0 = rss_mb(), trimmed_rss_mb(), malloc_mb()[0]
    for i in range(warm, count):
        step(i)
    raw1, trim1, heap1 = rss_mb(), trimmed_rss_mb(), malloc_mb()[0]
    n = count - warm
    per_op = ((raw1 - raw0) * 2**20 / n, (trim1 - trim0) * 2**20 / n,
              (heap1 - heap0) * 2**20 / n)
    print(f"{name:28s} {n:>9} ops  {per_op[0]:8.1f} B/op raw  {per_op[1]:8.1f} B/op trimmed  "
          f"{per_op[2]:8.1f} B/op malloc in use", flush=True)
    return per_op


def identifiers(count: int) -> None:
    # Nautilus interns each new identifier string (Ustr) for the life of the process. Each of
    # its compiled modules links its own interner, which reserved 64 bins of 64 KB from malloc
    # at import: new strings are written into that reserve (RSS grows, malloc's in-use figure
    # does not) and then into larger chunks as bins fill
    measure("python str (control)", lambda i: ORDER_ID.format(i), count)
    measure("ClientOrderId", lambda i: ClientOrderId(ORDER_ID.format(i)), count)
    measure("VenueOrderId", lambda i: VenueOrderId(str(uuid.uuid4())), count)
    measure("TradeId", lambda i: TradeId(str(uuid.uuid4())), count)
    measure("UUID4", lambda i: UUID4(), count)


def codec(count: int) -> None:
    now = [1_700_000_000.0]
    with tempfile.TemporaryDirectory() as directory:
        store = ClientIdStore.open(directory, "dydx-sandbox-1", K1, 0, clock=lambda: now[0])
        ids = ClientIdCodec(store)

        def order(i: int, make: Callable[[int], str]) -> None:
            now[0] += 0.5  # 2 orders a second
            client_order_id = make(i)
            pair = ids.encode(client_order_id)
            assert ids.decode(*pair) == client_order_id
            ids.release(client_order_id)
            if i % 100 == 0:
                ids.prune()

        # Counts beyond the packed range go through the store (one prefix row per second)
        measure("codec+store, default ids",
                lambda i: order(i, lambda j: f"O-20261203-{j // 1000:06d}-001-001-{100_000 + j}"),
                count)
        measure("codec+store, uuid ids", lambda i: order(i, lambda j: str(uuid.uuid4())), count)
        print(f"  codec maps {ids.sizes()}, store rows {len(store)}")
        store.close()


def _fill(instrument, i: int, info: bool) -> OrderFilled:
    return OrderFilled(
        trader_id=TraderId("SOAK-001"), strategy_id=StrategyId("SOAK-001"),
        instrument_id=instrument.id, client_order_id=ClientOrderId(ORDER_ID.format(i)),
        venue_order_id=VenueOrderId(str(uuid.uuid4())), account_id=AccountId("DYDX-001"),
        trade_id=TradeId(str(uuid.uuid4())), position_id=PositionId("P-1"),
        order_side=OrderSide.BUY, order_type=OrderType.LIMIT,
        last_qty=Quantity.from_str("0.001"), last_px=Price.from_str("60000.0"),
        currency=instrument.quote_currency, commission=Money(0.01, instrument.quote_currency),
        liquidity_side=LiquiditySide.TAKER, event_id=UUID4(), ts_event=i, ts_init=i,
        info={"fill_type": "LIMIT"} if info else None,
    )


def position(count: int) -> None:
    # An open Nautilus position keeps every fill applied to it until it closes
    instrument = TestInstrumentProvider.btcusdt_perp_binance()
    measure("fill, not kept (control)", lambda i: _fill(instrument, i, True), count)
    for info in (True, False):
        held = Position(instrument, _fill(instrument, 0, info))
        measure(f"fill kept by a position{'' if info else ', no info'}",
                lambda i, p=held, f=info: p.apply(_fill(instrument, i + 1, f)), count)


def client(count: int) -> None:
    # The execution client's per-order and per-fill structures, as it fills them
    uuids = OrderUuids(K1, 0)
    strategy_id = StrategyId("SOAK-001")
    instrument_id = InstrumentId.from_str("BTC-USD-PERP.DYDX")
    orders: dict = {}
    by_venue_id: dict = {}
    closed: deque = deque()

    def venue_order(i: int) -> None:
        client_id = 2_000_000_000 + i
        state = VenueOrder(
            client_order_id=ClientOrderId(ORDER_ID.format(i)), strategy_id=strategy_id,
            instrument_id=instrument_id, client_id=client_id, client_metadata=3_000_000_000 + i,
            clob_pair_id=0, order_flags=0, venue_order_id=uuids(client_id, 0, 0), side=1,
            time_in_force=1, good_til_block=123_456 + i, command_ns=time.time_ns(),
        )
        orders[state.client_order_id] = state
        by_venue_id[state.venue_order_id] = state
        closed.append(state)

    metrics = ExecutionMetrics()
    fill_ids = IdRing(1 << 16)
    measure("closed VenueOrder kept", venue_order, count)
    measure("latency samples (4 stages)",
            lambda i: [metrics.record(stage, 0, 1_000_000 + i * 7_919) for stage in STAGES],
            count)
    measure("fill id in the ring", lambda i: fill_ids.add(str(uuid.uuid4())), count)


async def _broadcasts(count: int, stateful: bool) -> None:
    from nautilus_dydx.grpc import DYDXNodeClient
    from nautilus_dydx.grpc import DYDXTransactionSender
    from tests.integration.transport.support import PRICE
    from tests.integration.transport.support import STEP
    from tests.integration.transport.support import TICK
    from tests.integration.transport.support import alice
    from tests.integration.transport.support import btc
    from tests.reliability.soak import SANDBOX_CHAIN_ID
    from tests.reliability.soak import sandbox_process
    from tests.reliability.soak import wait_for_http

    with sandbox_process(3_600) as (_, endpoints):
        await wait_for_http(endpoints.http_url)
        async with DYDXNodeClient([endpoints.grpc_endpoint]) as rpc:
            sender = DYDXTransactionSender(rpc, alice(), SANDBOX_CHAIN_ID)
            await sender.start()
            encoder = btc()
            warm = count // 5
            raw0 = trim0 = 0.0
            for i in range(count):
                if i == warm:
                    raw0, trim0 = rss_mb(), trimmed_rss_mb()
                price = PRICE // 2 - (i % 1_000) * TICK
                if stateful:  # Mostly refused by the block rate limit: the gRPC path is the same
                    gtbt = int(time.time()) + 60
                    message = encoder.place_order_any(10_000 + i, 64, 1, STEP, price,
                                                      good_til_block_time=gtbt)
                    await sender.send_stateful(message)
                else:
                    if i % 50 == 0:
                        height = (await rpc.get_latest_block()).height
                    message = encoder.place_order_any(10_000 + i, 0, 1, STEP, price,
                                                      good_til_block=height + 5)
                    await sender.send_short_term(message)
            n = count - warm
            name = f"sign+broadcast {'stateful' if stateful else 'short-term'}"
            print(f"{name:28s} {n:>9} ops  {(rss_mb() - raw0) * 2**20 / n:8.1f} B/op raw  "
                  f"{(trimmed_rss_mb() - trim0) * 2**20 / n:8.1f} B/op trimmed", flush=True)


def grpc(count: int) -> None:
    asyncio.run(_broadcasts(count, stateful=False))
    asyncio.run(_broadcasts(count // 2, stateful=True))


async def _cancelled_reads(count: int) -> None:
    import random

    from tests.integration.transport.support import cancelled_reads
    from tests.integration.transport.support import http_client
    from tests.integration.transport.support import running_sandbox

    async with running_sandbox() as sandbox:
        async with http_client(sandbox, rate_limit_per_10s=10**9) as http:
            rng = random.Random(1)
            warm = count // 5
            await cancelled_reads(http, warm, rng)
            raw0, blocks0 = trimmed_rss_mb(), sys.getallocatedblocks()
            await cancelled_reads(http, count - warm, rng)
            raw1, blocks1 = trimmed_rss_mb(), sys.getallocatedblocks()
            n = count - warm
            pool = http._client._transport._pool  # httpx's private pool: what it holds
            print(f"{'4 cancelled REST reads':28s} {n:>9} ops  "
                  f"{(raw1 - raw0) * 2**20 / n:8.1f} B/op trimmed  "
                  f"{(blocks1 - blocks0) / n:6.2f} blocks/op  "
                  f"{len(pool.connections)} pool connections at the end", flush=True)


def rest_cancel(count: int) -> None:
    asyncio.run(_cancelled_reads(min(count, 5_000)))


def nautilus_live(count: int) -> None:
    from tests.reliability.live_stack_probe import live_stack

    live_stack(count)


PROBES = {"identifiers": identifiers, "codec": codec, "position": position, "client": client,
          "grpc": grpc, "nautilus-live": nautilus_live, "rest-cancel": rest_cancel}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.memory_probes")
    parser.add_argument("probes", nargs="*", default=list(PROBES), help=", ".join(PROBES))
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args(argv)
    unknown = [p for p in args.probes if p not in PROBES]
    if unknown:
        print(f"unknown probes {unknown}; known: {list(PROBES)}")
        return 2
    for name in args.probes:
        PROBES[name](args.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
