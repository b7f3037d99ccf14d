# SPDX-License-Identifier: Apache-2.0
"""`BlockTracker`: chain height and time, a rolling block-time estimate and staleness."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime


DEFAULT_BLOCK_TIME_SECS = 1.0


def _time_ns(value: int | str | datetime) -> int:
    if isinstance(value, bool):
        raise TypeError(f"invalid block time, was {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"block time must be timezone-aware, was {value!r}")
        return int(value.timestamp()) * 1_000_000_000 + value.microsecond * 1_000
    raise TypeError(f"invalid block time, was {value!r}")


class BlockTracker:
    """
    The latest known block, fed by `GetLatestBlock` polls and `v4_block_height` messages.

    It keeps a rolling estimate of the block time (from the last `window` distinct blocks)
    and a chain clock (latest block time plus the local time elapsed since it was seen),
    used to size good-til-block and good-til-block-time and to draw timestamp nonces.

    Parameters
    ----------
    stale_after_secs : float, default 10.0
        A height that has not advanced for this long is reported stale.
    window : int, default 50
        Blocks kept for the block-time estimate.
    clock : Callable[[], float], default time.monotonic
        The local monotonic clock in seconds.

    """

    def __init__(
        self,
        stale_after_secs: float = 10.0,
        window: int = 50,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if stale_after_secs <= 0 or window < 2:
            raise ValueError(
                f"invalid tracker, was stale_after_secs={stale_after_secs!r} window={window!r}",
            )
        self.stale_after_secs = stale_after_secs
        self._clock = clock
        self._samples: deque[tuple[int, int]] = deque(maxlen=window)
        self.height = 0
        self.time_ns = 0
        self._seen_at = 0.0

    def on_block_height(self, height: int, block_time: int | str | datetime) -> bool:
        """
        Record a block; older or repeated heights are ignored.

        Parameters
        ----------
        height : int
            The block height.
        block_time : int | str | datetime
            Unix nanoseconds, an ISO-8601 string or an aware datetime.

        Returns
        -------
        bool
            True if the height advanced.

        """
        height = int(height)
        if height <= self.height:
            return False
        time_ns = _time_ns(block_time)
        self.height = height
        self.time_ns = time_ns
        self._seen_at = self._clock()
        self._samples.append((height, time_ns))
        return True

    async def refresh(self, node: object) -> bool:
        """
        Poll `node.get_latest_block()` once and record the answer.

        Parameters
        ----------
        node : DYDXNodeClient
            The node client.

        Returns
        -------
        bool
            True if the height advanced.

        """
        block = await node.get_latest_block()  # type: ignore[attr-defined]
        return self.on_block_height(block.height, block.time_ns)

    async def poll(
        self,
        node: object,
        interval_secs: float = 1.0,
        on_stale: Callable[[float], None] | None = None,
    ) -> None:
        """
        Refresh from `node` every `interval_secs` until cancelled, reporting stale heights.

        `on_stale` is called once with the seconds since the last new block each time the
        height becomes stale; a node error is skipped (a lasting one shows as staleness).

        Parameters
        ----------
        node : DYDXNodeClient
            The node client.
        interval_secs : float, default 1.0
            The poll interval.
        on_stale : Callable[[float], None], optional
            The stale-height report.

        """
        # Imported here: the grpc package imports this module
        from nautilus_dydx.grpc.errors import DYDXNodeError  # noqa: PLC0415

        reported = False
        while True:
            try:
                await self.refresh(node)
            except DYDXNodeError:
                pass
            if self.is_stale:
                if not reported and on_stale is not None:
                    on_stale(self.seconds_since_block)
                reported = True
            else:
                reported = False
            await asyncio.sleep(interval_secs)

    @property
    def has_block(self) -> bool:
        """Whether any block was recorded."""
        return self.height > 0

    @property
    def block_time_secs(self) -> float:
        """The rolling mean block interval in seconds (1.0 until two blocks are known)."""
        if len(self._samples) < 2:
            return DEFAULT_BLOCK_TIME_SECS
        first_height, first_ns = self._samples[0]
        last_height, last_ns = self._samples[-1]
        if last_ns <= first_ns:
            return DEFAULT_BLOCK_TIME_SECS
        return (last_ns - first_ns) / (last_height - first_height) / 1e9

    @property
    def seconds_since_block(self) -> float:
        """Local seconds since the height last advanced (infinite before any block)."""
        if not self.has_block:
            return math.inf
        return self._clock() - self._seen_at

    @property
    def is_stale(self) -> bool:
        """Whether no new block arrived for `stale_after_secs`."""
        return self.seconds_since_block > self.stale_after_secs

    def chain_time_ns(self) -> int:
        """
        Return the estimated current chain time: latest block time plus local time elapsed.

        Returns
        -------
        int

        Raises
        ------
        RuntimeError
            If no block was recorded yet.

        """
        if not self.has_block:
            raise RuntimeError("no block known yet")
        return self.time_ns + int((self._clock() - self._seen_at) * 1e9)

    def good_til_block(self, blocks_ahead: int) -> int:
        """
        Return a short-term good-til-block `blocks_ahead` blocks past the latest height.

        Parameters
        ----------
        blocks_ahead : int
            At least 1 and at most the short block window (20, or 40 from v9).

        Returns
        -------
        int

        """
        if blocks_ahead < 1:
            raise ValueError(f"invalid blocks_ahead, was {blocks_ahead}")
        if not self.has_block:
            raise RuntimeError("no block known yet")
        return self.height + blocks_ahead

    def blocks_for(self, seconds: float) -> int:
        """
        Return the blocks expected in `seconds` at the estimated block time (at least 1).

        Parameters
        ----------
        seconds : float
            The duration.

        Returns
        -------
        int

        """
        return max(1, math.ceil(seconds / self.block_time_secs))

    def good_til_block_time(self, seconds_ahead: float) -> int:
        """
        Return a stateful good-til-block-time (unix seconds) `seconds_ahead` of the chain clock.

        Parameters
        ----------
        seconds_ahead : float
            How far ahead; at most 95 days.

        Returns
        -------
        int

        """
        return math.ceil(self.chain_time_ns() / 1e9 + seconds_ahead)
