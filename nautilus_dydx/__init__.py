# SPDX-License-Identifier: Apache-2.0
"""NautilusTrader adapter for dYdX v4, with compiled hot paths and an offline sandbox venue."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version


try:
    __version__ = _version("nautilus-dydx")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0.0.0"


__all__ = ["__version__"]
