# SPDX-License-Identifier: Apache-2.0
"""NautilusTrader adapter for dYdX v4, with compiled hot paths and an offline sandbox venue."""

from nautilus_dydx.common.constants import DYDX
from nautilus_dydx.common.constants import DYDX_CLIENT_ID
from nautilus_dydx.common.constants import DYDX_VENUE
from nautilus_dydx.common.types import DYDXOraclePrice
from nautilus_dydx.common.types import DYDXOrderTags
from nautilus_dydx.config import DYDXDataClientConfig
from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.data import DYDXDataClient
from nautilus_dydx.execution import DYDXExecutionClient
from nautilus_dydx.factories import DYDXLiveDataClientFactory
from nautilus_dydx.factories import DYDXLiveExecClientFactory
from nautilus_dydx.factories import get_dydx_grcp_client
from nautilus_dydx.factories import get_dydx_grpc_client
from nautilus_dydx.factories import get_dydx_http_client
from nautilus_dydx.factories import get_dydx_instrument_provider
from nautilus_dydx._version import __version__
from nautilus_dydx.providers import DYDXInstrumentProvider


__all__ = [
    "DYDX",
    "DYDX_CLIENT_ID",
    "DYDX_VENUE",
    "DYDXDataClient",
    "DYDXDataClientConfig",
    "DYDXExecClientConfig",
    "DYDXExecutionClient",
    "DYDXInstrumentProvider",
    "DYDXLiveDataClientFactory",
    "DYDXLiveExecClientFactory",
    "DYDXOraclePrice",
    "DYDXOrderTags",
    "__version__",
    "get_dydx_grcp_client",
    "get_dydx_grpc_client",
    "get_dydx_http_client",
    "get_dydx_instrument_provider",
]
