# SPDX-License-Identifier: Apache-2.0
"""Tests of client order ID packing, the collision guard and indexer UUIDs (§9.4)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import TestClock
from nautilus_trader.common.generators import ClientOrderIdGenerator
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId

from nautilus_dydx.client_ids import FALLBACK_METADATA
from nautilus_dydx.client_ids import PACKED_FLAG
from nautilus_dydx.client_ids import ClientIdCodec
from nautilus_dydx.client_ids import order_uuid
from nautilus_dydx.client_ids import pack_client_order_id
from nautilus_dydx.client_ids import subaccount_uuid
from nautilus_dydx.client_ids import unpack_client_order_id


K1 = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"


class FakeKeyValue:
    """In-memory stand-in with the Cache.add/get contract, to model a restart."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def add(self, key: str, value: bytes) -> None:
        self.data[key] = value

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)


def test_indexer_uuid_vectors() -> None:
    assert subaccount_uuid(K1, 0) == uuid.UUID("9534705d-6c4c-54d3-bdf9-48340caf07e9")
    assert order_uuid(K1, 0, 123456789, 0, 0) == uuid.UUID("abf17845-a8c4-5be3-a976-b0639386fd5e")


def test_nautilus_generated_ids_round_trip() -> None:
    clock = TestClock()
    clock.set_time(1_767_225_600_123_000_000)
    generator = ClientOrderIdGenerator(TraderId("TRADER-001"), StrategyId("S-002"), clock)
    for _ in range(50):
        cid = generator.generate().value
        client_id, metadata = pack_client_order_id(cid)
        assert metadata & PACKED_FLAG
        assert 0 <= client_id <= 0xFFFFFFFF and 0 <= metadata <= 0xFFFFFFFF
        assert unpack_client_order_id(client_id, metadata) == cid


IDS = st.builds(
    lambda s, t, g, n: f"O-{s}-{t:03d}-{g:03d}-{n}",
    st.datetimes(
        min_value=__import__("datetime").datetime(2024, 1, 1),
        max_value=__import__("datetime").datetime(2041, 1, 1),
    ).map(lambda d: d.strftime("%Y%m%d-%H%M%S")),
    st.integers(0, 999),
    st.integers(0, 999),
    st.integers(1, 16383),
)


@settings(max_examples=1000, deadline=None)
@given(cid=IDS)
def test_pack_unpack_round_trip(cid) -> None:
    pair = pack_client_order_id(cid)
    assert pair is not None
    assert unpack_client_order_id(*pair) == cid


@pytest.mark.parametrize(
    "cid",
    [
        "O-20231231-235959-001-001-1",   # Before the epoch
        "O-20260101-000000-001-001-16384",  # Count too large
        "O-20260101-000000-ABC-001-1",   # Non-digit tag
        "O-20260231-000000-001-001-1",   # No such date
        "O-20260101-000000-001-001-01",  # Leading zero would not round-trip
        "O20260101000000001EXT1",        # Unhyphenated form
        "my-order-1",
        "",
    ],
)
def test_ids_that_do_not_fit_are_not_packed_but_still_encoded(cid) -> None:
    assert pack_client_order_id(cid) is None
    codec = ClientIdCodec()
    client_id, metadata = codec.encode(cid)
    assert metadata == FALLBACK_METADATA
    assert codec.encode(cid) == (client_id, metadata)
    assert codec.decode(client_id, metadata) == cid


def test_foreign_metadata_decodes_to_none() -> None:
    codec = ClientIdCodec()
    for metadata in (0, 1, 2, 4):
        assert codec.decode(123, metadata) is None


def test_collision_with_venue_order_falls_back_and_persists_across_restart() -> None:
    store = FakeKeyValue()
    cid = "O-20260101-000000-001-001-7"
    packed = pack_client_order_id(cid)
    codec = ClientIdCodec(cache=store)
    codec.mark_seen(packed[0])  # A foreign order already uses this client_id

    # Act
    pair = codec.encode(cid)

    # Assert
    assert pair != packed and pair[1] == FALLBACK_METADATA and pair[0] != packed[0]
    restarted = ClientIdCodec(cache=store)
    assert restarted.decode(*pair) == cid
    assert restarted.encode(cid) == pair  # A cancel after restart uses the same pair


def test_collision_between_two_local_ids_is_guarded() -> None:
    codec = ClientIdCodec()
    first = codec.encode("O-20260101-000000-001-001-1")
    second_id = "O-20260101-000000-001-001-2"
    codec.mark_seen(pack_client_order_id(second_id)[0], "someone-else")
    second = codec.encode(second_id)
    assert second[1] == FALLBACK_METADATA and second[0] != first[0]
    assert codec.decode(*second) == second_id
    assert codec.decode(*first) == "O-20260101-000000-001-001-1"


def test_same_id_seen_on_venue_is_not_a_collision() -> None:
    cid = "O-20260101-000000-001-001-9"
    codec = ClientIdCodec()
    codec.mark_seen(pack_client_order_id(cid)[0], cid)
    assert codec.encode(cid) == pack_client_order_id(cid)


def test_fallback_map_in_nautilus_cache() -> None:
    cache = Cache()
    codec = ClientIdCodec(cache=cache)
    pair = codec.encode("custom-id-42")
    assert ClientIdCodec(cache=cache).decode(*pair) == "custom-id-42"


def test_client_ids_of_consecutive_orders_differ() -> None:
    ids = {pack_client_order_id(f"O-20260101-000000-001-001-{n}")[0] for n in range(1, 2000)}
    ids |= {pack_client_order_id(f"O-20260101-000000-001-002-{n}")[0] for n in range(1, 2000)}
    assert len(ids) == 2 * 1999
