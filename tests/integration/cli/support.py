# SPDX-License-Identifier: Apache-2.0
"""A sandbox venue on a background thread, so the CLI's own `asyncio.run` can talk to it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from nautilus_dydx.sandbox.agents import AgentConfig
from nautilus_dydx.sandbox.agents import MarketAgents
from nautilus_dydx.sandbox.config import SandboxConfig
from nautilus_dydx.sandbox.indexer import IndexerSandbox
from nautilus_dydx.sandbox.indexer_ws import WsSettings


START_TIMEOUT_S = 30.0


class SandboxThread:
    """
    Run an `IndexerSandbox` (ports 0, no rate limit) with liquidity agents on its own loop.

    Parameters
    ----------
    config : SandboxConfig
        The node configuration.
    agents : AgentConfig | None
        The agents' settings; None runs no agents.

    """

    def __init__(self, config: SandboxConfig, agents: AgentConfig | None = None) -> None:
        self.config = config
        self.agent_config = agents
        self.loop = asyncio.new_event_loop()
        self.sandbox = IndexerSandbox(
            config, ws_settings=WsSettings(batch_interval_s=0.05), rate_limit=None,
        )
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> SandboxThread:
        self._thread.start()
        self.call(self._start)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self.sandbox.stop)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(START_TIMEOUT_S)
            self.loop.close()

    async def _start(self) -> None:
        await self.sandbox.start()
        if self.agent_config is not None:
            self.sandbox.agents = MarketAgents(self.sandbox.node, self.agent_config)
            self.sandbox.agents.start()

    def call(self, function: Callable[[], Any], timeout: float = START_TIMEOUT_S) -> Any:
        """Run `function` (sync or async) on the sandbox loop and return its result."""
        async def wrapper() -> Any:
            result = function()
            if asyncio.iscoroutine(result):
                result = await result
            return result

        future: Future = asyncio.run_coroutine_threadsafe(wrapper(), self.loop)
        return future.result(timeout)

    def step_blocks(self, count: int) -> int:
        """Commit `count` blocks one at a time (agents act after each) and return the height."""
        async def step() -> int:
            for _ in range(count):
                self.sandbox.node.step_blocks(1)
                await asyncio.sleep(0)
            await asyncio.sleep(0)
            return self.sandbox.node.height

        return self.call(step, timeout=600.0)

    def network_args(self) -> list[str]:
        """Return the CLI options that point at this sandbox."""
        return [
            "--network", "sandbox",
            "--rest-url", self.sandbox.http_url,
            "--ws-url", self.sandbox.ws_url,
            "--grpc", self.sandbox.grpc_endpoint,
        ]
