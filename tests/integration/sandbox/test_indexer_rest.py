# SPDX-License-Identifier: Apache-2.0
"""Indexer REST: routes, limits, pagination, filters, errors, rate limit and keep-alive."""

from __future__ import annotations

import asyncio

from nautilus_dydx.sandbox.indexer_rest import RateLimiter
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import block_seconds
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox


A = K1_ADDRESS
B = K2_ADDRESS
Q = 1_000_000
P = 6_500_000_000
TICK = 100_000


async def trade_n(sandbox, client, count: int) -> None:
    gtb = sandbox.node.height + 15
    for index in range(count):
        await client.broadcast(BOB.sign_tx([place(B, 100 + index, SELL, Q, P + index * TICK,
                                                  gtb=gtb)]))
        await client.broadcast(ALICE.sign_tx([place(A, 100 + index, BUY, Q, P + index * TICK,
                                                    gtb=gtb, tif=IOC)]))
    # Matching results reach the Indexer with the block that commits them
    sandbox.node.step_blocks(1)


def test_market_routes_shapes_and_errors() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, _):
            markets = (await http.get("/perpetualMarkets")).json()["markets"]
            assert list(markets) == ["BTC-USD", "ETH-USD", "SOL-USD", "PEPE-USD"]
            assert markets["SOL-USD"]["clobPairId"] == "5"
            assert markets["PEPE-USD"]["atomicResolution"] == 1
            one = (await http.get("/perpetualMarkets", params={"ticker": "ETH-USD"})).json()
            assert list(one["markets"]) == ["ETH-USD"]
            alias = (await http.get("/perpetualMarkets", params={"market": "ETH-USD"})).json()
            assert alias == one
            both = await http.get("/perpetualMarkets", params={"ticker": "A", "market": "B"})
            assert both.status_code == 400
            missing = await http.get("/perpetualMarkets", params={"ticker": "NOPE-USD"})
            assert missing.status_code == 404
            assert missing.json() == {
                "errors": [{"msg": "NOPE-USD not found in markets of type PERPETUAL"}],
            }
            for bad in ("0", "-1", "1001", "1.5", "x"):
                response = await http.get("/perpetualMarkets", params={"limit": bad})
                assert response.status_code == 400, bad
                assert response.json()["errors"][0]["path"] == "limit"
            most = await http.get("/perpetualMarkets", params={"limit": "1000"})
            assert most.status_code == 200
            assert (await http.get("/v4/nothing")).status_code == 404
            assert (await http.get("/orderbooks/perpetualMarket/NOPE")).status_code == 404
            time_body = (await http.get("/time")).json()
            assert isinstance(time_body["epoch"], float) and time_body["iso"].endswith("Z")
            candles = await http.get(
                "/candles/perpetualMarkets/BTC-USD", params={"resolution": "2MINS"},
            )
            assert candles.status_code == 400

    run(scenario())


def test_trades_candles_and_fills_newest_first_with_pagination() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, client):
            await trade_n(sandbox, client, 5)
            trades = (await http.get("/trades/perpetualMarket/BTC-USD")).json()["trades"]
            assert [t["price"] for t in trades] == ["65004", "65003", "65002", "65001", "65000"]
            assert all(t["side"] == "BUY" and t["type"] == "LIMIT" for t in trades)
            page = (await http.get("/trades/perpetualMarket/BTC-USD",
                                   params={"limit": 2, "page": 2})).json()
            assert (page["pageSize"], page["offset"], page["totalResults"]) == (2, 2, 5)
            assert [t["price"] for t in page["trades"]] == ["65002", "65001"]
            limited = (await http.get(
                "/trades/perpetualMarket/BTC-USD", params={"limit": 2},
            )).json()
            assert "pageSize" not in limited and len(limited["trades"]) == 2
            height = trades[0]["createdAtHeight"]
            cursor = (await http.get("/trades/perpetualMarket/BTC-USD",
                                     params={"createdBeforeOrAtHeight": int(height) - 1})).json()
            assert cursor["trades"] == []
            for resolution in ("1MIN", "5MINS", "15MINS", "30MINS", "1HOUR", "4HOURS", "1DAY"):
                body = (await http.get("/candles/perpetualMarkets/BTC-USD",
                                       params={"resolution": resolution})).json()
                candle = body["candles"][0]
                summary = (candle["resolution"], candle["trades"], candle["open"], candle["close"])
                assert summary == (
                    resolution, 5, "65000", "65004",
                )
                assert candle["baseTokenVolume"] == "0.0005"
            started = body["candles"][0]["startedAt"]
            after = (await http.get("/candles/perpetualMarkets/BTC-USD", params={
                "resolution": "1MIN", "toISO": started,
            })).json()
            assert after["candles"] == []
            fills = (await http.get("/fills", params={"address": A, "subaccountNumber": 0})).json()
            assert [f["price"] for f in fills["fills"]] == [
                "65004", "65003", "65002", "65001", "65000",
            ]
            other = (await http.get("/fills", params={
                "address": A, "subaccountNumber": 0, "market": "ETH-USD", "marketType": "PERPETUAL",
            })).json()
            assert other["fills"] == []
            ignored = (await http.get("/fills", params={
                "address": A, "subaccountNumber": 0, "market": "ETH-USD",
            })).json()
            assert len(ignored["fills"]) == 5
            fill_page = (await http.get("/fills", params={
                "address": A, "subaccountNumber": 0, "page": 3, "limit": 2,
            })).json()
            assert (len(fill_page["fills"]), fill_page["totalResults"]) == (1, 5)

    run(scenario())


def test_account_routes_positions_and_order_filters() -> None:
    async def scenario() -> None:
        async with running_sandbox() as (sandbox, http, client):
            await trade_n(sandbox, client, 2)
            t = block_seconds(sandbox.node)
            for index, seconds in enumerate((300, 900, 600)):
                await client.broadcast(BOB.sign_tx(
                    [place(B, 10 + index, BUY, Q, P - (index + 1) * TICK, gtbt=t + seconds,
                           flags=LONG_TERM)], sequence=index,
                ))
            sandbox.node.step_blocks(1)
            account = (await http.get(f"/addresses/{A}")).json()
            assert account["totalTradingRewards"] == "0"
            sub = account["subaccounts"][0]
            position = sub["openPerpetualPositions"]["BTC-USD"]
            assert (position["side"], position["size"], position["entryPrice"]) == (
                "LONG", "0.0002", "65000.5",
            )
            one = (await http.get(f"/addresses/{A}/subaccountNumber/0")).json()["subaccount"]
            assert one["assetPositions"]["USDC"]["side"] == "LONG"
            assert (await http.get(f"/addresses/{A}/subaccountNumber/7")).status_code == 404
            bad = await http.get("/addresses/not-an-address/subaccountNumber/0")
            assert bad.status_code == 400
            assert (await http.get(f"/addresses/{A}/subaccountNumber/128001")).status_code == 400
            parent = (await http.get(f"/addresses/{A}/parentSubaccountNumber/0")).json()
            assert parent["subaccount"]["childSubaccounts"][0]["subaccountNumber"] == 0
            positions = (await http.get("/perpetualPositions", params={
                "address": B, "subaccountNumber": 0, "status": "OPEN",
            })).json()["positions"]
            assert [(p["side"], p["size"]) for p in positions] == [("SHORT", "-0.0002")]
            assets = (await http.get("/assetPositions", params={
                "address": A, "subaccountNumber": 0,
            })).json()["positions"]
            assert assets[0]["symbol"] == "USDC" and assets[0]["assetId"] == "0"
            missing = await http.get("/assetPositions", params={"address": A})
            assert missing.status_code == 400
            orders = (await http.get("/orders", params={
                "address": B, "subaccountNumber": 0, "status": "OPEN,UNTRIGGERED",
            })).json()
            assert [o["clientId"] for o in orders] == ["11", "12", "10"]
            ascending = (await http.get("/orders", params={
                "address": B, "subaccountNumber": 0, "status": "OPEN",
                "returnLatestOrders": "false", "limit": 2,
            })).json()
            assert [o["clientId"] for o in ascending] == ["10", "12"]
            repeated = (await http.get("/orders", params=[
                ("address", B), ("subaccountNumber", "0"), ("status", "open"), ("status", "FILLED"),
            ])).json()
            assert len(repeated) == 5
            sells = (await http.get("/orders", params={
                "address": B, "subaccountNumber": 0, "side": "SELL",
            })).json()
            assert {o["status"] for o in sells} == {"FILLED"}
            gtb = (await http.get("/orders", params={
                "address": B, "subaccountNumber": 0, "goodTilBlockAfter": 0,
            })).json()
            assert len(gtb) == 2
            bad_status = await http.get("/orders", params={
                "address": B, "subaccountNumber": 0, "status": "NOPE",
            })
            assert bad_status.status_code == 400
            unknown = await http.get("/orders/00000000-0000-0000-0000-000000000000")
            assert unknown.status_code == 404
            transfers = (await http.get("/transfers", params={
                "address": A, "subaccountNumber": 0,
            })).json()["transfers"]
            assert [(t["type"], t["size"], t["symbol"]) for t in transfers] == [
                ("DEPOSIT", "100000", "USDC"),
            ]
            pnl = await http.get("/historical-pnl", params={"address": A, "subaccountNumber": 0})
            assert pnl.status_code == 200 and pnl.json()["historicalPnl"] == []

    run(scenario())


def test_rate_limit_answers_429_with_headers_and_keep_alive() -> None:
    async def scenario() -> None:
        async with running_sandbox(rate_limit=RateLimiter(limit=3, window_s=60)) as (
            sandbox, http, _,
        ):
            statuses = []
            for _ in range(4):
                response = await http.get("/height")
                statuses.append(response.status_code)
            assert statuses == [200, 200, 200, 429]
            assert response.json() == {"errors": [{"msg": "Too many requests"}]}
            assert response.headers["RateLimit-Remaining"] == "0"
            assert int(response.headers["Retry-After"]) > 0
            assert int(response.headers["RateLimit-Reset"]) > 0
            # One TCP connection served every request (keep-alive)
            assert sandbox.rest.connections == 1
            await asyncio.sleep(0)

    run(scenario())
