# SPDX-License-Identifier: Apache-2.0
"""Durable SQLite store of client order ID keys, one file per chain, address and subaccount."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from pathlib import Path
from typing import Final


# Each row gives an index (1 .. 2**30 - 1) to a key:
#   kind 0 (prefix): the client order ID less its trailing count, shared by the IDs of one
#                    generator second; a venue pair decodes to key + count
#   kind 1 (whole):  a whole client order ID that was given its own index after a collision
# Rows are written in autocommit mode with synchronous=FULL, so a returned index is on disk.

KIND_PREFIX: Final = 0
KIND_WHOLE: Final = 1
MAX_INDEX: Final = 0x3FFF_FFFF
SCHEMA_VERSION: Final = "1"
FILE_SUFFIX: Final = ".sqlite3"

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries ("
    " idx INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind INTEGER NOT NULL,"
    " key TEXT NOT NULL,"
    " used_at INTEGER NOT NULL,"
    " UNIQUE (kind, key))",
    "CREATE INDEX IF NOT EXISTS entries_used_at ON entries (used_at)",
)


class ClientIdStoreError(RuntimeError):
    """
    The client order ID store cannot be opened, read or written.
    """


def store_file_name(chain_id: str, address: str, subaccount: int) -> str:
    """
    Return the file name of an account's store inside the state directory.

    Parameters
    ----------
    chain_id : str
        The chain ID (mainnet and testnet share addresses, so it is part of the key).
    address : str
        The bech32 owner address.
    subaccount : int
        The subaccount number.

    Returns
    -------
    str

    """
    chain = _SAFE_NAME.sub("_", chain_id)
    owner = _SAFE_NAME.sub("_", address)
    return f"client-ids-{chain}-{owner}-{int(subaccount)}{FILE_SUFFIX}"


class ClientIdStore:
    """
    A durable map of indexes to client order ID keys for one account, in SQLite.

    Thread-safe; several processes may share a file (SQLite locking), though one execution
    client per account is expected.

    Parameters
    ----------
    path : str | os.PathLike | None
        The database file; ``None`` keeps the store in memory (not restart-safe: tests and
        backtests only).
    chain_id : str
        The chain ID the file belongs to.
    address : str
        The owner address the file belongs to.
    subaccount : int
        The subaccount number the file belongs to.
    clock : Callable[[], float], default time.time
        UNIX seconds, for the ages of entries.
    busy_timeout_secs : float, default 5.0
        How long to wait for another process's write lock.

    Raises
    ------
    ClientIdStoreError
        If the file cannot be created, is corrupt, is not writable, or belongs to another
        chain, address or subaccount.

    """

    def __init__(
        self,
        path: str | os.PathLike | None,
        chain_id: str,
        address: str,
        subaccount: int,
        clock: Callable[[], float] = time.time,
        busy_timeout_secs: float = 5.0,
    ) -> None:
        self._path = None if path is None else Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._owner = {"chain_id": str(chain_id), "address": str(address)}
        self._owner["subaccount"] = str(int(subaccount))
        if self._path is not None:
            self._prepare_file(self._path)
        target = ":memory:" if self._path is None else str(self._path)
        try:
            self._db = sqlite3.connect(
                target,
                timeout=busy_timeout_secs,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as e:
            raise self._error("cannot be opened", e) from None
        try:
            self._initialize()
        except sqlite3.Error as e:
            self._db.close()
            raise self._error("is unusable (corrupt or not writable)", e) from None
        except ClientIdStoreError:
            self._db.close()
            raise

    @classmethod
    def open(
        cls,
        state_dir: str | os.PathLike,
        chain_id: str,
        address: str,
        subaccount: int,
        clock: Callable[[], float] = time.time,
    ) -> ClientIdStore:
        """
        Open (creating if needed) the store of an account inside a state directory.

        Parameters
        ----------
        state_dir : str | os.PathLike
            The directory, created with mode 0700 if missing.
        chain_id : str
            The chain ID.
        address : str
            The bech32 owner address.
        subaccount : int
            The subaccount number.
        clock : Callable[[], float], default time.time
            UNIX seconds.

        Returns
        -------
        ClientIdStore

        Raises
        ------
        ClientIdStoreError
            If the directory or file is unusable.

        """
        directory = Path(state_dir).expanduser()
        path = directory / store_file_name(chain_id, address, subaccount)
        return cls(path, chain_id, address, subaccount, clock)

    @classmethod
    def in_memory(cls, clock: Callable[[], float] = time.time) -> ClientIdStore:
        """
        Return a store kept in memory only (lost on restart).

        Parameters
        ----------
        clock : Callable[[], float], default time.time
            UNIX seconds.

        Returns
        -------
        ClientIdStore

        """
        return cls(None, "memory", "memory", 0, clock)

    @property
    def path(self) -> Path | None:
        """
        Return the database file, or ``None`` for an in-memory store.
        """
        return self._path

    @property
    def clock(self) -> Callable[[], float]:
        """
        Return the store's clock (UNIX seconds).
        """
        return self._clock

    def get_or_add(self, kind: int, key: str) -> tuple[int, bool]:
        """
        Return the index of a key, adding it durably if missing, and whether it was added.

        An existing entry's age is reset (it is in use again).

        Parameters
        ----------
        kind : int
            `KIND_PREFIX` or `KIND_WHOLE`.
        key : str
            The key.

        Returns
        -------
        tuple[int, bool]

        Raises
        ------
        ClientIdStoreError
            If the write fails or the indexes are exhausted.

        """
        now = int(self._clock())
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute(
                    "SELECT idx FROM entries WHERE kind = ? AND key = ?", (kind, key),
                ).fetchone()
                if row is None:
                    row = self._db.execute(
                        "INSERT INTO entries (kind, key, used_at) VALUES (?, ?, ?) RETURNING idx",
                        (kind, key, now),
                    ).fetchone()
                    added = True
                else:
                    self._db.execute("UPDATE entries SET used_at = ? WHERE idx = ?", (now, row[0]))
                    added = False
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                self._rollback()
                raise self._error("write failed", e) from None
        self._check_index(row[0])
        return row[0], added

    def replace_whole(self, key: str) -> int:
        """
        Give a whole client order ID a new index (dropping its previous one), durably.

        Parameters
        ----------
        key : str
            The client order ID.

        Returns
        -------
        int

        Raises
        ------
        ClientIdStoreError
            If the write fails or the indexes are exhausted.

        """
        now = int(self._clock())
        with self._lock:
            try:
                (index,) = self._db.execute(
                    "REPLACE INTO entries (kind, key, used_at) VALUES (?, ?, ?) RETURNING idx",
                    (KIND_WHOLE, key, now),
                ).fetchone()
            except sqlite3.Error as e:
                raise self._error("write failed", e) from None
        self._check_index(index)
        return index

    def entry(self, index: int) -> tuple[int, str] | None:
        """
        Return the ``(kind, key)`` of an index, or ``None`` if unknown (or pruned).

        Parameters
        ----------
        index : int
            The index.

        Returns
        -------
        tuple[int, str] | None

        """
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT kind, key FROM entries WHERE idx = ?", (index,),
                ).fetchone()
            except sqlite3.Error as e:
                raise self._error("read failed", e) from None
        return None if row is None else (row[0], row[1])

    def whole_entries(self) -> dict[str, int]:
        """
        Return every whole-ID entry as ``{client_order_id: index}``.

        Returns
        -------
        dict[str, int]

        """
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT key, idx FROM entries WHERE kind = ?", (KIND_WHOLE,),
                ).fetchall()
            except sqlite3.Error as e:
                raise self._error("read failed", e) from None
        return dict(rows)

    def touch(self, index: int) -> None:
        """
        Reset the age of an entry (it is in use).

        Parameters
        ----------
        index : int
            The index.

        """
        with self._lock:
            try:
                self._db.execute(
                    "UPDATE entries SET used_at = ? WHERE idx = ?", (int(self._clock()), index),
                )
            except sqlite3.Error as e:
                raise self._error("write failed", e) from None

    def delete(self, indexes: Iterable[int]) -> int:
        """
        Delete entries and return how many existed.

        Parameters
        ----------
        indexes : Iterable[int]
            The indexes.

        Returns
        -------
        int

        """
        params = [(index,) for index in indexes]
        if not params:
            return 0
        with self._lock:
            try:
                before = self._db.total_changes
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("DELETE FROM entries WHERE idx = ?", params)
                self._db.execute("COMMIT")
                deleted = self._db.total_changes - before
                self._db.execute("PRAGMA incremental_vacuum")
            except sqlite3.Error as e:
                self._rollback()
                raise self._error("delete failed", e) from None
        return deleted

    def prune(self, max_age_seconds: float) -> list[int]:
        """
        Delete the entries unused for longer than `max_age_seconds`; return their indexes.

        Parameters
        ----------
        max_age_seconds : float
            The age beyond which no live order can use an entry.

        Returns
        -------
        list[int]

        """
        cutoff = int(self._clock() - max_age_seconds)
        with self._lock:
            try:
                rows = self._db.execute(
                    "DELETE FROM entries WHERE used_at < ? RETURNING idx", (cutoff,),
                ).fetchall()
                if rows:
                    self._db.execute("PRAGMA incremental_vacuum")
            except sqlite3.Error as e:
                raise self._error("prune failed", e) from None
        return [row[0] for row in rows]

    def page_count(self) -> int:
        """
        Return the number of database pages in use (the file shrinks with it).

        Returns
        -------
        int

        """
        with self._lock:
            return int(self._db.execute("PRAGMA page_count").fetchone()[0])

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={str(self._path)!r})"

    def close(self) -> None:
        """
        Close the database connection.
        """
        with self._lock:
            self._db.close()

    def _prepare_file(self, path: Path) -> None:
        directory = path.parent
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise ClientIdStoreError(
                f"client ID state directory {str(directory)!r} cannot be created: {e.strerror}",
            ) from None
        if not directory.is_dir() or not os.access(directory, os.W_OK | os.X_OK):
            raise ClientIdStoreError(
                f"client ID state directory {str(directory)!r} is not a writable directory",
            )
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
        except FileExistsError:
            if not path.is_file() or not os.access(path, os.R_OK | os.W_OK):
                raise ClientIdStoreError(
                    f"client ID store {str(path)!r} is not a readable and writable file",
                ) from None
        except OSError as e:
            raise ClientIdStoreError(
                f"client ID store {str(path)!r} cannot be created: {e.strerror}",
            ) from None

    def _initialize(self) -> None:
        db = self._db
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # Effective on a new file only
        if self._path is not None:
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        (check,) = db.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise self._error("is corrupt", check)
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                db.execute(statement)
            stored = dict(db.execute("SELECT name, value FROM meta").fetchall())
            for name, value in self._owner.items():
                if name in stored and stored[name] != value:
                    raise self._error(
                        f"belongs to {name} {stored[name]!r}, not {value!r}", "refusing to mix",
                    )
            version = stored.get("schema", SCHEMA_VERSION)
            if version != SCHEMA_VERSION:
                raise self._error(f"has schema {version!r}", f"expected {SCHEMA_VERSION!r}")
            rows = [*self._owner.items(), ("schema", SCHEMA_VERSION)]
            db.executemany("INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)", rows)
            # A write on every open proves the file is writable before any order is signed
            db.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('opened_at', ?)",
                (str(int(self._clock())),),
            )
            db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def _check_index(self, index: int) -> None:
        if not 0 < index <= MAX_INDEX:
            raise ClientIdStoreError(
                f"client ID store {self._name()} has no index left (was {index}): "
                "rotate the state file",
            )

    def _name(self) -> str:
        return ":memory:" if self._path is None else repr(str(self._path))

    def _error(self, what: str, cause: object) -> ClientIdStoreError:
        return ClientIdStoreError(f"client ID store {self._name()} {what}: {cause}")
