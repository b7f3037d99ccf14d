# SPDX-License-Identifier: Apache-2.0
"""Failover of a cancel to a gRPC endpoint that was unreachable for a while and came back."""

from __future__ import annotations

import asyncio
import contextlib

import grpc
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus

from tests.integration.execution.support import run
from tests.integration.execution.support import trading_node
from tests.integration.execution.support import venue
from tests.reliability.proxy import TcpProxy


# Failed dials of the second endpoint before it comes back. gRPC's default reconnect backoff
# (1 s, x1.6 per failure, +-20 % jitter) then waits at least 5 s before the next dial: longer
# than the client's 2 s connect timeout on the dead endpoint plus 2 s on this one
FAILED_DIALS = 5


class RefusingEndpoint:
    """Accept and at once reset every connection on a port, counting the dials."""

    def __init__(self) -> None:
        self.dials = 0
        self._server: asyncio.Server | None = None

    async def start(self, port: int) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", port, reuse_address=True,
        )

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        self.dials += 1
        writer.transport.abort()


async def wait_for(condition, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def test_cancel_fails_over_to_an_endpoint_that_came_back_after_failed_dials() -> None:
    async def scenario() -> None:
        async with venue() as sandbox:
            first, second = TcpProxy(sandbox.grpc_endpoint), TcpProxy(sandbox.grpc_endpoint)
            await first.start()
            await second.start()
            config = {"grpc_endpoints": [first.endpoint, second.endpoint]}
            refusing = RefusingEndpoint()
            try:
                async with trading_node(sandbox, config=config) as node:
                    order = await node.accepted_limit(OrderSide.BUY, "0.001", "30000")

                    # The second endpoint refuses for a while; its channel keeps dialling
                    await second.kill()
                    await refusing.start(second.port)
                    rpc = node.client._node
                    channel = rpc._channel(rpc._endpoints[1])

                    def dialled_enough() -> bool:
                        channel.get_state(try_to_connect=True)
                        return refusing.dials >= FAILED_DIALS

                    assert await wait_for(dialled_enough, 40.0), refusing.dials
                    # It comes back just after a failed dial; then the first endpoint dies
                    await refusing.stop()
                    await second.start()
                    await first.kill()
                    # The client has seen the first connection cut (a cancel sent on it before
                    # that has an unknown outcome, another matter)
                    first_channel = rpc._channel(rpc._endpoints[0])
                    assert await wait_for(
                        lambda: first_channel.get_state() != grpc.ChannelConnectivity.READY, 5.0,
                    )

                    node.strategy.cancel_order(order)
                    await node.wait(lambda: order.status not in (
                        OrderStatus.ACCEPTED, OrderStatus.PENDING_CANCEL,
                    ) or "OrderCancelRejected" in node.of(order.client_order_id), 15.0)
                    assert "OrderCancelRejected" not in node.of(order.client_order_id)
                    await node.wait(lambda: order.status == OrderStatus.CANCELED, 10.0)
                    assert second.bytes_up > 0
                    assert channel.get_state() == grpc.ChannelConnectivity.READY
            finally:
                await refusing.stop()
                await first.kill()
                await second.kill()

    run(scenario(), timeout=120.0)
