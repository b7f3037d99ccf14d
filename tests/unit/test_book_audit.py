# SPDX-License-Identifier: Apache-2.0
"""The book audit: which levels differ, and when a difference resubscribes the book."""

from __future__ import annotations

import asyncio

import pytest
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx import book_audit
from nautilus_dydx._core.frames import FrameParser
from nautilus_dydx.book_audit import BookAuditor
from nautilus_dydx.book_audit import level_differences
from nautilus_dydx.schemas.indexer import BookLevel
from nautilus_dydx.schemas.indexer import OrderBookResponse


UNIT = 10**16
BTC = InstrumentId.from_str("BTC-USD-PERP.DYDX")


def raw(price: str, size: str) -> tuple[int, int]:
    from decimal import Decimal

    return int(Decimal(price) * UNIT), int(Decimal(size) * UNIT)


# -- level_differences ---------------------------------------------------------------------------


def test_equal_sides_have_no_differences() -> None:
    side = [raw("100", "1"), raw("99", "2")]
    assert level_differences(side, list(side), descending=True) == {}


def test_a_level_only_the_venue_has_carries_its_size_and_one_only_local_carries_zero() -> None:
    local = [raw("100", "1"), raw("98", "3")]
    venue = [raw("100", "1"), raw("99", "2")]
    assert level_differences(local, venue, descending=True) == {
        raw("99", "0")[0]: raw("0", "2")[1],
        raw("98", "0")[0]: 0,
    }


def test_a_size_difference_is_reported_with_the_venue_size() -> None:
    local = [raw("101", "1"), raw("102", "5")]
    venue = [raw("101", "1"), raw("102", "4")]
    assert level_differences(local, venue, descending=False) == {raw("102", "4")[0]: raw("0", "4")[1]}


def test_levels_beyond_the_shallower_depth_are_not_compared() -> None:
    # Bids: the venue shows 3 levels (its depth), the client knows a 4th deeper one
    venue = [raw("100", "1"), raw("99", "1"), raw("98", "1")]
    local = venue + [raw("97", "1")]
    assert level_differences(local, venue, descending=True, depth=3) == {}
    # Asks: a level the client lacks inside the venue's depth is still found, though the
    # client's own 3rd level is then deeper than the venue's
    venue = [raw("100", "1"), raw("101", "1"), raw("102", "1")]
    local = [raw("100", "1"), raw("102", "1"), raw("103", "1")]
    assert level_differences(local, venue, descending=False, depth=3) == {
        raw("101", "0")[0]: UNIT,
    }


def test_a_short_side_is_compared_whole() -> None:
    assert level_differences([], [raw("100", "1")], descending=False, depth=3) == {
        raw("100", "0")[0]: UNIT,
    }


# -- BookAuditor -----------------------------------------------------------------------------------


class FakeIndexer:
    """Serves REST book snapshots from a queue; an exception in it is raised."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.requests = 0

    async def get_orderbook(self, ticker: str) -> OrderBookResponse:
        assert ticker == "BTC-USD"
        self.requests += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def rest(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBookResponse:
    return OrderBookResponse(
        bids=[BookLevel(price=p, size=s) for p, s in bids],
        asks=[BookLevel(price=p, size=s) for p, s in asks],
    )


ASKS = [("101", "1"), ("102", "1"), ("103", "1")]
LOSSY_ASKS = [("103", "1")]  # What a snapshot taken in a cross at 102 shows
BIDS_AFTER = [("99", "1")]  # The crossing bid at 102 is gone


class Rig:
    def __init__(self, *answers: object, stale: bool = False) -> None:
        self.parser = FrameParser()
        self.book = self.parser.register("BTC-USD", BTC, 0, 0).book
        self.book.apply_snapshot(
            [raw("102", "5"), raw("99", "1")], [raw(p, s) for p, s in LOSSY_ASKS], 1,
        )
        self.http = FakeIndexer(*answers)
        self.resynced: list[tuple[InstrumentId, str]] = []
        self.stale = stale
        self.auditor = BookAuditor(
            self.http, self.parser, lambda i, r: self.resynced.append((i, r)),
            lambda i: self.stale,
        )

    def crossing_bid_goes(self) -> None:
        self.book.apply_update([raw("102", "0")], [], 2)

    async def audit(self) -> None:
        self.auditor.poll()
        await asyncio.gather(*self.auditor._tasks.values())


@pytest.fixture(autouse=True)
def _no_confirm_wait(monkeypatch) -> None:
    monkeypatch.setattr(book_audit, "AUDIT_CONFIRM_SECS", 0.0)


def run(coroutine) -> None:
    asyncio.run(coroutine)


def test_nothing_is_audited_while_the_snapshot_top_stays() -> None:
    async def scenario() -> None:
        rig = Rig()
        rig.auditor.watch(BTC)
        rig.book.apply_update([raw("100", "1")], [], 2)  # a better bid is not the top leaving
        await rig.audit()
        assert rig.http.requests == 0 and rig.auditor.watched == 1

    run(scenario())


def test_a_difference_still_there_a_moment_later_resubscribes_the_book() -> None:
    async def scenario() -> None:
        venue = rest(BIDS_AFTER, ASKS)
        rig = Rig(venue, venue)
        rig.auditor.watch(BTC)
        rig.crossing_bid_goes()
        await rig.audit()
        assert rig.http.requests == 2
        assert rig.resynced == [
            (BTC, "differs from the Indexer's book at 2 levels (first: ask 101, venue size 1)"),
        ]
        assert (rig.auditor.audits, rig.auditor.resyncs, rig.auditor.watched) == (1, 1, 0)

    run(scenario())


def test_an_agreeing_book_is_left_alone_after_one_request() -> None:
    async def scenario() -> None:
        rig = Rig(rest(BIDS_AFTER, LOSSY_ASKS))
        rig.auditor.watch(BTC)
        rig.crossing_bid_goes()
        await rig.audit()
        assert rig.http.requests == 1 and rig.resynced == []
        # The ask side of the snapshot stays watched, the bid side is done
        assert rig.auditor._tops == {BTC: (0, raw("103", "0")[0])}

    run(scenario())


def test_a_difference_gone_a_moment_later_was_in_flight() -> None:
    async def scenario() -> None:
        rig = Rig(rest(BIDS_AFTER, ASKS), rest(BIDS_AFTER, LOSSY_ASKS))
        rig.auditor.watch(BTC)
        rig.crossing_bid_goes()
        await rig.audit()
        assert rig.http.requests == 2 and rig.resynced == []

    run(scenario())


def test_a_failed_request_is_counted_and_resubscribes_nothing(caplog) -> None:
    async def scenario() -> None:
        rig = Rig(ConnectionError("refused"))
        rig.auditor.watch(BTC)
        rig.crossing_bid_goes()
        await rig.audit()
        assert rig.resynced == [] and rig.auditor.failures == 1

    run(scenario())
    assert "Cannot audit the BTC-USD book" in caplog.text


def test_a_stale_book_is_not_judged() -> None:
    async def scenario() -> None:
        venue = rest(BIDS_AFTER, ASKS)
        rig = Rig(venue, venue, stale=True)
        rig.auditor.watch(BTC)
        rig.crossing_bid_goes()
        await rig.audit()
        assert rig.resynced == []

    run(scenario())


def test_forget_cancels_a_running_audit() -> None:
    async def scenario() -> None:
        gate = asyncio.Event()

        class SlowIndexer(FakeIndexer):
            async def get_orderbook(self, ticker: str) -> OrderBookResponse:
                await gate.wait()
                return rest(BIDS_AFTER, ASKS)

        rig = Rig()
        rig.auditor._http = SlowIndexer()
        rig.auditor.watch(BTC)
        rig.crossing_bid_goes()
        rig.auditor.poll()
        task = rig.auditor._tasks[BTC]
        await asyncio.sleep(0)
        rig.auditor.forget(BTC)
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert rig.resynced == [] and rig.auditor.watched == 0

    run(scenario())


def test_a_failing_resync_is_logged_not_lost(caplog) -> None:
    async def scenario() -> None:
        venue = rest(BIDS_AFTER, ASKS)
        rig = Rig(venue, venue)

        def broken(instrument_id: InstrumentId, reason: str) -> None:
            raise RuntimeError("resync broke")

        rig.auditor._resync = broken
        rig.auditor.watch(BTC)
        rig.crossing_bid_goes()
        rig.auditor.poll()
        await asyncio.gather(*rig.auditor._tasks.values(), return_exceptions=True)
        await asyncio.sleep(0)
        assert rig.auditor.watched == 0

    run(scenario())
    assert "book audit failed: RuntimeError('resync broke')" in caplog.text


def test_the_side_still_in_the_book_stays_watched_until_it_goes_too() -> None:
    # The snapshot's ask goes first while the venue is still crossed: its REST book leaves out
    # the same asks, so they agree. Only when the crossing bid goes does the REST book show them.
    async def scenario() -> None:
        during_cross = rest([("102", "5"), ("99", "1")], [])
        after = rest(BIDS_AFTER, [("101", "1"), ("102", "1")])
        rig = Rig(during_cross, after, after)
        rig.auditor.watch(BTC)
        rig.book.apply_update([], [raw("103", "0")], 2)
        await rig.audit()
        assert rig.resynced == [] and rig.auditor._tops == {BTC: (raw("102", "0")[0], 0)}
        rig.book.apply_update([raw("102", "0")], [], 3)
        await rig.audit()
        assert rig.http.requests == 3
        assert [reason for _, reason in rig.resynced] == [
            "differs from the Indexer's book at 2 levels (first: ask 101, venue size 1)",
        ]
        assert rig.auditor.watched == 0

    run(scenario())
