# SPDX-License-Identifier: Apache-2.0
"""Backtest an EMA cross on dYdX bars from a catalog written by `nautilus-dydx download`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from decimal import Decimal

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.indicators import ExponentialMovingAverage
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from nautilus_trader.trading.strategy import Strategy

from nautilus_dydx.tools.catalog import register_funding_rate_serialization


VENUE = Venue("DYDX")


class EMACrossConfig(StrategyConfig, frozen=True):
    """
    Settings of `EMACross`.
    """

    instrument_id: InstrumentId
    bar_type: BarType
    trade_size: Decimal
    fast_period: int = 5
    slow_period: int = 15


class EMACross(Strategy):
    """
    Long when the fast EMA is above the slow one, short when below; market orders, netting.
    """

    def __init__(self, config: EMACrossConfig) -> None:
        super().__init__(config)
        self.fast = ExponentialMovingAverage(config.fast_period)
        self.slow = ExponentialMovingAverage(config.slow_period)
        self.instrument = None

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        self.register_indicator_for_bars(self.config.bar_type, self.fast)
        self.register_indicator_for_bars(self.config.bar_type, self.slow)
        self.subscribe_bars(self.config.bar_type)

    def on_bar(self, bar: Bar) -> None:
        if not self.slow.initialized:
            return
        net = self.portfolio.net_position(self.config.instrument_id)
        if self.fast.value > self.slow.value and net <= 0:
            self._target(OrderSide.BUY, net)
        elif self.fast.value < self.slow.value and net >= 0:
            self._target(OrderSide.SELL, net)

    def _target(self, side: OrderSide, net: Decimal) -> None:
        size = Decimal(self.config.trade_size) + abs(Decimal(net))
        order = self.order_factory.market(
            self.config.instrument_id, side, self.instrument.make_qty(size),
        )
        self.submit_order(order)

    def on_stop(self) -> None:
        self.close_all_positions(self.config.instrument_id)


@dataclass
class Summary:
    """
    What the backtest did.
    """

    bars: int
    funding_rates: int
    orders: int
    filled: int
    positions: int
    realized_pnl: Money | None
    balances: dict[str, str]
    fills: list[str]


def run_backtest(
    catalog_path: str,
    ticker: str = "BTC-USD",
    resolution: str = "1-MINUTE",
    trade_size: Decimal | None = None,
    fast_period: int = 5,
    slow_period: int = 15,
    quiet: bool = True,
) -> Summary:
    """
    Run the EMA cross over the catalog's bars of `ticker` and return the summary.

    Parameters
    ----------
    catalog_path : str
        The catalog directory.
    ticker : str, default "BTC-USD"
        The market.
    resolution : str, default "1-MINUTE"
        The bar step and aggregation, as in the bar type.
    trade_size : Decimal, optional
        The order size (default: 100 size increments).
    fast_period : int, default 5
        The fast EMA period.
    slow_period : int, default 15
        The slow EMA period.
    quiet : bool, default True
        Whether to silence the engine's logging.

    Returns
    -------
    Summary

    Raises
    ------
    ValueError
        If the catalog has no instrument or bars for `ticker`.

    """
    register_funding_rate_serialization()
    catalog = ParquetDataCatalog(catalog_path)
    instrument_id = InstrumentId.from_str(f"{ticker}-PERP.DYDX")
    instruments = catalog.instruments(instrument_ids=[str(instrument_id)])
    if not instruments:
        raise ValueError(f"no instrument {instrument_id} in the catalog {catalog_path}")
    instrument = instruments[0]
    bar_type = BarType.from_str(f"{instrument_id}-{resolution}-LAST-EXTERNAL")
    bars = catalog.bars(bar_types=[str(bar_type)])
    if not bars:
        raise ValueError(f"no {bar_type} bars in the catalog {catalog_path}")
    funding = catalog.query(FundingRateUpdate, identifiers=[str(instrument_id)])

    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR" if quiet else "INFO")),
    )
    engine.add_venue(
        VENUE, OmsType.NETTING, AccountType.MARGIN, [Money(100_000, USDC), Money(0, USD)],
        base_currency=None, default_leverage=Decimal(5),
    )
    engine.add_instrument(instrument)
    engine.add_data(bars)
    size = trade_size if trade_size is not None else instrument.size_increment.as_decimal() * 100
    engine.add_strategy(EMACross(EMACrossConfig(
        instrument_id=instrument_id, bar_type=bar_type, trade_size=size,
        fast_period=fast_period, slow_period=slow_period,
    )))
    engine.run()
    try:
        orders = engine.cache.orders()
        positions = engine.cache.positions()
        fills = engine.trader.generate_order_fills_report()
        realized = engine.portfolio.realized_pnl(instrument_id)
        lines = [
            f"{row.ts_last} {row.side} {row.filled_qty} @ "
            f"{instrument.make_price(float(row.avg_px))}"
            for row in fills.itertuples()
        ] if not fills.empty else []
        return Summary(
            bars=len(bars),
            funding_rates=len(funding),
            orders=len(orders),
            filled=sum(1 for o in orders if o.is_closed and o.filled_qty > 0),
            positions=len(positions),
            realized_pnl=realized,
            balances={
                str(currency): str(money)
                for currency, money in engine.portfolio.account(VENUE).balances_total().items()
            },
            fills=lines,
        )
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """
    Run the example from the command line and print the fills and PnL.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog", required=True, help="the catalog of `nautilus-dydx download`")
    parser.add_argument("--ticker", default="BTC-USD")
    parser.add_argument("--resolution", default="1-MINUTE", help="bar step-aggregation")
    parser.add_argument("--trade-size", type=Decimal, default=None)
    parser.add_argument("--fast", type=int, default=5)
    parser.add_argument("--slow", type=int, default=15)
    args = parser.parse_args(argv)
    try:
        summary = run_backtest(
            args.catalog, args.ticker, args.resolution, args.trade_size, args.fast, args.slow,
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for line in summary.fills:
        print(line)
    print(
        f"bars {summary.bars}, funding rates {summary.funding_rates}, orders {summary.orders}, "
        f"filled {summary.filled}, positions {summary.positions}, "
        f"realized PnL {summary.realized_pnl}",
    )
    print("balances " + ", ".join(summary.balances.values()) + " (commissions are charged in USD)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
