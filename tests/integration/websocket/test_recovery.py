# SPDX-License-Identifier: Apache-2.0
"""DYDXWebSocketClient recovery: drops, restarts, close codes, dead sockets, heartbeats."""

from __future__ import annotations

import pytest
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx.sandbox import indexer_ws
from nautilus_dydx.sandbox.indexer_ws import IndexerWsServer
from nautilus_dydx.sandbox.indexer_ws import WsSettings
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox
from tests.integration.sandbox.test_indexer_support import wait_for
from tests.integration.websocket.support import FreezableProxy
from tests.integration.websocket.support import Owner
from tests.integration.websocket.support import connected
from tests.integration.websocket.support import new_client
from tests.integration.websocket.support import wait_active


BTC = InstrumentId.from_str("BTC-USD-PERP.DYDX")
BOOK = ("v4_orderbook", "BTC-USD")
KEYS = [BOOK, ("v4_markets", None), ("v4_subaccounts", f"{K2_ADDRESS}/0")]
Q = 1_000_000


async def subscribe_all(client) -> None:
    await client.subscribe_orderbook("BTC-USD")
    await client.subscribe_markets()
    await client.subscribe_subaccount(K2_ADDRESS, 0)
    await wait_active(client, KEYS)


def rebuilt_book(owner: Owner) -> OrderBook:
    book = OrderBook(BTC, BookType.L2_MBP)
    for deltas in owner.of(OrderBookDeltas):
        book.apply_deltas(deltas)
    return book


async def rest_ask(sandbox, grpc_client, client_id: int, subticks: int, sequence: int) -> None:
    gtb = sandbox.node.height + 10
    await grpc_client.broadcast(
        BOB.sign_tx([place(K2_ADDRESS, client_id, SELL, Q, subticks, gtb=gtb)], sequence=sequence),
    )
    sandbox.node.step_blocks(1)


def test_dropped_socket_reconnects_resubscribes_and_reports_stale_state() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, grpc_client):
            owner = Owner()
            async with connected(new_client(sandbox, owner)) as client:
                await subscribe_all(client)
                await rest_ask(sandbox, grpc_client, 1, 6_500_000_000, 0)
                await wait_for(lambda: rebuilt_book(owner).best_ask_price() is not None)

                assert sandbox.faults.drop_ws() == 1
                await wait_for(lambda: len(owner.reconnected) == 1)
                await wait_active(client, KEYS)

                assert sorted(k[:2] for k in owner.stale) == sorted(KEYS)
                assert all(reason.startswith("disconnected") for *_, reason in owner.stale)
                assert sorted(owner.reconnected[0][1]) == sorted(KEYS)
                assert client.connections[0].connects == 2
                assert len(owner.subscribed("v4_orderbook")) == 2
                # The second snapshot starts with a CLEAR and rebuilds the same book
                await rest_ask(sandbox, grpc_client, 2, 6_510_000_000, 1)
                await wait_for(lambda: len(rebuilt_book(owner).asks()) == 2)
                assert [str(level.price) for level in rebuilt_book(owner).asks()] == [
                    "65000", "65100",
                ]
    run(scenario())


@pytest.mark.parametrize("code", [1008, 1011, 1012])
def test_close_codes_reconnect_and_resubscribe(code: int) -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            owner = Owner()
            async with connected(new_client(sandbox, owner)) as client:
                await subscribe_all(client)
                for server_connection in list(sandbox.ws.connections):
                    server_connection.close(code, b"test")
                await wait_for(lambda: len(owner.reconnected) == 1)
                await wait_active(client, KEYS)
                assert list(client.connections[0].close_codes) == [code]
                assert {k[:2] for k in owner.stale} == set(KEYS)
                assert f"close code {code}" in owner.stale[0][2]
                server = next(iter(sandbox.ws.connections))
                assert set(server.subscriptions) == {BOOK, ("v4_markets", None), KEYS[2]}
    run(scenario())


def test_server_restart_on_the_same_port_is_survived_with_backoff() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            owner = Owner()
            async with connected(new_client(sandbox, owner)) as client:
                await subscribe_all(client)
                port = sandbox.ws.port
                await sandbox.ws.stop()  # Closes with 1012 and stops listening
                await wait_for(lambda: len(owner.stale) == len(KEYS))
                assert list(client.connections[0].close_codes) == [1012]
                assert not client.connections[0].is_open
                # Changes while down take effect on the new connection
                await client.subscribe_trades("ETH-USD")
                await client.unsubscribe_markets()
                restarted = IndexerWsServer(
                    sandbox.state, "127.0.0.1", port, WsSettings(batch_interval_s=0.05),
                    sandbox.faults,
                )
                await restarted.start()
                sandbox.ws = restarted
                await wait_for(lambda: len(owner.reconnected) == 1)
                await wait_active(client, [BOOK, KEYS[2], ("v4_trades", "ETH-USD")])
                server = next(iter(restarted.connections))
                assert set(server.subscriptions) == {BOOK, KEYS[2], ("v4_trades", "ETH-USD")}
                assert client.subscription_state("v4_markets") is None
    run(scenario())


def test_dead_socket_is_detected_by_idle_ping_and_replaced() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            proxy = FreezableProxy(sandbox.ws.port)
            await proxy.start()
            owner = Owner()
            client = new_client(
                sandbox, owner, url=proxy.url, idle_timeout_s=0.2, ping_reply_timeout_s=0.1,
            )
            try:
                async with connected(client):
                    await subscribe_all(client)
                    proxy.freeze_existing()  # No frame passes either way; no FIN either
                    await wait_for(lambda: len(owner.reconnected) == 1)
                    await wait_active(client, KEYS)
                    assert proxy.accepted == 2
                    assert {k[:2] for k in owner.stale} == set(KEYS)
                    assert list(client.connections[0].close_codes) == [None]  # No close frame came
            finally:
                await proxy.stop()
    run(scenario())


class _PongCounting(indexer_ws.IndexerConnection):
    pongs = 0

    def on_ws_frame(self, transport, frame) -> None:
        if frame.msg_type == indexer_ws.WSMsgType.PONG:
            type(self).pongs += 1
        super().on_ws_frame(transport, frame)


def test_server_pings_are_answered_and_the_connection_stays(monkeypatch) -> None:
    monkeypatch.setattr(indexer_ws, "IndexerConnection", _PongCounting)
    _PongCounting.pongs = 0

    async def scenario() -> None:
        settings = WsSettings(ping_interval_s=0.02, pong_timeout_s=0.5, batch_interval_s=0.05)
        async with running_sandbox(ws_settings=settings) as (sandbox, _, _):
            owner = Owner()
            async with connected(new_client(sandbox, owner)) as client:
                await client.subscribe_markets()
                await wait_for(lambda: _PongCounting.pongs >= 5)
                assert client.connections[0].connects == 1
                assert list(client.connections[0].close_codes) == []
                assert owner.stale == []
    run(scenario())
