# SPDX-License-Identifier: Apache-2.0
"""A token bucket per Indexer base URL, shared by every client of the process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from collections.abc import Mapping
from urllib.parse import urlsplit


class TokenBucket:
    """
    A token bucket refilled continuously, corrected by the server's `RateLimit-*` headers.

    Parameters
    ----------
    capacity : int
        The burst size (requests).
    period_secs : float
        The time in which a full bucket refills.
    clock : Callable[[], float], default time.monotonic
        The clock.

    """

    def __init__(
        self,
        capacity: int,
        period_secs: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity <= 0 or period_secs <= 0:
            raise ValueError(
                f"invalid token bucket, was capacity={capacity!r} period_secs={period_secs!r}",
            )
        self.capacity = float(capacity)
        self.rate = capacity / period_secs
        self._clock = clock
        self._tokens = float(capacity)
        self._stamp = clock()
        self._blocked_until = 0.0

    @property
    def tokens(self) -> float:
        """The tokens available now."""
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def delay(self) -> float:
        """
        Take a token if one is free and return 0.0, else return the seconds to wait.

        Returns
        -------
        float

        """
        self._refill()
        now = self._stamp
        if now < self._blocked_until:
            return self._blocked_until - now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate

    async def acquire(self) -> None:
        """
        Wait until a token is taken.
        """
        while True:
            wait = self.delay()
            if wait <= 0.0:
                return
            await asyncio.sleep(wait)

    def block_for(self, seconds: float) -> None:
        """
        Hold every request for `seconds` (a 429's `Retry-After`).

        Parameters
        ----------
        seconds : float
            The pause.

        """
        self._refill()
        self._blocked_until = max(self._blocked_until, self._stamp + max(0.0, seconds))
        self._tokens = 0.0

    def update_from_headers(self, headers: Mapping[str, str], max_wait_secs: float) -> None:
        """
        Trust the server's remaining budget and reset time when they are lower than ours.

        Parameters
        ----------
        headers : Mapping[str, str]
            The response headers (case-insensitive mapping).
        max_wait_secs : float
            The longest pause a reset time may impose.

        """
        remaining = _number(headers.get("ratelimit-remaining"))
        if remaining is None:
            return
        self._refill()
        self._tokens = min(self._tokens, remaining)
        if remaining <= 0:
            reset_ms = _number(headers.get("ratelimit-reset"))
            if reset_ms is not None:
                wait = min(max_wait_secs, max(0.0, reset_ms / 1000.0 - time.time()))
                self.block_for(wait)


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


_BUCKETS: dict[str, TokenBucket] = {}


def shared_bucket(base_url: str, capacity: int, period_secs: float = 10.0) -> TokenBucket:
    """
    Return the process-wide bucket of `base_url`'s origin; the first caller sets its budget.

    Parameters
    ----------
    base_url : str
        Any URL of the server; only scheme, host and port count.
    capacity : int
        The requests allowed per `period_secs`.
    period_secs : float, default 10.0
        The budget period.

    Returns
    -------
    TokenBucket

    """
    parts = urlsplit(base_url)
    key = f"{parts.scheme}://{parts.netloc}".lower()
    bucket = _BUCKETS.get(key)
    if bucket is None:
        bucket = TokenBucket(capacity, period_secs)
        _BUCKETS[key] = bucket
    return bucket
