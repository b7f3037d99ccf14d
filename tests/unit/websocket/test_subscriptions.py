# SPDX-License-Identifier: Apache-2.0
"""Subscribe pacing, reconnect backoff and client argument checks (no network)."""

from __future__ import annotations

import random

import pytest

from nautilus_dydx.websocket import DYDXWebSocketClient
from nautilus_dydx.websocket.subscriptions import Backoff
from nautilus_dydx.websocket.subscriptions import SubscribePacer
from nautilus_dydx.websocket.subscriptions import key_of


KEY = ("v4_orderbook", "BTC-USD")


def test_pacer_allows_two_attempts_per_window_per_key() -> None:
    pacer = SubscribePacer(rate=2, window_s=1.0)
    pacer.record(KEY, 10.0)
    pacer.record(KEY, 10.2)

    assert pacer.next_allowed(KEY, 10.3) == 11.0
    assert pacer.next_allowed(("v4_trades", "BTC-USD"), 10.3) == 10.3
    assert pacer.next_allowed(KEY, 11.0) == 11.0


def test_paced_attempts_never_exceed_the_rate_in_any_window() -> None:
    pacer = SubscribePacer(rate=2, window_s=1.05)
    now = 0.0
    sent = []
    for _ in range(20):
        now = pacer.next_allowed(KEY, now)
        pacer.record(KEY, now)
        sent.append(now)
        now += 0.01

    assert all(b - a >= 1.05 - 1e-9 for a, b in zip(sent, sent[2:]))


def test_backoff_grows_caps_and_jitters_within_the_upper_half() -> None:
    backoff = Backoff(0.5, 4.0, 2.0, jitter=False)
    assert [backoff.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]

    jittered = Backoff(0.5, 4.0, 2.0, jitter=True, rng=random.Random(3))
    for attempt in range(1, 10):
        base = min(4.0, 0.5 * 2 ** (attempt - 1))
        assert base / 2 <= jittered.delay(attempt) <= base


@pytest.mark.parametrize(
    "kwargs",
    [dict(initial_s=0), dict(initial_s=2.0, max_s=1.0), dict(factor=0.5)],
)
def test_backoff_rejects_bad_settings(kwargs) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)


def test_key_of_normalises_channels_without_ids() -> None:
    assert key_of("v4_block_height", "v4_block_height") == ("v4_block_height", None)
    assert key_of("v4_markets", None) == ("v4_markets", None)
    assert key_of("v4_trades", "ETH-USD") == ("v4_trades", "ETH-USD")


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(url="http://x/v4/ws"),
        dict(max_subscriptions_per_connection=33),
        dict(idle_timeout_s=1.0, ping_reply_timeout_s=2.0),
    ],
)
def test_client_rejects_bad_settings(kwargs) -> None:
    values = dict(url="ws://127.0.0.1:1/v4/ws", handler=print)
    values.update(kwargs)
    with pytest.raises(ValueError):
        DYDXWebSocketClient(**values)


def test_subscribing_before_connect_raises() -> None:
    import asyncio

    client = DYDXWebSocketClient("ws://127.0.0.1:1/v4/ws", print)

    with pytest.raises(RuntimeError):
        asyncio.run(client.subscribe_markets())
    assert client.subscription_count("v4_markets") == 0
