# SPDX-License-Identifier: Apache-2.0
"""The Indexer WebSocket server stops and starts again on its port while the book moves."""

from __future__ import annotations

import asyncio

from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import RecordFlag

from tests.integration.data.support import BTC
from tests.integration.data.support import ETH
from tests.integration.data.support import Collector
from tests.integration.data.support import book_levels
from tests.integration.data.support import data_client
from tests.integration.data.support import expected_levels
from tests.integration.data.support import run
from tests.integration.data.support import running_node
from tests.integration.data.support import running_sandbox
from tests.integration.data.support import wait_for


TICKERS = {BTC: "BTC-USD", ETH: "ETH-USD"}


def venue_book(sandbox, instrument_id) -> tuple:
    return tuple(expected_levels(sandbox, TICKERS[instrument_id]))


def books_match(sandbox, actor) -> bool:
    return all(book_levels(actor, i) == venue_book(sandbox, i) for i in TICKERS)


def is_snapshot(deltas) -> bool:
    return bool(deltas.flags & RecordFlag.F_SNAPSHOT) and (
        deltas.deltas[0].action == BookAction.CLEAR
    )


async def step_until(sandbox, condition, blocks: int = 60) -> None:
    for _ in range(blocks):
        sandbox.node.step_blocks(1)
        await asyncio.sleep(0.05)
        if condition():
            return
    raise AssertionError("condition not met within the blocks")


def test_book_equals_the_venue_after_the_server_restarts_on_its_port() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            actor = Collector(tuple(TICKERS))
            async with running_node(sandbox, actor) as node:
                client = data_client(node)
                await step_until(sandbox, lambda: bool(actor.of("trade", BTC)))
                await wait_for(lambda: books_match(sandbox, actor))
                port = sandbox.ws.port
                received = {i: len(actor.of("deltas", i)) for i in TICKERS}
                before = {i: venue_book(sandbox, i) for i in TICKERS}

                # The server goes away: no listener on the port, every connection closed
                await sandbox.ws.stop()
                await wait_for(lambda: not client.ws_client.is_connected)
                # The book moves while the client cannot hear it
                for _ in range(6):
                    sandbox.node.step_blocks(1)
                    await asyncio.sleep(0.05)
                assert venue_book(sandbox, BTC) != before[BTC]
                assert venue_book(sandbox, ETH) != before[ETH]
                assert book_levels(actor, BTC) == before[BTC]
                assert actor.crossed_quotes == [] and actor.crossed_books == []

                # The same server comes back on the same port
                await sandbox.ws.start()
                assert sandbox.ws.port == port
                await wait_for(
                    lambda: all(len(actor.of("deltas", i)) > received[i] for i in TICKERS),
                )
                for instrument_id in TICKERS:
                    # The first book message after the outage replaces the book
                    first = actor.of("deltas", instrument_id)[received[instrument_id]]
                    assert is_snapshot(first)
                await wait_for(lambda: books_match(sandbox, actor))
                assert book_levels(actor, BTC) != before[BTC]

                # The flow resumes: later changes keep the book equal to the venue's
                trades = len(actor.of("trade", BTC))
                await step_until(sandbox, lambda: len(actor.of("trade", BTC)) > trades)
                await wait_for(lambda: books_match(sandbox, actor))
                assert actor.crossed_quotes == [] and actor.crossed_books == []

    run(scenario())
