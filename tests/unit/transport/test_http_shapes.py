# SPDX-License-Identifier: Apache-2.0
"""DYDXHttpClient decoding: shared captures, long decimals, unknown fields, funding payments."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson
import pytest

from nautilus_dydx.http import DYDXHttpClient
from nautilus_dydx.http import DYDXHttpError


ADDRESS = "dydx1n56z5fhmemtffzkt2eqyf9kuc7ycjfs86mvqy7"


def serve(routes: dict[str, object]) -> DYDXHttpClient:
    def handler(request: httpx.Request) -> httpx.Response:
        body = routes.get(request.url.path)
        if body is None:
            return httpx.Response(404, json={"errors": [{"msg": "not found"}]})
        return httpx.Response(200, content=orjson.dumps(body))

    return DYDXHttpClient(
        "http://127.0.0.1:9", transport=httpx.MockTransport(handler), rate_limit_per_10s=10_000,
    )


def result(captures: Path, name: str) -> object:
    return orjson.loads((captures / f"{name}.json").read_bytes())["result"]


def test_shared_captures_decode_with_exact_strings(captures: Path) -> None:
    routes = {
        "/v4/perpetualMarkets": result(captures, "http_get_perpetual_markets"),
        "/v4/fills": result(captures, "http_get_fills"),
        "/v4/orders": result(captures, "http_get_orders"),
        "/v4/transfers": result(captures, "http_get_transfers"),
        "/v4/candles/perpetualMarkets/BTC-USD": result(captures, "http_get_candles"),
        f"/v4/addresses/{ADDRESS}/subaccountNumber/0": result(captures, "http_get_subaccount"),
        "/v4/trades/perpetualMarket/BTC-USD": result(captures, "http_get_trades"),
        "/v4/historicalFunding/BTC-USD": result(captures, "http_get_historical_funding"),
        "/v4/height": result(captures, "http_get_block_height"),
        "/v4/orderbooks/perpetualMarket/BTC-USD": result(captures, "http_get_orderbook"),
        "/v4/time": result(captures, "http_get_time"),
    }

    async def scenario() -> None:
        async with serve(routes) as http:
            markets = await http.get_perpetual_markets()
            raw = routes["/v4/perpetualMarkets"]["markets"]
            assert {t: m.oracle_price for t, m in markets.items()} == {
                t: m["oraclePrice"] for t, m in raw.items()
            }
            assert markets["BTC-USD"].price_change_24h == raw["BTC-USD"]["priceChange24H"]
            fills = (await http.get_fills(ADDRESS, 0)).fills
            assert [(f.id, f.price, f.size, f.fee) for f in fills] == [
                (f["id"], f["price"], f["size"], f["fee"]) for f in routes["/v4/fills"]["fills"]
            ]
            orders = await http.get_orders(ADDRESS, 0)
            assert [o.id for o in orders] == [o["id"] for o in routes["/v4/orders"]]
            transfers = (await http.get_transfers(ADDRESS, 0)).transfers
            # This capture says amount/asset (third-party shape); both spellings parse
            assert [t.quantity for t in transfers] == [
                t.get("size", t.get("amount")) for t in routes["/v4/transfers"]["transfers"]
            ]
            candles = await http.get_candles("BTC-USD", "1MIN")
            assert candles[0].usd_volume == "294697.4391"
            sub = await http.get_subaccount(ADDRESS, 0)
            assert sub.asset_positions["USDC"].size == "45.201296"
            trades = (await http.get_trades("BTC-USD")).trades
            assert trades[0].id == "03f89a550000000200000002"
            funding = await http.get_historical_funding("BTC-USD")
            assert funding[0].rate == "0.000002375"
            assert (await http.get_height()).height == "66624132"
            book = await http.get_orderbook("BTC-USD")
            assert (book.bids[0].price, book.bids[0].size) == ("89947", "0.0002")
            assert (await http.get_time()).epoch == 1765210316.125

    asyncio.run(scenario())


def test_long_decimals_stay_exact_and_unknown_fields_are_ignored() -> None:
    position = {
        "market": "ETH-USD", "status": "OPEN", "side": "SHORT", "size": "-1.25",
        "entryPrice": "2656.54285714285714285714", "realizedPnl": "-0.000000000000000000001",
        "createdAt": "2025-01-01T00:00:00.000Z", "createdAtHeight": "1", "brandNewField": [1, 2],
    }
    payments = {
        "fundingPayments": [
            {"createdAt": "2025-01-01T01:00:00.000Z", "createdAtHeight": "10", "perpetualId": "1",
             "ticker": "ETH-USD", "oraclePrice": "2600.123456789", "size": "-1.25",
             "side": "SHORT", "rate": "0.0000125", "payment": "0.0406269290123456789",
             "subaccountNumber": 0, "fundingIndex": "12.5"},
        ],
    }
    routes = {"/v4/perpetualPositions": {"positions": [position]},
              "/v4/fundingPayments": payments}

    async def scenario() -> None:
        async with serve(routes) as http:
            [decoded] = await http.get_perpetual_positions(ADDRESS, 0)
            assert decoded.entry_price == "2656.54285714285714285714"
            assert decoded.realized_pnl == "-0.000000000000000000001"
            response = await http.get_funding_payments(ADDRESS, 0, ticker="ETH-USD")
            assert response.funding_payments[0].payment == "0.0406269290123456789"

    asyncio.run(scenario())


@pytest.mark.parametrize("size", [0, 1001, -5, True])
def test_invalid_page_size_is_refused(size: int) -> None:
    async def scenario() -> None:
        async with serve({}) as http:
            with pytest.raises(ValueError):
                http.iter_fills(ADDRESS, 0, page_size=size)

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("call", "path", "key"),
    [
        (lambda h: h.get_fills(ADDRESS, 1, parent=True), "/v4/fills/parentSubaccount",
         "parentSubaccountNumber"),
        (lambda h: h.get_orders(ADDRESS, 1, parent=True), "/v4/orders/parentSubaccountNumber",
         "parentSubaccountNumber"),
        (lambda h: h.get_transfers(ADDRESS, 1, parent=True),
         "/v4/transfers/parentSubaccountNumber", "parentSubaccountNumber"),
        (lambda h: h.get_perpetual_positions(ADDRESS, 1, parent=True),
         "/v4/perpetualPositions/parentSubaccountNumber", "parentSubaccountNumber"),
        (lambda h: h.get_asset_positions(ADDRESS, 1, parent=True),
         "/v4/assetPositions/parentSubaccountNumber", "parentSubaccountNumber"),
        (lambda h: h.get_historical_pnl(ADDRESS, 1, parent=True),
         "/v4/historical-pnl/parentSubaccountNumber", "parentSubaccountNumber"),
        (lambda h: h.get_funding_payments(ADDRESS, 1, parent=True),
         "/v4/fundingPayments/parentSubaccount", "parentSubaccountNumber"),
        (lambda h: h.get_fills(ADDRESS, 1), "/v4/fills", "subaccountNumber"),
    ],
)
def test_parent_subaccount_variants_use_their_routes(call, path: str, key: str) -> None:
    seen: list[httpx.Request] = []
    bodies = {
        "fills": {"fills": []}, "orders": [], "transfers": {"transfers": []},
        "perpetualPositions": {"positions": []}, "assetPositions": {"positions": []},
        "historical-pnl": {"historicalPnl": []}, "fundingPayments": {"fundingPayments": []},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=orjson.dumps(bodies[request.url.path.split("/")[2]]))

    async def scenario() -> None:
        async with DYDXHttpClient(
            "http://127.0.0.1:9", transport=httpx.MockTransport(handler),
        ) as http:
            await call(http)

    asyncio.run(scenario())
    [request] = seen
    assert request.url.path == path
    assert request.url.params[key] == "1"
    assert request.url.params["address"] == ADDRESS


def test_path_parameters_stay_one_segment() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(404, json={"errors": [{"msg": "not found"}]})

    async def scenario() -> None:
        async with DYDXHttpClient(
            "http://127.0.0.1:9", transport=httpx.MockTransport(handler), max_retries=0,
        ) as http:
            with pytest.raises(DYDXHttpError) as failure:
                await http.get_orderbook("../../addresses/x?y=1")
            assert failure.value.status == 404

    asyncio.run(scenario())
    assert seen == ["/v4/orderbooks/perpetualMarket/..%2F..%2Faddresses%2Fx%3Fy%3D1"]
