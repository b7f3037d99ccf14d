# SPDX-License-Identifier: Apache-2.0
"""Place-order latency over loopback gRPC: DYDXTransactionSender beside bare grpcio calls."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time

import grpc
import pytest

from nautilus_dydx._core.orders import MarketEncoder
from nautilus_dydx._proto.cosmos.tx.v1beta1 import service_pb2
from nautilus_dydx._proto.cosmos.tx.v1beta1 import service_pb2_grpc
from nautilus_dydx.grpc import DYDXNodeClient
from nautilus_dydx.grpc import DYDXTransactionSender
from nautilus_dydx.grpc import TxStatus
from nautilus_dydx.sandbox import AccountConfig
from nautilus_dydx.sandbox import SandboxConfig
from nautilus_dydx.sandbox import SandboxNode
from nautilus_dydx.wallet import Wallet


PRIVATE_KEY = "0a7ff605269ed00853a425beda719da038a11792f6dddf31c087b2988b4dc8fe"
ADDRESS = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
CHAIN_ID = "dydx-bench-1"
ROUNDS = 400


class Rig:
    """A sandbox node, the adapter's sender and a bare stub on one event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        # Current for grpc.aio even after an earlier module's `asyncio.run` cleared the policy's
        asyncio.set_event_loop(self.loop)
        config = SandboxConfig(
            chain_id=CHAIN_ID,
            auto_blocks=False,
            accounts=(AccountConfig(private_key=PRIVATE_KEY, account_number=3),),
            short_term_rate_limits=((1, 10**9),),
        )
        self.node = SandboxNode(config, record_events=False)
        self.loop.run_until_complete(self.node.start())
        self.rpc = DYDXNodeClient([self.node.grpc_endpoint])
        self.sender = DYDXTransactionSender(
            self.rpc, Wallet.from_private_key(PRIVATE_KEY), CHAIN_ID,
        )
        self.loop.run_until_complete(self.sender.start())
        self.signer = Wallet.from_private_key(PRIVATE_KEY).signer(CHAIN_ID, 3)
        self.channel = self.loop.run_until_complete(self._open_channel())
        self.stub = service_pb2_grpc.ServiceStub(self.channel)
        self.encoder = MarketEncoder(ADDRESS, 0, 0, -10, -9, 1_000_000, 100_000)
        self.client_ids = itertools.count(1)
        self.gtb = self.node.height + 20

    async def _open_channel(self) -> grpc.aio.Channel:
        return grpc.aio.insecure_channel(self.node.grpc_endpoint)

    def order(self) -> bytes:
        # A short-term IOC buy far below the market: CheckTx runs in full, nothing rests
        return self.encoder.place_order_any(
            next(self.client_ids), 0, 1, 1_000_000, 100_000, good_til_block=self.gtb,
            time_in_force=1,
        )

    def close(self) -> None:
        self.loop.run_until_complete(self.channel.close())
        self.loop.run_until_complete(self.rpc.close())
        self.loop.run_until_complete(self.node.stop())
        self.loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture(scope="module")
def rig():
    rig = Rig()
    yield rig
    rig.close()


def test_perf_place_order_via_sender(benchmark, rig: Rig) -> None:
    # Sign + BroadcastTx (SYNC) + typed outcome through DYDXNodeClient
    run = rig.loop.run_until_complete
    send = rig.sender.send_short_term

    outcome = benchmark.pedantic(
        lambda message: run(send(message)),
        setup=lambda: ((rig.order(),), {}),
        rounds=ROUNDS,
        warmup_rounds=20,
    )

    assert outcome.status == TxStatus.ACCEPTED


def test_perf_place_order_bare_grpcio_with_signing(benchmark, rig: Rig) -> None:
    # The same signing, then a bare generated-stub unary call (the floor for the sender)
    run = rig.loop.run_until_complete
    broadcast = rig.stub.BroadcastTx
    sign = rig.signer.sign_tx
    request_type = service_pb2.BroadcastTxRequest

    def place(message: bytes):
        return run(broadcast(request_type(tx_bytes=sign(message, 0), mode=2)))

    response = benchmark.pedantic(
        place, setup=lambda: ((rig.order(),), {}), rounds=ROUNDS, warmup_rounds=20,
    )

    assert response.tx_response.code == 0


def test_perf_bare_grpcio_unary_broadcast_presigned(benchmark, rig: Rig) -> None:
    # A bare grpcio unary BroadcastTx of an already signed tx (no signing in the timing)
    run = rig.loop.run_until_complete
    broadcast = rig.stub.BroadcastTx
    request_type = service_pb2.BroadcastTxRequest

    def setup():
        return (request_type(tx_bytes=rig.signer.sign_tx(rig.order(), 0), mode=2),), {}

    response = benchmark.pedantic(
        lambda request: run(broadcast(request)), setup=setup, rounds=ROUNDS, warmup_rounds=20,
    )

    assert response.tx_response.code == 0


def test_perf_sender_over_bare_call_paired(benchmark, rig: Rig) -> None:
    # Interleaved triples cancel the drift of a shared machine: the sender, a bare stub call
    # with the same signing, and a bare stub call of a tx signed beforehand (untimed)
    run = rig.loop.run_until_complete
    send = rig.sender.send_short_term
    broadcast = rig.stub.BroadcastTx
    sign = rig.signer.sign_tx
    request_type = service_pb2.BroadcastTxRequest
    clock = time.perf_counter
    samples: dict[str, list[float]] = {"sender": [], "bare_signing": [], "bare_presigned": []}

    rounds = itertools.count()

    def timed(call) -> tuple[object, float]:
        began = clock()
        result = run(call())
        return result, clock() - began

    def triple() -> None:
        first, second = rig.order(), rig.order()
        presigned = request_type(tx_bytes=sign(rig.order(), 0), mode=2)
        calls = [
            ("sender", lambda: send(first)),
            ("bare_signing", lambda: broadcast(request_type(tx_bytes=sign(second, 0), mode=2))),
            ("bare_presigned", lambda: broadcast(presigned)),
        ]
        # Rotate the order each round so no variant always runs first
        shift = next(rounds) % 3
        for name, call in calls[shift:] + calls[:shift]:
            result, elapsed = timed(call)
            if name == "sender":
                assert result.status == TxStatus.ACCEPTED
            else:
                assert result.tx_response.code == 0
            samples[name].append(elapsed)

    benchmark.pedantic(triple, rounds=ROUNDS, warmup_rounds=20)

    sender = samples["sender"]
    for name, times in samples.items():
        benchmark.extra_info[f"{name}_median_us"] = 1e6 * statistics.median(times)
    for name in ("bare_signing", "bare_presigned"):
        ratios = [a / b for a, b in zip(sender, samples[name])]
        benchmark.extra_info[f"ratio_over_{name}"] = statistics.median(ratios)
    print("\n" + ", ".join(f"{k} {v:.3f}" for k, v in benchmark.extra_info.items()))
    assert len(sender) == ROUNDS + 20
