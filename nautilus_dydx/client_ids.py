# SPDX-License-Identifier: Apache-2.0
"""Restart-safe mapping of Nautilus client order IDs to dYdX (client_id, client_metadata) pairs."""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from calendar import timegm
from collections import OrderedDict
from collections.abc import Callable
from time import gmtime
from typing import Any
from typing import Final

from nautilus_dydx._core.orders import pack_ascii_client_order_id
from nautilus_dydx.client_id_store import KIND_PREFIX
from nautilus_dydx.client_id_store import ClientIdStore
from nautilus_dydx.common.limits import CLIENT_ID_RETENTION_SECS
from nautilus_dydx.common.limits import STATEFUL_ORDER_WINDOW_SECS


# The scheme
# ----------
# A dYdX order carries two opaque uint32 values: ``client_id`` (part of the on-chain OrderId, so
# it must be unique among the account's live orders of a market and flag kind) and
# ``client_metadata`` (echoed by the indexer, not part of the identity). Bit 31 of the metadata
# marks our orders (other clients use 0, 1, 2 or 4); bit 30 selects one of two layouts.
#
# Packed (bit 30 = 0), decodable anywhere without state: ``O-YYYYMMDD-HHMMSS-TTT-SSS-N`` with
# three-digit numeric tags and N < 16384, generated before 2032-07-05:
#
#   payload (62 bits) = seconds since 2024-01-01T00:00:00Z (28 bits)
#                     | trader tag TTT (10 bits) | strategy tag SSS (10 bits)
#                     | count N, 1 .. 16383 without leading zeros (14 bits)
#   client_metadata   = 0x80000000 | payload >> 32
#   client_id         = (payload & 0xFFFFFFFF) ^ mix32(client_metadata)
#
# The XOR with a hash of the high half is a one-round Feistel step: it is undone from the
# metadata alone and spreads the time and tags into ``client_id``. (This is bit for bit the
# layout of earlier versions, whose 29-bit time kept bit 30 clear until 2032.)
#
# Stored (bit 30 = 1), every other ID: the ID is split into a key and a trailing decimal count
# (``O-20260101-000000-001-001-`` and 16384; a UUID with no count is all key). The key gets an
# index in the durable `ClientIdStore` (SQLite in the state directory, no Nautilus database),
# written before the pair is returned, so before the order is signed:
#
#   client_metadata   = 0xC0000000 | index (30 bits)
#   client_id         = count (32 bits, 0 for none) ^ mix32(client_metadata)
#
# One store row serves every ID of a generator second, so counts of 2**24 and beyond cost one
# write per second and strategy. When a ``client_id`` is already used by another live order
# the ID gets a row of its own (a new index, so a new ``client_id``); an ID already placed
# whose pair is taken raises `ClientIdCollisionError`.

EPOCH_SECONDS: Final = 1_704_067_200  # 2024-01-01T00:00:00Z
TIME_BITS: Final = 28
TAG_BITS: Final = 10
COUNT_BITS: Final = 14
PACKED_FLAG: Final = 0x8000_0000
STORED_FLAG: Final = 0x4000_0000
INDEX_MASK: Final = 0x3FFF_FFFF
MAX_U32: Final = 0xFFFF_FFFF
MAX_COUNT_DIGITS: Final = 10

_NAUTILUS_HEAD = re.compile(r"O-(\d{8})-(\d{6})-(\d{3})-(\d{3})-")
_PREFIX_LENGTH: Final = 26  # len("O-YYYYMMDD-HHMMSS-TTT-SSS-")
_LEADING: Final = "123456789"
_PREFIX_CACHE_SIZE: Final = 1024
_UNKNOWN: Final = object()
_VARIANT_DIGITS: Final = "89ab"
_packed_heads: dict[str, tuple[int, int, int] | None] = {}  # Head -> parts, or None

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
    Return the stateless ``(client_id, client_metadata)`` of an ID, or ``None`` if it does not fit.

    Parameters
    ----------
    client_order_id : str
        An ID such as ``"O-20260101-000000-001-001-1"``.

    Returns
    -------
    tuple[int, int] | None

    """
    if client_order_id.isascii():
        return pack_ascii_client_order_id(client_order_id)  # Compiled, same result
    return pack_any_client_order_id(client_order_id)


def pack_any_client_order_id(client_order_id: str) -> tuple[int, int] | None:
    """
    Return `pack_client_order_id` of any ID, interpreted (``\\d`` is any Unicode digit).

    Parameters
    ----------
    client_order_id : str

    Returns
    -------
    tuple[int, int] | None

    """
    # The ``O-YYYYMMDD-HHMMSS-TTT-SSS-`` head changes at most once a second: decoded once.
    # The count fills the low 14 bits, so the metadata (bits 32 and up) and its hash depend
    # on the head alone
    prefix = client_order_id[:_PREFIX_LENGTH]
    head = _packed_heads.get(prefix, _UNKNOWN)
    if head is _UNKNOWN:
        head = _packed_head_parts(prefix)
        if len(_packed_heads) >= _PREFIX_CACHE_SIZE:
            _packed_heads.clear()
        _packed_heads[prefix] = head
    if head is None:
        return None
    # The count as ``[1-9]\d{0,4}`` (``\d`` is any Unicode decimal digit, as `str.isdecimal`)
    count = client_order_id[_PREFIX_LENGTH:]
    if not 0 < len(count) <= 5 or count[0] not in _LEADING or not count.isdecimal():
        return None
    number = int(count)
    if number >= (1 << COUNT_BITS):
        return None
    low_bits, metadata, mask = head
    return (low_bits | number) ^ mask, metadata


def _packed_head_parts(prefix: str) -> tuple[int, int, int] | None:
    # (low 32 payload bits without the count, client_metadata, mix32(client_metadata))
    head = _packed_head(prefix)
    if head is None:
        return None
    payload = head << COUNT_BITS
    metadata = PACKED_FLAG | (payload >> 32)
    return payload & MAX_U32, metadata, _mix32(metadata)


def _packed_head(prefix: str) -> int | None:
    # Time and tags of ``O-YYYYMMDD-HHMMSS-TTT-SSS-``, or None where no packed ID has them
    match = _NAUTILUS_HEAD.fullmatch(prefix)
    if match is None:
        return None
    date, time, trader, strategy = match.groups()
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
    if not 0 <= seconds < (1 << TIME_BITS):
        return None
    return (((seconds << TAG_BITS) | int(trader)) << TAG_BITS) | int(strategy)


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
    if not client_metadata & PACKED_FLAG or client_metadata & STORED_FLAG:
        return None
    if not 0 <= client_id <= MAX_U32:
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


def split_count(client_order_id: str) -> tuple[str, int]:
    """
    Return an ID's key and trailing decimal count (``0`` if it has none).

    ``key + str(count)`` (or ``key`` alone when the count is 0) gives the ID back. The count
    is at most ten digits, below ``2**32``, without leading zeros.

    Parameters
    ----------
    client_order_id : str
        The client order ID.

    Returns
    -------
    tuple[str, int]

    """
    end = len(client_order_id)
    start = end
    while start > 0 and "0" <= client_order_id[start - 1] <= "9":
        start -= 1
    start = max(start, end - MAX_COUNT_DIGITS)
    if start < end and int(client_order_id[start:]) > MAX_U32:
        start += 1
    while start < end and client_order_id[start] == "0":
        start += 1
    if start == end:
        return client_order_id, 0
    return client_order_id[:start], int(client_order_id[start:])


def stored_pair(index: int, count: int) -> tuple[int, int]:
    """
    Return the ``(client_id, client_metadata)`` of a store index and a count.

    Parameters
    ----------
    index : int
        The store index, 1 to ``2**30 - 1``.
    count : int
        The ID's trailing count, 0 to ``2**32 - 1``.

    Returns
    -------
    tuple[int, int]

    """
    metadata = PACKED_FLAG | STORED_FLAG | index
    return count ^ _mix32(metadata), metadata


class ClientIdCollisionError(ValueError):
    """
    Two client order IDs need the same venue ``client_id`` and neither can move.
    """


_MISSING: Final = object()
_OVERRIDE_ATTEMPTS: Final = 8
_TOUCH_INTERVAL_SECS: Final = 3600
_CACHE_SIZE: Final = 65_536


class ClientIdCodec:
    """
    Encode client order IDs for the venue and decode them back, restart-safe.

    Every ID form Nautilus generates (default, ``use_hyphens=False``, ``use_uuids=True``, any
    trader and strategy tags, any count) decodes again after a restart: packed IDs from the
    pair alone, the others through the durable `store`. Call `mark_seen` for every open
    venue order at start, `encode` before signing (it returns once the store has the entry
    on disk), `release` when an order is closed, and `prune` now and then.

    Parameters
    ----------
    store : ClientIdStore, optional
        The account's durable store (``ClientIdStore.open(config.state_path, ...)``); if
        omitted, an in-memory one (not restart-safe: tests and backtests).
    max_entries : int, default 262144
        Bound of the in-memory maps of live orders (the oldest entries are dropped first).
    release_grace_seconds : float, default 300
        How long a released order's own store entry is kept for late venue messages.
    retention_seconds : float, default 100 days
        Store entries unused this long are pruned (no order lives longer than 95 days).
    on_collision : Callable[[str, int], None], optional
        Called with the client order ID and the taken ``client_id`` whenever an ID is moved
        to a fresh ``client_id`` (for a warning in the log).

    Attributes
    ----------
    collisions : int
        How many IDs were moved to a fresh ``client_id`` because theirs was taken.

    Raises
    ------
    ClientIdStoreError
        From `encode`, `decode` and `prune` when the store cannot be read or written.

    """

    def __init__(
        self,
        store: ClientIdStore | None = None,
        max_entries: int = 262_144,
        release_grace_seconds: float = 300.0,
        retention_seconds: float = CLIENT_ID_RETENTION_SECS,
        on_collision: Callable[[str, int], None] | None = None,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"invalid max_entries, was {max_entries}")
        if retention_seconds < STATEFUL_ORDER_WINDOW_SECS:
            raise ValueError(
                f"invalid retention_seconds: below the 95-day order window, was "
                f"{retention_seconds}",
            )
        self._store = ClientIdStore.in_memory() if store is None else store
        self._clock = self._store.clock
        self._max_entries = max_entries
        self._grace = release_grace_seconds
        self._retention = retention_seconds
        self._lock = threading.RLock()
        self._pairs: OrderedDict[str, tuple[int, int]] = OrderedDict()  # Live IDs
        self._owners: OrderedDict[int, str | None] = OrderedDict()  # client_id -> ID or None
        self._prefixes: OrderedDict[str, int] = OrderedDict()  # Key -> index
        self._touched: OrderedDict[int, float] = OrderedDict()  # Index -> last age reset
        self._keys: OrderedDict[int, tuple[int, str]] = OrderedDict()  # Index -> (kind, key)
        self._session_live: dict[int, int] = {}  # Shared rows added by us -> live IDs
        self._pending: dict[int, float] = {}  # Rows to delete -> release time
        self._store.prune(self._retention)
        self._overrides = self._store.whole_entries()
        self.collisions = 0
        self._on_collision = on_collision

    @property
    def store(self) -> ClientIdStore:
        """
        Return the durable store.
        """
        return self._store

    def encode(self, client_order_id: str) -> tuple[int, int]:
        """
        Return the ``(client_id, client_metadata)`` pair of an order, the same on every call.

        Parameters
        ----------
        client_order_id : str
            The Nautilus client order ID.

        Returns
        -------
        tuple[int, int]

        Raises
        ------
        ValueError
            If the ID is empty.
        ClientIdCollisionError
            If the ID already has a pair whose ``client_id`` another live order holds.
        ClientIdStoreError
            If the store cannot record the ID (the order must not be sent).

        """
        if not isinstance(client_order_id, str) or not client_order_id:
            raise ValueError(f"invalid client_order_id, was {client_order_id!r}")
        with self._lock:
            pair = self._pairs.get(client_order_id)
            if pair is not None:
                self._pairs.move_to_end(client_order_id)
                if pair[1] & STORED_FLAG:
                    self._refresh(pair[1] & INDEX_MASK)
                return pair
            index = self._overrides.get(client_order_id)
            if index is not None:
                self._refresh(index)
                pair = stored_pair(index, 0)
                owner = self._owners.get(pair[0], client_order_id)
                if owner != client_order_id:
                    raise ClientIdCollisionError(
                        f"client_id {pair[0]} of {client_order_id!r} is used by {owner!r}",
                    )
            else:
                pair = pack_client_order_id(client_order_id) or self._stored(client_order_id)
                attempts = 0
                while self._owners.get(pair[0], client_order_id) != client_order_id:
                    attempts += 1
                    if attempts > _OVERRIDE_ATTEMPTS:
                        raise ClientIdCollisionError(
                            f"no free client_id for {client_order_id!r} after {attempts - 1} "
                            "attempts",
                        )
                    self.collisions += 1
                    if self._on_collision is not None:
                        self._on_collision(client_order_id, pair[0])
                    index = self._store.replace_whole(client_order_id)
                    self._cache(self._touched, index, self._clock(), _CACHE_SIZE)
                    self._overrides[client_order_id] = index
                    pair = stored_pair(index, 0)
            self._remember(client_order_id, pair)
            return pair

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
        if not 0 <= client_metadata <= MAX_U32 or not 0 <= client_id <= MAX_U32:
            return None
        if not client_metadata & PACKED_FLAG:
            return None
        if not client_metadata & STORED_FLAG:
            return unpack_client_order_id(client_id, client_metadata)
        index = client_metadata & INDEX_MASK
        count = client_id ^ _mix32(client_metadata)
        with self._lock:
            entry = self._keys.get(index)
            if entry is None:
                entry = self._store.entry(index)
                if entry is None:
                    return None
                self._cache(self._keys, index, entry, _CACHE_SIZE)
        kind, key = entry
        if count == 0:
            return key
        if kind != KIND_PREFIX or split_count(key + str(count)) != (key, count):
            return None
        return key + str(count)

    def mark_seen(self, client_id: int, client_order_id: str | None = None) -> None:
        """
        Record a client ID already used on the venue (for example an open order at startup).

        Parameters
        ----------
        client_id : int
            The venue client ID.
        client_order_id : str, optional
            The Nautilus ID it belongs to, if known; ``None`` marks a foreign order.

        Raises
        ------
        ClientIdCollisionError
            If the client ID is already held by a different known order.

        """
        with self._lock:
            known = self._owners.get(client_id, _MISSING)
            if known is _MISSING or known is None:
                if known is _MISSING or client_order_id is not None:
                    self._cache(self._owners, client_id, client_order_id, self._max_entries)
            elif client_order_id is not None and known != client_order_id:
                raise ClientIdCollisionError(
                    f"client_id {client_id} is used by both {known!r} and {client_order_id!r}",
                )

    def release(self, client_order_id: str) -> bool:
        """
        Forget a closed order; its own store entry is deleted by `prune` after the grace.

        Call on every terminal state (filled, canceled, expired, rejected, denied).

        Parameters
        ----------
        client_order_id : str
            The Nautilus client order ID.

        Returns
        -------
        bool
            Whether the order was live in this codec.

        """
        with self._lock:
            pair = self._pairs.pop(client_order_id, None)
            if pair is None:
                return False
            if self._owners.get(pair[0]) == client_order_id:
                del self._owners[pair[0]]
            if not pair[1] & STORED_FLAG:
                return True
            index = pair[1] & INDEX_MASK
            if self._overrides.get(client_order_id) == index:
                self._pending[index] = self._clock()  # A whole-ID row serves this ID only
                return True
            # A shared row is deleted only if we added it, so every ID using it went through us
            live = self._session_live.get(index)
            if live is not None:
                self._session_live[index] = live - 1
                if live == 1:
                    self._pending[index] = self._clock()
            return True

    def prune(self) -> int:
        """
        Delete released entries past the grace and entries unused beyond the retention.

        Returns
        -------
        int
            The number of store entries deleted.

        """
        with self._lock:
            now = self._clock()
            due = [index for index, at in self._pending.items() if now - at >= self._grace]
            deleted = self._store.delete(due)
            aged = self._store.prune(self._retention)
            gone = set(due) | set(aged)
            for index in due:
                del self._pending[index]
            if gone:
                self._forget_indexes(gone)
            return deleted + len(aged)

    def sizes(self) -> dict[str, int]:
        """
        Return the sizes of the in-memory maps (all bounded).

        Returns
        -------
        dict[str, int]

        """
        with self._lock:
            return {
                "live": len(self._pairs),
                "client_ids": len(self._owners),
                "prefixes": len(self._prefixes),
                "keys": len(self._keys),
                "overrides": len(self._overrides),
                "pending": len(self._pending),
                "session_rows": len(self._session_live),
            }

    def _stored(self, client_order_id: str) -> tuple[int, int]:
        key, count = split_count(client_order_id)
        index = self._prefixes.get(key)
        if index is None:
            index, added = self._store.get_or_add(KIND_PREFIX, key)  # Resets its age too
            if added:
                self._session_live[index] = 0
            self._cache(self._prefixes, key, index, _CACHE_SIZE)
            self._cache(self._touched, index, self._clock(), _CACHE_SIZE)
        else:
            self._prefixes.move_to_end(key)
            self._refresh(index)
        return stored_pair(index, count)

    def _refresh(self, index: int) -> None:
        # An entry in use must outlive its orders: reset its age at most once an hour
        now = self._clock()
        touched = self._touched.get(index)
        if touched is None or now - touched >= _TOUCH_INTERVAL_SECS:
            self._store.touch(index)
            self._cache(self._touched, index, now, _CACHE_SIZE)

    def _remember(self, client_order_id: str, pair: tuple[int, int]) -> None:
        self._cache(self._pairs, client_order_id, pair, self._max_entries)
        self._cache(self._owners, pair[0], client_order_id, self._max_entries)
        if pair[1] & STORED_FLAG:
            index = pair[1] & INDEX_MASK
            self._pending.pop(index, None)
            if index in self._session_live:
                self._session_live[index] += 1

    def _forget_indexes(self, gone: set[int]) -> None:
        for index in gone:
            self._keys.pop(index, None)
            self._touched.pop(index, None)
            self._session_live.pop(index, None)
            self._pending.pop(index, None)
        for key in [k for k, v in self._prefixes.items() if v in gone]:
            del self._prefixes[key]
        for key in [k for k, v in self._overrides.items() if v in gone]:
            del self._overrides[key]

    @staticmethod
    def _cache(table: OrderedDict, key: Any, value: Any, limit: int) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > limit:
            table.popitem(last=False)


def open_client_id_codec(config: Any, address: str, **kwargs: Any) -> ClientIdCodec:
    """
    Return the codec of an execution client's account, over its store in `config.state_path`.

    Parameters
    ----------
    config : DYDXExecClientConfig
        The execution client config (state directory, chain ID, subaccount).
    address : str
        The account's resolved bech32 address.
    **kwargs : Any
        Further `ClientIdCodec` arguments.

    Returns
    -------
    ClientIdCodec

    Raises
    ------
    ClientIdStoreError
        If the state directory or file is unusable.

    """
    store = ClientIdStore.open(
        config.state_path, config.endpoints.chain_id, address, config.subaccount,
    )
    return ClientIdCodec(store, **kwargs)


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


class OrderUuids:
    """
    The indexer's order UUID strings of one subaccount, as `order_uuid` but faster.

    The namespace and subaccount part of the UUIDv5 name is encoded once.

    Parameters
    ----------
    address : str
        The bech32 owner address.
    subaccount_number : int
        The subaccount number.

    """

    __slots__ = ("_prefix",)

    def __init__(self, address: str, subaccount_number: int) -> None:
        sub = subaccount_uuid(address, subaccount_number)
        self._prefix = INDEXER_NAMESPACE.bytes + f"{sub}-".encode()

    def __call__(self, client_id: int, clob_pair_id: int, order_flags: int) -> str:
        """
        Return ``str(order_uuid(address, subaccount_number, ...))`` of one order.

        Parameters
        ----------
        client_id : int
        clob_pair_id : int
        order_flags : int

        Returns
        -------
        str

        """
        name = b"%d-%d-%d" % (client_id, clob_pair_id, order_flags)
        text = hashlib.sha1(self._prefix + name).hexdigest()
        # Version 5 in the 13th digit, the RFC 4122 variant in the top bits of the 17th
        variant = _VARIANT_DIGITS[int(text[16], 16) & 3]
        return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{variant}{text[17:20]}-{text[20:32]}"


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
