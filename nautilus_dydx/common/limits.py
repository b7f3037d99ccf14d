# SPDX-License-Identifier: Apache-2.0
"""Expiry limits of the chain, shared by the client config and the order policy (§4.3)."""

from __future__ import annotations

from typing import Final


DAY_SECS: Final[int] = 86_400

# Short-term orders: valid iff next <= good_til_block <= next + ShortBlockWindow, where the
# window is 20 before protocol v9 and 40 from v9 on. 20 is valid on every deployed version.
SHORT_BLOCK_WINDOW_SAFE: Final[int] = 20
SHORT_BLOCK_WINDOW_V9: Final[int] = 40
SHORT_BLOCK_WINDOWS: Final[tuple[int, ...]] = (SHORT_BLOCK_WINDOW_SAFE, SHORT_BLOCK_WINDOW_V9)
SHORT_BLOCK_WINDOW_MAX: Final[int] = max(SHORT_BLOCK_WINDOWS)
_V40_MAJOR_VERSIONS: Final[frozenset[int]] = frozenset({9})

# Stateful orders: previous block time < good_til_block_time <= that time + 95 days
STATEFUL_ORDER_WINDOW_SECS: Final[int] = 95 * DAY_SECS

# Kept below the 95-day window for clock skew between us and the previous block
STATEFUL_MARGIN_SECS_DEFAULT: Final[int] = 60
STATEFUL_MARGIN_SECS_MAX: Final[int] = DAY_SECS

# Longest GTC lifetime accepted whatever the margin: 94 days
GTC_HORIZON_SECS_MAX: Final[int] = STATEFUL_ORDER_WINDOW_SECS - STATEFUL_MARGIN_SECS_MAX
GTC_HORIZON_DAYS_MAX: Final[int] = GTC_HORIZON_SECS_MAX // DAY_SECS
GTC_HORIZON_DAYS_DEFAULT: Final[int] = 90

# Minimum lifetime of a stateful cancel from now
STATEFUL_CANCEL_SECS_DEFAULT: Final[int] = 120

# Client id store entries unused this long cannot belong to a live order (window + 5 days)
CLIENT_ID_RETENTION_SECS: Final[int] = STATEFUL_ORDER_WINDOW_SECS + 5 * DAY_SECS


def _check_int(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"invalid `{field}`: expected an integer, was {value!r}")
    if not low <= value <= high:
        raise ValueError(f"invalid `{field}`: expected {low} to {high}, was {value}")
    return value


def check_short_term_blocks(field: str, value: object) -> int:
    """
    Return the blocks ahead of a short-term order, or raise naming `field`.

    Any value from 1 to the largest window of any chain version (40) is accepted; the order
    policy caps it with the window of the connected chain.

    Parameters
    ----------
    field : str
        The name of the field, for the error message.
    value : object
        The value to check.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the value is not an integer from 1 to 40.

    """
    return _check_int(field, value, 1, SHORT_BLOCK_WINDOW_MAX)


def check_short_block_window(field: str, value: object) -> int:
    """
    Return the chain's ShortBlockWindow, or raise naming `field`.

    Parameters
    ----------
    field : str
        The name of the field, for the error message.
    value : object
        The value to check: 20, or 40 when the chain reports protocol v9 or later.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the value is not a window of a deployed chain version.

    """
    if isinstance(value, bool) or value not in SHORT_BLOCK_WINDOWS:
        raise ValueError(
            f"invalid `{field}`: expected one of {SHORT_BLOCK_WINDOWS}, was {value!r}",
        )
    return int(value)  # type: ignore[arg-type]


def check_stateful_margin(field: str, value: object) -> int:
    """
    Return the safety margin kept below the 95-day window, or raise naming `field`.

    Parameters
    ----------
    field : str
        The name of the field, for the error message.
    value : object
        Seconds, 0 to one day.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the value is out of range.

    """
    return _check_int(field, value, 0, STATEFUL_MARGIN_SECS_MAX)


def check_gtc_horizon_seconds(field: str, value: object) -> int:
    """
    Return the lifetime of GTC orders in seconds, or raise naming `field`.

    Parameters
    ----------
    field : str
        The name of the field, for the error message.
    value : object
        Seconds, 1 to 94 days (the 95-day window less the largest margin).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the value is out of range.

    """
    return _check_int(field, value, 1, GTC_HORIZON_SECS_MAX)


def check_gtc_horizon_days(field: str, value: object) -> int:
    """
    Return the lifetime of GTC orders in days, or raise naming `field`.

    Parameters
    ----------
    field : str
        The name of the field, for the error message.
    value : object
        Days, 1 to 94.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the value is out of range.

    """
    return _check_int(field, value, 1, GTC_HORIZON_DAYS_MAX)


def short_block_window_for_version(version: str | None) -> int:
    """
    Return the ShortBlockWindow of a chain from its application version (GetNodeInfo).

    Only versions known to use 40 (v9.x, §4.3) get 40; anything else, including an unknown
    or unparseable version, gets the safe 20, valid on every deployed version.

    Parameters
    ----------
    version : str, optional
        ``application_version.version`` of ``GetNodeInfoResponse``, e.g. ``"v9.0.3"``.

    Returns
    -------
    int

    """
    if not isinstance(version, str):
        return SHORT_BLOCK_WINDOW_SAFE
    major, _, _ = version.strip().removeprefix("v").partition(".")
    if major.isascii() and major.isdigit() and int(major) in _V40_MAJOR_VERSIONS:
        return SHORT_BLOCK_WINDOW_V9
    return SHORT_BLOCK_WINDOW_SAFE
