# SPDX-License-Identifier: Apache-2.0
"""The live views' state and terminal rendering, fed with recorded Indexer frames."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal

import orjson
import pytest
from rich.console import Console

from nautilus_dydx._core.frames import FrameParser
from nautilus_dydx._core.frames import precision_from_increment
from nautilus_dydx.schemas import indexer as schemas
from nautilus_dydx.tools.book import BookView
from nautilus_dydx.tools.decode import instrument_id_for
from nautilus_dydx.tools.price import PriceView
from nautilus_dydx.tools.trades import TradesView
from tests.conftest import load_resource


FRAMES = json.loads(load_resource("ws", "frames.json"))
MARKETS = json.loads(load_resource("ws", "perpetual_markets.json"))["markets"]


def view_for(kind: type, ticker: str, **options: object):
    args = argparse.Namespace(ticker=ticker, count=None, duration=None, plain=True, depth=3)
    for key, value in options.items():
        setattr(args, key, value)
    view = kind(args)
    market = MARKETS[ticker]
    parser = FrameParser()
    view.context = parser.register(
        ticker, instrument_id_for(ticker),
        precision_from_increment(market["tickSize"]), precision_from_increment(market["stepSize"]),
    )
    view.market = schemas.PerpetualMarket(**{
        "clob_pair_id": market["clobPairId"], "ticker": ticker, "status": market["status"],
        "atomic_resolution": market["atomicResolution"],
        "quantum_conversion_exponent": market["quantumConversionExponent"],
        "step_base_quantums": market["stepBaseQuantums"],
        "subticks_per_tick": market["subticksPerTick"], "tick_size": market["tickSize"],
        "step_size": market["stepSize"],
        "initial_margin_fraction": market["initialMarginFraction"],
        "maintenance_margin_fraction": market["maintenanceMarginFraction"],
    })
    return view, parser


def feed(view, parser: FrameParser, name: str) -> list[str]:
    return view.on_objects(parser.parse(orjson.dumps(FRAMES[name]), 1))


def rendered(view) -> str:
    console = Console(width=120, record=True, no_color=True)
    console.print(view.render())
    return console.export_text()


def ticker_of(name: str) -> str:
    frame = FRAMES[name]
    return frame["id"].split("/")[0]


def test_book_view_shows_the_top_levels_and_the_spread_of_the_snapshot() -> None:
    ticker = ticker_of("orderbook_subscribed")
    view, parser = view_for(BookView, ticker)
    contents = FRAMES["orderbook_subscribed"]["contents"]
    bids = sorted((Decimal(b["price"]) for b in contents["bids"] if Decimal(b["size"])),
                  reverse=True)
    asks = sorted(Decimal(a["price"]) for a in contents["asks"] if Decimal(a["size"]))

    lines = feed(view, parser, "orderbook_subscribed")

    assert len(lines) == 1
    fields = dict(f.split("=", 1) for f in lines[0].split() if "=" in f)
    assert Decimal(fields["bid"]) == bids[0]
    assert Decimal(fields["ask"]) == asks[0]
    best_bid, best_ask = view.levels()[0][0][0], view.levels()[1][0][0]
    assert best_bid == bids[0]
    assert best_ask == asks[0]
    text = rendered(view)
    assert f"spread {best_ask - best_bid}" in text
    assert str(best_bid) in text and str(best_ask) in text
    assert len(view.levels()[0]) == min(3, len(bids))


def test_trades_view_counts_live_trades_not_the_snapshot() -> None:
    ticker = ticker_of("trades_subscribed")
    view, parser = view_for(TradesView, ticker)

    assert feed(view, parser, "trades_subscribed") == []
    snapshot = len(view.recent)
    lines = feed(view, parser, "trades_update")

    # The parser drops trades it already delivered in the snapshot
    seen = {t["id"] for t in FRAMES["trades_subscribed"]["contents"]["trades"]}
    update_ids = [
        t["id"] for t in FRAMES["trades_update"]["contents"]["trades"] if t["id"] not in seen
    ]
    assert update_ids
    assert sorted(line.split("id=")[1] for line in lines) == sorted(update_ids)
    assert len(view.recent) == min(20, snapshot + len(update_ids))
    assert "trades" in rendered(view)


def test_price_view_reports_oracle_and_book_changes_only() -> None:
    ticker = ticker_of("orderbook_subscribed")
    view, parser = view_for(PriceView, ticker)

    lines = feed(view, parser, "orderbook_subscribed")
    again = feed(view, parser, "block_height_update")

    assert len(lines) == 1 and again == []
    fields = dict(f.split("=", 1) for f in lines[0].split() if "=" in f)
    assert (Decimal(fields["bid"]) + Decimal(fields["ask"])) / 2 == Decimal(fields["mid"])
    assert fields["last"] == "-"
    assert rendered(view).strip() == lines[0]


@pytest.mark.parametrize("kind", [BookView, TradesView, PriceView])
def test_every_view_renders_before_data_arrives(kind: type) -> None:
    view, _ = view_for(kind, "BTC-USD")

    assert rendered(view).strip()
