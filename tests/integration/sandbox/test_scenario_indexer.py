# SPDX-License-Identifier: Apache-2.0
"""One scripted story (place, fill, cancel, expire, trigger) seen the same on REST, WS and gRPC."""

from __future__ import annotations

from nautilus_dydx._proto.cosmos.tx.v1beta1 import service_pb2
from nautilus_dydx.sandbox.indexer_state import order_uuid
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


async def ok(client, tx: bytes) -> str:
    response = await client.broadcast(tx)
    assert response.code == 0, f"{response.codespace} {response.code} {response.raw_log}"
    return response.txhash


def ws_orders(ws, address: str) -> dict[str, list[dict]]:
    history: dict[str, list[dict]] = {}
    for frame in ws.of("channel_data", "v4_subaccounts"):
        if not frame["id"].startswith(address):
            continue
        for order in frame["contents"].get("orders", []):
            history.setdefault(order["id"], []).append(order)
    return history


def test_place_fill_cancel_expire_trigger_story_matches_on_rest_ws_and_grpc() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, client):
            node = sandbox.node
            ws = await connect(sandbox)
            try:
                for address in (A, B):
                    ws.subscribe("v4_subaccounts", f"{address}/0")
                ws.subscribe("v4_orderbook", "BTC-USD")
                ws.subscribe("v4_trades", "BTC-USD")
                ws.subscribe("v4_block_height")
                await ws.wait("subscribed", count=5)
                t = block_seconds(node)

                # 1. Bob rests a long-term sell of 2 steps; Alice lifts one step with an IOC
                bob_sell = await ok(client, BOB.sign_tx(
                    [place(B, 1, SELL, 2 * Q, P, gtbt=t + 600, flags=LONG_TERM)], sequence=0,
                ))
                node.step_blocks(1)
                gtb = node.height + 10
                alice_buy = await ok(client, ALICE.sign_tx(
                    [place(A, 1, BUY, Q, P, gtb=gtb, tif=IOC)],
                ))
                # 2. Bob cancels the rest of his order
                await ok(client, BOB.sign_tx(
                    [cancel(B, 1, gtbt=t + 600, flags=LONG_TERM)], sequence=1,
                ))
                node.step_blocks(1)
                # 3. Alice rests a short-term bid that expires
                await ok(client, ALICE.sign_tx(
                    [place(A, 2, BUY, Q, P - 10 * TICK, gtb=node.height + 2)],
                ))
                node.step_blocks(3)
                # 4. Bob bids long-term; Alice's stop-loss sell triggers on the oracle and fills
                await ok(client, BOB.sign_tx(
                    [place(B, 3, BUY, Q, 6_000_000_000, gtbt=t + 600, flags=LONG_TERM)],
                    sequence=2,
                ))
                await ok(client, ALICE.sign_tx([
                    place(A, 3, SELL, Q, 6_000_000_000, gtbt=t + 600, flags=CONDITIONAL,
                          condition_type=1, trigger=6_100_000_000),
                ], sequence=7))
                node.step_blocks(1)
                node.set_oracle_price("BTC-USD", "60999")
                node.step_blocks(2)

                ids = {
                    "bob_sell": order_uuid(B, 0, 1, 0, LONG_TERM),
                    "alice_ioc": order_uuid(A, 0, 1, 0, 0),
                    "alice_expiring": order_uuid(A, 0, 2, 0, 0),
                    "bob_bid": order_uuid(B, 0, 3, 0, LONG_TERM),
                    "alice_stop": order_uuid(A, 0, 3, 0, CONDITIONAL),
                }
                expected = {
                    "bob_sell": ("CANCELED", "0.0001"),
                    "alice_ioc": ("FILLED", "0.0001"),
                    "alice_expiring": ("CANCELED", "0"),
                    "bob_bid": ("FILLED", "0.0001"),
                    "alice_stop": ("FILLED", "0.0001"),
                }

                # REST: each order by id, then the lists
                for name, order_id in ids.items():
                    response = await http.get(f"/orders/{order_id}")
                    assert response.status_code == 200, name
                    body = response.json()
                    assert (body["status"], body["totalFilled"]) == expected[name], name
                alice_orders = (await http.get(
                    "/orders", params={"address": A, "subaccountNumber": 0},
                )).json()
                assert {o["id"] for o in alice_orders} == {
                    ids["alice_ioc"], ids["alice_expiring"], ids["alice_stop"],
                }
                stop = next(o for o in alice_orders if o["id"] == ids["alice_stop"])
                assert (stop["type"], stop["triggerPrice"]) == ("STOP_LIMIT", "61000")
                open_orders = (await http.get(
                    "/orders", params={"address": A, "subaccountNumber": 0, "status": "OPEN"},
                )).json()
                assert open_orders == []

                # WebSocket: the same final statuses, after the same intermediate steps
                await wait_for(lambda: all(
                    i in ws_orders(ws, A) or i in ws_orders(ws, B) for i in ids.values()
                ))
                await wait_for(
                    lambda: ws_orders(ws, A)[ids["alice_stop"]][-1]["status"] == "FILLED",
                )
                histories = {**ws_orders(ws, A), **ws_orders(ws, B)}
                for name, order_id in ids.items():
                    assert histories[order_id][-1]["status"] == expected[name][0], name
                assert [o["status"] for o in histories[ids["alice_stop"]]][:2] == [
                    "UNTRIGGERED", "OPEN",
                ]
                removal = {n: histories[i][-1].get("removalReason") for n, i in ids.items()}
                assert removal["bob_sell"] == "ORDER_REMOVAL_REASON_USER_CANCELED"
                assert removal["alice_expiring"] == "ORDER_REMOVAL_REASON_EXPIRED"
                assert removal["alice_stop"] == "ORDER_REMOVAL_REASON_FULLY_FILLED"

                # Fills: REST and WS agree on ids, heights and prices
                rest_fills = (await http.get(
                    "/fills", params={"address": A, "subaccountNumber": 0},
                )).json()["fills"]
                assert [(f["side"], f["liquidity"], f["price"]) for f in rest_fills] == [
                    ("SELL", "TAKER", "60000"), ("BUY", "TAKER", "65000"),
                ]
                ws_fills = [
                    f for frame in ws.of("channel_data", "v4_subaccounts")
                    if frame["id"] == f"{A}/0" for f in frame["contents"].get("fills", [])
                ]
                assert sorted(f["id"] for f in ws_fills) == sorted(f["id"] for f in rest_fills)
                trades = (await http.get("/trades/perpetualMarket/BTC-USD")).json()["trades"]
                ws_trades = [t for f in ws.of("channel_data", "v4_trades")
                             for t in f["contents"]["trades"]]
                assert [t["id"] for t in trades] == [t["id"] for t in reversed(ws_trades)]

                # gRPC: stateful txs are in the blocks the Indexer reports; short-term fills
                # carry the hash of the broadcast that matched
                bob_tx = await client.tx.GetTx(service_pb2.GetTxRequest(hash=bob_sell))
                bob_order = (await http.get(f"/orders/{ids['bob_sell']}")).json()
                assert str(bob_tx.tx_response.height) == bob_order["createdAtHeight"]
                ioc_fill = rest_fills[-1]
                ws_ioc_fill = next(f for f in ws_fills if f["id"] == ioc_fill["id"])
                assert ws_ioc_fill["transactionHash"] == alice_buy
                assert int(ioc_fill["createdAtHeight"]) > bob_tx.tx_response.height
                latest = await client.latest_height()
                assert latest == node.height

                # Positions: Alice went long then flat; Bob the reverse
                positions = (await http.get(
                    "/perpetualPositions", params={"address": A, "subaccountNumber": 0},
                )).json()["positions"]
                assert [(p["status"], p["sumOpen"], p["sumClose"]) for p in positions] == [
                    ("CLOSED", "0.0001", "0.0001"),
                ]
                assert positions[0]["realizedPnl"] == "-0.5"
                # Book is empty again on both REST and the WS stream
                book = (await http.get("/orderbooks/perpetualMarket/BTC-USD")).json()
                assert book == {"bids": [], "asks": []}
                heights = [int(f["contents"]["blockHeight"])
                           for f in ws.of("channel_data", "v4_block_height")]
                assert heights == list(range(2, node.height + 1))
                assert (await http.get("/height")).json()["height"] == str(node.height)
            finally:
                close_transport(ws)

    run(scenario())
