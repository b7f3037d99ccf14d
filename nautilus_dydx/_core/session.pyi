# SPDX-License-Identifier: Apache-2.0
"""One Indexer connection: the frame listener plus per-connection message_id gap tracking."""

from collections.abc import Callable
from typing import Any

from nautilus_dydx._core.frames import DYDXWsListener
from nautilus_dydx._core.frames import FrameError
from nautilus_dydx._core.frames import FrameParser

def scan_message_id(data: bytes) -> int | None: ...

class MessageIdTracker:
    last_message_id: int
    missing: int
    duplicates: int
    pending_subscribes: int
    def __init__(self) -> None: ...
    def reset(self) -> None: ...
    @property
    def holes(self) -> frozenset[int]: ...
    def observe(self, message_id: int) -> list[int] | range | None: ...
    def check(self) -> list[int] | None: ...

class SessionListener(DYDXWsListener):
    tracker: MessageIdTracker
    direct: Callable[[Any], None] | None
    direct_deltas: bool
    def __init__(
        self,
        parser: FrameParser,
        handler: Callable[[list[Any]], None],
        owner: Any,
        on_error: Callable[[FrameError], None] | None = None,
    ) -> None: ...
    def check_gaps(self) -> None: ...
