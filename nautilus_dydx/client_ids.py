# SPDX-License-Identifier: Apache-2.0
"""Restart-safe mapping of Nautilus client order IDs to dYdX (client_id, client_metadata) pairs."""

from __future__ import annotations

import hashlib
import re
import uuid
from calendar import timegm
from time import gmtime
from typing import Any
from typing import Final


# The scheme
# ----------
# A dYdX order carries two opaque uint32 values: ``client_id`` (part of the on-chain OrderId, so
# it must be unique among the account's live orders of a market and flag kind) and
# ``client_metadata`` (echoed by the indexer, not part of the identity). Together they hold 64
# bits, enough to store a Nautilus-style ID ``O-YYYYMMDD-HHMMSS-TTT-SSS-N`` without any database:
#
#   payload (63 bits) = seconds since 2024-01-01T00:00:00Z (29 bits, until 2041-01-05)
#                     | trader tag TTT, three decimal digits (10 bits)
#                     | strategy tag SSS, three decimal digits (10 bits)
#                     | count N, 1 .. 16383 without leading zeros (14 bits)
#   client_metadata   = 0x80000000 | payload >> 32            (bit 31 marks a packed ID)
#   client_id         = (payload & 0xFFFFFFFF) ^ mix32(client_metadata)
#
# The XOR with a hash of the high half is a one-round Feistel step: it is undone from the
# metadata alone, and it spreads the time and tags into ``client_id`` so IDs of different
# strategies or seconds rarely share a ``client_id``.
#
# Fallback: an ID that does not fit (another format, non-digit tags, count >= 16384, a time
# outside the range) or whose packed ``client_id`` collides with a different order already seen
# on the venue gets ``client_metadata = FALLBACK_METADATA`` and a ``client_id`` from SHA-256 of
# the ID (re-hashed with a counter while it collides). Those pairs are kept in a local map that
# is written to the Nautilus cache's general key-value store (``Cache.add``/``Cache.get``, which
# the cache persists when it has a database) under ``<prefix>cid:<client_id>`` and
# ``<prefix>oid:<client_order_id>``; without a cache the map lives in memory only and fallback
# IDs are not decodable after a restart. Any other metadata (orders from other clients, which
# use 0, 1, 2 or 4) decodes to ``None``: a foreign order.

EPOCH_SECONDS: Final = 1_704_067_200  # 2024-01-01T00:00:00Z
TIME_BITS: Final = 29
TAG_BITS: Final = 10
COUNT_BITS: Final = 14
PACKED_FLAG: Final = 0x8000_0000
FALLBACK_METADATA: Final = 0x4E44_4458  # "NDDX"
MAX_U32: Final = 0xFFFF_FFFF

_NAUTILUS_ID = re.compile(r"O-(\d{8})-(\d{6})-(\d{3})-(\d{3})-([1-9]\d{0,4})")

INDEXER_NAMESPACE: Final = uuid.UUID("0f9da948-a6fb-4c45-9edc-4685c3f3317d")


def _mix32(value: int) -> int:
    # Murmur3 finaliser: a fixed 32-bit hash
    value &= MAX_U32
    value ^= value >> 16
    value = (value * 0x85EBCA6B) & MAX_U32
    value ^= value >> 13
    value = (value * 0xC2B2AE35) & MAX_U32
    value ^= value >> 16
    return value


def pack_client_order_id(client_order_id: str) -> tuple[int, int] | None:
    """
    Return ``(client_id, client_metadata)`` for a Nautilus-style ID, or ``None`` if it does not fit.

    Parameters
    ----------
    client_order_id : str
        An ID such as ``"O-20260101-000000-001-001-1"``.

    Returns
    -------
    tuple[int, int] | None

    """
    match = _NAUTILUS_ID.fullmatch(client_order_id)
    if match is None:
        return None
    date, time, trader, strategy, count = match.groups()
    try:
        parts = (int(date[:4]), int(date[4:6]), int(date[6:]))
        clock = (int(time[:2]), int(time[2:4]), int(time[4:]))
        if not (1 <= parts[1] <= 12 and 1 <= parts[2] <= 31 and clock[0] < 24):
            return None
        if clock[1] > 59 or clock[2] > 59:
            return None
        seconds = timegm((*parts, *clock, 0, 0, 0)) - EPOCH_SECONDS
        # Reject dates such as 20260231 that timegm silently normalises
        if gmtime(seconds + EPOCH_SECONDS)[:6] != (*parts, *clock):
            return None
    except (ValueError, OverflowError):
        return None
    number = int(count)
    if not 0 <= seconds < (1 << TIME_BITS) or number >= (1 << COUNT_BITS):
        return None
    payload = seconds
    payload = (payload << TAG_BITS) | int(trader)
    payload = (payload << TAG_BITS) | int(strategy)
    payload = (payload << COUNT_BITS) | number
    metadata = PACKED_FLAG | (payload >> 32)
    client_id = (payload & MAX_U32) ^ _mix32(metadata)
    return client_id, metadata


def unpack_client_order_id(client_id: int, client_metadata: int) -> str | None:
    """
    Return the Nautilus-style ID packed in a pair, or ``None`` if the pair is not a packed ID.

    Parameters
    ----------
    client_id : int
        The order's uint32 client ID.
    client_metadata : int
        The order's uint32 client metadata.

    Returns
    -------
    str | None

    """
    if not client_metadata & PACKED_FLAG or not 0 <= client_id <= MAX_U32:
        return None
    if client_metadata > MAX_U32:
        return None
    payload = ((client_metadata & ~PACKED_FLAG) << 32) | (client_id ^ _mix32(client_metadata))
    number = payload & ((1 << COUNT_BITS) - 1)
    payload >>= COUNT_BITS
    strategy = payload & ((1 << TAG_BITS) - 1)
    payload >>= TAG_BITS
    trader = payload & ((1 << TAG_BITS) - 1)
    seconds = payload >> TAG_BITS
    if number == 0 or strategy > 999 or trader > 999:
        return None
    t = gmtime(seconds + EPOCH_SECONDS)
    return (
        f"O-{t.tm_year:04d}{t.tm_mon:02d}{t.tm_mday:02d}-{t.tm_hour:02d}{t.tm_min:02d}"
        f"{t.tm_sec:02d}-{trader:03d}-{strategy:03d}-{number}"
    )


class ClientIdCodec:
    """
    Encode client order IDs for the venue and decode them back, with a collision guard.

    Parameters
    ----------
    cache : Any, optional
        A Nautilus ``Cache`` (anything with ``add(str, bytes)`` and ``get(str) -> bytes | None``)
        persisting the fallback map; in memory only if omitted.
    key_prefix : str, default "dydx:"
        The prefix of the cache keys.

    """

    def __init__(self, cache: Any | None = None, key_prefix: str = "dydx:") -> None:
        self._cache = cache
        self._prefix = key_prefix
        self._by_client_id: dict[int, str | None] = {}  # Venue client IDs -> owner (if known)
        self._by_order_id: dict[str, tuple[int, int]] = {}

    def mark_seen(self, client_id: int, client_order_id: str | None = None) -> None:
        """
        Record a client ID already used on the venue (for example an open order at startup).

        Parameters
        ----------
        client_id : int
            The venue client ID.
        client_order_id : str, optional
            The Nautilus ID it belongs to, if known; ``None`` marks a foreign order.

        """
        known = self._by_client_id.get(client_id)
        if known is None:
            self._by_client_id[client_id] = client_order_id

    def encode(self, client_order_id: str) -> tuple[int, int]:
        """
        Return the ``(client_id, client_metadata)`` pair for an order, the same on every call.

        Parameters
        ----------
        client_order_id : str
            The Nautilus client order ID.

        Returns
        -------
        tuple[int, int]

        """
        pair = self._by_order_id.get(client_order_id) or self._load_fallback(client_order_id)
        if pair is not None:
            return pair
        pair = pack_client_order_id(client_order_id)
        if pair is not None and self._is_free(pair[0], client_order_id):
            self._by_client_id[pair[0]] = client_order_id
            self._by_order_id[client_order_id] = pair
            return pair
        return self._fallback(client_order_id)

    def decode(self, client_id: int, client_metadata: int) -> str | None:
        """
        Return the Nautilus client order ID of a venue order, or ``None`` for a foreign order.

        Parameters
        ----------
        client_id : int
            The venue client ID.
        client_metadata : int
            The venue client metadata.

        Returns
        -------
        str | None

        """
        if client_metadata & PACKED_FLAG:
            return unpack_client_order_id(client_id, client_metadata)
        if client_metadata != FALLBACK_METADATA:
            return None
        known = self._by_client_id.get(client_id)
        if known is not None:
            return known
        if self._cache is not None:
            value = self._cache.get(f"{self._prefix}cid:{client_id}")
            if value is not None:
                return value.decode()
        return None

    def _is_free(self, client_id: int, client_order_id: str) -> bool:
        # Free if unused, or already used by this very order
        return self._by_client_id.get(client_id, client_order_id) == client_order_id

    def _load_fallback(self, client_order_id: str) -> tuple[int, int] | None:
        if self._cache is None:
            return None
        value = self._cache.get(f"{self._prefix}oid:{client_order_id}")
        if value is None:
            return None
        pair = (int(value.decode()), FALLBACK_METADATA)
        self._by_order_id[client_order_id] = pair
        self._by_client_id[pair[0]] = client_order_id
        return pair

    def _fallback(self, client_order_id: str) -> tuple[int, int]:
        counter = 0
        while True:
            digest = hashlib.sha256(f"{client_order_id}#{counter}".encode()).digest()
            client_id = int.from_bytes(digest[:4], "big")
            if self._is_free(client_id, client_order_id) and (
                self._cache is None or self._cache.get(f"{self._prefix}cid:{client_id}") is None
            ):
                break
            counter += 1
        pair = (client_id, FALLBACK_METADATA)
        self._by_client_id[client_id] = client_order_id
        self._by_order_id[client_order_id] = pair
        if self._cache is not None:
            self._cache.add(f"{self._prefix}cid:{client_id}", client_order_id.encode())
            self._cache.add(f"{self._prefix}oid:{client_order_id}", str(client_id).encode())
        return pair


def subaccount_uuid(address: str, subaccount_number: int) -> uuid.UUID:
    """
    Return the indexer's subaccount UUID.

    Parameters
    ----------
    address : str
        The bech32 owner address.
    subaccount_number : int
        The subaccount number.

    Returns
    -------
    uuid.UUID

    """
    return uuid.uuid5(INDEXER_NAMESPACE, f"{address}-{subaccount_number}")


def order_uuid(
    address: str,
    subaccount_number: int,
    client_id: int,
    clob_pair_id: int,
    order_flags: int,
) -> uuid.UUID:
    """
    Return the indexer's order UUID (its ``/orders/{orderId}`` key).

    Parameters
    ----------
    address : str
        The bech32 owner address.
    subaccount_number : int
        The subaccount number.
    client_id : int
        The venue client ID.
    clob_pair_id : int
        The market's CLOB pair ID.
    order_flags : int
        0 short-term, 32 conditional, 64 long-term.

    Returns
    -------
    uuid.UUID

    """
    sub = subaccount_uuid(address, subaccount_number)
    return uuid.uuid5(INDEXER_NAMESPACE, f"{sub}-{client_id}-{clob_pair_id}-{order_flags}")
