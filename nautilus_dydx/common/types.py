# SPDX-License-Identifier: Apache-2.0
"""Custom data and order tags of the dYdX adapter (same names as the built-in adapter's)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa
from nautilus_trader.config import NautilusConfig
from nautilus_trader.core.data import Data
from nautilus_trader.model.custom import customdataclass
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price


@customdataclass
class DYDXOraclePrice(Data):
    """
    An oracle price of a dYdX market (the venue's mark and index price).
    """

    instrument_id: InstrumentId
    price: Decimal

    _schema = pa.schema(
        {
            "instrument_id": pa.string(),
            "price": pa.string(),
            "ts_event": pa.int64(),
            "ts_init": pa.int64(),
        },
        metadata={"type": "DYDXOraclePrice"},
    )

    def to_dict(self, to_arrow: bool = False) -> dict[str, Any]:
        """
        Return a dictionary representation of this object.
        """
        return {
            "instrument_id": self.instrument_id.value,
            "price": str(self.price),
            "ts_event": self.ts_event,
            "ts_init": self.ts_init,
        }

    @staticmethod
    def from_dict(values: dict[str, Any]) -> DYDXOraclePrice:
        """
        Return an oracle price parsed from `values` (as made by `to_dict`).
        """
        return DYDXOraclePrice(
            instrument_id=InstrumentId.from_str(values["instrument_id"]),
            price=Decimal(values["price"]),
            ts_event=values["ts_event"],
            ts_init=values["ts_init"],
        )


class DYDXOrderTags(NautilusConfig, frozen=True, repr_omit_defaults=True):
    """
    dYdX order parameters attached to a Nautilus order's tags (``order.tags``).

    Parameters
    ----------
    is_short_term_order : bool, default True
        Place the order as a short-term order (good-til-block).
    num_blocks_open : int, default 20
        Blocks ahead for the good-til-block of a short-term order.
    market_order_price : Price, optional
        The worst price of a market order (the venue needs a limit price).

    """

    is_short_term_order: bool = True
    num_blocks_open: int = 20
    market_order_price: Price | None = None

    @property
    def value(self) -> str:
        """
        Return the tag string, ``DYDXOrderTags:{json}``.
        """
        return f"DYDXOrderTags:{self.json().decode()}"

    def __str__(self) -> str:
        return self.value
