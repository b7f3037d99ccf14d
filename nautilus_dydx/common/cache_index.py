# SPDX-License-Identifier: Apache-2.0
"""Nautilus's private cache indexes: found by content, and a closed order's replaced IDs."""

from __future__ import annotations

import gc
from collections.abc import Callable
from collections.abc import Iterable

from nautilus_trader.cache.cache import Cache
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import VenueOrderId


class ReplacedVenueIds:
    """
    Forgets the venue order IDs a stateful modify replaced, once their order is closed.

    Nautilus 1.221's `Cache` indexes every venue order ID an order ever had, and purging the
    order removes only its last one: each stateful modify (a cancel-replace under a new ID on
    dYdX) leaves an entry for the life of the process, about 0.4 KB. The index is private to
    the compiled `Cache`; it is found once, as the one dict of the cache that maps a known
    venue order ID to its client order ID. When it cannot be found (another Nautilus), this
    does nothing.

    Parameters
    ----------
    cache : Cache
        The node's cache.

    """

    def __init__(self, cache: Cache) -> None:
        self._cache = cache
        self._index: dict | None = None
        self._searched = False
        self.forgotten = 0

    def forget(self, client_order_id: ClientOrderId, current: str, replaced: Iterable[str]) -> int:
        """
        Remove the `replaced` venue order IDs of a closed order from the cache's index.

        Parameters
        ----------
        client_order_id : ClientOrderId
            The closed order.
        current : str
            Its venue order ID now (still indexed, as Nautilus keeps the order a while).
        replaced : Iterable[str]
            Its earlier venue order IDs; those indexed under another order are kept.

        Returns
        -------
        int
            The entries removed.

        """
        index = self._index if self._searched else self._find(client_order_id, current)
        if index is None:
            return 0
        removed = 0
        for venue_id in replaced:
            key = VenueOrderId(venue_id)
            if _same(index.get(key), client_order_id):
                del index[key]
                removed += 1
        self.forgotten += removed
        return removed

    def _find(self, client_order_id: ClientOrderId, current: str) -> dict | None:
        key = VenueOrderId(current)
        if not _same(self._cache.client_order_id(key), client_order_id):
            return None  # Not indexed (yet or any more): look again with a later order
        self._searched = True
        self._index = cache_dict(self._cache, lambda d: _same(d.get(key), client_order_id)
                                 and all(type(k) is VenueOrderId for k in d))
        return self._index


def cache_dict(cache: Cache, matches: Callable[[dict], bool]) -> dict | None:
    """
    Return the one dict the compiled `cache` holds for which `matches` is true, or None.

    Nautilus's `Cache` keeps its indexes in private attributes Python cannot name; each is
    found by what it holds. None when no dict or more than one matches.

    """
    found = [d for d in gc.get_referents(cache) if type(d) is dict and matches(d)]
    return found[0] if len(found) == 1 else None


def _same(found: ClientOrderId | None, client_order_id: ClientOrderId) -> bool:
    # Nautilus identifiers refuse to compare with None
    return found is not None and found == client_order_id
