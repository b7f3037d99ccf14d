# SPDX-License-Identifier: Apache-2.0
"""Venue identity and protocol constants."""

from typing import Final

from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import Venue

from nautilus_dydx.common import limits


DYDX: Final[str] = "DYDX"
DYDX_VENUE: Final[Venue] = Venue(DYDX)
DYDX_CLIENT_ID: Final[ClientId] = ClientId(DYDX)

# Bech32 human-readable part of account addresses
ADDRESS_PREFIX: Final[str] = "dydx"

# Subaccount numbers the chain accepts (protocol reference §4.1)
MAX_SUBACCOUNT_NUMBER: Final[int] = 128_000

# Expiry windows live in `nautilus_dydx.common.limits`; re-exported for older imports
SHORT_BLOCK_WINDOW_SAFE: Final[int] = limits.SHORT_BLOCK_WINDOW_SAFE
SHORT_BLOCK_WINDOW_MAX: Final[int] = limits.SHORT_BLOCK_WINDOW_MAX
STATEFUL_ORDER_WINDOW_SECS: Final[int] = limits.STATEFUL_ORDER_WINDOW_SECS
