# SPDX-License-Identifier: Apache-2.0
"""Validator gRPC: typed queries, failover, broadcast, sequence and nonce management."""

from nautilus_dydx.grpc.client import DYDXNodeClient
from nautilus_dydx.grpc.errors import DYDXBroadcastUnknownError
from nautilus_dydx.grpc.errors import DYDXNodeError
from nautilus_dydx.grpc.errors import DYDXNoEndpointError
from nautilus_dydx.grpc.sender import DYDXTransactionSender
from nautilus_dydx.grpc.sender import SequenceMode
from nautilus_dydx.grpc.sender import TxOutcome
from nautilus_dydx.grpc.sender import TxStatus


__all__ = [
    "DYDXBroadcastUnknownError",
    "DYDXNoEndpointError",
    "DYDXNodeClient",
    "DYDXNodeError",
    "DYDXTransactionSender",
    "SequenceMode",
    "TxOutcome",
    "TxStatus",
]
