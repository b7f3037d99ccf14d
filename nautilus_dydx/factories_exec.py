# SPDX-License-Identifier: Apache-2.0
"""`DYDXLiveExecClientFactory`: the execution client from a `DYDXExecClientConfig`."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.live.factories import LiveExecClientFactory

from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.execution import DYDXExecutionClient
from nautilus_dydx.factories import get_dydx_http_client
from nautilus_dydx.factories import get_dydx_instrument_provider
from nautilus_dydx.grpc.client import DYDXNodeClient
from nautilus_dydx.grpc.sender import SequenceMode


class DYDXLiveExecClientFactory(LiveExecClientFactory):
    """
    Provides dYdX live execution clients (drop-in for the built-in adapter's factory).
    """

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: DYDXExecClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> DYDXExecutionClient:
        """
        Create a new dYdX execution client.

        Parameters
        ----------
        loop : asyncio.AbstractEventLoop
            The event loop for the client.
        name : str
            The custom client ID.
        config : DYDXExecClientConfig
            The client configuration.
        msgbus : MessageBus
            The message bus for the client.
        cache : Cache
            The cache for the client.
        clock : LiveClock
            The clock for the client.

        Returns
        -------
        DYDXExecutionClient

        """
        http = get_dydx_http_client(clock=clock, config=config)
        # The node client of orders is the client's own: its deadline, retries and rate limit
        node = DYDXNodeClient.from_config(config)
        provider = get_dydx_instrument_provider(
            client=http,
            clock=clock,
            config=config.instrument_provider,
            wallet_address=config.wallet_address,
            is_testnet=config.is_testnet,
            grpc_account_client=node,
        )
        return DYDXExecutionClient(
            loop=loop,
            client=http,
            node=node,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=provider,
            config=config,
            name=name,
            sequence_mode=SequenceMode(config.sequence_mode),
            gtc_short_term=config.gtc_short_term,
            market_slippage=Decimal(str(config.market_order_slippage)),
            max_price_age_secs=config.max_price_age_secs,
        )
