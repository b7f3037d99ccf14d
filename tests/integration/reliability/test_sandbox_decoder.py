# SPDX-License-Identifier: Apache-2.0
"""Record a sandbox session on every channel and decode it with the compiled FrameParser."""

from __future__ import annotations

import asyncio
import dataclasses

import orjson
import pytest

from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core.frames import FillUpdate
from nautilus_dydx._core.frames import FrameError
from nautilus_dydx._core.frames import FrameParser
from nautilus_dydx._core.frames import precision_from_increment
from nautilus_dydx.sandbox.agents import AgentConfig
from nautilus_dydx.sandbox.agents import MarketAgents
from tests.integration.sandbox.helpers import ALICE
from tests.reference import frames as reference
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.test_indexer_support import close_transport
from tests.integration.sandbox.test_indexer_support import connect
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox
from tests.integration.sandbox.test_indexer_support import wait_for
from tests.integration.sandbox.test_liquidation_indexer import A
from tests.integration.sandbox.test_liquidation_indexer import ONE_BTC
from tests.integration.sandbox.test_liquidation_indexer import PRICE_65000
from tests.integration.sandbox.test_liquidation_indexer import leveraged_config
from tests.integration.sandbox.test_liquidation_indexer import open_long


B = K2_ADDRESS
TEN_MINUTES_MS = 600_000  # An hour of block time (one funding payment) is six blocks
# Skip reasons the sandbox session may legitimately produce: none. A new reason is a decoder or
# sandbox regression (the LIQUIDATED/DELEVERAGED off-grid prices are adaptations, not skips)
EXPECTED_SKIPS: frozenset[str] = frozenset()
# Candles built from an off-grid deleveraging trade are rounded like the trade, never skipped
OFF_GRID_CANDLE_SKIPS = frozenset(
    f"candle: {field} off grid" for field in ("open", "high", "low", "close")
)
EXPECTED_ADAPTATIONS = frozenset({
    "trade price off grid: rounded half-even (LIQUIDATED)",
    "trade price off grid: rounded half-even (DELEVERAGED)",
    "candle price off grid: rounded half-even",
})


async def record_session() -> tuple[list[bytes], dict[str, tuple[int, int]], list[dict]]:
    config = leveraged_config(
        funding_enabled=True, extra_fields=True, block_time_ms=TEN_MINUTES_MS,
    )
    # Alice's subaccount 1 also holds 5 000 USDC, for the forced liquidation at the end
    alice = dataclasses.replace(config.accounts[0], subaccounts={0: 5_000_000_000,
                                                                 1: 5_000_000_000})
    config = dataclasses.replace(config, accounts=(alice, *config.accounts[1:]))
    async with running_sandbox(config=config) as (sandbox, http, client):
        node = sandbox.node
        markets = (await http.get("/perpetualMarkets")).json()["markets"]
        precisions = {
            ticker: (
                precision_from_increment(m["tickSize"]), precision_from_increment(m["stepSize"]),
            )
            for ticker, m in markets.items()
        }
        ws = await connect(sandbox)
        try:
            ws.subscribe("v4_markets")
            ws.subscribe("v4_block_height")
            for index, ticker in enumerate(sorted(markets)):
                batched = index % 2 == 1  # Both framings: channel_data and channel_batch_data
                ws.subscribe("v4_orderbook", ticker, batched=batched)
                ws.subscribe("v4_trades", ticker, batched=batched)
                ws.subscribe("v4_candles", f"{ticker}/1MIN")
            for address in (A, B):
                ws.subscribe("v4_subaccounts", f"{address}/0")
                ws.subscribe("v4_parent_subaccounts", f"{address}/0")
            ws.subscribe("v4_subaccounts", f"{A}/1")
            subscriptions = 2 + 3 * len(markets) + 5
            await ws.wait("subscribed", count=subscriptions)

            # Alice goes 1 BTC long; the oracle drop liquidates 0.4 BTC against Bob's bid and
            # deleverages the rest against Bob off the tick grid
            await open_long(sandbox, client)
            gtb = node.height + 10
            bid = await client.broadcast(BOB.sign_tx(
                [place(B, 2, BUY, 4 * ONE_BTC // 10, 6_100_000_000, gtb=gtb)],
            ))
            assert bid.code == 0
            node.set_oracle_price("BTC-USD", "61800")
            node.step_blocks(1)
            assert node.subaccount(A)["positions"][0]["size"] == 0

            # Agents quote every market and trade; an hour of blocks settles funding
            sandbox.agents = MarketAgents(node, AgentConfig(requote_every=2))
            sandbox.agents.start()
            for _ in range(7):
                node.step_blocks(1)
                await asyncio.sleep(0.01)

            # Alice's subaccount 1 buys 0.5 BTC from the agents, then is liquidated by force
            # (Bob's ask makes sure 0.5 BTC is there at or below 65 000 whatever the agents quote)
            gtb = node.height + 10
            ask = await client.broadcast(BOB.sign_tx(
                [place(B, 4, SELL, ONE_BTC // 2, PRICE_65000, gtb=gtb)],
            ))
            buy = await client.broadcast(ALICE.sign_tx([place(
                A, 3, BUY, ONE_BTC // 2, PRICE_65000, gtb=gtb, tif=IOC, number=1,
            )]))
            assert (ask.code, buy.code) == (0, 0)
            node.step_blocks(1)
            assert node.subaccount(A, 1)["positions"][0]["size"] > 0
            node.chain.liquidator.force(A, 1, 0)
            node.step_blocks(1)
            await asyncio.sleep(0.05)
            last = node.height
            await wait_for(lambda: any(
                f.get("channel") == "v4_block_height" and f.get("type") == "channel_data"
                and int(f["contents"]["blockHeight"]) >= last
                for f in ws.frames if isinstance(f, dict)
            ))
            await asyncio.sleep(0.2)  # The batch interval is 0.05 s: let batches flush
            fills = []
            for address, number in ((A, 0), (B, 0), (A, 1)):
                params = {"address": address, "subaccountNumber": number}
                fills += (await http.get("/fills", params=params)).json()["fills"]
            return list(ws.raw), precisions, fills
        finally:
            close_transport(ws)


@dataclasses.dataclass
class Decoded:
    raw: list[bytes]
    rest_fills: list[dict]
    parser: FrameParser
    objects: list
    errors: list
    tickers: list[str]


@pytest.fixture(scope="module")
def decoded() -> Decoded:
    raw, precisions, rest_fills = run(record_session(), timeout=120)
    parser = FrameParser()
    for ticker, (price_precision, size_precision) in precisions.items():
        parser.register(
            ticker, InstrumentId.from_str(f"{ticker}-PERP.DYDX"), price_precision, size_precision,
        )
    objects = []
    errors = []
    for frame in raw:
        try:
            objects += parser.parse(frame)
        except FrameError as e:
            errors.append((str(e), frame[:300]))
    return Decoded(raw, rest_fills, parser, objects, errors, sorted(precisions))


def test_every_sandbox_frame_decodes_without_errors_or_unexpected_skips(decoded) -> None:
    parser, raw = decoded.parser, decoded.raw
    assert decoded.errors == []
    assert parser.errors == 0
    assert set(parser.skipped) <= EXPECTED_SKIPS, parser.skipped
    assert set(parser.adapted) <= EXPECTED_ADAPTATIONS, parser.adapted
    assert parser.unknown_enums == {}
    # Every channel spoke, in both framings
    channels = {frame.split(b'"channel":"', 1)[1].split(b'"', 1)[0] for frame in raw
                if b'"channel":"' in frame}
    assert channels == {b"v4_markets", b"v4_block_height", b"v4_orderbook", b"v4_trades",
                        b"v4_candles", b"v4_subaccounts", b"v4_parent_subaccounts"}
    assert any(b'"channel_batch_data"' in frame for frame in raw)
    # Funding reached the decoder as funding rate updates
    assert any(type(o).__name__ == "FundingRateUpdate" for o in decoded.objects)
    # The twin agrees on what it skipped and adapted
    twin = reference.FrameParser()
    for ticker, ctx_ticker in ((t, parser.context(t)) for t in decoded.tickers):
        twin.register(ticker, ctx_ticker.instrument_id, ctx_ticker.price_precision,
                      ctx_ticker.size_precision)
    for frame in raw:
        twin.parse(frame)
    assert (twin.skipped, twin.adapted, twin.errors) == (parser.skipped, parser.adapted, 0)


def test_liquidated_and_deleveraged_fills_and_trades_are_decoded(decoded) -> None:
    objects, raw = decoded.objects, decoded.raw
    fill_types = {o.type for o in objects if isinstance(o, FillUpdate)}
    assert {"LIQUIDATED", "DELEVERAGED"} <= fill_types
    rest_ids = {f["id"] for f in decoded.rest_fills if f["type"] in ("LIQUIDATED", "DELEVERAGED")}
    ws_ids = {o.id for o in objects if isinstance(o, FillUpdate)
              and o.type in ("LIQUIDATED", "DELEVERAGED")}
    assert len(rest_ids) >= 3  # Book liquidation, deleveraging, forced liquidation
    assert rest_ids <= ws_ids
    # Their trades became TradeTicks (the off-grid deleveraging price rounded half-even)
    decoded_trade_ids = {o.trade_id.value for o in objects if isinstance(o, TradeTick)}
    special = [trade_id for frame in raw if b'"v4_trades"' in frame
               for trade_id in _special_trade_ids(frame)]
    assert special
    assert set(special) <= decoded_trade_ids
    assert decoded.parser.adapted.get(
        "trade price off grid: rounded half-even (DELEVERAGED)", 0,
    ) >= 1


def test_candles_holding_an_off_grid_deleveraging_price_are_kept(decoded) -> None:
    assert not set(decoded.parser.skipped) & OFF_GRID_CANDLE_SKIPS, decoded.parser.skipped


def _special_trade_ids(frame: bytes) -> list[str]:
    msg = orjson.loads(frame)
    contents = msg["contents"]
    batches = contents if isinstance(contents, list) else [contents]
    return [t["id"] for c in batches for t in c.get("trades", [])
            if t.get("type") in ("LIQUIDATED", "DELEVERAGED")]
