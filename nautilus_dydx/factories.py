# SPDX-License-Identifier: Apache-2.0
"""Live client factories and cached client getters (the built-in adapter's names)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.live.factories import LiveDataClientFactory
from nautilus_trader.live.factories import LiveExecClientFactory

from nautilus_dydx.common.urls import network_endpoints
from nautilus_dydx.config import DYDXDataClientConfig
from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.data import DYDXDataClient
from nautilus_dydx.execution import DYDXExecutionClient
from nautilus_dydx.grpc.client import DYDXNodeClient
from nautilus_dydx.grpc.sender import SequenceMode
from nautilus_dydx.http.client import DYDXHttpClient
from nautilus_dydx.providers import DYDXInstrumentProvider


_HTTP_CLIENTS: dict[tuple, DYDXHttpClient] = {}
_GRPC_CLIENTS: dict[tuple, DYDXNodeClient] = {}
_PROVIDERS: dict[tuple, DYDXInstrumentProvider] = {}


def _network(is_testnet: bool, network: str | None) -> str:
    if network is not None:
        return network
    return "testnet" if is_testnet else "mainnet"


def get_dydx_http_client(
    clock: LiveClock | None = None,
    base_url: str | None = None,
    is_testnet: bool = False,
    network: str | None = None,
    config: DYDXDataClientConfig | Any | None = None,
) -> DYDXHttpClient:
    """
    Cache and return a dYdX Indexer REST client.

    Parameters
    ----------
    clock : LiveClock, optional
        Kept for the built-in adapter's signature.
    base_url : str, optional
        The Indexer base URL; the network's default if ``None``.
    is_testnet : bool, default False
        Use the testnet (when `network` is ``None``).
    network : str, optional
        ``mainnet``, ``testnet`` or ``sandbox``.
    config : DYDXDataClientConfig | DYDXExecClientConfig, optional
        Take endpoints, timeout, retries and rate limit from this configuration.

    Returns
    -------
    DYDXHttpClient

    """
    if config is not None:
        max_retries, initial_ms, max_ms = config.retry_policy
        key: tuple = (
            config.endpoints.http, config.http_timeout_secs, max_retries, initial_ms, max_ms,
            config.http_rate_limit_per_10s,
        )
    else:
        url = base_url or network_endpoints(_network(is_testnet, network)).http
        key = (url.rstrip("/"), 10.0, 3, 500, 10_000, 100)
    client = _HTTP_CLIENTS.get(key)
    if client is None:
        client = DYDXHttpClient(
            key[0],
            timeout_secs=key[1],
            max_retries=key[2],
            retry_delay_initial_ms=key[3],
            retry_delay_max_ms=key[4],
            rate_limit_per_10s=key[5],
        )
        _HTTP_CLIENTS[key] = client
    return client


def get_dydx_grpc_client(
    is_testnet: bool = False,
    network: str | None = None,
    config: Any | None = None,
) -> DYDXNodeClient:
    """
    Cache and return a dYdX node gRPC client.

    Parameters
    ----------
    is_testnet : bool, default False
        Use the testnet (when `network` is ``None``).
    network : str, optional
        ``mainnet``, ``testnet`` or ``sandbox``.
    config : DYDXDataClientConfig | DYDXExecClientConfig, optional
        Take the endpoints (and their TLS) from this configuration.

    Returns
    -------
    DYDXNodeClient

    """
    if config is not None:
        endpoints = config.endpoints
    else:
        endpoints = network_endpoints(_network(is_testnet, network))
    key = (endpoints.grpc, endpoints.grpc_tls)
    client = _GRPC_CLIENTS.get(key)
    if client is None:
        client = DYDXNodeClient(endpoints.grpc, tls=endpoints.grpc_tls)
        _GRPC_CLIENTS[key] = client
    return client


# The built-in adapter's spelling
get_dydx_grcp_client = get_dydx_grpc_client


def get_dydx_instrument_provider(
    client: DYDXHttpClient,
    clock: LiveClock,
    config: InstrumentProviderConfig | None,
    wallet_address: str | None,
    is_testnet: bool = False,
    grpc_account_client: DYDXNodeClient | None = None,
) -> DYDXInstrumentProvider:
    """
    Cache and return a dYdX instrument provider (one per REST client, account and config).

    Parameters
    ----------
    client : DYDXHttpClient
        The Indexer REST client.
    clock : LiveClock
        The clock.
    config : InstrumentProviderConfig, optional
        The provider configuration.
    wallet_address : str, optional
        The account whose fee tier applies (no fee query if ``None``).
    is_testnet : bool, default False
        Use the testnet node for the fee tier when `grpc_account_client` is ``None``.
    grpc_account_client : DYDXNodeClient, optional
        The node client to read the fee tier from.

    Returns
    -------
    DYDXInstrumentProvider

    """
    key = (id(client), config, wallet_address)
    provider = _PROVIDERS.get(key)
    if provider is None:
        if grpc_account_client is None and wallet_address is not None:
            grpc_account_client = get_dydx_grpc_client(is_testnet=is_testnet)
        provider = DYDXInstrumentProvider(
            client=client,
            grpc_account_client=grpc_account_client,
            clock=clock,
            config=config,
            wallet_address=wallet_address,
            is_testnet=is_testnet,
        )
        _PROVIDERS[key] = provider
    return provider


def clear_cached_clients() -> None:
    """
    Forget every cached client and provider (their event loop may be gone, e.g. in tests).
    """
    _HTTP_CLIENTS.clear()
    _GRPC_CLIENTS.clear()
    _PROVIDERS.clear()


class DYDXLiveDataClientFactory(LiveDataClientFactory):
    """
    Provides dYdX live data clients.
    """

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: DYDXDataClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> DYDXDataClient:
        """
        Create a new dYdX data client.

        Parameters
        ----------
        loop : asyncio.AbstractEventLoop
            The event loop for the client.
        name : str
            The custom client ID.
        config : DYDXDataClientConfig
            The client configuration.
        msgbus : MessageBus
            The message bus for the client.
        cache : Cache
            The cache for the client.
        clock : LiveClock
            The clock for the client.

        Returns
        -------
        DYDXDataClient

        """
        client = get_dydx_http_client(clock=clock, config=config)
        node = None
        if config.wallet_address is not None:
            node = get_dydx_grpc_client(config=config)
        provider = get_dydx_instrument_provider(
            client=client,
            clock=clock,
            config=config.instrument_provider,
            wallet_address=config.wallet_address,
            is_testnet=config.is_testnet,
            grpc_account_client=node,
        )
        return DYDXDataClient(
            loop=loop,
            client=client,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=provider,
            ws_base_url=config.endpoints.ws,
            config=config,
            name=name,
        )


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
