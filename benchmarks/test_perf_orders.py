# SPDX-License-Identifier: Apache-2.0
"""Benchmarks: signed order, cancel and batch-cancel transactions against the built-in adapter."""

from __future__ import annotations

import hashlib

import coincurve
import pytest
from nautilus_trader.adapters.dydx.grpc.account import TransactionBuilder
from nautilus_trader.adapters.dydx.grpc.account import Wallet as BuiltinWallet
from nautilus_trader.adapters.dydx.grpc.order_builder import DYDXGRPCOrderType
from nautilus_trader.adapters.dydx.grpc.order_builder import OrderBuilder
from v4_proto.cosmos.tx.v1beta1.tx_pb2 import Tx
from v4_proto.dydxprotocol.clob.order_pb2 import Order as V4Order
from v4_proto.dydxprotocol.clob.tx_pb2 import MsgBatchCancel
from v4_proto.dydxprotocol.clob.tx_pb2 import MsgCancelOrder
from v4_proto.dydxprotocol.clob.tx_pb2 import MsgPlaceOrder
from v4_proto.dydxprotocol.clob.tx_pb2 import OrderBatch
from v4_proto.dydxprotocol.subaccounts.subaccount_pb2 import SubaccountId

from nautilus_dydx._core import orders as compiled
from tests.reference import orders as reference


MNEMONIC = (
    "mandate glove carry despair area gloom sting round toddler deal face vague receive "
    "shallow confirm south green cup rain drill monkey method tongue fence"
)
PRIVATE = bytes.fromhex("0a7ff605269ed00853a425beda719da038a11792f6dddf31c087b2988b4dc8fe")
ADDRESS = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
CHAIN_ID = "dydx-testnet-4"
ACCOUNT = 12345
SEQUENCE = 7
BTC = (-10, -9, 1_000_000, 100_000)
PRICE_RAW = 65_432 * 10**16
SIZE_RAW = 123 * 10**12  # 0.0123
GTB = 50_000_020
CLIENT_ID = 123456789
BATCH_IDS = list(range(1_000, 1_050))
TX_HASH = "67D2AB4E7C3E37305A8814B25A38B33D4F8E51A4410F4F04F49AA51F9E9E38FE"


def _ours(impl):
    encoder = impl.MarketEncoder(ADDRESS, 0, 0, *BTC)
    signer = impl.TxSigner(PRIVATE, CHAIN_ID, ACCOUNT)
    return encoder, signer


def _place(impl):
    encoder, signer = _ours(impl)
    subticks, quantums = encoder.subticks, encoder.quantums
    place_any, sign_tx = encoder.place_order_any, signer.sign_tx

    def run() -> bytes:
        return sign_tx(
            place_any(CLIENT_ID, 0, 1, quantums(SIZE_RAW), subticks(PRICE_RAW), GTB),
            SEQUENCE,
        )

    return run


def _cancel(impl):
    encoder, signer = _ours(impl)
    cancel_any, sign_tx = encoder.cancel_order_any, signer.sign_tx

    def run() -> bytes:
        return sign_tx(cancel_any(CLIENT_ID, 0, GTB), SEQUENCE)

    return run


def _batch(impl):
    encoder, signer = _ours(impl)
    batch_any, sign_tx = encoder.batch_cancel_any, signer.sign_tx

    def run() -> bytes:
        return sign_tx(batch_any([(0, BATCH_IDS)], GTB), SEQUENCE)

    return run


@pytest.fixture(scope="module")
def builtin():
    # Derivation is done once, outside the timed body; nothing here touches the network
    wallet = BuiltinWallet(MNEMONIC, ACCOUNT, SEQUENCE)
    order_builder = OrderBuilder(-10, 1_000_000, 100_000, -9, 0)
    return wallet, TransactionBuilder(CHAIN_ID, "adydx"), order_builder


def _builtin_place(builtin):
    wallet, tx_builder, order_builder = builtin

    def run() -> bytes:
        order_id = order_builder.create_order_id(ADDRESS, 0, CLIENT_ID, 0)
        order = order_builder.create_order(
            order_id,
            DYDXGRPCOrderType.LIMIT,
            V4Order.Side.SIDE_BUY,
            SIZE_RAW / 10**16,
            PRICE_RAW / 10**16,
            V4Order.TimeInForce.TIME_IN_FORCE_UNSPECIFIED,
            reduce_only=False,
            good_til_block=GTB,
        )
        return tx_builder.build(wallet, MsgPlaceOrder(order=order)).SerializeToString()

    return run


def _builtin_cancel(builtin):
    wallet, tx_builder, order_builder = builtin

    def run() -> bytes:
        msg = MsgCancelOrder(
            order_id=order_builder.create_order_id(ADDRESS, 0, CLIENT_ID, 0),
            good_til_block=GTB,
        )
        return tx_builder.build(wallet, msg).SerializeToString()

    return run


def _builtin_batch(builtin):
    wallet, tx_builder, _ = builtin

    def run() -> bytes:
        msg = MsgBatchCancel(
            subaccount_id=SubaccountId(owner=ADDRESS, number=0),
            short_term_cancels=[OrderBatch(clob_pair_id=0, client_ids=BATCH_IDS)],
            good_til_block=GTB,
        )
        return tx_builder.build(wallet, msg).SerializeToString()

    return run


def _floor():
    key = coincurve.PrivateKey(PRIVATE)
    digest = hashlib.sha256(b"sign doc").digest()
    sign = key.sign_recoverable

    def run() -> bytes:
        return sign(digest, None)

    return run


def _assert_tx(raw: bytes, expected: bytes) -> None:
    # The built-in adapter signs with a random nonce: compare everything but the signature
    tx = Tx.FromString(raw)
    expected_tx = Tx.FromString(expected)
    assert tx.body == expected_tx.body
    signer, expected_signer = tx.auth_info.signer_infos[0], expected_tx.auth_info.signer_infos[0]
    assert signer.public_key == expected_signer.public_key
    assert len(tx.signatures[0]) == 64


# -- Place order ----------------------------------------------------------------------------


@pytest.mark.benchmark(group="place-order")
def test_perf_place_order_compiled(benchmark) -> None:
    raw = benchmark(_place(compiled))
    assert compiled.tx_hash(raw) == TX_HASH


@pytest.mark.benchmark(group="place-order")
def test_perf_place_order_reference(benchmark) -> None:
    raw = benchmark(_place(reference))
    assert reference.tx_hash(raw) == TX_HASH


@pytest.mark.benchmark(group="place-order")
def test_perf_place_order_builtin(benchmark, builtin) -> None:
    raw = benchmark(_builtin_place(builtin))
    _assert_tx(raw, _place(compiled)())


@pytest.mark.benchmark(group="place-order")
def test_perf_place_order_sign_floor(benchmark) -> None:
    assert len(benchmark(_floor())) == 65


# -- Cancel ---------------------------------------------------------------------------------


@pytest.mark.benchmark(group="cancel")
def test_perf_cancel_compiled(benchmark) -> None:
    raw = benchmark(_cancel(compiled))
    assert raw == _cancel(reference)()


@pytest.mark.benchmark(group="cancel")
def test_perf_cancel_reference(benchmark) -> None:
    raw = benchmark(_cancel(reference))
    assert raw == _cancel(compiled)()


@pytest.mark.benchmark(group="cancel")
def test_perf_cancel_builtin(benchmark, builtin) -> None:
    raw = benchmark(_builtin_cancel(builtin))
    _assert_tx(raw, _cancel(compiled)())


@pytest.mark.benchmark(group="cancel")
def test_perf_cancel_sign_floor(benchmark) -> None:
    assert len(benchmark(_floor())) == 65


# -- Batch cancel of 50 ---------------------------------------------------------------------


@pytest.mark.benchmark(group="batch-cancel-50")
def test_perf_batch_cancel_compiled(benchmark) -> None:
    raw = benchmark(_batch(compiled))
    assert raw == _batch(reference)()


@pytest.mark.benchmark(group="batch-cancel-50")
def test_perf_batch_cancel_reference(benchmark) -> None:
    raw = benchmark(_batch(reference))
    assert raw == _batch(compiled)()


@pytest.mark.benchmark(group="batch-cancel-50")
def test_perf_batch_cancel_builtin(benchmark, builtin) -> None:
    raw = benchmark(_builtin_batch(builtin))
    _assert_tx(raw, _batch(compiled)())


@pytest.mark.benchmark(group="batch-cancel-50")
def test_perf_batch_cancel_sign_floor(benchmark) -> None:
    assert len(benchmark(_floor())) == 65
