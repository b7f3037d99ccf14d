# SPDX-License-Identifier: Apache-2.0
"""The Indexer WebSocket client: a pool of picows connections feeding the compiled parser."""

from nautilus_dydx.websocket.client import DYDXWebSocketClient
from nautilus_dydx.websocket.subscriptions import SubscriptionState


__all__ = ["DYDXWebSocketClient", "SubscriptionState"]
