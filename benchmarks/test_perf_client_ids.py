# SPDX-License-Identifier: Apache-2.0
"""Benchmarks: client order ID encoding per layout (stateless, shared store row, own store row)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from nautilus_dydx.client_id_store import ClientIdStore
from nautilus_dydx.client_ids import ClientIdCodec
from nautilus_dydx.client_ids import pack_any_client_order_id
from nautilus_dydx.client_ids import pack_client_order_id


ADDRESS = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"


@pytest.fixture
def codec(tmp_path: Path) -> ClientIdCodec:
    return ClientIdCodec(ClientIdStore.open(tmp_path, "dydx-testnet-4", ADDRESS, 0))


def _new_ids(template: str):
    counter = itertools.count(1)
    return lambda: template.format(next(counter))


def test_encode_packed_default_id(benchmark, codec: ClientIdCodec) -> None:
    # Default format, count < 16384: no I/O. Released each time to measure a new order
    counter = itertools.count(0)

    def run() -> None:
        cid = f"O-20260101-000000-001-002-{next(counter) % 16383 + 1}"
        codec.encode(cid)
        codec.release(cid)

    benchmark(run)
    assert len(codec.store) == 0


def test_encode_high_count_default_id(benchmark, codec: ClientIdCodec) -> None:
    # Count >= 16384: a store row per generator second, cached after the first order
    counter = itertools.count(2**24)

    def run() -> None:
        cid = f"O-20260101-000000-001-002-{next(counter)}"
        codec.encode(cid)

    benchmark(run)
    assert len(codec.store) == 1


def test_encode_uuid_id_durable_write(benchmark, codec: ClientIdCodec) -> None:
    # use_uuids=True: one fsync'd SQLite row per order, before signing
    make = _new_ids("4476a1f0-5647-46b9-b4fa-{:012d}x")
    benchmark(lambda: codec.encode(make()))
    assert len(codec.store) > 0


def test_decode_stored_id(benchmark, codec: ClientIdCodec) -> None:
    pair = codec.encode("O-20260101-000000-ALPHA-MOMENTUM-16777216")
    fresh = ClientIdCodec(codec.store)
    assert benchmark(fresh.decode, *pair) == "O-20260101-000000-ALPHA-MOMENTUM-16777216"


@pytest.mark.parametrize("form", ["compiled", "interpreted"])
def test_pack_default_id(benchmark, form: str) -> None:
    # The stateless layout of a new default ID: the compiled form (ASCII IDs, the submit
    # path's) beside the interpreted one (regex and calendar, any ID) on the same IDs
    pack = pack_client_order_id if form == "compiled" else pack_any_client_order_id
    ids = [f"O-20260101-000000-001-002-{n}" for n in range(1, 16_384)]
    cycle = itertools.cycle(ids)

    benchmark.group = "client order id: pack a default id"
    benchmark(lambda: pack(next(cycle)))
    assert pack(ids[-1]) == pack_any_client_order_id(ids[-1]) is not None
