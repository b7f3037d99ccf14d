# SPDX-License-Identifier: Apache-2.0
"""Venue tickers <-> Nautilus instrument IDs (``BTC-USD`` <-> ``BTC-USD-PERP.DYDX``)."""

from __future__ import annotations

from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol

from nautilus_dydx.common.constants import DYDX_VENUE


PERP_SUFFIX = "-PERP"


class DYDXSymbol(str):
    """
    A dYdX market ticker such as ``BTC-USD`` (a ``-PERP`` suffix is accepted and removed).
    """

    def __new__(cls, symbol: str) -> DYDXSymbol:  # noqa: PYI034
        if not isinstance(symbol, str) or not symbol:
            raise ValueError(f"invalid dYdX symbol, was {symbol!r}")
        return super().__new__(cls, symbol.upper().removesuffix(PERP_SUFFIX))

    @property
    def raw_symbol(self) -> str:
        """
        Return the venue ticker, e.g. ``BTC-USD``.
        """
        return str(self)

    def to_instrument_id(self) -> InstrumentId:
        """
        Return the Nautilus instrument ID, e.g. ``BTC-USD-PERP.DYDX``.
        """
        return InstrumentId(Symbol(f"{self}{PERP_SUFFIX}"), DYDX_VENUE)


def ticker_to_instrument_id(ticker: str) -> InstrumentId:
    """
    Return the instrument ID of the venue `ticker` (``BTC-USD`` -> ``BTC-USD-PERP.DYDX``).
    """
    return DYDXSymbol(ticker).to_instrument_id()


def instrument_id_to_ticker(instrument_id: InstrumentId) -> str:
    """
    Return the venue ticker of `instrument_id` (``BTC-USD-PERP.DYDX`` -> ``BTC-USD``).

    Raises
    ------
    ValueError
        If the instrument is not on the DYDX venue.

    """
    if instrument_id.venue != DYDX_VENUE:
        raise ValueError(f"not a DYDX instrument, was {instrument_id}")
    return instrument_id.symbol.value.removesuffix(PERP_SUFFIX)
