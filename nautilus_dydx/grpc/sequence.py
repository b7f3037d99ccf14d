# SPDX-License-Identifier: Apache-2.0
"""Account sequence and timestamp-nonce sources for stateful transactions (§6.4)."""

from __future__ import annotations

import re
from collections.abc import Callable


# A sequence at or above this is read by the chain as a unix-millisecond timestamp nonce
TIMESTAMP_NONCE_MIN = 1 << 40
TIMESTAMP_NONCE_WINDOW_MS = 30_000
MAX_TIMESTAMP_NONCES = 20

_EXPECTED = re.compile(r"expected (\d+), got (\d+)")


def is_sequence_error(code: int, codespace: str, raw_log: str) -> bool:
    """
    Return whether a CheckTx rejection is about the sequence or nonce (so a resync may help).

    Parameters
    ----------
    code : int
        The code.
    codespace : str
        The codespace.
    raw_log : str
        The log.

    Returns
    -------
    bool

    """
    if codespace == "sdk" and code == 32:
        return True
    return code in (4, 104) and "sequence" in raw_log.lower()


def expected_sequence(raw_log: str) -> int | None:
    """
    Return the sequence a mismatch log says the chain expects, or None.

    Parameters
    ----------
    raw_log : str
        E.g. ``account sequence mismatch, expected 9, got 7: incorrect account sequence``.

    Returns
    -------
    int | None

    """
    match = _EXPECTED.search(raw_log)
    return None if match is None else int(match.group(1))


class TimestampNonces:
    """
    Unique, strictly increasing millisecond nonces near the chain's clock.

    Parameters
    ----------
    chain_time_ms : Callable[[], int]
        The estimated chain time in unix milliseconds (block time corrected by local time).

    """

    def __init__(self, chain_time_ms: Callable[[], int]) -> None:
        self._chain_time_ms = chain_time_ms
        self.last = 0

    def next(self) -> int:
        """
        Return a fresh nonce, greater than every nonce returned before.

        Returns
        -------
        int

        Raises
        ------
        RuntimeError
            If the chain clock is not a plausible unix-millisecond time.

        """
        now = self._chain_time_ms()
        if now < TIMESTAMP_NONCE_MIN:
            raise RuntimeError(f"chain time is not a unix-millisecond time, was {now}")
        nonce = max(self.last + 1, now)
        self.last = nonce
        return nonce

    def rebase(self) -> None:
        """
        Forget the last nonce when it ran ahead of the chain clock's valid window.
        """
        now = self._chain_time_ms()
        if self.last > now + TIMESTAMP_NONCE_WINDOW_MS // 2:
            self.last = now
