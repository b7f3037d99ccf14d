# SPDX-License-Identifier: Apache-2.0
"""Indexer WebSocket channels, per-connection limits, subscribe pacing and reconnect backoff."""

from __future__ import annotations

import random
from collections import deque
from enum import Enum


ORDERBOOK = "v4_orderbook"
TRADES = "v4_trades"
CANDLES = "v4_candles"
MARKETS = "v4_markets"
SUBACCOUNTS = "v4_subaccounts"
PARENT_SUBACCOUNTS = "v4_parent_subaccounts"
BLOCK_HEIGHT = "v4_block_height"

# Per-connection subscription limits of the Indexer (protocol reference §3.4)
CHANNEL_LIMITS: dict[str, int] = {
    SUBACCOUNTS: 256,
    PARENT_SUBACCOUNTS: 256,
    CANDLES: 32,
    MARKETS: 32,
    ORDERBOOK: 32,
    TRADES: 32,
    BLOCK_HEIGHT: 1,
}

# Channels whose local state is built from the snapshot and kept by updates
STATEFUL_CHANNELS = frozenset((ORDERBOOK, SUBACCOUNTS, PARENT_SUBACCOUNTS, MARKETS))

# Indexer error texts the client acts on (protocol reference §3.3)
ERROR_INTERNAL = "Internal error, could not fetch data"
ERROR_LIMIT = "Per-connection subscription limit reached"
ERROR_ALREADY = "Invalid subscribe message: already subscribed"
ERROR_INVALID_ID = "Invalid subscription id"
ERROR_INVALID_CHANNEL = "Invalid channel"

Key = tuple[str, str | None]


class SubscriptionState(Enum):
    """The state of one venue subscription on its connection."""

    QUEUED = "queued"        # Wanted; the subscribe is not sent yet (connection down or paced)
    PENDING = "pending"      # Subscribe sent, no reply yet
    ACTIVE = "active"        # `subscribed` received
    RETRY = "retry"          # The Indexer failed the snapshot; subscribing again later


def key_of(channel: str, channel_id: str | None) -> Key:
    """
    Return the subscription key of a channel and id as the client stores it.

    Markets and block height have no id (the server echoes ``"v4_block_height"`` as id).

    Parameters
    ----------
    channel : str
        The channel.
    channel_id : str | None
        The id as sent or received.

    Returns
    -------
    tuple[str, str | None]

    """
    if channel == MARKETS or channel == BLOCK_HEIGHT:
        return channel, None
    return channel, channel_id


class SubscribePacer:
    """
    Allow at most `rate` subscribe attempts per sliding `window_s` for each key.

    The Indexer closes a connection with 1008 after more than 2 subscribe attempts per second
    per (connection, channel, id); one pacer per connection keeps below that.

    Parameters
    ----------
    rate : int, default 2
        The attempts allowed per window.
    window_s : float, default 1.2
        The window in seconds (above the venue's second: network delay can bunch arrivals).

    """

    def __init__(self, rate: int = 2, window_s: float = 1.2) -> None:
        if rate < 1:
            raise ValueError(f"rate must be at least 1, was {rate!r}")
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, was {window_s!r}")
        self.rate = rate
        self.window_s = window_s
        self._attempts: dict[Key, deque[float]] = {}

    def next_allowed(self, key: Key, now: float) -> float:
        """
        Return the earliest time (same clock as `now`) a subscribe for `key` may be sent.

        Parameters
        ----------
        key : tuple[str, str | None]
            The subscription.
        now : float
            The current time in seconds.

        Returns
        -------
        float

        """
        attempts = self._attempts.get(key)
        if attempts is None:
            return now
        while attempts and attempts[0] <= now - self.window_s:
            attempts.popleft()
        if len(attempts) < self.rate:
            return now
        return attempts[0] + self.window_s

    def record(self, key: Key, now: float) -> None:
        """
        Record one subscribe attempt for `key` at `now`.

        Parameters
        ----------
        key : tuple[str, str | None]
            The subscription.
        now : float
            The current time in seconds.

        """
        self._attempts.setdefault(key, deque()).append(now)

    def clear(self) -> None:
        """Forget every attempt (a new connection has fresh limits)."""
        self._attempts.clear()


class Backoff:
    """
    Exponential reconnect delays with jitter: ``initial * factor**(attempt - 1)``, capped.

    With jitter the delay is drawn uniformly from the upper half of that value, so clients
    restarted together spread out.

    Parameters
    ----------
    initial_s : float, default 0.25
        The first delay.
    max_s : float, default 30.0
        The cap.
    factor : float, default 2.0
        The growth per attempt.
    jitter : bool, default True
        Whether to randomise each delay.
    rng : random.Random | None, default None
        The random source (seed it for reproducible tests).

    """

    def __init__(
        self,
        initial_s: float = 0.25,
        max_s: float = 30.0,
        factor: float = 2.0,
        jitter: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        if initial_s <= 0 or max_s < initial_s:
            raise ValueError(
                f"need 0 < initial_s <= max_s, was initial_s={initial_s!r} max_s={max_s!r}",
            )
        if factor < 1:
            raise ValueError(f"factor must be at least 1, was {factor!r}")
        self.initial_s = initial_s
        self.max_s = max_s
        self.factor = factor
        self.jitter = jitter
        self._rng = rng if rng is not None else random.Random()

    def delay(self, attempt: int) -> float:
        """
        Return the delay in seconds before reconnect attempt number `attempt` (1-based).

        Parameters
        ----------
        attempt : int
            The attempt number.

        Returns
        -------
        float

        """
        exponent = max(0, attempt - 1)
        base = min(self.max_s, self.initial_s * self.factor ** min(exponent, 64))
        if not self.jitter:
            return base
        return self._rng.uniform(base / 2, base)
