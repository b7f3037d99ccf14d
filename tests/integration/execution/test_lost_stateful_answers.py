# SPDX-License-Identifier: Apache-2.0
"""Stateful transactions whose broadcast answer is lost: a modify applied only if it ran, no
rejection while the chain cannot be asked."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus

from tests.integration.execution.support import BTC_PERP
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_lifecycle import alice_stateful
from tests.integration.execution.test_recovery import LoseBeforeExecuting
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.transport.test_grpc_sender import DropAnswers


def _resting_subticks(sandbox) -> set[int]:
    chain = sandbox.node.chain
    return {o.subticks for k, o in chain.stateful.items() if k[0] == K1_ADDRESS}


def test_a_modify_that_ran_but_lost_its_answer_is_applied_once() -> None:
    async def scenario() -> None:
        dropper = DropAnswers()
        async with venue(interceptors=[dropper]) as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            first_id = order.venue_order_id
            new_price = node.cache.instrument(BTC_PERP).make_price(Decimal("49990"))
            dropper.armed = 1
            node.strategy.modify_order(order, price=new_price)
            await node.wait(lambda: order.price == new_price)
            state = node.client.venue_order(order.client_order_id)
            assert order.venue_order_id != first_id
            assert order.venue_order_id.value == state.venue_order_id
            await node.wait(lambda: alice_stateful(sandbox) == {state.client_id})
            assert _resting_subticks(sandbox) == {4_999_000_000}
            assert dropper.calls == 2  # Resolved from the chain, never re-sent
            node.strategy.cancel_order(order)
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            await node.wait(lambda: alice_stateful(sandbox) == set())

    run(scenario())


def test_a_modify_that_never_ran_is_rejected_and_the_original_order_stands() -> None:
    async def scenario() -> None:
        dropper = LoseBeforeExecuting()
        async with venue(interceptors=[dropper]) as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            original = node.client.venue_order(order.client_order_id).client_id
            first_id, first_price = order.venue_order_id, order.price
            dropper.armed = 1
            node.strategy.modify_order(
                order, price=node.cache.instrument(BTC_PERP).make_price(Decimal("49990")),
            )
            await node.wait(
                lambda: "OrderModifyRejected" in node.of(order.client_order_id), timeout=20.0,
            )
            # Nothing changed on the venue, nor in Nautilus
            assert order.status == OrderStatus.ACCEPTED
            assert (order.venue_order_id, order.price) == (first_id, first_price)
            assert alice_stateful(sandbox) == {original}
            assert _resting_subticks(sandbox) == {5_000_000_000}
            assert "OrderUpdated" not in node.of(order.client_order_id)
            node.strategy.cancel_order(order)
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            await node.wait(lambda: alice_stateful(sandbox) == set())

    run(scenario())


def test_a_cancel_sent_while_a_lost_modify_is_resolved_cancels_the_original() -> None:
    async def scenario() -> None:
        dropper = LoseBeforeExecuting()
        async with venue(interceptors=[dropper]) as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            dropper.armed = 1
            node.strategy.modify_order(
                order, price=node.cache.instrument(BTC_PERP).make_price(Decimal("49990")),
            )
            await node.wait(lambda: order.status == OrderStatus.PENDING_UPDATE)
            await node.wait(lambda: dropper.calls >= 2)  # The modify went out (and was lost)
            node.strategy.cancel_order(order)
            await node.wait(lambda: order.status == OrderStatus.CANCELED, timeout=20.0)
            await node.wait(lambda: alice_stateful(sandbox) == set())
            assert "OrderUpdated" not in node.of(order.client_order_id)

    run(scenario())


def test_a_second_modify_while_the_first_is_unresolved_is_rejected() -> None:
    async def scenario() -> None:
        dropper = LoseBeforeExecuting()
        async with venue(interceptors=[dropper]) as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            first_id = order.venue_order_id
            instrument = node.cache.instrument(BTC_PERP)
            dropper.armed = 1
            node.strategy.modify_order(order, price=instrument.make_price(Decimal("49990")))
            await node.wait(lambda: dropper.calls >= 2)  # The first modify went out (lost)
            node.strategy.modify_order(order, price=instrument.make_price(Decimal("49980")))
            await node.wait(
                lambda: node.of(order.client_order_id).count("OrderModifyRejected") == 2,
                timeout=20.0,
            )
            reasons = [e.reason for e in node.kinds(order.client_order_id)
                       if type(e).__name__ == "OrderModifyRejected"]
            assert "still unknown" in reasons[0] and "no block holds" in reasons[1]
            assert order.status == OrderStatus.ACCEPTED
            assert order.venue_order_id == first_id
            assert _resting_subticks(sandbox) == {5_000_000_000}
            node.strategy.cancel_order(order)
            await node.wait(lambda: order.status == OrderStatus.CANCELED)

    run(scenario())


def test_a_lost_answer_is_not_rejected_while_gettx_fails() -> None:
    async def scenario() -> None:
        dropper = DropAnswers()
        async with venue(interceptors=[dropper]) as sandbox, trading_node(sandbox) as node:
            # The order executes but its answer is lost, the stream is held and GetTx fails:
            # nothing proves it absent, so it must not be rejected as "never reached"
            sandbox.faults.pause_stream("v4_subaccounts")
            sandbox.faults.grpc_error("INTERNAL", method="GetTx")
            dropper.armed = 1
            order = node.limit(OrderSide.BUY, "0.001", "50000")
            node.strategy.submit_order(order)
            await node.wait(lambda: dropper.calls == 1)
            state = node.client.venue_order(order.client_order_id)
            await node.wait(lambda: alice_stateful(sandbox) == {state.client_id})
            start = sandbox.node.height
            timeout_blocks = node.client._unknown_timeout_blocks
            await node.wait(lambda: sandbox.node.height > start + timeout_blocks + 10, 30.0)
            assert order.status == OrderStatus.SUBMITTED
            sandbox.faults.grpc_error("")
            sandbox.faults.resume_stream("v4_subaccounts")
            await node.wait(lambda: order.status == OrderStatus.ACCEPTED)
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted",
            ]

    run(scenario())


def test_a_stateful_cancel_that_never_ran_is_sent_again_and_the_order_ends_canceled() -> None:
    async def scenario() -> None:
        dropper = LoseBeforeExecuting()
        async with venue(interceptors=[dropper]) as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            dropper.armed = 1  # The cancel's broadcast fails before the node sees it
            node.strategy.cancel_order(order)
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            await node.wait(lambda: alice_stateful(sandbox) == set())
            # The place, the lost cancel, the cancel sent again (the sender re-signs it if the
            # lost one left its sequence behind)
            assert dropper.calls >= 3
            assert node.of(order.client_order_id)[-2:] == ["OrderPendingCancel", "OrderCanceled"]

    run(scenario())


def test_a_cancel_all_whose_stateful_chunk_never_ran_is_sent_again() -> None:
    async def scenario() -> None:
        dropper = LoseBeforeExecuting()
        async with venue(interceptors=[dropper]) as sandbox, trading_node(sandbox) as node:
            orders = [node.limit(OrderSide.BUY, "0.001", p) for p in ("50000", "49990")]
            for order in orders:
                node.strategy.submit_order(order)
            await node.wait(lambda: all(o.status == OrderStatus.ACCEPTED for o in orders))
            await node.wait(lambda: len(alice_stateful(sandbox)) == 2)
            calls = dropper.calls
            dropper.armed = 1  # The chunk's broadcast fails before the node sees it
            node.strategy.cancel_all_orders(BTC_PERP)
            await node.wait(lambda: all(o.status == OrderStatus.CANCELED for o in orders),
                            timeout=20.0)
            await node.wait(lambda: alice_stateful(sandbox) == set())
            assert dropper.calls >= calls + 2  # The lost chunk, and the chunk sent again
            for order in orders:
                events = node.of(order.client_order_id)
                assert events[-1] == "OrderCanceled" and "OrderCancelRejected" not in events

    run(scenario())
