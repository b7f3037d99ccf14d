# SPDX-License-Identifier: Apache-2.0
"""DYDXHttpClient against the sandbox Indexer: every wrapped route, typed and exact."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from nautilus_dydx.http import DYDXHttpError
from nautilus_dydx.sandbox.indexer_state import order_uuid
from nautilus_dydx.schemas import indexer as schemas
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import Client
from tests.integration.sandbox.helpers import place
from tests.integration.transport.support import PRICE
from tests.integration.transport.support import STEP
from tests.integration.transport.support import http_client
from tests.integration.transport.support import make_trades
from tests.integration.transport.support import running_sandbox


def run(coro, timeout: float = 60.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_every_route_returns_typed_exact_values() -> None:
    async def scenario() -> None:
        async with running_sandbox(block_time_ms=60_000) as sandbox:
            channel = grpc.aio.insecure_channel(sandbox.grpc_endpoint)
            client = Client(channel)
            await make_trades(sandbox, client, [3, 2])
            # A resting stateful sell far from the market, so /orders holds a stateful order
            gtbt = sandbox.node.block_time_ns // 1_000_000_000 + 3600
            result = await client.broadcast(
                BOB.sign_tx(
                    [place(K2_ADDRESS, 77, SELL, STEP, PRICE * 2, gtbt=gtbt, flags=LONG_TERM)],
                    sequence=0,
                ),
            )
            assert result.code == 0, result.raw_log
            sandbox.node.step_blocks(1)
            async with http_client(sandbox) as http:
                time_body = await http.get_time()
                assert time_body.iso.endswith("Z") and time_body.epoch > 0

                height = await http.get_height()
                assert int(height.height) == sandbox.node.height

                markets = await http.get_perpetual_markets()
                assert list(markets) == ["BTC-USD", "ETH-USD", "SOL-USD", "PEPE-USD"]
                btc = markets["BTC-USD"]
                assert (btc.clob_pair_id, btc.atomic_resolution) == ("0", -10)
                assert (btc.tick_size, btc.step_size) == ("1", "0.0001")
                assert btc.quantum_conversion_exponent == -9
                assert btc.step_base_quantums == 1_000_000
                only = await http.get_perpetual_markets(ticker="ETH-USD")
                assert list(only) == ["ETH-USD"]

                book = await http.get_orderbook("BTC-USD")
                assert [(level.price, level.size) for level in book.asks][:1] == [
                    ("130000", "0.0001"),
                ]

                trades = await http.get_trades("BTC-USD")
                assert [t.price for t in trades.trades] == ["65000"] * 5
                assert [t.size for t in trades.trades] == ["0.0001"] * 5
                assert all(t.side == "BUY" for t in trades.trades)
                paged = await http.get_trades("BTC-USD", limit=2, page=2)
                assert (paged.page_size, paged.offset, paged.total_results) == (2, 2, 5)

                candles = await http.get_candles("BTC-USD", "1MIN")
                # Three trades in the first minute, two in the next, newest first
                assert [c.trades for c in candles] == [2, 3]
                assert [c.base_token_volume for c in candles] == ["0.0002", "0.0003"]
                assert all(c.open == c.close == "65000" for c in candles)

                funding = await http.get_historical_funding("BTC-USD")
                assert funding == []

                address = await http.get_address(K1_ADDRESS)
                assert [s.subaccount_number for s in address.subaccounts] == [0]

                sub = await http.get_subaccount(K1_ADDRESS, 0)
                position = sub.open_perpetual_positions["BTC-USD"]
                assert (position.side, position.size) == ("LONG", "0.0005")
                assert sub.asset_positions["USDC"].symbol == "USDC"

                parent = await http.get_parent_subaccount(K1_ADDRESS, 0)
                assert [c.subaccount_number for c in parent.child_subaccounts] == [0]
                assert parent.equity == sub.equity

                positions = await http.get_perpetual_positions(K2_ADDRESS, 0, status=["OPEN"])
                assert [(p.market, p.side, p.size) for p in positions] == [
                    ("BTC-USD", "SHORT", "-0.0005"),
                ]
                assets = await http.get_asset_positions(K1_ADDRESS, 0)
                assert [a.symbol for a in assets] == ["USDC"]
                assert assets[0].size == sub.asset_positions["USDC"].size

                orders = await http.get_orders(K2_ADDRESS, 0)
                assert {o.order_flags for o in orders} == {"0", "64"}
                stateful = await http.get_orders(
                    K2_ADDRESS, 0, status=["OPEN"], order_type="LIMIT",
                    good_til_block_time_after="2000-01-01T00:00:00Z",
                )
                assert [(o.client_id, o.price, o.size) for o in stateful] == [
                    ("77", "130000", "0.0001"),
                ]
                expected_id = order_uuid(K2_ADDRESS, 0, 77, 0, LONG_TERM)
                assert stateful[0].id == expected_id
                one = await http.get_order(expected_id)
                assert one == stateful[0]

                fills = await http.get_fills(K1_ADDRESS, 0, market="BTC-USD")
                assert len(fills.fills) == 5
                assert {(f.side, f.liquidity, f.price) for f in fills.fills} == {
                    ("BUY", "TAKER", "65000"),
                }
                assert (await http.get_fills(K1_ADDRESS, 0, market="ETH-USD")).fills == []

                transfers = await http.get_transfers(K1_ADDRESS, 0)
                assert [t.type for t in transfers.transfers] == ["DEPOSIT"]
                assert transfers.transfers[0].quantity == "100000"

                pnl = await http.get_historical_pnl(K1_ADDRESS, 0)
                assert isinstance(pnl, schemas.HistoricalPnlResponse)

                with pytest.raises(DYDXHttpError) as missing:
                    await http.get_orderbook("NOPE-USD")
                assert missing.value.status == 404
                assert missing.value.route == "/v4/orderbooks/perpetualMarket/NOPE-USD"
                assert "NOPE-USD not found" in missing.value.body
            await channel.close()

    run(scenario())
