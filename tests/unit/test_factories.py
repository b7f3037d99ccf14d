# SPDX-License-Identifier: Apache-2.0
"""Factories and exports: drop-in names, endpoints per network, cached clients."""

from __future__ import annotations

import argparse
import asyncio

import nautilus_trader.adapters.dydx as builtin
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.model.identifiers import TraderId

import nautilus_dydx
from nautilus_dydx import DYDXDataClient
from nautilus_dydx import DYDXDataClientConfig
from nautilus_dydx import DYDXLiveDataClientFactory
from nautilus_dydx.factories import clear_cached_clients
from nautilus_dydx.factories import get_dydx_http_client
from nautilus_dydx.sandbox.cli import add_arguments


WALLET = "dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art"  # Public test vector K2, never funded
# Names the execution side (another module) exports
EXECUTION_NAMES = {"DYDXLiveExecClientFactory"}


def test_every_public_name_of_the_builtin_adapter_is_exported() -> None:
    missing = set(builtin.__all__) - set(nautilus_dydx.__all__) - EXECUTION_NAMES

    assert missing == set()
    for name in set(builtin.__all__) - EXECUTION_NAMES:
        assert getattr(nautilus_dydx, name) is not None


def create(config: DYDXDataClientConfig) -> DYDXDataClient:
    clear_cached_clients()
    loop = asyncio.new_event_loop()
    try:
        clock = LiveClock()
        return DYDXLiveDataClientFactory.create(
            loop, "DYDX", config, MessageBus(TraderId("T-001"), clock), Cache(), clock,
        )
    finally:
        loop.close()


def test_sandbox_network_reaches_the_sandbox_cli_default_ports() -> None:
    # Arrange
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    defaults = parser.parse_args([])

    # Act
    client = create(DYDXDataClientConfig(network="sandbox", wallet_address=WALLET))

    # Assert
    assert isinstance(client, DYDXDataClient)
    assert client._http.base_url == f"http://{defaults.host}:{defaults.http_port}/v4"
    assert client.ws_client.url == f"ws://{defaults.host}:{defaults.ws_port}/v4/ws"
    assert client._provider._grpc.endpoints == [f"{defaults.host}:{defaults.grpc_port}"]


def test_mainnet_and_testnet_use_the_real_endpoints() -> None:
    mainnet = create(DYDXDataClientConfig())
    testnet = create(DYDXDataClientConfig(is_testnet=True))

    assert mainnet._http.base_url == "https://indexer.dydx.trade/v4"
    assert mainnet.ws_client.url == "wss://indexer.dydx.trade/v4/ws"
    assert testnet._http.base_url == "https://indexer.v4testnet.dydx.exchange/v4"
    assert mainnet._provider._grpc is None  # No wallet: no fee query


def test_http_clients_are_cached_per_configuration() -> None:
    clear_cached_clients()
    config = DYDXDataClientConfig(network="sandbox")

    first = get_dydx_http_client(config=config)
    again = get_dydx_http_client(config=config)
    other = get_dydx_http_client(is_testnet=True)

    assert first is again and first is not other
    assert other.base_url == "https://indexer.v4testnet.dydx.exchange/v4"
    clear_cached_clients()
