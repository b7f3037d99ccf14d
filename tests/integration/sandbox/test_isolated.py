# SPDX-License-Identifier: Apache-2.0
"""Isolated markets: the subaccount rules at CheckTx and matching, and parent-subaccount views."""

from __future__ import annotations

from decimal import Decimal

import pytest

from nautilus_dydx.sandbox import AccountConfig
from nautilus_dydx.sandbox import MarketConfig
from nautilus_dydx.sandbox import default_markets
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_MNEMONIC
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import K2_PRIVATE_KEY
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import block_seconds
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.test_indexer_support import close_transport
from tests.integration.sandbox.test_indexer_support import connect
from tests.integration.sandbox.test_indexer_support import run
from tests.integration.sandbox.test_indexer_support import running_sandbox
from tests.integration.sandbox.test_indexer_support import wait_for


A = K1_ADDRESS
B = K2_ADDRESS
Q = 1_000_000  # One BTC step (0.0001 BTC)
P = 6_500_000_000  # 65 000 USD in BTC subticks
ISO = 7
ISO_STEP = 1_000_000  # 0.1 ISO
ISO_PRICE = 1_000_000_000  # 10 USD in ISO subticks
USDC = 1_000_000


def iso_config():
    iso = MarketConfig(
        "ISO-USD", ISO, -7, -9, ISO_STEP, 1_000_000, "10", initial_margin_ppm=200_000,
        market_type="ISOLATED",
    )
    return make_config(
        markets=(*default_markets(), iso),
        accounts=(
            AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7,
                          subaccounts={0: 100_000 * USDC, 5: 1_000 * USDC, 128: 1_000 * USDC}),
            AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2,
                          subaccounts={0: 100_000 * USDC, 256: 1_000 * USDC}),
        ),
    )


def test_market_type_is_validated_and_reported() -> None:
    with pytest.raises(ValueError):
        MarketConfig("X-USD", 9, -7, -9, 1, 1, "1", market_type="SPOT")

    async def scenario() -> None:
        async with running_sandbox(config=iso_config()) as (sandbox, http, _):
            markets = (await http.get("/perpetualMarkets")).json()["markets"]
            assert markets["ISO-USD"]["marketType"] == "ISOLATED"
            assert markets["BTC-USD"]["marketType"] == "CROSS"

    run(scenario())


def test_isolated_rules_at_check_tx_and_parent_views() -> None:
    async def scenario() -> None:
        async with running_sandbox(config=iso_config()) as (sandbox, http, client):
            node = sandbox.node
            ws = await connect(sandbox)
            try:
                ws.subscribe("v4_parent_subaccounts", f"{A}/0")
                await ws.wait("subscribed")
                gtb = node.height + 10
                # Both main subaccounts get a cross (BTC) position
                assert (await client.broadcast(
                    BOB.sign_tx([place(B, 1, SELL, Q, P, gtb=gtb)]))).code == 0
                assert (await client.broadcast(
                    ALICE.sign_tx([place(A, 1, BUY, Q, P, gtb=gtb, tif=IOC)]))).code == 0
                assert node.subaccount(A, 0)["positions"][0]["size"] == Q
                # A cross position and an isolated market cannot share a subaccount
                short = await client.broadcast(ALICE.sign_tx(
                    [place(A, 2, BUY, ISO_STEP, ISO_PRICE, gtb=gtb, clob_pair_id=ISO)],
                ))
                assert (short.codespace, short.code) == ("clob", 2005)
                gtbt = block_seconds(node) + 3600
                stateful = await client.broadcast(ALICE.sign_tx(
                    [place(A, 3, BUY, ISO_STEP, ISO_PRICE, gtbt=gtbt, clob_pair_id=ISO,
                           flags=LONG_TERM)], sequence=7,
                ))
                assert (stateful.codespace, stateful.code) == ("clob", 2005)
                # From empty child subaccounts the isolated market trades
                maker = await client.broadcast(BOB.sign_tx(
                    [place(B, 4, SELL, 3 * ISO_STEP, ISO_PRICE, gtb=gtb, clob_pair_id=ISO,
                           number=256)],
                ))
                assert maker.code == 0, maker.raw_log
                taker = await client.broadcast(ALICE.sign_tx(
                    [place(A, 4, BUY, 2 * ISO_STEP, ISO_PRICE, gtb=gtb, clob_pair_id=ISO,
                           number=128, tif=IOC)],
                ))
                assert taker.code == 0, taker.raw_log
                assert node.subaccount(A, 128)["positions"][ISO]["size"] == 2 * ISO_STEP
                # The isolated position now excludes every other market from child 128 ...
                cross = await client.broadcast(ALICE.sign_tx(
                    [place(A, 5, BUY, Q, P, gtb=gtb, number=128)],
                ))
                assert (cross.codespace, cross.code) == ("clob", 2005)
                # ... but not its own market
                more = await client.broadcast(ALICE.sign_tx(
                    [place(A, 6, BUY, ISO_STEP, ISO_PRICE, gtb=gtb, clob_pair_id=ISO,
                           number=128, tif=IOC)],
                ))
                assert more.code == 0, more.raw_log
                node.step_blocks(1)
                parent = (await http.get(f"/addresses/{A}/parentSubaccountNumber/0")).json()
                children = parent["subaccount"]["childSubaccounts"]
                assert [c["subaccountNumber"] for c in children] == [0, 128]
                assert list(children[1]["openPerpetualPositions"]) == ["ISO-USD"]
                assert Decimal(children[1]["openPerpetualPositions"]["ISO-USD"]["size"]) == (
                    Decimal("0.3")
                )
                equity = sum(Decimal(c["equity"]) for c in children)
                assert Decimal(parent["subaccount"]["equity"]) == equity
                params = {"address": A, "parentSubaccountNumber": 0}
                fills = (await http.get("/fills/parentSubaccount", params=params)).json()["fills"]
                assert sorted((f["market"], f["subaccountNumber"]) for f in fills) == [
                    ("BTC-USD", 0), ("ISO-USD", 128), ("ISO-USD", 128),
                ]
                orders = (await http.get("/orders/parentSubaccountNumber", params=params)).json()
                assert {(o["ticker"], o["subaccountNumber"]) for o in orders} == {
                    ("BTC-USD", 0), ("ISO-USD", 128),
                }
                positions = (await http.get(
                    "/perpetualPositions/parentSubaccountNumber", params=params,
                )).json()["positions"]
                assert {(p["market"], p["subaccountNumber"]) for p in positions} == {
                    ("BTC-USD", 0), ("ISO-USD", 128),
                }
                assets = (await http.get(
                    "/assetPositions/parentSubaccountNumber", params=params,
                )).json()["positions"]
                assert [a["subaccountNumber"] for a in assets] == [0, 128]
                # Child 5 belongs to parent 5, not 0
                five = (await http.get("/perpetualPositions/parentSubaccountNumber",
                                       params={"address": A, "parentSubaccountNumber": 5}))
                assert five.json() == {"positions": []}
                # The parent channel carries the child's updates with its number
                await wait_for(lambda: any(
                    f.get("subaccountNumber") == 128
                    for f in ws.of("channel_data", "v4_parent_subaccounts")
                ))
                numbers = {f["subaccountNumber"] for f in ws.of("channel_data",
                                                                  "v4_parent_subaccounts")}
                assert numbers == {0, 128}
            finally:
                close_transport(ws)

    run(scenario())


def test_resting_order_that_became_a_violation_is_removed_at_match() -> None:
    async def scenario() -> None:
        async with running_sandbox(config=iso_config()) as (sandbox, http, client):
            node = sandbox.node
            gtb = node.height + 10
            # Child 5 rests an isolated buy while empty, then opens a cross position
            resting = await client.broadcast(ALICE.sign_tx(
                [place(A, 1, BUY, ISO_STEP, ISO_PRICE, gtb=gtb, clob_pair_id=ISO, number=5)],
            ))
            assert resting.code == 0, resting.raw_log
            assert (await client.broadcast(
                BOB.sign_tx([place(B, 1, SELL, Q, P, gtb=gtb)]))).code == 0
            assert (await client.broadcast(
                ALICE.sign_tx([place(A, 2, BUY, Q, P, gtb=gtb, tif=IOC, number=5)]))).code == 0
            assert node.subaccount(A, 5)["positions"][0]["size"] == Q
            # A taker reaching the now-violating maker removes it instead of filling
            taker = await client.broadcast(BOB.sign_tx(
                [place(B, 3, SELL, ISO_STEP, ISO_PRICE, gtb=gtb, clob_pair_id=ISO, number=256,
                       tif=IOC)],
            ))
            assert taker.code == 0
            assert ISO not in node.subaccount(A, 5)["positions"]
            assert node.orderbook("ISO-USD") == ([], [])
            node.step_blocks(1)
            orders = (await http.get("/orders", params={
                "address": A, "subaccountNumber": 5, "ticker": "ISO-USD",
            })).json()
            assert [o["status"] for o in orders] == ["CANCELED"]
            removed = [
                e for e in node.bus.history
                if e.type == "order_removed" and e.order.clob_pair_id == ISO
            ]
            assert [e.removal_reason for e in removed] == [
                "ORDER_REMOVAL_REASON_VIOLATES_ISOLATED_SUBACCOUNT_CONSTRAINTS",
                "ORDER_REMOVAL_REASON_IMMEDIATE_OR_CANCEL_WOULD_REST_ON_BOOK",
            ]

    run(scenario())


def test_parent_historical_pnl_sums_the_children_per_tick() -> None:
    async def scenario() -> None:
        # One-hour blocks: every block is an hourly PnL tick
        config = make_config(
            block_time_ms=3_600_000,
            accounts=(
                AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7,
                              subaccounts={0: 700 * USDC, 128: 50 * USDC, 3: 9 * USDC}),
                AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2),
            ),
        )
        async with running_sandbox(config=config) as (sandbox, http, _):
            sandbox.node.step_blocks(2)
            parent = (await http.get("/historical-pnl/parentSubaccountNumber", params={
                "address": A, "parentSubaccountNumber": 0,
            })).json()["historicalPnl"]
            children = {}
            for number in (0, 128):
                ticks = (await http.get("/historical-pnl", params={
                    "address": A, "subaccountNumber": number,
                })).json()["historicalPnl"]
                children[number] = {t["blockHeight"]: Decimal(t["equity"]) for t in ticks}
            assert [t["blockHeight"] for t in parent] == ["3", "2"]
            for tick in parent:
                height = tick["blockHeight"]
                assert Decimal(tick["equity"]) == children[0][height] + children[128][height]
                assert Decimal(tick["equity"]) == 750

    run(scenario())
