# SPDX-License-Identifier: Apache-2.0
"""DYDXNodeClient typed queries: the sandbox node, plus an in-test servicer for newer queries."""

from __future__ import annotations

import asyncio
import hashlib

import grpc
import pytest

from nautilus_dydx._core.orders import MarketEncoder
from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2 as tm_query_pb2
from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2_grpc as tm_query_grpc
from nautilus_dydx._proto.dydxprotocol.blocktime import blocktime_pb2
from nautilus_dydx._proto.dydxprotocol.blocktime import query_pb2 as blocktime_query_pb2
from nautilus_dydx._proto.dydxprotocol.blocktime import query_pb2_grpc as blocktime_query_grpc
from nautilus_dydx._proto.dydxprotocol.clob import block_rate_limit_config_pb2 as rate_pb2
from nautilus_dydx._proto.dydxprotocol.clob import clob_pair_pb2
from nautilus_dydx._proto.dydxprotocol.clob import equity_tier_limit_config_pb2 as tier_pb2
from nautilus_dydx._proto.dydxprotocol.clob import order_pb2
from nautilus_dydx._proto.dydxprotocol.clob import query_pb2 as clob_query_pb2
from nautilus_dydx._proto.dydxprotocol.clob import query_pb2_grpc as clob_query_grpc
from nautilus_dydx._proto.google.protobuf import timestamp_pb2
from nautilus_dydx._proto.tendermint.p2p import types_pb2 as p2p_pb2
from nautilus_dydx.grpc import DYDXNodeClient
from nautilus_dydx.grpc import DYDXNodeError
from nautilus_dydx.grpc.types import EquityTier
from nautilus_dydx.grpc.types import RateLimit
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import CHAIN_ID
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.helpers import running_node


def run(coro, timeout: float = 30.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_sandbox_queries_are_typed() -> None:
    async def scenario() -> None:
        async with running_node() as (node, _):
            node.step_blocks(3)
            async with DYDXNodeClient([node.grpc_endpoint], timeout_secs=2.0) as rpc:
                assert rpc.endpoints == [node.grpc_endpoint]
                account = await rpc.get_account(K1_ADDRESS)
                assert (account.address, account.account_number, account.sequence) == (
                    K1_ADDRESS, 12345, 7,
                )
                with pytest.raises(DYDXNodeError) as missing:
                    await rpc.get_account("dydx1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a")
                assert missing.value.code == "NOT_FOUND"

                block = await rpc.get_latest_block()
                assert (block.height, block.time_ns, block.chain_id) == (
                    node.height, node.block_time_ns, CHAIN_ID,
                )

                tier = await rpc.get_user_fee_tier(K2_ADDRESS)
                expected = node.config.fee_tiers[0]
                assert (tier.index, tier.name, tier.maker_fee_ppm, tier.taker_fee_ppm) == (
                    0, expected.name, expected.maker_fee_ppm, expected.taker_fee_ppm,
                )

                gtbt = node.block_time_ns // 1_000_000_000 + 600
                tx = ALICE.sign_tx(
                    [place(K1_ADDRESS, 9, 1, 1_000_000, 3_000_000_000, gtbt=gtbt,
                           flags=LONG_TERM)],
                    sequence=7,
                )
                simulated = await rpc.simulate(tx)
                assert simulated.gas_used > 0
                assert await rpc.get_account(K1_ADDRESS) == account  # simulation changes nothing

                result = await rpc.broadcast_tx(tx)
                assert (result.code, result.codespace, result.raw_log) == (0, "", "")
                assert result.txhash == hashlib.sha256(tx).hexdigest().upper()
                assert await rpc.get_tx(result.txhash) is None  # not in a block yet
                node.step_blocks(1)
                included = await rpc.get_tx(result.txhash)
                assert included is not None
                assert (included.code, included.height) == (0, node.height)

                duplicate = await rpc.broadcast_tx(tx)
                assert (duplicate.code, duplicate.codespace) in ((19, "sdk"), (32, "sdk"))

    run(scenario())


class _NodeInfoQueries(tm_query_grpc.ServiceServicer):
    def __init__(self, version: str) -> None:
        self.version = version

    async def GetNodeInfo(self, request, context):  # noqa: N802
        return tm_query_pb2.GetNodeInfoResponse(
            default_node_info=p2p_pb2.DefaultNodeInfo(network="dydx-testnet-4"),
            application_version=tm_query_pb2.VersionInfo(app_name="dydxprotocold",
                                                         version=self.version),
        )


class _ClobQueries(clob_query_grpc.QueryServicer):
    def __init__(self) -> None:
        self.stateful: dict[bytes, clob_query_pb2.QueryStatefulOrderResponse] = {}

    async def ClobPair(self, request, context):  # noqa: N802
        if request.id != 1:
            await context.abort(grpc.StatusCode.NOT_FOUND, "not found")
        return clob_query_pb2.QueryClobPairResponse(
            clob_pair=clob_pair_pb2.ClobPair(
                id=1,
                perpetual_clob_metadata=clob_pair_pb2.PerpetualClobMetadata(perpetual_id=1),
                step_base_quantums=1_000_000,
                subticks_per_tick=100_000,
                quantum_conversion_exponent=-9,
                status=clob_pair_pb2.ClobPair.Status.STATUS_ACTIVE,
            ),
        )

    async def EquityTierLimitConfiguration(self, request, context):  # noqa: N802
        return clob_query_pb2.QueryEquityTierLimitConfigurationResponse(
            equity_tier_limit_config=tier_pb2.EquityTierLimitConfiguration(
                stateful_order_equity_tiers=[
                    tier_pb2.EquityTierLimit(usd_tnc_required=b"\x02", limit=0),
                    # 20 USDC = 20 000 000 quote quantums = 0x01312D00
                    tier_pb2.EquityTierLimit(usd_tnc_required=b"\x02\x01\x31\x2d\x00", limit=10),
                ],
            ),
        )

    async def BlockRateLimitConfiguration(self, request, context):  # noqa: N802
        return clob_query_pb2.QueryBlockRateLimitConfigurationResponse(
            block_rate_limit_config=rate_pb2.BlockRateLimitConfiguration(
                max_stateful_orders_per_n_blocks=[
                    rate_pb2.MaxPerNBlocksRateLimit(num_blocks=1, limit=2),
                    rate_pb2.MaxPerNBlocksRateLimit(num_blocks=100, limit=20),
                ],
                max_short_term_orders_and_cancels_per_n_blocks=[
                    rate_pb2.MaxPerNBlocksRateLimit(num_blocks=5, limit=2000),
                ],
            ),
        )

    async def StatefulOrder(self, request, context):  # noqa: N802
        found = self.stateful.get(request.order_id.SerializeToString())
        if found is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "order not found")
        return found


class _BlockTimeQueries(blocktime_query_grpc.QueryServicer):
    async def PreviousBlockInfo(self, request, context):  # noqa: N802
        return blocktime_query_pb2.QueryPreviousBlockInfoResponse(
            info=blocktime_pb2.BlockInfo(
                height=41, timestamp=timestamp_pb2.Timestamp(seconds=1_767_225_600, nanos=5),
            ),
        )


async def _start_servicer(version: str) -> tuple[grpc.aio.Server, str, _ClobQueries]:
    server = grpc.aio.server()
    clob = _ClobQueries()
    tm_query_grpc.add_ServiceServicer_to_server(_NodeInfoQueries(version), server)
    clob_query_grpc.add_QueryServicer_to_server(clob, server)
    blocktime_query_grpc.add_QueryServicer_to_server(_BlockTimeQueries(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}", clob


@pytest.mark.parametrize(("version", "window"), [("v9.1.0", 40), ("8.2.3", 20), ("dev", 20)])
def test_node_info_gives_chain_id_and_short_block_window(version: str, window: int) -> None:
    async def scenario() -> None:
        server, endpoint, _ = await _start_servicer(version)
        try:
            async with DYDXNodeClient([endpoint]) as rpc:
                info = await rpc.get_node_info()
                assert (info.chain_id, info.app_version) == ("dydx-testnet-4", version)
                assert info.short_block_window == window
        finally:
            await server.stop(None)

    run(scenario())


def test_clob_governance_and_stateful_order_queries() -> None:
    async def scenario() -> None:
        server, endpoint, clob = await _start_servicer("v9.0.0")
        encoder = MarketEncoder(K1_ADDRESS, 0, 1, -9, -9, 1_000_000, 100_000)
        order_id = encoder.encode_order_id(42, LONG_TERM)
        order = order_pb2.Order(
            order_id=order_pb2.OrderId.FromString(order_id), side=1, quantums=2_000_000,
            subticks=300_000_000, good_til_block_time=1_767_230_000,
        )
        clob.stateful[order_id] = clob_query_pb2.QueryStatefulOrderResponse(
            order_placement=order_pb2.LongTermOrderPlacement(
                order=order, placement_index=order_pb2.TransactionOrdering(block_height=77),
            ),
            fill_amount=1_000_000,
            triggered=False,
        )
        try:
            async with DYDXNodeClient([endpoint]) as rpc:
                pair = await rpc.get_clob_pair(1)
                assert (pair.id, pair.perpetual_id, pair.step_base_quantums) == (1, 1, 1_000_000)
                assert (pair.subticks_per_tick, pair.quantum_conversion_exponent) == (100_000, -9)
                assert pair.status == "ACTIVE"
                with pytest.raises(DYDXNodeError):
                    await rpc.get_clob_pair(9)

                assert await rpc.get_equity_tier_limits() == (
                    EquityTier(0, 0), EquityTier(20_000_000, 10),
                )
                limits = await rpc.get_block_rate_limits()
                assert limits.stateful_orders == (RateLimit(1, 2), RateLimit(100, 20))
                assert limits.short_term_orders_and_cancels == (RateLimit(5, 2000),)

                stored = await rpc.get_stateful_order(order_id)
                assert stored is not None
                assert order_pb2.Order.FromString(stored.order) == order
                assert (stored.placement_height, stored.fill_amount, stored.triggered) == (
                    77, 1_000_000, False,
                )
                assert await rpc.get_stateful_order(encoder.encode_order_id(43, LONG_TERM)) is None

                assert await rpc.get_previous_block_time_ns() == 1_767_225_600_000_000_005
        finally:
            await server.stop(None)

    run(scenario())
