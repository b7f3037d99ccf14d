# SPDX-License-Identifier: Apache-2.0
"""Pure-Python twin of nautilus_dydx._core.session: message_id scanning and gap tracking."""

from __future__ import annotations

import re
import sys


MAX_HOLES = 4096
_KEY = re.compile(rb'"message_id":[ \t\r\n]*([0-9]{1,19})(?![0-9])')


def scan_message_id(data: bytes) -> int | None:
    """Return the first ``"message_id": <digits>`` value of a raw frame, or ``None``."""
    match = _KEY.search(data)
    if match is None:
        return None
    return int(match.group(1))


class MessageIdTracker:
    """Track the per-connection message_id counter (reference implementation)."""

    def __init__(self) -> None:
        self.last_message_id = 0
        self.missing = 0
        self.duplicates = 0
        self.pending_subscribes = 0
        self._holes: set[int] = set()

    def reset(self) -> None:
        """Start counting again from 0."""
        self.last_message_id = 0
        self._holes.clear()

    @property
    def holes(self) -> frozenset[int]:
        """The skipped ids not yet filled or reported."""
        return frozenset(self._holes)

    def observe(self, message_id: int) -> list[int] | range | None:
        """Record one counted message; return the ids now known to be missing."""
        last = self.last_message_id
        if message_id > last:
            self.last_message_id = message_id
            skipped = message_id - last - 1
            if skipped > MAX_HOLES:
                # A range, not a list: memory stays bounded whatever the id
                first = min(self._holes) if self._holes else last + 1
                self.missing += len(self._holes) + skipped
                self._holes.clear()
                # Capped so that len() fits a Py_ssize_t (an id beyond 2**63 is nonsense anyway)
                return range(first, min(message_id, first + sys.maxsize))
            self._holes.update(range(last + 1, message_id))
            return self.check()
        if message_id in self._holes:
            self._holes.discard(message_id)
            return None
        self.duplicates += 1
        return None

    def check(self) -> list[int] | None:
        """Return the holes once they outnumber the outstanding subscribes."""
        if len(self._holes) <= self.pending_subscribes:
            return None
        out = sorted(self._holes)
        self._holes.clear()
        self.missing += len(out)
        return out
