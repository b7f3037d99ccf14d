# SPDX-License-Identifier: Apache-2.0
"""TWAP orders (flags 128) over gRPC: validation, suborder schedule, prices, Indexer records."""

from __future__ import annotations

from decimal import Decimal

import grpc
import pytest

from nautilus_dydx._proto.dydxprotocol.clob import query_pb2 as clob_query_pb2
from nautilus_dydx._proto.dydxprotocol.clob import query_pb2_grpc as clob_query_grpc
from nautilus_dydx.sandbox import AccountConfig
from nautilus_dydx.sandbox.indexer_state import order_uuid
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_MNEMONIC
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import K2_PRIVATE_KEY
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import POST_ONLY
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import block_seconds
from tests.integration.sandbox.helpers import cancel
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.helpers import order_id
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.helpers import running_node
from tests.integration.sandbox.surface_helpers import TWAP
from tests.integration.sandbox.surface_helpers import TWAP_SUBORDER
from tests.integration.sandbox.surface_helpers import place_twap
from tests.integration.sandbox.test_indexer_support import close_transport
from tests.integration.sandbox.test_indexer_support import connect
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox
from tests.integration.sandbox.test_indexer_support import wait_for


A = K1_ADDRESS
B = K2_ADDRESS
Q = 1_000_000  # One BTC step (0.0001 BTC)
DOLLAR = 100_000  # One USD (one tick) in BTC subticks
P = 65_000 * DOLLAR
GENESIS_S = 1_767_225_600


def one_second_blocks(**overrides):
    return make_config(block_time_ms=1000, **overrides)


def suborders(node) -> list:
    return [
        e.order for e in node.bus.history
        if e.type == "order_placed" and e.order.order_flags == TWAP_SUBORDER
    ]


def test_twap_parameters_are_validated_with_the_chain_codes() -> None:
    async def scenario() -> None:
        async with running_node(one_second_blocks()) as (node, client):
            gtbt = block_seconds(node) + 3600
            no_parameters = place(A, 1, BUY, Q, P, gtbt=gtbt, flags=TWAP)
            cases = [
                (no_parameters, ("clob", 12)),
                (place_twap(A, 1, BUY, Q, P, gtbt, 300, 29), ("clob", 12)),
                (place_twap(A, 1, BUY, Q, P, gtbt, 7200, 3601), ("clob", 12)),
                (place_twap(A, 1, BUY, Q, P, gtbt, 270, 30), ("clob", 12)),
                (place_twap(A, 1, BUY, Q, P, gtbt, 86_430, 30), ("clob", 12)),
                (place_twap(A, 1, BUY, Q, P, gtbt, 310, 30), ("clob", 12)),
                (place_twap(A, 1, BUY, Q, P, gtbt, 300, 30, 1_000_000), ("clob", 12)),
                (place_twap(A, 1, BUY, Q, P, gtbt, 300, 30, tif=POST_ONLY), ("clob", 49)),
                (place_twap(A, 1, BUY, Q, P, gtbt, 300, 30, tif=IOC, reduce_only=True),
                 ("clob", 49)),
                (place_twap(A, 1, BUY, Q, P, gtbt, 300, 30, reduce_only=True), ("clob", 9003)),
                (place_twap(A, 1, BUY, Q, P, 0, 300, 30), ("clob", 3001)),
                (place_twap(A, 1, BUY, Q + 1, P, gtbt, 300, 30), ("clob", 12)),
                # Suborders are internal: nobody may place one
                (place(A, 1, BUY, Q, P, gtbt=gtbt, flags=TWAP_SUBORDER), ("clob", 3000)),
            ]
            for message, expected in cases:
                response = await client.broadcast(ALICE.sign_tx([message], sequence=7))
                assert (response.codespace, response.code) == expected, message
            # A market TWAP has no price; a too large one fails the collateral check at oracle
            market = await client.broadcast(ALICE.sign_tx(
                [place_twap(A, 1, BUY, Q, 0, gtbt, 300, 30, 5_000)], sequence=7,
            ))
            assert market.code == 0, market.raw_log
            huge = await client.broadcast(ALICE.sign_tx(
                [place_twap(A, 2, BUY, 400_000 * Q, 0, gtbt, 300, 30)], sequence=8,
            ))
            assert (huge.codespace, huge.code) == ("clob", 3007)

    run(scenario())


def test_market_twap_places_one_suborder_per_interval_and_fills_fully() -> None:
    async def scenario() -> None:
        async with running_sandbox(config=one_second_blocks()) as (sandbox, http, client):
            node = sandbox.node
            gtbt = block_seconds(node) + 3600
            # Bob offers plenty at the oracle price for the whole run
            ask = await client.broadcast(BOB.sign_tx(
                [place(B, 1, SELL, 100 * Q, P, gtbt=gtbt, flags=LONG_TERM)], sequence=0,
            ))
            assert ask.code == 0
            node.step_blocks(1)
            response = await client.broadcast(ALICE.sign_tx(
                [place_twap(A, 42, BUY, 10 * Q, 0, gtbt, 300, 30, 12_345)], sequence=7,
            ))
            assert response.code == 0, response.raw_log
            node.step_blocks(1)
            start = node.height
            stub = clob_query_grpc.QueryStub(client.channel)
            request = clob_query_pb2.QueryStatefulOrderRequest(order_id=order_id(A, 42, flags=TWAP))
            placed = await stub.StatefulOrder(request)
            assert placed.order_placement.order.twap_parameters.interval == 30
            assert placed.fill_amount == Q  # the first leg went out in the including block
            node.step_blocks(300)
            subs = suborders(node)
            assert [s.created_at_height for s in subs] == [start + 30 * k for k in range(10)]
            assert [s.quantums for s in subs] == [Q] * 10
            # Buy: oracle 65 000 × 1.012345 = 65 802.425, rounded up to a whole tick
            assert {s.subticks for s in subs} == {65_803 * DOLLAR}
            # Each suborder lives 3 s past its block (1 s blocks from the genesis time)
            assert all(
                s.good_til_block_time == GENESIS_S + (s.created_at_height - 1) + 3 for s in subs
            )
            assert node.subaccount(A, 0)["positions"][0]["size"] == 10 * Q
            # Fully filled: the TWAP order left state at its next trigger
            node.step_blocks(30)
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await stub.StatefulOrder(request)
            assert e.value.code() == grpc.StatusCode.NOT_FOUND
            params = {"address": A, "subaccountNumber": 0}
            orders = (await http.get("/orders", params=params)).json()
            assert len(orders) == 1
            twap = orders[0]
            assert twap["id"] == order_uuid(A, 0, 42, 0, TWAP)
            assert (twap["type"], twap["orderFlags"], twap["status"]) == ("TWAP", "128", "FILLED")
            assert (twap["duration"], twap["interval"], twap["priceTolerance"]) == (
                "300", "30", "12345",
            )
            assert Decimal(twap["totalFilled"]) == Decimal("0.001")
            assert Decimal(twap["price"]) == 65_000  # average of the fills, at Bob's price
            fills = (await http.get("/fills", params=params)).json()["fills"]
            assert len(fills) == 10
            assert {f["type"] for f in fills} == {"TWAP_SUBORDER"}
            assert {f["orderId"] for f in fills} == {twap["id"]}
            assert sorted(int(f["createdAtHeight"]) for f in fills) == [
                start + 30 * k for k in range(10)
            ]
            trades = (await http.get("/trades/perpetualMarket/BTC-USD")).json()["trades"]
            assert {t["type"] for t in trades} == {"TWAP_SUBORDER"}
            # Bob's side of the same fills is a plain limit fill
            bob_fills = (await http.get("/fills", params={
                "address": B, "subaccountNumber": 0,
            })).json()["fills"]
            assert {f["type"] for f in bob_fills} == {"LIMIT"}

    run(scenario(), timeout=60)


def test_unfilled_legs_catch_up_and_the_suborder_price_respects_the_tolerance() -> None:
    async def scenario() -> None:
        async with running_sandbox(config=one_second_blocks()) as (sandbox, http, client):
            node = sandbox.node
            gtbt = block_seconds(node) + 3600
            # The best bid (64 000) is below what the TWAP accepts (65 000 × 0.987655)
            bid = await client.broadcast(BOB.sign_tx(
                [place(B, 1, BUY, 100 * Q, 64_000 * DOLLAR, gtbt=gtbt, flags=LONG_TERM)],
                sequence=0,
            ))
            assert bid.code == 0
            response = await client.broadcast(ALICE.sign_tx(
                [place_twap(A, 7, SELL, 10 * Q, 0, gtbt, 300, 30, 12_345)], sequence=7,
            ))
            assert response.code == 0
            node.step_blocks(1)
            # 65 000 × 0.987655 = 64 197.575, rounded down to a whole tick
            limit = 64_197 * DOLLAR
            assert node.orderbook("BTC-USD")[1] == [(limit, Q)]
            book = (await http.get("/orderbooks/perpetualMarket/BTC-USD")).json()
            assert book["asks"] == [{"price": "64197", "size": "0.0001"}]
            # The TWAP order itself adds no level, even before uncrossing
            raw_bids, raw_asks = sandbox.state.markets["BTC-USD"].levels(uncross=False)
            assert raw_asks == [(limit, Q)]
            assert raw_bids == [(64_000 * DOLLAR, 100 * Q)]
            node.step_blocks(3)
            # The suborder expired 3 s after its block
            assert node.orderbook("BTC-USD")[1] == []
            book = (await http.get("/orderbooks/perpetualMarket/BTC-USD")).json()
            assert book["asks"] == []
            node.step_blocks(300)
            # Remaining size over remaining legs (rounded up), capped at 3x the original leg,
            # rounded down to whole steps: 10 Q over 10..1 legs
            assert [s.quantums // Q for s in suborders(node)] == [1, 1, 1, 1, 1, 2, 2, 3, 3, 3]
            assert {s.subticks for s in suborders(node)} == {limit}
            removed = [
                e for e in node.bus.history
                if e.type == "order_removed" and e.order.order_flags == TWAP
            ]
            assert [(e.order.status, e.removal_reason) for e in removed] == [
                ("CANCELED", "ORDER_REMOVAL_REASON_EXPIRED"),
            ]
            orders = (await http.get("/orders", params={
                "address": A, "subaccountNumber": 0,
            })).json()
            assert [(o["type"], o["status"], o["totalFilled"]) for o in orders] == [
                ("TWAP", "CANCELED", "0"),
            ]

    run(scenario(), timeout=60)


def test_limit_twap_uses_its_price_and_cancel_stops_the_suborders() -> None:
    async def scenario() -> None:
        async with running_node(one_second_blocks()) as (node, client):
            gtbt = block_seconds(node) + 3600
            ask = await client.broadcast(BOB.sign_tx(
                [place(B, 1, SELL, 100 * Q, P, gtbt=gtbt, flags=LONG_TERM)], sequence=0,
            ))
            assert ask.code == 0
            node.step_blocks(1)
            # The limit (64 500) is below Bob's ask: the suborders rest at the limit, unfilled
            response = await client.broadcast(ALICE.sign_tx(
                [place_twap(A, 3, BUY, 10 * Q, 64_500 * DOLLAR, gtbt, 600, 60, 500_000)],
                sequence=7,
            ))
            assert response.code == 0
            node.step_blocks(61)
            assert [s.subticks for s in suborders(node)] == [64_500 * DOLLAR] * 2
            stop = await client.broadcast(ALICE.sign_tx(
                [cancel(A, 3, gtbt=gtbt, flags=TWAP)], sequence=8,
            ))
            assert stop.code == 0, stop.raw_log
            node.step_blocks(200)
            assert len(suborders(node)) == 2
            removed = [
                e for e in node.bus.history
                if e.type == "order_removed" and e.order.order_flags == TWAP
            ]
            assert [e.removal_reason for e in removed] == ["ORDER_REMOVAL_REASON_USER_CANCELED"]
            assert node.subaccount(A, 0)["positions"] == {}

    run(scenario(), timeout=60)


def test_twap_suborders_stop_when_collateral_runs_out() -> None:
    async def scenario() -> None:
        config = one_second_blocks(accounts=(
            AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7,
                          subaccounts={0: 100_000_000_000}),
            AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2,
                          subaccounts={0: 100_000_000}),
        ))
        async with running_node(config) as (node, client):
            gtbt = block_seconds(node) + 3600
            ask = await client.broadcast(ALICE.sign_tx(
                [place(A, 1, SELL, 1000 * Q, P, gtbt=gtbt, flags=LONG_TERM)], sequence=7,
            ))
            assert ask.code == 0
            node.step_blocks(1)
            # Bob ($100) buys 0.003 BTC per leg at 65 000 (5 % margin: $9.75 per leg)
            response = await client.broadcast(BOB.sign_tx(
                [place_twap(B, 9, BUY, 300 * Q, P, gtbt, 300, 30)], sequence=0,
            ))
            assert response.code == 0, response.raw_log
            node.step_blocks(61)
            assert node.subaccount(B, 0)["positions"][0]["size"] == 90 * Q
            # At 57 000 Bob's 0.009 BTC lost $72: above maintenance (3 %: $15.39 of $28 equity,
            # so no liquidation), but the next leg's initial margin is no longer there
            node.set_oracle_price("BTC-USD", "57000")
            node.step_blocks(100)
            assert node.subaccount(B, 0)["positions"][0]["size"] == 90 * Q
            assert len(suborders(node)) == 3
            removed = [
                e for e in node.bus.history
                if e.type == "order_removed" and e.order.order_flags == TWAP
            ]
            assert [e.removal_reason for e in removed] == [
                "ORDER_REMOVAL_REASON_UNDERCOLLATERALIZED",
            ]

    run(scenario(), timeout=60)


def test_subaccounts_channel_reports_the_twap_order_and_its_suborder_fills() -> None:
    async def scenario() -> None:
        async with running_sandbox(config=one_second_blocks()) as (sandbox, http, client):
            node = sandbox.node
            gtbt = block_seconds(node) + 3600
            ask = await client.broadcast(BOB.sign_tx(
                [place(B, 1, SELL, 100 * Q, P, gtbt=gtbt, flags=LONG_TERM)], sequence=0,
            ))
            assert ask.code == 0
            node.step_blocks(1)
            ws = await connect(sandbox)
            try:
                ws.subscribe("v4_subaccounts", f"{A}/0")
                await ws.wait("subscribed")
                response = await client.broadcast(ALICE.sign_tx(
                    [place_twap(A, 5, BUY, 5 * Q, 0, gtbt, 300, 60, 1_000)], sequence=7,
                ))
                assert response.code == 0
                node.step_blocks(1)
                await wait_for(lambda: any(
                    "fills" in f["contents"] for f in ws.of("channel_data", "v4_subaccounts")
                ))
                contents = [f["contents"] for f in ws.of("channel_data", "v4_subaccounts")]
                orders = [o for c in contents for o in c.get("orders", [])]
                parent_id = order_uuid(A, 0, 5, 0, TWAP)
                assert {o["id"] for o in orders} == {parent_id}
                placed = orders[0]
                assert (placed["type"], placed["status"], placed["orderFlags"]) == (
                    "TWAP", "OPEN", "128",
                )
                assert (placed["duration"], placed["interval"], placed["priceTolerance"]) == (
                    "300", "60", "1000",
                )
                latest = orders[-1]
                assert Decimal(latest["totalFilled"]) == Decimal("0.0001")
                assert latest["status"] == "OPEN"
                fills = [f for c in contents for f in c.get("fills", [])]
                assert [(f["type"], f["orderId"], f["liquidity"]) for f in fills] == [
                    ("TWAP_SUBORDER", parent_id, "TAKER"),
                ]
                # A fresh snapshot lists the live TWAP order, never a suborder
                ws.send({"type": "unsubscribe", "channel": "v4_subaccounts", "id": f"{A}/0"})
                await ws.wait("unsubscribed")
                ws.subscribe("v4_subaccounts", f"{A}/0")
                snapshot = (await ws.wait("subscribed", count=2))[-1]["contents"]
                assert [(o["id"], o["type"]) for o in snapshot["orders"]] == [
                    (parent_id, "TWAP"),
                ]
            finally:
                close_transport(ws)

    run(scenario())


def test_twap_whose_leg_is_below_one_step_ends_without_suborders() -> None:
    async def scenario() -> None:
        async with running_node(one_second_blocks()) as (node, client):
            gtbt = block_seconds(node) + 3600
            # 4 steps over 5 legs: 0.8 step per leg rounds down to nothing
            response = await client.broadcast(ALICE.sign_tx(
                [place_twap(A, 1, BUY, 4 * Q, 0, gtbt, 300, 60)], sequence=7,
            ))
            assert response.code == 0
            node.step_blocks(1)
            assert suborders(node) == []
            removed = [
                (e.height, e.order.status, e.removal_reason) for e in node.bus.history
                if e.type == "order_removed"
            ]
            assert removed == [(node.height, "CANCELED", "ORDER_REMOVAL_REASON_EXPIRED")]

    run(scenario())
