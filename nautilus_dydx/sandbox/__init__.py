# SPDX-License-Identifier: Apache-2.0
"""An offline dYdX v4 chain node (gRPC, CheckTx rules, matching, blocks) for tests."""

from nautilus_dydx.sandbox.config import AccountConfig
from nautilus_dydx.sandbox.config import FeeTierConfig
from nautilus_dydx.sandbox.config import MarketConfig
from nautilus_dydx.sandbox.config import SandboxConfig
from nautilus_dydx.sandbox.config import default_markets
from nautilus_dydx.sandbox.events import BalanceEvent
from nautilus_dydx.sandbox.events import BlockEvent
from nautilus_dydx.sandbox.events import EventBus
from nautilus_dydx.sandbox.events import FillEvent
from nautilus_dydx.sandbox.events import MemclobEvent
from nautilus_dydx.sandbox.events import OraclePriceEvent
from nautilus_dydx.sandbox.events import OrderPlacedEvent
from nautilus_dydx.sandbox.events import OrderRemovedEvent
from nautilus_dydx.sandbox.events import OrderSnapshot
from nautilus_dydx.sandbox.events import OrderUpdatedEvent
from nautilus_dydx.sandbox.events import PositionEvent
from nautilus_dydx.sandbox.events import SandboxEvent
from nautilus_dydx.sandbox.node import SandboxNode
from nautilus_dydx.sandbox.transfers import TransferEvent


__all__ = [
    "AccountConfig",
    "BalanceEvent",
    "BlockEvent",
    "EventBus",
    "FeeTierConfig",
    "FillEvent",
    "MemclobEvent",
    "MarketConfig",
    "OraclePriceEvent",
    "OrderPlacedEvent",
    "OrderRemovedEvent",
    "OrderSnapshot",
    "OrderUpdatedEvent",
    "PositionEvent",
    "SandboxConfig",
    "SandboxEvent",
    "SandboxNode",
    "TransferEvent",
    "default_markets",
]
