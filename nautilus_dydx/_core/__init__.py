# SPDX-License-Identifier: Apache-2.0
"""Compiled hot paths. Built by `make build`; there is no pure-Python fallback."""

try:
    from nautilus_dydx._core import decimal
except ImportError as e:  # pragma: no cover - exercised only on a broken checkout
    raise ImportError(
        "nautilus_dydx._core is not compiled: run `make build` "
        "(or `pip install -e . --no-build-isolation`)",
    ) from e


__all__ = ["decimal"]
