# SPDX-License-Identifier: Apache-2.0
"""Indexer REST payloads -> Nautilus catalog objects: instruments, bars, trades, funding rates."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.serialization.arrow.serializer import register_arrow

from nautilus_dydx._core.frames import RESOLUTIONS
from nautilus_dydx._core.frames import iso_to_ns
from nautilus_dydx._core.frames import precision_from_increment
from nautilus_dydx.schemas import indexer as schemas
from nautilus_dydx.tools.decode import instrument_id_for


NANOS_PER_SECOND = 1_000_000_000
# dYdX's base fee tier (maker 1 bp, taker 5 bps): the backtest default when none is given
DEFAULT_MAKER_FEE = Decimal("0.0001")
DEFAULT_TAKER_FEE = Decimal("0.0005")
FUNDING_RATE_SCHEMA = pa.schema(
    {
        "instrument_id": pa.string(),
        "rate": pa.string(),
        "next_funding_ns": pa.uint64(),
        "ts_event": pa.uint64(),
        "ts_init": pa.uint64(),
    },
    metadata={"type": "FundingRateUpdate"},
)


def _encode_funding(data: list[FundingRateUpdate] | FundingRateUpdate) -> pa.RecordBatch:
    items = data if isinstance(data, list) else [data]
    return pa.RecordBatch.from_pylist(
        [
            {
                "instrument_id": str(f.instrument_id),
                "rate": str(f.rate),
                "next_funding_ns": f.next_funding_ns,
                "ts_event": f.ts_event,
                "ts_init": f.ts_init,
            }
            for f in items
        ],
        schema=FUNDING_RATE_SCHEMA,
    )


def _decode_funding(table: pa.Table | pa.RecordBatch) -> list[FundingRateUpdate]:
    return [
        FundingRateUpdate(
            InstrumentId.from_str(row["instrument_id"]),
            Decimal(row["rate"]),
            row["ts_event"],
            row["ts_init"],
            next_funding_ns=row["next_funding_ns"],
        )
        for row in table.to_pylist()
    ]


def register_funding_rate_serialization() -> None:
    """
    Register Arrow (de)serialization of Nautilus `FundingRateUpdate` with the catalog.

    NautilusTrader 1.221.0 has the type but no catalog serializer for it; call this before
    writing or reading funding rates (`ParquetDataCatalog.query(FundingRateUpdate, ...)`).

    """
    register_arrow(FundingRateUpdate, FUNDING_RATE_SCHEMA, _encode_funding, _decode_funding)


def perpetual_from_market(
    market: schemas.PerpetualMarket,
    ts_init: int = 0,
    maker_fee: Decimal = DEFAULT_MAKER_FEE,
    taker_fee: Decimal = DEFAULT_TAKER_FEE,
) -> CryptoPerpetual:
    """
    Return the Nautilus `CryptoPerpetual` of an Indexer perpetual market.

    Tick and step come exactly from the ``tickSize``/``stepSize`` strings and set the price
    and size precision; quote USD, settlement USDC, margins from the market's IMF/MMF.

    Parameters
    ----------
    market : PerpetualMarket
        The market from ``GET /v4/perpetualMarkets``.
    ts_init : int, default 0
        The instrument's ts_event and ts_init.
    maker_fee : Decimal, default 0.0001
        The maker fee rate.
    taker_fee : Decimal, default 0.0005
        The taker fee rate.

    Returns
    -------
    CryptoPerpetual

    Raises
    ------
    ValueError
        If the ticker is not ``BASE-QUOTE`` or the tick/step is not a positive decimal.

    """
    base, sep, _quote = market.ticker.partition("-")
    if not sep or not base:
        raise ValueError(f"invalid ticker, was {market.ticker!r}")
    price_precision = precision_from_increment(market.tick_size)
    size_precision = precision_from_increment(market.step_size)
    price_increment = Price(Decimal(market.tick_size), price_precision)
    size_increment = Quantity(Decimal(market.step_size), size_precision)
    return CryptoPerpetual(
        instrument_id=instrument_id_for(market.ticker),
        raw_symbol=Symbol(market.ticker),
        base_currency=Currency.from_str(base),
        quote_currency=Currency.from_str("USD"),
        settlement_currency=Currency.from_str("USDC"),
        is_inverse=False,
        price_precision=price_precision,
        size_precision=size_precision,
        price_increment=price_increment,
        size_increment=size_increment,
        ts_event=ts_init,
        ts_init=ts_init,
        lot_size=size_increment,
        min_quantity=size_increment,
        margin_init=Decimal(market.initial_margin_fraction),
        margin_maint=Decimal(market.maintenance_margin_fraction),
        maker_fee=maker_fee,
        taker_fee=taker_fee,
    )


def resolution_seconds(resolution: str) -> int:
    """
    Return the length in seconds of an Indexer candle resolution (``1MIN`` ... ``1DAY``).

    Raises
    ------
    ValueError
        If the resolution is unknown.

    """
    try:
        return RESOLUTIONS[resolution][2]
    except KeyError:
        raise ValueError(
            f"invalid resolution, was {resolution!r} (expected one of {', '.join(RESOLUTIONS)})",
        ) from None


def bar_type_for(instrument_id: InstrumentId, resolution: str) -> BarType:
    """
    Return the external last-price bar type of `resolution`, e.g. ``...-1-MINUTE-LAST-EXTERNAL``.

    Parameters
    ----------
    instrument_id : InstrumentId
        The instrument.
    resolution : str
        The Indexer resolution.

    Returns
    -------
    BarType

    """
    step, aggregation, _ = RESOLUTIONS[resolution]
    return BarType.from_str(f"{instrument_id}-{step}-{aggregation}-LAST-EXTERNAL")


def bar_from_candle(candle: schemas.Candle, bar_type: BarType, instrument: CryptoPerpetual) -> Bar:
    """
    Return the `Bar` of a closed candle, stamped at its close (start + resolution).

    Parameters
    ----------
    candle : Candle
        The Indexer candle.
    bar_type : BarType
        The bar type.
    instrument : CryptoPerpetual
        The instrument (precisions).

    Returns
    -------
    Bar

    """
    length_ns = resolution_seconds(candle.resolution) * NANOS_PER_SECOND
    close_ns = iso_to_ns(candle.started_at) + length_ns
    p = instrument.price_precision
    return Bar(
        bar_type,
        Price(Decimal(candle.open), p),
        Price(Decimal(candle.high), p),
        Price(Decimal(candle.low), p),
        Price(Decimal(candle.close), p),
        Quantity(Decimal(candle.base_token_volume), instrument.size_precision),
        close_ns,
        close_ns,
    )


def trade_tick_from_trade(trade: schemas.Trade, instrument: CryptoPerpetual) -> TradeTick:
    """
    Return the `TradeTick` of an Indexer trade (the taker's side is the aggressor).

    Parameters
    ----------
    trade : Trade
        The Indexer trade.
    instrument : CryptoPerpetual
        The instrument (precisions).

    Returns
    -------
    TradeTick

    """
    ts = iso_to_ns(trade.created_at)
    return TradeTick(
        instrument.id,
        Price(Decimal(trade.price), instrument.price_precision),
        Quantity(Decimal(trade.size), instrument.size_precision),
        AggressorSide.BUYER if trade.side == "BUY" else AggressorSide.SELLER,
        TradeId(trade.id),
        ts,
        ts,
    )


def funding_from_historical(
    funding: schemas.HistoricalFunding, instrument_id: InstrumentId,
) -> FundingRateUpdate:
    """
    Return the `FundingRateUpdate` of one hourly funding rate, stamped when it took effect.

    Parameters
    ----------
    funding : HistoricalFunding
        The Indexer funding rate.
    instrument_id : InstrumentId
        The instrument.

    Returns
    -------
    FundingRateUpdate

    """
    ts = iso_to_ns(funding.effective_at)
    return FundingRateUpdate(instrument_id, Decimal(funding.rate), ts, ts)
