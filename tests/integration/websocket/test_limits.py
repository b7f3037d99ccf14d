# SPDX-License-Identifier: Apache-2.0
"""DYDXWebSocketClient limits: the pool cap, subscribe pacing, internal errors, message-id gaps."""

from __future__ import annotations

import time
from collections import defaultdict

from nautilus_dydx._core.frames import FrameError
from nautilus_dydx._core.frames import ResyncNeeded
from nautilus_dydx._core.frames import WsError
from nautilus_dydx.sandbox import MarketConfig
from nautilus_dydx.sandbox import indexer_ws
from nautilus_dydx.sandbox.indexer_ws import WsSettings
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox
from tests.integration.sandbox.test_indexer_support import wait_for
from tests.integration.websocket.support import Owner
from tests.integration.websocket.support import connected
from tests.integration.websocket.support import new_client
from tests.integration.websocket.support import wait_active


def forty_markets() -> tuple[MarketConfig, ...]:
    return tuple(
        MarketConfig(f"M{i:02d}-USD", i, -9, -9, 1_000_000, 100_000, str(100 + i))
        for i in range(40)
    )


def test_forty_markets_spread_over_the_pool_at_most_32_per_channel() -> None:
    async def scenario() -> None:
        settings = WsSettings(batch_interval_s=0.05)  # Venue limits: 32 per market channel
        config = make_config(markets=forty_markets())
        async with running_sandbox(config=config, ws_settings=settings) as (sandbox, _, _):
            owner = Owner()
            async with connected(new_client(sandbox, owner)) as client:
                tickers = [m.ticker for m in config.markets]
                for ticker in tickers:
                    await client.subscribe_orderbook(ticker)
                    await client.subscribe_trades(ticker)
                keys = [(c, t) for t in tickers for c in ("v4_orderbook", "v4_trades")]
                await wait_active(client, keys, timeout=10.0)
                assert len(client.connections) == 2
                per_server = sorted(
                    (
                        sum(1 for c, _ in s.subscriptions if c == "v4_orderbook"),
                        sum(1 for c, _ in s.subscriptions if c == "v4_trades"),
                    )
                    for s in sandbox.ws.connections
                )
                assert per_server == [(8, 8), (32, 32)]
                assert owner.of(WsError) == []
                assert len(owner.subscribed("v4_orderbook")) == 40
    run(scenario())


def test_a_lower_venue_limit_moves_the_refused_subscription_to_a_new_connection() -> None:
    async def scenario() -> None:
        settings = WsSettings(batch_interval_s=0.05, limits={"v4_orderbook": 2})
        async with running_sandbox(ws_settings=settings) as (sandbox, _, _):
            owner = Owner()
            async with connected(new_client(sandbox, owner)) as client:
                tickers = ["BTC-USD", "ETH-USD", "SOL-USD", "PEPE-USD"]
                for ticker in tickers:
                    await client.subscribe_orderbook(ticker)
                await wait_active(client, [("v4_orderbook", t) for t in tickers])
                counts = sorted(len(s.subscriptions) for s in sandbox.ws.connections)
                assert counts == [2, 2]
                assert len(client.connections) == 2
    run(scenario())


class _AttemptRecording(indexer_ws.IndexerConnection):
    attempts: dict = defaultdict(list)

    def _subscribe(self, message: dict) -> None:
        key = (self.connection_id, message.get("channel"), message.get("id"))
        type(self).attempts[key].append(time.monotonic())
        super()._subscribe(message)


def test_internal_error_resubscribes_later_within_two_attempts_per_second(monkeypatch) -> None:
    monkeypatch.setattr(indexer_ws, "IndexerConnection", _AttemptRecording)
    _AttemptRecording.attempts = defaultdict(list)

    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            owner = Owner()
            # Retry as soon as asked (10 ms): only the pacer holds subscribes back
            client = new_client(sandbox, owner, resubscribe_delay_s=0.01)
            async with connected(client):
                sandbox.faults.fail_snapshots("v4_trades")
                await client.subscribe_trades("BTC-USD")
                attempts = lambda: sum(len(v) for v in _AttemptRecording.attempts.values())  # noqa
                await wait_for(lambda: attempts() >= 5)
                sandbox.faults.fail_snapshots("v4_trades", on=False)
                await wait_active(client, [("v4_trades", "BTC-USD")])

                (times,) = _AttemptRecording.attempts.values()
                # Server's view: no three attempts within one second, so never rate limited
                assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[2:]))
                assert list(client.connections[0].close_codes) == []
                assert owner.of(WsError) == []  # Handled by the client, not forwarded
                reasons = {reason for _, _, reason in owner.stale}
                assert reasons == {"snapshot failed (Indexer internal error)"}
                assert len(owner.subscribed("v4_trades")) == 1
    run(scenario())


def test_lost_message_is_reported_as_a_gap_and_the_connection_resyncs() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            owner = Owner()
            async with connected(new_client(sandbox, owner)) as client:
                await client.subscribe_block_height()
                await client.subscribe_orderbook("BTC-USD")
                keys = [("v4_block_height", None), ("v4_orderbook", "BTC-USD")]
                await wait_active(client, keys)
                sandbox.faults.inject_malformed(1)  # The next frame arrives truncated
                sandbox.node.step_blocks(1)
                await wait_for(lambda: len(owner.errors) == 1)
                assert client.gaps == 0  # Not yet known: the next id shows the hole
                sandbox.node.step_blocks(1)
                await wait_for(lambda: len(owner.reconnected) == 1)
                await wait_active(client, keys)
                assert isinstance(owner.errors[0], FrameError)
                assert client.gaps == 1
                assert {k[:2] for k in owner.stale} == set(keys)
                assert all(r.startswith("message_id gap (1 missing") for *_, r in owner.stale)
    run(scenario())


def test_duplicated_message_is_counted_not_reported() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, _):
            owner = Owner()
            async with connected(new_client(sandbox, owner)) as client:
                await client.subscribe_block_height()
                await wait_active(client, [("v4_block_height", None)])
                sandbox.faults.duplicate_next(1)
                sandbox.node.step_blocks(2)
                tracker = client.connections[0].listener.tracker
                await wait_for(lambda: tracker.last_message_id == 3)
                assert tracker.duplicates == 1
                assert client.gaps == 0 and owner.stale == []
    run(scenario())


def test_a_book_that_stays_crossed_is_resubscribed_for_a_fresh_snapshot() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, _, grpc_client):
            owner = Owner()
            async with connected(new_client(sandbox, owner, max_cross_ns=1)) as client:
                await client.subscribe_orderbook("BTC-USD")
                await wait_active(client, [("v4_orderbook", "BTC-USD")])
                gtb = sandbox.node.height + 10
                await grpc_client.broadcast(
                    BOB.sign_tx([place(K2_ADDRESS, 1, SELL, 1_000_000, 6_500_000_000, gtb=gtb)]),
                )
                sandbox.node.step_blocks(1)
                sandbox.faults.force_crossed_book("BTC-USD")
                context = client.parser.context("BTC-USD")
                await wait_for(lambda: context.book.is_crossed())
                # A later update while still crossed (beyond max_cross_ns) asks for a resync
                sandbox.state.set_level("BTC-USD", "SELL", "65500", "0.0001")
                await wait_for(lambda: len(owner.subscribed("v4_orderbook")) == 2)
                assert client.resyncs == 1
                assert len(owner.of(ResyncNeeded)) == 1
                assert owner.stale[0][:2] == ("v4_orderbook", "BTC-USD")
                assert owner.stale[0][2].startswith("resync: ")
                await wait_for(lambda: len(context.book) > 0 and not context.book.is_crossed())
    run(scenario())
