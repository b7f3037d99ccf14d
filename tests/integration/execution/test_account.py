# SPDX-License-Identifier: Apache-2.0
"""Account state from the stream, order lists in one transaction, keys, and report windows."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from datetime import timezone
from decimal import Decimal

import pytest
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import GenerateFillReports
from nautilus_trader.execution.messages import GenerateOrderStatusReports
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import OrderListId
from nautilus_trader.model.orders import OrderList

from nautilus_dydx.common.types import DYDXOrderTags
from nautilus_dydx.wallet import WalletError
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_lifecycle import alice_stateful
from tests.integration.execution.test_orders import SHORT
from tests.integration.execution.test_orders import bob_order
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_MNEMONIC
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import SELL


def venue_equity(sandbox) -> Decimal:
    # USDC quantums (1e-6) plus BTC base quantums (1e-10) at the 65 000 oracle price
    sub = sandbox.node.subaccount(K1_ADDRESS)
    btc = sub["positions"].get(0, {"size": 0})["size"]
    return Decimal(sub["usdc"]) / 10**6 + Decimal(btc) / 10**10 * 65000


def test_account_state_follows_fills_live() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            account = node.cache.account_for_venue(node.client.venue)
            assert account.balance_total(USDC).as_decimal() == venue_equity(sandbox)
            states = len(account.events)
            order = await node.accepted_limit(OrderSide.BUY, "0.01", "60000", tags=SHORT)
            await bob_order(sandbox, 1, SELL, 100, 60000, tif=IOC)
            await node.wait(lambda: order.status == OrderStatus.FILLED)
            await node.wait(lambda: account.balance_total(USDC).as_decimal() == venue_equity(
                sandbox))
            assert len(account.events) > states
            # Bought 0.01 BTC at 60 000, valued at the 65 000 oracle: 50 USD up, before fees
            assert venue_equity(sandbox) > Decimal(100_000) + 49
            # Initial margin: 0.01 x 65 000 x 5 % (the market's initial margin fraction)
            # Nautilus's portfolio may publish its own margin estimate after ours, so look for
            # the venue's figure among the account's states rather than in the last one only
            await node.wait(lambda: any(
                m.initial.as_decimal() == Decimal("32.5")
                for event in account.events for m in event.margins
            ))

    run(scenario())


def test_order_list_of_stateful_orders_goes_in_one_transaction() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            sequence = node.client.sender.next_sequence
            orders = [node.limit(OrderSide.BUY, "0.001", str(p)) for p in (50000, 50001, 50002)]
            node.strategy.submit_order_list(OrderList(OrderListId("OL-1"), orders))
            await node.wait(lambda: all(o.status == OrderStatus.ACCEPTED for o in orders))
            assert node.client.sender.next_sequence == sequence + 1
            ids = {node.client.venue_order(o.client_order_id).client_id for o in orders}
            assert alice_stateful(sandbox) == ids

    run(scenario())


def test_mnemonic_account_and_address_check() -> None:
    async def scenario() -> None:
        async with venue() as sandbox:
            config = {"private_key": None, "mnemonic": K1_MNEMONIC, "wallet_address": K1_ADDRESS}
            async with trading_node(sandbox, config=config) as node:
                assert node.client.address == K1_ADDRESS
                assert str(node.client.account_id) == f"DYDX-{K1_ADDRESS}-0"
            config["wallet_address"] = K2_ADDRESS
            with pytest.raises(WalletError, match="does not match"):
                async with trading_node(sandbox, config=config):
                    pass

    run(scenario())


def test_reports_honour_the_lookback_window() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            resting = node.limit(OrderSide.BUY, "0.001", "50000", tags=SHORT)
            taken = node.limit(OrderSide.BUY, "0.001", "60000", tags=SHORT)
            for order in (resting, taken):
                node.strategy.submit_order(order)
            await node.wait(lambda: resting.status == OrderStatus.ACCEPTED and (
                taken.status == OrderStatus.ACCEPTED
            ))
            await bob_order(sandbox, 1, SELL, 10, 60000, tif=IOC)
            await node.wait(lambda: taken.status == OrderStatus.FILLED)
            client = node.client

            def commands(start):
                return (
                    GenerateOrderStatusReports(None, start, None, False, UUID4(), 0),
                    GenerateFillReports(None, None, start, None, UUID4(), 0),
                )

            everything = commands(None)
            orders = await client.generate_order_status_reports(everything[0])
            fills = await client.generate_fill_reports(everything[1])
            by_id = {r.client_order_id: r for r in orders}
            assert by_id[taken.client_order_id].order_status == OrderStatus.FILLED
            assert by_id[resting.client_order_id].order_status == OrderStatus.ACCEPTED
            assert [(f.client_order_id, f.last_qty.as_decimal()) for f in fills] == [
                (taken.client_order_id, Decimal("0.001")),
            ]
            # Venue time is 2026-01-01: a window from now leaves only the open order
            future = commands(datetime.now(timezone.utc) + timedelta(days=400))
            orders = await client.generate_order_status_reports(future[0])
            assert [r.client_order_id for r in orders] == [resting.client_order_id]
            assert await client.generate_fill_reports(future[1]) == []

    run(scenario())


def test_equity_tier_cap_denies_the_stateful_order_beyond_the_limit() -> None:
    from nautilus_dydx.sandbox import AccountConfig
    from tests.integration.sandbox.helpers import K2_PRIVATE_KEY

    accounts = (
        AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7,
                      subaccounts={0: 50_000_000}),  # 50 USDC: the 20 USD tier, 10 orders
        AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2),
    )

    async def scenario() -> None:
        async with venue(accounts=accounts) as sandbox, trading_node(sandbox) as node:
            orders = [node.limit(OrderSide.BUY, "0.0001", str(50000 + i)) for i in range(11)]
            for order in orders[:10]:
                node.strategy.submit_order(order)
            await node.wait(lambda: all(o.status == OrderStatus.ACCEPTED for o in orders[:10]))
            node.strategy.submit_order(orders[10])
            await node.wait(lambda: orders[10].status == OrderStatus.DENIED)
            reason = node.kinds(orders[10].client_order_id)[-1].reason
            assert reason.startswith("clob 10001: equity tier limit: 10 open stateful orders")
            # A short-term order is not capped
            short = await node.accepted_limit(OrderSide.BUY, "0.0001", "49000", tags=SHORT)
            assert len(alice_stateful(sandbox)) == 10

    run(scenario())


def test_config_quoting_defaults_and_timestamp_nonces() -> None:
    async def scenario() -> None:
        async with venue() as sandbox:
            config = {"gtc_short_term": True, "sequence_mode": "timestamp"}
            async with trading_node(sandbox, config=config) as node:
                quote = node.limit(OrderSide.BUY, "0.001", "60000")  # GTC, no tags
                stateful = node.limit(
                    OrderSide.BUY, "0.001", "50000",
                    tags=[DYDXOrderTags(is_short_term_order=False).value],
                )
                node.strategy.submit_order(quote)
                node.strategy.submit_order(stateful)
                await node.wait(lambda: quote.status == OrderStatus.ACCEPTED and (
                    stateful.status == OrderStatus.ACCEPTED
                ))
                assert node.client.venue_order(quote.client_order_id).order_flags == 0
                assert node.client.venue_order(stateful.client_order_id).order_flags == 64
                assert node.client.sender.mode.value == "timestamp"

    run(scenario())


def test_isolated_market_from_its_own_subaccount_and_denied_beside_another() -> None:
    import grpc
    from nautilus_trader.model.identifiers import InstrumentId

    from nautilus_dydx.sandbox import AccountConfig
    from tests.integration.sandbox.helpers import BOB
    from tests.integration.sandbox.helpers import Client
    from tests.integration.sandbox.helpers import place
    from nautilus_dydx.sandbox.config import MarketConfig
    from nautilus_dydx.sandbox.config import default_markets
    from tests.integration.sandbox.helpers import K2_PRIVATE_KEY

    iso = MarketConfig(
        "ISO-USD", 7, -7, -9, 1_000_000, 1_000_000, "10", initial_margin_ppm=200_000,
        market_type="ISOLATED",
    )
    accounts = (
        AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7,
                      subaccounts={0: 100_000_000_000, 128: 1_000_000_000}),
        AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2),
    )
    iso_id = InstrumentId.from_str("ISO-USD-PERP.DYDX")

    async def scenario() -> None:
        async with venue(markets=(*default_markets(), iso), accounts=accounts) as sandbox:
            async with trading_node(sandbox, config={"subaccount": 128}) as node:
                instrument = node.cache.instrument(iso_id)
                order = node.strategy.order_factory.limit(
                    iso_id, OrderSide.BUY, instrument.make_qty(Decimal(1)),
                    instrument.make_price(Decimal(9)), tags=SHORT,
                )
                node.strategy.submit_order(order)
                await node.wait(lambda: order.status == OrderStatus.ACCEPTED)
                assert str(node.client.account_id).endswith("-128")
                # Bob sells 1 ISO at 9 USD (one step is 0.1 ISO = 10**6 quantums)
                async with grpc.aio.insecure_channel(sandbox.grpc_endpoint) as channel:
                    result = await Client(channel).broadcast(BOB.sign_tx([place(
                        K2_ADDRESS, 9, SELL, 10_000_000, 900_000_000, clob_pair_id=7,
                        gtb=sandbox.node.height + 10, tif=IOC,
                    )]))
                    assert result.code == 0, result.raw_log
                await node.wait(lambda: order.status == OrderStatus.FILLED)
                await node.wait(lambda: len(node.cache.positions_open()) == 1)
                # Holding ISO-USD, the isolated subaccount may not trade BTC-USD
                btc = node.limit(OrderSide.BUY, "0.001", "60000", tags=SHORT)
                node.strategy.submit_order(btc)
                await node.wait(lambda: btc.status == OrderStatus.DENIED)
                assert node.kinds(btc.client_order_id)[-1].reason.startswith("clob 2005: ")

    run(scenario())
