# SPDX-License-Identifier: Apache-2.0
"""gRPC query services of the sandbox node: node info, block time, CLOB, subaccounts and bank."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import grpc

from nautilus_dydx._proto.cosmos.bank.v1beta1 import query_pb2 as bank_query_pb2
from nautilus_dydx._proto.cosmos.bank.v1beta1 import query_pb2_grpc as bank_query_grpc
from nautilus_dydx._proto.cosmos.base.query.v1beta1 import pagination_pb2
from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2 as tm_query_pb2
from nautilus_dydx._proto.cosmos.base.v1beta1 import coin_pb2
from nautilus_dydx._proto.dydxprotocol.blocktime import blocktime_pb2
from nautilus_dydx._proto.dydxprotocol.blocktime import query_pb2 as blocktime_query_pb2
from nautilus_dydx._proto.dydxprotocol.blocktime import query_pb2_grpc as blocktime_query_grpc
from nautilus_dydx._proto.dydxprotocol.clob import block_rate_limit_config_pb2 as rate_pb2
from nautilus_dydx._proto.dydxprotocol.clob import clob_pair_pb2
from nautilus_dydx._proto.dydxprotocol.clob import equity_tier_limit_config_pb2 as tier_pb2
from nautilus_dydx._proto.dydxprotocol.clob import order_pb2
from nautilus_dydx._proto.dydxprotocol.clob import query_pb2 as clob_query_pb2
from nautilus_dydx._proto.dydxprotocol.clob import query_pb2_grpc as clob_query_grpc
from nautilus_dydx._proto.dydxprotocol.subaccounts import asset_position_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import perpetual_position_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import query_pb2 as sub_query_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import query_pb2_grpc as sub_query_grpc
from nautilus_dydx._proto.dydxprotocol.subaccounts import subaccount_pb2
from nautilus_dydx._proto.google.protobuf import timestamp_pb2
from nautilus_dydx._proto.tendermint.p2p import types_pb2 as p2p_pb2
from nautilus_dydx.sandbox import accountplus
from nautilus_dydx.sandbox.chain import STATUSES
from nautilus_dydx.sandbox.engine import Subaccount
from nautilus_dydx.sandbox.keys import is_valid_address


if TYPE_CHECKING:
    from nautilus_dydx.sandbox.chain import Market
    from nautilus_dydx.sandbox.node import SandboxNode


# Application versions reported by GetNodeInfo: ShortBlockWindow is 40 from protocol v9, 20 before
APP_VERSION_WINDOW_40 = "9.6.1"
APP_VERSION_WINDOW_20 = "8.2.3"
COMETBFT_VERSION = "0.38.17"
COSMOS_SDK_VERSION = "v0.50.13"
MAX_PAGE = 1000


def app_version(short_block_window: int) -> str:
    """
    Return the dYdX protocol version whose ShortBlockWindow matches `short_block_window`.

    The sandbox reports "9.6.1" when it enforces a window of 40 blocks or more (protocol v9) and
    "8.2.3" otherwise (every release before v9 used 20).

    Parameters
    ----------
    short_block_window : int
        The window the node enforces.

    Returns
    -------
    str

    """
    return APP_VERSION_WINDOW_40 if short_block_window >= 40 else APP_VERSION_WINDOW_20


def serializable_int(value: int) -> bytes:
    """
    Return `value` encoded as the chain's SerializableInt (Go `big.Int` gob encoding).

    The first byte is 0x02 for zero or positive values and 0x03 for negative ones, followed by
    the big-endian magnitude without leading zeros.

    Parameters
    ----------
    value : int
        The integer.

    Returns
    -------
    bytes

    """
    magnitude = abs(value)
    body = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big") if magnitude else b""
    return bytes([0x03 if value < 0 else 0x02]) + body


def _timestamp(time_ns: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=time_ns // 1_000_000_000, nanos=time_ns % 1_000_000_000)


def _page(items: list, page: pagination_pb2.PageRequest | None) -> tuple[list, object]:
    # Offset/limit paging; next_key carries the next offset as decimal text
    start = 0
    limit = MAX_PAGE
    count_total = False
    if page is not None:
        if page.key:
            try:
                start = int(page.key.decode())
            except (UnicodeDecodeError, ValueError):
                start = len(items)
        else:
            start = page.offset
        if page.limit:
            limit = min(page.limit, MAX_PAGE)
        count_total = page.count_total
    chosen = items[start: start + limit]
    response = pagination_pb2.PageResponse(total=len(items) if count_total else 0)
    if start + limit < len(items):
        response.next_key = str(start + limit).encode()
    return chosen, response


def node_info_response(node: SandboxNode) -> tm_query_pb2.GetNodeInfoResponse:
    """
    Return the GetNodeInfo answer of `node` (network is the chain id).

    Parameters
    ----------
    node : SandboxNode
        The running node.

    Returns
    -------
    GetNodeInfoResponse

    """
    chain = node.chain
    node_id = hashlib.sha256(f"{chain.config.seed}:{chain.chain_id}".encode()).hexdigest()[:40]
    return tm_query_pb2.GetNodeInfoResponse(
        default_node_info=p2p_pb2.DefaultNodeInfo(
            protocol_version=p2p_pb2.ProtocolVersion(p2p=8, block=11, app=0),
            default_node_id=node_id,
            listen_addr=f"tcp://{node.config.host}:26656",
            network=chain.chain_id,
            version=COMETBFT_VERSION,
            channels=bytes([0x40, 0x20, 0x21, 0x22, 0x23, 0x30, 0x38, 0x60, 0x61, 0x00]),
            moniker="nautilus-dydx-sandbox",
            other=p2p_pb2.DefaultNodeInfoOther(tx_index="on", rpc_address="tcp://127.0.0.1:26657"),
        ),
        application_version=tm_query_pb2.VersionInfo(
            name="dydxprotocol",
            app_name="dydxprotocold",
            version=app_version(chain.config.short_block_window),
            git_commit="0" * 40,
            build_tags="netgo,ledger",
            go_version="go version go1.22.2 linux/amd64",
            cosmos_sdk_version=COSMOS_SDK_VERSION,
        ),
    )


def clob_pair(market: Market) -> clob_pair_pb2.ClobPair:
    """
    Return the ClobPair message of a sandbox market (perpetual id = CLOB pair id).

    Parameters
    ----------
    market : Market
        The chain market.

    Returns
    -------
    ClobPair

    """
    cfg = market.config
    return clob_pair_pb2.ClobPair(
        id=cfg.clob_pair_id,
        perpetual_clob_metadata=clob_pair_pb2.PerpetualClobMetadata(perpetual_id=cfg.clob_pair_id),
        step_base_quantums=cfg.step_base_quantums,
        subticks_per_tick=cfg.subticks_per_tick,
        quantum_conversion_exponent=cfg.quantum_conversion_exponent,
        status=STATUSES.index(market.status),
    )


def subaccount_message(
    owner: str, number: int, sub: Subaccount | None,
) -> subaccount_pb2.Subaccount:
    """
    Return the on-chain Subaccount message (USDC as asset 0, positions in base quantums).

    Parameters
    ----------
    owner : str
        The owner address.
    number : int
        The subaccount number.
    sub : Subaccount | None
        The chain subaccount, or None for an empty one.

    Returns
    -------
    Subaccount

    """
    message = subaccount_pb2.Subaccount(
        id=subaccount_pb2.SubaccountId(owner=owner, number=number), margin_enabled=True,
    )
    if sub is None:
        return message
    if sub.usdc != 0:
        message.asset_positions.append(
            asset_position_pb2.AssetPosition(asset_id=0, quantums=serializable_int(sub.usdc)),
        )
    for perpetual_id, position in sorted(sub.positions.items()):
        if position.size == 0:
            continue
        message.perpetual_positions.append(
            perpetual_position_pb2.PerpetualPosition(
                perpetual_id=perpetual_id,
                quantums=serializable_int(position.size),
                funding_index=serializable_int(0),
            ),
        )
    return message


class BlocktimeQueryService(blocktime_query_grpc.QueryServicer):
    """
    `/dydxprotocol.blocktime.Query`: the previous (latest committed) block's height and time.

    Parameters
    ----------
    node : SandboxNode
        The node.

    """

    def __init__(self, node: SandboxNode) -> None:
        self._node = node

    async def PreviousBlockInfo(self, request, context):  # noqa: N802
        chain = self._node.chain
        return blocktime_query_pb2.QueryPreviousBlockInfoResponse(
            info=blocktime_pb2.BlockInfo(height=chain.height, timestamp=_timestamp(chain.time_ns)),
        )


class ClobQueryService(clob_query_grpc.QueryServicer):
    """
    `/dydxprotocol.clob.Query`: CLOB pairs, the limits the sandbox enforces, stateful orders.

    Parameters
    ----------
    node : SandboxNode
        The node.

    """

    def __init__(self, node: SandboxNode) -> None:
        self._node = node

    async def ClobPair(self, request, context):  # noqa: N802
        market = self._node.chain.markets.get(request.id)
        if market is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "not found")
        return clob_query_pb2.QueryClobPairResponse(clob_pair=clob_pair(market))

    async def ClobPairAll(self, request, context):  # noqa: N802
        markets = [m for _, m in sorted(self._node.chain.markets.items())]
        page = request.pagination if request.HasField("pagination") else None
        chosen, response = _page(markets, page)
        return clob_query_pb2.QueryClobPairAllResponse(
            clob_pair=[clob_pair(m) for m in chosen], pagination=response,
        )

    async def EquityTierLimitConfiguration(self, request, context):  # noqa: N802
        tiers = [
            tier_pb2.EquityTierLimit(usd_tnc_required=serializable_int(required), limit=limit)
            for required, limit in self._node.config.equity_tiers
        ]
        return clob_query_pb2.QueryEquityTierLimitConfigurationResponse(
            equity_tier_limit_config=tier_pb2.EquityTierLimitConfiguration(
                stateful_order_equity_tiers=tiers,
            ),
        )

    async def BlockRateLimitConfiguration(self, request, context):  # noqa: N802
        config = self._node.config
        return clob_query_pb2.QueryBlockRateLimitConfigurationResponse(
            block_rate_limit_config=rate_pb2.BlockRateLimitConfiguration(
                max_stateful_orders_per_n_blocks=[
                    rate_pb2.MaxPerNBlocksRateLimit(num_blocks=b, limit=n)
                    for b, n in config.stateful_rate_limits
                ],
                max_short_term_orders_and_cancels_per_n_blocks=[
                    rate_pb2.MaxPerNBlocksRateLimit(num_blocks=b, limit=n)
                    for b, n in config.short_term_rate_limits
                ],
            ),
        )

    async def StatefulOrder(self, request, context):  # noqa: N802
        chain = self._node.chain
        order_id = request.order_id
        key = (
            order_id.subaccount_id.owner,
            order_id.subaccount_id.number,
            order_id.client_id,
            order_id.order_flags,
            order_id.clob_pair_id,
        )
        order = chain.stateful.get(key)
        placement = chain.placements.get(key)
        if order is None or placement is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "not found")
        order_bytes, height, tx_index = placement
        return clob_query_pb2.QueryStatefulOrderResponse(
            order_placement=order_pb2.LongTermOrderPlacement(
                order=order_pb2.Order.FromString(order_bytes),
                placement_index=order_pb2.TransactionOrdering(
                    block_height=height, transaction_index=tx_index,
                ),
            ),
            fill_amount=order.filled,
            triggered=order.triggered,
        )

    async def Leverage(self, request, context):  # noqa: N802
        if not is_valid_address(request.owner):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid owner address")
        entries = self._node.chain.leverage.get((request.owner, request.number), {})
        return clob_query_pb2.QueryLeverageResponse(
            clob_pair_leverage=[
                clob_query_pb2.ClobPairLeverageInfo(clob_pair_id=c, custom_imf_ppm=ppm)
                for c, ppm in sorted(entries.items())
            ],
        )


class SubaccountQueryService(sub_query_grpc.QueryServicer):
    """
    `/dydxprotocol.subaccounts.Query`: on-chain subaccounts (empty when never funded).

    Parameters
    ----------
    node : SandboxNode
        The node.

    """

    def __init__(self, node: SandboxNode) -> None:
        self._node = node

    async def Subaccount(self, request, context):  # noqa: N802
        if not is_valid_address(request.owner):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid owner address")
        sub = self._node.chain.subaccounts.get((request.owner, request.number))
        return sub_query_pb2.QuerySubaccountResponse(
            subaccount=subaccount_message(request.owner, request.number, sub),
        )

    async def SubaccountAll(self, request, context):  # noqa: N802
        subs = sorted(self._node.chain.subaccounts.items())
        page = request.pagination if request.HasField("pagination") else None
        chosen, response = _page(subs, page)
        return sub_query_pb2.QuerySubaccountAllResponse(
            subaccount=[subaccount_message(k[0], k[1], s) for k, s in chosen],
            pagination=response,
        )


class BankQueryService(bank_query_grpc.QueryServicer):
    """
    `/cosmos.bank.v1beta1.Query`: wallet (non-subaccount) balances from `AccountConfig.wallet`.

    Parameters
    ----------
    node : SandboxNode
        The node.

    """

    def __init__(self, node: SandboxNode) -> None:
        self._node = node

    async def Balance(self, request, context):  # noqa: N802
        if not is_valid_address(request.address):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid address")
        if not request.denom:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid denom")
        amount = self._node.chain.wallets.get(request.address, {}).get(request.denom, 0)
        return bank_query_pb2.QueryBalanceResponse(
            balance=coin_pb2.Coin(denom=request.denom, amount=str(amount)),
        )

    async def AllBalances(self, request, context):  # noqa: N802
        if not is_valid_address(request.address):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid address")
        wallet = self._node.chain.wallets.get(request.address, {})
        coins = [
            coin_pb2.Coin(denom=denom, amount=str(amount))
            for denom, amount in sorted(wallet.items())
            if amount != 0
        ]
        page = request.pagination if request.HasField("pagination") else None
        chosen, response = _page(coins, page)
        return bank_query_pb2.QueryAllBalancesResponse(balances=chosen, pagination=response)


def add_query_services(node: SandboxNode, server: grpc.aio.Server) -> None:
    """
    Register the query services of this module on `server`.

    Parameters
    ----------
    node : SandboxNode
        The node the services read.
    server : grpc.aio.Server
        The not yet started server.

    """
    blocktime_query_grpc.add_QueryServicer_to_server(BlocktimeQueryService(node), server)
    clob_query_grpc.add_QueryServicer_to_server(ClobQueryService(node), server)
    sub_query_grpc.add_QueryServicer_to_server(SubaccountQueryService(node), server)
    bank_query_grpc.add_QueryServicer_to_server(BankQueryService(node), server)
    accountplus.add_query_service(node, server)
