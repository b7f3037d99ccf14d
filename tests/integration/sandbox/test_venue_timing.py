# SPDX-License-Identifier: Apache-2.0
"""The sandbox keeps the venue's time: wall-clock blocks, results delivered with their block."""

from __future__ import annotations

import asyncio
import time

from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2 as tm_query_pb2
from nautilus_dydx.sandbox import FillEvent
from nautilus_dydx.sandbox import OrderUpdatedEvent
from nautilus_dydx.sandbox.indexer_state import iso
from nautilus_dydx.sandbox.indexer_state import parse_iso
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import CONDITIONAL
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import block_seconds
from tests.integration.sandbox.helpers import cancel
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.test_indexer_support import connect
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox
from tests.integration.sandbox.test_indexer_support import wait_for


A = K1_ADDRESS
B = K2_ADDRESS
Q = 1_000_000
P = 6_500_000_000
TICK = 100_000
NAUTILUS_GTC_DAYS = 90


async def ok(client, tx: bytes) -> str:
    response = await client.broadcast(tx)
    assert response.code == 0, f"{response.codespace} {response.code} {response.raw_log}"
    return response.txhash


def subaccount_updates(ws, address: str) -> list[dict]:
    return [
        f["contents"] for f in ws.of("channel_data", "v4_subaccounts")
        if f["id"] == f"{address}/0"
    ]


def test_wall_clock_blocks_accept_a_good_til_block_time_sized_from_the_local_clock() -> None:
    async def scenario() -> None:
        config = make_config(genesis_time_ns=None, auto_blocks=True, block_time_ms=50)
        async with running_sandbox(config=config) as (sandbox, http, client):
            node = sandbox.node
            await wait_for(lambda: node.height >= 3)
            node.pause()
            latest = await client.tm.GetLatestBlock(tm_query_pb2.GetLatestBlockRequest())
            header = latest.block.header
            height = (await http.get("/height")).json()
            now = (await http.get("/time")).json()
            # gRPC and the Indexer report the same committed block; it is not in the future
            assert int(height["height"]) == header.height == node.height
            assert parse_iso(height["time"]) // 1_000_000 == (
                header.time.seconds * 1000 + header.time.nanos // 1_000_000
            )
            assert parse_iso(height["time"]) <= parse_iso(now["iso"])
            assert node.chain.previous_height == node.height - 1
            assert node.chain.previous_time_ns < node.block_time_ns
            # Nautilus sizes a GTC order's expiry from its own (wall) clock
            gtbt = int(time.time()) + NAUTILUS_GTC_DAYS * 86_400
            await ok(client, ALICE.sign_tx(
                [place(A, 1, BUY, Q, P - 100 * TICK, gtbt=gtbt, flags=LONG_TERM)], sequence=7,
            ))

    run(scenario())


def test_fixed_genesis_rejects_the_same_wall_clock_order() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, client):
            gtbt = int(time.time()) + NAUTILUS_GTC_DAYS * 86_400
            response = await client.broadcast(ALICE.sign_tx(
                [place(A, 1, BUY, Q, P, gtbt=gtbt, flags=LONG_TERM)], sequence=7,
            ))
            # The deterministic 2026-01-01 genesis is far behind today's clock
            assert (response.codespace, response.code) == ("clob", 3004)
            assert block_seconds(sandbox.node) == 1_767_225_600

    run(scenario())


def test_taker_fills_reach_the_indexer_only_with_their_block() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, client):
            node = sandbox.node
            ws = await connect(sandbox)
            ws.subscribe("v4_subaccounts", f"{A}/0")
            ws.subscribe("v4_orderbook", "BTC-USD")
            await ws.wait("subscribed", count=2)
            gtb = node.height + 10
            await ok(client, BOB.sign_tx([place(B, 1, SELL, Q, P, gtb=gtb)]))
            await ws.wait("channel_data", "v4_orderbook")
            await ok(client, ALICE.sign_tx([place(A, 7, BUY, Q, P, gtb=gtb, tif=IOC)]))
            # Off-chain at once: the placement on the subaccount, the maker gone from the book
            await wait_for(lambda: any(
                o["clientId"] == "7"
                for u in subaccount_updates(ws, A) for o in u.get("orders", [])
            ))
            await wait_for(lambda: any(
                ["65000", "0"] in f["contents"].get("asks", [])
                for f in ws.of("channel_data", "v4_orderbook")
            ))
            placed = [o for u in subaccount_updates(ws, A) for o in u.get("orders", [])]
            assert [o["status"] for o in placed] == ["BEST_EFFORT_OPENED"]
            assert not any("fills" in u for u in subaccount_updates(ws, A))
            params = {"address": A, "subaccountNumber": 0}
            assert (await http.get("/fills", params=params)).json()["fills"] == []
            assert node.height == 1
            committed = node.step_blocks(1)
            await wait_for(lambda: any("fills" in u for u in subaccount_updates(ws, A)))
            update = next(u for u in subaccount_updates(ws, A) if "fills" in u)
            assert update["blockHeight"] == str(committed)
            assert [f["createdAtHeight"] for f in update["fills"]] == [str(committed)]
            assert update["fills"][0]["createdAt"] == iso(node.block_time_ns)
            assert [o["status"] for o in update["orders"]] == ["FILLED"]
            assert update["orders"][0]["updatedAtHeight"] == str(committed)
            rest_fills = (await http.get("/fills", params=params)).json()["fills"]
            assert [f["createdAtHeight"] for f in rest_fills] == [str(committed)]
            trades = (await http.get("/trades/perpetualMarket/BTC-USD")).json()["trades"]
            assert [t["createdAtHeight"] for t in trades] == [str(committed)]

    run(scenario())


def test_best_effort_canceled_becomes_canceled_once_good_til_block_passes() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, client):
            node = sandbox.node
            gtb = node.height + 3
            await ok(client, ALICE.sign_tx([place(A, 4, BUY, Q, P - TICK, gtb=gtb)]))
            await ok(client, ALICE.sign_tx([cancel(A, 4, gtb=gtb)]))
            params = {"address": A, "subaccountNumber": 0}

            async def status() -> str:
                orders = (await http.get("/orders", params=params)).json()
                return [o["status"] for o in orders if o["clientId"] == "4"][0]

            assert await status() == "BEST_EFFORT_CANCELED"
            node.step_blocks(gtb - 1 - node.height)
            assert await status() == "BEST_EFFORT_CANCELED"
            node.step_blocks(1)
            await asyncio.sleep(0)
            assert await status() == "CANCELED"
            assert node.chain.best_effort_canceled == {}
            ws = await connect(sandbox)
            ws.subscribe("v4_subaccounts", f"{A}/0")
            snapshot = (await ws.wait("subscribed"))[0]["contents"]
            assert [o for o in snapshot["orders"] if o["clientId"] == "4"] == []

    run(scenario())


def test_long_term_order_rests_from_the_block_after_its_inclusion() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, client):
            node = sandbox.node
            await ok(client, BOB.sign_tx([place(B, 1, SELL, Q, P, gtb=node.height + 10)]))
            t = block_seconds(node)
            await ok(client, ALICE.sign_tx(
                [place(A, 2, BUY, Q, P, gtbt=t + 60, flags=LONG_TERM)], sequence=7,
            ))
            included = node.step_blocks(1)
            params = {"address": A, "subaccountNumber": 0}
            orders = (await http.get("/orders", params=params)).json()
            assert [(o["status"], o["createdAtHeight"]) for o in orders] == [
                ("OPEN", str(included)),
            ]
            assert (await http.get("/fills", params=params)).json()["fills"] == []
            node.step_blocks(1)
            fills = (await http.get("/fills", params=params)).json()["fills"]
            assert [f["createdAtHeight"] for f in fills] == [str(included + 1)]

    run(scenario())


def _fills(node) -> list[FillEvent]:
    return [e for e in node.bus.history if isinstance(e, FillEvent)]


def test_conditional_triggers_on_last_traded_price_clamped_near_the_oracle() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, client):
            node = sandbox.node
            t = block_seconds(node)
            # BTC: oracle 65 000, min price change 1000 ppm: trades count within +/- 325 USD
            near = 6_480_000_000
            far = 6_460_000_000
            await ok(client, ALICE.sign_tx([
                place(A, 1, SELL, Q, 6_400_000_000, gtbt=t + 600, flags=CONDITIONAL,
                      condition_type=1, trigger=6_490_000_000),
                place(A, 2, SELL, Q, 6_400_000_000, gtbt=t + 600, flags=CONDITIONAL,
                      condition_type=1, trigger=6_465_000_000),
            ], sequence=7))
            node.step_blocks(1)
            gtb = node.height + 10
            await ok(client, BOB.sign_tx([place(B, 10, BUY, Q, near, gtb=gtb)]))
            await ok(client, ALICE.sign_tx([place(A, 11, SELL, Q, near, gtb=gtb, tif=IOC)]))
            await ok(client, BOB.sign_tx([place(B, 12, BUY, Q, far, gtb=gtb)]))
            await ok(client, ALICE.sign_tx([place(A, 13, SELL, Q, far, gtb=gtb, tif=IOC)]))
            block = node.step_blocks(1)
            assert sorted(f.subticks for f in _fills(node)) == [far, near]
            assert node.chain.markets[0].oracle_subticks == P
            triggered = [
                (e.order.client_id, e.height) for e in node.bus.history
                if isinstance(e, OrderUpdatedEvent) and e.reason == "TRIGGERED"
            ]
            # 64 800 triggers the 64 900 stop; 64 600 is clamped to 64 675, above 64 650
            assert triggered == [(1, block)]

    run(scenario())
