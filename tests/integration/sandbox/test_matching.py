# SPDX-License-Identifier: Apache-2.0
"""Matching engine behaviour per order kind and time in force, observed through events."""

from __future__ import annotations

import asyncio

from nautilus_dydx.sandbox import AccountConfig
from nautilus_dydx.sandbox import FillEvent
from nautilus_dydx.sandbox import OrderPlacedEvent
from nautilus_dydx.sandbox import OrderRemovedEvent
from nautilus_dydx.sandbox import OrderUpdatedEvent
from nautilus_dydx.sandbox import PositionEvent
from nautilus_dydx.sandbox import SandboxNode
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import CONDITIONAL
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_PRIVATE_KEY
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import K2_PRIVATE_KEY
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import POST_ONLY
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import Client
from tests.integration.sandbox.helpers import block_seconds
from tests.integration.sandbox.helpers import cancel
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.helpers import running_node


A = K1_ADDRESS
B = K2_ADDRESS
Q = 1_000_000
P = 6_500_000_000
TICK = 100_000
USDC = 100_000_000_000


def config(**overrides):
    values = dict(
        accounts=(
            AccountConfig(private_key=K1_PRIVATE_KEY, account_number=12345, sequence=7),
            AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2,
                          subaccounts={0: USDC, 1: USDC}),
        ),
    )
    values.update(overrides)
    return make_config(**values)


def of(node: SandboxNode, kind: type) -> list:
    return [e for e in node.bus.history if isinstance(e, kind)]


async def ok(client: Client, tx: bytes) -> str:
    response = await client.broadcast(tx)
    assert response.code == 0, f"{response.codespace} {response.code} {response.raw_log}"
    return response.txhash


def run(scenario) -> None:
    async def wrapped() -> None:
        async with running_node(config()) as (node, client):
            await scenario(node, client)

    asyncio.run(wrapped())


def test_price_time_priority_ioc_remainder_and_fees() -> None:
    async def scenario(node: SandboxNode, client: Client) -> None:
        gtb = node.height + 10
        await ok(client, BOB.sign_tx([place(B, 1, SELL, Q, P + TICK, gtb=gtb)]))
        await ok(client, BOB.sign_tx([place(B, 2, SELL, Q, P, gtb=gtb, number=1)]))
        await ok(client, BOB.sign_tx([place(B, 3, SELL, Q, P, gtb=gtb)]))
        taker_hash = await ok(client, ALICE.sign_tx([place(A, 9, BUY, 4 * Q, P + TICK, gtb=gtb,
                                                           tif=IOC)]))
        # Matched at once in the node's memory; the results are delivered with the next block
        assert of(node, FillEvent) == []
        assert node.chain.markets[0].book.levels(SELL) == []
        committed = node.step_blocks(1)
        fills = of(node, FillEvent)
        assert [(f.maker.client_id, f.maker.subaccount_number, f.subticks) for f in fills] == [
            (2, 1, P), (3, 0, P), (1, 0, P + TICK),
        ]
        assert all(f.taker.client_id == 9 and f.tx_hash == taker_hash for f in fills)
        assert len({f.event_id for f in fills}) == 3
        assert {(f.height, f.time_ns) for f in fills} == {(committed, node.block_time_ns)}
        # 0.0001 BTC at 65 000 USD = 6.5 USDC; taker 500 ppm, maker 100 ppm
        assert fills[0].quote_quantums == 6_500_000
        assert (fills[0].taker_fee, fills[0].maker_fee) == (3_250, 650)
        removed = of(node, OrderRemovedEvent)[-1]
        assert removed.order.client_id == 9
        ioc_reason = "ORDER_REMOVAL_REASON_IMMEDIATE_OR_CANCEL_WOULD_REST_ON_BOOK"
        assert removed.removal_reason == ioc_reason
        assert removed.order.total_filled == 3 * Q
        sub = node.chain.subaccounts[(A, 0)]
        quote = 6_500_000 * 2 + 6_500_100
        assert sub.usdc == USDC - quote - (3_250 * 2 + 3_250)
        assert sub.positions[0].size == 3 * Q
        assert sub.positions[0].entry_quote == quote
        filled_makers = [e.order.client_id for e in of(node, OrderRemovedEvent)
                         if e.removal_reason == "ORDER_REMOVAL_REASON_FULLY_FILLED"]
        assert filled_makers == [2, 3, 1]

    run(scenario)


def test_partial_fill_rests_remainder_and_position_pnl() -> None:
    async def scenario(node: SandboxNode, client: Client) -> None:
        gtb = node.height + 10
        await ok(client, BOB.sign_tx([place(B, 1, SELL, Q, P, gtb=gtb)]))
        await ok(client, ALICE.sign_tx([place(A, 1, BUY, 3 * Q, P, gtb=gtb)]))
        book = node.chain.markets[0].book
        assert book.levels(BUY) == [(P, 2 * Q)]
        assert book.levels(SELL) == []
        assert of(node, OrderUpdatedEvent) == []
        node.step_blocks(1)
        updated = of(node, OrderUpdatedEvent)[-1]
        assert (updated.order.client_id, updated.order.total_filled) == (1, Q)
        # BEST_EFFORT_OPENED until matched in a block, then OPEN (protocol reference 2.11)
        assert updated.order.status == "OPEN"
        # Alice closes at a higher price: realized PnL = 0.0001 * (66 000 - 65 000) = 0.1 USDC
        await ok(client, BOB.sign_tx([place(B, 2, BUY, Q, P + 10_000 * TICK * 10 // 100, gtb=gtb,
                                            number=1)]))
        await ok(client, ALICE.sign_tx([place(A, 2, SELL, Q, P + 10_000 * TICK * 10 // 100,
                                              gtb=gtb, tif=IOC, reduce_only=True)]))
        node.step_blocks(1)
        positions = [e for e in of(node, PositionEvent) if e.owner == A]
        assert positions[-1].size == 0
        assert positions[-1].status == "CLOSED"
        assert positions[-1].realized_pnl == 100_000
        assert positions[-1].sum_close == Q

    run(scenario)


def test_self_trade_removes_maker_and_taker_rests() -> None:
    async def scenario(node: SandboxNode, client: Client) -> None:
        gtb = node.height + 10
        await ok(client, ALICE.sign_tx([place(A, 1, SELL, Q, P, gtb=gtb)]))
        await ok(client, ALICE.sign_tx([place(A, 2, BUY, Q, P, gtb=gtb)]))
        node.step_blocks(1)
        removed = of(node, OrderRemovedEvent)
        assert [(e.order.client_id, e.removal_reason) for e in removed] == [
            (1, "ORDER_REMOVAL_REASON_SELF_TRADE_ERROR"),
        ]
        assert of(node, FillEvent) == []
        assert node.chain.markets[0].book.levels(BUY) == [(P, Q)]

    run(scenario)


def test_short_term_expires_by_block_and_cancel_is_best_effort() -> None:
    async def scenario(node: SandboxNode, client: Client) -> None:
        h = node.height
        await ok(client, ALICE.sign_tx([place(A, 1, BUY, Q, P - TICK, gtb=h + 2)]))
        await ok(client, ALICE.sign_tx([place(A, 2, BUY, Q, P - TICK, gtb=h + 8)]))
        # A cancel with a lower GTB than the order's is recorded but leaves the order live
        await ok(client, ALICE.sign_tx([cancel(A, 2, gtb=h + 3)]))
        best_effort = of(node, OrderRemovedEvent)[-1]
        assert (best_effort.removed, best_effort.order.status) == (False, "BEST_EFFORT_CANCELED")
        node.step_blocks(1)
        assert len(node.chain.short_orders) == 2
        node.step_blocks(1)
        expired = of(node, OrderRemovedEvent)[-1]
        assert (expired.order.client_id, expired.removal_reason, expired.height) == (
            1, "ORDER_REMOVAL_REASON_EXPIRED", h + 2,
        )
        await ok(client, ALICE.sign_tx([cancel(A, 2, gtb=h + 8)]))
        removed = of(node, OrderRemovedEvent)[-1]
        assert (removed.order.client_id, removed.removal_reason, removed.removed) == (
            2, "ORDER_REMOVAL_REASON_USER_CANCELED", True,
        )
        assert node.chain.markets[0].book.count == 0

    run(scenario)


def test_replacement_carries_filled_amount() -> None:
    async def scenario(node: SandboxNode, client: Client) -> None:
        gtb = node.height + 5
        await ok(client, ALICE.sign_tx([place(A, 1, BUY, 3 * Q, P, gtb=gtb)]))
        await ok(client, BOB.sign_tx([place(B, 1, SELL, Q, P, gtb=gtb, tif=IOC)]))
        await ok(client, ALICE.sign_tx([place(A, 1, BUY, 2 * Q, P - TICK, gtb=gtb + 1)]))
        removed = of(node, OrderRemovedEvent)[-1]
        assert removed.removal_reason == "ORDER_REMOVAL_REASON_REPLACED"
        placed = of(node, OrderPlacedEvent)[-1]
        assert placed.replaced
        assert (placed.order.quantums, placed.order.total_filled) == (2 * Q, Q)
        assert node.chain.markets[0].book.levels(BUY) == [(P - TICK, Q)]

    run(scenario)


def test_post_only_short_term_rests_when_not_crossing() -> None:
    async def scenario(node: SandboxNode, client: Client) -> None:
        gtb = node.height + 5
        await ok(client, BOB.sign_tx([place(B, 1, SELL, Q, P, gtb=gtb)]))
        await ok(client, ALICE.sign_tx([place(A, 1, BUY, Q, P - TICK, gtb=gtb, tif=POST_ONLY)]))
        assert node.chain.markets[0].book.levels(BUY) == [(P - TICK, Q)]

    run(scenario)


def test_long_term_order_lifecycle_and_post_only_removal() -> None:
    async def scenario(node: SandboxNode, client: Client) -> None:
        gtb = node.height + 10
        t = block_seconds(node)
        await ok(client, BOB.sign_tx([place(B, 1, SELL, 2 * Q, P, gtb=gtb)]))
        await ok(client, ALICE.sign_tx(
            [place(A, 1, BUY, Q, P, gtbt=t + 60, flags=LONG_TERM),
             place(A, 2, BUY, Q, P, gtbt=t + 60, flags=LONG_TERM, tif=POST_ONLY),
             place(A, 3, BUY, Q, P - TICK, gtbt=t + 1, flags=LONG_TERM)],
            sequence=7,
        ))
        assert of(node, FillEvent) == []
        node.step_blocks(1)
        placed = [e.order for e in of(node, OrderPlacedEvent) if e.order.order_flags == LONG_TERM]
        assert [(o.client_id, o.status, o.created_at_height) for o in placed] == [
            (1, "OPEN", 2), (2, "OPEN", 2), (3, "OPEN", 2),
        ]
        # Included in block 2, on the book from block 3: matched after 2, fills in 3
        assert of(node, FillEvent) == []
        node.step_blocks(1)
        fill = of(node, FillEvent)[-1]
        assert fill.height == 3
        assert (fill.taker.client_id, fill.maker.client_id, fill.quantums) == (1, 1, Q)
        removed = {e.order.client_id: e.removal_reason for e in of(node, OrderRemovedEvent)
                   if e.order.owner == A}
        assert removed == {
            1: "ORDER_REMOVAL_REASON_FULLY_FILLED",
            2: "ORDER_REMOVAL_REASON_POST_ONLY_WOULD_CROSS_MAKER_ORDER",
        }
        assert node.chain.markets[0].book.levels(BUY) == [(P - TICK, Q)]
        # GTBT = t + 1 s: expired by block time after 10 blocks of 100 ms
        node.step_blocks(8)
        expired = of(node, OrderRemovedEvent)[-1]
        assert (expired.order.client_id, expired.removal_reason, expired.height) == (
            3, "ORDER_REMOVAL_REASON_EXPIRED", 11,
        )
        assert node.chain.markets[0].book.levels(BUY) == []

    run(scenario)


def test_stateful_cancel_removes_at_next_block() -> None:
    async def scenario(node: SandboxNode, client: Client) -> None:
        t = block_seconds(node)
        await ok(client, ALICE.sign_tx([place(A, 1, BUY, Q, P - 100 * TICK, gtbt=t + 60,
                                              flags=LONG_TERM)], sequence=7))
        node.step_blocks(1)
        await ok(client, ALICE.sign_tx([cancel(A, 1, gtbt=t + 120, flags=LONG_TERM)], sequence=8))
        assert node.chain.markets[0].book.count == 1
        node.step_blocks(1)
        removed = of(node, OrderRemovedEvent)[-1]
        assert (removed.removal_reason, removed.order.status) == (
            "ORDER_REMOVAL_REASON_USER_CANCELED", "CANCELED",
        )
        assert node.chain.markets[0].book.count == 0

    run(scenario)


def test_conditional_stop_loss_and_take_profit_trigger_by_oracle() -> None:
    async def scenario(node: SandboxNode, client: Client) -> None:
        t = block_seconds(node)
        await ok(client, BOB.sign_tx([place(B, 1, BUY, Q, 6_000_000_000, gtbt=t + 600,
                                            flags=LONG_TERM)], sequence=0))
        await ok(client, ALICE.sign_tx([
            place(A, 1, SELL, Q, 6_000_000_000, gtbt=t + 600, flags=CONDITIONAL,
                  condition_type=1, trigger=6_100_000_000),
            place(A, 2, BUY, Q, 5_900_000_000, gtbt=t + 600, flags=CONDITIONAL,
                  condition_type=2, trigger=5_900_000_000, tif=IOC),
        ], sequence=7))
        node.step_blocks(1)
        statuses = {e.order.client_id: e.order.status for e in of(node, OrderPlacedEvent)
                    if e.order.order_flags == CONDITIONAL}
        assert statuses == {1: "UNTRIGGERED", 2: "UNTRIGGERED"}
        node.step_blocks(2)
        assert of(node, FillEvent) == []
        node.set_oracle_price("BTC-USD", "60999")
        # Triggered in the EndBlocker of block N, placed (and matched) in block N + 1
        triggered_at = node.step_blocks(1)
        triggered = [e for e in of(node, OrderUpdatedEvent) if e.reason == "TRIGGERED"]
        assert [(e.order.client_id, e.height, e.order.status) for e in triggered] == [
            (1, triggered_at, "OPEN"),
        ]
        assert of(node, FillEvent) == []
        node.step_blocks(1)
        fill = of(node, FillEvent)[-1]
        assert (fill.taker.client_id, fill.maker.owner, fill.subticks) == (1, B, 6_000_000_000)
        assert fill.height == triggered_at + 1
        # Take-profit buy triggers at or below 59 000; IOC with nothing to match is removed
        node.set_oracle_price("BTC-USD", "59000")
        node.step_blocks(2)
        removed = of(node, OrderRemovedEvent)[-1]
        assert (removed.order.client_id, removed.removal_reason) == (
            2, "ORDER_REMOVAL_REASON_IMMEDIATE_OR_CANCEL_WOULD_REST_ON_BOOK",
        )

    run(scenario)


def test_reduce_only_is_resized_to_the_position() -> None:
    async def scenario(node: SandboxNode, client: Client) -> None:
        gtb = node.height + 10
        await ok(client, BOB.sign_tx([place(B, 1, SELL, Q, P, gtb=gtb)]))
        await ok(client, ALICE.sign_tx([place(A, 1, BUY, Q, P, gtb=gtb, tif=IOC)]))
        await ok(client, BOB.sign_tx([place(B, 2, BUY, 5 * Q, P, gtb=gtb, number=1)]))
        await ok(client, ALICE.sign_tx([place(A, 2, SELL, 5 * Q, P, gtb=gtb, tif=IOC,
                                              reduce_only=True)]))
        node.step_blocks(1)
        fill = of(node, FillEvent)[-1]
        assert (fill.taker.client_id, fill.quantums) == (2, Q)
        removed = of(node, OrderRemovedEvent)[-1]
        assert (removed.order.client_id, removed.removal_reason) == (
            2, "ORDER_REMOVAL_REASON_REDUCE_ONLY_RESIZE",
        )
        assert node.chain.subaccounts[(A, 0)].positions[0].size == 0

    run(scenario)


def test_undercollateralized_short_term_is_accepted_then_dropped() -> None:
    async def scenario() -> None:
        cfg = config(accounts=(
            AccountConfig(private_key=K1_PRIVATE_KEY, account_number=12345,
                          subaccounts={0: 1_000_000}),
            AccountConfig(private_key=K2_PRIVATE_KEY, account_number=2),
        ))
        async with running_node(cfg) as (node, client):
            gtb = node.height + 10
            await ok(client, BOB.sign_tx([place(B, 1, SELL, 100 * Q, P, gtb=gtb)]))
            await ok(client, ALICE.sign_tx([place(A, 1, BUY, 100 * Q, P, gtb=gtb)]))
            node.step_blocks(1)
            removed = of(node, OrderRemovedEvent)[-1]
            assert (removed.order.client_id, removed.removal_reason) == (
                1, "ORDER_REMOVAL_REASON_UNDERCOLLATERALIZED",
            )
            assert of(node, FillEvent) == []

    asyncio.run(scenario())


def test_long_term_order_past_its_expiry_at_inclusion_never_rests() -> None:
    async def scenario(node: SandboxNode, client: Client) -> None:
        # Blocks of 100 ms from a whole second: the 10th block's time reaches the next second
        node.step_blocks(9)
        t = block_seconds(node)
        await ok(client, BOB.sign_tx([place(B, 1, SELL, Q, P, gtb=node.height + 5)]))
        await ok(client, ALICE.sign_tx([place(A, 1, BUY, Q, P, gtbt=t + 1, flags=LONG_TERM)],
                                       sequence=7))
        included = node.step_blocks(1)
        assert block_seconds(node) == t + 1
        removed = of(node, OrderRemovedEvent)[-1]
        assert (removed.order.client_id, removed.removal_reason, removed.height) == (
            1, "ORDER_REMOVAL_REASON_EXPIRED", included,
        )
        node.step_blocks(1)
        assert of(node, FillEvent) == []
        assert node.chain.markets[0].book.levels(BUY) == []

    run(scenario)
