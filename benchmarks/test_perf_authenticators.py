# SPDX-License-Identifier: Apache-2.0
"""Benchmarks: a signed short-term place through a permissioned key beside the owner's own key."""

from __future__ import annotations

import pytest

from nautilus_dydx._core import orders as compiled
from nautilus_dydx._proto.cosmos.tx.v1beta1 import tx_pb2
from nautilus_dydx._proto.dydxprotocol.accountplus import tx_pb2 as accountplus_tx_pb2
from nautilus_dydx.grpc.authenticators import PermissionedWallet
from nautilus_dydx.wallet import Wallet


OWNER_KEY = "0a7ff605269ed00853a425beda719da038a11792f6dddf31c087b2988b4dc8fe"
OWNER = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
TRADER_KEY = "e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77"
CHAIN_ID = "dydx-testnet-4"
ACCOUNT = 12345
BTC = (-10, -9, 1_000_000, 100_000)
PRICE_RAW = 65_432 * 10**16
SIZE_RAW = 123 * 10**12
GTB = 50_000_020
CLIENT_ID = 123456789


def _place(signer):
    encoder = compiled.MarketEncoder(OWNER, 0, 0, *BTC)
    subticks, quantums = encoder.subticks, encoder.quantums
    place_any, sign_tx = encoder.place_order_any, signer.sign_tx

    def run() -> bytes:
        return sign_tx(
            place_any(CLIENT_ID, 0, 1, quantums(SIZE_RAW), subticks(PRICE_RAW), GTB), 0,
        )

    return run


@pytest.mark.benchmark(group="permissioned-place")
def test_perf_place_order_owner_key(benchmark) -> None:
    signer = Wallet.from_private_key(OWNER_KEY).signer(CHAIN_ID, ACCOUNT)

    raw = benchmark(_place(signer))

    body = tx_pb2.TxBody.FromString(tx_pb2.TxRaw.FromString(raw).body_bytes)
    assert len(body.non_critical_extension_options) == 0


@pytest.mark.benchmark(group="permissioned-place")
def test_perf_place_order_permissioned_key(benchmark) -> None:
    wallet = PermissionedWallet(Wallet.from_private_key(TRADER_KEY), OWNER, 3)
    signer = wallet.signer(CHAIN_ID, ACCOUNT)

    raw = benchmark(_place(signer))

    body = tx_pb2.TxBody.FromString(tx_pb2.TxRaw.FromString(raw).body_bytes)
    (option,) = body.non_critical_extension_options
    extension = accountplus_tx_pb2.TxExtension.FromString(option.value)
    assert list(extension.selected_authenticators) == [3]
