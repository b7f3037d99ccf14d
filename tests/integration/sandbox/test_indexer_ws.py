# SPDX-License-Identifier: Apache-2.0
"""Indexer WebSocket: envelopes, message_id, snapshots, updates, batching, limits, heartbeat."""

from __future__ import annotations

import asyncio

from nautilus_dydx.sandbox.indexer_ws import WsSettings
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.test_indexer_support import close_transport
from tests.integration.sandbox.test_indexer_support import connect
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox
from tests.integration.sandbox.test_indexer_support import wait_for


A = K1_ADDRESS
B = K2_ADDRESS
Q = 1_000_000
P = 6_500_000_000
TICK = 100_000


def message_ids(ws) -> list[int]:
    return [f["message_id"] for f in ws.frames if isinstance(f, dict) and f["type"] != "error"]


def test_connected_subscribed_updates_and_message_id_counter() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, client):
            ws = await connect(sandbox)
            try:
                connected = ws.frames[0]
                assert connected["type"] == "connected" and connected["message_id"] == 0
                ws.subscribe("v4_markets")
                ws.subscribe("v4_block_height", "ignored")
                ws.subscribe("v4_orderbook", "BTC-USD")
                ws.subscribe("v4_subaccounts", f"{B}/0")
                ws.subscribe("v4_candles", "BTC-USD/1MIN")
                subscribed = await ws.wait("subscribed", count=5)
                markets, height, book, account, candles = subscribed
                assert "id" not in markets and set(markets["contents"]["markets"]) == {
                    "BTC-USD", "ETH-USD", "SOL-USD", "PEPE-USD",
                }
                assert height["id"] == "v4_block_height"
                assert height["contents"] == {"height": "1", "time": "2026-01-01T00:00:00.000Z"}
                assert book["contents"] == {"bids": [], "asks": []}
                assert set(account["contents"]) == {"subaccount", "orders", "blockHeight"}
                assert account["contents"]["subaccount"]["equity"] == "100000"
                assert candles["contents"] == {"candles": []}
                gtb = sandbox.node.height + 10
                await client.broadcast(BOB.sign_tx([place(B, 1, SELL, Q, P, gtb=gtb)]))
                sandbox.node.step_blocks(1)
                await ws.wait("channel_data", "v4_block_height")
                update = ws.of("channel_data", "v4_orderbook")[0]
                assert update["contents"] == {"asks": [["65000", "0.0001"]]}
                assert update["version"] == "1.0.0"
                sub_update = ws.of("channel_data", "v4_subaccounts")[0]
                assert sub_update["version"] == "3.0.0"
                assert sub_update["contents"]["orders"][0]["status"] == "BEST_EFFORT_OPENED"
                sandbox.node.set_oracle_price("BTC-USD", "65100")
                oracle = (await ws.wait("channel_data", "v4_markets"))[0]
                assert "id" not in oracle
                assert oracle["contents"]["oraclePrices"]["BTC-USD"]["oraclePrice"] == "65100"
                ids = message_ids(ws)
                assert ids == list(range(len(ids)))
                ws.send({"type": "unsubscribe", "channel": "v4_orderbook", "id": "BTC-USD"})
                unsubscribed = (await ws.wait("unsubscribed"))[0]
                assert unsubscribed["message_id"] == ids[-1] + 1
                assert unsubscribed["id"] == "BTC-USD"
            finally:
                close_transport(ws)

    run(scenario())


def test_subscription_errors_carry_current_message_id_and_venue_text() -> None:
    async def scenario() -> None:
        settings = WsSettings(
            limits={"v4_orderbook": 2, "v4_block_height": 1}, batch_interval_s=0.05,
        )
        async with running_sandbox(ws_settings=settings) as (sandbox, _, _):
            ws = await connect(sandbox)
            try:
                ws.subscribe("v4_nope", "x")
                ws.subscribe("v4_orderbook", "DOGE-USD")
                ws.subscribe("v4_candles", "BTC-USD/2MINS")
                ws.subscribe("v4_orderbook", "BTC-USD")
                ws.subscribe("v4_orderbook", "ETH-USD")
                await ws.wait("subscribed", count=2)
                ws.subscribe("v4_orderbook", "SOL-USD")
                ws.subscribe("v4_orderbook", "BTC-USD")
                errors = await ws.wait("error", count=5)
                assert [e["message"] for e in errors] == [
                    "Invalid channel: v4_nope",
                    "Invalid subscription id for channel: (v4_orderbook-DOGE-USD)",
                    "Invalid subscription id for channel: (v4_candles-BTC-USD/2MINS)",
                    "Per-connection subscription limit reached for v4_orderbook (limit=2).",
                    "Invalid subscribe message: already subscribed (v4_orderbook-BTC-USD)",
                ]
                assert [e["message_id"] for e in errors] == [0, 0, 0, 2, 2]
                ws.send({"type": "ping"})
                ws.send({"type": "subscribe", "channel": "v4_subaccounts", "id": f"{A}/0"})
                await ws.wait("subscribed", count=3)
                assert ws.of("subscribed")[-1]["contents"]["subaccount"]["address"] == A
            finally:
                close_transport(ws)

    run(scenario())


def test_subscribe_rate_and_invalid_messages_close_with_1008() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            ws = await connect(sandbox)
            try:
                for _ in range(3):
                    ws.subscribe("v4_trades", "BTC-USD")
                await wait_for(lambda: ws.closed_code is not None)
                assert ws.closed_code == 1008
                assert ws.closed_reason == b'{"message":"Rate limited"}'
                assert ws.of("error")[-1]["message"].startswith("Too many subscribe attempts")
            finally:
                close_transport(ws)
            bad = await connect(sandbox)
            try:
                for _ in range(3):
                    bad.transport.send(1, b"{not json")
                await wait_for(lambda: bad.closed_code is not None)
                assert bad.closed_code == 1008
                assert len(bad.of("error")) == 3
            finally:
                close_transport(bad)

    run(scenario())


def test_batched_subscription_flushes_channel_batch_data() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            ws = await connect(sandbox)
            try:
                ws.subscribe("v4_orderbook", "ETH-USD", batched=True)
                await ws.wait("subscribed")
                for index in range(5):
                    sandbox.state.set_level("ETH-USD", "BUY", f"{2990 + index}", "1")
                    await asyncio.sleep(0)
                batch = (await ws.wait("channel_batch_data"))[0]
                assert batch["id"] == "ETH-USD" and batch["version"] == "1.0.0"
                assert [c["bids"][0][0] for c in batch["contents"]] == [
                    "2990", "2991", "2992", "2993", "2994",
                ]
                assert batch["message_id"] == 2
                assert ws.of("channel_data") == []
            finally:
                close_transport(ws)

    run(scenario())


def test_heartbeat_ping_and_close_1011_without_pong() -> None:
    async def scenario() -> None:
        settings = WsSettings(ping_interval_s=0.05, pong_timeout_s=0.1)
        async with running_sandbox(ws_settings=settings) as (sandbox, _, _):
            good = await connect(sandbox, auto_pong=True)
            silent = await connect(sandbox, auto_pong=False)
            try:
                await wait_for(lambda: silent.closed_code is not None)
                assert silent.closed_code == 1011
                assert good.pings >= 2 and good.closed_code is None
            finally:
                close_transport(good)
                close_transport(silent)

    run(scenario())


def test_parent_subaccount_channel_carries_child_number() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, client):
            ws = await connect(sandbox)
            try:
                ws.subscribe("v4_parent_subaccounts", f"{B}/0")
                snapshot = (await ws.wait("subscribed"))[0]
                assert snapshot["contents"]["subaccount"]["parentSubaccountNumber"] == 0
                sandbox.node.fund(B, 128, 5_000_000)
                update = (await ws.wait("channel_data", "v4_parent_subaccounts"))[0]
                assert update["subaccountNumber"] == 128
                assert update["contents"]["assetPositions"][0]["subaccountNumber"] == 128
                assert update["contents"]["transfers"]["type"] == "DEPOSIT"
            finally:
                close_transport(ws)

    run(scenario())


def test_crossed_book_streams_crossed_but_snapshot_is_uncrossed() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, _):
            state = sandbox.state
            for index in range(6):
                state.set_level("BTC-USD", "SELL", str(65000 + index), "1")
                state.set_level("BTC-USD", "BUY", str(64990 - index), "1")
            ws = await connect(sandbox)
            try:
                ws.subscribe("v4_orderbook", "BTC-USD")
                await ws.wait("subscribed")
                price = sandbox.faults.force_crossed_book("BTC-USD")
                update = (await ws.wait("channel_data", "v4_orderbook"))[0]
                assert update["contents"] == {"bids": [[price, "0.001"]]}
                assert float(price) >= 65000
                book = (await http.get("/orderbooks/perpetualMarket/BTC-USD")).json()
                assert float(book["bids"][0]["price"]) < float(book["asks"][0]["price"])
                ws.send({"type": "unsubscribe", "channel": "v4_orderbook", "id": "BTC-USD"})
                await ws.wait("unsubscribed")
                ws.subscribe("v4_orderbook", "BTC-USD")
                resubscribed = (await ws.wait("subscribed", count=2))[-1]
                assert resubscribed["contents"] == book
                assert sandbox.faults.counters["crossed_book"] == 1
            finally:
                close_transport(ws)

    run(scenario())


def test_server_stop_closes_connections_with_1012() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            ws = await connect(sandbox)
            try:
                assert sandbox.faults.restart_ws() == 1
                await wait_for(lambda: ws.closed_code is not None)
                assert ws.closed_code == 1012
                await asyncio.sleep(0)
            finally:
                close_transport(ws)

    run(scenario())
