# SPDX-License-Identifier: Apache-2.0
"""Tests of client order ID packing, the store-backed layout, restarts and collisions (§4.6)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from pathlib import Path

import pytest
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.common.component import TestClock
from nautilus_trader.common.generators import ClientOrderIdGenerator
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId

from nautilus_dydx.client_id_store import ClientIdStore
from nautilus_dydx.client_id_store import store_file_name
from nautilus_dydx.client_ids import PACKED_FLAG
from nautilus_dydx.client_ids import STORED_FLAG
from nautilus_dydx.client_ids import ClientIdCodec
from nautilus_dydx.client_ids import ClientIdCollisionError
from nautilus_dydx.client_ids import open_client_id_codec
from nautilus_dydx.client_ids import order_uuid
from nautilus_dydx._core.orders import pack_ascii_client_order_id
from nautilus_dydx.client_ids import pack_any_client_order_id
from nautilus_dydx.client_ids import pack_client_order_id
from nautilus_dydx.client_ids import split_count
from nautilus_dydx.client_ids import subaccount_uuid
from nautilus_dydx.client_ids import unpack_client_order_id
from nautilus_dydx.config import DYDXExecClientConfig


K1 = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
K2 = "dydx1sq6ny6ep6uzwdlhvs72sysnz2t8hcrlmx2t3ta"
CHAIN = "dydx-testnet-4"
NOW_NS = 1_767_225_600_123_000_000  # 2026-01-01T00:00:00.123Z


class FakeTime:
    """A settable clock in UNIX seconds for the store's entry ages."""

    def __init__(self, now: float = 1_767_225_600.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _open(state_dir: Path, address: str = K1, subaccount: int = 0, clock=None) -> ClientIdCodec:
    store = ClientIdStore.open(state_dir, CHAIN, address, subaccount, clock or FakeTime())
    return ClientIdCodec(store)


def _restart(codec: ClientIdCodec, clock=None) -> ClientIdCodec:
    # A restart: the old objects are gone, new ones read the same state directory
    path = codec.store.path
    codec.store.close()
    store = ClientIdStore(path, CHAIN, K1, 0, clock or FakeTime())
    return ClientIdCodec(store)


def test_indexer_uuid_vectors() -> None:
    assert subaccount_uuid(K1, 0) == uuid.UUID("9534705d-6c4c-54d3-bdf9-48340caf07e9")
    assert order_uuid(K1, 0, 123456789, 0, 0) == uuid.UUID("abf17845-a8c4-5be3-a976-b0639386fd5e")


def test_packed_layout_matches_earlier_versions() -> None:
    # Pairs produced by the previous release (29-bit time): live orders keep decoding
    assert pack_client_order_id("O-20260101-000000-001-002-1") == (3420836831, 2400117248)
    assert pack_client_order_id("O-20240101-000000-000-000-1") == (1832674721, 2147483648)
    assert unpack_client_order_id(3420836831, 2400117248) == "O-20260101-000000-001-002-1"


def test_packed_layout_ends_before_bit_30_is_needed() -> None:
    assert pack_client_order_id("O-20320703-212415-999-999-16383") is not None
    assert pack_client_order_id("O-20320703-212416-001-001-1") is None
    assert pack_client_order_id("O-20320703-212415-999-999-16383")[1] & STORED_FLAG == 0


def test_nautilus_generated_ids_pack_without_state() -> None:
    clock = TestClock()
    clock.set_time(NOW_NS)
    generator = ClientOrderIdGenerator(TraderId("TRADER-001"), StrategyId("S-002"), clock)
    codec = ClientIdCodec()
    for _ in range(50):
        cid = generator.generate().value
        client_id, metadata = pack_client_order_id(cid)
        assert metadata & PACKED_FLAG and not metadata & STORED_FLAG
        assert 0 <= client_id <= 0xFFFFFFFF and 0 <= metadata <= 0xFFFFFFFF
        assert unpack_client_order_id(client_id, metadata) == cid
        assert codec.encode(cid) == (client_id, metadata)
    assert len(codec.store) == 0  # Nothing written for packed IDs


PACKABLE = st.builds(
    lambda s, t, g, n: f"O-{s}-{t:03d}-{g:03d}-{n}",
    st.datetimes(
        min_value=dt.datetime(2024, 1, 1),
        max_value=dt.datetime(2032, 7, 3),
    ).map(lambda d: d.strftime("%Y%m%d-%H%M%S")),
    st.integers(0, 999),
    st.integers(0, 999),
    st.integers(1, 16383),
)


@settings(max_examples=500, deadline=None)
@given(cid=PACKABLE)
def test_pack_unpack_round_trip(cid: str) -> None:
    pair = pack_client_order_id(cid)
    assert pair is not None
    assert unpack_client_order_id(*pair) == cid


@pytest.mark.parametrize(
    ("cid", "key", "count"),
    [
        ("O-20260101-000000-001-001-16384", "O-20260101-000000-001-001-", 16384),
        ("4476a1f0-5647-46b9-b4fa-dff6bac05a6f", "4476a1f0-5647-46b9-b4fa-dff6bac05a6f", 0),
        ("5ef9423934f84ff590979767d618b2c3", "5ef9423934f84ff590979767d618b2c", 3),
        ("O-1-01", "O-1-0", 1),  # Leading zeros stay in the key
        ("x0", "x0", 0),
        ("a99999999999", "a99", 999_999_999),  # 10 digits would exceed 2**32 - 1
        ("b4294967295", "b", 4_294_967_295),
        ("b4294967296", "b4", 294_967_296),
    ],
)
def test_split_count(cid: str, key: str, count: int) -> None:
    assert split_count(cid) == (key, count)


@settings(max_examples=300, deadline=None)
@given(cid=st.text(alphabet="O-0123456789abcXYZ_", min_size=1, max_size=40))
def test_split_count_gives_the_id_back(cid: str) -> None:
    key, count = split_count(cid)
    assert 0 <= count <= 0xFFFFFFFF
    assert (key + str(count) if count else key) == cid


@pytest.mark.parametrize(
    "cid",
    [
        "O-20231231-235959-001-001-1",  # Before the epoch
        "O-20260101-000000-001-001-16384",  # Count too large to pack
        "O-20260101-000000-ABC-001-1",  # Non-digit tag
        "O-20260231-000000-001-001-1",  # No such date
        "O-20260101-000000-001-001-01",  # Leading zero would not round-trip
        "O20260101000000001EXT1",  # Unhyphenated form
        "my-order-1",
        "x",
    ],
)
def test_ids_that_do_not_pack_are_stored_and_survive_restart(tmp_path: Path, cid: str) -> None:
    assert pack_client_order_id(cid) is None
    codec = _open(tmp_path)
    client_id, metadata = codec.encode(cid)
    assert metadata & PACKED_FLAG and metadata & STORED_FLAG
    assert codec.encode(cid) == (client_id, metadata)
    assert codec.decode(client_id, metadata) == cid

    restarted = _restart(codec)

    assert restarted.decode(client_id, metadata) == cid
    assert restarted.encode(cid) == (client_id, metadata)  # A cancel after restart


def _generated(
    trader: str, strategy: str, initial_count: int, use_uuids: bool, use_hyphens: bool,
) -> list[str]:
    clock = TestClock()
    clock.set_time(NOW_NS)
    generator = ClientOrderIdGenerator(
        TraderId(trader),
        StrategyId(strategy),
        clock,
        initial_count=initial_count,
        use_uuids=use_uuids,
        use_hyphens=use_hyphens,
    )
    ids = []
    for i in range(40):
        clock.set_time(NOW_NS + (i // 10) * 1_000_000_000)  # Several IDs per second
        ids.append(generator.generate().value)
    return ids


@pytest.mark.parametrize(("use_uuids", "use_hyphens"), [(False, True), (False, False),
                                                        (True, True), (True, False)])
@pytest.mark.parametrize(("trader", "strategy"), [("TRADER-001", "S-002"),
                                                  ("ALPHA-A1b", "Strat-MOMENTUM")])
@pytest.mark.parametrize("initial_count", [0, 16_370, 2**24 - 20, 2**31 - 60])  # C int count
def test_every_generator_setting_decodes_after_restart(
    tmp_path: Path,
    use_uuids: bool,
    use_hyphens: bool,
    trader: str,
    strategy: str,
    initial_count: int,
) -> None:
    ids = _generated(trader, strategy, initial_count, use_uuids, use_hyphens)
    assert len(set(ids)) == len(ids)
    codec = _open(tmp_path)
    pairs = [codec.encode(cid) for cid in ids]
    assert len({client_id for client_id, _ in pairs}) == len(ids)  # Unique on the venue

    restarted = _restart(codec)

    assert [restarted.decode(*pair) for pair in pairs] == ids
    assert [restarted.encode(cid) for cid in ids] == pairs


def test_default_format_rows_are_shared_per_second(tmp_path: Path) -> None:
    ids = _generated("TRADER-001", "S-002", 2**24, False, True)  # 40 IDs over 4 seconds
    codec = _open(tmp_path)
    for cid in ids:
        codec.encode(cid)
    assert len(codec.store) == 4


_STORE_FOR_PROPERTY: dict[str, ClientIdCodec] = {}


@settings(max_examples=300, deadline=None)
@given(
    when=st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    trader=st.integers(0, 999),
    strategy=st.integers(0, 999),
    count=st.integers(1, 2**24),
)
@example(when=dt.datetime(2026, 1, 1), trader=1, strategy=1, count=1)
@example(when=dt.datetime(2026, 1, 1), trader=1, strategy=1, count=16383)
@example(when=dt.datetime(2026, 1, 1), trader=1, strategy=1, count=16384)
@example(when=dt.datetime(2026, 1, 1), trader=999, strategy=999, count=2**24 - 1)
@example(when=dt.datetime(2026, 1, 1), trader=0, strategy=0, count=2**24)
@example(when=dt.datetime(2099, 12, 31, 23, 59, 59), trader=999, strategy=0, count=2**24)
def test_default_format_counts_to_2_pow_24_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    when: dt.datetime,
    trader: int,
    strategy: int,
    count: int,
) -> None:
    if "codec" not in _STORE_FOR_PROPERTY:
        _STORE_FOR_PROPERTY["codec"] = _open(tmp_path_factory.mktemp("ids"))
    codec = _STORE_FOR_PROPERTY["codec"]
    cid = f"O-{when:%Y%m%d-%H%M%S}-{trader:03d}-{strategy:03d}-{count}"
    pair = codec.encode(cid)
    assert codec.decode(*pair) == cid
    assert ClientIdCodec(codec.store).decode(*pair) == cid  # Fresh maps: from the store
    codec.release(cid)


def test_default_format_counts_beyond_2_pow_24_survive_restart(tmp_path: Path) -> None:
    codec = _open(tmp_path)
    ids = [f"O-20260101-000000-001-002-{n}" for n in (2**24, 2**24 + 1, 2**31, 2**32 - 1,
                                                      2**32, 10**12)]
    pairs = [codec.encode(cid) for cid in ids]
    restarted = _restart(codec)
    assert [restarted.decode(*pair) for pair in pairs] == ids


def test_foreign_metadata_decodes_to_none() -> None:
    codec = ClientIdCodec()
    for metadata in (0, 1, 2, 4, 0x4E44_4458):
        assert codec.decode(123, metadata) is None
    assert codec.decode(123, PACKED_FLAG | STORED_FLAG | 77) is None  # Unknown index
    assert codec.decode(-1, PACKED_FLAG) is None and codec.decode(1, 2**32) is None


def test_empty_id_is_refused() -> None:
    with pytest.raises(ValueError, match="client_order_id"):
        ClientIdCodec().encode("")


def test_collision_with_venue_order_moves_the_new_order_and_persists(tmp_path: Path) -> None:
    cid = "O-20260101-000000-001-001-7"
    packed = pack_client_order_id(cid)
    codec = _open(tmp_path)
    codec.mark_seen(packed[0])  # A foreign order already uses this client_id

    pair = codec.encode(cid)

    assert pair != packed and pair[0] != packed[0] and pair[1] & STORED_FLAG
    assert codec.collisions == 1
    restarted = _restart(codec)
    assert restarted.decode(*pair) == cid
    assert restarted.encode(cid) == pair  # Not the natural pair: the override is durable


def test_collision_between_two_local_ids_is_guarded() -> None:
    codec = ClientIdCodec()
    first = codec.encode("O-20260101-000000-001-001-1")
    second_id = "O-20260101-000000-001-001-2"
    codec.mark_seen(pack_client_order_id(second_id)[0], "someone-else")
    second = codec.encode(second_id)
    assert second[1] & STORED_FLAG and second[0] != first[0]
    assert codec.decode(*second) == second_id
    assert codec.decode(*first) == "O-20260101-000000-001-001-1"


def test_collision_of_an_already_placed_pair_raises(tmp_path: Path) -> None:
    cid = "O-20260101-000000-001-001-7"
    codec = _open(tmp_path)
    codec.mark_seen(pack_client_order_id(cid)[0])
    pair = codec.encode(cid)  # Moved to a stored pair
    restarted = _restart(codec)
    restarted.mark_seen(pair[0], "O-other")  # The venue shows another order on it

    with pytest.raises(ClientIdCollisionError, match="O-other"):
        restarted.encode(cid)


def test_conflicting_owners_of_one_client_id_raise() -> None:
    codec = ClientIdCodec()
    client_id, _ = codec.encode("O-20260101-000000-001-001-3")
    with pytest.raises(ClientIdCollisionError, match="O-20260101-000000-001-001-3"):
        codec.mark_seen(client_id, "O-somebody-else")
    codec.mark_seen(client_id, "O-20260101-000000-001-001-3")  # The same order is fine


def test_same_id_seen_on_venue_is_not_a_collision() -> None:
    cid = "O-20260101-000000-001-001-9"
    codec = ClientIdCodec()
    codec.mark_seen(pack_client_order_id(cid)[0], cid)
    assert codec.encode(cid) == pack_client_order_id(cid)


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(
        st.one_of(
            PACKABLE,
            st.uuids().map(str),
            st.uuids().map(lambda u: u.hex),
            st.builds(lambda n: f"O-20260101-000000-A-B-{n}", st.integers(1, 2**40)),
        ),
        min_size=2,
        max_size=60,
        unique=True,
    ),
)
def test_distinct_ids_never_share_a_client_id(ids: list[str]) -> None:
    codec = ClientIdCodec()
    pairs = [codec.encode(cid) for cid in ids]
    assert len({client_id for client_id, _ in pairs}) == len(ids)
    assert [codec.decode(*pair) for pair in pairs] == ids


def test_release_and_prune_shrink_memory_and_store(tmp_path: Path) -> None:
    clock = FakeTime()
    codec = _open(tmp_path, clock=clock)
    ids = [str(uuid.UUID(int=n * 7919 + 1)) + "x" for n in range(600)]
    ids += [f"O-20260101-000000-001-002-{n}" for n in range(16384, 16984)]  # One shared row
    pairs = [codec.encode(cid) for cid in ids]
    assert len(codec.store) == 601 and codec.sizes()["live"] == 1200
    pages_before = codec.store.page_count()

    for cid in ids:
        assert codec.release(cid)
    assert codec.prune() == 0  # Within the grace, late messages still decode
    assert codec.decode(*pairs[0]) == ids[0]

    clock.now += 301
    assert codec.prune() == 601

    assert len(codec.store) == 0
    assert codec.store.page_count() < pages_before
    sizes = codec.sizes()
    assert sizes["live"] == sizes["client_ids"] == sizes["pending"] == sizes["prefixes"] == 0
    assert codec.decode(*pairs[0]) is None  # Closed long ago: now foreign


def test_shared_row_is_kept_while_one_of_its_ids_is_live(tmp_path: Path) -> None:
    clock = FakeTime()
    codec = _open(tmp_path, clock=clock)
    first, second = "O-20260101-000000-001-002-16384", "O-20260101-000000-001-002-16385"
    codec.encode(first)
    pair = codec.encode(second)
    codec.release(first)
    clock.now += 10_000
    assert codec.prune() == 0
    assert _restart(codec).decode(*pair) == second


def test_rows_of_an_earlier_run_are_pruned_by_age(tmp_path: Path) -> None:
    clock = FakeTime()
    codec = _open(tmp_path, clock=clock)
    pair = codec.encode("O-20260101-000000-001-002-20000")
    restarted = _restart(codec, clock)
    assert restarted.release("O-20260101-000000-001-002-20000") is False  # Unknown here
    clock.now += 95 * 86400
    assert restarted.prune() == 0  # Could still be live on the venue
    assert restarted.decode(*pair) == "O-20260101-000000-001-002-20000"
    clock.now += 5 * 86400 + 1
    assert restarted.prune() == 1 and len(restarted.store) == 0


def test_in_memory_maps_are_bounded(tmp_path: Path) -> None:
    store = ClientIdStore.open(tmp_path, CHAIN, K1, 0, FakeTime())
    codec = ClientIdCodec(store, max_entries=100)
    ids = [f"O-20260101-000000-TR-S{n % 7}-{n}" for n in range(1, 1001)]
    pairs = [codec.encode(cid) for cid in ids]
    assert codec.sizes()["live"] <= 100 and codec.sizes()["client_ids"] <= 100
    assert [codec.decode(*pair) for pair in pairs] == ids
    assert [codec.encode(cid) for cid in ids[:10]] == pairs[:10]


def test_accounts_never_mix(tmp_path: Path) -> None:
    first = _open(tmp_path, K1, 0)
    second = _open(tmp_path, K1, 1)
    third = _open(tmp_path, K2, 0)
    first.encode("custom-order-a")
    assert len(first.store) == 1 and len(second.store) == 0 and len(third.store) == 0
    assert len({first.store.path, second.store.path, third.store.path}) == 3


def test_concurrent_use_from_two_threads(tmp_path: Path) -> None:
    codec = _open(tmp_path)
    shared = [f"shared-{n}" for n in range(300)]
    results: dict[str, dict[str, tuple[int, int]]] = {}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        mine = [f"O-20260101-00000{n % 10}-{name}-X-{n}" for n in range(1, 301)]
        mine += [str(uuid.UUID(int=hash((name, n)) & (2**128 - 1))) for n in range(100)]
        out = {}
        try:
            for own, common in zip(mine, shared + shared[:100]):
                out[own] = codec.encode(own)
                out[common] = codec.encode(common)
        except BaseException as e:
            errors.append(e)
        results[name] = out

    threads = [threading.Thread(target=work, args=(n,)) for n in ("T1", "T2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and all(not t.is_alive() for t in threads)
    merged: dict[str, tuple[int, int]] = {}
    for out in results.values():
        for cid, pair in out.items():
            assert merged.setdefault(cid, pair) == pair  # One pair per ID across threads
    assert len({client_id for client_id, _ in merged.values()}) == len(merged)
    restarted = _restart(codec)
    assert all(restarted.decode(*pair) == cid for cid, pair in merged.items())


def test_collision_is_reported_to_the_callback(tmp_path: Path) -> None:
    seen: list[tuple[str, int]] = []
    store = ClientIdStore.open(tmp_path, CHAIN, K1, 0, FakeTime())
    codec = ClientIdCodec(store, on_collision=lambda cid, taken: seen.append((cid, taken)))
    cid = "O-20260101-000000-001-001-7"
    codec.mark_seen(pack_client_order_id(cid)[0])
    codec.encode(cid)
    assert seen == [(cid, pack_client_order_id(cid)[0])]


def test_codec_of_an_exec_config_uses_its_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("MNEMONIC", "PRIVATE_KEY", "WALLET_ADDRESS"):
        monkeypatch.delenv(f"DYDX_SANDBOX_{name}", raising=False)
    config = DYDXExecClientConfig(
        network="sandbox",
        private_key="e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77",
        subaccount=3,
        state_dir=str(tmp_path / "state"),
    )
    codec = open_client_id_codec(config, K2)
    pair = codec.encode("custom-7")
    assert codec.store.path.parent == tmp_path / "state"
    assert codec.store.path.name == store_file_name(config.endpoints.chain_id, K2, 3)
    codec.store.close()
    assert open_client_id_codec(config, K2).decode(*pair) == "custom-7"


_DIGITS = st.text(alphabet="0123456789", min_size=0, max_size=6)


@st.composite
def _near_packed_ids(draw) -> str:
    # IDs of the packed shape with each part possibly off: dates and times out of range,
    # month ends, leap days, counts with leading zeros, too long or too large, other separators
    year = draw(st.sampled_from(["2024", "2026", "2028", "2032", "2100", "0000", "9999", "202"]))
    month = draw(st.sampled_from(["01", "02", "04", "12", "00", "13", "1"]))
    day = draw(st.sampled_from(["01", "28", "29", "30", "31", "00", "32"]))
    time = draw(st.sampled_from(["000000", "235959", "240000", "236000", "235960", "212415"]))
    trader = draw(st.sampled_from(["000", "001", "999", "01", "0001"]))
    strategy = draw(st.sampled_from(["000", "002", "999", "1000"]))
    count = draw(st.one_of(
        st.integers(min_value=0, max_value=20_000).map(str), _DIGITS,
        st.sampled_from(["01", "16383", "16384", "99999", "123456", "1a", ""]),
    ))
    sep = draw(st.sampled_from(["-", "-", "-", "_"]))
    head = draw(st.sampled_from(["O", "O", "X", "o"]))
    return f"{head}-{year}{month}{day}{sep}{time}-{trader}-{strategy}-{count}"


@settings(max_examples=3_000, deadline=None)
@given(_near_packed_ids() | st.text(max_size=40))
def test_compiled_packing_matches_the_interpreted_one(client_order_id: str) -> None:
    # Oracle: the regex and calendar form (any ID); the compiled form takes ASCII IDs only
    expected = pack_any_client_order_id(client_order_id)

    assert pack_client_order_id(client_order_id) == expected
    if client_order_id.isascii():
        assert pack_ascii_client_order_id(client_order_id) == expected
    else:
        assert pack_ascii_client_order_id(client_order_id) is None


def test_packing_takes_unicode_digits_through_the_interpreted_form() -> None:
    # The head's "\d" matches any decimal digit (the count takes ASCII only): an ID with
    # Arabic-Indic digits in its head packs as its ASCII twin
    ascii_id = "O-20260101-000000-001-002-1"
    arabic = ascii_id[:-1].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + "1"

    assert pack_ascii_client_order_id(arabic) is None
    assert pack_client_order_id(arabic) == pack_client_order_id(ascii_id) == (
        3420836831, 2400117248,
    )
