# SPDX-License-Identifier: Apache-2.0
"""A book resynced while the venue is crossed gets the levels the venue's snapshot left out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.enums import RecordFlag

from tests.integration.data.support import BTC
from tests.integration.data.support import Collector
from tests.integration.data.support import book_levels
from tests.integration.data.support import data_client
from tests.integration.data.support import indexer_levels
from tests.integration.data.support import run
from tests.integration.data.support import running_node
from tests.integration.data.support import running_sandbox
from tests.integration.data.support import wait_for


TICKER = "BTC-USD"


def small_book(sandbox):
    """Five asks at 60 000 + 1..5 ticks and five bids below, straight on the Indexer."""
    state = sandbox.state
    market = state.markets[TICKER]
    for k in range(1, 6):
        state.set_level(TICKER, "SELL", Decimal(60_000) + k * market.tick_size, market.step_size)
        state.set_level(TICKER, "BUY", Decimal(60_000) - k * market.tick_size,
                        market.step_size * 2)
    return state


async def holds_within(condition, timeout: float) -> bool:
    try:
        await wait_for(condition, timeout)
    except AssertionError:
        return False
    return True


def snapshots(actor: Collector) -> int:
    return sum(1 for d in actor.of("deltas", BTC) if d.flags & RecordFlag.F_SNAPSHOT)


@pytest.mark.parametrize("resync", ["cross lasts", "reconnect during the cross"])
def test_a_snapshot_taken_during_a_cross_is_repeated_once_the_crossing_level_is_gone(resync):
    # "cross lasts": the client resyncs because the book stays crossed past 0.5 s. "reconnect":
    # the connection drops while the venue is crossed, so the snapshot after it is the lossy one
    async def scenario() -> None:
        async with running_sandbox(agents=False) as sandbox:
            state = small_book(sandbox)
            actor = Collector((BTC,))
            async with running_node(sandbox, actor) as node:
                client = data_client(node)
                await wait_for(lambda: book_levels(actor, BTC) == indexer_levels(sandbox, TICKER))

                # A newer, larger bid 2 ticks above the best ask: the Indexer's snapshot drops
                # the three asks it crosses (§3.9)
                before = snapshots(actor)
                price = sandbox.faults.force_crossed_book(TICKER, ticks=2)
                if resync != "cross lasts":
                    book = client._parser.context(TICKER).book
                    await wait_for(book.is_crossed, 10.0)
                    before = snapshots(actor)
                    sandbox.faults.drop_ws()
                await wait_for(lambda: snapshots(actor) > before, 10.0)
                hidden = [p for p, _ in indexer_levels(sandbox, TICKER)[1][:3]]
                assert not {p for p, _ in book_levels(actor, BTC)[1]} & set(hidden)

                # The venue's cross ends (the bid goes); the three asks never change again
                resyncs = client.resyncs
                state.set_level(TICKER, "BUY", price, 0)
                await wait_for(lambda: book_levels(actor, BTC) == indexer_levels(sandbox, TICKER), 10.0)
                assert client.resyncs == resyncs + 1
                assert {p for p, _ in book_levels(actor, BTC)[1]} >= set(hidden)
                assert actor.crossed_books == [] and actor.crossed_quotes == []

    run(scenario())


@pytest.mark.parametrize(("audit", "ask_goes_first"), [
    (True, False), (False, False), (True, True),
], ids=["audit", "no audit", "audit, the top ask goes first"])
def test_a_snapshot_that_crossed_unseen_is_caught_by_the_audit(audit, ask_goes_first):
    # The resync goes out, then the venue crosses before it builds the snapshot: the client's
    # book was never crossed, so nothing marks the snapshot as lossy. The audit against the
    # REST book, once the crossing bid goes, finds the asks the snapshot left out. When the
    # snapshot's top ask goes first, the venue is still crossed and its REST book leaves out
    # the same asks: that audit agrees, and the bid side stays watched.
    async def scenario() -> None:
        async with running_sandbox(agents=False) as sandbox:
            state = small_book(sandbox)
            tick = state.markets[TICKER].tick_size
            actor = Collector((BTC,))
            async with running_node(sandbox, actor, book_audit=audit) as node:
                client = data_client(node)
                await wait_for(lambda: book_levels(actor, BTC) == indexer_levels(sandbox, TICKER))

                before = snapshots(actor)
                client.resync_book(client._parser.context(TICKER).instrument_id, "test")
                price = sandbox.faults.force_crossed_book(TICKER, ticks=2)
                await wait_for(lambda: snapshots(actor) > before, 10.0)
                hidden = [p for p, _ in indexer_levels(sandbox, TICKER)[1][:3]]
                assert not {p for p, _ in book_levels(actor, BTC)[1]} & set(hidden)

                resyncs = client.resyncs
                if ask_goes_first:
                    state.set_level(TICKER, "SELL", Decimal(60_000) + 4 * tick, 0)
                    auditor = client._auditor
                    await wait_for(lambda: auditor.audits == 1 and not auditor._tasks, 5.0)
                    assert client.resyncs == resyncs
                state.set_level(TICKER, "BUY", price, 0)
                healed = await holds_within(
                    lambda: book_levels(actor, BTC) == indexer_levels(sandbox, TICKER), 5.0,
                )
                if audit:
                    assert healed
                    assert client.resyncs == resyncs + 1
                    assert client._auditor.resyncs == 1
                    assert {p for p, _ in book_levels(actor, BTC)[1]} >= set(hidden)
                else:
                    # Without the audit the asks stay missing for good
                    assert not healed
                    assert client.resyncs == resyncs
                assert actor.crossed_books == [] and actor.crossed_quotes == []

    run(scenario())
