# SPDX-License-Identifier: Apache-2.0
"""Hourly funding over loopback: rates, payments, balances, nextFundingRate, trading stats."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP
from decimal import Decimal
from decimal import localcontext
from fractions import Fraction

from nautilus_dydx.sandbox import SandboxNode
from nautilus_dydx.sandbox.events import FundingEvent
from nautilus_dydx.sandbox.events import PremiumSampleEvent
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K2_ADDRESS
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
# Ten-minute blocks: an hour of block time is six blocks
TEN_MINUTES_MS = 600_000


def samples_of(node, ticker: str) -> list[tuple[int, int]]:
    return [
        (e.height, e.premium_ppm) for e in node.bus.history
        if isinstance(e, PremiumSampleEvent) and e.ticker == ticker
    ]


def hand_rounded(value: Fraction) -> Decimal:
    """Round half up to 20 places, independently of the sandbox's numbers module."""
    with localcontext() as context:
        context.prec = 80
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return exact.quantize(Decimal("1e-20"), rounding=ROUND_HALF_UP)


async def long_and_short(sandbox, client) -> None:
    gtb = sandbox.node.height + 10
    assert (await client.broadcast(BOB.sign_tx(
        [place(B, 1, SELL, ONE_BTC, 6_500_000_000, gtb=gtb)],
    ))).code == 0
    assert (await client.broadcast(ALICE.sign_tx(
        [place(A, 1, BUY, ONE_BTC, 6_500_000_000, gtb=gtb, tif=IOC)],
    ))).code == 0


def test_hourly_funding_pays_shorts_and_shows_everywhere() -> None:
    async def scenario() -> None:
        config = make_config(block_time_ms=TEN_MINUTES_MS)
        async with running_sandbox(config=config) as (sandbox, http, client):
            node = sandbox.node
            await long_and_short(sandbox, client)
            node.step_blocks(1)
            usdc_a = node.subaccount(A)["usdc"]
            usdc_b = node.subaccount(B)["usdc"]
            node.step_blocks(5)
            assert node.block_time_ns % 3_600_000_000_000 == 0
            samples = [ppm for _, ppm in samples_of(node, "BTC-USD")]
            assert len(samples) == 6
            # The rate: the rounded mean of the hour's samples plus 100 ppm interest, per 8 h
            rate_ppm = round(Fraction(sum(samples), 6) + 100)
            assert rate_ppm != 0
            rate = Decimal(rate_ppm) / Decimal(8_000_000)
            history = (await http.get("/historicalFunding/BTC-USD")).json()["historicalFunding"]
            assert len(history) == 1
            assert Decimal(history[0]["rate"]) == rate
            assert (history[0]["price"], history[0]["effectiveAtHeight"]) == ("65000", "7")
            # Chain balances: 1 BTC × 65 000 × rate, rounded against each subaccount
            owed = Fraction(65_000_000_000) * rate_ppm / 8_000_000
            assert node.subaccount(A)["usdc"] - usdc_a == -math.ceil(owed)
            assert node.subaccount(B)["usdc"] - usdc_b == -math.ceil(-owed)

            params = {"address": A, "subaccountNumber": 0}
            payments = (await http.get("/fundingPayments", params=params)).json()
            payment = payments["fundingPayments"][0]
            assert Decimal(payment["payment"]) == -Decimal(65_000) * rate
            assert (payment["ticker"], payment["side"], payment["size"]) == (
                "BTC-USD", "LONG", "1",
            )
            assert Decimal(payment["rate"]) == rate and payment["oraclePrice"] == "65000"
            parent = (await http.get("/fundingPayments/parentSubaccount", params={
                "address": A, "parentSubaccountNumber": 0,
            })).json()
            assert parent["fundingPayments"] == payments["fundingPayments"]
            other = (await http.get("/fundingPayments", params=dict(params, ticker="ETH-USD")))
            assert other.json()["fundingPayments"] == []
            bob = (await http.get("/fundingPayments", params={
                "address": B, "subaccountNumber": 0,
            })).json()["fundingPayments"][0]
            assert Decimal(bob["payment"]) == Decimal(65_000) * rate and bob["side"] == "SHORT"

            position = (await http.get("/perpetualPositions", params=params)).json()[
                "positions"][0]
            assert Decimal(position["netFunding"]) == -Decimal(65_000) * rate
            subaccount = (await http.get(f"/addresses/{A}/subaccountNumber/0")).json()[
                "subaccount"]
            usdc = subaccount["assetPositions"]["USDC"]
            assert usdc["side"] == "LONG"
            assert Decimal(usdc["size"]) == Decimal(node.subaccount(A)["usdc"]).scaleb(-6)
            transfers = (await http.get("/transfers", params=params)).json()["transfers"]
            assert [t["type"] for t in transfers] == ["DEPOSIT"]

            # The next hour's prediction: mean of the samples since the tick, 20 places
            node.step_blocks(2)
            new = [ppm for height, ppm in samples_of(node, "BTC-USD") if height > 7]
            assert len(new) == 2
            expected = hand_rounded((Fraction(sum(new), 2) + 100) / 8_000_000)
            market = (await http.get("/perpetualMarkets", params={"ticker": "BTC-USD"})).json()[
                "markets"]["BTC-USD"]
            assert Decimal(market["nextFundingRate"]) == expected
            assert market["defaultFundingRate1H"] == "0.0000125"

    run(scenario())


def test_next_funding_rate_has_twenty_places_when_the_mean_does_not_terminate() -> None:
    async def scenario() -> None:
        config = make_config(block_time_ms=60_000)
        async with running_sandbox(config=config) as (sandbox, http, _):
            node = sandbox.node
            node.step_blocks(3)
            samples = [ppm for _, ppm in samples_of(node, "ETH-USD")]
            assert len(samples) == 3
            expected = hand_rounded((Fraction(sum(samples), 3) + 100) / 8_000_000)
            text = (await http.get("/perpetualMarkets")).json()["markets"]["ETH-USD"][
                "nextFundingRate"]
            assert Decimal(text) == expected
            # Seed 0 gives a sum that three does not divide: the quotient does not terminate
            assert sum(samples) % 3 != 0
            assert len(text.split(".")[1]) == 20

    run(scenario())


def test_trading_statistics_arrive_on_v4_markets() -> None:
    async def scenario() -> None:
        config = make_config(block_time_ms=TEN_MINUTES_MS)
        async with running_sandbox(config=config) as (sandbox, _, client):
            node = sandbox.node
            ws = await connect(sandbox)
            try:
                ws.subscribe("v4_markets")
                ws.subscribe("v4_block_height")
                await ws.wait("subscribed", count=2)
                await long_and_short(sandbox, client)
                node.step_blocks(1)

                def trading() -> list[dict]:
                    return [
                        f["contents"]["trading"] for f in ws.of("channel_data", "v4_markets")
                        if "trading" in f["contents"]
                    ]

                await wait_for(lambda: any(
                    "volume24H" in t.get("BTC-USD", {}) for t in trading()
                ))
                update = next(
                    t["BTC-USD"] for t in trading() if "volume24H" in t.get("BTC-USD", {})
                )
                assert update["volume24H"] == "65000"
                assert update["trades24H"] == 1
                assert update["openInterest"] == "1"
                assert "nextFundingRate" in update
                # Only changed fields are sent: with no trade, only the prediction moves
                count = len(trading())
                heights = len(ws.of("channel_data", "v4_block_height"))
                node.step_blocks(1)
                await ws.wait("channel_data", "v4_block_height", count=heights + 1)
                later = [t["BTC-USD"] for t in trading()[count:] if "BTC-USD" in t]
                assert later and all(set(t) == {"nextFundingRate"} for t in later)
                assert node.chain.funding is not None
            finally:
                close_transport(ws)

    run(scenario())


def test_funding_is_deterministic_for_a_seed_and_switchable() -> None:
    def rates(seed: int, enabled: bool = True) -> list[int]:
        node = SandboxNode(make_config(seed=seed, block_time_ms=TEN_MINUTES_MS,
                                       funding_enabled=enabled))
        node.step_blocks(18)
        return [e.rate_ppm for e in node.bus.history if isinstance(e, FundingEvent)]

    first = rates(3)
    assert len(first) == 3 * 4  # three hours, four markets
    assert first == rates(3)
    assert first != rates(4)
    assert rates(3, enabled=False) == []
