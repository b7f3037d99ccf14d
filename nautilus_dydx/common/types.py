# SPDX-License-Identifier: Apache-2.0
"""Custom data and order tags of the dYdX adapter (same names as the built-in adapter's)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nautilus_trader.config import NautilusConfig
from nautilus_trader.core.data import Data
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price

from nautilus_dydx.common.serialization import register_oracle_price


class DYDXOraclePrice(Data):
    """
    An oracle price of a dYdX market (the venue's mark and index price).

    Parameters
    ----------
    instrument_id : InstrumentId
        The instrument.
    price : Decimal
        The oracle price, with the venue's decimals.
    ts_event : int
        UNIX timestamp (nanoseconds) when the price took effect.
    ts_init : int
        UNIX timestamp (nanoseconds) when the object was created.

    Notes
    -----
    Registered with Nautilus's message bus serializer and Parquet catalog on import, with the
    built-in adapter's schema (see `nautilus_dydx.common.serialization`).

    """

    def __init__(
        self, instrument_id: InstrumentId, price: Decimal, ts_event: int, ts_init: int,
    ) -> None:
        self.instrument_id = instrument_id
        self.price = price
        self._ts_event = ts_event
        self._ts_init = ts_init

    @property
    def ts_event(self) -> int:
        """
        Return the UNIX timestamp (nanoseconds) when the price took effect.
        """
        return self._ts_event

    @property
    def ts_init(self) -> int:
        """
        Return the UNIX timestamp (nanoseconds) when the object was created.
        """
        return self._ts_init

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DYDXOraclePrice):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.instrument_id, self.price, self._ts_event))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(instrument_id={self.instrument_id}, price={self.price}, "
            f"ts_event={self._ts_event}, ts_init={self._ts_init})"
        )

    def to_dict(self, to_arrow: bool = False) -> dict[str, Any]:
        """
        Return a dictionary representation of this object.
        """
        return {
            "type": "DYDXOraclePrice",
            "instrument_id": self.instrument_id.value,
            "price": str(self.price),
            "ts_event": self._ts_event,
            "ts_init": self._ts_init,
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


register_oracle_price(DYDXOraclePrice)
