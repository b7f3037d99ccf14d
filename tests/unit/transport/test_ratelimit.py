# SPDX-License-Identifier: Apache-2.0
"""TokenBucket: refill, server headers, Retry-After blocks, sharing per origin."""

from __future__ import annotations

import time

import pytest

from nautilus_dydx.http.client import DYDXHttpClient
from nautilus_dydx.http.client import _retry_after_secs
from nautilus_dydx.http.ratelimit import TokenBucket
from nautilus_dydx.http.ratelimit import shared_bucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_asks_to_wait_for_one_refill() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, 10.0, clock)
    assert [bucket.delay() for _ in range(10)] == [0.0] * 10
    assert bucket.delay() == pytest.approx(1.0)
    clock.now += 1.0
    assert bucket.delay() == 0.0


def test_remaining_header_lowers_tokens_and_zero_blocks_until_reset() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, 10.0, clock)
    bucket.update_from_headers({"ratelimit-remaining": "3"}, max_wait_secs=60.0)
    assert bucket.tokens == 3
    reset_ms = (time.time() + 2.0) * 1000
    bucket.update_from_headers(
        {"ratelimit-remaining": "0", "ratelimit-reset": str(reset_ms)}, max_wait_secs=60.0,
    )
    assert 1.5 < bucket.delay() <= 2.0
    clock.now += 2.0
    assert bucket.delay() == 0.0


def test_reset_pause_is_capped_and_garbage_headers_are_ignored() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, 10.0, clock)
    bucket.update_from_headers({"ratelimit-remaining": "x"}, max_wait_secs=1.0)
    assert bucket.tokens == 100
    bucket.update_from_headers(
        {"ratelimit-remaining": "0", "ratelimit-reset": str((time.time() + 3600) * 1000)},
        max_wait_secs=1.0,
    )
    assert bucket.delay() == pytest.approx(1.0)


def test_block_for_holds_every_request() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, 10.0, clock)
    bucket.block_for(0.5)
    assert bucket.delay() == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.delay() == 0.0


def test_shared_bucket_is_one_per_origin() -> None:
    first = shared_bucket("http://unit-test-host:3002/v4", 100)
    second = shared_bucket("HTTP://unit-test-host:3002/other", 5)
    third = shared_bucket("http://unit-test-host:3003/v4", 100)
    assert first is second
    assert first is not third
    assert first.capacity == 100


@pytest.mark.parametrize(("capacity", "period"), [(0, 10.0), (10, 0.0), (-1, 1.0)])
def test_invalid_bucket_is_refused(capacity: int, period: float) -> None:
    with pytest.raises(ValueError):
        TokenBucket(capacity, period)


def test_retry_after_is_honoured_up_to_the_delay_cap() -> None:
    assert _retry_after_secs("1500") == 1.5  # the Indexer sends milliseconds
    assert _retry_after_secs("soon") is None
    client = DYDXHttpClient(
        "http://127.0.0.1:9", retry_delay_initial_ms=10, retry_delay_max_ms=2_000,
    )
    assert all(0.005 <= client._backoff(0, None) <= 0.01 for _ in range(50))
    assert all(0.04 <= client._backoff(3, None) <= 0.08 for _ in range(50))
    assert client._backoff(0, 1.5) == 1.5
    assert client._backoff(0, 60.0) == 2.0
