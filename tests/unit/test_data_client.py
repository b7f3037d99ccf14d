# SPDX-License-Identifier: Apache-2.0
"""DYDXDataClient routing without a venue: stale books, quote de-duplication, shared books."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import orjson
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
from nautilus_dydx.data import DEPTH
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


# -- Routing: the parser returns only what has subscribers ---------------------------------------

FRAMES = json.loads((Path(__file__).resolve().parents[1] / "resources/ws/frames.json").read_text())


def feed(client: DYDXDataClient, *names: str) -> list:
    """Parse the named sample frames with the client's parser and hand them to the client."""
    returned = []
    for name in names:
        objects = client.parser.parse(orjson.dumps(FRAMES[name]), 1)
        returned.extend(objects)
        client._on_objects(objects)
    return returned


def subscribe(client: DYDXDataClient, *kinds: str, trades: bool = False) -> None:
    client._book_kinds[BTC_ID] = set(kinds)
    if trades:
        client._trades.add(BTC_ID)
    client._route(BTC_ID)


def kinds_of(objects: list) -> list[str]:
    return [type(o).__name__ for o in objects]


def test_nothing_subscribed_means_no_market_objects_are_built(client) -> None:
    returned = feed(client, "orderbook_subscribed", "orderbook_update", "trades_update")

    assert not {"OrderBookDeltas", "QuoteTick", "TradeTick"} & set(kinds_of(returned))
    assert client._handle_data.items == []
    assert client.parser.context("BTC-USD").book.bids()  # The book is kept all the same


def test_quotes_only_publishes_quotes_and_no_deltas(client) -> None:
    subscribe(client, QUOTES)

    returned = feed(client, "orderbook_subscribed", "orderbook_update")

    assert "OrderBookDeltas" not in kinds_of(returned)
    published = client._handle_data.items
    assert published and kinds_of(published) == ["QuoteTick"] * len(published)


def test_depth_only_publishes_depth10_not_deltas(client) -> None:
    subscribe(client, DEPTH)

    feed(client, "orderbook_subscribed", "orderbook_update")

    assert kinds_of(client._handle_data.items) == ["OrderBookDepth10", "OrderBookDepth10"]


def test_a_stale_quotes_only_book_recovers_on_its_snapshot(client) -> None:
    # The snapshot must reach the client even though nobody subscribed to deltas
    subscribe(client, QUOTES)
    feed(client, "orderbook_subscribed")
    client._on_stale("v4_orderbook", "BTC-USD", "disconnected")
    client._handle_data.items.clear()

    feed(client, "orderbook_update")
    held = list(client._handle_data.items)
    feed(client, "orderbook_subscribed", "orderbook_update")

    assert held == []
    assert BTC_ID not in client._stale_books
    assert "QuoteTick" in kinds_of(client._handle_data.items)
    assert not client.parser.context("BTC-USD").publish_deltas  # Back to quotes only


def test_trades_follow_their_subscription(client) -> None:
    feed(client, "trades_update")
    assert client._handle_data.items == []

    subscribe(client, trades=True)
    update = dict(FRAMES["trades_update"], message_id=99)
    update["contents"] = {"trades": [dict(t, id=f"{t['id']}ff") for t in
                                     FRAMES["trades_update"]["contents"]["trades"]]}
    objects = client.parser.parse(orjson.dumps(update), 1)
    client._on_objects(objects)

    published = client._handle_data.items
    assert published and kinds_of(published) == ["TradeTick"] * len(published)
    assert len(published) == len(update["contents"]["trades"])
