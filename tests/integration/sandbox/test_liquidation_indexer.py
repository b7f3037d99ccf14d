# SPDX-License-Identifier: Apache-2.0
"""Liquidation and deleveraging over loopback: LIQUIDATED/DELEVERAGED fills, trades, positions."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from nautilus_dydx.sandbox import AccountConfig
from nautilus_dydx.sandbox.numbers import places
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_MNEMONIC
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import K2_PRIVATE_KEY
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.test_indexer_support import close_transport
from tests.integration.sandbox.test_indexer_support import connect
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox
from tests.integration.sandbox.test_indexer_support import wait_for


A = K1_ADDRESS
B = K2_ADDRESS
ONE_BTC = 10_000_000_000
PRICE_65000 = 6_500_000_000


def leveraged_config(**overrides):
    """Alice holds 5 000 USDC, enough for a 1 BTC long at 65 000 (5 % initial margin)."""
    values = dict(
        funding_enabled=False,
        accounts=(
            AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7,
                          subaccounts={0: 5_000_000_000}),
            AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2),
        ),
    )
    values.update(overrides)
    return make_config(**values)


async def open_long(sandbox, client) -> None:
    gtb = sandbox.node.height + 10
    sell = await client.broadcast(BOB.sign_tx([place(B, 1, SELL, ONE_BTC, PRICE_65000, gtb=gtb)]))
    buy = await client.broadcast(ALICE.sign_tx(
        [place(A, 1, BUY, ONE_BTC, PRICE_65000, gtb=gtb, tif=IOC)],
    ))
    assert (sell.code, buy.code) == (0, 0)
    sandbox.node.step_blocks(1)
    assert sandbox.node.subaccount(A)["positions"][0]["size"] == ONE_BTC


def test_oracle_drop_liquidates_against_the_book_then_deleverages_off_grid() -> None:
    async def scenario() -> None:
        async with running_sandbox(config=leveraged_config()) as (sandbox, http, client):
            node = sandbox.node
            await open_long(sandbox, client)
            ws = await connect(sandbox)
            try:
                ws.subscribe("v4_subaccounts", f"{A}/0")
                ws.subscribe("v4_trades", "BTC-USD")
                await ws.wait("subscribed", count=2)
                # Bob bids 0.4 BTC at 61 000: the book absorbs only part of Alice's 1 BTC
                gtb = node.height + 10
                bid = await client.broadcast(BOB.sign_tx(
                    [place(B, 2, BUY, 4 * ONE_BTC // 10, 6_100_000_000, gtb=gtb)],
                ))
                assert bid.code == 0
                # Net collateral 5000 - 32.5 fee - 3200 = 1767.5 < 3 % of 61 800 = 1854
                node.set_oracle_price("BTC-USD", "61800")
                node.step_blocks(1)
                assert node.subaccount(A)["positions"][0]["size"] == 0
                assert node.subaccount(B)["positions"][0]["size"] == 0

                params = {"address": A, "subaccountNumber": 0}
                fills = (await http.get("/fills", params=params)).json()["fills"]
                liquidated, deleveraged = fills[1], fills[0]
                assert (liquidated["type"], liquidated["liquidity"], liquidated["side"]) == (
                    "LIQUIDATED", "TAKER", "SELL",
                )
                assert (liquidated["price"], liquidated["size"]) == ("61000", "0.4")
                # Insurance-fund fee: 1.5 % of 24 400 USDC
                assert liquidated["fee"] == "366"
                assert "orderId" not in liquidated
                # Bankruptcy price of the remaining 0.6 BTC, by hand: collateral after the
                # book fill is -60032.5 + 24400 - 366 = -35998.5 USDC, so 0.6 BTC must
                # fetch 35998.5 USDC: 59997.5 per BTC
                assert (deleveraged["type"], deleveraged["liquidity"]) == ("DELEVERAGED", "TAKER")
                assert deleveraged["size"] == "0.6"
                assert Decimal(deleveraged["price"]) == Decimal("59997.5")

                bob_fills = (await http.get(
                    "/fills", params={"address": B, "subaccountNumber": 0},
                )).json()["fills"]
                assert [(f["type"], f["liquidity"]) for f in bob_fills[:2]] == [
                    ("OFFSETTING", "MAKER"), ("LIQUIDATION", "MAKER"),
                ]
                assert "orderId" in bob_fills[1] and "orderId" not in bob_fills[0]

                only = (await http.get("/fills", params=dict(
                    params, includeTypes="LIQUIDATED",
                ))).json()["fills"]
                assert [f["id"] for f in only] == [liquidated["id"]]

                trades = (await http.get("/trades/perpetualMarket/BTC-USD")).json()["trades"]
                assert [(t["type"], t["side"], t["size"]) for t in trades[:2]] == [
                    ("DELEVERAGED", "SELL", "0.6"), ("LIQUIDATED", "SELL", "0.4"),
                ]

                positions = (await http.get("/perpetualPositions", params=params)).json()
                closed = positions["positions"][0]
                assert (closed["status"], closed["size"], closed["sumClose"]) == (
                    "LIQUIDATED", "0", "1",
                )
                # Exit price: (24 400 + 35 998.5) / 1
                assert closed["exitPrice"] == "60398.5"

                def ws_fill_types() -> set[str]:
                    return {
                        f["type"] for frame in ws.of("channel_data", "v4_subaccounts")
                        for f in frame["contents"].get("fills", [])
                    }

                await wait_for(lambda: {"LIQUIDATED", "DELEVERAGED"} <= ws_fill_types())
                ws_fills = [
                    f for frame in ws.of("channel_data", "v4_subaccounts")
                    for f in frame["contents"].get("fills", [])
                ]
                ws_liquidated = next(f for f in ws_fills if f["type"] == "LIQUIDATED")
                assert ws_liquidated["liquidity"] == "TAKER"
                assert ws_liquidated["id"] == liquidated["id"]

                def ws_trade_types() -> list[str]:
                    return [
                        t["type"] for frame in ws.of("channel_data", "v4_trades")
                        for t in frame["contents"]["trades"]
                    ]

                await wait_for(lambda: "DELEVERAGED" in ws_trade_types())
                assert ws_trade_types()[-2:] == ["LIQUIDATED", "DELEVERAGED"]
            finally:
                close_transport(ws)

    run(scenario())


def test_deleveraging_price_is_off_the_tick_grid_with_many_places() -> None:
    async def scenario() -> None:
        async with running_sandbox(config=leveraged_config()) as (sandbox, http, client):
            node = sandbox.node
            await open_long(sandbox, client)
            # No bid at all: everything is deleveraged against Bob's short at bankruptcy
            node.set_oracle_price("BTC-USD", "61777.7")
            node.step_blocks(1)
            trades = (await http.get("/trades/perpetualMarket/BTC-USD")).json()["trades"]
            deleveraged = trades[0]
            assert deleveraged["type"] == "DELEVERAGED"
            # 60032.5 USDC for 1 BTC: on this market the tick is 1 USD
            assert deleveraged["price"] == "60032.5"
            # A part-size deleveraging divides by the size: Alice is refunded, opens 0.3 BTC
            node.fund(A, 0, 5_000_000_000)
            gtb = node.height + 10
            node.set_oracle_price("BTC-USD", "65000")
            await client.broadcast(BOB.sign_tx([place(B, 3, SELL, 3 * ONE_BTC // 10,
                                                      PRICE_65000, gtb=gtb)]))
            await client.broadcast(ALICE.sign_tx([place(A, 3, BUY, 3 * ONE_BTC // 10,
                                                        PRICE_65000, gtb=gtb, tif=IOC)]))
            node.step_blocks(1)
            equity = Decimal((await http.get(f"/addresses/{A}/subaccountNumber/0")).json()[
                "subaccount"]["equity"])
            assert equity > 0
            node.set_oracle_price("BTC-USD", "1000")
            node.step_blocks(1)
            trades = (await http.get("/trades/perpetualMarket/BTC-USD")).json()["trades"]
            price = trades[0]["price"]
            assert trades[0]["type"] == "DELEVERAGED"
            assert places(price) == 20
            # The notional is a whole number of quote quantums: price × 0.3 is within 1e-6
            notional = Decimal(price) * Decimal("0.3")
            assert abs(notional - notional.quantize(Decimal("1e-6"))) < Decimal("1e-18")

    run(scenario())


def test_healthy_accounts_are_not_liquidated_and_the_switch_turns_it_off() -> None:
    async def scenario() -> None:
        config = leveraged_config(liquidations_enabled=False)
        async with running_sandbox(config=config) as (sandbox, http, client):
            node = sandbox.node
            await open_long(sandbox, client)
            node.set_oracle_price("BTC-USD", "62000")
            node.step_blocks(2)
            assert node.chain.liquidator is None
            assert node.subaccount(A)["positions"][0]["size"] == ONE_BTC
        async with running_sandbox(config=leveraged_config()) as (sandbox, http, client):
            node = sandbox.node
            await open_long(sandbox, client)
            # 5000 - 32.5 - 3000 = 1967.5 >= 3 % of 62 000 = 1860: still healthy
            node.set_oracle_price("BTC-USD", "62000")
            node.step_blocks(2)
            assert node.subaccount(A)["positions"][0]["size"] == ONE_BTC
            fills = (await http.get("/fills", params={"address": A, "subaccountNumber": 0}))
            assert {f["type"] for f in fills.json()["fills"]} == {"LIMIT"}

    run(scenario())


def test_forced_liquidation_of_a_short_buys_from_the_book() -> None:
    async def scenario() -> None:
        async with running_sandbox(config=leveraged_config()) as (sandbox, http, client):
            node = sandbox.node
            gtb = node.height + 10
            await client.broadcast(BOB.sign_tx([place(B, 1, BUY, ONE_BTC, PRICE_65000, gtb=gtb)]))
            await client.broadcast(ALICE.sign_tx(
                [place(A, 1, SELL, ONE_BTC, PRICE_65000, gtb=gtb, tif=IOC)],
            ))
            node.step_blocks(1)
            assert node.subaccount(A)["positions"][0]["size"] == -ONE_BTC
            liquidator = node.chain.liquidator
            sub = node.chain.subaccounts[(A, 0)]
            # By hand: collateral 5000 + 65000 - 32.5 = 69967.5 USDC against 1 BTC short:
            # liquidated above 69967.5 / 1.03 = 67929.611650485436893...
            assert liquidator.liquidation_price(sub, 0) == Fraction(699_675, 10) / Fraction(
                103, 100,
            )
            gtb = node.height + 10
            ask = await client.broadcast(BOB.sign_tx(
                [place(B, 2, SELL, ONE_BTC, 6_795_000_000, gtb=gtb)],
            ))
            assert ask.code == 0
            price = liquidator.force(A, 0, 0)
            assert price == "67930"
            assert not liquidator.is_liquidatable(node.chain.subaccounts[(B, 0)])
            node.step_blocks(1)
            assert node.subaccount(A)["positions"][0]["size"] == 0
            fills = (await http.get("/fills", params={"address": A, "subaccountNumber": 0}))
            top = fills.json()["fills"][0]
            assert (top["type"], top["side"], top["liquidity"], top["price"]) == (
                "LIQUIDATED", "BUY", "TAKER", "67950",
            )
            # Fee: 1.5 % of 67 950, capped at what is left: 69 967.5 - 67 950 = 2017.5
            assert top["fee"] == "1019.25"
            trades = (await http.get("/trades/perpetualMarket/BTC-USD")).json()["trades"]
            assert (trades[0]["type"], trades[0]["side"]) == ("LIQUIDATED", "BUY")
            healthy = node.chain.subaccounts[(B, 0)]
            assert liquidator.liquidation_price(healthy, 5) is None

    run(scenario())
