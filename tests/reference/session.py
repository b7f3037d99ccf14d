# SPDX-License-Identifier: Apache-2.0
"""Pure-Python twin of nautilus_dydx._core.session: message_id scanning and gap tracking."""

from __future__ import annotations

import re


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

    def observe(self, message_id: int) -> list[int] | None:
        """Record one counted message; return the ids now known to be missing."""
        last = self.last_message_id
        if message_id > last:
            self.last_message_id = message_id
            skipped = range(last + 1, message_id)
            if len(skipped) > MAX_HOLES:
                out = sorted(self._holes) + list(skipped)
                self._holes.clear()
                self.missing += len(out)
                return out
            self._holes.update(skipped)
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
