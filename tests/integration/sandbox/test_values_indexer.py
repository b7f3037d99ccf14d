# SPDX-License-Identifier: Apache-2.0
"""Real-world values over loopback: 20-24 decimal places, unknown fields, determinism."""

from __future__ import annotations

from nautilus_dydx.sandbox.extras import EXTRA_FIELDS
from nautilus_dydx.sandbox.extras import extra_keys
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
# 0.0003 BTC at 65 000 and 0.0004 BTC at 65 001: entry = 45.5004 / 0.0007
ENTRY = "65000.57142857142857142857"
# (65 000 - ENTRY) × 0.0007, exactly: 24 places
UNREALIZED = "-0.000399999999999999999999"
ROUTES = (
    ("/perpetualMarkets", None),
    ("/trades/perpetualMarket/BTC-USD", None),
    ("/fills", {"address": A, "subaccountNumber": 0}),
    ("/orders", {"address": A, "subaccountNumber": 0}),
    ("/perpetualPositions", {"address": A, "subaccountNumber": 0}),
    (f"/addresses/{A}/subaccountNumber/0", None),
    ("/candles/perpetualMarkets/BTC-USD", {"resolution": "1MIN"}),
    ("/historicalFunding/BTC-USD", None),
    ("/fundingPayments", {"address": A, "subaccountNumber": 0}),
    ("/transfers", {"address": A, "subaccountNumber": 0}),
)


async def two_fills(sandbox, client) -> None:
    node = sandbox.node
    gtb = node.height + 10
    for client_id, quantums, subticks in ((1, 3_000_000, 6_500_000_000),
                                          (2, 4_000_000, 6_500_100_000)):
        sell = await client.broadcast(BOB.sign_tx(
            [place(B, client_id, SELL, quantums, subticks, gtb=gtb)],
        ))
        buy = await client.broadcast(ALICE.sign_tx(
            [place(A, client_id, BUY, quantums, subticks, gtb=gtb, tif=IOC)],
        ))
        assert (sell.code, buy.code) == (0, 0)
    node.step_blocks(1)


async def collect(config) -> tuple[dict[str, object], list[dict]]:
    """Run one scripted session; return the REST bodies and the WebSocket frames."""
    async with running_sandbox(config=config) as (sandbox, http, client):
        ws = await connect(sandbox)
        try:
            ws.subscribe("v4_markets")
            ws.subscribe("v4_trades", "BTC-USD")
            ws.subscribe("v4_subaccounts", f"{A}/0")
            await ws.wait("subscribed", count=3)
            await two_fills(sandbox, client)
            sandbox.node.step_blocks(1)
            await ws.wait("channel_data", "v4_trades", count=2)
            bodies = {}
            for path, params in ROUTES:
                response = await http.get(path, params=params)
                assert response.status_code == 200, path
                bodies[path] = response.json()
            await wait_for(lambda: any(
                "perpetualPositions" in f["contents"]
                for f in ws.of("channel_data", "v4_subaccounts")
            ))
            frames = [f for f in ws.frames if isinstance(f, dict) and f.get("type") != "connected"]
            return bodies, frames
        finally:
            close_transport(ws)


def test_entry_price_and_pnl_carry_twenty_to_twenty_four_places() -> None:
    async def scenario() -> None:
        async with running_sandbox(config=make_config(funding_enabled=False)) as (
            sandbox, http, client,
        ):
            ws = await connect(sandbox)
            try:
                ws.subscribe("v4_subaccounts", f"{A}/0")
                await ws.wait("subscribed")
                await two_fills(sandbox, client)
                positions = (await http.get("/perpetualPositions", params={
                    "address": A, "subaccountNumber": 0,
                })).json()["positions"]
                assert (positions[0]["size"], positions[0]["entryPrice"]) == ("0.0007", ENTRY)
                assert positions[0]["unrealizedPnl"] == UNREALIZED
                account = (await http.get(f"/addresses/{A}/subaccountNumber/0")).json()[
                    "subaccount"]
                assert account["openPerpetualPositions"]["BTC-USD"]["entryPrice"] == ENTRY

                def ws_positions() -> list[dict]:
                    return [
                        p for f in ws.of("channel_data", "v4_subaccounts")
                        for p in f["contents"].get("perpetualPositions", [])
                    ]

                await wait_for(lambda: any(p["size"] == "0.0007" for p in ws_positions()))
                latest = [p for p in ws_positions() if p["size"] == "0.0007"][-1]
                assert (latest["entryPrice"], latest["unrealizedPnl"]) == (ENTRY, UNREALIZED)
                ws.subscribe("v4_subaccounts", f"{B}/0")
                snapshot = (await ws.wait("subscribed", count=2))[-1]
                short = snapshot["contents"]["subaccount"]["openPerpetualPositions"]["BTC-USD"]
                assert (short["side"], short["entryPrice"]) == ("SHORT", ENTRY)
                # Closing half at 65 002 gives an exit price and realized PnL
                gtb = sandbox.node.height + 10
                await client.broadcast(BOB.sign_tx([place(B, 9, BUY, 7_000_000, 6_500_200_000,
                                                          gtb=gtb)]))
                await client.broadcast(ALICE.sign_tx([place(A, 9, SELL, 7_000_000,
                                                            6_500_200_000, gtb=gtb, tif=IOC)]))
                sandbox.node.step_blocks(1)
                closed = (await http.get("/perpetualPositions", params={
                    "address": A, "subaccountNumber": 0,
                })).json()["positions"][0]
                assert (closed["status"], closed["exitPrice"], closed["entryPrice"]) == (
                    "CLOSED", "65002", ENTRY,
                )
                # 45.5014 - 45.5004 USDC
                assert closed["realizedPnl"] == "0.001"
            finally:
                close_transport(ws)

    run(scenario())


def test_unknown_fields_appear_when_on_and_never_when_off() -> None:
    async def scenario() -> None:
        on_bodies, on_frames = await collect(make_config(extra_fields=True))
        found = set()
        for body in on_bodies.values():
            found |= extra_keys(body)
        found_ws = extra_keys(on_frames)
        assert found and found <= set(EXTRA_FIELDS)
        assert found_ws and found_ws <= set(EXTRA_FIELDS)
        # Only some records get one: occasional, not every message
        fills = on_bodies["/fills"]["fills"]
        markets = list(on_bodies["/perpetualMarkets"]["markets"].values())
        records = fills + markets + on_bodies["/orders"]
        assert 0 < sum(1 for r in records if extra_keys(r)) < len(records)
        off_bodies, off_frames = await collect(make_config(extra_fields=False))
        assert all(not extra_keys(body) for body in off_bodies.values())
        assert not extra_keys(off_frames)
        # Without the extra keys the two runs carry the same records
        assert [strip(f) for f in on_bodies["/fills"]["fills"]] == off_bodies["/fills"]["fills"]

    run(scenario())


def test_same_seed_same_values_and_extra_fields() -> None:
    async def scenario() -> None:
        first, frames_first = await collect(make_config(extra_fields=True, seed=7))
        second, frames_second = await collect(make_config(extra_fields=True, seed=7))
        assert first == second
        assert [strip_ids(f) for f in frames_first] == [strip_ids(f) for f in frames_second]

    run(scenario())


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in EXTRA_FIELDS}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def strip_ids(frame: dict) -> dict:
    # Connection ids and message ids differ per connection
    return {k: v for k, v in frame.items() if k not in ("connection_id", "message_id")}
