# SPDX-License-Identifier: Apache-2.0
"""Isolated markets through child subaccounts: choice of child, collateral moves, balances."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order

from nautilus_dydx import order_kinds
from nautilus_dydx._core.orders import encode_any
from nautilus_dydx._proto.dydxprotocol.sending import transfer_pb2
from nautilus_dydx._proto.dydxprotocol.sending import tx_pb2 as sending_tx_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import subaccount_pb2
from nautilus_dydx.client_ids import ClientIdCollisionError
from nautilus_dydx.execution_state import OPEN_STATUSES
from nautilus_dydx.execution_state import VenueOrder
from nautilus_dydx.execution_twap import parse_twap_tags
from nautilus_dydx.grpc.sender import TxStatus
from nautilus_dydx.order_errors import OrderRefused


TYPE_URL_CREATE_TRANSFER: Final = "/dydxprotocol.sending.MsgCreateTransfer"
CHILD_STRIDE: Final = 128  # Children of parent p are p + 128·k
MAX_CHILD_INDEX: Final = 999  # k = 1..999 (k = 0 is the parent itself)
QUANTUMS_PER_USDC: Final = 1_000_000
_ZERO = Decimal(0)


def child_numbers(parent: int) -> range:
    """
    Return the child subaccount numbers of `parent` in order: ``p + 128·k`` for k = 1..999.

    Parameters
    ----------
    parent : int
        The parent subaccount number, 0 to 127.

    Returns
    -------
    range

    Raises
    ------
    ValueError
        If `parent` is not 0 to 127.

    """
    if not 0 <= parent < CHILD_STRIDE:
        raise ValueError(f"invalid parent subaccount, was {parent!r} (expected 0 to 127)")
    stop = parent + CHILD_STRIDE * (MAX_CHILD_INDEX + 1)
    return range(parent + CHILD_STRIDE, stop, CHILD_STRIDE)


def choose_child(
    parent: int,
    ticker: str,
    markets_by_child: dict[int, set[str]],
) -> int | None:
    """
    Return the child subaccount for an isolated market, or None if every child is taken.

    The child already holding `ticker` (a position, open orders or an assignment) is reused;
    otherwise the lowest child holding nothing is chosen. The choice depends only on venue
    state, so it survives a restart without a database.

    Parameters
    ----------
    parent : int
        The parent subaccount number.
    ticker : str
        The isolated market.
    markets_by_child : dict[int, set[str]]
        The markets each child holds (positions, open orders, assignments).

    Returns
    -------
    int | None

    """
    holding = sorted(n for n, markets in markets_by_child.items() if ticker in markets)
    if holding:
        return holding[0]
    for number in child_numbers(parent):
        if not markets_by_child.get(number):
            return number
    return None


def required_collateral(
    quantity: Decimal,
    price: Decimal,
    initial_margin_fraction: Decimal,
    buffer: Decimal,
) -> Decimal:
    """
    Return the free collateral an opening order needs: notional × initial margin × buffer.

    Parameters
    ----------
    quantity : Decimal
        The order quantity (base units).
    price : Decimal
        The order's limit price, or the reference price of a market order.
    initial_margin_fraction : Decimal
        The market's initial-margin fraction (e.g. 0.05).
    buffer : Decimal
        The multiplier over the bare initial margin (at least 1).

    Returns
    -------
    Decimal

    Raises
    ------
    ValueError
        If an input is negative or the buffer is below 1.

    """
    if quantity < 0 or price < 0 or initial_margin_fraction < 0:
        raise ValueError(
            f"invalid sizing inputs, was quantity={quantity}, price={price}, "
            f"initial_margin_fraction={initial_margin_fraction}",
        )
    if buffer < 1:
        raise ValueError(f"invalid buffer, was {buffer} (expected at least 1)")
    return abs(quantity * price) * initial_margin_fraction * buffer


def transfer_quantums(required: Decimal, free: Decimal) -> int:
    """
    Return the USDC quantums (1e-6) to move so that `free` reaches `required` (0 if it does).

    Parameters
    ----------
    required : Decimal
        The free collateral needed.
    free : Decimal
        The free collateral available (may be negative).

    Returns
    -------
    int

    """
    shortfall = required - max(free, _ZERO)
    if shortfall <= 0:
        return 0
    return int((shortfall * QUANTUMS_PER_USDC).to_integral_value(ROUND_CEILING))


def tier_equity(tiers: tuple | list, count: int) -> Decimal | None:
    """
    Return the least net collateral (USDC) the equity tiers require for `count` stateful orders.

    Parameters
    ----------
    tiers : Sequence[EquityTier]
        The chain's tiers (`usd_tnc_required` in quote quantums, `limit`); empty means unknown,
        and then nothing is required.
    count : int
        The number of open stateful orders the subaccount would hold.

    Returns
    -------
    Decimal | None
        None if no tier allows that many.

    """
    if not tiers:
        return _ZERO
    amounts = [tier.usd_tnc_required for tier in tiers if tier.limit >= count]
    if not amounts:
        return None
    return Decimal(min(amounts)) / QUANTUMS_PER_USDC


def usdc_to_quantums_floor(amount: Decimal) -> int:
    """
    Return `amount` USDC as quantums, rounded down (never more than held).

    Parameters
    ----------
    amount : Decimal

    Returns
    -------
    int

    """
    if amount <= 0:
        return 0
    return int((amount * QUANTUMS_PER_USDC).to_integral_value(ROUND_FLOOR))


def create_transfer_any(
    owner: str, sender_number: int, recipient_number: int, quantums: int,
) -> bytes:
    """
    Return the ``Any``-wrapped ``MsgCreateTransfer`` of USDC between two subaccounts of `owner`.

    Parameters
    ----------
    owner : str
        The address owning both subaccounts (the signer).
    sender_number : int
    recipient_number : int
    quantums : int
        The amount in USDC quantums (1e-6), positive.

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        If the amount is not positive or sender and recipient are the same.

    """
    if quantums <= 0:
        raise ValueError(f"invalid transfer amount, was {quantums}")
    if sender_number == recipient_number:
        raise ValueError(f"invalid transfer: sender and recipient are both {sender_number}")
    message = sending_tx_pb2.MsgCreateTransfer(
        transfer=transfer_pb2.Transfer(
            sender=subaccount_pb2.SubaccountId(owner=owner, number=sender_number),
            recipient=subaccount_pb2.SubaccountId(owner=owner, number=recipient_number),
            asset_id=0,
            amount=quantums,
        ),
    )
    return encode_any(TYPE_URL_CREATE_TRANSFER, message.SerializeToString())


@dataclass(slots=True)
class SubaccountBook:
    """
    The venue state of one subaccount as the stream reports it: USDC and position sizes.

    Parameters
    ----------
    number : int
        The subaccount number.
    usdc : Decimal
        The USDC asset position (negative when borrowed).
    positions : dict[str, Decimal]
        Signed position size per ticker (open positions only).

    """

    number: int
    usdc: Decimal = _ZERO
    positions: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SubaccountBalance:
    """
    Equity, margins and free collateral of one subaccount (USDC).

    Parameters
    ----------
    number : int
    equity : Decimal
    initial_margin : Decimal
    maintenance_margin : Decimal
    free : Decimal
        Free collateral: equity less initial margin, clamped to 0..equity.
    positions : dict[str, Decimal]
        Signed position size per ticker.

    """

    number: int
    equity: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    free: Decimal
    positions: dict[str, Decimal]


class IsolatedRouter:
    """
    Route orders of isolated markets through child subaccounts ``p + 128·k`` of parent ``p``.

    Before an order that opens or adds to a position, the child's free collateral is
    compared with the order's initial margin times `isolated_margin_buffer` (or the fixed
    `isolated_collateral_usdc`); a shortfall is moved from the parent by a
    ``MsgCreateTransfer`` and the order waits for the transfer's inclusion. A refused or
    unresolved transfer denies the order with the reason: nothing is placed. A child that
    is flat with no open orders returns its USDC to the parent when
    `isolated_return_collateral` is set.

    Parameters
    ----------
    client : DYDXExecutionClient
        The execution client (parent subaccount) this router belongs to.
    config : DYDXExecClientConfig
        Its configuration.

    """

    def __init__(self, client: Any, config: Any) -> None:
        self._client = client
        self.parent: int = config.subaccount
        self._buffer = Decimal(str(config.isolated_margin_buffer))
        self._fixed = (
            None if config.isolated_collateral_usdc is None
            else Decimal(str(config.isolated_collateral_usdc))
        )
        self._return = bool(config.isolated_return_collateral)
        self.books: dict[int, SubaccountBook] = {}
        self._assigned: dict[str, int] = {}  # Ticker -> child chosen in this session
        self._venue_orders: dict[int, dict[str, str]] = {}  # Child -> open venue id -> ticker
        self._locks: dict[int, asyncio.Lock] = {}
        self._returning: set[int] = set()
        self._pending: dict[ClientOrderId, int] = {}  # Orders waiting for collateral
        self._canceled: set[ClientOrderId] = set()
        self._reserved: dict[ClientOrderId, tuple[int, Decimal]] = {}  # Opening orders' margin
        self.transfers_sent = 0
        self.transfers_returned = 0

    # -- Queries -------------------------------------------------------------------------------

    def is_child(self, number: int | None) -> bool:
        """
        Return whether `number` is a child of this parent (not the parent itself).

        Parameters
        ----------
        number : int, optional

        Returns
        -------
        bool

        """
        return (
            number is not None and number != self.parent
            and number % CHILD_STRIDE == self.parent and number <= 128_000
        )

    def routes(self, instrument_id: InstrumentId) -> bool:
        """
        Return whether orders on `instrument_id` go through a child (an ISOLATED market).

        Parameters
        ----------
        instrument_id : InstrumentId

        Returns
        -------
        bool

        """
        params = self._client._provider.market_params(instrument_id)
        return params is not None and params.market_type == "ISOLATED"

    def child_of(self, ticker: str) -> int | None:
        """
        Return the child that trades `ticker`, choosing one if none does yet.

        Parameters
        ----------
        ticker : str
            The market, e.g. ``ISO-USD``.

        Returns
        -------
        int | None
            None if every child subaccount is taken.

        """
        child = choose_child(self.parent, ticker, self._markets_by_child())
        if child is not None and self._assigned.get(ticker) != child:
            self._assigned[ticker] = child
            self._client._log.info(f"Isolated market {ticker} trades from subaccount {child}")
        return child

    def balances(self) -> dict[int, SubaccountBalance]:
        """
        Return the balance of the parent and of each known child, by subaccount number.

        Returns
        -------
        dict[int, SubaccountBalance]

        """
        client = self._client
        out = {self.parent: self._balance(self.parent, client._usdc, client._positions)}
        for number in sorted(self.books):
            book = self.books[number]
            out[number] = self._balance(number, book.usdc, book.positions)
        return out

    def positions(self) -> dict[int, dict[str, Decimal]]:
        """
        Return the open position sizes per subaccount (parent and children), by number.

        Returns
        -------
        dict[int, dict[str, Decimal]]

        """
        out = {self.parent: dict(self._client._positions)}
        for number, book in sorted(self.books.items()):
            if book.positions:
                out[number] = dict(book.positions)
        return out

    def _markets_by_child(self) -> dict[int, set[str]]:
        held: dict[int, set[str]] = {}
        for number, book in self.books.items():
            held.setdefault(number, set()).update(t for t, s in book.positions.items() if s)
        for number, orders in self._venue_orders.items():
            held.setdefault(number, set()).update(orders.values())
        for state in self._client._orders.values():
            if not state.closed and self.is_child(state.subaccount_number):
                ticker = state.instrument_id.symbol.value.removesuffix("-PERP")
                held.setdefault(state.subaccount_number, set()).add(ticker)
        for ticker, number in self._assigned.items():
            held.setdefault(number, set()).add(ticker)
        return held

    def _reserved_in(self, number: int) -> Decimal:
        # Margin promised to open opening orders of ours, pro rata to what is left of them
        total = _ZERO
        for client_order_id, (child, amount) in list(self._reserved.items()):
            if child != number:
                continue
            order = self._client._cache.order(client_order_id)
            if order is None or order.is_closed:
                del self._reserved[client_order_id]
                continue
            total += amount * order.leaves_qty.as_decimal() / order.quantity.as_decimal()
        return total

    def _open_orders(self, number: int) -> bool:
        if any(
            not s.closed and s.subaccount_number == number for s in self._client._orders.values()
        ):
            return True
        return bool(self._venue_orders.get(number)) or number in self._pending.values()

    def _balance(
        self, number: int, usdc: Decimal, positions: dict[str, Decimal],
    ) -> SubaccountBalance:
        client = self._client
        equity = usdc
        initial = _ZERO
        maintenance = _ZERO
        for ticker, size in positions.items():
            price = client._oracle.get(ticker)
            market = client._provider.market_by_ticker(ticker)
            if price is None or market is None:
                continue
            notional = size * price[0]
            equity += notional
            initial += abs(notional) * Decimal(market.initial_margin_fraction)
            maintenance += abs(notional) * Decimal(market.maintenance_margin_fraction)
        free = min(max(equity - initial, _ZERO), max(equity, _ZERO))
        return SubaccountBalance(number, equity, initial, maintenance, free, dict(positions))

    # -- Venue state ---------------------------------------------------------------------------

    async def load(self) -> None:
        """
        Read the parent and children from the Indexer (REST) and the open orders of children.
        """
        client = self._client
        try:
            parent = await client._http.get_parent_subaccount(client._address, self.parent)
        except Exception as e:  # Not funded yet: nothing to read
            client._log.warning(f"No parent subaccount on the Indexer yet ({e!r})")
            parent = None
        if parent is not None:
            for sub in parent.child_subaccounts:
                usdc_position = sub.asset_positions.get("USDC")
                usdc = _ZERO
                if usdc_position is not None:
                    usdc = Decimal(usdc_position.size)
                    usdc = -usdc if usdc_position.side == "SHORT" else usdc
                positions = {
                    ticker: Decimal(p.size) for ticker, p in sub.open_perpetual_positions.items()
                    if Decimal(p.size) != 0
                }
                if sub.subaccount_number == self.parent:
                    client._usdc = usdc
                    client._positions = positions
                elif self.is_child(sub.subaccount_number):
                    self.books[sub.subaccount_number] = SubaccountBook(
                        sub.subaccount_number, usdc, positions,
                    )
        try:
            async for venue in client._http.iter_orders(
                client._address, self.parent, parent=True, status=sorted(OPEN_STATUSES),
            ):
                number = venue.subaccount_number
                if self.is_child(number) and venue.ticker:
                    self._venue_orders.setdefault(number, {})[venue.id] = venue.ticker
        except Exception as e:
            client._log.warning(f"Cannot list the open orders of child subaccounts: {e!r}")
        client._publish_account()

    def take(self, record: Any) -> bool:
        """
        Apply a stream record of a child subaccount; return False if it is not a child's.

        Parameters
        ----------
        record : SubaccountInfo | AssetPositionUpdate | PerpetualPositionUpdate

        Returns
        -------
        bool

        """
        number = record.subaccount_number
        if not self.is_child(number):
            return False
        book = self.books.get(number)
        if book is None:
            book = self.books[number] = SubaccountBook(number)
        kind = type(record).__name__
        if kind == "SubaccountInfo":
            book.usdc = _ZERO  # A snapshot lists only non-zero balances
            book.positions.clear()
            self._venue_orders.pop(number, None)  # The snapshot's orders follow
        elif kind == "AssetPositionUpdate":
            if record.symbol == "USDC":
                size = Decimal(record.size)
                book.usdc = -size if record.side == "SHORT" else size
        elif kind == "PerpetualPositionUpdate":
            if record.status in ("CLOSED", "LIQUIDATED") or record.size is None or (
                Decimal(record.size) == 0
            ):
                book.positions.pop(record.market, None)
                self._maybe_return(number)
            else:
                size = Decimal(record.size)
                book.positions[record.market] = -size if (
                    record.side == "SHORT" and size > 0
                ) else size
        return True

    def on_order_update(self, update: Any) -> None:
        """
        Track the open orders of children from the stream (orders of any client).

        Parameters
        ----------
        update : OrderUpdate

        """
        number = update.subaccount_number
        if not self.is_child(number):
            return
        if update.status in OPEN_STATUSES and update.ticker:
            self._venue_orders.setdefault(number, {})[update.id] = update.ticker
        elif update.status is not None and update.status not in OPEN_STATUSES:
            self._venue_orders.get(number, {}).pop(update.id, None)
            self._maybe_return(number)

    def on_order_closed(self, state: VenueOrder) -> None:
        """
        Consider returning a child's collateral once one of its orders is closed.

        Parameters
        ----------
        state : VenueOrder

        """
        number = state.subaccount_number
        self._reserved.pop(state.client_order_id, None)
        if self.is_child(number):
            orders = self._venue_orders.get(number, {})
            for venue_id in (state.venue_order_id, *state.old_venue_order_ids):
                orders.pop(venue_id, None)
            self._maybe_return(number)

    def publish_account(self) -> None:
        """
        Publish the account state: totals over parent and children, each one in ``info``.
        """
        balances = self.balances()
        equity = sum((b.equity for b in balances.values()), _ZERO)
        free = sum((b.free for b in balances.values()), _ZERO)
        initial = sum((b.initial_margin for b in balances.values()), _ZERO)
        maintenance = sum((b.maintenance_margin for b in balances.values()), _ZERO)
        info = {
            "subaccounts": {
                str(number): {
                    "equity": str(b.equity),
                    "free_collateral": str(b.free),
                    "initial_margin": str(b.initial_margin),
                    "positions": {t: str(s) for t, s in b.positions.items()},
                }
                for number, b in balances.items()
            },
        }
        self._client._send_account(equity, free, initial, maintenance, info=info)

    # -- Submission ----------------------------------------------------------------------------

    def is_waiting(self, client_order_id: ClientOrderId) -> bool:
        """
        Return whether an order is waiting for its child's collateral (not yet placed).

        Parameters
        ----------
        client_order_id : ClientOrderId

        Returns
        -------
        bool

        """
        return client_order_id in self._pending

    def cancel_pending(self, client_order_id: ClientOrderId) -> bool:
        """
        Cancel an order still waiting for its collateral; return whether one was waiting.

        Parameters
        ----------
        client_order_id : ClientOrderId

        Returns
        -------
        bool

        """
        if client_order_id in self._pending:
            self._canceled.add(client_order_id)
            return True
        return False

    async def submit(self, order: Order, command_ns: int) -> None:
        """
        Place `order` (an isolated market) from its child, moving collateral in first if short.

        Parameters
        ----------
        order : Order
        command_ns : int
            When the command arrived.

        """
        client = self._client
        if client._sender is None or client._codec is None or client._address is None:
            client._deny(order, "the dYdX execution client is not connected")
            return
        instrument = client._cache.instrument(order.instrument_id)
        params = client._provider.market_params(order.instrument_id)
        if instrument is None or params is None:
            client._deny(order, f"no instrument {order.instrument_id}")
            return
        reason = client._provider.untradable_reason(order.instrument_id, order.is_post_only)
        if reason is not None:
            client._deny(order, f"clob 34: {reason}")
            return
        try:
            twap = parse_twap_tags(order)
        except ValueError as e:
            client._deny(order, f"invalid order tags: {e}")
            return
        if twap is not None:
            client._deny(order, "a TWAP order on an isolated market is not supported through "
                                "child subaccounts")
            return
        child = self.child_of(params.ticker)
        if child is None:
            client._deny(order, f"no free child subaccount for isolated market {params.ticker}")
            return
        self._pending[order.client_order_id] = child
        try:
            async with self._lock(child):
                await self._submit_locked(order, instrument, params.ticker, child, command_ns)
        finally:
            self._pending.pop(order.client_order_id, None)
            self._canceled.discard(order.client_order_id)
            self._maybe_return(child)  # Collateral moved in for an order never placed

    async def _submit_locked(self, order: Order, instrument: Any, ticker: str, child: int,
                             command_ns: int) -> None:
        client = self._client
        try:
            # Planned first: an order the chain would refuse moves no collateral
            stateful = self._plan_flags(order, instrument) != order_kinds.FLAGS_SHORT_TERM
            required = self._required(order, instrument, ticker, child)
            tier = self._tier_equity(child) if stateful else _ZERO
        except OrderRefused as e:
            client._deny(order, f"{e.codespace} {e.code}: {e.reason}")
            return
        except (ValueError, KeyError) as e:
            client._deny(order, str(e))
            return
        book = self.books.get(child) or SubaccountBook(child)
        balance = self._balance(child, book.usdc, book.positions)
        quantums = max(
            transfer_quantums(required, balance.free - self._reserved_in(child)),
            transfer_quantums(tier, balance.equity),
        )
        if quantums:
            failure = await self._transfer(self.parent, child, quantums)
            if failure is not None:
                client._deny(order, failure)
                self._release_assignment(ticker, child)
                return
            self.transfers_sent += 1
        if order.is_closed:
            return
        if order.client_order_id in self._canceled:
            client._deny(order, "canceled while its collateral transfer was pending")
            return
        prepared = self._prepare(order, instrument, child, command_ns)
        if prepared is None:
            return
        state, message = prepared
        if required > 0:
            self._reserved[order.client_order_id] = (child, required)
        if state.is_short_term:
            await client.submit_short_term_order(order, state, message)
        elif state.order_flags == order_kinds.FLAGS_CONDITIONAL:
            await client.submit_conditional_order(order, state, message)
        else:
            await client.submit_long_term_order(order, state, message)

    def _required(self, order: Order, instrument: Any, ticker: str, child: int) -> Decimal:
        # Free collateral the child needs before this order (0 if it only reduces)
        if order.is_reduce_only:
            return _ZERO
        book = self.books.get(child)
        position = book.positions.get(ticker, _ZERO) if book is not None else _ZERO
        quantity = order.leaves_qty.as_decimal()
        signed = quantity if order.side == OrderSide.BUY else -quantity
        if abs(position + signed) <= abs(position):
            return _ZERO
        if self._fixed is not None:
            return self._fixed
        market = self._client._provider.market(order.instrument_id)
        if order.has_price and order.price is not None:
            price = order.price.as_decimal()
        else:
            price = self._client._reference_price(instrument, order.side)
            if price is None:
                raise OrderRefused(
                    6, "clob", "no oracle price or quote to size the isolated collateral",
                )
        return required_collateral(
            quantity, price, Decimal(market.initial_margin_fraction), self._buffer,
        )

    def _plan_flags(self, order: Order, instrument: Any) -> int:
        from nautilus_dydx.execution import _MARKET_TYPES
        from nautilus_dydx.execution import parse_order_tags

        client = self._client
        tags = parse_order_tags(order)
        worst = (
            client._worst_price(order, instrument, tags)
            if order.order_type in _MARKET_TYPES else None
        )
        kinds = client._kind_config(tags)
        fields = order_kinds.fields_from_order(order, worst)
        return client._plan(order, fields, tags, kinds).order_flags

    def _tier_equity(self, child: int) -> Decimal:
        # The child's equity must reach the tier of one more open stateful order (clob 10001)
        count = 1 + sum(
            1 for s in self._client._orders.values()
            if not s.closed and not s.is_short_term and s.subaccount_number == child
        )
        equity = tier_equity(self._client._equity_tiers, count)
        if equity is None:
            raise OrderRefused(
                10001, "clob", f"equity tier limit: no tier allows {count} open stateful orders "
                               f"in child subaccount {child}",
            )
        return equity

    def _prepare(self, order: Order, instrument: Any, child: int,
                 command_ns: int) -> tuple[VenueOrder, bytes] | None:
        # As the client's `_prepare`, for the child subaccount
        from nautilus_dydx.execution import _MARKET_TYPES
        from nautilus_dydx.execution import parse_order_tags

        client = self._client
        try:
            tags = parse_order_tags(order)
            worst = (
                client._worst_price(order, instrument, tags)
                if order.order_type in _MARKET_TYPES else None
            )
            kinds = client._kind_config(tags)
            plan = client._plan(order, order_kinds.fields_from_order(order, worst), tags, kinds)
            values = order_kinds.plan_values(plan)
            client_id, metadata = client._codec.encode(order.client_order_id.value)
            encoder = client._provider.encoder(order.instrument_id, client._address, child)
            message = order_kinds.place_values_any(encoder, values, client_id, metadata, kinds)
        except OrderRefused as e:
            client._deny(order, f"{e.codespace} {e.code}: {e.reason}")
            return None
        except (ValueError, KeyError, ClientIdCollisionError) as e:
            client._deny(order, str(e))
            return None
        state = client._new_state(
            order, values, client_id, metadata, encoder.clob_pair_id, command_ns, child,
        )
        return state, message

    # -- Collateral moves ----------------------------------------------------------------------

    def _lock(self, number: int) -> asyncio.Lock:
        lock = self._locks.get(number)
        if lock is None:
            lock = self._locks[number] = asyncio.Lock()
        return lock

    def _release_assignment(self, ticker: str, child: int) -> None:
        if self._assigned.get(ticker) == child:
            del self._assigned[ticker]

    def _maybe_return(self, number: int) -> None:
        if not self._return or number in self._returning:
            return
        book = self.books.get(number)
        if book is None or book.positions or self._open_orders(number):
            return
        self._returning.add(number)
        self._client.create_task(self._return_collateral(number), log_msg="isolated return")

    async def _return_collateral(self, number: int) -> None:
        try:
            await asyncio.sleep(0)  # The rest of the stream message first
            async with self._lock(number):
                book = self.books.get(number)
                if book is None or book.positions or self._open_orders(number):
                    return
                quantums = usdc_to_quantums_floor(book.usdc)
                if quantums <= 0:
                    return
                failure = await self._transfer(number, self.parent, quantums)
                if failure is not None:
                    self._client._log.warning(f"Collateral not returned: {failure}")
                    return
                self.transfers_returned += 1
                for ticker, child in list(self._assigned.items()):
                    if child == number:
                        del self._assigned[ticker]
        finally:
            self._returning.discard(number)

    async def _transfer(self, sender: int, recipient: int, quantums: int) -> str | None:
        # Send one transfer and wait for its inclusion; the failure reason, or None
        client = self._client
        usdc = Decimal(quantums) / QUANTUMS_PER_USDC
        what = f"collateral transfer of {usdc} USDC from subaccount {sender} to {recipient}"
        message = create_transfer_any(client._address, sender, recipient, quantums)
        before = self._usdc_of(recipient)
        outcome = await client._sender.send_stateful(message)
        if outcome.status == TxStatus.REJECTED:
            return f"{what} refused: {outcome.codespace} {outcome.code}: {outcome.raw_log}"
        client._log.info(f"Sent {what} (tx {outcome.txhash})")
        failure = await self._await_inclusion(outcome.txhash, what)
        if failure is not None:
            return failure
        if recipient != self.parent:  # The child's book must show the funds before sizing again
            await self._await_balance(recipient, before + usdc)
        return None

    async def _await_inclusion(self, txhash: str, what: str) -> str | None:
        client = self._client
        tracker = client.tracker
        blocks = client._unknown_timeout_blocks
        start = tracker.height
        polls = 0
        while polls < 8 * blocks:
            polls += 1
            try:
                result = await client._sender.confirm(txhash)
            except Exception as e:
                client._log.warning(f"GetTx {txhash} failed: {e!r}")
                result = None
            if result is not None:
                if result.accepted:
                    return None
                return (
                    f"{what} failed in its block: {result.codespace} {result.code}: "
                    f"{result.raw_log}"
                )
            if tracker.height > start + blocks:
                break
            await asyncio.sleep(max(0.02, tracker.block_time_secs / 4))
        return f"{what} not included within {blocks} blocks (tx {txhash}); not re-sent"

    async def _await_balance(self, number: int, target: Decimal) -> None:
        # The stream catches up with the block (bounded); the chain already holds the funds
        tracker = self._client.tracker
        for _ in range(40):
            if self._usdc_of(number) >= target:
                return
            await asyncio.sleep(max(0.02, tracker.block_time_secs / 4))
        self._client._log.warning(
            f"Subaccount {number} balance not yet {target} USDC on the stream after the transfer",
        )

    def _usdc_of(self, number: int) -> Decimal:
        if number == self.parent:
            return self._client._usdc
        book = self.books.get(number)
        return book.usdc if book is not None else _ZERO


__all__ = [
    "CHILD_STRIDE",
    "IsolatedRouter",
    "SubaccountBalance",
    "SubaccountBook",
    "child_numbers",
    "choose_child",
    "create_transfer_any",
    "required_collateral",
    "tier_equity",
    "transfer_quantums",
    "usdc_to_quantums_floor",
]
