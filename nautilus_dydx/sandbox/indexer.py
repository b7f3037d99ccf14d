# SPDX-License-Identifier: Apache-2.0
"""`IndexerSandbox`: the chain node plus the Indexer REST and WebSocket servers, with faults."""

from __future__ import annotations

import errno
import time

from nautilus_dydx.sandbox.config import SandboxConfig
from nautilus_dydx.sandbox.faults import FaultInterceptor
from nautilus_dydx.sandbox.faults import Faults
from nautilus_dydx.sandbox.http_server import PortInUseError
from nautilus_dydx.sandbox.indexer_rest import IndexerRestServer
from nautilus_dydx.sandbox.indexer_rest import RateLimiter
from nautilus_dydx.sandbox.indexer_state import IndexerState
from nautilus_dydx.sandbox.indexer_ws import IndexerWsServer
from nautilus_dydx.sandbox.indexer_ws import WsSettings
from nautilus_dydx.sandbox.node import SandboxNode


class IndexerSandbox:
    """
    The whole offline venue: node (gRPC), Indexer REST and WebSocket, faults, optional agents.

    Parameters
    ----------
    config : SandboxConfig | None, default None
        The node configuration.
    http_port : int, default 0
        The REST port (0 = free port).
    ws_port : int, default 0
        The WebSocket port (0 = free port).
    ws_settings : WsSettings | None, default None
        WebSocket limits and intervals.
    rate_limit : RateLimiter | None, default RateLimiter()
        The REST rate limiter: the venue's documented budgets by default; None = unlimited.
    keep_history : bool, default True
        Whether the node's event bus keeps every event after start (tests read it). The
        Indexer state needs only the events up to start; a long-running sandbox (the command
        line) drops them, or its memory grows with every order the agents send.

    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        http_port: int = 0,
        ws_port: int = 0,
        ws_settings: WsSettings | None = None,
        rate_limit: RateLimiter | None | str = "default",
        keep_history: bool = True,
    ) -> None:
        self.faults = Faults(self)
        self._keep_history = keep_history
        self.node = SandboxNode(config, interceptors=[FaultInterceptor(self.faults)])
        self.state: IndexerState | None = None
        self.rest: IndexerRestServer | None = None
        self.ws: IndexerWsServer | None = None
        self._http_port = http_port
        self._ws_port = ws_port
        self._ws_settings = ws_settings
        self._rate_limit = RateLimiter() if rate_limit == "default" else rate_limit
        self.startup_s = 0.0
        self.agents = None

    async def start(self) -> None:
        """Start the node, build the Indexer state and bind the REST and WebSocket servers."""
        started = time.perf_counter()
        await self.node.start()
        try:
            self.state = IndexerState.from_node(self.node)
            if not self._keep_history:
                self.node.bus.record = False
                self.node.bus.history.clear()
            self.rest = IndexerRestServer(
                self.state, self.node.config.host, self._http_port, self._rate_limit, self.faults,
            )
            await self.rest.start()
            self.ws = IndexerWsServer(
                self.state, self.node.config.host, self._ws_port, self._ws_settings, self.faults,
            )
            try:
                await self.ws.start()
            except OSError as e:
                if e.errno != errno.EADDRINUSE:
                    raise
                self.ws = None
                raise PortInUseError(
                    "WebSocket", self.node.config.host, self._ws_port, "--ws-port",
                ) from None
        except BaseException:
            await self.stop()
            raise
        self.startup_s = time.perf_counter() - started

    async def stop(self) -> None:
        """Stop agents, servers and node (idempotent)."""
        if self.agents is not None:
            await self.agents.stop()
        if self.ws is not None:
            await self.ws.stop()
        if self.rest is not None:
            await self.rest.stop()
        if self.state is not None:
            self.state.detach()
        await self.node.stop()

    @property
    def http_url(self) -> str:
        """The REST base URL (`.../v4`)."""
        assert self.rest is not None
        return self.rest.base_url

    @property
    def ws_url(self) -> str:
        """The WebSocket URL (`.../v4/ws`)."""
        assert self.ws is not None
        return self.ws.url

    @property
    def grpc_endpoint(self) -> str:
        """The gRPC `host:port`."""
        return self.node.grpc_endpoint

    def set_market_status(self, ticker: str, status: str) -> None:
        """
        Change a market's status on the chain and publish it on the Indexer (`v4_markets`).

        The node publishes no event for status changes, so the sandbox forwards it here.

        Parameters
        ----------
        ticker : str
            The market.
        status : str
            ACTIVE, PAUSED, CANCEL_ONLY, POST_ONLY, INITIALIZING or FINAL_SETTLEMENT.

        """
        self.node.set_market_status(ticker, status)
        assert self.state is not None
        self.state.set_market_status(ticker, status)
