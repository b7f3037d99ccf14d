# SPDX-License-Identifier: Apache-2.0
"""Per-order latency histograms of the execution client: command, signed, answer, ack, fill."""

from __future__ import annotations

import math
from array import array
from typing import Final


# Stages of one order, in the order they happen
STAGES: Final = ("signed", "broadcast", "venue_ack", "first_fill")
_MAX_NS: Final = (1 << 63) - 1


class LatencyHistogram:
    """
    A bounded sample of latencies (nanoseconds) with percentile queries.

    Samples are kept as 8-byte integers in a ring allocated whole at construction (not one
    Python int each, and no growth while it fills), so a histogram holds ``8 * capacity`` bytes.

    Parameters
    ----------
    capacity : int, default 10_000
        The most recent samples kept.

    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError(f"invalid capacity, was {capacity}")
        self._ring = array("q", bytes(8 * capacity))
        self._capacity = capacity
        self._next = 0  # Where the next sample goes
        self.count = 0

    @property
    def capacity(self) -> int:
        """The most samples kept."""
        return self._capacity

    @property
    def nbytes(self) -> int:
        """The bytes the ring takes (``8 * capacity``)."""
        return self._ring.itemsize * len(self._ring)

    def record(self, value_ns: int) -> None:
        """
        Add one latency sample (negative values are clamped to zero).

        Parameters
        ----------
        value_ns : int
            The latency in nanoseconds.

        """
        self._ring[self._next] = min(max(0, int(value_ns)), _MAX_NS)
        self._next = (self._next + 1) % self._capacity
        self.count += 1

    def percentile(self, q: float) -> int | None:
        """
        Return the `q`-th percentile (nearest rank) in nanoseconds, or None without samples.

        Parameters
        ----------
        q : float
            The percentile, 0 to 100.

        Returns
        -------
        int | None

        """
        if not 0 <= q <= 100:
            raise ValueError(f"invalid percentile, was {q}")
        if not self.count:
            return None
        ordered = sorted(self._ring[:len(self)])
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1]

    def __len__(self) -> int:
        return min(self.count, self._capacity)


class ExecutionMetrics:
    """
    Latencies from each order command to its signed tx, broadcast answer, venue ack and fill.

    Parameters
    ----------
    capacity : int, default 10_000
        Samples kept per stage.

    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.histograms = {stage: LatencyHistogram(capacity) for stage in STAGES}

    def record(self, stage: str, start_ns: int, end_ns: int) -> None:
        """
        Record the time from `start_ns` to `end_ns` for a stage.

        Parameters
        ----------
        stage : str
            One of `STAGES`.
        start_ns : int
            The command time (nanoseconds).
        end_ns : int
            The stage time (nanoseconds).

        """
        self.histograms[stage].record(end_ns - start_ns)

    def percentiles(
        self, quantiles: tuple[float, ...] = (50.0, 90.0, 99.0),
    ) -> dict[str, dict[str, float | int | None]]:
        """
        Return per stage the sample count and the requested percentiles in microseconds.

        Parameters
        ----------
        quantiles : tuple[float, ...], default (50, 90, 99)
            The percentiles.

        Returns
        -------
        dict[str, dict[str, float | int | None]]
            ``{stage: {"count": n, "p50_us": ..., ...}}``.

        """
        result: dict[str, dict[str, float | int | None]] = {}
        for stage, histogram in self.histograms.items():
            row: dict[str, float | int | None] = {"count": histogram.count}
            for q in quantiles:
                value = histogram.percentile(q)
                row[f"p{q:g}_us"] = None if value is None else value / 1_000
            result[stage] = row
        return result
