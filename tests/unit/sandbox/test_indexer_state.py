# SPDX-License-Identifier: Apache-2.0
"""IndexerState unit tests: identifiers, formatting, book levels and uncrossing, candles."""

from __future__ import annotations

from decimal import Decimal

from nautilus_dydx.sandbox.config import default_markets
from nautilus_dydx.sandbox.events import BlockEvent
from nautilus_dydx.sandbox.events import FillEvent
from nautilus_dydx.sandbox.events import FundingEvent
from nautilus_dydx.sandbox.events import OraclePriceEvent
from nautilus_dydx.sandbox.events import OrderPlacedEvent
from nautilus_dydx.sandbox.events import OrderRemovedEvent
from nautilus_dydx.sandbox.events import OrderSnapshot
from nautilus_dydx.sandbox.indexer_state import IndexerState
from nautilus_dydx.sandbox.indexer_state import fill_uuid
from nautilus_dydx.sandbox.indexer_state import fmt
from nautilus_dydx.sandbox.indexer_state import iso
from nautilus_dydx.sandbox.indexer_state import order_uuid
from nautilus_dydx.sandbox.indexer_state import parse_iso
from nautilus_dydx.sandbox.indexer_state import subaccount_uuid


A = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
T0 = 1_767_225_600_000_000_000


def snapshot(client_id: int, side: str, quantums: int, subticks: int, status: str = "OPEN",
             filled: int = 0, tif: str = "TIME_IN_FORCE_UNSPECIFIED") -> OrderSnapshot:
    return OrderSnapshot(
        A, 0, client_id, 0, 0, "BTC-USD", side, quantums, subticks, 10, 0, tif, False, 0,
        "CONDITION_TYPE_UNSPECIFIED", 0, filled, status, 1, "AB",
    )


def make_state() -> tuple[IndexerState, list]:
    state = IndexerState(default_markets(), 1, T0)
    updates: list = []
    state.add_listener(lambda *args: updates.append(args))
    return state, updates


def test_identifiers_match_protocol_vector_9_4() -> None:
    assert subaccount_uuid(A, 0) == "9534705d-6c4c-54d3-bdf9-48340caf07e9"
    assert order_uuid(A, 0, 123456789, 0, 0) == "abf17845-a8c4-5be3-a976-b0639386fd5e"
    assert fill_uuid("00000001", "TAKER") != fill_uuid("00000001", "MAKER")


def test_decimal_and_time_formatting() -> None:
    assert fmt(Decimal("100")) == "100"
    assert fmt(Decimal("0.000100")) == "0.0001"
    assert fmt(Decimal("-0")) == "0"
    assert iso(T0 + 450_000_000) == "2026-01-01T00:00:00.450Z"
    assert parse_iso("2026-01-01T00:00:00.450Z") == T0 + 450_000_000


def test_market_units_follow_integer_parameters() -> None:
    state, _ = make_state()
    btc = state.markets["BTC-USD"]
    assert (fmt(btc.tick_size), fmt(btc.step_size)) == ("1", "0.0001")
    eth = state.markets["ETH-USD"]
    assert (fmt(eth.tick_size), fmt(eth.step_size)) == ("0.1", "0.001")
    sol = state.markets["SOL-USD"]
    assert (fmt(sol.tick_size), fmt(sol.step_size)) == ("0.01", "0.1")
    market = state.market_json(btc)
    assert (market["tickSize"], market["stepSize"], market["clobPairId"]) == ("1", "0.0001", "0")


def test_book_levels_aggregate_orders_and_emit_absolute_sizes() -> None:
    state, updates = make_state()
    state.apply(OrderPlacedEvent(1, 2, T0, snapshot(1, "BUY", 1_000_000, 6_500_000_000)))
    state.apply(OrderPlacedEvent(2, 2, T0, snapshot(2, "BUY", 2_000_000, 6_500_000_000)))
    state.apply(OrderPlacedEvent(3, 2, T0, snapshot(3, "SELL", 1_000_000, 6_510_000_000)))
    state.apply(
        OrderPlacedEvent(4, 2, T0, snapshot(4, "SELL", 1_000_000, 6_400_000_000,
                                            tif="TIME_IN_FORCE_IOC")),
    )
    assert state.book_json("BTC-USD") == {
        "bids": [{"price": "65000", "size": "0.0003"}],
        "asks": [{"price": "65100", "size": "0.0001"}],
    }
    books = [u[2] for u in updates if u[0] == "v4_orderbook"]
    assert books[-1] == {"asks": [["65100", "0.0001"]]}
    assert books[-2] == {"bids": [["65000", "0.0003"]]}
    state.apply(OrderRemovedEvent(5, 3, T0, snapshot(1, "BUY", 1_000_000, 6_500_000_000,
                                                      status="CANCELED"),
                                  "ORDER_REMOVAL_REASON_USER_CANCELED"))
    assert [u[2] for u in updates if u[0] == "v4_orderbook"][-1] == {"bids": [["65000", "0.0002"]]}
    orders = [u[2]["orders"][0] for u in updates if u[0] == "v4_subaccounts"]
    assert orders[-1]["status"] == "CANCELED"
    assert orders[-1]["removalReason"] == "ORDER_REMOVAL_REASON_USER_CANCELED"


def test_crossed_book_is_uncrossed_newest_level_wins() -> None:
    state, updates = make_state()
    state.set_level("BTC-USD", "SELL", "65000", "1")
    state.set_level("BTC-USD", "SELL", "65010", "1")
    state.set_level("BTC-USD", "BUY", "64990", "1")
    # A newer bid above the best ask: the indexer drops the older asks it crosses
    state.set_level("BTC-USD", "BUY", "65005", "0.5")
    book = state.book_json("BTC-USD")
    assert book["bids"][0] == {"price": "65005", "size": "0.5"}
    assert book["asks"][0] == {"price": "65010", "size": "1"}
    raw_bids, raw_asks = state.markets["BTC-USD"].levels(uncross=False)
    assert raw_bids[0][0] >= raw_asks[0][0]
    assert [u[2] for u in updates if u[0] == "v4_orderbook"][-1] == {"bids": [["65005", "0.5"]]}
    # A newer, larger ask at the bid's price: the bid was older and smaller, so it is dropped
    state.set_level("BTC-USD", "SELL", "65005", "2")
    book = state.book_json("BTC-USD")
    assert book["bids"][0]["price"] == "64990"
    assert book["asks"][0] == {"price": "65005", "size": "2"}


def test_fills_make_trades_candles_and_oracle_updates() -> None:
    state, updates = make_state()
    maker = snapshot(1, "SELL", 2_000_000, 6_500_000_000, filled=1_000_000)
    taker = snapshot(2, "BUY", 1_000_000, 6_500_000_000, filled=1_000_000, status="FILLED")
    for index, offset in enumerate((0, 30, 70)):
        state.apply(FillEvent(
            10 + index, 2, T0 + offset * 1_000_000_000, f"{index:024x}", 0, "BTC-USD",
            1_000_000, 6_500_000_000 + index * 100_000, 6_500_000, "BUY", taker, maker, 3250, 650,
            "AB",
        ))
    market = state.markets["BTC-USD"]
    one_minute = [market.candles["1MIN"][k] for k in sorted(market.candles["1MIN"])]
    assert [(c["open"], c["close"], c["trades"]) for c in one_minute] == [
        ("65000", "65001", 2), ("65002", "65002", 1),
    ]
    assert one_minute[0]["baseTokenVolume"] == "0.0002"
    day = list(market.candles["1DAY"].values())
    assert (day[0]["high"], day[0]["low"], day[0]["trades"]) == ("65002", "65000", 3)
    assert [t["id"] for t in market.trades] == [f"{i:024x}" for i in range(3)]
    fills = [u for u in updates if u[0] == "v4_subaccounts"]
    assert {f["liquidity"] for u in fills for f in u[2]["fills"]} == {"TAKER", "MAKER"}
    state.apply(OraclePriceEvent(20, 3, T0, 0, "BTC-USD", 6_600_000_000, "66000"))
    assert updates[-1][0] == "v4_markets"
    assert updates[-1][2]["oraclePrices"]["BTC-USD"]["oraclePrice"] == "66000"
    # The chain's hourly funding tick (funding.py) fills /historicalFunding
    state.apply(FundingEvent(21, 3, T0 + 3_600_000_000_000, 0, "BTC-USD", 19, "66000"))
    state.apply(BlockEvent(22, 3, T0 + 3_600_000_000_000))
    assert state.markets["BTC-USD"].funding[-1]["effectiveAtHeight"] == "3"
    assert state.markets["BTC-USD"].funding[-1]["rate"] == "0.000002375"
    assert updates[-1][:2] == ("v4_block_height", "v4_block_height")


def test_final_orders_are_pruned_beyond_the_history_cap() -> None:
    state = IndexerState(default_markets(), 1, T0, max_history=3)
    state.apply(OrderPlacedEvent(1, 2, T0, snapshot(1, "BUY", 1_000_000, 6_400_000_000)))
    for client_id in range(2, 7):
        state.apply(OrderRemovedEvent(
            client_id, 2, T0,
            snapshot(client_id, "BUY", 1_000_000, 6_400_000_000, status="CANCELED"),
            "ORDER_REMOVAL_REASON_USER_CANCELED",
        ))
    orders = state.subaccounts[(A, 0)].orders
    assert len(orders) == 3
    assert order_uuid(A, 0, 1, 0, 0) in orders
    assert order_uuid(A, 0, 2, 0, 0) not in state.orders
    assert [o["clientId"] for o in orders.values()] == ["1", "5", "6"]


class CountingOrders(dict):
    """A subaccount's orders that count the entries handed out by `items()`."""

    read = 0

    def items(self):
        for entry in super().items():
            self.read += 1
            yield entry


def _canceled(state: IndexerState, client_id: int) -> None:
    state.apply(OrderRemovedEvent(
        client_id, 2, T0,
        snapshot(client_id, "BUY", 1_000_000, 6_400_000_000, status="CANCELED"),
        "ORDER_REMOVAL_REASON_USER_CANCELED",
    ))


def test_pruning_at_the_cap_reads_only_the_orders_it_removes() -> None:
    # A subaccount at its cap prunes one order per new order; reading every kept order each
    # time made a market maker's subaccount (10 000 orders) slow the sandbox's blocks fivefold
    state = IndexerState(default_markets(), 1, T0, max_history=200)
    for client_id in range(1, 201):
        _canceled(state, client_id)
    sub = state.subaccounts[(A, 0)]
    sub.orders = CountingOrders(sub.orders)
    for client_id in range(201, 301):
        _canceled(state, client_id)
    # One oldest final order read (and removed) per new order, not the 200 kept
    assert sub.orders.read == 100
    assert [o["clientId"] for o in sub.orders.values()] == [str(i) for i in range(101, 301)]
    assert order_uuid(A, 0, 100, 0, 0) not in state.orders
    assert order_uuid(A, 0, 101, 0, 0) in state.orders
