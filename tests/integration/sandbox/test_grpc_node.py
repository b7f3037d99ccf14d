# SPDX-License-Identifier: Apache-2.0
"""gRPC surface of the sandbox node: broadcast, accounts, blocks, GetTx, Simulate, fee tiers."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from nautilus_dydx._proto.cosmos.tx.v1beta1 import service_pb2
from nautilus_dydx._proto.dydxprotocol.feetiers import query_pb2 as fee_query_pb2
from nautilus_dydx._proto.dydxprotocol.feetiers import query_pb2_grpc as fee_query_grpc
from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2 as tm_query_pb2
from nautilus_dydx.sandbox import SandboxConfig
from nautilus_dydx.sandbox import SandboxNode
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import GENESIS_NS
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import block_seconds
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.helpers import running_node


# §9.3 of the protocol reference: the complete signed transaction and its hash
VECTOR_TX = bytes.fromhex(
    "0a700a6e0a202f6479647870726f746f636f6c2e636c6f622e4d7367506c6163654f72646572124a0a480a340a2d"
    "0a2b6479647831776c646e79746b65727a73333972733238646a6e30703976767165723278326b357838686a7915"
    "15cd5b07100118c0a9d33a20809e85b0182894e1eb1712580a500a460a1f2f636f736d6f732e63727970746f2e73"
    "6563703235366b312e5075624b657912230a210291d1d9fd23334f3d53c3a5b50b56317d8964692320d73d22d7a0"
    "b115d5eb574f12040a0208011807120410c0843d1a40e295324d8b55da4a0d6183680a2ec068a242c5c208f431e4"
    "9dc33e728184e6ac14e8b3e7aea10ddb17d767bc0b1e18c6a99708b49b625d5a0aff373b54d515d3"
)
VECTOR_HASH = "67D2AB4E7C3E37305A8814B25A38B33D4F8E51A4410F4F04F49AA51F9E9E38FE"


def test_reference_vector_transaction_is_accepted_with_its_hash() -> None:
    async def scenario() -> None:
        config = make_config(chain_id="dydx-testnet-4", genesis_height=50_000_000)
        async with running_node(config) as (node, client):
            response = await client.broadcast(VECTOR_TX)
            assert (response.code, response.codespace, response.txhash) == (0, "", VECTOR_HASH)
            again = await client.broadcast(VECTOR_TX)
            assert (again.codespace, again.code) == ("sdk", 19)
            # Short-term txs are never included in blocks
            node.step_blocks(1)
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await client.tx.GetTx(service_pb2.GetTxRequest(hash=VECTOR_HASH))
            assert e.value.code() == grpc.StatusCode.NOT_FOUND

    asyncio.run(scenario())


def test_account_query_latest_block_and_fee_tiers() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            account = await client.account(K1_ADDRESS)
            assert (account.address, account.account_number, account.sequence) == (
                K1_ADDRESS, 12345, 7,
            )
            assert not account.HasField("pub_key")
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await client.account("dydx1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a")
            assert e.value.code() == grpc.StatusCode.NOT_FOUND
            block = await client.tm.GetLatestBlock(tm_query_pb2.GetLatestBlockRequest())
            assert block.block.header.height == node.height == 1
            assert block.sdk_block.header.height == 1
            assert block.block.header.chain_id == "dydx-sandbox-test"
            assert block.block.header.time.seconds == 1_767_225_600
            node.step_blocks(3)
            block = await client.tm.GetLatestBlock(tm_query_pb2.GetLatestBlockRequest())
            assert block.block.header.height == 4
            assert block.sdk_block.header.time.nanos == 300_000_000
            fees = fee_query_grpc.QueryStub(client.channel)
            params = await fees.PerpetualFeeParams(
                fee_query_pb2.QueryPerpetualFeeParamsRequest(),
            )
            assert [t.taker_fee_ppm for t in params.params.tiers][:2] == [500, 400]
            tier = await fees.UserFeeTier(fee_query_pb2.QueryUserFeeTierRequest(user=K1_ADDRESS))
            assert (tier.index, tier.tier.maker_fee_ppm) == (0, 100)

    asyncio.run(scenario())


def test_stateful_tx_sets_pubkey_is_included_and_found_by_get_tx() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            gtbt = block_seconds(node) + 3600
            tx = ALICE.sign_tx(
                [place(K1_ADDRESS, 1, BUY, 1_000_000, 6_000_000_000, gtbt=gtbt, flags=LONG_TERM)],
                sequence=7,
            )
            simulated = await client.tx.Simulate(service_pb2.SimulateRequest(tx_bytes=tx))
            assert simulated.gas_info.gas_used > 0
            response = await client.broadcast(tx)
            assert response.code == 0, response.raw_log
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await client.tx.GetTx(service_pb2.GetTxRequest(hash=response.txhash))
            assert e.value.code() == grpc.StatusCode.NOT_FOUND
            # Simulate of the same tx now fails: the CheckTx sequence moved to 8
            with pytest.raises(grpc.aio.AioRpcError):
                await client.tx.Simulate(service_pb2.SimulateRequest(tx_bytes=tx))
            node.step_blocks(1)
            found = await client.tx.GetTx(service_pb2.GetTxRequest(hash=response.txhash))
            assert found.tx_response.height == 2
            assert found.tx_response.txhash == response.txhash
            assert found.tx.body.messages[0].type_url == "/dydxprotocol.clob.MsgPlaceOrder"
            account = await client.account(K1_ADDRESS)
            assert account.sequence == 8
            assert account.pub_key.type_url == "/cosmos.crypto.secp256k1.PubKey"
            block = await client.tm.GetLatestBlock(tm_query_pb2.GetLatestBlockRequest())
            assert list(block.block.data.txs) == [tx]

    asyncio.run(scenario())


def test_wrong_sequence_gives_32_then_right_sequence_succeeds() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            gtbt = block_seconds(node) + 3600
            msg = place(K1_ADDRESS, 5, BUY, 1_000_000, 6_000_000_000, gtbt=gtbt, flags=LONG_TERM)
            wrong = await client.broadcast(ALICE.sign_tx([msg], sequence=3))
            assert (wrong.codespace, wrong.code) == ("sdk", 32)
            assert wrong.raw_log == (
                "account sequence mismatch, expected 7, got 3: incorrect account sequence"
            )
            right = await client.broadcast(ALICE.sign_tx([msg], sequence=7))
            assert (right.codespace, right.code) == ("", 0)
            # Consecutive txs to the same node use n, n+1 before the block
            msg2 = place(K1_ADDRESS, 6, BUY, 1_000_000, 6_000_000_000, gtbt=gtbt, flags=LONG_TERM)
            stale = await client.broadcast(ALICE.sign_tx([msg2], sequence=7))
            assert stale.code == 32
            assert "expected 8, got 7" in stale.raw_log
            ok = await client.broadcast(ALICE.sign_tx([msg2], sequence=8))
            assert ok.code == 0
            # Short-term txs skip the check entirely
            short = place(K1_ADDRESS, 7, BUY, 1_000_000, 6_000_000_000, gtb=node.height + 5)
            any_seq = await client.broadcast(ALICE.sign_tx([short], sequence=999))
            assert any_seq.code == 0
            node.step_blocks(1)
            assert (await client.account(K1_ADDRESS)).sequence == 9
            # Bob's first stateful tx uses sequence 0
            bob_msg = place(BOB.address, 1, BUY, 1_000_000, 6_000_000_000, gtbt=gtbt + 5,
                            flags=LONG_TERM)
            assert (await client.broadcast(BOB.sign_tx([bob_msg], sequence=0))).code == 0

    asyncio.run(scenario())


def test_node_binds_loopback_only_and_blocks_advance_by_configured_time() -> None:
    async def scenario() -> None:
        node = SandboxNode(SandboxConfig(block_time_ms=50, genesis_time_ns=GENESIS_NS))
        await node.start()
        try:
            assert node.grpc_endpoint.startswith("127.0.0.1:")
            await asyncio.sleep(0.3)
            assert node.height > 1
            # A fixed genesis: block time advances by the configured interval, not the wall clock
            assert node.block_time_ns == GENESIS_NS + (node.height - 1) * 50_000_000
            node.pause()
            paused_at = node.height
            await asyncio.sleep(0.15)
            assert node.height == paused_at
            assert node.step_blocks(2) == paused_at + 2
        finally:
            await node.stop()

    # Start-up time is measured in benchmarks/test_perf_sandbox.py, not asserted here
    asyncio.run(scenario())
    with pytest.raises(ValueError):
        SandboxNode(SandboxConfig(host="0.0.0.0"))


def test_subscribe_and_unsubscribe_events() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            received = []
            unsubscribe = node.subscribe(received.append)
            node.step_blocks(2)
            node.set_oracle_price("ETH-USD", "3100.5")
            unsubscribe()
            node.step_blocks(1)
            assert [type(e).__name__ for e in received] == [
                "BlockEvent", "BlockEvent", "OraclePriceEvent",
            ]
            assert [e.height for e in received] == [2, 3, 3]
            assert received[2].subticks == 3_100_500_000
            assert received[0].seq < received[1].seq < received[2].seq
            replayed = []
            node.subscribe(replayed.append, replay=True)
            deposits = [e for e in replayed if type(e).__name__ == "BalanceEvent"]
            assert [(e.owner, e.quantums, e.reason, e.height) for e in deposits] == [
                (K1_ADDRESS, 100_000_000_000, "DEPOSIT", 1),
                (BOB.address, 100_000_000_000, "DEPOSIT", 1),
            ]
            assert node.subaccount(K1_ADDRESS) == {"usdc": 100_000_000_000, "positions": {}}
            assert node.subaccount(K1_ADDRESS, 3) is None
            assert node.orderbook("BTC-USD") == ([], [])

    asyncio.run(scenario())


def test_timestamp_nonces_bypass_the_numeric_sequence() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            now_ms = node.block_time_ns // 1_000_000
            gtbt = block_seconds(node) + 3600

            def order(cid: int):
                return place(K1_ADDRESS, cid, BUY, 1_000_000, 6_000_000_000, gtbt=gtbt,
                             flags=LONG_TERM)

            first = await client.broadcast(ALICE.sign_tx([order(1)], sequence=now_ms + 5))
            assert first.code == 0, first.raw_log
            reused = await client.broadcast(ALICE.sign_tx([order(2)], sequence=now_ms + 5))
            assert (reused.codespace, reused.code) == ("sdk", 32)
            assert "rejected" in reused.raw_log
            late = await client.broadcast(ALICE.sign_tx([order(3)], sequence=now_ms + 30_001))
            assert late.code == 32
            assert "not within valid time window" in late.raw_log
            # Nonces need not be increasing while fewer than 20 are held
            earlier = await client.broadcast(ALICE.sign_tx([order(4)], sequence=now_ms - 1000))
            assert earlier.code == 0, earlier.raw_log
            numeric = await client.broadcast(ALICE.sign_tx([order(5)], sequence=7))
            assert numeric.code == 0, numeric.raw_log
            node.step_blocks(1)
            assert (await client.account(K1_ADDRESS)).sequence == 8

    asyncio.run(scenario())


def test_unsupported_broadcast_modes_are_refused() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            for mode in (0, 1):
                with pytest.raises(grpc.aio.AioRpcError) as e:
                    await client.tx.BroadcastTx(
                        service_pb2.BroadcastTxRequest(tx_bytes=VECTOR_TX, mode=mode),
                    )
                assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    asyncio.run(scenario())
