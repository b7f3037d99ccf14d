# SPDX-License-Identifier: Apache-2.0
"""Checks each fresh book snapshot against the Indexer's REST book once its top has moved."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence

from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core.decimal import format_raw
from nautilus_dydx._core.decimal import parse_decimal_rounded
from nautilus_dydx._core.frames import FrameParser
from nautilus_dydx.common.symbol import instrument_id_to_ticker
from nautilus_dydx.http.client import DYDXHttpClient
from nautilus_dydx.schemas.indexer import BookLevel


log = logging.getLogger(__name__)

# Levels per side the Indexer's snapshots hold (protocol §2.6)
AUDIT_DEPTH = 100
# A difference must still be there this long after the first look: a level in flight on the
# WebSocket while the REST book was read is gone by then, a level the stream lacks is not
AUDIT_CONFIRM_SECS = 1.0

Levels = Sequence[tuple[int, int]]


def level_differences(local: Levels, venue: Levels, descending: bool,
                      depth: int = AUDIT_DEPTH) -> dict[int, int]:
    """
    Return the prices whose sizes differ between two sides of a book, with the venue's size.

    Only the range both sides cover completely is compared: down to the shallower of the
    two `depth`-th levels (all of a side holding fewer).

    Parameters
    ----------
    local : Sequence[tuple[int, int]]
        The local side, best first, as raw (price, size).
    venue : Sequence[tuple[int, int]]
        The venue's side, best first, as raw (price, size).
    descending : bool
        True for bids (best is highest), False for asks.
    depth : int, default AUDIT_DEPTH
        Levels per side the venue's snapshot holds.

    Returns
    -------
    dict[int, int]
        Raw price to the venue's raw size there (0 where the venue has no level).

    """
    bounds = [levels[depth - 1][0] for levels in (local, venue) if len(levels) >= depth]
    bound = (max(bounds) if descending else min(bounds)) if bounds else None

    def covered(price: int) -> bool:
        return bound is None or (price >= bound if descending else price <= bound)

    mine = {price: size for price, size in local if covered(price)}
    theirs = {price: size for price, size in venue if covered(price)}
    return {
        price: theirs.get(price, 0)
        for price in mine.keys() | theirs.keys()
        if mine.get(price, 0) != theirs.get(price, 0)
    }


class BookAuditor:
    """
    Audits the local books of a data client after their snapshots.

    The Indexer uncrosses a snapshot by leaving out the losing levels (protocol §3.9) and
    never streams them again while they stay unchanged, so a snapshot taken while the venue's
    book was briefly crossed lacks them for good; the subscriber cannot tell from the stream.
    Such a snapshot's best bid (or ask) is the level that won the cross, so each time one of
    the two leaves the book, the book is compared with the Indexer's REST book; where a
    difference is still there `AUDIT_CONFIRM_SECS` later, the book is resubscribed.

    Parameters
    ----------
    http : DYDXHttpClient
        The Indexer REST client.
    parser : FrameParser
        The parser whose market contexts hold the local books.
    resync : Callable[[InstrumentId, str], None]
        Resubscribes a book, with the reason.
    is_stale : Callable[[InstrumentId], bool]
        Whether a book waits for its fresh snapshot (its audit is then moot).

    """

    def __init__(
        self,
        http: DYDXHttpClient,
        parser: FrameParser,
        resync: Callable[[InstrumentId, str], None],
        is_stale: Callable[[InstrumentId], bool],
    ) -> None:
        self._http = http
        self._parser = parser
        self._resync = resync
        self._is_stale = is_stale
        self._tops: dict[InstrumentId, tuple[int, int]] = {}
        self._tasks: dict[InstrumentId, asyncio.Task] = {}
        self.audits = 0
        self.resyncs = 0
        self.failures = 0

    def watch(self, instrument_id: InstrumentId) -> None:
        """
        Remember the top of the snapshot the book of `instrument_id` holds now.

        Parameters
        ----------
        instrument_id : InstrumentId
            The instrument.

        """
        self.forget(instrument_id)
        tops = book_tops(self._parser, instrument_id)
        if tops is not None:
            self._tops[instrument_id] = tops

    def forget(self, instrument_id: InstrumentId) -> None:
        """
        Stop watching and auditing the book of `instrument_id`.

        Parameters
        ----------
        instrument_id : InstrumentId
            The instrument.

        """
        self._tops.pop(instrument_id, None)
        task = self._tasks.pop(instrument_id, None)
        if task is not None:
            task.cancel()

    def poll(self) -> None:
        """
        Start the audit of every watched book whose snapshot top has left the book.
        """
        for instrument_id, tops in list(self._tops.items()):
            remaining = tops_remaining(self._parser, instrument_id, tops)
            if remaining != tops:
                del self._tops[instrument_id]
                task = asyncio.get_running_loop().create_task(
                    self._audit(instrument_id, remaining),
                )
                self._tasks[instrument_id] = task
                task.add_done_callback(lambda t, key=instrument_id: self._done(key, t))

    def close(self) -> None:
        """
        Stop every watch and audit.
        """
        for instrument_id in list(self._tops.keys() | self._tasks.keys()):
            self.forget(instrument_id)

    @property
    def watched(self) -> int:
        """
        Return how many books are watched or being audited.
        """
        return len(self._tops) + len(self._tasks)

    def _done(self, instrument_id: InstrumentId, task: asyncio.Task) -> None:
        if self._tasks.get(instrument_id) is task:
            del self._tasks[instrument_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("The %s book audit failed: %r", instrument_id, task.exception())

    async def _audit(self, instrument_id: InstrumentId, remaining: tuple[int, int]) -> None:
        # While the venue is still crossed its REST book leaves out the same levels, so the
        # first side to go may not be the cross's winner: the other side stays watched
        if not await self._judge(instrument_id) and any(remaining):
            self._tops[instrument_id] = remaining

    async def _judge(self, instrument_id: InstrumentId) -> bool:
        # Whether the book was resubscribed
        ticker = instrument_id_to_ticker(instrument_id)
        self.audits += 1
        try:
            first = await self._differences(instrument_id, ticker)
            if not first:
                return False
            await asyncio.sleep(AUDIT_CONFIRM_SECS)
            second = await self._differences(instrument_id, ticker)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.failures += 1
            log.warning("Cannot audit the %s book against the Indexer: %r", ticker, e)
            return False
        lasting = {
            key: size for key, size in second.items() if first.get(key) == size
        }
        if not lasting or self._is_stale(instrument_id):
            return False
        (side, price), size = min(lasting.items())
        context = self._parser.context(ticker)  # Present: `second` was judged just now
        self.resyncs += 1
        self._resync(
            instrument_id,
            f"differs from the Indexer's book at {len(lasting)} levels (first: {side} "
            f"{format_raw(price, context.price_precision)}, "
            f"venue size {format_raw(size, context.size_precision)})",
        )
        return True

    async def _differences(
        self, instrument_id: InstrumentId, ticker: str,
    ) -> dict[tuple[str, int], int]:
        # Empty when there is nothing to judge: a stale or crossed book has its own handling
        response = await self._http.get_orderbook(ticker)
        context = self._parser.context(ticker)
        if context is None or self._is_stale(instrument_id) or context.book.is_crossed():
            return {}
        pp, sp = context.price_precision, context.size_precision
        local_bids, local_asks = context.book.levels()
        differences: dict[tuple[str, int], int] = {}
        for side, local, venue, descending in (
            ("bid", local_bids, response.bids, True),
            ("ask", local_asks, response.asks, False),
        ):
            raw = raw_levels(venue, pp, sp)
            for price, size in level_differences(local, raw, descending).items():
                differences[(side, price)] = size
        return differences


def raw_levels(levels: Iterable[BookLevel], price_precision: int,
               size_precision: int) -> list[tuple[int, int]]:
    """Return REST book levels as raw (price, size), rounded half-even to the precisions as
    the compiled parser rounds the stream's."""
    return [
        (parse_decimal_rounded(level.price, price_precision)[0],
         parse_decimal_rounded(level.size, size_precision)[0])
        for level in levels
    ]


def book_tops(parser: FrameParser, instrument_id: InstrumentId) -> tuple[int, int] | None:
    """Return the raw best bid and ask prices of a local book (0 for an empty side), or
    ``None`` when `parser` has no such market."""
    context = parser.context(instrument_id_to_ticker(instrument_id))
    if context is None:
        return None
    bids, asks = context.book.levels()
    return (bids[0][0] if bids else 0, asks[0][0] if asks else 0)


def tops_remaining(
    parser: FrameParser, instrument_id: InstrumentId, tops: tuple[int, int],
) -> tuple[int, int]:
    """Return the remembered raw best bid and ask `tops` (from `book_tops`) with 0 for each
    that has left the raw book (not just been bettered)."""
    now = book_tops(parser, instrument_id)
    if now is None:
        return tops
    bid, ask = tops
    bid_now, ask_now = now
    return (
        0 if bid and (not bid_now or bid_now < bid) else bid,
        0 if ask and (not ask_now or ask_now > ask) else ask,
    )


def top_gone(parser: FrameParser, instrument_id: InstrumentId, tops: tuple[int, int]) -> bool:
    """Return whether either of the remembered raw best bid and ask `tops` left the raw book."""
    return tops_remaining(parser, instrument_id, tops) != tops
