# SPDX-License-Identifier: Apache-2.0
"""Indexer REST client: typed routes, pagination, shared rate limit and retries."""

from nautilus_dydx.http.client import DYDXHttpClient
from nautilus_dydx.http.errors import DYDXDecodeError
from nautilus_dydx.http.errors import DYDXHttpError
from nautilus_dydx.http.errors import DYDXPaginationError


__all__ = ["DYDXDecodeError", "DYDXHttpClient", "DYDXHttpError", "DYDXPaginationError"]
