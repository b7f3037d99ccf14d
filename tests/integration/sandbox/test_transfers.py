# SPDX-License-Identifier: Apache-2.0
"""MsgCreateTransfer and MsgUpdateLeverage over gRPC: composition, errors and visible effects."""

from __future__ import annotations

from decimal import Decimal

import grpc
import pytest

from nautilus_dydx._proto.cosmos.tx.v1beta1 import service_pb2
from nautilus_dydx._proto.dydxprotocol.clob import query_pb2 as clob_query_pb2
from nautilus_dydx._proto.dydxprotocol.clob import query_pb2_grpc as clob_query_grpc
from nautilus_dydx._proto.dydxprotocol.subaccounts import query_pb2 as sub_query_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import query_pb2_grpc as sub_query_grpc
from nautilus_dydx.sandbox import AccountConfig
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_MNEMONIC
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import K2_PRIVATE_KEY
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import block_seconds
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.helpers import running_node
from tests.integration.sandbox.surface_helpers import decode_serializable_int
from tests.integration.sandbox.surface_helpers import transfer
from tests.integration.sandbox.surface_helpers import update_leverage
from tests.integration.sandbox.test_indexer_support import close_transport
from tests.integration.sandbox.test_indexer_support import connect
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox
from tests.integration.sandbox.test_indexer_support import wait_for


A = K1_ADDRESS
B = K2_ADDRESS
Q = 1_000_000  # One BTC step (0.0001 BTC)
P = 6_500_000_000  # 65 000 USD in BTC subticks
USDC = 1_000_000  # One USDC in quote quantums


def _codes(response) -> tuple[str, int]:
    return response.codespace, response.code


def test_transfer_with_stateful_order_moves_usdc_and_shows_on_the_indexer() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, client):
            node = sandbox.node
            ws = await connect(sandbox)
            try:
                ws.subscribe("v4_subaccounts", f"{A}/1")
                await ws.wait("subscribed")
                gtbt = block_seconds(node) + 3600
                tx = ALICE.sign_tx([
                    place(A, 1, BUY, Q, P - 100_000, gtbt=gtbt, flags=LONG_TERM),
                    transfer(A, 0, A, 1, 30 * USDC),
                ], sequence=7)
                response = await client.broadcast(tx)
                assert _codes(response) == ("", 0), response.raw_log
                # Nothing moves before the block that includes the tx
                assert node.subaccount(A, 1) is None
                node.step_blocks(1)
                assert node.subaccount(A, 0)["usdc"] == 100_000 * USDC - 30 * USDC
                assert node.subaccount(A, 1)["usdc"] == 30 * USDC
                found = await client.tx.GetTx(service_pb2.GetTxRequest(hash=response.txhash))
                urls = [m.type_url for m in found.tx.body.messages]
                assert urls == [
                    "/dydxprotocol.clob.MsgPlaceOrder", "/dydxprotocol.sending.MsgCreateTransfer",
                ]
                subs = sub_query_grpc.QueryStub(client.channel)
                chain_sub = (await subs.Subaccount(
                    sub_query_pb2.QueryGetSubaccountRequest(owner=A, number=1),
                )).subaccount
                assert decode_serializable_int(chain_sub.asset_positions[0].quantums) == 30 * USDC
                out = (await http.get("/transfers", params={
                    "address": A, "subaccountNumber": 0,
                })).json()["transfers"]
                assert len(out) == 2  # the genesis deposit and this transfer, newest first
                assert out[0]["type"] == "TRANSFER_OUT"
                assert out[0]["sender"] == {"address": A, "subaccountNumber": 0}
                assert out[0]["recipient"] == {"address": A, "subaccountNumber": 1}
                assert Decimal(out[0]["size"]) == 30
                assert out[0]["transactionHash"] == response.txhash
                assert out[0]["createdAtHeight"] == str(node.height)
                received = (await http.get("/transfers", params={
                    "address": A, "subaccountNumber": 1,
                })).json()["transfers"]
                assert [t["type"] for t in received] == ["TRANSFER_IN"]
                sub1 = (await http.get(f"/addresses/{A}/subaccountNumber/1")).json()
                assert Decimal(sub1["subaccount"]["equity"]) == 30
                await wait_for(lambda: any(
                    "transfers" in f["contents"] for f in ws.of("channel_data", "v4_subaccounts")
                ))
                update = next(
                    f for f in ws.of("channel_data", "v4_subaccounts")
                    if "transfers" in f["contents"]
                )
                assert update["id"] == f"{A}/1"
                assert update["contents"]["transfers"]["type"] == "TRANSFER_IN"
                assert Decimal(update["contents"]["transfers"]["size"]) == 30
                assets = update["contents"]["assetPositions"]
                assert Decimal(assets[-1]["size"]) == 30
            finally:
                close_transport(ws)

    run(scenario())


def test_transfer_and_leverage_refusals_use_the_chain_codes() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            gtbt = block_seconds(node) + 3600
            long_term = place(A, 1, BUY, Q, P - 100_000, gtbt=gtbt, flags=LONG_TERM)
            cases = [
                ([transfer(A, 0, A, 0, USDC)], ("sending", 1)),
                ([transfer(A, 0, A, 1, USDC, asset_id=1)], ("sending", 1101)),
                ([transfer(A, 0, A, 1, 0)], ("sending", 2)),
                ([transfer(A, 0, A, 1, 100_001 * USDC)], ("subaccounts", 102)),
                ([transfer(A, 128_001, A, 1, USDC)], ("subaccounts", 200)),
                ([transfer(A, 0, A, 1, USDC), transfer(A, 0, A, 2, USDC)], ("sdk", 18)),
                ([long_term, update_leverage(A, [(0, 100_000)]),
                  update_leverage(A, [(1, 100_000)])], ("sdk", 18)),
                ([update_leverage(A, [])], ("clob", 11002)),
                ([update_leverage(A, [(0, 0)])], ("clob", 11002)),
                ([update_leverage(A, [(0, 1_000_001)])], ("clob", 11002)),
                ([update_leverage(A, [(0, 100_000), (0, 200_000)])], ("clob", 11002)),
                ([update_leverage(A, [(42, 100_000)])], ("clob", 8)),
                # BTC's initial margin is 5 %: 4 % would be 25x, above the market's 20x maximum
                ([update_leverage(A, [(0, 40_000)])], ("clob", 11003)),
            ]
            for messages, expected in cases:
                response = await client.broadcast(ALICE.sign_tx(messages, sequence=7))
                assert _codes(response) == expected, (messages, response.raw_log)
            # A short-term order must be alone in its tx
            short = place(A, 2, BUY, Q, P - 100_000, gtb=node.height + 5)
            for extra in (transfer(A, 0, A, 1, USDC), update_leverage(A, [(0, 100_000)])):
                response = await client.broadcast(ALICE.sign_tx([short, extra], sequence=7))
                assert _codes(response) == ("sdk", 18)
            # None of the refused txs consumed the sequence
            ok = await client.broadcast(ALICE.sign_tx([transfer(A, 0, A, 1, USDC)], sequence=7))
            assert _codes(ok) == ("", 0), ok.raw_log

    run(scenario())


def test_pending_transfers_count_against_the_sender_balance() -> None:
    async def scenario() -> None:
        config = make_config(accounts=(
            AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7,
                          subaccounts={0: 50 * USDC}),
            AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2),
        ))
        async with running_node(config) as (node, client):
            first = await client.broadcast(ALICE.sign_tx([transfer(A, 0, B, 0, 30 * USDC)],
                                                         sequence=7))
            assert _codes(first) == ("", 0)
            second = await client.broadcast(ALICE.sign_tx([transfer(A, 0, A, 3, 30 * USDC)],
                                                          sequence=8))
            assert _codes(second) == ("subaccounts", 102)
            fits = await client.broadcast(ALICE.sign_tx([transfer(A, 0, A, 3, 20 * USDC)],
                                                        sequence=8))
            assert _codes(fits) == ("", 0)
            node.step_blocks(1)
            assert node.subaccount(A, 0)["usdc"] == 0
            assert node.subaccount(A, 3)["usdc"] == 20 * USDC
            # Another owner's subaccount can receive
            assert node.subaccount(B, 0)["usdc"] == 100_000 * USDC + 30 * USDC

    run(scenario())


def test_leverage_is_stored_queryable_and_raises_the_margin_requirement() -> None:
    async def scenario() -> None:
        config = make_config(accounts=(
            AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7,
                          subaccounts={0: 100 * USDC}),
            AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2,
                          subaccounts={0: 100 * USDC}),
        ))
        async with running_node(config) as (node, client):
            stub = clob_query_grpc.QueryStub(client.channel)
            gtbt = block_seconds(node) + 3600
            # Bob: 2x on BTC (50 % initial margin), sent with a stateful order in one tx
            response = await client.broadcast(BOB.sign_tx([
                update_leverage(B, [(0, 500_000), (1, 100_000)]),
                place(B, 9, BUY, Q, 1_000_000, gtbt=gtbt, flags=LONG_TERM),
            ], sequence=0))
            assert _codes(response) == ("", 0), response.raw_log
            before = await stub.Leverage(clob_query_pb2.QueryLeverageRequest(owner=B, number=0))
            assert not before.clob_pair_leverage
            node.step_blocks(1)
            stored = await stub.Leverage(clob_query_pb2.QueryLeverageRequest(owner=B, number=0))
            assert [(e.clob_pair_id, e.custom_imf_ppm) for e in stored.clob_pair_leverage] == [
                (0, 500_000), (1, 100_000),
            ]
            # 0.004 BTC at 65 000 = 260 USDC: 5 % needs 13 USDC, 50 % needs 130 > 100
            size = 40 * Q
            alice_ok = await client.broadcast(ALICE.sign_tx(
                [place(A, 1, BUY, size, P, gtbt=gtbt, flags=LONG_TERM)], sequence=7,
            ))
            assert _codes(alice_ok) == ("", 0), alice_ok.raw_log
            bob_refused = await client.broadcast(BOB.sign_tx(
                [place(B, 1, BUY, size, P, gtbt=gtbt, flags=LONG_TERM)], sequence=1,
            ))
            assert _codes(bob_refused) == ("clob", 3007)
            # 0.001 BTC = 65 USDC needs 32.5 at 50 %: accepted
            bob_small = await client.broadcast(BOB.sign_tx(
                [place(B, 2, BUY, 10 * Q, P, gtbt=gtbt, flags=LONG_TERM)], sequence=1,
            ))
            assert _codes(bob_small) == ("", 0), bob_small.raw_log
            # Matching applies it too: Bob's IOC for 0.004 BTC is dropped as undercollateralized
            node.step_blocks(1)
            maker = await client.broadcast(ALICE.sign_tx(
                [place(A, 5, SELL, size, P + 100_000, gtb=node.height + 5)],
            ))
            assert _codes(maker) == ("", 0), maker.raw_log
            taker = await client.broadcast(BOB.sign_tx(
                [place(B, 5, BUY, size, P + 100_000, gtb=node.height + 5, tif=IOC)],
            ))
            assert _codes(taker) == ("", 0)
            assert node.subaccount(B, 0)["positions"] == {}
            # A lower custom fraction later replaces the stored one (2x -> 10x)
            relax = await client.broadcast(BOB.sign_tx(
                [update_leverage(B, [(0, 100_000)])], sequence=2,
            ))
            assert _codes(relax) == ("", 0)
            node.step_blocks(1)
            stored = await stub.Leverage(clob_query_pb2.QueryLeverageRequest(owner=B, number=0))
            assert [(e.clob_pair_id, e.custom_imf_ppm) for e in stored.clob_pair_leverage] == [
                (0, 100_000), (1, 100_000),
            ]
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await stub.Leverage(clob_query_pb2.QueryLeverageRequest(owner="nope", number=0))
            assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    run(scenario())


def test_parent_views_hide_transfers_between_siblings() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, client):
            node = sandbox.node
            ws = await connect(sandbox)
            try:
                ws.subscribe("v4_parent_subaccounts", f"{A}/0")
                await ws.wait("subscribed")
                sibling = await client.broadcast(ALICE.sign_tx(
                    [transfer(A, 0, A, 128, 10 * USDC)], sequence=7,
                ))
                other_parent = await client.broadcast(ALICE.sign_tx(
                    [transfer(A, 0, A, 1, 5 * USDC)], sequence=8,
                ))
                assert _codes(sibling) == _codes(other_parent) == ("", 0)
                node.step_blocks(1)
                await wait_for(lambda: any(
                    "transfers" in f["contents"]
                    for f in ws.of("channel_data", "v4_parent_subaccounts")
                ))
                frames = ws.of("channel_data", "v4_parent_subaccounts")
                shown = [f["contents"]["transfers"] for f in frames if "transfers" in f["contents"]]
                assert [(t["type"], t["recipient"]["subaccountNumber"]) for t in shown] == [
                    ("TRANSFER_OUT", 1),
                ]
                # The sibling transfer still moved the balances, seen per child
                assert {f["subaccountNumber"] for f in frames} == {0, 128}
                parent = (await http.get("/transfers/parentSubaccountNumber", params={
                    "address": A, "parentSubaccountNumber": 0,
                })).json()["transfers"]
                assert [t["type"] for t in parent] == ["TRANSFER_OUT", "DEPOSIT"]
                child = (await http.get("/transfers", params={
                    "address": A, "subaccountNumber": 128,
                })).json()["transfers"]
                assert [t["type"] for t in child] == ["TRANSFER_IN"]
                bad = await http.get("/transfers/parentSubaccountNumber", params={
                    "address": A, "parentSubaccountNumber": 128,
                })
                assert bad.status_code == 400
            finally:
                close_transport(ws)

    run(scenario())
