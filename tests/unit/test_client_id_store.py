# SPDX-License-Identifier: Apache-2.0
"""Tests of the durable client order ID store: files per account, durability, bad state dirs."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from nautilus_dydx.client_id_store import KIND_PREFIX
from nautilus_dydx.client_id_store import KIND_WHOLE
from nautilus_dydx.client_id_store import ClientIdStore
from nautilus_dydx.client_id_store import ClientIdStoreError
from nautilus_dydx.client_id_store import store_file_name
from nautilus_dydx.client_ids import ClientIdCodec


K1 = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
K2 = "dydx1sq6ny6ep6uzwdlhvs72sysnz2t8hcrlmx2t3ta"
CHAIN = "dydx-mainnet-1"


def test_file_name_per_chain_address_and_subaccount() -> None:
    assert store_file_name(CHAIN, K1, 3) == f"client-ids-dydx-mainnet-1-{K1}-3.sqlite3"
    assert store_file_name("a/../b", K1, 0) == f"client-ids-a_.._b-{K1}-0.sqlite3"


def test_directory_and_file_are_created_private(tmp_path: Path) -> None:
    state_dir = tmp_path / "nested" / "state"
    store = ClientIdStore.open(state_dir, CHAIN, K1, 0)
    assert store.path == state_dir / store_file_name(CHAIN, K1, 0)
    assert store.path.is_file()
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_entry_is_on_disk_when_get_or_add_returns(tmp_path: Path) -> None:
    store = ClientIdStore.open(tmp_path, CHAIN, K1, 0)
    index, added = store.get_or_add(KIND_PREFIX, "O-20260101-000000-001-001-")
    assert added and index >= 1
    assert store.get_or_add(KIND_PREFIX, "O-20260101-000000-001-001-") == (index, False)

    # An independent connection (another process) sees the committed row at once
    with sqlite3.connect(store.path) as other:
        rows = other.execute("SELECT idx, kind, key FROM entries").fetchall()
    assert rows == [(index, KIND_PREFIX, "O-20260101-000000-001-001-")]
    assert store.entry(index) == (KIND_PREFIX, "O-20260101-000000-001-001-")


def test_durability_settings(tmp_path: Path) -> None:
    store = ClientIdStore.open(tmp_path, CHAIN, K1, 0)
    db = store._db  # The settings are the contract: WAL with a full fsync per commit
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # INCREMENTAL


def test_replace_whole_gives_a_new_index(tmp_path: Path) -> None:
    store = ClientIdStore.open(tmp_path, CHAIN, K1, 0)
    first = store.replace_whole("custom-1")
    second = store.replace_whole("custom-1")
    assert second > first
    assert store.entry(first) is None and store.entry(second) == (KIND_WHOLE, "custom-1")
    assert store.whole_entries() == {"custom-1": second}


def test_indexes_are_never_reused(tmp_path: Path) -> None:
    store = ClientIdStore.open(tmp_path, CHAIN, K1, 0)
    index, _ = store.get_or_add(KIND_PREFIX, "a-")
    store.delete([index])
    store.close()
    again = ClientIdStore.open(tmp_path, CHAIN, K1, 0)
    assert again.get_or_add(KIND_PREFIX, "a-")[0] > index


def test_corrupt_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / store_file_name(CHAIN, K1, 0)
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ClientIdStoreError, match=r"client ID store .*unusable") as info:
        ClientIdStore.open(tmp_path, CHAIN, K1, 0)
    assert str(path) in str(info.value)


def test_state_dir_that_is_a_file_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(ClientIdStoreError, match="state directory .* cannot be created"):
        ClientIdStore.open(blocker / "state", CHAIN, K1, 0)


def test_store_path_that_is_a_directory_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / store_file_name(CHAIN, K1, 0)).mkdir()
    with pytest.raises(ClientIdStoreError, match="not a readable and writable file"):
        ClientIdStore.open(tmp_path, CHAIN, K1, 0)


def test_unwritable_state_dir_gives_a_clear_error(tmp_path: Path) -> None:
    # A mode-0500 directory stops every user but root; procfs refuses new files even to root
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    unwritable = Path("/proc/self") if os.geteuid() == 0 else locked
    try:
        with pytest.raises(ClientIdStoreError, match="not a writable directory|cannot be"):
            ClientIdStore.open(unwritable, CHAIN, K1, 0)
    finally:
        locked.chmod(0o700)


def _chattr(flag: str, path: Path) -> bool:
    tool = shutil.which("chattr")
    if tool is None:
        return False
    result = subprocess.run([tool, flag, str(path)], capture_output=True, timeout=10)
    return result.returncode == 0


def test_immutable_state_dir_gives_a_clear_error_even_for_root(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    if not _chattr("+i", locked):
        pytest.skip("chattr +i is not available on this filesystem")
    try:
        with pytest.raises(ClientIdStoreError, match="locked' is not a writable directory"):
            ClientIdStore.open(locked, CHAIN, K1, 0)
    finally:
        _chattr("-i", locked)


def test_immutable_store_file_gives_a_clear_error(tmp_path: Path) -> None:
    store = ClientIdStore.open(tmp_path, CHAIN, K1, 0)
    path = store.path
    store.close()
    for leftover in tmp_path.glob("*-wal"):
        leftover.unlink()
    if not _chattr("+i", path):
        pytest.skip("chattr +i is not available on this filesystem")
    try:
        with pytest.raises(ClientIdStoreError, match="not a readable and writable file"):
            ClientIdStore.open(tmp_path, CHAIN, K1, 0)
    finally:
        _chattr("-i", path)


def test_a_file_of_another_account_is_refused(tmp_path: Path) -> None:
    ClientIdStore.open(tmp_path, CHAIN, K1, 0).close()
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(tmp_path / store_file_name(CHAIN, K1, 0), other / store_file_name(CHAIN, K2, 0))
    with pytest.raises(ClientIdStoreError, match="refusing to mix"):
        ClientIdStore.open(other, CHAIN, K2, 0)


def test_write_failure_after_open_is_a_store_error(tmp_path: Path) -> None:
    store = ClientIdStore.open(tmp_path, CHAIN, K1, 0)
    codec = ClientIdCodec(store)
    store._db.execute("DROP TABLE entries")  # Stands in for a disk that went away
    with pytest.raises(ClientIdStoreError, match="write failed"):
        codec.encode("custom-1")
    assert codec.sizes()["live"] == 0  # Nothing half-recorded: the order must not be sent


def test_repr_names_the_file_only(tmp_path: Path) -> None:
    store = ClientIdStore.open(tmp_path, CHAIN, K1, 0)
    assert repr(store) == f"ClientIdStore(path={str(store.path)!r})"
