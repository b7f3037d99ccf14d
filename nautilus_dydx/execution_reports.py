# SPDX-License-Identifier: Apache-2.0
"""Order, fill and position reports of the dYdX execution client (reconciliation)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from nautilus_trader.core.datetime import dt_to_unix_nanos
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import GenerateFillReports
from nautilus_trader.execution.messages import GenerateOrderStatusReport
from nautilus_trader.execution.messages import GenerateOrderStatusReports
from nautilus_trader.execution.messages import GeneratePositionStatusReports
from nautilus_trader.execution.reports import FillReport
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.execution.reports import PositionStatusReport
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.objects import Money

from nautilus_dydx._core.frames import iso_to_ns
from nautilus_dydx.common.symbol import ticker_to_instrument_id
from nautilus_dydx.execution_state import VENUE_ORDER_TYPES
from nautilus_dydx.execution_state import base_client_order_id
from nautilus_dydx.execution_state import report_status
from nautilus_dydx.execution_state import report_time_in_force
from nautilus_dydx.execution_state import short_reason


class ExecutionReportsMixin:
    """
    Reports of every order, fill and position of the subaccount, all pages, for Nautilus.

    Mixed into `DYDXExecutionClient`, whose Indexer client, cache, codec and order states
    it reads.
    """

    def _order_report(self, venue: Any) -> OrderStatusReport | None:
        if self.account_id is None or not venue.ticker:
            return None
        instrument = self._cache.instrument(ticker_to_instrument_id(venue.ticker))
        if instrument is None:
            return None
        client_order_id = None
        flags = int(venue.order_flags)
        state = self._by_venue_id.get(venue.id)
        if state is None:
            state = self._adopt(venue)
        if state is not None:
            client_order_id = state.client_order_id
        elif self._codec is not None:
            decoded = self._codec.decode(int(venue.client_id), int(venue.client_metadata or 0))
            client_order_id = ClientOrderId(base_client_order_id(decoded)) if decoded else None
        filled = instrument.make_qty(Decimal(venue.total_filled))
        order_type = VENUE_ORDER_TYPES.get(venue.type, OrderType.LIMIT)
        status = report_status(venue.status, venue.removal_reason, filled.raw > 0)
        now = self._clock.timestamp_ns()
        ts_last = iso_to_ns(venue.updated_at) if venue.updated_at else now
        ts_created = iso_to_ns(venue.created_at) if venue.created_at else ts_last
        expire = None
        time_in_force = report_time_in_force(venue.time_in_force, flags)
        if venue.good_til_block_time:
            expire = datetime.fromisoformat(venue.good_til_block_time.replace("Z", "+00:00"))
        if time_in_force in (TimeInForce.GTC, TimeInForce.GTD):
            # The venue's expiry: a block time for stateful orders, none known otherwise
            time_in_force = TimeInForce.GTD if expire is not None else TimeInForce.GTC
        trigger = (
            instrument.make_price(Decimal(venue.trigger_price)) if venue.trigger_price else None
        )
        return OrderStatusReport(
            account_id=self.account_id,
            instrument_id=instrument.id,
            client_order_id=client_order_id,
            venue_order_id=VenueOrderId(venue.id),
            order_side=OrderSide.BUY if venue.side == "BUY" else OrderSide.SELL,
            order_type=order_type,
            time_in_force=time_in_force,
            order_status=status,
            quantity=instrument.make_qty(Decimal(venue.size)),
            filled_qty=filled,
            report_id=UUID4(),
            ts_accepted=ts_created,
            ts_last=ts_last,
            ts_init=now,
            expire_time=expire,
            price=instrument.make_price(Decimal(venue.price)),
            trigger_price=trigger,
            trigger_type=TriggerType.DEFAULT if trigger is not None else TriggerType.NO_TRIGGER,
            post_only=bool(venue.post_only),
            reduce_only=bool(venue.reduce_only),
            cancel_reason=short_reason(venue.removal_reason) if venue.removal_reason else None,
        )

    async def generate_order_status_report(
        self, command: GenerateOrderStatusReport,
    ) -> OrderStatusReport | None:
        """
        Return the report of one order by client or venue order ID, or None if unknown.

        Parameters
        ----------
        command : GenerateOrderStatusReport

        Returns
        -------
        OrderStatusReport | None

        """
        venue_id = command.venue_order_id.value if command.venue_order_id else None
        if venue_id is None and command.client_order_id is not None:
            state = self._orders.get(command.client_order_id)
            venue_id = state.venue_order_id if state is not None else None
        if venue_id is None:
            return None
        try:
            venue = await self._http.get_order(venue_id)
        except Exception as e:
            self._log.warning(f"Cannot read order {venue_id}: {e!r}")
            return None
        return self._order_report(venue)

    async def generate_order_status_reports(
        self, command: GenerateOrderStatusReports,
    ) -> list[OrderStatusReport]:
        """
        Return reports of every order of the subaccount (all pages), open ones only if asked.

        Closed orders last updated before `command.start` are left out; open orders are
        always reported.

        Parameters
        ----------
        command : GenerateOrderStatusReports

        Returns
        -------
        list[OrderStatusReport]

        """
        if self._address is None:
            return []
        filters: dict[str, Any] = {}
        if command.open_only:
            filters["status"] = ["OPEN", "BEST_EFFORT_OPENED", "UNTRIGGERED",
                                 "BEST_EFFORT_CANCELED"]
        if command.instrument_id is not None:
            filters["ticker"] = command.instrument_id.symbol.value.removesuffix("-PERP")
        start_ns = dt_to_unix_nanos(command.start) if command.start is not None else None
        reports = []
        async for venue in self._http.iter_orders(
            self._address, self._subaccount, **filters, **self._rest_scope(),
        ):
            report = self._order_report(venue)
            if report is None:
                continue
            if start_ns is not None and report.order_status not in (
                OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED,
            ) and venue.updated_at and report.ts_last < start_ns:
                continue
            reports.append(report)
        return reports

    async def generate_fill_reports(self, command: GenerateFillReports) -> list[FillReport]:
        """
        Return reports of every fill of the subaccount (all pages) since `command.start`.

        Parameters
        ----------
        command : GenerateFillReports

        Returns
        -------
        list[FillReport]

        """
        if self._address is None or self.account_id is None:
            return []
        market = None
        if command.instrument_id is not None:
            market = command.instrument_id.symbol.value.removesuffix("-PERP")
        start_ns = dt_to_unix_nanos(command.start) if command.start is not None else None
        reports = []
        now = self._clock.timestamp_ns()
        async for fill in self._http.iter_fills(
            self._address, self._subaccount, market=market, **self._rest_scope(),
        ):
            ts = iso_to_ns(fill.created_at)
            if start_ns is not None and ts < start_ns:
                break  # Newest first
            if command.venue_order_id is not None and fill.order_id != (
                command.venue_order_id.value
            ):
                continue
            instrument = self._cache.instrument(ticker_to_instrument_id(fill.market))
            if instrument is None:
                continue
            state = self._by_venue_id.get(fill.order_id) if fill.order_id else None
            reports.append(FillReport(
                account_id=self.account_id,
                instrument_id=instrument.id,
                venue_order_id=VenueOrderId(fill.order_id or f"{fill.type or 'FILL'}-{fill.id}"),
                trade_id=TradeId(fill.id),
                order_side=OrderSide.BUY if fill.side == "BUY" else OrderSide.SELL,
                last_qty=instrument.make_qty(Decimal(fill.size)),
                last_px=instrument.make_price(Decimal(fill.price)),
                commission=Money(Decimal(fill.fee), instrument.settlement_currency),
                liquidity_side=LiquiditySide.MAKER if fill.liquidity == "MAKER" else (
                    LiquiditySide.TAKER
                ),
                report_id=UUID4(),
                ts_event=ts,
                ts_init=now,
                client_order_id=state.client_order_id if state is not None else None,
            ))
        reports.reverse()  # Oldest first, as they happened
        return reports

    async def generate_position_status_reports(
        self, command: GeneratePositionStatusReports,
    ) -> list[PositionStatusReport]:
        """
        Return reports of the subaccount's open positions (flat ones for other instruments).

        Parameters
        ----------
        command : GeneratePositionStatusReports

        Returns
        -------
        list[PositionStatusReport]

        """
        if self._address is None or self.account_id is None:
            return []
        if self._isolated is not None:  # The parent and its isolated children
            parent = await self._http.get_parent_subaccount(self._address, self._subaccount)
            subaccounts = parent.child_subaccounts
        else:
            subaccounts = [await self._http.get_subaccount(self._address, self._subaccount)]
        now = self._clock.timestamp_ns()
        reports = []
        sizes: dict[str, Decimal] = {}  # Netted over the parent and its children
        entries: dict[str, Any] = {}
        for subaccount in subaccounts:
            for ticker, position in subaccount.open_perpetual_positions.items():
                sizes[ticker] = sizes.get(ticker, Decimal(0)) + Decimal(position.size)
                entries.setdefault(ticker, position)
        for ticker, size in sizes.items():
            position = entries[ticker]
            instrument_id = ticker_to_instrument_id(ticker)
            if command.instrument_id is not None and command.instrument_id != instrument_id:
                continue
            instrument = self._cache.instrument(instrument_id)
            if instrument is None:
                continue
            if size == 0:
                continue
            reports.append(PositionStatusReport(
                account_id=self.account_id,
                instrument_id=instrument_id,
                position_side=PositionSide.LONG if size > 0 else PositionSide.SHORT,
                quantity=instrument.make_qty(abs(size)),
                report_id=UUID4(),
                ts_last=now,
                ts_init=now,
                avg_px_open=Decimal(position.entry_price) if position.entry_price else None,
            ))
        return reports

    async def _query_order(self, command: Any) -> None:
        report = await self.generate_order_status_report(command)
        if report is not None:
            self._send_order_status_report(report)
