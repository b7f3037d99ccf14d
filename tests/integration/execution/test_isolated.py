# SPDX-License-Identifier: Apache-2.0
"""Isolated markets through child subaccounts: collateral moved in and back, per-child state."""

from __future__ import annotations

import tempfile
from decimal import Decimal

import grpc
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import GenerateOrderStatusReports
from nautilus_trader.execution.messages import GeneratePositionStatusReports
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx.sandbox import AccountConfig
from nautilus_dydx.sandbox.config import MarketConfig
from nautilus_dydx.sandbox.config import default_markets
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_orders import SHORT
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_MNEMONIC
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import K2_PRIVATE_KEY
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import Client
from tests.integration.sandbox.helpers import place


A = K1_ADDRESS
ISO = MarketConfig(
    "ISO-USD", 7, -7, -9, 1_000_000, 1_000_000, "10", initial_margin_ppm=200_000,
    market_type="ISOLATED",
)
ISO2 = MarketConfig(
    "ISO2-USD", 8, -7, -9, 1_000_000, 1_000_000, "20", initial_margin_ppm=100_000,
    market_type="ISOLATED",
)
ISO_ID = InstrumentId.from_str("ISO-USD-PERP.DYDX")
ISO2_ID = InstrumentId.from_str("ISO2-USD-PERP.DYDX")
ISOLATED = {"isolated_child_subaccounts": True}
ONE_ISO = 10_000_000  # Base quantums of one ISO (atomic resolution -7)


def accounts(parent_usdc: int = 100_000_000_000) -> tuple:
    return (
        AccountConfig(mnemonic=K1_MNEMONIC, account_number=12345, sequence=7,
                      subaccounts={0: parent_usdc}),
        AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2),
    )


def isolated_venue(parent_usdc: int = 100_000_000_000):
    return venue(markets=(*default_markets(), ISO, ISO2), accounts=accounts(parent_usdc))


async def bob_takes(sandbox, client_id: int, side: int, quantums: int, price: int,
                    clob_pair_id: int = 7) -> None:
    # Bob crosses our resting order with an IOC (prices in USD; 10**8 subticks per USD)
    async with grpc.aio.insecure_channel(sandbox.grpc_endpoint) as channel:
        result = await Client(channel).broadcast(BOB.sign_tx([place(
            K2_ADDRESS, client_id, side, quantums, price * 100_000_000,
            clob_pair_id=clob_pair_id, gtb=sandbox.node.height + 10, tif=IOC,
        )]))
        assert result.code == 0, result.raw_log


def chain_usdc(sandbox, number: int) -> Decimal:
    sub = sandbox.node.subaccount(A, number)
    return Decimal(0) if sub is None else Decimal(sub["usdc"]) / 10**6


def chain_size(sandbox, number: int, clob_pair_id: int) -> Decimal:
    sub = sandbox.node.subaccount(A, number)
    if sub is None or clob_pair_id not in sub["positions"]:
        return Decimal(0)
    return Decimal(sub["positions"][clob_pair_id]["size"]) / 10**7


def limit(node, instrument_id, side, quantity: str, price: str):
    instrument = node.cache.instrument(instrument_id)
    return node.strategy.order_factory.limit(
        instrument_id, side, instrument.make_qty(Decimal(quantity)),
        instrument.make_price(Decimal(price)), tags=SHORT,
    )


def test_opening_from_an_empty_child_transfers_then_fills_and_closing_returns_it() -> None:
    async def scenario() -> None:
        async with isolated_venue() as sandbox:
            async with trading_node(sandbox, config=ISOLATED) as node:
                router = node.client.isolated
                parent_before = chain_usdc(sandbox, 0)
                assert sandbox.node.subaccount(A, 128) is None  # No child collateral at all
                order = limit(node, ISO_ID, OrderSide.BUY, "1", "9")
                node.strategy.submit_order(order)
                await node.wait(lambda: order.status == OrderStatus.ACCEPTED)
                # 1 ISO x 9 USD x 20 % initial margin x 1.1 buffer, moved before the order
                assert chain_usdc(sandbox, 128) == Decimal("1.98")
                assert chain_usdc(sandbox, 0) == parent_before - Decimal("1.98")
                assert node.client.venue_order(order.client_order_id).subaccount_number == 128
                assert node.of(order.client_order_id)[1:3] == ["OrderSubmitted", "OrderAccepted"]
                # Before any fill: the account's total is parent plus child, each in info
                account = node.cache.account_for_venue(node.client.venue)

                def last_reported():  # Nautilus publishes states of its own between ours
                    return [e for e in account.events if e.is_reported and e.info][-1]

                await node.wait(
                    lambda: last_reported().info["subaccounts"].get("128", {}).get("equity")
                    == "1.98",
                )
                assert last_reported().balances[0].total.as_decimal() == 100_000
                await bob_takes(sandbox, 1, SELL, ONE_ISO, 9)
                await node.wait(lambda: order.status == OrderStatus.FILLED)
                assert chain_size(sandbox, 128, 7) == 1
                assert chain_size(sandbox, 0, 7) == 0
                # The stream's per-child view equals the chain's, and the account totals them
                await node.wait(lambda: router.positions().get(128) == {"ISO-USD": Decimal(1)})
                await node.wait(lambda: router.books[128].usdc == chain_usdc(sandbox, 128))
                await node.wait(lambda: node.client._usdc == chain_usdc(sandbox, 0))
                venue_total = chain_usdc(sandbox, 0) + chain_usdc(sandbox, 128) + 1 * 10

                def reported() -> list:
                    # The venue's states by their per-subaccount info: Nautilus deducts a fill's
                    # commission from the current AccountBalance object in place
                    # (accounting/manager.pyx), so a balance inside an event may change later
                    return [
                        e.info["subaccounts"] for e in account.events
                        if e.is_reported and sum(
                            Decimal(sub["equity"]) for sub in e.info["subaccounts"].values()
                        ) == venue_total
                    ]

                await node.wait(lambda: bool(reported()))
                info = reported()[-1]
                assert Decimal(info["128"]["equity"]) == chain_usdc(sandbox, 128) + 10
                assert Decimal(info["0"]["equity"]) == chain_usdc(sandbox, 0)
                assert info["128"]["positions"] == {"ISO-USD": "1"}
                positions = node.cache.positions_open()
                assert [p.instrument_id for p in positions] == [ISO_ID]
                # Close: a reducing order needs no collateral; flat, the child pays back
                close = limit(node, ISO_ID, OrderSide.SELL, "1", "9")
                node.strategy.submit_order(close)
                await node.wait(lambda: close.status == OrderStatus.ACCEPTED)
                assert router.transfers_sent == 1
                await bob_takes(sandbox, 2, BUY, ONE_ISO, 9)
                await node.wait(lambda: close.status == OrderStatus.FILLED)
                await node.wait(lambda: router.transfers_returned == 1)
                await node.wait(lambda: sandbox.node.subaccount(A, 128)["usdc"] == 0)
                # Everything is back in the parent, less the two fills' fees
                fees = sum(f.commission.as_decimal() for f in (
                    e for e in node.events if type(e).__name__ == "OrderFilled"
                ))
                assert chain_usdc(sandbox, 0) == parent_before - fees
                await node.wait(lambda: router.books[128].usdc == 0)

    run(scenario())


def test_two_isolated_markets_use_two_children_and_canceled_orders_return_collateral() -> None:
    async def scenario() -> None:
        async with isolated_venue() as sandbox:
            async with trading_node(sandbox, config=ISOLATED) as node:
                router = node.client.isolated
                first = limit(node, ISO_ID, OrderSide.BUY, "2", "8")
                second = limit(node, ISO2_ID, OrderSide.SELL, "1", "25")
                third = limit(node, ISO_ID, OrderSide.BUY, "1", "7")
                for order in (first, second, third):
                    node.strategy.submit_order(order)
                await node.wait(lambda: all(
                    o.status == OrderStatus.ACCEPTED for o in (first, second, third)
                ))
                numbers = [
                    node.client.venue_order(o.client_order_id).subaccount_number
                    for o in (first, second, third)
                ]
                assert numbers == [128, 256, 128]
                # ISO: 2 x 8 x 0.2 x 1.1 = 3.52, then 1 x 7 x 0.2 x 1.1 = 1.54 more
                # ISO2: 1 x 25 x 0.1 x 1.1 = 2.75
                assert chain_usdc(sandbox, 128) == Decimal("3.52") + Decimal("1.54")
                assert chain_usdc(sandbox, 256) == Decimal("2.75")
                assert router.transfers_sent == 3
                # A cross market beside them still trades from the parent itself
                btc = await node.accepted_limit(OrderSide.BUY, "0.001", "50000", tags=SHORT)
                assert node.client.venue_order(btc.client_order_id).subaccount_number is None
                assert router.transfers_sent == 3
                # One batch cancel in child 128, one single cancel in child 256
                node.strategy.cancel_all_orders(ISO_ID)
                node.strategy.cancel_order(second)
                await node.wait(lambda: all(
                    o.status == OrderStatus.CANCELED for o in (first, second, third)
                ))
                await node.wait(lambda: chain_usdc(sandbox, 128) == 0 and (
                    chain_usdc(sandbox, 256) == 0
                ))
                assert chain_usdc(sandbox, 0) == 100_000
                await node.wait(lambda: router.transfers_returned == 2)
                assert btc.status in (OrderStatus.ACCEPTED, OrderStatus.EXPIRED)  # Not canceled

    run(scenario())


def test_a_restart_mid_position_finds_the_same_child() -> None:
    async def scenario() -> None:
        with tempfile.TemporaryDirectory() as state_dir:
            async with isolated_venue() as sandbox:
                async with trading_node(sandbox, state_dir=state_dir, config=ISOLATED) as node:
                    order = limit(node, ISO2_ID, OrderSide.BUY, "1", "20")
                    node.strategy.submit_order(order)
                    await node.wait(lambda: order.status == OrderStatus.ACCEPTED)
                    await bob_takes(sandbox, 1, SELL, ONE_ISO, 20, clob_pair_id=8)
                    await node.wait(lambda: order.status == OrderStatus.FILLED)
                    assert chain_size(sandbox, 128, 8) == 1
                async with trading_node(
                    sandbox, state_dir=state_dir, config=ISOLATED, reconcile=True,
                ) as node:
                    router = node.client.isolated
                    assert router.positions()[128] == {"ISO2-USD": Decimal(1)}
                    # Reconciliation from the parent routes rebuilt the child's position
                    [position] = node.cache.positions_open()
                    assert (position.instrument_id, position.signed_qty) == (ISO2_ID, 1.0)
                    # Another market takes the next child; the held one stays with its market
                    other = limit(node, ISO_ID, OrderSide.BUY, "1", "5")
                    more = limit(node, ISO2_ID, OrderSide.BUY, "1", "19")
                    node.strategy.submit_order(other)
                    node.strategy.submit_order(more)
                    await node.wait(lambda: other.status == OrderStatus.ACCEPTED and (
                        more.status == OrderStatus.ACCEPTED
                    ))
                    assert node.client.venue_order(other.client_order_id).subaccount_number == 256
                    assert node.client.venue_order(more.client_order_id).subaccount_number == 128
                    # Reports for reconciliation cover the children
                    positions = await node.client.generate_position_status_reports(
                        GeneratePositionStatusReports(
                            instrument_id=None, start=None, end=None, command_id=UUID4(),
                            ts_init=0,
                        ),
                    )
                    assert [(r.instrument_id, r.quantity.as_decimal()) for r in positions] == [
                        (ISO2_ID, Decimal(1)),
                    ]
                    reports = await node.client.generate_order_status_reports(
                        GenerateOrderStatusReports(
                            instrument_id=None, start=None, end=None, open_only=True,
                            command_id=UUID4(), ts_init=0,
                        ),
                    )
                    assert {r.client_order_id for r in reports} == {
                        other.client_order_id, more.client_order_id,
                    }

    run(scenario())


def test_an_order_canceled_while_its_transfer_is_pending_is_never_placed() -> None:
    async def scenario() -> None:
        async with isolated_venue() as sandbox:
            async with trading_node(sandbox, config=ISOLATED) as node:
                router = node.client.isolated
                order = limit(node, ISO_ID, OrderSide.BUY, "1", "9")
                node.strategy.submit_order(order)
                await node.wait(lambda: router.is_waiting(order.client_order_id))
                node.strategy.cancel_order(order)
                await node.wait(lambda: order.status == OrderStatus.DENIED)
                assert "canceled while its collateral transfer" in (
                    node.kinds(order.client_order_id)[-1].reason
                )
                assert node.client.venue_order(order.client_order_id) is None
                # The collateral moved in for it goes back to the parent
                await node.wait(lambda: router.transfers_returned == 1)
                await node.wait(lambda: chain_usdc(sandbox, 128) == 0)
                assert chain_usdc(sandbox, 0) == 100_000

    run(scenario())


def test_a_transfer_the_chain_refuses_denies_the_order_and_places_nothing() -> None:
    async def scenario() -> None:
        async with isolated_venue(parent_usdc=1_000_000) as sandbox:  # 1 USDC in the parent
            async with trading_node(sandbox, config=ISOLATED) as node:
                sequence = node.client.sender.next_sequence
                order = limit(node, ISO_ID, OrderSide.BUY, "10", "9")  # Needs 19.8 USDC
                node.strategy.submit_order(order)
                await node.wait(lambda: order.status == OrderStatus.DENIED)
                reason = node.kinds(order.client_order_id)[-1].reason
                assert "subaccounts 102" in reason and "from subaccount 0 to 128" in reason
                assert "OrderSubmitted" not in node.of(order.client_order_id)
                assert node.client.venue_order(order.client_order_id) is None
                assert sandbox.node.subaccount(A, 128) is None
                assert chain_usdc(sandbox, 0) == 1
                # A refused CheckTx consumes no sequence
                assert node.client.sender.next_sequence == sequence
                venue_orders = [
                    o async for o in node.client._http.iter_orders(A, 0, parent=True)
                ]
                assert venue_orders == []
                # The market stays usable: a smaller order goes through the same child
                small = limit(node, ISO_ID, OrderSide.BUY, "0.2", "9")  # 0.396 USDC
                node.strategy.submit_order(small)
                await node.wait(lambda: small.status == OrderStatus.ACCEPTED)
                assert node.client.venue_order(small.client_order_id).subaccount_number == 128
                assert chain_usdc(sandbox, 128) == Decimal("0.396")

    run(scenario())


def test_a_long_term_order_tops_the_child_up_to_its_equity_tier_and_modifies_in_place() -> None:
    def child_orders(sandbox) -> dict[int, int]:
        return {
            key[2]: order.subticks for key, order in sandbox.node.chain.stateful.items()
            if key[0] == A and key[1] == 128
        }

    async def scenario() -> None:
        async with isolated_venue() as sandbox:
            async with trading_node(sandbox, config=ISOLATED) as node:
                instrument = node.cache.instrument(ISO_ID)
                order = node.strategy.order_factory.limit(  # GTC without tags: long-term
                    ISO_ID, OrderSide.BUY, instrument.make_qty(Decimal(1)),
                    instrument.make_price(Decimal(9)),
                )
                node.strategy.submit_order(order)
                await node.wait(lambda: order.status == OrderStatus.ACCEPTED)
                state = node.client.venue_order(order.client_order_id)
                assert (state.order_flags, state.subaccount_number) == (64, 128)
                # 1.98 USDC of margin would do, but the first stateful order needs 20 USDC
                assert chain_usdc(sandbox, 128) == 20
                await node.wait(lambda: child_orders(sandbox) == {state.client_id: 900_000_000})
                node.strategy.modify_order(order, price=instrument.make_price(Decimal("8.5")))
                await node.wait(lambda: order.price == instrument.make_price(Decimal("8.5")))
                await node.wait(lambda: child_orders(sandbox) == {state.client_id: 850_000_000})
                node.strategy.cancel_order(order)
                await node.wait(lambda: order.status == OrderStatus.CANCELED)
                await node.wait(lambda: child_orders(sandbox) == {})
                await node.wait(lambda: chain_usdc(sandbox, 128) == 0)
                assert chain_usdc(sandbox, 0) == 100_000

    run(scenario())


def test_a_transfer_whose_answer_is_lost_is_resolved_from_the_chain_never_resent() -> None:
    from tests.integration.transport.test_grpc_sender import DropAnswers

    async def scenario() -> None:
        dropper = DropAnswers()
        async with venue(
            markets=(*default_markets(), ISO, ISO2), accounts=accounts(), interceptors=[dropper],
        ) as sandbox, trading_node(sandbox, config=ISOLATED) as node:
            dropper.armed = 1  # The transfer executes, its answer is lost
            order = limit(node, ISO_ID, OrderSide.BUY, "1", "9")
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.ACCEPTED)
            assert dropper.calls == 2  # The transfer once, then the order
            assert chain_usdc(sandbox, 128) == Decimal("1.98")
            assert node.client.isolated.transfers_sent == 1

    run(scenario())


def test_a_transfer_lost_before_the_node_saw_it_denies_the_order_after_the_timeout() -> None:
    from tests.integration.execution.test_recovery import LoseBeforeExecuting

    async def scenario() -> None:
        dropper = LoseBeforeExecuting()
        async with venue(
            markets=(*default_markets(), ISO, ISO2), accounts=accounts(), interceptors=[dropper],
        ) as sandbox, trading_node(sandbox, config=ISOLATED) as node:
            dropper.armed = 1
            order = limit(node, ISO_ID, OrderSide.BUY, "1", "9")
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.DENIED, timeout=30.0)
            reason = node.kinds(order.client_order_id)[-1].reason
            assert "not included within 30 blocks" in reason and "not re-sent" in reason
            assert dropper.calls == 1  # Never sent again, and the order never sent
            assert sandbox.node.subaccount(A, 128) is None

    run(scenario())


def test_a_fixed_amount_without_return_keeps_collateral_in_the_child_for_the_next_order() -> None:
    config = dict(ISOLATED, isolated_collateral_usdc=5.0, isolated_return_collateral=False)

    async def scenario() -> None:
        async with isolated_venue() as sandbox, trading_node(sandbox, config=config) as node:
            router = node.client.isolated
            first = limit(node, ISO_ID, OrderSide.BUY, "1", "9")
            node.strategy.submit_order(first)
            await node.wait(lambda: first.status == OrderStatus.ACCEPTED)
            assert chain_usdc(sandbox, 128) == 5  # The fixed amount, not 1.98
            node.strategy.cancel_order(first)
            await node.wait(lambda: first.status == OrderStatus.CANCELED)
            # Nothing goes back; the next order finds 5 USDC free and moves nothing
            second = limit(node, ISO_ID, OrderSide.BUY, "2", "9")
            node.strategy.submit_order(second)
            await node.wait(lambda: second.status == OrderStatus.ACCEPTED)
            assert node.client.venue_order(second.client_order_id).subaccount_number == 128
            assert router.transfers_sent == 1 and router.transfers_returned == 0
            assert chain_usdc(sandbox, 128) == 5

    run(scenario())
