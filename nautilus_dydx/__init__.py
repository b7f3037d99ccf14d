# SPDX-License-Identifier: Apache-2.0
"""NautilusTrader adapter for dYdX v4, with compiled hot paths and an offline sandbox venue."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from nautilus_dydx.common.constants import DYDX_CLIENT_ID
from nautilus_dydx.common.constants import DYDX_VENUE
from nautilus_dydx.config import DYDXDataClientConfig
from nautilus_dydx.config import DYDXExecClientConfig


try:
    __version__ = _version("nautilus-dydx")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0.0.0"


__all__ = [
    "DYDX_CLIENT_ID",
    "DYDX_VENUE",
    "DYDXDataClientConfig",
    "DYDXExecClientConfig",
    "__version__",
]
