# SPDX-License-Identifier: Apache-2.0
"""History requests past the Indexer's 1000-item pages: the sandbox's full record, in order."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from decimal import Decimal

from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import DataType
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.identifiers import ClientId

from nautilus_dydx import DYDX
from nautilus_dydx._core.frames import iso_to_ns
from nautilus_dydx.sandbox.agents import AgentConfig
from nautilus_dydx.sandbox.agents import MarketAgents
from tests.integration.data.support import BTC
from tests.integration.data.support import Collector
from tests.integration.data.support import bar_type
from tests.integration.data.support import data_client
from tests.integration.data.support import run
from tests.integration.data.support import running_node
from tests.integration.data.support import running_sandbox
from tests.integration.data.support import sandbox_config
from tests.integration.data.support import wait_for


HOUR_NS = 3_600_000_000_000
# Hourly blocks: each closes a 1-hour bar and pays funding once; a taker trades every block
BLOCKS = 1_030
START = datetime(2026, 1, 1, tzinfo=UTC)


async def build_history(sandbox) -> None:
    agents = MarketAgents(
        sandbox.node,
        AgentConfig(levels=2, requote_every=1, taker_probability=1.0, order_steps=1),
    )
    sandbox.agents = agents
    agents.start()
    for _ in range(BLOCKS):
        sandbox.node.step_blocks(1)
        await asyncio.sleep(0)  # The agents act on each block before the next
    await agents.stop()


def test_bars_trades_and_funding_past_1000_are_complete_and_oldest_first() -> None:
    async def scenario() -> None:
        async with running_sandbox(sandbox_config(block_time_ms=3_600_000), agents=False) as (
            sandbox
        ):
            await build_history(sandbox)
            market = sandbox.state.markets["BTC-USD"]
            venue_now = sandbox.node.block_time_ns
            actor = Collector(())
            async with running_node(sandbox, actor) as node:
                client = data_client(node)
                hourly = bar_type(BTC, "1-HOUR")

                # Bars: every closed candle of the venue, oldest first; the forming one is not
                starts = sorted(market.candles["1HOUR"])
                closes = [s * 1_000_000_000 + HOUR_NS for s in starts]
                closed = [c for c in closes if c <= venue_now]
                assert closes[-1] > venue_now and len(closed) == len(closes) - 1
                bars = await client.fetch_bars(hourly)
                assert len(bars) > 1000
                assert [b.ts_event for b in bars] == closed
                assert len({b.ts_event for b in bars}) == len(bars)
                candles = market.candles["1HOUR"]
                assert [str(b.close) for b in bars] == [
                    str(Decimal(candles[s]["close"]).quantize(Decimal(1))) for s in starts[:-1]
                ]
                # Any count: the newest N, across the page boundary too
                for count in (1, 999, 1000, 1001, len(bars)):
                    assert await client.fetch_bars(hourly, limit=count) == bars[-count:]
                # A window that spans two pages: its bars and only those
                window = await client.fetch_bars(
                    hourly, _utc(closed[10]), _utc(closed[1010]),
                )
                assert [b.ts_event for b in window] == closed[10:1011]

                # Trades: the whole record, oldest first, no duplicates
                expected_ids = [t["id"] for t in market.trades]
                trades = await client.fetch_trades(BTC)
                assert len(expected_ids) > 1000
                assert [t.trade_id.value for t in trades] == expected_ids
                assert [t.ts_event for t in trades] == [
                    iso_to_ns(t["createdAt"]) for t in market.trades
                ]
                for count in (1000, 1001):
                    newest = await client.fetch_trades(BTC, limit=count)
                    assert [t.trade_id.value for t in newest] == expected_ids[-count:]

                # Funding: one rate per hour, oldest first
                rates = await client.fetch_funding_rates(BTC)
                assert len(rates) > 1000
                assert [(r.rate, r.ts_event) for r in rates] == [
                    (Decimal(f["rate"]), iso_to_ns(f["effectiveAt"])) for f in market.funding
                ]
                assert (await client.fetch_funding_rates(BTC, limit=1001)) == rates[-1001:]

                # The same through Nautilus requests (data engine -> client -> strategy)
                actor.request_bars(hourly, START, client_id=ClientId(DYDX))
                actor.request_trade_ticks(BTC, START, client_id=ClientId(DYDX))
                actor.request_data(
                    DataType(FundingRateUpdate, metadata={"instrument_id": BTC}),
                    ClientId(DYDX),
                    start=START,
                )
                await wait_for(
                    lambda: len(of_type(actor, Bar)) == len(bars)
                    and len(of_type(actor, TradeTick)) == len(trades)
                    and len(of_type(actor, FundingRateUpdate)) == len(rates),
                    timeout=60.0,
                )
                assert of_type(actor, Bar) == bars
                assert [t.trade_id for t in of_type(actor, TradeTick)] == [
                    t.trade_id for t in trades
                ]
                assert [r.rate for r in of_type(actor, FundingRateUpdate)] == [
                    r.rate for r in rates
                ]

    run(scenario(), timeout=300.0)


def of_type(actor: Collector, cls: type) -> list:
    return [item for item in actor.of("historical") if isinstance(item, cls)]


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1_000_000_000, tz=UTC)
