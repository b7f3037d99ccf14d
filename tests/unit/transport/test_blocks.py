# SPDX-License-Identifier: Apache-2.0
"""BlockTracker: heights, rolling block time, staleness, expiry sizing and the chain clock."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone

import pytest

from nautilus_dydx.common.blocks import BlockTracker


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


SECOND = 1_000_000_000
T0 = 1_767_225_600 * SECOND  # 2026-01-01T00:00:00Z


def test_heights_only_advance_and_accept_iso_datetime_and_ns() -> None:
    tracker = BlockTracker(clock=FakeClock())
    assert not tracker.has_block
    assert tracker.on_block_height(10, T0)
    assert tracker.on_block_height(11, "2026-01-01T00:00:01.500Z")
    assert tracker.time_ns == T0 + 1_500_000_000
    assert not tracker.on_block_height(11, T0 + 9 * SECOND)
    assert not tracker.on_block_height(5, T0)
    assert tracker.on_block_height(12, datetime(2026, 1, 1, 0, 0, 3, tzinfo=timezone.utc))
    assert (tracker.height, tracker.time_ns) == (12, T0 + 3 * SECOND)


def test_rolling_block_time_uses_the_last_window_of_blocks() -> None:
    tracker = BlockTracker(window=3, clock=FakeClock())
    assert tracker.block_time_secs == 1.0
    tracker.on_block_height(1, T0)
    tracker.on_block_height(2, T0 + 2 * SECOND)
    assert tracker.block_time_secs == 2.0
    # A gap in heights (missed messages) counts per block, not per message
    tracker.on_block_height(6, T0 + 4 * SECOND)
    assert tracker.block_time_secs == pytest.approx(4 / 5)
    tracker.on_block_height(7, T0 + 5 * SECOND)
    assert tracker.block_time_secs == pytest.approx(3 / 5)


def test_stale_height_is_reported_after_the_threshold() -> None:
    clock = FakeClock()
    tracker = BlockTracker(stale_after_secs=5.0, clock=clock)
    assert tracker.is_stale
    tracker.on_block_height(1, T0)
    clock.now = 4.0
    assert not tracker.is_stale
    clock.now = 5.5
    assert tracker.is_stale and tracker.seconds_since_block == 5.5
    tracker.on_block_height(2, T0 + SECOND)
    assert not tracker.is_stale


def test_expiry_sizing_and_chain_clock() -> None:
    clock = FakeClock()
    tracker = BlockTracker(clock=clock)
    with pytest.raises(RuntimeError):
        tracker.chain_time_ns()
    tracker.on_block_height(100, T0)
    tracker.on_block_height(101, T0 + SECOND // 2)
    assert tracker.good_til_block(20) == 121
    with pytest.raises(ValueError):
        tracker.good_til_block(0)
    assert tracker.blocks_for(10.0) == 20
    assert tracker.blocks_for(0.0) == 1
    clock.now = 2.25
    assert tracker.chain_time_ns() == T0 + SECOND // 2 + 2_250_000_000
    assert tracker.good_til_block_time(60) == 1_767_225_600 + 3 + 60


def test_naive_datetime_is_refused() -> None:
    tracker = BlockTracker()
    with pytest.raises(ValueError):
        tracker.on_block_height(1, datetime(2026, 1, 1))
