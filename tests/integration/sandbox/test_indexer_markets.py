# SPDX-License-Identifier: Apache-2.0
"""Live markets: seeded oracle walk and liquidity agents keep a deep book and make trades flow."""

from __future__ import annotations

import asyncio

from nautilus_dydx.sandbox.agents import AgentConfig
from nautilus_dydx.sandbox.agents import MarketAgents
from nautilus_dydx.sandbox.config import SandboxConfig
from nautilus_dydx.sandbox.indexer import IndexerSandbox
from tests.integration.sandbox.test_indexer_support import run


async def session(seed: int, blocks: int) -> tuple[dict, dict]:
    sandbox = IndexerSandbox(SandboxConfig(seed=seed, auto_blocks=False))
    await sandbox.start()
    try:
        sandbox.agents = MarketAgents(sandbox.node, AgentConfig(requote_every=3))
        sandbox.agents.start()
        depth = {}
        for ticker, market in sandbox.state.markets.items():
            bids, asks = market.levels(depth=None)
            depth[ticker] = (len(bids), len(asks))
        for _ in range(blocks):
            sandbox.node.step_blocks(1)
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        summary = {
            ticker: (
                str(market.oracle_price),
                [t["id"] for t in market.trades],
                sum(c["trades"] for c in market.candles["1MIN"].values()),
            )
            for ticker, market in sandbox.state.markets.items()
        }
        for ticker, market in sandbox.state.markets.items():
            bids, asks = market.levels()
            assert len(bids) == 100 and len(asks) == 100, ticker
            assert bids[0][0] < asks[0][0]
        assert sandbox.agents.rejected == 0
        return depth, summary
    finally:
        await sandbox.stop()


def test_agents_quote_deep_books_trade_and_are_seeded() -> None:
    depth, first = run(session(seed=7, blocks=12))
    assert all(b >= 100 and a >= 100 for b, a in depth.values())
    assert set(first) == {"BTC-USD", "ETH-USD", "SOL-USD", "PEPE-USD"}
    assert sum(len(trades) for _, trades, _ in first.values()) > 0
    for ticker, (price, trades, candle_trades) in first.items():
        assert candle_trades == len(trades), ticker
    assert first["BTC-USD"][0] != "65000"
    _, again = run(session(seed=7, blocks=12))
    assert again == first
    _, other = run(session(seed=8, blocks=12))
    assert other != first
