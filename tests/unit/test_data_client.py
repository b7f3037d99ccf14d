# SPDX-License-Identifier: Apache-2.0
"""DYDXDataClient routing without a venue: stale books, quote de-duplication, shared books."""

from __future__ import annotations

import asyncio

import pytest
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_dydx.config import DYDXDataClientConfig
from nautilus_dydx.data import DELTAS
from nautilus_dydx.data import QUOTES
from nautilus_dydx.data import DYDXDataClient
from nautilus_dydx.data import snapshot_deltas
from nautilus_dydx.http.client import DYDXHttpClient
from nautilus_dydx.providers import DYDXInstrumentProvider
from nautilus_dydx.providers import parse_perpetual_market
from tests.unit.test_providers import BTC
from tests.unit.test_providers import BTC_ID


UNIT = 10**16


class Recorder:
    def __init__(self) -> None:
        self.items: list = []

    def __call__(self, data: object) -> None:
        self.items.append(data)


@pytest.fixture
def client() -> DYDXDataClient:
    loop = asyncio.new_event_loop()
    clock = LiveClock()
    http = DYDXHttpClient("http://127.0.0.1:9")
    provider = DYDXInstrumentProvider(http, None, clock)
    instrument = parse_perpetual_market(BTC, 0)
    provider.add(instrument)
    cache = Cache()
    cache.add_instrument(instrument)
    config = DYDXDataClientConfig(network="sandbox")
    data = DYDXDataClient(
        loop, http, MessageBus(TraderId("T-001"), clock), cache, clock, provider,
        "ws://127.0.0.1:9/v4/ws", config,
    )
    data._register(instrument)
    data._handle_data = Recorder()
    yield data
    loop.close()


def quote(bid: int, ask: int, size: int = 1) -> QuoteTick:
    return QuoteTick(
        BTC_ID, Price(bid, 0), Price(ask, 0), Quantity(size, 4), Quantity(size, 4), 1, 1,
    )


def update(price: int) -> OrderBookDeltas:
    # A one-level update (not a snapshot)
    delta = OrderBookDelta.from_raw(
        BTC_ID, BookAction.UPDATE, OrderSide.BUY, price * UNIT, 0, UNIT, 4, 0,
        RecordFlag.F_LAST, 5, 1, 1,
    )
    return OrderBookDeltas(BTC_ID, [delta])


def test_quotes_are_deduplicated_and_only_sent_to_subscribers(client) -> None:
    client._on_objects([quote(100, 101)])
    assert client._handle_data.items == []  # Not subscribed

    client._book_kinds[BTC_ID] = {QUOTES}
    client._on_objects([quote(100, 101), quote(100, 101), quote(100, 102), quote(100, 101)])

    assert [(q.bid_price, q.ask_price) for q in client._handle_data.items] == [
        (Price(100, 0), Price(101, 0)),
        (Price(100, 0), Price(102, 0)),
        (Price(100, 0), Price(101, 0)),
    ]


def test_a_stale_book_publishes_nothing_until_its_fresh_snapshot(client) -> None:
    # Arrange
    client._book_kinds[BTC_ID] = {DELTAS, QUOTES}
    client._on_stale("v4_orderbook", "BTC-USD", "disconnected")
    snapshot = snapshot_deltas(BTC_ID, [(100 * UNIT, UNIT)], [(101 * UNIT, UNIT)], 0, 4, 1, 1)

    # Act
    client._on_objects([update(99), quote(99, 101)])
    held = list(client._handle_data.items)
    client._on_objects([snapshot, quote(100, 101), update(98)])

    # Assert
    assert held == []
    published = client._handle_data.items
    assert published[0] is snapshot
    assert isinstance(published[1], QuoteTick)
    assert isinstance(published[2], OrderBookDeltas) and not published[2].is_snapshot


def test_resync_marks_the_book_stale_and_forgets_the_last_quote(client) -> None:
    client._book_kinds[BTC_ID] = {QUOTES}
    client._on_objects([quote(100, 101)])

    client.resync_book(BTC_ID, "crossed")  # Not subscribed on a socket: only local state
    client._on_objects([quote(100, 101)])

    assert client.resyncs == 1
    assert len(client._handle_data.items) == 1  # Held while stale
    client._on_objects([snapshot_deltas(BTC_ID, [], [], 0, 4, 2, 2), quote(100, 101)])
    assert len(client._handle_data.items) == 2  # The same quote again after the resync
