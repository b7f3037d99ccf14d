# SPDX-License-Identifier: Apache-2.0
"""A TradingNode trading for an owner account through a permissioned key (authenticator)."""

from __future__ import annotations

import grpc

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus

from nautilus_dydx._proto.cosmos.tx.v1beta1 import tx_pb2
from nautilus_dydx._proto.dydxprotocol.accountplus import tx_pb2 as accountplus_tx_pb2
from nautilus_dydx.grpc.authenticators import AuthenticatorError
from nautilus_dydx.grpc.authenticators import add_authenticator_message
from nautilus_dydx.grpc.authenticators import remove_authenticator_message
from nautilus_dydx.grpc.authenticators import select_authenticator
from nautilus_dydx.grpc.authenticators import trading_key_authenticator
from nautilus_dydx.grpc.client import DYDXNodeClient
from nautilus_dydx.wallet import Wallet
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_orders import SHORT
from tests.integration.execution.test_orders import bob_order
from tests.integration.sandbox.accountplus_helpers import TRADER_PRIVATE_KEY
from tests.integration.sandbox.helpers import CHAIN_ID
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_PRIVATE_KEY
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import Client
from tests.integration.sandbox.test_indexer_support import wait_for


OWNER_ACCOUNT_NUMBER = 12345  # K1 in the test config, sequence 7
URL_BATCH = "/dydxprotocol.clob.MsgBatchCancel"
URL_PLACE = "/dydxprotocol.clob.MsgPlaceOrder"
URL_CANCEL = "/dydxprotocol.clob.MsgCancelOrder"


async def _owner_sends(sandbox, message: bytes) -> None:
    # The owner signs with its own key (no extension): the package's message, its signer
    owner = Wallet.from_private_key(K1_PRIVATE_KEY).signer(CHAIN_ID, OWNER_ACCOUNT_NUMBER)
    async with grpc.aio.insecure_channel(sandbox.grpc_endpoint) as channel:
        client = Client(channel)
        sequence = (await client.account(K1_ADDRESS)).sequence
        result = await client.broadcast(owner.sign_tx(message, sequence))
        assert result.code == 0, result.raw_log
    height = sandbox.node.height
    await wait_for(lambda: sandbox.node.height > height + 1, 10)


def _register_trader(sandbox):
    trader = Wallet.from_private_key(TRADER_PRIVATE_KEY)
    spec = trading_key_authenticator(trader.public_key, subaccounts=[0], clob_pair_ids=[0])
    return trader, _owner_sends(sandbox, add_authenticator_message(K1_ADDRESS, spec))


def _spy_broadcasts(client) -> list[bytes]:
    sent: list[bytes] = []
    node = client._node
    original = node.broadcast_tx

    async def broadcast(tx_bytes: bytes, txhash: str | None = None):
        sent.append(tx_bytes)
        return await original(tx_bytes, txhash)

    node.broadcast_tx = broadcast
    return sent


def _decoded(sent: list[bytes]) -> list[tuple[list[str], list[int], bytes]]:
    result = []
    for tx in sent:
        raw = tx_pb2.TxRaw.FromString(tx)
        body = tx_pb2.TxBody.FromString(raw.body_bytes)
        selected = []
        for option in body.non_critical_extension_options:
            assert option.type_url == "/dydxprotocol.accountplus.TxExtension"
            extension = accountplus_tx_pb2.TxExtension.FromString(option.value)
            selected.extend(extension.selected_authenticators)
        result.append(([m.type_url for m in body.messages], selected, raw.auth_info_bytes))
    return result


def test_short_term_long_term_and_batch_cancel_through_a_permissioned_key() -> None:
    async def scenario() -> None:
        async with venue() as sandbox:
            trader, registration = _register_trader(sandbox)
            await registration
            config = {
                "private_key": TRADER_PRIVATE_KEY,
                "wallet_address": K1_ADDRESS,
                "authenticator_ids": [5, 0],  # 5 is not registered: 0 is selected
            }
            async with trading_node(sandbox, config=config) as node:
                assert node.client.address == K1_ADDRESS
                assert str(node.client.account_id).endswith(f"{K1_ADDRESS}-0")
                sent = _spy_broadcasts(node.client)
                # Short-term maker filled by Bob: the fill lands on the owner's subaccount
                maker = await node.accepted_limit(OrderSide.BUY, "0.002", "60000", tags=SHORT)
                await bob_order(sandbox, 1, SELL, 20, 60000, tif=IOC)
                await node.wait(lambda: maker.status == OrderStatus.FILLED)
                fill = node.kinds(maker.client_order_id)[-1]
                assert fill.account_id == node.client.account_id
                positions = sandbox.node.subaccount(K1_ADDRESS)["positions"]
                assert positions[0]["size"] == 20 * 1_000_000  # 0.002 BTC in quantums
                # Long-term: accepted in a block, then canceled (stateful, owner's sequence)
                resting = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
                node.strategy.cancel_order(resting)
                await node.wait(lambda: resting.status == OrderStatus.CANCELED)
                # Batch cancel of short-term orders
                quotes = [
                    node.limit(OrderSide.BUY, "0.001", str(40000 + i), tags=SHORT)
                    for i in range(3)
                ]
                for order in quotes:
                    node.strategy.submit_order(order)
                await node.wait(lambda: all(o.status == OrderStatus.ACCEPTED for o in quotes))
                node.strategy.cancel_orders(quotes)
                await node.wait(lambda: all(o.status == OrderStatus.CANCELED for o in quotes))
                assert not [k for k in sandbox.node.chain.short_orders if k[0] == K1_ADDRESS]
                txs = _decoded(sent)
                kinds = [urls for urls, _, _ in txs]
                assert [URL_PLACE] in kinds and [URL_CANCEL] in kinds and [URL_BATCH] in kinds
                for urls, selected, auth_info in txs:
                    assert selected == [0] * len(urls)
                    assert trader.public_key in auth_info
                # The owner's public key on chain is still its own
                account = sandbox.node.chain.accounts[K1_ADDRESS]
                assert account.pub_key != trader.public_key

    run(scenario())


def test_removed_authenticator_rejects_the_next_order_with_the_chain_code() -> None:
    async def scenario() -> None:
        async with venue() as sandbox:
            _, registration = _register_trader(sandbox)
            await registration
            config = {
                "private_key": TRADER_PRIVATE_KEY,
                "wallet_address": K1_ADDRESS,
                "authenticator_ids": [0],
            }
            async with trading_node(sandbox, config=config) as node:
                await _owner_sends(sandbox, remove_authenticator_message(K1_ADDRESS, 0))
                order = node.limit(OrderSide.BUY, "0.001", "50000", tags=SHORT)
                node.strategy.submit_order(order)
                await node.wait(lambda: order.status == OrderStatus.REJECTED)
                reason = node.kinds(order.client_order_id)[-1].reason
                assert reason.startswith("accountplus 1:"), reason

    run(scenario())


def test_timestamp_nonces_work_through_a_permissioned_key() -> None:
    async def scenario() -> None:
        async with venue() as sandbox:
            _, registration = _register_trader(sandbox)
            await registration
            config = {
                "private_key": TRADER_PRIVATE_KEY,
                "wallet_address": K1_ADDRESS,
                "authenticator_ids": [0],
                "sequence_mode": "timestamp",
            }
            async with trading_node(sandbox, config=config) as node:
                sequence = sandbox.node.chain.accounts[K1_ADDRESS].sequence
                orders = [node.limit(OrderSide.BUY, "0.001", str(50000 + i)) for i in range(3)]
                for order in orders:
                    node.strategy.submit_order(order)
                await node.wait(lambda: all(o.status == OrderStatus.ACCEPTED for o in orders))
                for order in orders:
                    node.strategy.cancel_order(order)
                await node.wait(lambda: all(o.status == OrderStatus.CANCELED for o in orders))
                # Nonces, not the owner's numeric sequence
                assert sandbox.node.chain.accounts[K1_ADDRESS].sequence == sequence
                assert 0 < len(sandbox.node.chain.accounts[K1_ADDRESS].nonces) <= 6

    run(scenario())


def test_unregistered_authenticator_ids_fail_with_a_clear_error() -> None:
    async def scenario() -> None:
        async with venue() as sandbox:
            _, registration = _register_trader(sandbox)
            await registration
            key = Wallet.from_private_key(K1_PRIVATE_KEY).public_key  # Not the trading key
            async with DYDXNodeClient([sandbox.grpc_endpoint]) as rpc:
                trader = Wallet.from_private_key(TRADER_PRIVATE_KEY).public_key
                assert await select_authenticator(rpc, K1_ADDRESS, trader, [3, 0]) == 0
                try:
                    await select_authenticator(rpc, K1_ADDRESS, key, [0])
                except AuthenticatorError as e:
                    assert "none of the authenticator ids [0]" in str(e)
                    assert K1_PRIVATE_KEY not in str(e)
                else:
                    raise AssertionError("the owner's key is not in authenticator 0")

    run(scenario())
