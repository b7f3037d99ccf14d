# SPDX-License-Identifier: Apache-2.0
"""DYDXTransactionSender against the sandbox node: sequence modes, skew, lost answers."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from nautilus_dydx.grpc import DYDXNodeClient
from nautilus_dydx.grpc import DYDXTransactionSender
from nautilus_dydx.grpc import SequenceMode
from nautilus_dydx.grpc import TxStatus
from nautilus_dydx.sandbox.node import SandboxNode
from tests.integration.sandbox.helpers import CHAIN_ID
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import make_config
from tests.integration.transport.support import PRICE
from tests.integration.transport.support import STEP
from tests.integration.transport.support import alice
from tests.integration.transport.support import alice_short_term_keys
from tests.integration.transport.support import alice_stateful_keys
from tests.integration.transport.support import btc
from tests.integration.transport.support import running_sandbox
from tests.integration.transport.support import short_term_order
from tests.integration.transport.support import stateful_order


def run(coro, timeout: float = 60.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.mark.parametrize("mode", [SequenceMode.SEQUENTIAL, SequenceMode.TIMESTAMP])
def test_200_concurrent_mixed_submissions_without_sequence_errors(mode: SequenceMode) -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            node = sandbox.node
            encoder = btc()
            async with DYDXNodeClient([sandbox.grpc_endpoint]) as rpc:
                sender = DYDXTransactionSender(rpc, alice(), CHAIN_ID, mode=mode)
                await sender.start()
                assert (sender.account_number, sender.next_sequence) == (12345, 7)
                jobs = []
                for index in range(200):
                    client_id = 1 + index
                    if index % 2:
                        jobs.append(sender.send_stateful(stateful_order(encoder, node, client_id)))
                    else:
                        jobs.append(
                            sender.send_short_term(short_term_order(encoder, node, client_id)),
                        )
                outcomes = await asyncio.gather(*jobs)
                assert [o.status for o in outcomes] == [TxStatus.ACCEPTED] * 200
                assert len({o.txhash for o in outcomes}) == 200
                node.step_blocks(1)
                assert alice_stateful_keys(node) == set(range(2, 201, 2))
                assert alice_short_term_keys(node) == set(range(1, 200, 2))
                account = await rpc.get_account(K1_ADDRESS)
                if mode == SequenceMode.SEQUENTIAL:
                    assert account.sequence == sender.next_sequence == 107
                    assert sender.resyncs == 0
                else:
                    # Timestamp nonces leave the numeric sequence alone
                    assert account.sequence == 7
                    nonces = sorted(o.sequence for o in outcomes[1::2])
                    assert len(set(nonces)) == 100 and nonces[0] >= 1 << 40

    run(scenario())


def test_forced_sequence_skew_is_resynced_and_sent_once() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            node = sandbox.node
            encoder = btc()
            async with DYDXNodeClient([sandbox.grpc_endpoint]) as rpc:
                sender = DYDXTransactionSender(rpc, alice(), CHAIN_ID)
                await sender.start()
                first = await sender.send_stateful(stateful_order(encoder, node, 1))
                assert first.status == TxStatus.ACCEPTED and first.sequence == 7
                sandbox.faults.skew_sequence(K1_ADDRESS, 3)
                second = await sender.send_stateful(stateful_order(encoder, node, 2))
                assert (second.status, second.sequence, second.attempts) == (
                    TxStatus.ACCEPTED, 11, 2,
                )
                sandbox.faults.skew_sequence(K1_ADDRESS, -2)
                third = await sender.send_stateful(stateful_order(encoder, node, 3))
                assert (third.status, third.sequence) == (TxStatus.ACCEPTED, 10)
                assert sender.resyncs == 2
                node.step_blocks(1)
                assert alice_stateful_keys(node) == {1, 2, 3}

    run(scenario())


def test_definitive_rejection_is_final_and_not_resent() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            node = sandbox.node
            encoder = btc()
            async with DYDXNodeClient([sandbox.grpc_endpoint]) as rpc:
                sender = DYDXTransactionSender(rpc, alice(), CHAIN_ID)
                await sender.start()
                # Long-term IOC: clob 3002, final
                bad = encoder.place_order_any(
                    5, LONG_TERM, 1, STEP, PRICE // 2, time_in_force=1,
                    good_til_block_time=node.block_time_ns // 1_000_000_000 + 60,
                )
                outcome = await sender.send_stateful(bad)
                assert (outcome.status, outcome.codespace, outcome.code) == (
                    TxStatus.REJECTED, "clob", 3002,
                )
                assert outcome.attempts == 1
                assert sender.next_sequence == 7  # a rejected CheckTx consumes nothing

    run(scenario())


class DropAnswers(grpc.aio.ServerInterceptor):
    """Run BroadcastTx (CheckTx happens) but lose the answer while armed."""

    def __init__(self) -> None:
        self.armed = 0
        self.calls = 0

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or "BroadcastTx" not in handler_call_details.method:
            return handler
        inner = handler.unary_unary

        async def behaviour(request, context):
            self.calls += 1
            response = await inner(request, context)
            if self.armed:
                self.armed -= 1
                await context.abort(grpc.StatusCode.UNAVAILABLE, "connection lost")
            return response

        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


@pytest.mark.parametrize("mode", [SequenceMode.SEQUENTIAL, SequenceMode.TIMESTAMP])
def test_lost_answer_is_unknown_confirmed_by_get_tx_and_not_resent(mode: SequenceMode) -> None:
    async def scenario() -> None:
        dropper = DropAnswers()
        node = SandboxNode(make_config(), interceptors=[dropper])
        await node.start()
        encoder = btc()
        try:
            async with DYDXNodeClient([node.grpc_endpoint, node.grpc_endpoint]) as rpc:
                sender = DYDXTransactionSender(rpc, alice(), CHAIN_ID, mode=mode)
                await sender.start()
                dropper.armed = 1
                lost = await sender.send_stateful(stateful_order(encoder, node, 1))
                assert lost.status == TxStatus.UNKNOWN
                assert dropper.calls == 1
                assert await sender.confirm(lost.txhash) is None  # not in a block yet
                node.step_blocks(1)
                confirmed = await sender.confirm(lost.txhash)
                assert confirmed is not None
                assert (confirmed.code, confirmed.height) == (0, node.height)
                assert alice_stateful_keys(node) == {1}
                after = await sender.send_stateful(stateful_order(encoder, node, 2))
                assert after.status == TxStatus.ACCEPTED
                assert dropper.calls == 2
                assert sender.resyncs == 0

                dropper.armed = 1
                lost_short = await sender.send_short_term(short_term_order(encoder, node, 3))
                assert lost_short.status == TxStatus.UNKNOWN
                assert dropper.calls == 3
                assert alice_short_term_keys(node) == {3}
        finally:
            await node.stop()

    run(scenario())
