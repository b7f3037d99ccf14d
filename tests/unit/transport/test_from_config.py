# SPDX-License-Identifier: Apache-2.0
"""Clients built from the adapter's configs: endpoints, TLS choice, timeouts, retry policy."""

from __future__ import annotations

from nautilus_dydx.config import DYDXDataClientConfig
from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.grpc import DYDXNodeClient
from nautilus_dydx.http import DYDXHttpClient


PRIVATE_KEY = "0a7ff605269ed00853a425beda719da038a11792f6dddf31c087b2988b4dc8fe"


def test_http_client_from_data_config() -> None:
    config = DYDXDataClientConfig(
        network="sandbox", base_url_http="http://127.0.0.1:4567", max_retries=5,
        retry_delay_initial_ms=7, http_rate_limit_per_10s=33, http_timeout_secs=2.5,
    )
    client = DYDXHttpClient.from_config(config)
    assert client.base_url == "http://127.0.0.1:4567/v4"
    assert client.max_retries == 5
    assert client.bucket.capacity == 33


def test_node_client_from_exec_config_uses_tls_for_remote_endpoints() -> None:
    remote = DYDXExecClientConfig(network="mainnet", private_key=PRIVATE_KEY,
                                  grpc_rate_limit_per_min=250, grpc_timeout_secs=1.5)
    client = DYDXNodeClient.from_config(remote)
    assert client.endpoints == ["dydx-ops-grpc.kingnodes.com:443", "oegs.dydx.trade:443"]
    assert client.tls == [True, True]
    assert client.timeout_secs == 1.5
    assert client.broadcast_bucket is not None and client.broadcast_bucket.capacity == 250

    sandbox = DYDXExecClientConfig(network="sandbox", private_key=PRIVATE_KEY,
                                   grpc_endpoints=["127.0.0.1:9999", "127.0.0.1:9998"])
    local = DYDXNodeClient.from_config(sandbox)
    assert local.endpoints == ["127.0.0.1:9999", "127.0.0.1:9998"]
    assert local.tls == [False, False]
    assert local.broadcast_bucket is None
