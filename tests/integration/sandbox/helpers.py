# SPDX-License-Identifier: Apache-2.0
"""Test helpers: build and sign dYdX txs independently of the adapter and talk gRPC to a node."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import coincurve
import grpc

from nautilus_dydx._proto.cosmos.auth.v1beta1 import auth_pb2
from nautilus_dydx._proto.cosmos.auth.v1beta1 import query_pb2 as auth_query_pb2
from nautilus_dydx._proto.cosmos.auth.v1beta1 import query_pb2_grpc as auth_query_grpc
from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2 as tm_query_pb2
from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2_grpc as tm_query_grpc
from nautilus_dydx._proto.cosmos.crypto.secp256k1 import keys_pb2
from nautilus_dydx._proto.cosmos.tx.v1beta1 import service_pb2
from nautilus_dydx._proto.cosmos.tx.v1beta1 import service_pb2_grpc
from nautilus_dydx._proto.cosmos.tx.v1beta1 import tx_pb2
from nautilus_dydx._proto.dydxprotocol.clob import order_pb2
from nautilus_dydx._proto.dydxprotocol.clob import tx_pb2 as clob_tx_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import subaccount_pb2
from nautilus_dydx._proto.google.protobuf import any_pb2
from nautilus_dydx.sandbox import AccountConfig
from nautilus_dydx.sandbox import SandboxConfig
from nautilus_dydx.sandbox import SandboxNode


# Public test vectors K1 and K2 (protocol reference §9.1); never fund them on mainnet
K1_PRIVATE_KEY = "0a7ff605269ed00853a425beda719da038a11792f6dddf31c087b2988b4dc8fe"
K1_ADDRESS = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
K2_PRIVATE_KEY = "e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77"
K2_ADDRESS = "dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art"
K1_MNEMONIC = (
    "mandate glove carry despair area gloom sting round toddler deal face vague receive shallow "
    "confirm south green cup rain drill monkey method tongue fence"
)
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
CHAIN_ID = "dydx-sandbox-test"
# A fixed genesis (2026-01-01T00:00:00Z) keeps block times deterministic in these tests
GENESIS_NS = 1_767_225_600_000_000_000
BTC = 0
ETH = 1
BUY = 1
SELL = 2
IOC = 1
POST_ONLY = 2
FOK = 3
LONG_TERM = 64
CONDITIONAL = 32
URL_PLACE = "/dydxprotocol.clob.MsgPlaceOrder"
URL_CANCEL = "/dydxprotocol.clob.MsgCancelOrder"
URL_BATCH = "/dydxprotocol.clob.MsgBatchCancel"


def make_config(**overrides) -> SandboxConfig:
    values = dict(
        chain_id=CHAIN_ID,
        auto_blocks=False,
        genesis_time_ns=GENESIS_NS,
        block_time_ms=100,
        accounts=(
            AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7),
            AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2),
        ),
        stateful_rate_limits=((1, 1000),),
        # Exact-shape tests compare field sets; tests of unknown fields turn this on
        extra_fields=False,
    )
    values.update(overrides)
    return SandboxConfig(**values)


@dataclass
class Signer:
    private_key: str
    address: str
    account_number: int
    chain_id: str = CHAIN_ID

    @property
    def public_key(self) -> bytes:
        return coincurve.PrivateKey(bytes.fromhex(self.private_key)).public_key.format()

    def sign_tx(
        self,
        messages: list[tuple[str, object]],
        sequence: int = 0,
        memo: str = "",
        timeout_height: int = 0,
        chain_id: str | None = None,
        account_number: int | None = None,
        high_s: bool = False,
        include_pubkey: bool = True,
    ) -> bytes:
        body = tx_pb2.TxBody(
            messages=[
                any_pb2.Any(type_url=url, value=msg.SerializeToString()) for url, msg in messages
            ],
            memo=memo,
            timeout_height=timeout_height,
        )
        signer_info = tx_pb2.SignerInfo(
            mode_info=tx_pb2.ModeInfo(single=tx_pb2.ModeInfo.Single(mode=1)),
            sequence=sequence,
        )
        if include_pubkey:
            signer_info.public_key.CopyFrom(
                any_pb2.Any(
                    type_url="/cosmos.crypto.secp256k1.PubKey",
                    value=keys_pb2.PubKey(key=self.public_key).SerializeToString(),
                ),
            )
        auth = tx_pb2.AuthInfo(signer_infos=[signer_info], fee=tx_pb2.Fee(gas_limit=1_000_000))
        body_bytes = body.SerializeToString()
        auth_bytes = auth.SerializeToString()
        sign_doc = tx_pb2.SignDoc(
            body_bytes=body_bytes,
            auth_info_bytes=auth_bytes,
            chain_id=self.chain_id if chain_id is None else chain_id,
            account_number=self.account_number if account_number is None else account_number,
        )
        digest = hashlib.sha256(sign_doc.SerializeToString()).digest()
        signature = coincurve.PrivateKey(bytes.fromhex(self.private_key)).sign_recoverable(
            digest, hasher=None,
        )[:64]
        if high_s:
            s = CURVE_ORDER - int.from_bytes(signature[32:], "big")
            signature = signature[:32] + s.to_bytes(32, "big")
        return tx_pb2.TxRaw(
            body_bytes=body_bytes, auth_info_bytes=auth_bytes, signatures=[signature],
        ).SerializeToString()


ALICE = Signer(K1_PRIVATE_KEY, K1_ADDRESS, 12345)
BOB = Signer(K2_PRIVATE_KEY, K2_ADDRESS, 2)


def order_id(
    owner: str, client_id: int, clob_pair_id: int = BTC, flags: int = 0, number: int = 0,
) -> order_pb2.OrderId:
    return order_pb2.OrderId(
        subaccount_id=subaccount_pb2.SubaccountId(owner=owner, number=number),
        client_id=client_id,
        order_flags=flags,
        clob_pair_id=clob_pair_id,
    )


def place(
    owner: str,
    client_id: int,
    side: int,
    quantums: int,
    subticks: int,
    gtb: int = 0,
    gtbt: int = 0,
    clob_pair_id: int = BTC,
    flags: int = 0,
    tif: int = 0,
    reduce_only: bool = False,
    condition_type: int = 0,
    trigger: int = 0,
    number: int = 0,
) -> tuple[str, clob_tx_pb2.MsgPlaceOrder]:
    order = order_pb2.Order(
        order_id=order_id(owner, client_id, clob_pair_id, flags, number),
        side=side,
        quantums=quantums,
        subticks=subticks,
        time_in_force=tif,
        reduce_only=reduce_only,
        condition_type=condition_type,
        conditional_order_trigger_subticks=trigger,
    )
    if gtb:
        order.good_til_block = gtb
    if gtbt:
        order.good_til_block_time = gtbt
    return URL_PLACE, clob_tx_pb2.MsgPlaceOrder(order=order)


def cancel(
    owner: str, client_id: int, gtb: int = 0, gtbt: int = 0, clob_pair_id: int = BTC,
    flags: int = 0,
) -> tuple[str, clob_tx_pb2.MsgCancelOrder]:
    msg = clob_tx_pb2.MsgCancelOrder(order_id=order_id(owner, client_id, clob_pair_id, flags))
    if gtb:
        msg.good_til_block = gtb
    if gtbt:
        msg.good_til_block_time = gtbt
    return URL_CANCEL, msg


def batch_cancel(
    owner: str, batches: list[tuple[int, list[int]]], gtb: int,
) -> tuple[str, clob_tx_pb2.MsgBatchCancel]:
    return URL_BATCH, clob_tx_pb2.MsgBatchCancel(
        subaccount_id=subaccount_pb2.SubaccountId(owner=owner, number=0),
        short_term_cancels=[
            clob_tx_pb2.OrderBatch(clob_pair_id=c, client_ids=ids) for c, ids in batches
        ],
        good_til_block=gtb,
    )


class Client:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.tx = service_pb2_grpc.ServiceStub(channel)
        self.auth = auth_query_grpc.QueryStub(channel)
        self.tm = tm_query_grpc.ServiceStub(channel)
        self.channel = channel

    async def broadcast(self, tx_bytes: bytes):
        response = await self.tx.BroadcastTx(
            service_pb2.BroadcastTxRequest(tx_bytes=tx_bytes, mode=2),
        )
        return response.tx_response

    async def account(self, address: str) -> auth_pb2.BaseAccount:
        response = await self.auth.Account(auth_query_pb2.QueryAccountRequest(address=address))
        base = auth_pb2.BaseAccount()
        assert response.account.type_url == "/cosmos.auth.v1beta1.BaseAccount"
        base.ParseFromString(response.account.value)
        return base

    async def latest_height(self) -> int:
        response = await self.tm.GetLatestBlock(tm_query_pb2.GetLatestBlockRequest())
        return response.block.header.height


@contextlib.asynccontextmanager
async def running_node(config: SandboxConfig | None = None) -> AsyncIterator[
    tuple[SandboxNode, Client]
]:
    node = SandboxNode(config if config is not None else make_config())
    await node.start()
    channel = grpc.aio.insecure_channel(node.grpc_endpoint)
    try:
        yield node, Client(channel)
    finally:
        await channel.close()
        await node.stop()


def block_seconds(node: SandboxNode) -> int:
    return node.block_time_ns // 1_000_000_000
