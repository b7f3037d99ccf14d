# SPDX-License-Identifier: Apache-2.0
"""Tests that the deltas publish the uncrossed book of the quotes, and that no input aborts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck
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
BUY = OrderSide.BUY
SELL = OrderSide.SELL


@pytest.fixture(params=[compiled, reference], ids=["compiled", "reference"])
def impl(request):
    return request.param


class Model:
    """
    The venue's raw book as plain dicts, and the published book derived from it.

    Published = raw minus the stale crossed levels (protocol reference section 3.9): while the
    best bid >= the best ask, the one set by the older message goes; when one message set both,
    the smaller size is netted out of the larger (both go when equal).
    """

    def __init__(self) -> None:
        self.bids: dict[int, tuple[int, int]] = {}  # price -> (size, message id)
        self.asks: dict[int, tuple[int, int]] = {}

    def snapshot(self, bids: list, asks: list, message_id: int) -> None:
        self.bids, self.asks = {}, {}
        self.update(bids, asks, message_id)

    def update(self, bids: list, asks: list, message_id: int) -> None:
        for levels, side in ((bids, self.bids), (asks, self.asks)):
            for price, size in levels:
                if size == 0:
                    side.pop(price, None)
                else:
                    side[price] = (size, message_id)

    def raw(self) -> tuple:
        return (
            tuple(sorted(((p, s) for p, (s, _) in self.bids.items()), reverse=True)),
            tuple(sorted((p, s) for p, (s, _) in self.asks.items())),
        )

    def published(self) -> tuple:
        bids = {p: list(v) for p, v in self.bids.items()}
        asks = {p: list(v) for p, v in self.asks.items()}
        while bids and asks and max(bids) >= min(asks):
            bid, ask = bids[max(bids)], asks[min(asks)]
            if bid[1] < ask[1]:
                del bids[max(bids)]
            elif ask[1] < bid[1]:
                del asks[min(asks)]
            else:
                netted = min(bid[0], ask[0])
                bid[0] -= netted
                ask[0] -= netted
                if bid[0] == 0:
                    del bids[max(bids)]
                if ask[0] == 0:
                    del asks[min(asks)]
        return (
            tuple(sorted(((p, s) for p, (s, _) in bids.items()), reverse=True)),
            tuple(sorted((p, s) for p, (s, _) in asks.items())),
        )


def nautilus_levels(ob: OrderBook) -> tuple:
    return (
        tuple((lv.price.raw, lv.orders()[0].size.raw) for lv in ob.bids()),
        tuple((lv.price.raw, lv.orders()[0].size.raw) for lv in ob.asks()),
    )


def summary(deltas) -> list[tuple]:
    if deltas is None:
        return []
    return [
        (d.action, d.order.side, d.order.price.raw, d.order.size.raw, d.flags, d.sequence)
        for d in deltas.deltas
    ]


def raw(levels: list) -> list:
    return [(p * E, s * E) for p, s in levels]


class Harness:
    """Feed one book and a Nautilus `OrderBook` the same frames and check them after each."""

    def __init__(self, impl) -> None:
        self.book = impl.L2Book(IID, 0, 4, 0)
        self.order_book = OrderBook(IID, BookType.L2_MBP)
        self.model = Model()
        self.quote = None

    def apply(self, bids: list, asks: list, message_id: int, snapshot: bool = False):
        if snapshot:
            deltas = self.book.apply_snapshot(raw(bids), raw(asks), message_id)
            self.model.snapshot(raw(bids), raw(asks), message_id)
        else:
            deltas = self.book.apply_update(raw(bids), raw(asks), message_id)
            self.model.update(raw(bids), raw(asks), message_id)
        if deltas is not None:
            flags = [d.flags for d in deltas.deltas]
            assert [bool(f & F_LAST) for f in flags] == [False] * (len(flags) - 1) + [True]
            assert all(bool(f & F_SNAPSHOT) == snapshot for f in flags)
            self.order_book.apply_deltas(deltas)
        else:
            assert not snapshot  # A snapshot always publishes at least its CLEAR
        quote = self.book.quote()
        if quote is not None:
            self.quote = quote
        self.check()
        return deltas

    def check(self) -> None:
        # (a) Nautilus accepts the published book and its top is the last quote
        self.order_book.check_integrity()
        published = self.model.published()
        bids, asks = published
        if bids and asks:
            q = self.quote
            assert q is not None
            assert (q.bid_price.raw, q.bid_size.raw) == bids[0]
            assert (q.ask_price.raw, q.ask_size.raw) == asks[0]
            assert self.order_book.best_bid_price().raw == q.bid_price.raw
            assert self.order_book.best_bid_size().raw == q.bid_size.raw
            assert self.order_book.best_ask_price().raw == q.ask_price.raw
            assert self.order_book.best_ask_size().raw == q.ask_size.raw
        # (b) the published book is the model's uncrossed book
        assert nautilus_levels(self.order_book) == published
        assert self.book.view(len(self.book)) == published
        # (c) the raw book keeps every level the venue sent
        assert self.book.levels() == self.model.raw()


# -- Hand-checked examples -----------------------------------------------------------------------


def test_newer_bid_above_the_ask_hides_the_ask_until_the_venue_deletes_it(impl) -> None:
    h = Harness(impl)
    h.apply([(100, 1)], [(101, 1), (103, 1)], 1, snapshot=True)
    deltas = h.apply([(102, 2)], [], 2)
    # The ask at 101 (message 1) is older than the bid at 102 (message 2): it leaves the book
    assert summary(deltas) == [
        (BookAction.DELETE, SELL, 101 * E, 0, 0, 2),
        (BookAction.ADD, BUY, 102 * E, 2 * E, F_LAST, 2),
    ]
    assert nautilus_levels(h.order_book) == (((102 * E, 2 * E), (100 * E, E)), ((103 * E, E),))
    assert (h.quote.bid_price.raw, h.quote.ask_price.raw) == (102 * E, 103 * E)
    assert h.book.asks() == ((101 * E, E), (103 * E, E))  # Raw book unchanged
    # The venue deletes the ask itself: the published book already lacks it
    assert h.apply([], [(101, 0)], 3) is None
    assert h.book.asks() == ((103 * E, E),)


def test_hidden_level_returns_when_the_venue_removes_the_crossing_level(impl) -> None:
    h = Harness(impl)
    h.apply([(100, 1)], [(101, 1), (103, 1)], 1, snapshot=True)
    h.apply([(102, 2)], [], 2)
    deltas = h.apply([(102, 0)], [], 3)
    assert summary(deltas) == [
        (BookAction.DELETE, BUY, 102 * E, 0, 0, 3),
        (BookAction.ADD, SELL, 101 * E, E, F_LAST, 3),
    ]
    assert nautilus_levels(h.order_book) == (((100 * E, E),), ((101 * E, E), (103 * E, E)))
    # Back to the common case: raw deltas again
    deltas = h.apply([(99, 5)], [], 4)
    assert summary(deltas) == [(BookAction.UPDATE, BUY, 99 * E, 5 * E, F_LAST, 4)]


def test_hidden_level_updated_while_hidden_returns_with_its_new_size(impl) -> None:
    h = Harness(impl)
    h.apply([(100, 1)], [(101, 1)], 1, snapshot=True)
    h.apply([], [(99, 3)], 2)  # Newer ask below the bid: the bid at 100 leaves the book
    assert nautilus_levels(h.order_book) == ((), ((99 * E, 3 * E), (101 * E, E)))
    assert h.apply([(100, 4)], [], 3) is not None  # Now the bid is newer: the ask at 99 goes
    assert nautilus_levels(h.order_book) == (((100 * E, 4 * E),), ((101 * E, E),))


def test_same_message_cross_nets_sizes_in_the_snapshot(impl) -> None:
    h = Harness(impl)
    deltas = h.apply([(102, 3), (100, 1)], [(101, 1), (105, 1)], 7, snapshot=True)
    assert summary(deltas) == [
        (BookAction.CLEAR, OrderSide.NO_ORDER_SIDE, 0, 0, F_SNAPSHOT, 7),
        (BookAction.ADD, BUY, 102 * E, 2 * E, F_SNAPSHOT, 7),
        (BookAction.ADD, BUY, 100 * E, E, F_SNAPSHOT, 7),
        (BookAction.ADD, SELL, 105 * E, E, F_SNAPSHOT | F_LAST, 7),
    ]
    assert h.book.levels() == (((102 * E, 3 * E), (100 * E, E)), ((101 * E, E), (105 * E, E)))


def test_one_sided_books(impl) -> None:
    h = Harness(impl)
    deltas = h.apply([(100, 1), (98, 2)], [], 1, snapshot=True)
    assert len(deltas.deltas) == 3
    assert h.book.quote() is None
    assert nautilus_levels(h.order_book) == (((100 * E, E), (98 * E, 2 * E)), ())
    h.apply([], [(99, 1)], 2)
    assert nautilus_levels(h.order_book) == (((98 * E, 2 * E),), ((99 * E, E),))
    assert (h.quote.bid_price.raw, h.quote.ask_price.raw) == (98 * E, 99 * E)
    h.apply([], [(97, 1)], 3)  # Every bid is older and crossed: the bid side empties
    assert nautilus_levels(h.order_book) == ((), ((97 * E, E), (99 * E, E)))
    assert h.book.quote() is None


def test_empty_snapshot_publishes_a_lone_clear(impl) -> None:
    h = Harness(impl)
    h.apply([(100, 1)], [(99, 1)], 1, snapshot=False)
    deltas = h.apply([], [], 2, snapshot=True)
    assert summary(deltas) == [
        (BookAction.CLEAR, OrderSide.NO_ORDER_SIDE, 0, 0, F_SNAPSHOT | F_LAST, 2),
    ]
    assert nautilus_levels(h.order_book) == ((), ())
    assert len(h.book) == 0


def test_uncrossed_updates_keep_the_venue_deltas(impl) -> None:
    h = Harness(impl)
    h.apply([(100, 1)], [(101, 1)], 1, snapshot=True)
    deltas = h.apply([(100, 0), (98, 4), (98, 5)], [(102, 2), (110, 0)], 2)
    assert [d[0] for d in summary(deltas)] == [
        BookAction.DELETE, BookAction.UPDATE, BookAction.UPDATE, BookAction.UPDATE,
        BookAction.DELETE,
    ]


# -- Property tests: independent oracles ---------------------------------------------------------

prices = st.integers(min_value=1, max_value=20)
side_levels = st.lists(st.tuples(prices, st.integers(min_value=0, max_value=4)), max_size=5)
snapshot_side = st.lists(st.tuples(prices, st.integers(min_value=1, max_value=4)), max_size=6)
steps = st.lists(
    st.one_of(
        st.tuples(st.just(True), snapshot_side, snapshot_side, st.integers(-2, 3)),
        st.tuples(st.just(False), side_levels, side_levels, st.integers(-2, 3)),
        st.tuples(st.just(False), side_levels, side_levels, st.integers(-2, 3)),
        st.tuples(st.just(False), side_levels, side_levels, st.integers(-2, 3)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_property_published_book_is_uncrossed_and_matches_the_model(sequence) -> None:
    ours = Harness(compiled)
    twin = Harness(reference)
    message_id = 10
    for snapshot, bids, asks, step in sequence:
        # Message ids mostly grow; equal ones and older ones arriving late also happen
        message_id = max(message_id + step, 0)
        ours_deltas = ours.apply(bids, asks, message_id, snapshot)
        twin_deltas = twin.apply(bids, asks, message_id, snapshot)
        assert summary(ours_deltas) == summary(twin_deltas)
        assert ours.book.stamps() == twin.book.stamps()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(side_levels, side_levels), min_size=1, max_size=30))
def test_property_alternating_sides_between_messages(updates) -> None:
    # Bids and asks arrive in separate messages, so every cross has a newer and an older side
    h = Harness(compiled)
    h.apply([], [], 1, snapshot=True)
    message_id = 1
    for bids, asks in updates:
        message_id += 1
        h.apply(bids, [], message_id)
        message_id += 1
        h.apply([], asks, message_id)


# -- Fuzz: the public surface raises, never aborts -----------------------------------------------

LIMIT = 2**96 - 1  # Below Nautilus's PRICE_MAX and QUANTITY_MAX at precision 16
extreme = st.one_of(
    st.integers(min_value=-(2**130), max_value=2**130),
    st.sampled_from(
        [
            0, 1, -1, LIMIT, LIMIT + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**127 - 1, 2**127,
            2**128, int(17014118346046.0 * 1e16), int(34028236692093.0 * 1e16),
        ],
    ),
    st.integers(min_value=0, max_value=20).map(lambda n: n * E),
)
levels = st.lists(st.tuples(extreme, extreme), max_size=4)
odd_levels = st.lists(
    st.one_of(
        st.tuples(extreme, extreme),
        st.tuples(st.floats(allow_nan=True), extreme),
        st.just((1,)),
        st.just("xy"),
        st.tuples(extreme, st.text(max_size=2)),
    ),
    max_size=3,
)


def _exercise(book, deltas) -> None:
    # Read every value Nautilus would read downstream, where an out-of-range raw would abort
    if deltas is not None:
        repr(deltas)
        for d in deltas.deltas:
            d.order.price.as_double()
            d.order.size.as_double()
        ob = OrderBook(IID, BookType.L2_MBP)
        ob.apply_deltas(deltas)
        repr(ob.best_bid_price())
    repr(book.quote(1, 2))
    repr(book.depth10())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([compiled, reference]),
    st.integers(min_value=-1, max_value=17),
    st.lists(
        st.tuples(st.booleans(), levels, levels, extreme, extreme),
        min_size=1,
        max_size=6,
    ),
)
def test_fuzz_public_api_raises_cleanly(impl, precision, calls) -> None:
    try:
        book = impl.L2Book(IID, precision, precision, 0)
    except ValueError:
        assert not 0 <= precision <= 16
        return
    for snapshot, bids, asks, message_id, ts in calls:
        before = book.levels()
        method = book.apply_snapshot if snapshot else book.apply_update
        try:
            deltas = method(bids, asks, message_id, ts, ts)
        except ValueError as e:
            assert "was" in str(e)
            assert book.levels() == before  # Rejected frames change nothing
            continue
        _exercise(book, deltas)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([compiled, reference]), odd_levels, st.one_of(extreme, st.floats()))
def test_fuzz_malformed_arguments_raise_type_or_value_errors(impl, bids, message_id) -> None:
    book = impl.L2Book(IID, 16, 16, 0)
    book.apply_snapshot([(2 * E, E)], [(3 * E, E)], 1)
    try:
        deltas = book.apply_update(bids, [], message_id)
    except (ValueError, TypeError) as e:
        assert "was" in str(e) or "must be" in str(e)
        assert book.levels() == (((2 * E, E),), ((3 * E, E),))
        return
    _exercise(book, deltas)


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("quote", (-1, 0)),
        ("quote", (0, 2**64)),
        ("check_cross", (2**64,)),
        ("depth10", (-5, 0)),
    ],
)
def test_timestamps_out_of_range_raise(impl, method, args) -> None:
    book = impl.L2Book(IID, 0, 4)
    with pytest.raises(ValueError, match="was"):
        getattr(book, method)(*args)


def test_limits_are_the_nautilus_representable_ones(impl) -> None:
    book = impl.L2Book(IID, 16, 16, 0)
    deltas = book.apply_snapshot([(LIMIT, LIMIT)], [], 1)
    assert deltas.deltas[1].order.price.raw == LIMIT
    assert "7922816251426" in repr(deltas.deltas[1].order.price)
    with pytest.raises(ValueError, match="raw price must be in"):
        book.apply_update([(LIMIT + 1, 1)], [], 2)
    with pytest.raises(ValueError, match="raw size must be in"):
        book.apply_update([], [(1, LIMIT + 1)], 2)
    coarse = impl.L2Book(IID, 0, 0, 0)
    top = int(17014118346046.0 * 1e16) // E * E  # PRICE_MAX rounded down to precision 0
    coarse.apply_snapshot([(top, E)], [], 1)
    assert coarse.bids() == ((top, E),)
    with pytest.raises(ValueError, match="raw price must be in"):
        coarse.apply_update([(top + E, E)], [], 2)
