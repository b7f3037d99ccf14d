# SPDX-License-Identifier: Apache-2.0
"""Keep Nautilus's purge of closed orders working once a position it names is purged."""

from __future__ import annotations

import asyncio
import gc

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import Logger
from nautilus_trader.live.execution_engine import LiveExecutionEngine
from nautilus_trader.model.identifiers import PositionId

from nautilus_dydx.common.cache_index import cache_dict


TASK_NAME = "purge_closed_positions_guarded"


class PurgeGuard:
    """
    Runs the engine's purge of closed positions, then mends the index that purge breaks.

    In Nautilus 1.221, purging a position drops its entry from the cache's index of the orders
    of each position, while its closed orders may stay cached (their own purge buffer). The
    first such order the order purge reaches raises `KeyError`, which ends the engine's order
    purge loop for the life of the node: from then on every closed order stays cached. A
    NETTING strategy meets it the first time it stays flat past its positions' purge (dYdX
    positions are always NETTING).

    The guard takes over the engine's position purge loop (same interval, buffer and database
    setting) and, right after each purge, gives every position ID a cached order still names
    an empty entry in that index, so the order purge finds one; entries no order names any
    more are dropped. Orders a failed purge left half-removed (gone from the cache, still in
    its closed index) are purged again, and an order purge loop that ended is restarted. The
    index is private to the compiled `Cache`: it is found by its content, as the one dict of
    the cache that maps a cached position's ID (and every key) to a set.

    Parameters
    ----------
    engine : LiveExecutionEngine
        The node's execution engine.
    cache : Cache
        The node's cache.

    """

    def __init__(self, engine: LiveExecutionEngine, cache: Cache) -> None:
        self._engine = engine
        self._cache = cache
        self._index: dict | None = None
        self._log = Logger(type(self).__name__)
        self.restored = 0
        self.dropped = 0
        self.half_purged = 0
        self.restarts = 0

    @classmethod
    def install(cls, cache: Cache, loop: asyncio.AbstractEventLoop) -> PurgeGuard | None:
        """
        Take over the position purge of the engine that owns `cache`, if it purges positions.

        Returns the guard, or None when there is nothing to guard (no purge configured, no
        live engine found, or a guard already installed).

        """
        engine = next((r for r in gc.get_referrers(cache) if isinstance(r, LiveExecutionEngine)),
                      None)
        if engine is None or not engine.purge_closed_positions_interval_mins:
            return None
        task = engine._purge_closed_positions_task
        if task is not None and task.get_name() == TASK_NAME:
            return None
        if task is not None:
            task.cancel()
        guard = cls(engine, cache)
        # Assigned where the engine keeps its own, so its stop cancels it as it did its own
        engine._purge_closed_positions_task = loop.create_task(guard.run(), name=TASK_NAME)
        return guard

    async def run(self) -> None:
        """Every interval: purge closed positions, mend the index, keep the order purge alive."""
        engine = self._engine
        interval = engine.purge_closed_positions_interval_mins * 60
        buffer = (engine.purge_closed_positions_buffer_mins or 0) * 60
        while True:
            await asyncio.sleep(interval)
            try:
                self.purge_positions(engine._clock.timestamp_ns(), buffer)
                self.revive_order_purge()
            except Exception as e:  # One bad round must not end the loop, as it did Nautilus's
                self._log.error(f"Purging closed positions failed: {e!r}")

    def purge_positions(self, ts_now: int, buffer_secs: int) -> None:
        """Purge closed positions as the engine would, then mend the index at once."""
        self._find()
        self._cache.purge_closed_positions(
            ts_now=ts_now, buffer_secs=buffer_secs,
            purge_from_database=self._engine.purge_from_database,
        )
        self.mend()

    def mend(self) -> None:
        """Give each position ID a cached order names an index entry; finish half purges."""
        cache = self._cache
        for client_order_id in list(cache.client_order_ids_closed()):
            if cache.order(client_order_id) is None:  # Left by a purge that raised
                cache.purge_order(client_order_id, self._engine.purge_from_database)
                self.half_purged += 1
        index = self._index
        if index is None:
            return
        named = {o.position_id for o in cache.orders() if o.position_id is not None}
        for position_id in named:
            if position_id not in index:
                index[position_id] = set()
                self.restored += 1
        for position_id in [p for p, ids in index.items() if not ids and p not in named
                            and cache.position(p) is None]:
            del index[position_id]
            self.dropped += 1

    def revive_order_purge(self) -> None:
        """Restart the engine's order purge loop if an exception ended it (after a mend)."""
        engine = self._engine
        task = engine._purge_closed_orders_task
        if task is None or not task.done() or task.cancelled():
            return
        self.restarts += 1
        self._log.warning(
            f"Nautilus's purge of closed orders had stopped; restarted ({self.restarts})",
        )
        engine._purge_closed_orders_task = asyncio.get_running_loop().create_task(
            engine._purge_closed_orders_loop(engine.purge_closed_orders_interval_mins),
            name="purge_closed_orders",
        )

    def _find(self) -> None:
        # The cache's other dicts keyed by position ID hold positions, strategy IDs and
        # pickled snapshots: only this index holds sets
        if self._index is not None:
            return
        positions = self._cache.positions()
        if positions:
            key = positions[0].id
            self._index = cache_dict(self._cache, lambda d: key in d and all(
                type(k) is PositionId and type(v) is set for k, v in d.items()))
