# SPDX-License-Identifier: Apache-2.0
"""`ReplacedVenueIds`: a closed order's replaced venue IDs leave Nautilus's cache index."""

from __future__ import annotations

from nautilus_trader.cache.cache import Cache
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.events import OrderUpdated
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.test_kit.stubs.events import TestEventStubs
from nautilus_trader.test_kit.stubs.execution import TestExecStubs

from nautilus_dydx.common.cache_index import ReplacedVenueIds


def _order(cache: Cache, name: str, *venue_ids: str):
    # An order accepted under the first venue ID, updated to each next one, then canceled
    instrument = TestInstrumentProvider.btcusdt_binance()
    order = TestExecStubs.limit_order(instrument=instrument,
                                      client_order_id=ClientOrderId(name))
    cache.add_order(order)
    order.apply(TestEventStubs.order_submitted(order))
    order.apply(TestEventStubs.order_accepted(order, venue_order_id=VenueOrderId(venue_ids[0])))
    cache.update_order(order)
    for venue_id in venue_ids[1:]:
        order.apply(TestEventStubs.order_pending_update(order))
        order.apply(OrderUpdated(
            order.trader_id, order.strategy_id, order.instrument_id, order.client_order_id,
            VenueOrderId(venue_id), order.account_id, order.quantity, order.price, None,
            UUID4(), 0, 0,
        ))
        cache.update_order(order)
    order.apply(TestEventStubs.order_canceled(order))
    cache.update_order(order)
    return order


def test_the_replaced_ids_of_a_closed_order_leave_the_index_and_nothing_else() -> None:
    cache = Cache()
    cache.add_instrument(TestInstrumentProvider.btcusdt_binance())
    order = _order(cache, "O-1", "v1", "v2", "v3")
    other = _order(cache, "O-2", "w1", "w2")
    # Nautilus 1.221 indexes every venue ID an order had, and a purge removes only the last
    assert cache.client_order_id(VenueOrderId("v1")) == order.client_order_id
    cache.purge_order(order.client_order_id)
    assert cache.client_order_id(VenueOrderId("v3")) is None
    assert cache.client_order_id(VenueOrderId("v1")) == order.client_order_id

    replaced = ReplacedVenueIds(cache)
    # Found from an order still cached; "w1" belongs to another order, "x" to none
    assert replaced.forget(other.client_order_id, "w2", ["w1"]) == 1
    assert replaced.forget(order.client_order_id, "v3", ["v1", "v2", "x"]) == 2
    assert replaced.forget(order.client_order_id, "v3", ["v1"]) == 0
    assert replaced.forgotten == 3
    for venue_id in ("v1", "v2", "w1"):
        assert cache.client_order_id(VenueOrderId(venue_id)) is None
    assert cache.client_order_id(VenueOrderId("w2")) == other.client_order_id


def test_an_id_indexed_under_another_order_is_kept() -> None:
    cache = Cache()
    cache.add_instrument(TestInstrumentProvider.btcusdt_binance())
    order = _order(cache, "O-1", "v1", "v2")
    replaced = ReplacedVenueIds(cache)
    assert replaced.forget(order.client_order_id, "v2", ["v2"]) == 1  # Its own, if named
    # The index is found now: "v1" is O-1's, so another order's close leaves it
    assert replaced.forget(ClientOrderId("O-9"), "v2", ["v1"]) == 0
    assert cache.client_order_id(VenueOrderId("v1")) == order.client_order_id


def test_nothing_is_searched_until_an_order_is_indexed() -> None:
    cache = Cache()
    replaced = ReplacedVenueIds(cache)
    assert replaced.forget(ClientOrderId("O-1"), "v2", ["v1"]) == 0
    cache.add_instrument(TestInstrumentProvider.btcusdt_binance())
    order = _order(cache, "O-1", "v1", "v2")
    assert replaced.forget(order.client_order_id, "v2", ["v1"]) == 1
