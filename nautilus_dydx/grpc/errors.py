# SPDX-License-Identifier: Apache-2.0
"""Typed errors of the validator gRPC client."""

from __future__ import annotations


class DYDXNodeError(Exception):
    """
    A gRPC call that failed for good (a non-retryable status, or retries exhausted).

    Parameters
    ----------
    method : str
        The short method name, e.g. ``Account``.
    endpoint : str | None
        The ``host:port`` that answered last, if any.
    code : str
        The gRPC status name, e.g. ``NOT_FOUND``.
    details : str
        The status details.

    """

    def __init__(self, method: str, endpoint: str | None, code: str, details: str) -> None:
        self.method = method
        self.endpoint = endpoint
        self.code = code
        self.details = details
        super().__init__(f"gRPC {method} at {endpoint}: {code}: {details[:300]}")


class DYDXNoEndpointError(DYDXNodeError):
    """
    Every endpoint failed or is cooling down; nothing was sent.
    """


class DYDXBroadcastUnknownError(DYDXNodeError):
    """
    A broadcast whose outcome is unknown: the bytes may have reached the node.

    Confirm with `GetTx` (stateful) or the Indexer (short-term) using `txhash`; never re-sign.

    Parameters
    ----------
    txhash : str
        The upper-case hex SHA-256 of the tx bytes.
    endpoint : str
        The endpoint the bytes were sent to.
    code : str
        The gRPC status name.
    details : str
        The status details.

    """

    def __init__(self, txhash: str, endpoint: str, code: str, details: str) -> None:
        super().__init__("BroadcastTx", endpoint, code, details)
        self.txhash = txhash
