# SPDX-License-Identifier: Apache-2.0
"""Tests of the compiled L2 book and its pure-Python twin (same bodies, both implementations)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core import book as compiled
from tests.reference import book as reference


E = 10**16
IID = InstrumentId.from_str("BTC-USD-PERP.DYDX")
F_LAST = RecordFlag.F_LAST.value
F_SNAPSHOT = RecordFlag.F_SNAPSHOT.value


@pytest.fixture(params=[compiled, reference], ids=["compiled", "reference"])
def impl(request):
    return request.param


def new_book(impl, max_cross_ns: int = 5_000_000_000):
    return impl.L2Book(IID, 0, 4, max_cross_ns)


def test_snapshot_emits_clear_then_adds_flagged(impl) -> None:
    book = new_book(impl)
    deltas = book.apply_snapshot([(100 * E, E), (99 * E, 2 * E)], [(101 * E, 3 * E)], 7, 5, 6)
    actions = [d.action for d in deltas.deltas]
    assert actions == [BookAction.CLEAR, BookAction.ADD, BookAction.ADD, BookAction.ADD]
    assert all(d.flags & F_SNAPSHOT for d in deltas.deltas)
    assert [bool(d.flags & F_LAST) for d in deltas.deltas] == [False, False, False, True]
    assert {d.sequence for d in deltas.deltas} == {7}
    assert deltas.deltas[3].order.side == OrderSide.SELL
    assert book.levels() == (((100 * E, E), (99 * E, 2 * E)), ((101 * E, 3 * E),))
    assert book.last_message_id == 7


def test_update_and_delete_actions(impl) -> None:
    book = new_book(impl)
    book.apply_snapshot([(100 * E, E)], [(101 * E, E)], 1)
    deltas = book.apply_update([(100 * E, 0), (98 * E, 4 * E)], [(102 * E, 2 * E)], 2)
    actions = [d.action for d in deltas.deltas]
    assert actions == [BookAction.DELETE, BookAction.UPDATE, BookAction.UPDATE]
    assert [bool(d.flags & F_LAST) for d in deltas.deltas] == [False, False, True]
    assert not any(d.flags & F_SNAPSHOT for d in deltas.deltas)
    assert book.levels() == (((98 * E, 4 * E),), ((101 * E, E), (102 * E, 2 * E)))
    assert book.apply_update([], [], 3) is None


def test_levels_deeper_than_snapshot_are_kept(impl) -> None:
    book = new_book(impl)
    bids = [((1000 - i) * E, E) for i in range(100)]
    asks = [((1001 + i) * E, E) for i in range(100)]
    book.apply_snapshot(bids, asks, 1)
    book.apply_update([(800 * E, 5 * E)], [(1200 * E, 6 * E)], 2)
    assert len(book) == 202
    assert book.bids()[-1] == (800 * E, 5 * E)
    assert book.asks()[-1] == (1200 * E, 6 * E)


def test_quote_only_when_changed(impl) -> None:
    book = new_book(impl)
    book.apply_snapshot([(100 * E, E)], [(101 * E, E)], 1)
    first = book.quote(1, 1)
    assert first is not None
    assert first.bid_price.as_double() == 100.0
    assert first.ask_size.raw == E
    assert book.quote(2, 2) is None
    book.apply_update([(99 * E, E)], [], 2)
    assert book.quote(3, 3) is None
    book.apply_update([(100 * E, 2 * E)], [], 3)
    assert book.quote(4, 4).bid_size.raw == 2 * E


def test_crossed_book_older_level_yields_on_view_raw_kept(impl) -> None:
    book = new_book(impl)
    book.apply_snapshot([(100 * E, E)], [(101 * E, E), (103 * E, E)], 1)
    # A newer bid crosses the older ask at 101: the ask yields on the view
    book.apply_update([(102 * E, 2 * E)], [], 2)
    assert book.is_crossed()
    assert book.asks() == ((101 * E, E), (103 * E, E))
    assert book.view(5) == (((102 * E, 2 * E), (100 * E, E)), ((103 * E, E),))
    quote = book.quote()
    assert quote.bid_price.raw == 102 * E
    assert quote.ask_price.raw == 103 * E
    # The raw ask still applies when the venue removes it
    book.apply_update([], [(101 * E, 0)], 3)
    assert not book.is_crossed()
    assert book.asks() == ((103 * E, E),)


def test_crossed_book_equal_stamps_net_sizes(impl) -> None:
    book = new_book(impl)
    book.apply_snapshot([(100 * E, E)], [(105 * E, E)], 1)
    book.apply_update([(102 * E, 3 * E)], [(101 * E, E)], 2)
    bids, asks = book.view(5)
    # Same message: the smaller ask (1) is netted out of the larger bid (3)
    assert bids[0] == (102 * E, 2 * E)
    assert asks[0] == (105 * E, E)
    assert book.bids()[0] == (102 * E, 3 * E)
    book.apply_update([(103 * E, E)], [(103 * E, E)], 3)
    bids, asks = book.view(5)
    # The ask at 101 (stamp 2) is older than the bid at 103 (stamp 3) and yields; the equal
    # sizes at 103 (same stamp) both drop; the bid at 102 is then no longer crossed
    assert bids[0] == (102 * E, 3 * E)
    assert asks[0] == (105 * E, E)


def test_crossing_statistics_and_resync_after_limit(impl) -> None:
    book = new_book(impl, max_cross_ns=1_000)
    book.apply_snapshot([(100 * E, E)], [(101 * E, E)], 1, 0, 10)
    book.apply_update([(101 * E, E)], [], 2, 0, 100)
    assert book.crossings == 1
    assert not book.resync_needed
    book.apply_update([], [(101 * E, 0)], 3, 0, 600)
    assert book.crossed_ns_total == 500
    book.apply_update([], [(101 * E, E)], 4, 0, 700)
    assert book.crossings == 2
    assert not book.check_cross(1_500)
    assert book.check_cross(1_800)
    assert "crossed" in book.resync_reason


def test_message_id_going_backwards_requests_resync(impl) -> None:
    book = new_book(impl)
    book.apply_snapshot([(100 * E, E)], [(101 * E, E)], 10)
    book.apply_update([(99 * E, E)], [], 11)
    assert not book.resync_needed
    book.apply_update([(98 * E, E)], [], 9)
    assert book.resync_needed
    assert "backwards" in book.resync_reason
    book.apply_snapshot([(100 * E, E)], [(101 * E, E)], 20)
    assert not book.resync_needed


def test_depth10_matches_view(impl) -> None:
    book = new_book(impl)
    book.apply_snapshot(
        [((100 - i) * E, (i + 1) * E) for i in range(12)],
        [((101 + i) * E, E) for i in range(3)],
        1,
    )
    depth = book.depth10(1, 2)
    bids, asks = book.view(10)
    assert [(o.price.raw, o.size.raw) for o in depth.bids[:10]] == list(bids)
    assert [(o.price.raw, o.size.raw) for o in depth.asks[:3]] == list(asks)
    assert depth.asks[3].size.raw == 0


def test_invalid_levels_raise_without_mutation(impl) -> None:
    book = new_book(impl)
    book.apply_snapshot([(100 * E, E)], [(101 * E, E)], 1)
    before = book.levels()
    with pytest.raises(ValueError):
        book.apply_update([(99 * E, E), (98 * E, -1)], [], 2)
    with pytest.raises(ValueError):
        book.apply_update([(99 * E + 1, E)], [], 2)  # Finer than precision 0
    with pytest.raises(ValueError):
        book.apply_snapshot([(99 * E, 0)], [], 2)
    assert book.levels() == before


def test_allocated_bytes_for_two_by_thousand_levels() -> None:
    book = new_book(compiled)
    book.apply_snapshot(
        [((10_000 - i) * E, E) for i in range(1000)],
        [((10_001 + i) * E, E) for i in range(1000)],
        1,
    )
    assert len(book) == 2000
    assert 2000 * 40 <= book.allocated_bytes() <= 128 * 1024


def test_precision_validation(impl) -> None:
    with pytest.raises(ValueError):
        impl.L2Book(IID, 17, 0)


# -- Property tests -----------------------------------------------------------------------------

prices = st.integers(min_value=1, max_value=60)
sizes = st.integers(min_value=0, max_value=5)
side_updates = st.lists(st.tuples(prices, sizes), max_size=6)


def _as_raw(levels):
    return [(p * E, s * E) for p, s in levels]


@st.composite
def streams(draw):
    bids = draw(st.dictionaries(st.integers(1, 30), st.integers(1, 5), max_size=15))
    asks = draw(st.dictionaries(st.integers(31, 60), st.integers(1, 5), max_size=15))
    updates = draw(st.lists(st.tuples(side_updates, side_updates), max_size=25))
    return sorted(bids.items(), reverse=True), sorted(asks.items()), updates


def _nautilus_levels(ob: OrderBook) -> tuple:
    return (
        tuple((lv.price.raw, lv.orders()[0].size.raw) for lv in ob.bids()),
        tuple((lv.price.raw, lv.orders()[0].size.raw) for lv in ob.asks()),
    )


@settings(max_examples=150, deadline=None)
@given(streams())
def test_property_nautilus_order_book_holds_the_published_book(stream) -> None:
    bids, asks, updates = stream
    ours = new_book(compiled)
    twin = new_book(reference)
    ob = OrderBook(IID, BookType.L2_MBP)
    ob.apply_deltas(ours.apply_snapshot(_as_raw(bids), _as_raw(asks), 1))
    twin.apply_snapshot(_as_raw(bids), _as_raw(asks), 1)
    for n, (ub, ua) in enumerate(updates, start=2):
        deltas = ours.apply_update(_as_raw(ub), _as_raw(ua), n)
        twin_deltas = twin.apply_update(_as_raw(ub), _as_raw(ua), n)
        assert (deltas is None) == (twin_deltas is None)
        if deltas is not None:
            assert [str(d) for d in deltas.deltas] == [str(d) for d in twin_deltas.deltas]
            ob.apply_deltas(deltas)
        ob.check_integrity()
        assert ours.view(len(ours)) == _nautilus_levels(ob)
        assert ours.levels() == twin.levels()
        assert ours.stamps() == twin.stamps()
        assert ours.view(10) == twin.view(10)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(side_updates, side_updates, st.booleans()), min_size=1, max_size=30),
)
def test_property_crossed_streams_never_produce_a_crossed_quote(updates) -> None:
    book = new_book(compiled, max_cross_ns=0)
    book.apply_snapshot([], [], 1)
    sent = {}
    for n, (ub, ua, same_message) in enumerate(updates, start=2):
        if same_message:
            book.apply_update(_as_raw(ub), _as_raw(ua), n)
        else:
            book.apply_update(_as_raw(ub), [], n)
            book.apply_update([], _as_raw(ua), n)
        for p, s in ub:
            sent[(1, p * E)] = s * E
        for p, s in ua:
            sent[(2, p * E)] = s * E
        quote = book.quote()
        bids, asks = book.view(50)
        if bids and asks:
            assert bids[0][0] < asks[0][0]
        if quote is not None:
            assert quote.bid_price.raw < quote.ask_price.raw
            # Never more than the venue sent for that level
            assert 0 < quote.bid_size.raw <= sent[(1, quote.bid_price.raw)]
            assert 0 < quote.ask_size.raw <= sent[(2, quote.ask_price.raw)]


def test_deltas_equal_through_either_nautilus_constructor() -> None:
    # The compiled book copies its delta structs into OrderBookDeltas with Nautilus's vector
    # constructor (looked up at import); without it, through OrderBookDeltas(...) with objects.
    # Snapshot, raw updates, a cross (the diff path) and a delete give equal deltas both ways
    def run() -> list[str]:
        book = new_book(compiled)
        out = [
            book.apply_snapshot([(100 * E, E), (99 * E, 2 * E)], [(101 * E, 3 * E)], 1, 5, 6),
            book.apply_update([(98 * E, 4 * E)], [(102 * E, 2 * E)], 2, 7, 8),
            book.apply_update([(101 * E, 5 * E)], [], 3, 9, 10),
            book.apply_update([], [(100 * E, E)], 4, 11, 12),
            book.apply_update([(99 * E, 0)], [], 5, 13, 14),
        ]
        return [repr(d) for d in out] + [repr(d.deltas) for d in out if d is not None]

    assert compiled._direct_deltas(True) is True  # Found in this Nautilus build
    direct = run()
    try:
        assert compiled._direct_deltas(False) is False
        objects = run()
    finally:
        compiled._direct_deltas(True)

    assert direct == objects
    assert "action=CLEAR" in direct[0] and "action=DELETE" in direct[4]
