# SPDX-License-Identifier: Apache-2.0
"""Order lifecycles against the sandbox: best-effort cancels, triggers, modifies, batches."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TriggerType

from nautilus_dydx import execution
from tests.integration.execution.support import BTC_PERP
from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.integration.execution.test_orders import SHORT
from tests.integration.execution.test_orders import bob_order
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import SELL


def alice_short(sandbox) -> dict:
    return {k[2]: v for k, v in sandbox.node.chain.short_orders.items() if k[0] == K1_ADDRESS}


def alice_stateful(sandbox) -> set[int]:
    return {k[2] for k in sandbox.node.chain.stateful if k[0] == K1_ADDRESS}


def record_updates(node) -> list[tuple[str, str]]:
    """Record the (venue order id, status) of each order update the client handles."""
    seen: list[tuple[str, str]] = []
    on_update = node.client._on_order_update

    def record(update):
        seen.append((update.id, update.status))
        on_update(update)

    node.client._on_order_update = record
    return seen


def answer_late(node, name: str, before_answer, before_send=None):
    """Hold the answer of the sender's next `name` broadcast until `before_answer()` is done."""
    sender = node.client.sender
    send = getattr(sender, name)

    async def late(*args, **kwargs):
        setattr(sender, name, send)
        if before_send is not None:
            await before_send(send, *args)
        outcome = await send(*args, **kwargs)
        await before_answer()
        return outcome

    setattr(sender, name, late)
    return send


def test_best_effort_canceled_order_still_fills_then_is_canceled() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.002", "60000", tags=SHORT)
            state = node.client.venue_order(order.client_order_id)
            # Another process cancels with a lower good-til-block: the order stays live
            encoder = node.client._provider.encoder(BTC_PERP, K1_ADDRESS, 0)
            weak = encoder.cancel_order_any(state.client_id, 0, sandbox.node.height + 2)
            assert (await node.client.sender.send_short_term(weak)).status.name == "ACCEPTED"
            await node.wait(lambda: state.pending_cancel)
            await bob_order(sandbox, 1, SELL, 10, 60000, tif=IOC)
            await node.wait(lambda: order.status == OrderStatus.PARTIALLY_FILLED)
            node.strategy.cancel_order(order)
            await node.wait(lambda: order.status == OrderStatus.CANCELED, timeout=15)
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderFilled",
                "OrderPendingCancel", "OrderCanceled",
            ]
            assert order.filled_qty.as_decimal() == Decimal("0.001")

    run(scenario())


def test_stop_limit_is_accepted_untriggered_then_triggered_by_the_oracle() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            instrument = node.cache.instrument(BTC_PERP)
            order = node.strategy.order_factory.stop_limit(
                BTC_PERP, OrderSide.BUY, instrument.make_qty(Decimal("0.001")),
                price=instrument.make_price(Decimal("66500")),
                trigger_price=instrument.make_price(Decimal("66000")),
                trigger_type=TriggerType.DEFAULT,
            )
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.ACCEPTED)
            assert node.client.venue_order(order.client_order_id).order_flags == 32
            sandbox.node.set_oracle_price("BTC-USD", "66200")
            await node.wait(lambda: order.status == OrderStatus.TRIGGERED)
            node.strategy.cancel_order(order)
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderTriggered",
                "OrderPendingCancel", "OrderCanceled",
            ]

    run(scenario())


def test_short_term_modify_replaces_in_place_and_fills_at_the_new_price() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "60000", tags=SHORT)
            state = node.client.venue_order(order.client_order_id)
            old_gtb = state.good_til_block
            new_price = node.cache.instrument(BTC_PERP).make_price(Decimal("61000"))
            node.strategy.modify_order(order, price=new_price)
            await node.wait(lambda: order.price == new_price)
            assert state.good_til_block > old_gtb
            await node.wait(lambda: alice_short(sandbox).get(state.client_id) is not None and
                            alice_short(sandbox)[state.client_id].subticks == 6_100_000_000)
            await bob_order(sandbox, 1, SELL, 10, 61000, tif=IOC)
            await node.wait(lambda: order.status == OrderStatus.FILLED)
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderPendingUpdate",
                "OrderUpdated", "OrderFilled",
            ]
            assert node.kinds(order.client_order_id)[-1].last_px == new_price

    run(scenario())


def test_stateful_modify_is_a_cancel_replace_in_one_transaction() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            state = node.client.venue_order(order.client_order_id)
            first = (state.client_id, order.venue_order_id)
            new_price = node.cache.instrument(BTC_PERP).make_price(Decimal("51000"))
            node.strategy.modify_order(order, price=new_price)
            await node.wait(lambda: order.price == new_price)
            assert order.venue_order_id != first[1]
            await node.wait(lambda: alice_stateful(sandbox) == {state.client_id})
            assert state.client_id != first[0]
            assert node.cache.client_order_id(first[1]) == order.client_order_id
            node.strategy.cancel_order(order)
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            await node.wait(lambda: alice_stateful(sandbox) == set())
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderPendingUpdate",
                "OrderUpdated", "OrderPendingCancel", "OrderCanceled",
            ]
            # Closed: the replaced id leaves Nautilus's index (a purge removes the last one)
            assert node.cache.client_order_id(first[1]) is None
            assert node.cache.client_order_id(order.venue_order_id) == order.client_order_id

    run(scenario())


def test_a_stateful_modify_whose_answer_comes_after_its_block_keeps_the_order_open() -> None:
    # The block holding the cancel-replace can reach the Indexer stream before the broadcast's
    # own answer reaches the client: the old id's CANCELED is the replace's, not a cancel of
    # the order, which stays open at the new price (closing it left the replacement resting)
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            state = node.client.venue_order(order.client_order_id)
            old_venue_id = order.venue_order_id.value
            old_client_id = state.client_id
            seen = record_updates(node)

            async def the_block_streamed():
                await node.wait(lambda: old_client_id not in alice_stateful(sandbox))
                await node.wait(lambda: (old_venue_id, "CANCELED") in seen)

            answer_late(node, "send_stateful", the_block_streamed)
            new_price = node.cache.instrument(BTC_PERP).make_price(Decimal("51000"))
            node.strategy.modify_order(order, price=new_price)
            await node.wait(lambda: order.price == new_price)
            assert order.status == OrderStatus.ACCEPTED
            assert alice_stateful(sandbox) == {state.client_id} != {old_client_id}
            node.strategy.cancel_order(order)
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            await node.wait(lambda: alice_stateful(sandbox) == set())
            assert node.of(order.client_order_id)[3:] == [
                "OrderPendingUpdate", "OrderUpdated", "OrderPendingCancel", "OrderCanceled",
            ]

    run(scenario())


@pytest.mark.parametrize("short_term", [False, True], ids=["stateful", "short-term"])
def test_a_replacement_filled_before_the_modifys_answer_fills_the_order_once(
    short_term: bool,
) -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            tags = {"tags": SHORT} if short_term else {}
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000", **tags)
            await bob_order(sandbox, 1, SELL, 10, 50500, gtb_ahead=20)
            sender = node.client.sender
            name = "send_short_term" if short_term else "send_stateful"

            async def filled():
                await node.wait(lambda: order.status == OrderStatus.FILLED)

            send = answer_late(node, name, filled)
            new_price = node.cache.instrument(BTC_PERP).make_price(Decimal("51000"))
            node.strategy.modify_order(order, price=new_price)
            state = node.client.venue_order(order.client_order_id)
            await node.wait(lambda: state.closed and getattr(sender, name) is send)
            await asyncio.sleep(0.5)  # Late events would show by now
            assert node.of(order.client_order_id)[3:] == ["OrderPendingUpdate", "OrderFilled"]
            fill = node.kinds(order.client_order_id)[-1]
            assert fill.last_px.as_decimal() == Decimal("50500")
            assert alice_stateful(sandbox) == set()

    run(scenario())


def test_a_stateful_modify_that_an_earlier_cancel_beats_ends_canceled() -> None:
    # The old id is canceled by a transaction ahead of the cancel-replace, which then fails
    # in its block: the removal seen before the answer is a real cancel, and nothing rests
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            old_venue_id = order.venue_order_id.value
            seen = record_updates(node)

            async def cancel_ahead(send, messages):
                cancel = await send(messages[0])
                assert cancel.status == execution.TxStatus.ACCEPTED

            async def the_cancel_streamed():
                await node.wait(lambda: (old_venue_id, "CANCELED") in seen)

            answer_late(node, "send_stateful", the_cancel_streamed, before_send=cancel_ahead)
            new_price = node.cache.instrument(BTC_PERP).make_price(Decimal("51000"))
            node.strategy.modify_order(order, price=new_price)
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            await asyncio.sleep(0.5)  # A replacement that rested would show by now
            assert alice_stateful(sandbox) == set()
            assert node.of(order.client_order_id)[3:] == [
                "OrderPendingUpdate", "OrderModifyRejected", "OrderCanceled",
            ]
            assert order.price != new_price

    run(scenario())


def test_a_replaced_orders_client_id_row_is_pruned_once_it_has_closed(monkeypatch) -> None:
    monkeypatch.setattr(execution, "_PRUNE_EVERY_SECS", 0.05)

    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            codec = node.client.codec
            monkeypatch.setattr(codec, "_grace", 0.0)  # Released rows are due at once
            rows = len(codec.store)
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            new_price = node.cache.instrument(BTC_PERP).make_price(Decimal("51000"))
            node.strategy.modify_order(order, price=new_price)
            await node.wait(lambda: order.price == new_price)
            # The replacement's ID ("<id>.r1") is not packed: it has a row in the store
            assert len(codec.store) == rows + 1
            await asyncio.sleep(0.2)
            assert len(codec.store) == rows + 1  # Live: never pruned
            node.strategy.cancel_order(order)
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            await node.wait(lambda: len(codec.store) == rows)
            sizes = codec.sizes()
            assert (sizes["pending"], sizes["session_rows"], sizes["prefixes"]) == (0, 0, 0)

    run(scenario())


def test_batch_cancel_of_150_short_term_orders() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            orders = [
                node.limit(OrderSide.BUY, "0.001", str(40000 + i), tags=SHORT)
                for i in range(150)
            ]
            for order in orders:
                node.strategy.submit_order(order)
            await node.wait(lambda: all(o.status == OrderStatus.ACCEPTED for o in orders))
            assert len(alice_short(sandbox)) == 150
            node.strategy.cancel_orders(orders)
            await node.wait(lambda: not alice_short(sandbox))
            await node.wait(lambda: all(o.status == OrderStatus.CANCELED for o in orders),
                            timeout=20)
            for order in orders:
                assert node.of(order.client_order_id)[-2:] == [
                    "OrderPendingCancel", "OrderCanceled",
                ]

    run(scenario())


def test_100_concurrent_submissions_all_accepted_with_distinct_ids() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            orders = [
                node.limit(OrderSide.SELL, "0.001", str(70000 + i), tags=SHORT)
                for i in range(100)
            ]
            for order in orders:
                node.strategy.submit_order(order)
            await node.wait(lambda: all(o.status == OrderStatus.ACCEPTED for o in orders))
            ids = {node.client.venue_order(o.client_order_id).client_id for o in orders}
            assert len(ids) == 100 and set(alice_short(sandbox)) == ids
            assert all(node.of(o.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted",
            ] for o in orders)
            metrics = node.client.metrics.percentiles()
            assert metrics["venue_ack"]["count"] == 100
            assert metrics["signed"]["p50_us"] <= metrics["broadcast"]["p50_us"]

    run(scenario())


def test_stateful_post_only_removed_by_the_venue_is_rejected_with_the_reason() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            await bob_order(sandbox, 1, SELL, 10, 64000)
            order = node.limit(OrderSide.BUY, "0.001", "64500", post_only=True)  # Long-term
            node.strategy.submit_order(order)
            await node.wait(lambda: order.status == OrderStatus.REJECTED)
            rejected = node.kinds(order.client_order_id)[-1]
            assert rejected.reason == "removed by the venue: POST_ONLY_WOULD_CROSS_MAKER_ORDER"
            assert rejected.due_post_only
            assert node.of(order.client_order_id)[-1] == "OrderRejected"
            assert not alice_stateful(sandbox)

    run(scenario())


def test_cancel_of_an_order_already_canceled_elsewhere_is_not_an_error() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000")
            channel_id = f"{K1_ADDRESS}/0"
            sandbox.faults.pause_stream("v4_subaccounts", channel_id)
            state = node.client.venue_order(order.client_order_id)
            # Another process cancels it first
            outcome = await node.client.sender.send_stateful(node.client._cancel_message(state))
            assert outcome.status.name == "ACCEPTED"
            await node.wait(lambda: not alice_stateful(sandbox))
            node.strategy.cancel_order(order)
            await node.wait(lambda: node.client.benign_cancels == 1)  # clob 3006, no error
            sandbox.faults.resume_stream("v4_subaccounts", channel_id)
            await node.wait(lambda: order.status == OrderStatus.CANCELED)
            assert node.of(order.client_order_id) == [
                "OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderPendingCancel",
                "OrderCanceled",
            ]

    run(scenario())


def test_closed_orders_are_forgotten_beyond_the_bound() -> None:
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            node.client._max_closed = 4
            orders = [node.limit(OrderSide.BUY, "0.001", str(40000 + i), tags=SHORT)
                      for i in range(10)]
            for order in orders:
                node.strategy.submit_order(order)
            await node.wait(lambda: all(o.status == OrderStatus.ACCEPTED for o in orders))
            node.strategy.cancel_orders(orders)
            await node.wait(lambda: all(o.status == OrderStatus.CANCELED for o in orders),
                            timeout=20)
            known = [o for o in orders if node.client.venue_order(o.client_order_id)]
            assert len(known) == 4  # The four closed last
            assert len(node.client._by_venue_id) == 4

    run(scenario())


@pytest.mark.parametrize("short_term", [False, True], ids=["stateful", "short-term"])
def test_a_cancel_sent_while_a_modify_is_in_flight_cancels_the_replacement(
    short_term: bool,
) -> None:
    # The cancel names the order as it was: a stateful order's old id, which the replace
    # (first in the signer's sequence) has removed when the cancel lands, so the replacement
    # must be canceled too. A short-term replace keeps its id: the cancel reaches it
    async def scenario() -> None:
        async with venue() as sandbox, trading_node(sandbox) as node:
            tags = {"tags": SHORT} if short_term else {}
            order = await node.accepted_limit(OrderSide.BUY, "0.001", "50000", **tags)
            state = node.client.venue_order(order.client_order_id)

            async def cancel_sent():  # The replace is on its way: the cancel is built meanwhile
                node.strategy.cancel_order(order)
                await node.wait(lambda: state.pending_cancel)

            answer_late(node, "send_short_term" if short_term else "send_stateful", cancel_sent)
            new_price = node.cache.instrument(BTC_PERP).make_price(Decimal("51000"))
            node.strategy.modify_order(order, price=new_price)
            await node.wait(lambda: order.status == OrderStatus.CANCELED, timeout=15.0)
            resting = (lambda: {k[2] for k in sandbox.node.chain.short_orders
                                if k[0] == K1_ADDRESS}) if short_term else (
                lambda: alice_stateful(sandbox))
            await node.wait(lambda: resting() == set(), timeout=15.0)
            assert node.of(order.client_order_id)[3:] == [
                "OrderPendingUpdate", "OrderPendingCancel", "OrderUpdated", "OrderCanceled",
            ]

    run(scenario())
