# SPDX-License-Identifier: Apache-2.0
"""Venue identity and protocol constants."""

from typing import Final

from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import Venue


DYDX: Final[str] = "DYDX"
DYDX_VENUE: Final[Venue] = Venue(DYDX)
DYDX_CLIENT_ID: Final[ClientId] = ClientId(DYDX)

# Bech32 human-readable part of account addresses
ADDRESS_PREFIX: Final[str] = "dydx"

# Subaccount numbers the chain accepts (protocol reference §4.1)
MAX_SUBACCOUNT_NUMBER: Final[int] = 128_000

# Short-term orders: good-til-block <= height + 20 is valid on every deployed version (§4.3)
SHORT_BLOCK_WINDOW_SAFE: Final[int] = 20
SHORT_BLOCK_WINDOW_MAX: Final[int] = 40

# Stateful orders: good-til-block-time <= previous block time + 95 days (§4.3)
STATEFUL_ORDER_WINDOW_SECS: Final[int] = 95 * 24 * 3600
