# SPDX-License-Identifier: Apache-2.0
"""Default endpoints per network: mainnet, testnet and the local sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class NetworkEndpoints:
    """
    The endpoints and chain parameters of one dYdX network.
    """

    name: str
    chain_id: str
    http: str
    ws: str
    grpc: tuple[str, ...]
    grpc_tls: bool
    usdc_denom: str = "ibc/8E27BA2D5493AF5636760E354E46004562C46AB7EC0CC4C1CA14E9E20E2545B5"


NETWORKS: Final[dict[str, NetworkEndpoints]] = {
    "mainnet": NetworkEndpoints(
        name="mainnet",
        chain_id="dydx-mainnet-1",
        http="https://indexer.dydx.trade/v4",
        ws="wss://indexer.dydx.trade/v4/ws",
        grpc=("dydx-ops-grpc.kingnodes.com:443", "oegs.dydx.trade:443"),
        grpc_tls=True,
    ),
    "testnet": NetworkEndpoints(
        name="testnet",
        chain_id="dydx-testnet-4",
        http="https://indexer.v4testnet.dydx.exchange/v4",
        ws="wss://indexer.v4testnet.dydx.exchange/v4/ws",
        grpc=("test-dydx-grpc.kingnodes.com:443", "oegs-testnet.dydx.exchange:443"),
        grpc_tls=True,
    ),
    # The offline venue of `nautilus-dydx sandbox`, on loopback (ports of a local devnet)
    "sandbox": NetworkEndpoints(
        name="sandbox",
        chain_id="dydx-sandbox-1",
        http="http://127.0.0.1:3002/v4",
        ws="ws://127.0.0.1:3003/v4/ws",
        grpc=("127.0.0.1:9090",),
        grpc_tls=False,
    ),
}


def network_endpoints(network: str) -> NetworkEndpoints:
    """
    Return the default endpoints of `network`.

    Raises
    ------
    ValueError
        If `network` is not one of ``mainnet``, ``testnet``, ``sandbox``.

    """
    try:
        return NETWORKS[network]
    except KeyError:
        raise ValueError(
            f"invalid `network`, was {network!r} (expected one of {sorted(NETWORKS)})",
        ) from None
