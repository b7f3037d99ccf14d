# SPDX-License-Identifier: Apache-2.0
"""Query services of the sandbox node over gRPC, each checked against the behaviour it reports."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from nautilus_dydx._proto.cosmos.bank.v1beta1 import query_pb2 as bank_query_pb2
from nautilus_dydx._proto.cosmos.bank.v1beta1 import query_pb2_grpc as bank_query_grpc
from nautilus_dydx._proto.cosmos.base.query.v1beta1 import pagination_pb2
from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2 as tm_query_pb2
from nautilus_dydx._proto.dydxprotocol.blocktime import query_pb2 as blocktime_query_pb2
from nautilus_dydx._proto.dydxprotocol.blocktime import query_pb2_grpc as blocktime_query_grpc
from nautilus_dydx._proto.dydxprotocol.clob import query_pb2 as clob_query_pb2
from nautilus_dydx._proto.dydxprotocol.clob import query_pb2_grpc as clob_query_grpc
from nautilus_dydx._proto.dydxprotocol.subaccounts import query_pb2 as sub_query_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import query_pb2_grpc as sub_query_grpc
from nautilus_dydx.sandbox import AccountConfig
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import CONDITIONAL
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_MNEMONIC
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import K2_PRIVATE_KEY
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import block_seconds
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.helpers import order_id
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.helpers import running_node
from tests.integration.sandbox.surface_helpers import decode_serializable_int


A = K1_ADDRESS
B = K2_ADDRESS
Q = 1_000_000  # One BTC step (0.0001 BTC)
P = 6_500_000_000  # 65 000 USD in BTC subticks
USDC_DENOM = "ibc/8E27BA2D5493AF5636760E354E46004562C46AB7EC0CC4C1CA14E9E20E2545B5"


def test_node_info_reports_chain_id_and_version_matching_the_enforced_window() -> None:
    async def scenario(window: int, expected_major: int) -> None:
        async with running_node(make_config(short_block_window=window)) as (node, client):
            info = await client.tm.GetNodeInfo(tm_query_pb2.GetNodeInfoRequest())
            assert info.default_node_info.network == "dydx-sandbox-test"
            version = info.application_version.version
            assert int(version.split(".")[0]) == expected_major
            # The window the version implies is the one CheckTx enforces
            height = node.height
            implied = 40 if expected_major >= 9 else 20
            ok = await client.broadcast(ALICE.sign_tx(
                [place(A, 1, BUY, Q, P - 100_000, gtb=height + 1 + implied)],
            ))
            assert ok.code == 0, ok.raw_log
            too_far = await client.broadcast(ALICE.sign_tx(
                [place(A, 2, BUY, Q, P - 100_000, gtb=height + 2 + implied)],
            ))
            assert (too_far.codespace, too_far.code) == ("clob", 11)

    asyncio.run(scenario(20, 8))
    asyncio.run(scenario(40, 9))


def test_previous_block_info_follows_committed_blocks() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            stub = blocktime_query_grpc.QueryStub(client.channel)
            request = blocktime_query_pb2.QueryPreviousBlockInfoRequest()
            first = await stub.PreviousBlockInfo(request)
            latest = await client.tm.GetLatestBlock(tm_query_pb2.GetLatestBlockRequest())
            assert first.info.height == latest.block.header.height == 1
            assert first.info.timestamp == latest.block.header.time
            node.step_blocks(3)
            later = await stub.PreviousBlockInfo(request)
            assert later.info.height == 4
            # make_config uses 100 ms blocks
            elapsed_ns = (
                (later.info.timestamp.seconds - first.info.timestamp.seconds) * 10**9
                + later.info.timestamp.nanos - first.info.timestamp.nanos
            )
            assert elapsed_ns == 300_000_000
            # GTBT is judged against this time: equal is refused, one second later accepted
            seconds = later.info.timestamp.seconds
            stale = await client.broadcast(ALICE.sign_tx(
                [place(A, 9, BUY, Q, P - 100_000, gtbt=seconds, flags=LONG_TERM)], sequence=7,
            ))
            assert (stale.codespace, stale.code) == ("clob", 3003)
            fresh = await client.broadcast(ALICE.sign_tx(
                [place(A, 9, BUY, Q, P - 100_000, gtbt=seconds + 1, flags=LONG_TERM)],
                sequence=7,
            ))
            assert fresh.code == 0, fresh.raw_log

    asyncio.run(scenario())


def test_clob_pairs_mirror_market_config_and_status() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            stub = clob_query_grpc.QueryStub(client.channel)
            btc = (await stub.ClobPair(clob_query_pb2.QueryGetClobPairRequest(id=0))).clob_pair
            assert btc.id == 0
            assert btc.perpetual_clob_metadata.perpetual_id == 0
            assert btc.step_base_quantums == 1_000_000
            assert btc.subticks_per_tick == 100_000
            assert btc.quantum_conversion_exponent == -9
            assert btc.status == btc.STATUS_ACTIVE
            node.set_market_status("BTC-USD", "CANCEL_ONLY")
            btc = (await stub.ClobPair(clob_query_pb2.QueryGetClobPairRequest(id=0))).clob_pair
            assert btc.status == btc.STATUS_CANCEL_ONLY
            refused = await client.broadcast(ALICE.sign_tx(
                [place(A, 1, BUY, Q, P, gtb=node.height + 5)],
            ))
            assert (refused.codespace, refused.code) == ("clob", 34)
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await stub.ClobPair(clob_query_pb2.QueryGetClobPairRequest(id=99))
            assert e.value.code() == grpc.StatusCode.NOT_FOUND
            every = await stub.ClobPairAll(clob_query_pb2.QueryAllClobPairRequest())
            assert [p.id for p in every.clob_pair] == [0, 1, 5, 6]
            first = await stub.ClobPairAll(clob_query_pb2.QueryAllClobPairRequest(
                pagination=pagination_pb2.PageRequest(limit=3, count_total=True),
            ))
            assert [p.id for p in first.clob_pair] == [0, 1, 5]
            assert first.pagination.total == 4
            rest = await stub.ClobPairAll(clob_query_pb2.QueryAllClobPairRequest(
                pagination=pagination_pb2.PageRequest(key=first.pagination.next_key, limit=3),
            ))
            assert [p.id for p in rest.clob_pair] == [6]
            assert rest.pagination.next_key == b""

    asyncio.run(scenario())


def test_equity_tier_limit_reported_is_the_one_enforced() -> None:
    async def scenario() -> None:
        config = make_config(accounts=(
            AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7),
            AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2,
                          subaccounts={0: 25_000_000}),
        ))
        async with running_node(config) as (node, client):
            stub = clob_query_grpc.QueryStub(client.channel)
            response = await stub.EquityTierLimitConfiguration(
                clob_query_pb2.QueryEquityTierLimitConfigurationRequest(),
            )
            tiers = [
                (decode_serializable_int(t.usd_tnc_required), t.limit)
                for t in response.equity_tier_limit_config.stateful_order_equity_tiers
            ]
            assert tiers[:3] == [(0, 0), (20_000_000, 10), (100_000_000, 20)]
            assert not response.equity_tier_limit_config.short_term_order_equity_tiers
            # Bob holds $25: the applicable tier is the last one whose requirement he meets
            limit = [lim for required, lim in tiers if required <= 25_000_000][-1]
            gtbt = block_seconds(node) + 3600
            codes = []
            for i in range(limit + 1):
                tx = BOB.sign_tx(
                    [place(B, 100 + i, BUY, Q, 1_000_000, gtbt=gtbt, flags=LONG_TERM)],
                    sequence=i,
                )
                codes.append((await client.broadcast(tx)).code)
            assert codes == [0] * limit + [10001]

    asyncio.run(scenario())


def test_block_rate_limit_reported_is_the_one_enforced() -> None:
    async def scenario() -> None:
        async with running_node(make_config(stateful_rate_limits=((1, 2), (100, 20)))) as (
            node, client,
        ):
            stub = clob_query_grpc.QueryStub(client.channel)
            config = (await stub.BlockRateLimitConfiguration(
                clob_query_pb2.QueryBlockRateLimitConfigurationRequest(),
            )).block_rate_limit_config
            stateful = [(r.num_blocks, r.limit) for r in config.max_stateful_orders_per_n_blocks]
            assert stateful == [(1, 2), (100, 20)]
            short = [
                (r.num_blocks, r.limit)
                for r in config.max_short_term_orders_and_cancels_per_n_blocks
            ]
            assert short == [(5, 2000)]
            per_block = stateful[0][1]
            gtbt = block_seconds(node) + 3600
            codes = []
            for i in range(per_block + 1):
                tx = ALICE.sign_tx(
                    [place(A, 200 + i, BUY, Q, P - 100_000, gtbt=gtbt, flags=LONG_TERM)],
                    sequence=7 + i,
                )
                codes.append((await client.broadcast(tx)).code)
            assert codes == [0] * per_block + [5001]

    asyncio.run(scenario())


def test_stateful_order_query_tracks_placement_fills_and_triggering() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            stub = clob_query_grpc.QueryStub(client.channel)
            gtbt = block_seconds(node) + 3600
            url, msg = place(A, 7, SELL, 5 * Q, P, gtbt=gtbt, flags=LONG_TERM)
            request = clob_query_pb2.QueryStatefulOrderRequest(
                order_id=order_id(A, 7, flags=LONG_TERM),
            )
            assert (await client.broadcast(ALICE.sign_tx([(url, msg)], sequence=7))).code == 0
            # Not in state until the block that includes the tx
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await stub.StatefulOrder(request)
            assert e.value.code() == grpc.StatusCode.NOT_FOUND
            node.step_blocks(1)
            found = await stub.StatefulOrder(request)
            assert found.order_placement.order == msg.order
            assert found.order_placement.placement_index.block_height == node.height
            assert found.order_placement.placement_index.transaction_index == 0
            assert (found.fill_amount, found.triggered) == (0, False)
            taker = BOB.sign_tx([place(B, 1, BUY, 2 * Q, P, gtb=node.height + 5, tif=IOC)])
            assert (await client.broadcast(taker)).code == 0
            partially = await stub.StatefulOrder(request)
            assert partially.fill_amount == 2 * Q
            # Conditional: untriggered, then triggered once the oracle crosses
            trigger = 6_600_000_000
            conditional = place(A, 8, BUY, Q, 6_700_000_000, gtbt=gtbt, flags=CONDITIONAL,
                                condition_type=1, trigger=trigger)
            assert (await client.broadcast(ALICE.sign_tx([conditional], sequence=8))).code == 0
            node.step_blocks(1)
            conditional_request = clob_query_pb2.QueryStatefulOrderRequest(
                order_id=order_id(A, 8, flags=CONDITIONAL),
            )
            untriggered = await stub.StatefulOrder(conditional_request)
            assert untriggered.triggered is False
            node.set_oracle_price("BTC-USD", "66500")
            node.step_blocks(2)
            triggered = await stub.StatefulOrder(conditional_request)
            assert triggered.triggered is True
            assert triggered.order_placement.order.conditional_order_trigger_subticks == trigger

    asyncio.run(scenario())


def test_subaccount_queries_encode_positions_and_balances() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            stub = sub_query_grpc.QueryStub(client.channel)
            maker = ALICE.sign_tx([place(A, 1, SELL, 3 * Q, P, gtb=node.height + 5)])
            taker = BOB.sign_tx([place(B, 1, BUY, 3 * Q, P, gtb=node.height + 5, tif=IOC)])
            assert (await client.broadcast(maker)).code == 0
            assert (await client.broadcast(taker)).code == 0
            for address, sign in ((A, -1), (B, 1)):
                response = await stub.Subaccount(
                    sub_query_pb2.QueryGetSubaccountRequest(owner=address, number=0),
                )
                sub = response.subaccount
                assert (sub.id.owner, sub.id.number, sub.margin_enabled) == (address, 0, True)
                expected = node.subaccount(address, 0)
                assert [p.asset_id for p in sub.asset_positions] == [0]
                assert decode_serializable_int(sub.asset_positions[0].quantums) == expected["usdc"]
                assert [p.perpetual_id for p in sub.perpetual_positions] == [0]
                size = decode_serializable_int(sub.perpetual_positions[0].quantums)
                assert size == sign * 3 * Q
            # 0.0003 BTC at 65 000 = 19.5 USDC notional; Bob paid it plus the 5 bp taker fee
            bob = node.subaccount(B, 0)
            assert bob["usdc"] == 100_000_000_000 - 19_500_000 - 9_750
            empty = await stub.Subaccount(
                sub_query_pb2.QueryGetSubaccountRequest(owner=A, number=7),
            )
            assert not empty.subaccount.asset_positions
            assert not empty.subaccount.perpetual_positions
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await stub.Subaccount(sub_query_pb2.QueryGetSubaccountRequest(owner="x", number=0))
            assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            every = await stub.SubaccountAll(sub_query_pb2.QueryAllSubaccountRequest())
            ids = [(s.id.owner, s.id.number) for s in every.subaccount]
            assert ids == sorted([(A, 0), (B, 0)])

    asyncio.run(scenario())


def test_bank_balances_come_from_the_account_wallet() -> None:
    async def scenario() -> None:
        config = make_config(accounts=(
            AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7,
                          wallet={USDC_DENOM: 5_000_000, "adv4tnt": 10**18}),
            AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2),
        ))
        async with running_node(config) as (node, client):
            stub = bank_query_grpc.QueryStub(client.channel)
            balance = await stub.Balance(
                bank_query_pb2.QueryBalanceRequest(address=A, denom=USDC_DENOM),
            )
            assert (balance.balance.denom, balance.balance.amount) == (USDC_DENOM, "5000000")
            missing = await stub.Balance(
                bank_query_pb2.QueryBalanceRequest(address=B, denom=USDC_DENOM),
            )
            assert missing.balance.amount == "0"
            every = await stub.AllBalances(bank_query_pb2.QueryAllBalancesRequest(address=A))
            assert [(c.denom, c.amount) for c in every.balances] == [
                ("adv4tnt", str(10**18)), (USDC_DENOM, "5000000"),
            ]
            assert not (await stub.AllBalances(
                bank_query_pb2.QueryAllBalancesRequest(address=B),
            )).balances
            for bad in (
                stub.Balance(bank_query_pb2.QueryBalanceRequest(address="dydx1bad", denom="x")),
                stub.Balance(bank_query_pb2.QueryBalanceRequest(address=A, denom="")),
                stub.AllBalances(bank_query_pb2.QueryAllBalancesRequest(address="cosmos1x")),
            ):
                with pytest.raises(grpc.aio.AioRpcError) as e:
                    await bad
                assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    asyncio.run(scenario())


def test_stateful_order_query_rejects_short_term_and_unknown_ids() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            stub = clob_query_grpc.QueryStub(client.channel)
            short = ALICE.sign_tx([place(A, 3, BUY, Q, P - 100_000, gtb=node.height + 5)])
            assert (await client.broadcast(short)).code == 0
            for oid in (order_id(A, 3), order_id(A, 4, flags=LONG_TERM)):
                with pytest.raises(grpc.aio.AioRpcError) as e:
                    await stub.StatefulOrder(clob_query_pb2.QueryStatefulOrderRequest(
                        order_id=oid,
                    ))
                assert e.value.code() == grpc.StatusCode.NOT_FOUND

    asyncio.run(scenario())
