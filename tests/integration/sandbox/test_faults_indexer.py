# SPDX-License-Identifier: Apache-2.0
"""Every sandbox fault switched on and off from a test (Python and HTTP control), plus replay."""

from __future__ import annotations

import asyncio

import grpc
import orjson
from picows import ws_connect

from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2 as tm_query_pb2
from nautilus_dydx.sandbox.replay import ReplayServer
from nautilus_dydx.sandbox.replay import load_frames
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import block_seconds
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.test_indexer_support import WsClient
from tests.integration.sandbox.test_indexer_support import close_transport
from tests.integration.sandbox.test_indexer_support import connect
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox
from tests.integration.sandbox.test_indexer_support import wait_for


def test_ws_drop_restart_and_snapshot_failure() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, _):
            faults = sandbox.faults
            ws = await connect(sandbox)
            try:
                assert faults.drop_ws() == 1
                await wait_for(lambda: ws.disconnected)
                assert ws.closed_code is None
            finally:
                close_transport(ws)
            ws = await connect(sandbox)
            try:
                body = (await http.get("/../control/ws/restart")).json()
                await wait_for(lambda: ws.closed_code is not None)
                assert ws.closed_code == 1012
                assert body["counters"]["ws_restart"] == 1
            finally:
                close_transport(ws)
            ws = await connect(sandbox)
            try:
                faults.fail_snapshots("v4_trades")
                ws.subscribe("v4_trades", "BTC-USD")
                error = (await ws.wait("error"))[0]
                assert error["message"] == (
                    "Internal error, could not fetch data for subscription: v4_trades."
                )
                faults.fail_snapshots("v4_trades", on=False)
                ws.subscribe("v4_trades", "ETH-USD")
                await ws.wait("subscribed")
            finally:
                close_transport(ws)

    run(scenario())


def test_pause_malformed_duplicate_and_out_of_order_frames() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            faults = sandbox.faults
            state = sandbox.state
            ws = await connect(sandbox)
            try:
                ws.subscribe("v4_orderbook", "BTC-USD")
                await ws.wait("subscribed")
                faults.pause_stream("v4_orderbook", "BTC-USD")
                state.set_level("BTC-USD", "BUY", "64000", "1")
                await asyncio.sleep(0.02)
                assert ws.of("channel_data") == []
                assert faults.resume_stream("v4_orderbook", "BTC-USD") == 1
                await ws.wait("channel_data", count=1)

                faults.inject_malformed()
                state.set_level("BTC-USD", "BUY", "64001", "1")
                await wait_for(lambda: any(isinstance(f, bytes) for f in ws.frames))
                faults.duplicate_next()
                state.set_level("BTC-USD", "BUY", "64002", "1")
                await ws.wait("channel_data", count=3)
                duplicated = ws.of("channel_data")[-2:]
                assert duplicated[0] == duplicated[1]

                faults.reorder_next()
                for price in ("64003", "64004"):
                    state.set_level("BTC-USD", "BUY", price, "1")
                    await asyncio.sleep(0)
                await ws.wait("channel_data", count=5)
                last = ws.of("channel_data")[-2:]
                assert [f["contents"]["bids"][0][0] for f in last] == ["64004", "64003"]
                assert last[0]["message_id"] > last[1]["message_id"]
                assert {k: faults.counters[k] for k in (
                    "ws_pause", "ws_malformed", "ws_duplicate", "ws_reorder",
                )} == {"ws_pause": 1, "ws_malformed": 1, "ws_duplicate": 1, "ws_reorder": 1}
            finally:
                close_transport(ws)

    run(scenario())


def test_rest_errors_on_and_off_over_http_control() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, _):
            control = http.base_url.copy_with(path="/control/rest/error")
            await http.post(control, params={"status": "429", "count": "2"})
            statuses = [(await http.get("/height")).status_code for _ in range(3)]
            assert statuses == [429, 429, 200]
            await http.post(control, params={"status": "503", "prefix": "/v4/orders"})
            assert (await http.get("/orders/x")).status_code == 503
            assert (await http.get("/height")).status_code == 200
            await http.post(control, params={"status": "0"})
            assert (await http.get("/orders/x")).status_code == 404
            assert sandbox.faults.counters["rest_error"] == 3
            unknown = await http.post(http.base_url.copy_with(path="/control/nope"))
            assert unknown.status_code == 404

    run(scenario())


def test_grpc_errors_sequence_skew_and_block_stall() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, client):
            faults = sandbox.faults
            faults.grpc_error("UNAVAILABLE", count=1)
            try:
                await client.latest_height()
                raise AssertionError("expected UNAVAILABLE")
            except grpc.aio.AioRpcError as e:
                assert e.code() == grpc.StatusCode.UNAVAILABLE
            assert await client.latest_height() == sandbox.node.height
            faults.grpc_error("RESOURCE_EXHAUSTED", method="BroadcastTx")
            t = block_seconds(sandbox.node)
            tx = ALICE.sign_tx([place(K1_ADDRESS, 1, BUY, 1_000_000, 6_000_000_000,
                                      gtbt=t + 60, flags=LONG_TERM)], sequence=7)
            try:
                await client.broadcast(tx)
                raise AssertionError("expected RESOURCE_EXHAUSTED")
            except grpc.aio.AioRpcError as e:
                assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            response = await client.tm.GetLatestBlock(tm_query_pb2.GetLatestBlockRequest())
            assert response.block.header.height == sandbox.node.height
            faults.grpc_error("")
            assert faults.skew_sequence(K1_ADDRESS, 3) == 10
            rejected = await client.broadcast(tx)
            assert rejected.code == 32
            assert (await client.account(K1_ADDRESS)).sequence == 10
            faults.skew_sequence(K1_ADDRESS, -3)
            assert (await client.broadcast(tx)).code == 0
            # An unsigned sequence: a skew past zero stops there, and queries still answer
            assert faults.skew_sequence(K1_ADDRESS, -100) == 0
            assert (await client.account(K1_ADDRESS)).sequence == 0
            faults.skew_sequence(K1_ADDRESS, 8)
            # Block production: the sandbox node runs on a timer in this test
            sandbox.node.resume()
            start = sandbox.node.height
            await wait_for(lambda: sandbox.node.height > start)
            faults.stall_blocks()
            stalled = sandbox.node.height
            await asyncio.sleep(0.35)
            assert sandbox.node.height <= stalled + 1
            faults.stall_blocks(on=False)
            await wait_for(lambda: sandbox.node.height > stalled + 1)
            assert faults.counters["block_stall"] == 1
            assert faults.counters["grpc_error"] == 2

    run(scenario())


def test_a_stall_leaves_a_node_stepped_by_hand_without_its_block_timer() -> None:
    # Resuming after a stall started the timer of a node stepped by hand: the reliability
    # rig then got blocks at random moments, between a book check and its REST snapshot
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            node, faults = sandbox.node, sandbox.faults
            assert node.paused
            faults.stall_blocks()
            faults.stall_blocks(on=False)
            assert node.paused
            # A node on its timer is stopped and restarted
            node.resume()
            faults.stall_blocks()
            assert node.paused
            faults.stall_blocks(on=False)
            assert not node.paused
            assert faults.counters["block_stall"] == 2

    run(scenario())


def test_replay_serves_recorded_frames_in_order(tmp_path) -> None:
    frames = [{"type": "connected", "connection_id": "c", "message_id": 0}] + [
        {"type": "channel_data", "connection_id": "c", "message_id": i, "channel": "v4_trades",
         "id": "BTC-USD", "version": "2.1.0", "contents": {"trades": [{"id": f"{i:024x}"}]}}
        for i in range(1, 2001)
    ]
    path = tmp_path / "session.ndjson"
    path.write_bytes(b"\n".join(orjson.dumps(f) for f in frames) + b"\n\n")

    async def scenario() -> None:
        server = ReplayServer(load_frames(path))
        await server.start()
        try:
            transport, client = await ws_connect(WsClient, server.url)
            await wait_for(lambda: client.closed_code is not None)
            assert client.closed_code == 1000
            assert client.frames == frames
            assert server.frames_sent == len(frames)
            close_transport(client)
        finally:
            await server.stop()

    run(scenario())
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"type":"connected"}\n{oops\n')
    try:
        load_frames(bad)
        raise AssertionError("expected ValueError")
    except ValueError as e:
        assert "line 2" in str(e)
