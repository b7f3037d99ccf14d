# SPDX-License-Identifier: Apache-2.0
"""DYDXNodeClient failover: endpoint death mid-session, cooldown, RESOURCE_EXHAUSTED backoff."""

from __future__ import annotations

import asyncio
import socket

import pytest

from nautilus_dydx.common.blocks import BlockTracker
from nautilus_dydx.grpc import DYDXNodeClient
from nautilus_dydx.grpc import DYDXNoEndpointError
from nautilus_dydx.grpc import DYDXTransactionSender
from nautilus_dydx.grpc import TxStatus
from nautilus_dydx.grpc.client import is_loopback
from nautilus_dydx.grpc.types import AccountInfo
from tests.integration.sandbox.helpers import CHAIN_ID
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.transport.support import running_sandbox
from tests.integration.transport.support import alice
from tests.integration.transport.support import alice_short_term_keys
from tests.integration.transport.support import alice_stateful_keys
from tests.integration.transport.support import btc
from tests.integration.transport.support import short_term_order
from tests.integration.transport.support import stateful_order


def run(coro, timeout: float = 60.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def closed_port_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


async def wait_until(condition, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_endpoint_death_mid_session_fails_over_and_keeps_going() -> None:
    async def scenario() -> None:
        async with running_sandbox() as first, running_sandbox() as second:
            first.node.step_blocks(10)
            encoder = btc()
            endpoints = [first.grpc_endpoint, second.grpc_endpoint]
            async with DYDXNodeClient(endpoints, dead_cooldown_secs=60.0) as rpc:
                sender = DYDXTransactionSender(rpc, alice(), CHAIN_ID)
                await sender.start()
                assert (await rpc.get_latest_block()).height == first.node.height
                placed = await sender.send_stateful(stateful_order(encoder, first.node, 1))
                assert placed.status == TxStatus.ACCEPTED
                short = await sender.send_short_term(short_term_order(encoder, first.node, 2))
                assert short.status == TxStatus.ACCEPTED

                await first.stop()

                # Queries fail over at once; the dead endpoint is skipped afterwards
                assert (await rpc.get_latest_block()).height == second.node.height
                assert rpc.current_endpoint == second.grpc_endpoint
                after = await sender.send_short_term(short_term_order(encoder, second.node, 3))
                assert after.status == TxStatus.ACCEPTED
                assert alice_short_term_keys(second.node) == {3}
                # The second node never saw the first stateful tx: resynced from its log
                moved = await sender.send_stateful(stateful_order(encoder, second.node, 4))
                assert (moved.status, moved.sequence, moved.attempts) == (TxStatus.ACCEPTED, 7, 2)
                second.node.step_blocks(1)
                assert alice_stateful_keys(second.node) == {4}

    run(scenario())


def test_broadcast_fails_over_only_while_nothing_was_sent() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            encoder = btc()
            endpoints = [closed_port_endpoint(), sandbox.grpc_endpoint]
            async with DYDXNodeClient(endpoints, connect_timeout_secs=0.5) as rpc:
                sender = DYDXTransactionSender(rpc, alice(), CHAIN_ID)
                await sender.start()
                outcome = await sender.send_short_term(short_term_order(encoder, sandbox.node, 1))
                assert outcome.status == TxStatus.ACCEPTED
                assert alice_short_term_keys(sandbox.node) == {1}

            async with DYDXNodeClient(
                [closed_port_endpoint()], connect_timeout_secs=0.2, timeout_secs=0.5,
            ) as dead:
                with pytest.raises(DYDXNoEndpointError):
                    await dead.get_latest_block()
                sender = DYDXTransactionSender(dead, alice(), CHAIN_ID)
                await sender.start(AccountInfo(K1_ADDRESS, 12345, 7, True))
                outcome = await sender.send_short_term(short_term_order(encoder, sandbox.node, 2))
                # Never sent anywhere: a definitive failure, safe to retry by the caller
                assert (outcome.status, outcome.codespace) == (TxStatus.REJECTED, "grpc")

    run(scenario())


@pytest.mark.parametrize("code", ["UNAVAILABLE", "DEADLINE_EXCEEDED"])
def test_dead_endpoint_is_retried_after_its_cooldown(code: str) -> None:
    async def scenario() -> None:
        async with running_sandbox() as first, running_sandbox() as second:
            first.node.step_blocks(10)
            endpoints = [first.grpc_endpoint, second.grpc_endpoint]
            async with DYDXNodeClient(endpoints, dead_cooldown_secs=0.2) as rpc:
                first.faults.grpc_error(code, count=1, method="GetLatestBlock")
                assert (await rpc.get_latest_block()).height == second.node.height
                assert rpc.current_endpoint == second.grpc_endpoint
                await wait_until(lambda: rpc.current_endpoint == first.grpc_endpoint)
                assert (await rpc.get_latest_block()).height == first.node.height
                assert first.faults.counters["grpc_error"] == 1

    run(scenario())


def test_resource_exhausted_backs_off_and_sends_once() -> None:
    async def scenario() -> None:
        async with running_sandbox() as sandbox:
            encoder = btc()
            async with DYDXNodeClient(
                [sandbox.grpc_endpoint], retry_delay_initial_ms=1, retry_delay_max_ms=20,
                broadcast_rate_per_min=250,
            ) as rpc:
                sender = DYDXTransactionSender(rpc, alice(), CHAIN_ID)
                await sender.start()
                sandbox.faults.grpc_error("RESOURCE_EXHAUSTED", count=2, method="BroadcastTx")
                outcome = await sender.send_stateful(stateful_order(encoder, sandbox.node, 1))
                assert outcome.status == TxStatus.ACCEPTED
                assert sandbox.faults.counters["grpc_error"] == 2
                # One broadcast budget token per submission, not per re-send
                assert 248 <= rpc.broadcast_bucket.tokens < 250
                sandbox.faults.grpc_error("RESOURCE_EXHAUSTED", count=2, method="Account")
                account = await rpc.get_account(K1_ADDRESS)
                assert account.sequence == 7  # committed state; the tx is still pending
                sandbox.node.step_blocks(1)
                assert alice_stateful_keys(sandbox.node) == {1}
                assert (await rpc.get_account(K1_ADDRESS)).sequence == 8

    run(scenario())


@pytest.mark.parametrize(
    ("endpoint", "loopback"),
    [("127.0.0.1:9090", True), ("[::1]:9090", True), ("localhost:1", True),
     ("oegs.dydx.trade:443", False), ("10.0.0.1:9090", False)],
)
def test_loopback_detection_picks_plaintext(endpoint: str, loopback: bool) -> None:
    assert is_loopback(endpoint) is loopback


def test_block_tracker_polls_the_node_and_reports_a_stalled_chain() -> None:
    async def scenario() -> None:
        async with running_sandbox(auto_blocks=True, block_time_ms=20) as sandbox:
            tracker = BlockTracker(stale_after_secs=0.3)
            reports: list[float] = []
            async with DYDXNodeClient([sandbox.grpc_endpoint]) as rpc:
                task = asyncio.get_running_loop().create_task(
                    tracker.poll(rpc, interval_secs=0.02, on_stale=reports.append),
                )
                try:
                    await wait_until(lambda: tracker.height >= 5)
                    assert tracker.block_time_secs == pytest.approx(0.02)
                    assert not tracker.is_stale
                    sandbox.faults.stall_blocks(True)
                    await wait_until(lambda: len(reports) == 1)
                    assert reports[0] > 0.3
                    sandbox.faults.stall_blocks(False)
                    await wait_until(lambda: not tracker.is_stale)
                    assert len(reports) == 1
                finally:
                    task.cancel()

    run(scenario())
