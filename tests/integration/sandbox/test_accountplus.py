# SPDX-License-Identifier: Apache-2.0
"""Permissioned keys on the sandbox node: registering, trading through, refusing and removing."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from nautilus_dydx._proto.dydxprotocol.accountplus import query_pb2 as accountplus_query_pb2
from nautilus_dydx._proto.dydxprotocol.accountplus import query_pb2_grpc as accountplus_grpc
from tests.integration.sandbox.accountplus_helpers import OTHER_PRIVATE_KEY
from tests.integration.sandbox.accountplus_helpers import TRADER_PRIVATE_KEY
from tests.integration.sandbox.accountplus_helpers import add_authenticator
from tests.integration.sandbox.accountplus_helpers import composite
from tests.integration.sandbox.accountplus_helpers import public_key
from tests.integration.sandbox.accountplus_helpers import remove_authenticator
from tests.integration.sandbox.accountplus_helpers import sign_permissioned
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import ETH
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import batch_cancel
from tests.integration.sandbox.helpers import block_seconds
from tests.integration.sandbox.helpers import cancel
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.helpers import running_node
from tests.integration.sandbox.surface_helpers import transfer


A = K1_ADDRESS
TRADER = public_key(TRADER_PRIVATE_KEY)
OTHER = public_key(OTHER_PRIVATE_KEY)
Q = 1_000_000
P = 6_000_000_000
TRADING = (
    b"/dydxprotocol.clob.MsgPlaceOrder,/dydxprotocol.clob.MsgCancelOrder,"
    b"/dydxprotocol.clob.MsgBatchCancel"
)
# The owner K1 lets TRADER place and cancel on subaccount 0, BTC only
SCOPED = composite("AllOf", [
    ("SignatureVerification", TRADER),
    ("MessageFilter", TRADING),
    ("SubaccountFilter", b"0"),
    ("ClobPairIdFilter", b"0"),
])


def _codes(response) -> tuple[str, int]:
    return response.codespace, response.code


async def _register(node, client, signer, sequence: int, kind: str, data: bytes):
    owner = signer.address
    response = await client.broadcast(
        signer.sign_tx([add_authenticator(owner, kind, data)], sequence=sequence),
    )
    assert response.code == 0, response.raw_log
    node.step_blocks(1)


async def _list(client, address: str) -> list[tuple[int, str, bytes]]:
    stub = accountplus_grpc.QueryStub(client.channel)
    response = await stub.GetAuthenticators(
        accountplus_query_pb2.GetAuthenticatorsRequest(account=address),
    )
    return [(a.id, a.type, a.config) for a in response.account_authenticators]


def test_registered_authenticators_get_global_ids_and_are_listed_per_account() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            await _register(node, client, ALICE, 7, *SCOPED)
            await _register(node, client, BOB, 0, "SignatureVerification", OTHER)
            await _register(node, client, ALICE, 8, "SignatureVerification", OTHER)
            assert await _list(client, A) == [
                (0, "AllOf", SCOPED[1]), (2, "SignatureVerification", OTHER),
            ]
            assert await _list(client, K2_ADDRESS) == [(1, "SignatureVerification", OTHER)]
            stub = accountplus_grpc.QueryStub(client.channel)
            one = await stub.GetAuthenticator(
                accountplus_query_pb2.GetAuthenticatorRequest(account=A, authenticator_id=2),
            )
            assert one.account_authenticator.config == OTHER
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await stub.GetAuthenticator(
                    accountplus_query_pb2.GetAuthenticatorRequest(account=A, authenticator_id=1),
                )
            assert e.value.code() == grpc.StatusCode.NOT_FOUND
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await stub.GetAuthenticators(
                    accountplus_query_pb2.GetAuthenticatorsRequest(account="dydx1nope"),
                )
            assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    asyncio.run(scenario())


def test_permissioned_key_trades_short_term_stateful_and_batch_cancel_for_the_owner() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            await _register(node, client, ALICE, 7, *SCOPED)
            gtb = node.height + 5
            gtbt = block_seconds(node) + 3600
            short = place(A, 1, BUY, Q, P, gtb=gtb)
            # Short-term: any sequence, the owner's account number, the trader's signature
            tx = sign_permissioned(TRADER_PRIVATE_KEY, 12345, [short], [0], sequence=999)
            assert _codes(await client.broadcast(tx)) == ("", 0)
            stateful = place(A, 2, SELL, Q, P * 2, gtbt=gtbt, flags=LONG_TERM)
            stale = await client.broadcast(
                sign_permissioned(TRADER_PRIVATE_KEY, 12345, [stateful], [0], sequence=7),
            )
            assert _codes(stale) == ("sdk", 32)
            assert "expected 8, got 7" in stale.raw_log
            ok = await client.broadcast(
                sign_permissioned(TRADER_PRIVATE_KEY, 12345, [stateful], [0], sequence=8),
            )
            assert _codes(ok) == ("", 0), ok.raw_log
            # Two messages select the authenticator twice
            two = [
                place(A, 3, SELL, Q, P * 2, gtbt=gtbt, flags=LONG_TERM),
                place(A, 4, SELL, Q, P * 3, gtbt=gtbt, flags=LONG_TERM),
            ]
            ok2 = await client.broadcast(
                sign_permissioned(TRADER_PRIVATE_KEY, 12345, two, [0, 0], sequence=9),
            )
            assert _codes(ok2) == ("", 0), ok2.raw_log
            node.step_blocks(1)
            bids, asks = node.orderbook("BTC-USD")
            assert (P, Q) in bids
            assert sorted(asks) == [(P * 2, 2 * Q), (P * 3, Q)]
            account = await client.account(A)
            assert account.sequence == 10
            # The owner's key stays the account's public key
            assert account.pub_key.value.endswith(ALICE.public_key)
            batch = batch_cancel(A, [(0, [1])], gtb=node.height + 5)
            done = await client.broadcast(
                sign_permissioned(TRADER_PRIVATE_KEY, 12345, [batch], [0]),
            )
            assert _codes(done) == ("", 0), done.raw_log
            node.step_blocks(1)
            bids, _ = node.orderbook("BTC-USD")
            assert bids == []

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("key", "message", "selected", "expected"),
    [
        # Another key than the authenticator's
        (OTHER_PRIVATE_KEY, "short_btc", [0], ("accountplus", 100)),
        # ETH is outside the ClobPairIdFilter
        (TRADER_PRIVATE_KEY, "short_eth", [0], ("accountplus", 102)),
        # Subaccount 1 is outside the SubaccountFilter
        (TRADER_PRIVATE_KEY, "short_sub1", [0], ("accountplus", 103)),
        # A transfer is outside the MessageFilter
        (TRADER_PRIVATE_KEY, "transfer", [0], ("accountplus", 101)),
        # Bob's authenticator does not belong to the signer K1
        (TRADER_PRIVATE_KEY, "short_btc", [1], ("accountplus", 1)),
        # One id per message
        (TRADER_PRIVATE_KEY, "short_btc", [0, 0], ("sdk", 18)),
        # Without the extension the classic flow refuses a key of another address
        (TRADER_PRIVATE_KEY, "short_btc", None, ("sdk", 8)),
        # An extension without ids is the classic flow too
        (TRADER_PRIVATE_KEY, "short_btc", [], ("sdk", 8)),
    ],
)
def test_permissioned_tx_outside_the_authenticator_is_refused(
    key: str, message: str, selected: list[int] | None, expected: tuple[str, int],
) -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            await _register(node, client, ALICE, 7, *SCOPED)
            await _register(node, client, BOB, 0, "SignatureVerification", TRADER)
            gtb = node.height + 5
            messages = {
                "short_btc": place(A, 1, BUY, Q, P, gtb=gtb),
                "short_eth": place(A, 1, BUY, 10_000_000, 300_000_000, gtb=gtb, clob_pair_id=ETH),
                "short_sub1": place(A, 1, BUY, Q, P, gtb=gtb, number=1),
                "transfer": transfer(A, 0, K2_ADDRESS, 0, 1_000_000),
            }
            tx = sign_permissioned(key, 12345, [messages[message]], selected, sequence=8)
            response = await client.broadcast(tx)
            assert _codes(response) == expected, response.raw_log
            node.step_blocks(1)
            assert node.orderbook("BTC-USD") == ([], [])
            assert (await client.account(A)).sequence == 8

    asyncio.run(scenario())


def test_removed_authenticator_no_longer_admits_the_key() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            await _register(node, client, ALICE, 7, *SCOPED)
            first = place(A, 1, BUY, Q, P, gtb=node.height + 5)
            tx = sign_permissioned(TRADER_PRIVATE_KEY, 12345, [first], [0])
            assert _codes(await client.broadcast(tx)) == ("", 0)
            removal = await client.broadcast(
                ALICE.sign_tx([remove_authenticator(A, 0)], sequence=8),
            )
            assert removal.code == 0, removal.raw_log
            # Removing it twice before the block is refused
            twice = await client.broadcast(ALICE.sign_tx([remove_authenticator(A, 0)], sequence=9))
            assert _codes(twice) == ("accountplus", 1)
            node.step_blocks(1)
            assert await _list(client, A) == []
            second = place(A, 2, BUY, Q, P, gtb=node.height + 5)
            refused = await client.broadcast(
                sign_permissioned(TRADER_PRIVATE_KEY, 12345, [second], [0]),
            )
            assert _codes(refused) == ("accountplus", 1)
            assert "authenticator 0 not found" in refused.raw_log
            # The owner's own key still trades
            own = await client.broadcast(ALICE.sign_tx([cancel(A, 1, gtb=node.height + 5)]))
            assert own.code == 0, own.raw_log

    asyncio.run(scenario())


def test_any_of_admits_either_key_and_refuses_a_third() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            either = composite("AnyOf", [
                ("SignatureVerification", TRADER), ("SignatureVerification", OTHER),
            ])
            await _register(node, client, ALICE, 7, *either)
            for client_id, key in ((1, TRADER_PRIVATE_KEY), (2, OTHER_PRIVATE_KEY)):
                msg = place(A, client_id, BUY, Q, P, gtb=node.height + 5)
                response = await client.broadcast(sign_permissioned(key, 12345, [msg], [0]))
                assert _codes(response) == ("", 0), response.raw_log
            msg = place(A, 3, BUY, Q, P, gtb=node.height + 5)
            third = await client.broadcast(sign_permissioned("3d" * 32, 12345, [msg], [0]))
            assert _codes(third) == ("sdk", 4)
            # The owner's account number is part of what the key signs
            wrong = await client.broadcast(sign_permissioned(TRADER_PRIVATE_KEY, 2, [msg], [0]))
            assert _codes(wrong) == ("sdk", 4)

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("kind", "data", "expected"),
    [
        # A filter alone would admit any signer
        ("MessageFilter", TRADING, ("accountplus", 5)),
        ("SignatureVerification", TRADER[:32], ("accountplus", 5)),
        (*composite("AllOf", [("SignatureVerification", TRADER)]), ("accountplus", 5)),
        (*composite("AnyOf", [("SignatureVerification", TRADER), ("MessageFilter", TRADING)]),
         ("accountplus", 5)),
        ("SubaccountFilter", b"x", ("accountplus", 5)),
        ("Passkey", TRADER, ("accountplus", 5)),
        ("SignatureVerification", b"\x02" * 1025, ("accountplus", 3)),
    ],
)
def test_invalid_authenticators_are_refused(kind: str, data: bytes, expected: tuple) -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            response = await client.broadcast(
                ALICE.sign_tx([add_authenticator(A, kind, data)], sequence=7),
            )
            assert _codes(response) == expected, response.raw_log
            node.step_blocks(1)
            assert await _list(client, A) == []
            assert (await client.account(A)).sequence == 7

    asyncio.run(scenario())


def test_owner_tx_with_an_empty_extension_takes_the_classic_flow() -> None:
    # The TypeScript client always adds a TxExtension, empty when no authenticator is used
    async def scenario() -> None:
        async with running_node() as (node, client):
            msg = place(A, 1, BUY, Q, P, gtb=node.height + 5)
            tx = sign_permissioned(ALICE.private_key, 12345, [msg], [])
            response = await client.broadcast(tx)
            assert _codes(response) == ("", 0), response.raw_log
            assert (await client.account(A)).pub_key.value.endswith(ALICE.public_key)

    asyncio.run(scenario())


def test_one_tx_removes_two_authenticators_but_not_one_twice() -> None:
    async def scenario() -> None:
        async with running_node() as (node, client):
            await _register(node, client, ALICE, 7, "SignatureVerification", TRADER)
            await _register(node, client, ALICE, 8, "SignatureVerification", OTHER)
            twice = await client.broadcast(ALICE.sign_tx(
                [remove_authenticator(A, 0), remove_authenticator(A, 0)], sequence=9,
            ))
            assert _codes(twice) == ("accountplus", 1)
            both = await client.broadcast(ALICE.sign_tx(
                [remove_authenticator(A, 0), remove_authenticator(A, 1)], sequence=9,
            ))
            assert _codes(both) == ("", 0), both.raw_log
            node.step_blocks(1)
            assert await _list(client, A) == []
            assert (await client.account(A)).sequence == 10

    asyncio.run(scenario())
