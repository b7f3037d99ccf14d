# SPDX-License-Identifier: Apache-2.0
"""`DYDXExecutionClient`: orders, cancels and reports of one dYdX v4 subaccount for Nautilus."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Iterable
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import Decimal
from typing import Any

from nautilus_trader.accounting.accounts.margin import MarginAccount
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.enums import LogColor
from nautilus_trader.cache.cache import Cache
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import BatchCancelOrders
from nautilus_trader.execution.messages import CancelAllOrders
from nautilus_trader.execution.messages import CancelOrder
from nautilus_trader.execution.messages import GenerateOrderStatusReport
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.execution.messages import QueryOrder
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.execution.messages import SubmitOrderList
from nautilus_trader.execution.reports import FillReport
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.live.execution_client import LiveExecutionClient
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import AccountState
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.objects import AccountBalance
from nautilus_trader.model.objects import MarginBalance
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import Order

from nautilus_dydx import order_kinds
from nautilus_dydx._core.frames import AssetPositionUpdate
from nautilus_dydx._core.frames import BlockHeight
from nautilus_dydx._core.frames import FillUpdate
from nautilus_dydx._core.frames import IdRing
from nautilus_dydx._core.frames import MarketUpdate
from nautilus_dydx._core.frames import OrderUpdate
from nautilus_dydx._core.frames import PerpetualPositionUpdate
from nautilus_dydx._core.frames import Subscribed
from nautilus_dydx._core.frames import SubaccountInfo
from nautilus_dydx._core.frames import iso_to_ns
from nautilus_dydx.client_id_store import ClientIdStoreError
from nautilus_dydx.client_ids import ClientIdCodec
from nautilus_dydx.client_ids import ClientIdCollisionError
from nautilus_dydx.client_ids import open_client_id_codec
from nautilus_dydx.client_ids import OrderUuids
from nautilus_dydx.client_ids import subaccount_uuid
from nautilus_dydx.common.blocks import BlockTracker
from nautilus_dydx.common.cache_index import ReplacedVenueIds
from nautilus_dydx.common.constants import DYDX
from nautilus_dydx.common.constants import DYDX_VENUE
from nautilus_dydx.common.purge_guard import PurgeGuard
from nautilus_dydx.common.symbol import ticker_to_instrument_id
from nautilus_dydx.common.types import DYDXOrderTags
from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.execution_isolated import IsolatedRouter
from nautilus_dydx.execution_metrics import ExecutionMetrics
from nautilus_dydx.execution_reports import ExecutionReportsMixin
from nautilus_dydx.execution_state import base_client_order_id
from nautilus_dydx.execution_twap import FLAGS_TWAP
from nautilus_dydx.execution_twap import FLAGS_TWAP_SUBORDER
from nautilus_dydx.execution_twap import TWAP_TAGS_PREFIX
from nautilus_dydx.execution_twap import DYDXTwapTags
from nautilus_dydx.execution_twap import twap_place_order_any
from nautilus_dydx.execution_state import BENIGN_CANCEL_CODES
from nautilus_dydx.execution_state import EXPIRED_REASONS
from nautilus_dydx.execution_state import ACTIVE_STATUSES
from nautilus_dydx.execution_state import REJECTED_REASONS
from nautilus_dydx.execution_state import REPLACED_REASON
from nautilus_dydx.execution_state import VenueOrder
from nautilus_dydx.execution_state import short_reason
from nautilus_dydx.grpc.authenticators import PermissionedWallet
from nautilus_dydx.grpc.authenticators import permissioned_wallet
from nautilus_dydx.grpc.client import DYDXNodeClient
from nautilus_dydx.grpc.errors import DYDXNodeError
from nautilus_dydx.grpc.sender import DYDXTransactionSender
from nautilus_dydx.grpc.sender import SequenceMode
from nautilus_dydx.grpc.sender import TxOutcome
from nautilus_dydx.grpc.sender import TxStatus
from nautilus_dydx.http.client import DYDXHttpClient
from nautilus_dydx.http.errors import DYDXHttpError
from nautilus_dydx.order_errors import OrderRefused
from nautilus_dydx.order_kinds import OrderKindConfig
from nautilus_dydx.providers import DYDXInstrumentProvider
from nautilus_dydx.wallet import Wallet
from nautilus_dydx.websocket import DYDXWebSocketClient


_TAGS_PREFIX = "DYDXOrderTags:"
_NANOS = 1_000_000_000
_STATEFUL_CHUNK = 20  # Stateful cancels per transaction
_INCLUSION_WAIT_SECS = 60.0  # Longest wait for a lost stateful answer when blocks stall
_MAX_EARLY_CANCELS = 10_000  # Cancels remembered for orders whose submit has not arrived
_CATCH_UP_FILLS_SCAN = 5_000  # Newest fills read at most to find an order's missed fills
_REPLACEMENT_WAIT_SECS = 3.0  # Least wait for a higher good-til-block before a modify fails
_PRUNE_EVERY_SECS = 60.0  # Released client-id store rows are deleted this often (past their grace)
_MARKET_TYPES = (OrderType.MARKET, OrderType.STOP_MARKET, OrderType.MARKET_IF_TOUCHED)
_TRIGGER_LIMIT_TYPES = (OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED)
_ACCOUNT_CHANNELS = frozenset({"v4_subaccounts", "v4_parent_subaccounts"})


class _RestFill:
    """A REST fill with the attributes of a stream `FillUpdate`."""

    __slots__ = ("fee", "id", "liquidity", "market", "order_id", "price", "side", "size",
                 "ticker", "ts_event", "type")

    def __init__(self, fill: Any) -> None:
        self.id = fill.id
        self.order_id = fill.order_id
        self.side = fill.side
        self.liquidity = fill.liquidity
        self.type = fill.type
        self.size = fill.size
        self.price = fill.price
        self.fee = fill.fee
        self.ticker = self.market = fill.market
        self.ts_event = iso_to_ns(fill.created_at)


def parse_order_tags(order: Order) -> DYDXOrderTags | None:
    """
    Return the `DYDXOrderTags` of an order, or None if it has none.

    Parameters
    ----------
    order : Order

    Returns
    -------
    DYDXOrderTags | None

    Raises
    ------
    ValueError
        If the tag's JSON does not parse.

    """
    return order_tags(order)[0]


def order_tags(order: Order) -> tuple[DYDXOrderTags | None, DYDXTwapTags | None]:
    """
    Return the `DYDXOrderTags` and `DYDXTwapTags` of an order (each None if absent).

    Parameters
    ----------
    order : Order

    Returns
    -------
    tuple[DYDXOrderTags | None, DYDXTwapTags | None]

    Raises
    ------
    ValueError
        If a tag's JSON does not parse or does not fit its fields.

    """
    tags = order.tags
    if not tags:
        return _NO_TAGS
    return _parse_tags(tuple(tags))


_NO_TAGS: tuple[None, None] = (None, None)


def _mark_index(side: OrderSide) -> int:
    # The slot of a cancel-all mark: 0 both sides, 1 buy, 2 sell
    if side == OrderSide.NO_ORDER_SIDE:
        return 0
    return 1 if side == OrderSide.BUY else 2


# A strategy reuses a few tag lists: parse each once (frozen, so safe to share)
@functools.lru_cache(maxsize=256)
def _parse_tags(tags: tuple[str, ...]) -> tuple[DYDXOrderTags | None, DYDXTwapTags | None]:
    order_tags = twap = None
    for tag in tags:
        if order_tags is None and tag.startswith(_TAGS_PREFIX):
            order_tags = DYDXOrderTags.parse(tag[len(_TAGS_PREFIX):])
        elif twap is None and tag.startswith(TWAP_TAGS_PREFIX):
            twap = DYDXTwapTags.parse(tag[len(TWAP_TAGS_PREFIX):])
    return order_tags, twap


class DYDXExecutionClient(ExecutionReportsMixin, LiveExecutionClient):
    """
    Execution client of one dYdX v4 subaccount: short-term, long-term and conditional orders.

    Orders are planned, checked against the chain's rules (anything it would reject is
    denied before signing), encoded by the compiled encoder and sent by
    `DYDXTransactionSender`: short-term messages go out concurrently, stateful ones under
    the sequence policy. Order events come from the Indexer's subaccount stream, correlated
    by the locally computed Indexer order UUID; a broadcast whose answer was lost stays
    submitted and is resolved from `GetTx` and the Indexer, never sent again.

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
        The event loop.
    client : DYDXHttpClient
        The Indexer REST client.
    node : DYDXNodeClient
        The validator gRPC client.
    msgbus : MessageBus
    cache : Cache
    clock : LiveClock
    instrument_provider : DYDXInstrumentProvider
    config : DYDXExecClientConfig
    name : str, optional
        The client ID (default ``DYDX``).
    codec : ClientIdCodec, optional
        The client ID codec; opened over ``config.state_dir`` on connect if None.
    sequence_mode : SequenceMode, default SEQUENTIAL
        How stateful transactions get their sequence.
    gtc_short_term : bool, default False
        Place GTC limit orders without `DYDXOrderTags` as short-term orders (quoting).
    market_slippage : Decimal, default 0.05
        The worst price of a market order: reference price times (1 +/- slippage).
    max_price_age_secs : float, default 10.0
        A reference price (oracle or quote) older than this is not used: the order is denied.
    unknown_timeout_blocks : int, default 30
        Blocks after which a stateful order with a lost broadcast answer and no trace on
        chain or Indexer is rejected.

    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client: DYDXHttpClient,
        node: DYDXNodeClient,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        instrument_provider: DYDXInstrumentProvider,
        config: DYDXExecClientConfig,
        name: str | None = None,
        codec: ClientIdCodec | None = None,
        sequence_mode: SequenceMode = SequenceMode.SEQUENTIAL,
        gtc_short_term: bool = False,
        market_slippage: Decimal = Decimal("0.05"),
        max_price_age_secs: float = 10.0,
        unknown_timeout_blocks: int = 30,
    ) -> None:
        super().__init__(
            loop=loop,
            client_id=ClientId(name or DYDX),
            venue=DYDX_VENUE,
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            base_currency=None,
            instrument_provider=instrument_provider,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            config=config,
        )
        if not Decimal(0) <= Decimal(market_slippage) < Decimal(1):
            raise ValueError(f"invalid market_slippage, was {market_slippage}")
        self._config = config
        self._http = client
        self._node = node
        self._provider = instrument_provider
        self._codec = codec
        self._sequence_mode = sequence_mode
        self._gtc_short_term = gtc_short_term
        self._slippage = Decimal(market_slippage)
        self._max_price_age_ns = int(max_price_age_secs * _NANOS)
        self._unknown_timeout_blocks = unknown_timeout_blocks
        self._subaccount = config.subaccount
        self._address: str | None = config.wallet_address
        if self._address is not None:
            self._set_account_id(AccountId(f"{name or DYDX}-{self._address}-{self._subaccount}"))
        self._wallet: Wallet | None = None
        self._subaccount_uuid: str | None = None
        self._order_uuids: OrderUuids | None = None
        self._child_order_uuids: dict[int, OrderUuids] = {}
        self._sender: DYDXTransactionSender | None = None
        self.tracker = BlockTracker()
        self._kinds = OrderKindConfig.from_exec_config(config)
        self._equity_tiers: tuple = ()
        self._tier_limit: tuple | None = None  # ((tiers, equity raw), limit) of the last check
        _, delay_initial_ms, delay_max_ms = config.retry_policy
        self._ws = DYDXWebSocketClient(
            config.endpoints.ws,
            handler=self._on_objects,
            on_stale=self._on_stale,
            reconnect_delay_initial_s=delay_initial_ms / 1000.0,
            reconnect_delay_max_s=delay_max_ms / 1000.0,
            handshake_timeout_s=config.ws_timeout_secs,
        )
        self._orders: dict[ClientOrderId, VenueOrder] = {}
        # Cancels that arrived before their order's submit (the risk engine queues submits;
        # cancels go straight to the execution engine): such an order is never placed
        self._early_cancels: dict[ClientOrderId, None] = {}
        # Per instrument, when the latest cancel-all of each side (none, buy, sell) was issued;
        # a submit issued before it that arrives after it is not placed either
        self._cancel_all_marks: dict[InstrumentId, list[int]] = {}
        self._latest_cancel_all_ns = -1
        self._cancel_all_snapshots: dict[UUID4, list[VenueOrder]] = {}
        self._by_venue_id: dict[str, VenueOrder] = {}
        self._fill_ids = IdRing(1 << 16)  # Fill IDs already applied (recent ones)
        self._orphan_fills: dict[str, list[FillUpdate]] = {}
        self._closed: deque[VenueOrder] = deque()
        self._max_closed = 10_000
        self._oracle: dict[str, tuple[Decimal, int]] = {}
        self._usdc = Decimal(0)
        self._positions: dict[str, Decimal] = {}
        self._calculated_account_warned = False
        self._snapshot = asyncio.Event()
        self._stale_since_ns: int | None = None
        self._own_tasks: list[asyncio.Task] = []
        self.metrics = ExecutionMetrics()
        self._replaced_ids = ReplacedVenueIds(cache)
        self.purge_guard: PurgeGuard | None = None
        self.benign_cancels = 0  # Cancels answered "already gone / already canceling"
        self._isolated: IsolatedRouter | None = (
            IsolatedRouter(self, config) if config.isolated_child_subaccounts else None
        )

    # -- Properties ----------------------------------------------------------------------------

    @property
    def address(self) -> str | None:
        """The account's bech32 address (known once connected or configured)."""
        return self._address

    @property
    def ws_client(self) -> DYDXWebSocketClient:
        """The WebSocket client of the subaccount stream."""
        return self._ws

    @property
    def codec(self) -> ClientIdCodec | None:
        """The client ID codec."""
        return self._codec

    @property
    def sender(self) -> DYDXTransactionSender | None:
        """The transaction sender (set on connect)."""
        return self._sender

    @property
    def usdc_balance(self) -> Decimal:
        """The subaccount's USDC asset position as last streamed (negative when borrowed)."""
        return self._usdc

    @property
    def venue_positions(self) -> dict[str, Decimal]:
        """The open perpetual positions as last streamed: signed size by ticker (a copy)."""
        return dict(self._positions)

    @property
    def isolated(self) -> IsolatedRouter | None:
        """The child-subaccount router of isolated markets (`isolated_child_subaccounts`)."""
        return self._isolated

    def venue_order(self, client_order_id: ClientOrderId) -> VenueOrder | None:
        """
        Return the venue state of an order of this client, or None.

        Parameters
        ----------
        client_order_id : ClientOrderId

        Returns
        -------
        VenueOrder | None

        """
        return self._orders.get(client_order_id)

    # -- Connection ----------------------------------------------------------------------------

    async def _connect(self) -> None:
        config = self._config
        secret_mnemonic = config.mnemonic.reveal() if config.mnemonic is not None else None
        secret_key = config.private_key.reveal() if config.private_key is not None else None
        permissioned = config.authenticator_ids is not None
        self._wallet = await Wallet.create(
            mnemonic=secret_mnemonic,
            private_key_hex=secret_key,
            # A permissioned key has its own address; it signs for the owner's
            address=None if permissioned else config.wallet_address,
        )
        signing_wallet: Wallet | PermissionedWallet = self._wallet
        if permissioned:
            signing_wallet = await permissioned_wallet(
                self._node, self._wallet, config.wallet_address, config.authenticator_ids,
            )
            self._log.info(
                f"Trading for {signing_wallet.address} with the permissioned key "
                f"{self._wallet.address} (authenticator {signing_wallet.authenticator_id})",
            )
        self._address = signing_wallet.address
        self._set_account_id(
            AccountId(f"{self.id.value}-{self._address}-{self._subaccount}"),
        )
        info = await self._node.get_node_info()
        self._kinds = OrderKindConfig.from_exec_config(config, info.short_block_window)
        chain_id = config.chain_id or info.chain_id or config.endpoints.chain_id
        self._sender = DYDXTransactionSender(
            self._node, signing_wallet, chain_id, mode=self._sequence_mode, tracker=self.tracker,
        )
        await self._sender.start()
        await self.tracker.refresh(self._node)
        try:
            self._equity_tiers = await self._node.get_equity_tier_limits()
        except Exception as e:  # The cap is then left to the chain
            self._log.warning(f"Cannot read the equity tiers: {e!r}")
        if self._codec is None:
            self._codec = open_client_id_codec(config, self._address)
        await self._provider.initialize()
        if self._provider.count == 0:
            await self._provider.load_all_async()  # Orders may name any market
        for instrument in self._provider.list_all():
            if self._cache.instrument(instrument.id) is None:
                self._cache.add_instrument(instrument)
        if self._isolated is not None:
            await self._isolated.load()
        else:
            try:
                subaccount = await self._http.get_subaccount(self._address, self._subaccount)
                self._apply_subaccount(subaccount.equity, subaccount.free_collateral, subaccount)
            except DYDXHttpError as e:  # A subaccount not funded yet has no Indexer record
                self._log.warning(f"No subaccount on the Indexer yet ({e!r}): zero balance")
                self._send_account(Decimal(0), Decimal(0))
        await self._ws.connect(timeout=config.ws_timeout_secs)
        await self._ws.subscribe_block_height()
        await self._ws.subscribe_markets()
        if self._isolated is not None:  # The parent and its isolated children
            await self._ws.subscribe_parent_subaccount(self._address, self._subaccount)
        else:
            await self._ws.subscribe_subaccount(self._address, self._subaccount)
        try:
            await asyncio.wait_for(self._snapshot.wait(), config.ws_timeout_secs)
        except TimeoutError:
            self._log.warning("No subaccount snapshot yet: orders resolve once it arrives")
        self._own_tasks.append(self.create_task(self.tracker.poll(self._node), log_msg="blocks"))
        self._own_tasks.append(self.create_task(self._prune_client_ids(), log_msg="client ids"))
        # dYdX positions are NETTING: Nautilus 1.221's order purge dies at a flat purged one.
        # Each connect: a restarted engine starts its own position purge loop again
        self.purge_guard = PurgeGuard.install(self._cache, self._loop) or self.purge_guard
        await self._await_account_registered()

    async def _disconnect(self) -> None:
        for task in self._own_tasks:
            task.cancel()
        self._own_tasks.clear()
        await self._ws.disconnect()
        for task in list(self._tasks):  # Resolutions and recoveries still running
            if task is not asyncio.current_task():
                task.cancel()

    async def _prune_client_ids(self) -> None:
        # Without it the codec's maps and the store keep a row per replaced (or stored-form)
        # order for good. In a thread: the delete waits for its fsync
        codec = self._codec
        assert codec is not None  # Opened in `_connect` before this task starts
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(_PRUNE_EVERY_SECS)
            try:
                await loop.run_in_executor(None, codec.prune)
            except ClientIdStoreError as e:
                self._log.warning(f"Cannot prune the client order ID store: {e}")

    # -- Stream --------------------------------------------------------------------------------

    def _on_stale(self, channel: str, channel_id: str | None, reason: str) -> None:
        if channel in _ACCOUNT_CHANNELS:
            self._log.warning(f"Subaccount stream stale ({reason}): recovering from REST")
            self._snapshot.clear()
            if self._stale_since_ns is None:
                self._stale_since_ns = self.tracker.chain_time_ns()  # The venue's clock

    async def _recover_gap(self, since_ns: int) -> None:
        # Messages lost while the stream was down: fills from REST (deduplicated by ID, oldest
        # first), then the state of every order still open here
        if self._address is None:
            return
        missed = []
        margin_ns = 10 * _NANOS  # Block times are coarse
        try:
            async for fill in self._http.iter_fills(
                self._address, self._subaccount, **self._rest_scope(),
            ):
                if iso_to_ns(fill.created_at) < since_ns - margin_ns:
                    break  # Newest first
                if fill.id not in self._fill_ids:
                    missed.append(fill)
            for fill in reversed(missed):
                self._on_fill(_RestFill(fill))
        except Exception as e:
            self._log.warning(f"Recovery of fills after a stream gap incomplete: {e!r}")
        for state in [s for s in self._orders.values() if not s.closed]:
            # One order at a time: one the Indexer cannot show (not in a block yet, or an
            # error) must not keep the others from being read
            try:
                venue = await self._http.get_order(state.venue_order_id)
            except Exception as e:
                # A 404 is an order not in a block yet: its updates are still to come
                if not isinstance(e, DYDXHttpError) or e.status != 404:
                    self._log.warning(f"Cannot read order {state.venue_order_id} after a "
                                      f"stream gap: {e!r}")
                continue
            self._handle_update(venue)

    async def _query_order(self, command: QueryOrder) -> None:
        # Nautilus's in-flight check asks here. The engine reconciles a report at once but
        # queues events, and infers one fill (new trade id, no price) from a report showing
        # more filled than its order: a report must neither overtake this client's queued
        # events nor run ahead of fills still to come, or the real fills arrive as doubles
        report = await self.generate_order_status_report(GenerateOrderStatusReport(
            instrument_id=command.instrument_id,
            client_order_id=command.client_order_id,
            venue_order_id=command.venue_order_id,
            command_id=UUID4(),
            ts_init=self._clock.timestamp_ns(),
        ))
        if report is None:
            self._log.warning(f"No order status report for {command.client_order_id!r}")
            return
        state = self._orders.get(command.client_order_id)
        if state is None:
            self._send_order_status_report(report)
            return
        if not state.closed and report.filled_qty.raw > state.filled_raw:
            await self._catch_up_fills(state, report.filled_qty.raw)
            if report.filled_qty.raw > state.filled_raw:
                # Filled on the venue, the fills not readable yet: they come by stream or
                # the next check; the venue holds the order, so it is accepted meanwhile
                self._log.info(
                    f"{command.client_order_id!r} has fills not yet delivered: waiting for them",
                )
                self._accept(state, report.ts_accepted or self._clock.timestamp_ns())
                return
        if self._engine_behind(state):
            return  # The events already sent carry the order to what the venue holds
        self._send_order_status_report(report)

    def _engine_behind(self, state: VenueOrder) -> bool:
        # Whether events this client sent for the order are still in the engine's queue
        order = self._cache.order(state.client_order_id)
        if order is None:
            return False
        return (
            order.filled_qty.raw < state.filled_raw
            or (state.accepted and order.status in (OrderStatus.INITIALIZED,
                                                    OrderStatus.SUBMITTED))
            or (state.closed and order.is_open)
        )

    async def _catch_up_fills(self, state: VenueOrder, venue_filled_raw: int) -> None:
        # The order's fills the stream did not deliver, from REST (newest first), applied
        # oldest first
        if self._address is None:
            return
        params = self._provider.market_params(state.instrument_id)
        instrument = self._cache.instrument(state.instrument_id)
        if params is None or instrument is None:
            return
        venue_ids = {state.venue_order_id, *state.old_venue_order_ids}
        missing: list = []
        missing_raw = venue_filled_raw - state.filled_raw
        scanned = 0
        try:
            async for fill in self._http.iter_fills(
                self._address, self._subaccount, market=params.ticker,
                **self._rest_scope(),
            ):
                scanned += 1
                if fill.order_id in venue_ids and fill.id not in self._fill_ids:
                    missing.append(fill)
                    missing_raw -= instrument.make_qty(Decimal(fill.size)).raw
                if missing_raw <= 0 or scanned >= _CATCH_UP_FILLS_SCAN:
                    break
        except Exception as e:
            self._log.warning(f"Fills of {state.client_order_id!r} not read: {e!r}")
            return
        for fill in reversed(missing):
            self._on_fill(_RestFill(fill))

    def _handle_update(self, update: Any) -> None:
        try:
            self._on_order_update(update)
        except Exception as e:
            self._log.exception("Error handling an order update", e)

    def _on_objects(self, objects: list) -> None:
        terminal: list[OrderUpdate] = []
        account_changed = False
        for obj in objects:
            kind = type(obj)
            try:
                if kind is OrderUpdate:
                    if obj.status in ACTIVE_STATUSES:
                        self._on_order_update(obj)
                    else:
                        terminal.append(obj)  # After this message's fills
                elif kind is FillUpdate:
                    self._on_fill(obj)
                elif kind is BlockHeight:
                    if obj.time is not None:
                        self.tracker.on_block_height(obj.height, obj.time)
                elif kind is MarketUpdate:
                    self._on_market(obj)
                elif kind is AssetPositionUpdate:
                    if self._isolated is not None and self._isolated.take(obj):
                        account_changed = True
                    elif obj.symbol == "USDC":
                        size = Decimal(obj.size)
                        self._usdc = -size if obj.side == "SHORT" else size
                        account_changed = True
                elif kind is PerpetualPositionUpdate:
                    if self._isolated is None or not self._isolated.take(obj):
                        self._on_position(obj)
                    account_changed = True
                elif kind is SubaccountInfo:
                    if self._isolated is None or not self._isolated.take(obj):
                        self._positions.clear()
                    account_changed = True
                elif kind is Subscribed and obj.channel in _ACCOUNT_CHANNELS:
                    self._snapshot.set()
                    if self._stale_since_ns is not None:
                        since, self._stale_since_ns = self._stale_since_ns, None
                        self.create_task(self._recover_gap(since), log_msg="stream gap")
            except Exception as e:
                self._log.exception(f"Error handling {kind.__name__}", e)
        for update in terminal:
            try:
                self._on_order_update(update)
            except Exception as e:
                self._log.exception("Error handling an order update", e)
        if account_changed:
            self._publish_account()

    def _on_market(self, update: MarketUpdate) -> None:
        oracle = update.fields.get("oraclePrice")
        if oracle:
            self._oracle[update.ticker] = (Decimal(oracle), self._clock.timestamp_ns())
        if "status" in update.fields or update.is_new:
            self._provider.apply_market_update(update.ticker, update.fields)

    def _on_position(self, update: PerpetualPositionUpdate) -> None:
        if update.status in ("CLOSED", "LIQUIDATED") or update.size is None:
            self._positions.pop(update.market, None)
            return
        size = Decimal(update.size)
        if update.side == "SHORT" and size > 0:
            size = -size
        self._positions[update.market] = size

    def _apply_subaccount(self, equity: str, free: str, subaccount: Any) -> None:
        usdc = subaccount.asset_positions.get("USDC")
        if usdc is not None:
            size = Decimal(usdc.size)
            self._usdc = -size if usdc.side == "SHORT" else size
        self._positions = {
            ticker: Decimal(position.size)
            for ticker, position in subaccount.open_perpetual_positions.items()
        }
        self._send_account(Decimal(equity), Decimal(free))

    def _publish_account(self) -> None:
        # Equity and free collateral from the balance, the positions and the oracle prices
        if self._isolated is not None:
            self._isolated.publish_account()  # Parent and children, in total and each
            return
        equity = self._usdc
        initial = Decimal(0)
        maintenance = Decimal(0)
        for ticker, size in self._positions.items():
            price = self._oracle.get(ticker)
            market = self._provider.market(ticker_to_instrument_id(ticker))
            if price is None or market is None:
                continue
            notional = size * price[0]
            equity += notional
            initial += abs(notional) * Decimal(market.initial_margin_fraction)
            maintenance += abs(notional) * Decimal(market.maintenance_margin_fraction)
        self._send_account(equity, equity - initial, initial, maintenance)

    def _send_account(
        self,
        equity: Decimal,
        free: Decimal,
        initial: Decimal | None = None,
        maintenance: Decimal | None = None,
        info: dict | None = None,
    ) -> None:
        if self.account_id is None:
            return
        free = min(max(free, Decimal(0)), max(equity, Decimal(0)))
        total = max(equity, Decimal(0))
        balance = AccountBalance(
            total=Money(total, USDC), locked=Money(total - free, USDC), free=Money(free, USDC),
        )
        initial = total - free if initial is None else initial
        margins = [
            MarginBalance(
                initial=Money(initial, USDC),
                maintenance=Money(initial if maintenance is None else maintenance, USDC),
            ),
        ]
        now = self._clock.timestamp_ns()
        state = AccountState(
            account_id=self.account_id, account_type=self.account_type,
            base_currency=self.base_currency, reported=True, balances=[balance],
            margins=margins, info=info or {}, event_id=UUID4(), ts_event=now, ts_init=now,
        )
        if self._register_reported_account(state):
            return
        self._send_account_state(state)

    def _register_reported_account(self, state: AccountState) -> bool:
        # The venue's balances already include every fill's fee: Nautilus must not book fills
        # into them too. Its `AccountFactory` would build a fill-calculated account whenever a
        # backtest venue of this client's name ran earlier in the process (a process-wide
        # registry), and the portfolio, which applies fills after our state, would then take
        # each fee a second time. So the first state creates the account here, as reported
        account = self._cache.account(state.account_id)
        if account is None:
            self._cache.add_account(MarginAccount(state, calculate_account_state=False))
            self._msgbus.publish(topic=f"events.account.{state.account_id}", msg=state)
            return True
        if account.calculate_account_state and not self._calculated_account_warned:
            self._calculated_account_warned = True
            self._log.error(
                f"{state.account_id} in the cache is calculated from fills by Nautilus: its "
                "balances take each fee again on top of the venue's (was it restored from a "
                "backtest's database?)",
            )
        return False

    # -- Order events --------------------------------------------------------------------------

    def _adopt(self, venue: Any) -> VenueOrder | None:
        # An order of ours the client has no state for (placed before a restart), from the
        # venue's record of it: a whole order (REST) or a stream update
        if self._codec is None:
            return None
        client_id, metadata = int(venue.client_id or 0), int(venue.client_metadata or 0)
        decoded = self._codec.decode(client_id, metadata)
        if decoded is None:
            return None
        client_order_id = ClientOrderId(base_client_order_id(decoded))
        order = self._cache.order(client_order_id)
        if order is None:
            return None
        state = VenueOrder(
            client_order_id=client_order_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_id=client_id,
            client_metadata=metadata,
            clob_pair_id=int(venue.clob_pair_id or 0),
            order_flags=int(venue.order_flags or 0),
            venue_order_id=venue.id,
            # An order Nautilus holds closed counts as never accepted: open on the venue, it
            # is an orphan and gets canceled there
            accepted=order.status not in (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED)
            and not order.is_closed,
            filled_raw=order.filled_qty.raw,
        )
        state.side = order_kinds.SIDE_BUY if order.side == OrderSide.BUY else order_kinds.SIDE_SELL
        number = venue.subaccount_number
        if number is not None and number != self._subaccount:
            state.subaccount_number = number  # An isolated child's order
        self._fill_state(state, venue)  # Its expiry, or a cancel of it would not hold
        self._codec.mark_seen(client_id, decoded)
        self._register(state)
        return state

    def _register(self, state: VenueOrder) -> None:
        self._orders[state.client_order_id] = state
        self._by_venue_id[state.venue_order_id] = state
        for venue_id in state.old_venue_order_ids:  # Replaced orders, TWAP suborders
            self._by_venue_id[venue_id] = state

    def _on_order_update(self, update: OrderUpdate) -> None:
        state = self._by_venue_id.get(update.id)
        if state is None:
            if self._isolated is not None:
                self._isolated.on_order_update(update)
            state = self._adopt(update)
            if state is None:
                self._external_order(update)
                return
        if state.replace_sending and (
            state.venue_order_id != update.id or update.status not in ACTIVE_STATUSES
        ):
            # A cancel-replace's block can stream before the broadcast's answer is back: the
            # old id's removal and the replacement wait for the outcome, which decides them
            state.held_by_replace.append(update)
            return
        if state.venue_order_id != update.id:
            return  # A replaced stateful order's old id
        ts = self._update_ns(update)
        if update.good_til_block:
            state.good_til_block = max(state.good_til_block, int(update.good_til_block))
        status = update.status
        if update.total_filled is not None:
            instrument = self._cache.instrument(state.instrument_id)
            if instrument is not None:
                state.venue_filled_raw = instrument.make_qty(Decimal(update.total_filled)).raw
        if status in ACTIVE_STATUSES:
            if state.closed:
                return
            order = self._cache.order(state.client_order_id)
            if not state.accepted and (order is None or order.is_closed):
                self._cancel_orphaned(state, order)
                return
            if state.replacing and status != "BEST_EFFORT_CANCELED":
                state.replacing = max(0, state.replacing - 1)
            self._accept(state, ts)
            if status == "UNTRIGGERED":
                state.untriggered = True
            elif status == "OPEN" and state.untriggered:
                state.untriggered = False
                self._trigger(state, ts)
            if status == "BEST_EFFORT_CANCELED":
                state.pending_cancel = True  # It may still fill until its good-til-block
            return
        if status == "CANCELED" and update.removal_reason == REPLACED_REASON:
            return  # The replacement follows with the same id
        if state.closed:
            return
        if state.venue_filled_raw > state.filled_raw:
            state.held_terminal = update  # Fills of this order are still to come
            return
        self._close(state, update, ts)

    def _cancel_orphaned(self, state: VenueOrder, order: Order | None) -> None:
        # Nautilus closed the order before the venue showed it (the engine's in-flight check
        # gave up on a slow venue): it must not rest there unseen, so cancel it
        if state.pending_cancel:
            return
        status = order.status_string() if order is not None else "purged"
        self._log.warning(
            f"{state.client_order_id!r} is {status} in Nautilus but open on the venue: "
            "canceling it there",
        )
        self.create_task(self._cancel_states([state]), log_msg="cancel orphaned order")

    def _external_order(self, update: OrderUpdate) -> None:
        # An order placed by another client of the subaccount: a report for the engine
        if self._codec is not None and self._codec.decode(
            int(update.client_id or 0), int(update.client_metadata or 0),
        ) is not None:
            return  # Ours, not in the cache (yet): reconciliation owns it
        if None in (update.size, update.price, update.side, update.total_filled, update.status):
            return  # A partial update of an order never seen whole
        report = self._order_report(update)
        if report is not None:
            self._send_order_status_report(report)

    def _close(self, state: VenueOrder, update: OrderUpdate, ts: int) -> None:
        status = update.status
        reason = update.removal_reason
        state.held_terminal = None
        if status == "FILLED":
            state.closed = True  # The fills already completed it
            self._release(state)
            return
        order = self._cache.order(state.client_order_id)
        if order is None or order.is_closed:
            state.closed = True
            self._release(state)
            return
        if reason in REJECTED_REASONS and state.filled_raw == 0 and not order.is_pending_cancel:
            state.closed = True
            self.generate_order_rejected(
                state.strategy_id, state.instrument_id, state.client_order_id,
                f"removed by the venue: {short_reason(reason)}", ts,
                due_post_only=reason.endswith("POST_ONLY_WOULD_CROSS_MAKER_ORDER"),
            )
            self._release(state)
            return
        self._accept(state, ts)
        state.closed = True
        venue_order_id = VenueOrderId(state.venue_order_id)
        if reason in EXPIRED_REASONS:
            self.generate_order_expired(
                state.strategy_id, state.instrument_id, state.client_order_id, venue_order_id, ts,
            )
        else:
            self.generate_order_canceled(
                state.strategy_id, state.instrument_id, state.client_order_id, venue_order_id, ts,
            )
        self._release(state)

    def _accept(self, state: VenueOrder, ts: int) -> None:
        if state.accepted:
            return
        state.accepted = True
        if state.command_ns:
            self.metrics.record("venue_ack", state.command_ns, self._clock.timestamp_ns())
        self.generate_order_accepted(
            state.strategy_id, state.instrument_id, state.client_order_id,
            VenueOrderId(state.venue_order_id), ts,
        )

    def _trigger(self, state: VenueOrder, ts: int) -> None:
        order = self._cache.order(state.client_order_id)
        if order is None or order.order_type not in (
            OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED,
        ):
            return  # Only orders with a limit price have a triggered state in Nautilus
        self.generate_order_triggered(
            state.strategy_id, state.instrument_id, state.client_order_id,
            VenueOrderId(state.venue_order_id), ts,
        )

    def _release(self, state: VenueOrder) -> None:
        # Closed orders stay known for late messages, the oldest forgotten beyond a bound
        self._closed.append(state)
        while len(self._closed) > self._max_closed:
            old = self._closed.popleft()
            if self._orders.get(old.client_order_id) is old:
                del self._orders[old.client_order_id]
            for venue_id in (old.venue_order_id, *old.old_venue_order_ids):
                if self._by_venue_id.get(venue_id) is old:
                    del self._by_venue_id[venue_id]
        if state.generation:  # Nautilus would keep the replaced venue IDs for good
            self._replaced_ids.forget(state.client_order_id, state.venue_order_id,
                                      state.old_venue_order_ids)
        if self._codec is not None:
            self._codec.release(str(state.client_order_id))
            for generation in range(1, state.generation + 1):
                self._codec.release(f"{state.client_order_id}.r{generation}")
        if self._isolated is not None and state.subaccount_number is not None:
            self._isolated.on_order_closed(state)

    def _update_ns(self, update: OrderUpdate) -> int:
        if update.updated_at:
            try:
                return iso_to_ns(update.updated_at)
            except Exception:
                pass
        return self._clock.timestamp_ns()

    def _on_fill(self, fill: FillUpdate) -> None:
        if fill.id in self._fill_ids:
            return
        venue_id = fill.order_id
        state = self._by_venue_id.get(venue_id) if venue_id else None
        if state is None:
            if venue_id:
                # The order update may follow: keep the fill until the order is known
                pending = self._orphan_fills.setdefault(venue_id, [])
                if not pending:
                    self.create_task(self._resolve_orphan(venue_id), log_msg="orphan fill")
                pending.append(fill)
            else:
                self._external_fill(fill)
            return
        self._apply_fill(state, fill)

    def _apply_fill(self, state: VenueOrder, fill: FillUpdate) -> None:
        if fill.id in self._fill_ids:
            return
        order = self._cache.order(state.client_order_id)
        instrument = self._cache.instrument(state.instrument_id)
        if instrument is None:
            return
        if order is None or order.is_closed:
            # Closed (or purged) in Nautilus before the venue's fill arrived, e.g. resolved as
            # failed by the engine's in-flight check: the fill still moves the position
            self._external_fill(fill)
            return
        self._fill_ids.add(fill.id)
        ts = fill.ts_event or self._clock.timestamp_ns()
        self._accept(state, ts)
        quantity = instrument.make_qty(Decimal(fill.size))
        state.filled_raw += quantity.raw
        if state.fills_seen == 0 and state.command_ns:
            self.metrics.record("first_fill", state.command_ns, self._clock.timestamp_ns())
        state.fills_seen += 1
        self.generate_order_filled(
            strategy_id=state.strategy_id,
            instrument_id=state.instrument_id,
            client_order_id=state.client_order_id,
            venue_order_id=VenueOrderId(state.venue_order_id),
            venue_position_id=None,
            trade_id=TradeId(fill.id),
            order_side=OrderSide.BUY if fill.side == "BUY" else OrderSide.SELL,
            order_type=order.order_type,
            last_qty=quantity,
            last_px=instrument.make_price(Decimal(fill.price)),
            quote_currency=instrument.quote_currency,
            commission=Money(Decimal(fill.fee or "0"), instrument.settlement_currency),
            liquidity_side=LiquiditySide.MAKER if fill.liquidity == "MAKER" else (
                LiquiditySide.TAKER
            ),
            ts_event=ts,
            info={"fill_type": fill.type} if fill.type else None,
        )
        held = state.held_terminal
        if held is not None and state.filled_raw >= state.venue_filled_raw:
            self._close(state, held, self._update_ns(held))

    async def _resolve_orphan(self, venue_id: str) -> None:
        # A fill whose order was not known: look the order up once, then apply the fills
        await asyncio.sleep(0)
        ours = False
        if venue_id not in self._by_venue_id:
            try:
                order = await self._http.get_order(venue_id)
                self._adopt(order)
                ours = self._codec is not None and self._codec.decode(
                    int(order.client_id), int(order.client_metadata or 0),
                ) is not None
            except Exception as e:
                self._log.warning(f"Cannot resolve the order of fills {venue_id}: {e!r}")
        fills = self._orphan_fills.pop(venue_id, [])
        state = self._by_venue_id.get(venue_id)
        for fill in fills:
            if state is not None:
                self._apply_fill(state, fill)
            elif ours:
                # Ours but not in the cache (yet): reconciliation reports it from REST
                self._log.info(f"Fill {fill.id} of an order not in the cache left to reports")
            else:
                self._external_fill(fill)

    def _external_fill(self, fill: FillUpdate) -> None:
        # A fill without an order of ours (liquidation, deleveraging, foreign order)
        ticker = fill.ticker or fill.market
        if ticker is None or self.account_id is None:
            return
        instrument = self._cache.instrument(ticker_to_instrument_id(ticker))
        if instrument is None:
            return
        self._fill_ids.add(fill.id)
        now = self._clock.timestamp_ns()
        ts = fill.ts_event or now
        venue_order_id = VenueOrderId(fill.order_id or f"{fill.type or 'FILL'}-{fill.id}")
        side = OrderSide.BUY if fill.side == "BUY" else OrderSide.SELL
        quantity = instrument.make_qty(Decimal(fill.size))
        price = instrument.make_price(Decimal(fill.price))
        if self._cache.client_order_id(venue_order_id) is None:
            self._send_order_status_report(self._fill_order_report(
                instrument, venue_order_id, side, quantity, ts, now,
            ))
        self._send_fill_report(
            FillReport(
                account_id=self.account_id, instrument_id=instrument.id,
                venue_order_id=venue_order_id, trade_id=TradeId(fill.id), order_side=side,
                last_qty=quantity, last_px=price,
                commission=Money(Decimal(fill.fee or "0"), instrument.settlement_currency),
                liquidity_side=LiquiditySide.MAKER if fill.liquidity == "MAKER" else (
                    LiquiditySide.TAKER
                ),
                report_id=UUID4(), ts_event=ts, ts_init=now,
            ),
        )

    def _fill_order_report(self, instrument: Any, venue_order_id: VenueOrderId,
                           side: OrderSide, quantity: Quantity, ts: int,
                           now: int) -> OrderStatusReport:
        # The order a fill without one of ours belongs to, open until the fill report
        assert self.account_id is not None
        return OrderStatusReport(
            account_id=self.account_id, instrument_id=instrument.id,
            venue_order_id=venue_order_id, order_side=side, order_type=OrderType.MARKET,
            time_in_force=TimeInForce.IOC, order_status=OrderStatus.ACCEPTED,
            quantity=quantity, filled_qty=Quantity.zero(instrument.size_precision),
            report_id=UUID4(), ts_accepted=ts, ts_last=ts, ts_init=now,
        )

    # -- Submission ----------------------------------------------------------------------------

    def _deny(self, order: Order, reason: str) -> None:
        self.generate_order_denied(
            order.strategy_id, order.instrument_id, order.client_order_id, reason,
            self._clock.timestamp_ns(),
        )

    def _reference_price(self, instrument: Any, side: OrderSide) -> Decimal | None:
        now = self._clock.timestamp_ns()
        ticker = instrument.raw_symbol.value
        oracle = self._oracle.get(ticker)
        if oracle is not None and now - oracle[1] <= self._max_price_age_ns:
            return oracle[0]
        quote = self._cache.quote_tick(instrument.id)
        if quote is not None and now - quote.ts_init <= self._max_price_age_ns:
            return (quote.ask_price if side == OrderSide.BUY else quote.bid_price).as_decimal()
        return None

    def _worst_price(self, order: Order, instrument: Any, tags: DYDXOrderTags | None) -> int:
        if tags is not None and tags.market_order_price is not None:
            return instrument.make_price(tags.market_order_price.as_decimal()).raw
        reference = self._reference_price(instrument, order.side)
        if reference is None:
            raise OrderRefused(
                6, "clob",
                f"no oracle price or quote newer than {self._max_price_age_ns / _NANOS:g}s "
                "for the market order's worst price",
            )
        tick = instrument.price_increment.as_decimal()
        if order.side == OrderSide.BUY:
            worst = (reference * (1 + self._slippage) / tick).to_integral_value(ROUND_FLOOR)
        else:
            worst = (reference * (1 - self._slippage) / tick).to_integral_value(ROUND_CEILING)
        worst = max(worst, Decimal(1)) * tick
        return instrument.make_price(worst).raw

    def _kind_config(self, tags: DYDXOrderTags | None) -> OrderKindConfig:
        if tags is None or tags.num_blocks_open == self._kinds.short_term_blocks:
            return self._kinds
        blocks = min(max(1, tags.num_blocks_open), 40)
        return dataclasses.replace(self._kinds, short_term_blocks=blocks)

    def _plan(self, order: Order, fields: order_kinds.OrderFields,
              tags: DYDXOrderTags | None, kinds: OrderKindConfig) -> order_kinds.OrderPlan:
        if order.time_in_force == TimeInForce.DAY:
            raise OrderRefused(44, "clob", "time in force DAY is not supported (use GTD)")
        now_ns = self.tracker.chain_time_ns()
        block_ns = max(1, int(self.tracker.block_time_secs * _NANOS))
        short_term = self._gtc_short_term if tags is None else tags.is_short_term_order
        if (
            order.order_type == OrderType.LIMIT
            and order.time_in_force == TimeInForce.GTC
            and short_term
        ):
            fields = dataclasses.replace(
                fields, time_in_force=TimeInForce.GTD,
                expire_time_ns=now_ns + kinds.blocks_ahead * block_ns,
            )
        if tags is not None and not tags.is_short_term_order and (
            order.order_type == OrderType.MARKET or order.time_in_force == TimeInForce.IOC
        ):
            raise OrderRefused(3002, "clob", "stateful orders cannot require immediate execution")
        return order_kinds.plan_order(fields, self.tracker.height, block_ns, now_ns, kinds)

    def _fast_plan(self, order: Order, tags: DYDXOrderTags | None,
                   kinds: OrderKindConfig) -> tuple | None:
        # `_plan` of a GTC or IOC limit, stop-limit or limit-if-touched order as `plan_values`,
        # without building `OrderFields` or `OrderPlan`; None leaves the order (and any
        # refusal) to `_plan`
        tracker = self.tracker
        if not tracker.has_block:
            return None
        order_type = order.order_type
        tif = order.time_in_force
        if tags is not None and not tags.is_short_term_order and tif == TimeInForce.IOC:
            return None  # Refused by `_plan`
        if order_type == OrderType.LIMIT:
            short_term = self._gtc_short_term if tags is None else tags.is_short_term_order
            # Only a long-term order's expiry needs the chain time
            now_ns = 0 if short_term or tif != TimeInForce.GTC else tracker.chain_time_ns()
            return order_kinds.plan_limit_values(
                order.side, order.quantity.raw, order.price.raw, tif, order.is_post_only,
                order.is_reduce_only, short_term, tracker.height, now_ns, kinds,
            )
        if order_type in _TRIGGER_LIMIT_TYPES:
            return order_kinds.plan_trigger_limit_values(
                order_type, order.side, order.quantity.raw, order.price.raw,
                order.trigger_price.raw, tif, order.is_post_only, order.is_reduce_only,
                tracker.chain_time_ns(), kinds,
            )
        return None

    def _check_isolation(self, instrument_id: InstrumentId) -> None:
        # An isolated market trades alone in its subaccount; a cross market never beside one
        if not self._positions:
            return  # Nothing held beside the order (the common case of a quoting strategy)
        params = self._provider.market_params(instrument_id)
        if params is None:
            return
        ticker = params.ticker
        others = [t for t, size in self._positions.items() if size and t != ticker]
        if params.market_type == "ISOLATED" and others:
            raise OrderRefused(
                2005, "clob",
                f"isolated market {ticker} needs a subaccount without other positions "
                f"(open: {', '.join(sorted(others))}); use an isolated subaccount (128+)",
            )
        for other in others:
            other_params = self._provider.market_params(ticker_to_instrument_id(other))
            if other_params is not None and other_params.market_type == "ISOLATED":
                raise OrderRefused(
                    2005, "clob",
                    f"the subaccount holds isolated market {other}: no other market beside it",
                )

    def _number_of(self, state: VenueOrder) -> int:
        # The subaccount an order lives in: an isolated child's, else the client's
        return self._subaccount if state.subaccount_number is None else state.subaccount_number

    def _rest_scope(self) -> dict[str, Any]:
        # Indexer account routes cover the isolated children too in isolated mode
        return {"parent": True} if self._isolated is not None else {}

    def _check_equity_tier(self) -> None:
        if not self._equity_tiers:
            return
        account = self._cache.account_for_venue(DYDX_VENUE)
        if account is None:
            return
        balance = account.balance(USDC)
        total = None if balance is None else balance.total
        # The limit only changes with the tiers or the equity: kept for the last pair
        key = (self._equity_tiers, None if total is None else total.raw)
        cached = self._tier_limit
        if cached is not None and cached[0] == key:
            limit = cached[1]
        else:
            equity_quantums = 0 if total is None else int(total.as_decimal() * 1_000_000)
            limit = 0
            for tier in self._equity_tiers:
                if tier.usd_tnc_required <= equity_quantums:
                    limit = tier.limit
            self._tier_limit = (key, limit)
        if len(self._orders) < limit:
            return  # Fewer orders of any kind than the limit: no need to count
        open_stateful = sum(
            1 for state in self._orders.values() if not state.closed and not state.is_short_term
        )
        if open_stateful >= limit:
            raise OrderRefused(
                10001, "clob",
                f"equity tier limit: {open_stateful} open stateful orders, limit {limit}",
            )

    def _venue_order_id(self, client_id: int, clob_pair_id: int, order_flags: int,
                        subaccount: int | None = None) -> str:
        # The Indexer's order UUID (§2.14), with the subaccount UUID computed once
        if subaccount is not None and subaccount != self._subaccount:
            assert self._address is not None  # An isolated child subaccount
            child = self._child_order_uuids.get(subaccount)
            if child is None:
                child = self._child_order_uuids[subaccount] = OrderUuids(self._address, subaccount)
            return child(client_id, clob_pair_id, order_flags)
        order_uuids = getattr(self, "_order_uuids", None)  # Set on the first call
        if order_uuids is None:
            assert self._address is not None
            self._subaccount_uuid = str(subaccount_uuid(self._address, self._subaccount))
            order_uuids = self._order_uuids = OrderUuids(self._address, self._subaccount)
        return order_uuids(client_id, clob_pair_id, order_flags)

    def _prepare(self, order: Order, command_ns: int) -> tuple[VenueOrder, bytes] | None:
        # Validate, plan and encode; deny (and return None) what the chain would reject
        encoded = self._encode(order, command_ns)
        if encoded is None:
            return None
        message, _, new_state = encoded
        return new_state(), message

    def _encode(self, order: Order, command_ns: int,
                ) -> tuple[bytes, int, Callable[[], VenueOrder]] | None:
        # `_prepare` without building the venue state: returns the message, the order flags
        # and a callable building the state, so a short-term order can be signed first
        if self._sender is None or self._codec is None or self._address is None:
            self._deny(order, "the dYdX execution client is not connected")
            return None
        instrument = self._cache.instrument(order.instrument_id)
        if instrument is None:
            self._deny(order, f"no instrument {order.instrument_id}")
            return None
        reason = self._provider.untradable_reason(order.instrument_id, order.is_post_only)
        if reason is not None:
            self._deny(order, f"clob 34: {reason}")
            return None
        try:
            tags, twap = order_tags(order)
        except ValueError as e:
            self._deny(order, f"invalid order tags: {e}")
            return None
        if twap is not None:
            prepared = self._prepare_twap(order, twap, command_ns)
            if prepared is None:
                return None
            state, message = prepared
            return message, state.order_flags, lambda: state
        try:
            worst = (
                self._worst_price(order, instrument, tags)
                if order.order_type in _MARKET_TYPES else None
            )
            kinds = self._kind_config(tags)
            values = self._fast_plan(order, tags, kinds) if worst is None else None
            if values is None:
                fields = order_kinds.fields_from_order(order, worst)
                values = order_kinds.plan_values(self._plan(order, fields, tags, kinds))
            self._check_isolation(order.instrument_id)
            if values[0] != order_kinds.FLAGS_SHORT_TERM:
                self._check_equity_tier()
            client_id, metadata = self._codec.encode(order.client_order_id.value)
            encoder = self._provider.encoder(order.instrument_id, self._address, self._subaccount)
            message = order_kinds.place_values_any(encoder, values, client_id, metadata, kinds)
        except OrderRefused as e:
            self._deny(order, f"{e.codespace} {e.code}: {e.reason}")
            return None
        except (ValueError, KeyError, ClientIdCollisionError) as e:
            self._deny(order, str(e))
            return None
        new_state = functools.partial(
            self._new_state, order, values, client_id, metadata, encoder.clob_pair_id, command_ns,
        )
        return message, values[0], new_state

    def _new_state(self, order: Order, values: tuple, client_id: int, metadata: int,
                   clob_pair_id: int, command_ns: int,
                   subaccount: int | None = None) -> VenueOrder:
        # `values` as `order_kinds.plan_values`; `subaccount` an isolated child's number
        flags, side, tif, _, gtb, gtbt, reduce_only = values[:7]
        return VenueOrder(
            client_order_id=order.client_order_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_id=client_id,
            client_metadata=metadata,
            clob_pair_id=clob_pair_id,
            order_flags=flags,
            venue_order_id=self._venue_order_id(client_id, clob_pair_id, flags, subaccount),
            side=side,
            time_in_force=tif,
            reduce_only=reduce_only,
            good_til_block=gtb,
            good_til_block_time=gtbt,
            command_ns=command_ns,
            subaccount_number=subaccount,
        )

    def _prepare_twap(self, order: Order, twap: DYDXTwapTags,
                      command_ns: int) -> tuple[VenueOrder, bytes] | None:
        # A native TWAP: one stateful order, the venue places the suborders
        assert self._codec is not None and self._address is not None
        try:
            twap.check()
            if order.order_type not in (OrderType.LIMIT, OrderType.MARKET):
                raise OrderRefused(9002, "clob", "a TWAP order is a LIMIT or MARKET order")
            if order.is_post_only or order.time_in_force in (
                TimeInForce.IOC, TimeInForce.FOK, TimeInForce.DAY,
            ):
                raise OrderRefused(49, "clob", "a TWAP order cannot be post-only, IOC or FOK")
            if order.is_reduce_only:
                raise OrderRefused(9003, "clob", "a TWAP order cannot be reduce-only")
            now_s = self.tracker.chain_time_ns() // _NANOS
            gtbt = now_s + self._kinds.gtc_horizon_seconds
            if order.time_in_force == TimeInForce.GTD:
                gtbt = -(-order.expire_time_ns // _NANOS)
                if gtbt <= now_s + twap.duration_secs:
                    raise OrderRefused(3003, "clob", "the TWAP expires before its duration ends")
            self._check_isolation(order.instrument_id)
            self._check_equity_tier()
            client_id, metadata = self._codec.encode(order.client_order_id.value)
            encoder = self._provider.encoder(order.instrument_id, self._address, self._subaccount)
            side = order_kinds.SIDE_BUY if order.side == OrderSide.BUY else order_kinds.SIDE_SELL
            subticks = 0
            if order.order_type == OrderType.LIMIT:
                subticks = encoder.subticks(order.price.raw,
                                            order_kinds.rounding_for(side, self._kinds))
            message = twap_place_order_any(
                self._address, self._subaccount, client_id, encoder.clob_pair_id, side,
                encoder.quantums(order.quantity.raw), subticks, gtbt, metadata, twap,
            )
        except OrderRefused as e:
            self._deny(order, f"{e.codespace} {e.code}: {e.reason}")
            return None
        except (ValueError, KeyError, ClientIdCollisionError) as e:
            self._deny(order, str(e))
            return None
        state = VenueOrder(
            client_order_id=order.client_order_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_id=client_id,
            client_metadata=metadata,
            clob_pair_id=encoder.clob_pair_id,
            order_flags=FLAGS_TWAP,
            venue_order_id=self._venue_order_id(client_id, encoder.clob_pair_id, FLAGS_TWAP),
            side=side,
            good_til_block_time=gtbt,
            command_ns=command_ns,
        )
        # Suborders share the client ID: their fills are this order's fills
        state.old_venue_order_ids.append(
            self._venue_order_id(client_id, encoder.clob_pair_id, FLAGS_TWAP_SUBORDER),
        )
        return state, message

    def submit_order(self, command: SubmitOrder) -> None:
        # Prepared and signed here, not in a task: a short-term order's signed bytes exist
        # before the strategy's call returns; only the broadcast waits for the event loop
        order = command.order
        if (self._early_cancels or command.ts_init <= self._latest_cancel_all_ns) and (
            self._canceled_before_submit(order, command.ts_init)
        ):
            return
        if order.is_closed or (
            self._isolated is not None and self._isolated.routes(order.instrument_id)
        ):
            super().submit_order(command)  # The isolated route first moves collateral
            return
        try:
            sending = self._submit_now(order)
        except Exception as e:
            self._log.exception(f"Error on 'submit_order: {order.client_order_id}'", e)
            return
        # The command log line, formatted once the transaction is signed
        self._log.info(f"Submit {order}", LogColor.BLUE)
        if sending is not None:
            self.create_task(sending, log_msg=f"submit_order: {order.client_order_id}")

    def _submit_now(self, order: Order) -> Coroutine[Any, Any, None] | None:
        # The synchronous part of `_submit_order`; returns the rest (the broadcast)
        encoded = self._encode(order, self._clock.timestamp_ns())
        if encoded is None:
            return None
        message, order_flags, new_state = encoded
        if order_flags == order_kinds.FLAGS_SHORT_TERM:
            assert self._sender is not None
            # Signed before the venue state is built: the bytes are the critical path
            tx, sequence = self._sender.sign_short_term(message)
            signed_ns = self._clock.timestamp_ns()
            state = new_state()
            self._on_short_term_signed(order, state, signed_ns)
            return self._broadcast_short_term(state, tx, sequence)
        state = new_state()
        # Registered now, so the next order's equity-tier check counts this one
        self._register(state)
        if state.order_flags == order_kinds.FLAGS_CONDITIONAL:
            return self.submit_conditional_order(order, state, message)
        return self.submit_long_term_order(order, state, message)

    async def _submit_order(self, command: SubmitOrder) -> None:
        order = command.order
        if order.is_closed or self._canceled_before_submit(order, command.ts_init):
            return
        command_ns = self._clock.timestamp_ns()
        if self._isolated is not None and self._isolated.routes(order.instrument_id):
            await self._isolated.submit(order, command_ns)  # Through a child subaccount
            return
        prepared = self._prepare(order, command_ns)
        if prepared is None:
            return
        state, message = prepared
        if state.is_short_term:
            await self.submit_short_term_order(order, state, message)
        elif state.order_flags == order_kinds.FLAGS_CONDITIONAL:
            await self.submit_conditional_order(order, state, message)
        else:
            await self.submit_long_term_order(order, state, message)

    async def submit_short_term_order(self, order: Order, state: VenueOrder,
                                      message: bytes) -> None:
        """
        Sign and broadcast a prepared short-term order (no lock, no wait for the sequence).

        Parameters
        ----------
        order : Order
        state : VenueOrder
        message : bytes
            The encoded `MsgPlaceOrder` `Any`.

        """
        tx, sequence = self._sign_short_term(order, state, message)
        await self._broadcast_short_term(state, tx, sequence)

    def _sign_short_term(self, order: Order, state: VenueOrder,
                         message: bytes) -> tuple[bytes, int]:
        # Sign, then register and report the order submitted (nothing here waits)
        assert self._sender is not None
        tx, sequence = self._sender.sign_short_term(message)
        self._on_short_term_signed(order, state, self._clock.timestamp_ns())
        return tx, sequence

    def _on_short_term_signed(self, order: Order, state: VenueOrder, signed_ns: int) -> None:
        self.metrics.record("signed", state.command_ns, signed_ns)
        self._register(state)
        self.generate_order_submitted(
            order.strategy_id, order.instrument_id, order.client_order_id, signed_ns,
        )

    async def _broadcast_short_term(self, state: VenueOrder, tx: bytes, sequence: int) -> None:
        assert self._sender is not None
        outcome = await self._sender.broadcast_signed(tx, sequence)
        self._on_outcome([state], outcome)

    async def submit_long_term_order(self, order: Order, state: VenueOrder,
                                     message: bytes) -> None:
        """
        Broadcast a prepared long-term order under the sequence policy.

        Parameters
        ----------
        order : Order
        state : VenueOrder
        message : bytes

        """
        await self._submit_stateful([(order, state, message)])

    async def submit_conditional_order(self, order: Order, state: VenueOrder,
                                       message: bytes) -> None:
        """
        Broadcast a prepared conditional (stop / take-profit) order under the sequence policy.

        Parameters
        ----------
        order : Order
        state : VenueOrder
        message : bytes

        """
        await self._submit_stateful([(order, state, message)])

    async def _submit_stateful(self, items: list[tuple[Order, VenueOrder, bytes]]) -> None:
        assert self._sender is not None
        for order, state, _ in items:
            self._register(state)
            self.generate_order_submitted(
                order.strategy_id, order.instrument_id, order.client_order_id,
                self._clock.timestamp_ns(),
            )
        messages = [message for _, _, message in items]
        outcome = await self._sender.send_stateful(messages if len(messages) > 1 else messages[0])
        self._on_outcome([state for _, state, _ in items], outcome)

    def _on_outcome(self, states: list[VenueOrder], outcome: TxOutcome) -> None:
        now = self._clock.timestamp_ns()
        for state in states:
            if state.command_ns:
                self.metrics.record("broadcast", state.command_ns, now)
        if outcome.status == TxStatus.ACCEPTED:
            return
        if outcome.status == TxStatus.UNKNOWN:
            for state in states:
                state.unknown_txhash = outcome.txhash
            self._log.warning(
                f"Broadcast outcome unknown for tx {outcome.txhash}: resolving from the chain "
                "and the Indexer (not re-sent)",
            )
            self.create_task(self._resolve_unknown(states, outcome.txhash), log_msg="unknown tx")
            return
        reason = f"{outcome.codespace} {outcome.code}: {outcome.raw_log}"
        post_only = outcome.codespace == "clob" and outcome.code == 2003
        for state in states:
            if state.accepted or state.closed:
                continue
            state.closed = True
            self.generate_order_rejected(
                state.strategy_id, state.instrument_id, state.client_order_id, reason, now,
                due_post_only=post_only,
            )
            self._release(state)

    async def _resolve_unknown(self, states: list[VenueOrder], txhash: str) -> None:
        assert self._sender is not None
        start_height = self.tracker.height
        included = False
        answered = False  # Whether the last GetTx answered (a failed call proves nothing)
        while True:
            open_states = [s for s in states if not s.accepted and not s.closed]
            if not open_states:
                return
            stateful = not open_states[0].is_short_term
            if stateful:
                try:
                    result = await self._sender.confirm(txhash)
                    answered = True
                except Exception as e:
                    self._log.warning(f"GetTx {txhash} failed: {e!r}")
                    result = None
                    answered = False
                if result is not None and not result.accepted:
                    self._on_outcome(open_states, TxOutcome(
                        TxStatus.REJECTED, txhash, result.code, result.codespace,
                        result.raw_log,
                    ))
                    return
                if result is not None:
                    included = True  # On chain: only the venue's own messages close it now
                    await self._poll_indexer(open_states)
                    if all(s.accepted or s.closed for s in open_states):
                        return
            else:
                await self._poll_indexer(open_states)
            height = self.tracker.height
            expired = [
                s for s in open_states if not s.accepted and not s.closed and (
                    (s.is_short_term and height > s.good_til_block)
                    or (not s.is_short_term and not included and answered
                        and height > start_height + self._unknown_timeout_blocks)
                )
            ]
            if expired:
                self._on_outcome(expired, TxOutcome(
                    TxStatus.REJECTED, txhash, -1, "unknown",
                    "the broadcast answer was lost and the order never reached the venue",
                ))
            if included and self.tracker.chain_time_ns() // _NANOS > max(
                s.good_til_block_time for s in open_states
            ):
                return  # Expired on chain; reconciliation has the final word
            await asyncio.sleep(max(0.05, self.tracker.block_time_secs / 2))

    async def _poll_indexer(self, states: list[VenueOrder]) -> None:
        for state in states:
            try:
                await self._http.get_order(state.venue_order_id)  # Known to the Indexer
            except DYDXHttpError:
                continue
            except Exception as e:
                self._log.warning(f"Indexer lookup of {state.venue_order_id} failed: {e!r}")
                continue
            if not state.accepted and not state.closed:
                self._accept(state, self._clock.timestamp_ns())

    async def _submit_order_list(self, command: SubmitOrderList) -> None:
        command_ns = self._clock.timestamp_ns()
        stateful: list[tuple[Order, VenueOrder, bytes]] = []
        short: list[tuple[Order, VenueOrder, bytes]] = []
        for order in command.order_list.orders:
            if self._canceled_before_submit(order, command.ts_init):
                continue
            if self._isolated is not None and self._isolated.routes(order.instrument_id):
                await self._isolated.submit(order, command_ns)  # Through a child subaccount
                continue
            prepared = self._prepare(order, command_ns)
            if prepared is None:
                continue
            state, message = prepared
            (short if state.is_short_term else stateful).append((order, state, message))
        for order, state, message in short:
            await self.submit_short_term_order(order, state, message)
        if stateful:
            await self._submit_stateful(stateful)

    # -- Cancels -------------------------------------------------------------------------------

    def _cancel_message(self, state: VenueOrder) -> bytes:
        assert self._address is not None
        flags = order_kinds.FLAGS_LONG_TERM if state.order_flags == FLAGS_TWAP else (
            state.order_flags
        )
        plan = order_kinds.plan_cancel(
            flags, state.good_til_block, state.good_til_block_time,
            self.tracker.height, self.tracker.chain_time_ns(), self._kinds,
        )
        encoder = self._provider.encoder(state.instrument_id, self._address,
                                         self._number_of(state))
        return encoder.cancel_order_any(
            state.client_id, state.order_flags, plan.good_til_block, plan.good_til_block_time,
        )

    async def _cancel_order(self, command: CancelOrder) -> None:
        state = self._orders.get(command.client_order_id)
        if state is None and self._isolated is not None and self._isolated.cancel_pending(
            command.client_order_id,
        ):
            return  # Waiting for its collateral: denied instead of placed
        if state is None and self._cancel_early(command.client_order_id):
            return
        if state is None or state.closed or self._sender is None:
            self._log.info(f"Cancel of {command.client_order_id}: no open venue order, ignored")
            return
        state.pending_cancel = True
        outcome = await self._send_cancel(state)
        if outcome.status == TxStatus.UNKNOWN and not state.is_short_term:
            await self._settle_lost_cancel([state], outcome)
        else:
            self._on_cancel_outcome([state], outcome)

    async def _settle_lost_cancel(self, states: list[VenueOrder], outcome: TxOutcome) -> None:
        # A stateful cancel whose answer was lost. A short-term order expires by itself; a
        # stateful one would stay open and pending cancel, so once no block holds the cancel it
        # goes again (repeating a cancel is harmless: the second finds the order gone)
        assert self._sender is not None
        outcome = await self._await_inclusion(outcome)
        still_open = [s for s in states if not s.closed]
        if outcome.codespace == "unknown" and still_open:
            names = ", ".join(str(s.client_order_id) for s in still_open)
            self._log.warning(f"Cancel of {names} was lost; sending again")
            states = still_open
            outcome = await self._sender.send_stateful([self._cancel_message(s) for s in states])
        self._on_cancel_outcome(states, outcome)

    def _cancel_early(self, client_order_id: ClientOrderId) -> bool:
        # A cancel of an order Nautilus holds as INITIALIZED: its submit has not reached this
        # client yet, so it is remembered and the order is canceled instead of placed
        order = self._cache.order(client_order_id)
        if order is None or order.status != OrderStatus.INITIALIZED or order.is_emulated:
            return False
        if len(self._early_cancels) >= _MAX_EARLY_CANCELS:
            del self._early_cancels[next(iter(self._early_cancels))]
        self._early_cancels[client_order_id] = None
        self._log.info(f"Cancel of {client_order_id} arrived before its submit: not placing it")
        return True

    def _canceled_before_submit(self, order: Order, submitted_ns: int) -> bool:
        # Whether a cancel, or a cancel-all, issued after this order's submit got here first;
        # the order is then canceled instead of placed
        if order.client_order_id in self._early_cancels:
            del self._early_cancels[order.client_order_id]
        elif (submitted_ns > self._latest_cancel_all_ns
                or order.status != OrderStatus.INITIALIZED or order.exec_algorithm_id is not None):
            return False
        else:
            marks = self._cancel_all_marks.get(order.instrument_id)
            if marks is None or submitted_ns > max(marks[0], marks[_mark_index(order.side)]):
                return False
        self.generate_order_canceled(
            order.strategy_id, order.instrument_id, order.client_order_id, None,
            self._clock.timestamp_ns(),
        )
        return True

    async def _send_cancel(self, state: VenueOrder) -> TxOutcome:
        assert self._sender is not None
        message = self._cancel_message(state)
        if state.is_short_term:
            return await self._sender.send_short_term(message)
        return await self._sender.send_stateful(message)

    def _on_cancel_outcome(self, states: list[VenueOrder], outcome: TxOutcome) -> None:
        if outcome.status != TxStatus.REJECTED:
            return
        if outcome.codespace == "clob" and outcome.code in BENIGN_CANCEL_CODES:
            self.benign_cancels += 1
            self._log.info(f"Cancel: already gone or canceling ({outcome.raw_log})")
            return
        reason = f"{outcome.codespace} {outcome.code}: {outcome.raw_log}"
        for state in states:
            if state.closed:
                continue
            self.generate_order_cancel_rejected(
                state.strategy_id, state.instrument_id, state.client_order_id,
                VenueOrderId(state.venue_order_id), reason, self._clock.timestamp_ns(),
            )

    async def _cancel_states(self, states: list[VenueOrder]) -> None:
        assert self._sender is not None and self._address is not None
        states = [s for s in states if not s.closed]
        short = [s for s in states if s.is_short_term]
        stateful = [s for s in states if not s.is_short_term]
        tasks = []
        by_subaccount: dict[int, list[VenueOrder]] = {}
        for state in short:  # A batch cancel names one subaccount
            by_subaccount.setdefault(self._number_of(state), []).append(state)
        for number, group in by_subaccount.items():
            by_clob: dict[int, list[int]] = {}
            gtb_of = {(s.clob_pair_id, s.client_id): s.good_til_block for s in group}
            for state in group:
                state.pending_cancel = True
                by_clob.setdefault(state.clob_pair_id, []).append(state.client_id)
            encoder = self._provider.encoder(group[0].instrument_id, self._address, number)
            floor = self.tracker.height + self._kinds.blocks_ahead
            for batches in order_kinds.split_batch_cancels(by_clob):
                gtb = max(
                    [floor] + [gtb_of[(clob, cid)] for clob, ids in batches for cid in ids],
                )
                message = encoder.batch_cancel_any(batches, gtb)
                tasks.append(self._sender.send_short_term(message))
        results = await asyncio.gather(*tasks)
        for outcome in results:
            if outcome.status == TxStatus.REJECTED and outcome.code != 46:
                self._log.warning(f"Batch cancel rejected: {outcome.codespace} "
                                  f"{outcome.code}: {outcome.raw_log}")
        lost = []
        for start in range(0, len(stateful), _STATEFUL_CHUNK):
            chunk = stateful[start:start + _STATEFUL_CHUNK]
            for state in chunk:
                state.pending_cancel = True
            outcome = await self._sender.send_stateful([self._cancel_message(s) for s in chunk])
            if outcome.status == TxStatus.UNKNOWN:
                lost.append(self._settle_lost_cancel(chunk, outcome))
            else:
                self._on_cancel_outcome(chunk, outcome)
        if lost:  # Settled together, after every chunk went out
            await asyncio.gather(*lost)

    async def _batch_cancel_orders(self, command: BatchCancelOrders) -> None:
        states = []
        for cancel in command.cancels:
            state = self._orders.get(cancel.client_order_id)
            if state is None:
                self._cancel_early(cancel.client_order_id)
            elif not state.closed:
                states.append(state)
        await self._cancel_states(states)

    def cancel_all_orders(self, command: CancelAllOrders) -> None:
        # The orders to cancel are taken when the command arrives, not in its task: a strategy
        # may cancel all and quote again at once, and its new orders must survive. Submits
        # issued before the command that arrive after it are not placed (the mark)
        marks = self._cancel_all_marks.setdefault(command.instrument_id, [-1, -1, -1])
        index = _mark_index(command.order_side)
        marks[index] = max(marks[index], command.ts_init)
        self._latest_cancel_all_ns = max(self._latest_cancel_all_ns, command.ts_init)
        self._cancel_all_snapshots[command.id] = self._open_states(
            self._orders.values(), command,
        )
        super().cancel_all_orders(command)

    @staticmethod
    def _open_states(states: Iterable[VenueOrder], command: CancelAllOrders) -> list[VenueOrder]:
        side = command.order_side
        return [
            s for s in states
            if not s.closed and s.instrument_id == command.instrument_id and (
                side == OrderSide.NO_ORDER_SIDE
                or (s.side == order_kinds.SIDE_BUY) == (side == OrderSide.BUY)
            )
        ]

    async def _cancel_all_orders(self, command: CancelAllOrders) -> None:
        states = self._cancel_all_snapshots.pop(command.id, None)
        if states is None:
            states = self._open_states(self._orders.values(), command)
        adopted = await self._adopt_open_orders(command.instrument_id)
        await self._cancel_states(states + self._open_states(adopted, command))

    async def _adopt_open_orders(
        self, instrument_id: InstrumentId | None = None,
    ) -> list[VenueOrder]:
        # Orders placed before a restart, from the Indexer's open orders and decoded client ids;
        # returns those adopted now
        adopted: list[VenueOrder] = []
        if self._address is None:
            return adopted
        filters: dict[str, Any] = {"status": ["OPEN", "BEST_EFFORT_OPENED", "UNTRIGGERED"]}
        if instrument_id is not None:
            filters["ticker"] = instrument_id.symbol.value.removesuffix("-PERP")
        try:
            async for venue in self._http.iter_orders(
                self._address, self._subaccount, **filters, **self._rest_scope(),
            ):
                if venue.id not in self._by_venue_id:
                    state = self._adopt(venue)
                    if state is not None:
                        adopted.append(state)
        except Exception as e:
            self._log.warning(f"Cannot list open orders: {e!r}")
        return adopted

    @staticmethod
    def _fill_state(state: VenueOrder, venue: Any) -> None:
        # From a whole order (REST) or a stream update, which may lack fields
        state.good_til_block = int(venue.good_til_block or 0)
        if venue.good_til_block_time:
            state.good_til_block_time = iso_to_ns(venue.good_til_block_time) // _NANOS
        if venue.time_in_force is not None:
            state.time_in_force = order_kinds.TIF_IOC if venue.time_in_force == "IOC" else (
                order_kinds.TIF_POST_ONLY if venue.post_only else order_kinds.TIF_UNSPECIFIED
            )
        if venue.reduce_only is not None:
            state.reduce_only = bool(venue.reduce_only)
        state.untriggered = venue.status == "UNTRIGGERED"

    # -- Modify --------------------------------------------------------------------------------

    async def _modify_order(self, command: ModifyOrder) -> None:
        state = self._orders.get(command.client_order_id)
        order = self._cache.order(command.client_order_id)
        if state is None or order is None or state.closed or self._sender is None:
            self._modify_rejected(command, "no open venue order")
            return
        if state.order_flags == FLAGS_TWAP:
            self._modify_rejected(command, "a TWAP order cannot be modified (cancel it)")
            return
        assert self._address is not None
        quantity = command.quantity or order.quantity
        price = command.price or (order.price if order.has_price else None)
        trigger = command.trigger_price or (
            order.trigger_price if order.has_trigger_price else None
        )
        encoder = self._provider.encoder(order.instrument_id, self._address,
                                         self._number_of(state))
        try:
            if price is None:
                raise OrderRefused(6, "clob", "a modify needs a limit price")
            subticks = encoder.subticks(price.raw, order_kinds.rounding_for(state.side,
                                                                         self._kinds))
            quantums = encoder.quantums(quantity.raw)
            trigger_subticks = (
                encoder.subticks(trigger.raw, order_kinds.rounding_for(state.side, self._kinds))
                if trigger is not None and not state.is_short_term else 0
            )
        except (OrderRefused, ValueError) as e:
            self._modify_rejected(command, str(e))
            return
        if state.is_short_term:
            gtb = await self._replacement_block(state)
            if gtb <= state.good_til_block:
                self._modify_rejected(command, "no higher good-til-block inside the window")
                return
            message = encoder.place_order_any(
                state.client_id, 0, state.side, quantums, subticks, gtb, 0,
                state.time_in_force, state.reduce_only, state.client_metadata,
            )
            state.replacing += 1
            outcome = await self._sender.send_short_term(message)
            if outcome.status == TxStatus.REJECTED:
                state.replacing = max(0, state.replacing - 1)
                self._modify_rejected(command, f"{outcome.codespace} {outcome.code}: "
                                               f"{outcome.raw_log}")
                return
            state.good_til_block = gtb
            self._modified(state, order, quantity, price, trigger, venue_id_changed=False)
            return
        await self._cancel_replace(command, order, state, encoder, quantity, price, trigger,
                                   quantums, subticks, trigger_subticks)

    async def _replacement_block(self, state: VenueOrder) -> int:
        # A replacement needs a higher good-til-block: wait (a few blocks at most) for room,
        # asking the node itself when the height stands still (the stream may be reconnecting)
        tracker = self.tracker
        deadline = time.monotonic() + max(4 * tracker.block_time_secs, _REPLACEMENT_WAIT_SECS)
        while True:
            height = tracker.height
            gtb = max(state.good_til_block + 1, height + self._kinds.blocks_ahead)
            gtb = min(gtb, height + self._kinds.short_block_window)
            if gtb > state.good_til_block:
                return gtb
            if time.monotonic() > deadline:
                return state.good_til_block
            await asyncio.sleep(tracker.block_time_secs / 2)
            if tracker.height == height and self._node is not None:
                try:
                    await tracker.refresh(self._node)
                except DYDXNodeError:
                    pass  # Tried again until the deadline

    async def _cancel_replace(self, command: ModifyOrder, order: Order, state: VenueOrder,
                              encoder: Any, quantity: Quantity, price: Price,
                              trigger: Price | None, quantums: int, subticks: int,
                              trigger_subticks: int) -> None:
        # Stateful orders cannot be replaced: cancel and place a new id in one transaction
        assert self._sender is not None and self._codec is not None
        assert self._address is not None
        if state.replace_unresolved:
            self._modify_rejected(command, "a previous modify's outcome is still unknown")
            return
        generation = state.generation + 1
        try:
            client_id, metadata = self._codec.encode(f"{state.client_order_id}.r{generation}")
        except (ValueError, ClientIdCollisionError) as e:
            self._modify_rejected(command, str(e))
            return
        condition = 0
        if state.order_flags == order_kinds.FLAGS_CONDITIONAL:
            condition = order_kinds._CONDITIONAL[order.order_type][0]
        place = encoder.place_order_any(
            client_id, state.order_flags, state.side, quantums, subticks, 0,
            state.good_til_block_time, state.time_in_force, state.reduce_only, metadata,
            condition, trigger_subticks,
        )
        replacement = self._venue_order_id(client_id, state.clob_pair_id, state.order_flags,
                                           state.subaccount_number)
        self._by_venue_id[replacement] = state  # Its fills may come before the answer
        state.replace_sending = True
        try:
            outcome = await self._sender.send_stateful([self._cancel_message(state), place])
        finally:
            state.replace_sending = False
        held, state.held_by_replace = state.held_by_replace, []
        if outcome.status == TxStatus.REJECTED:
            if self._by_venue_id.get(replacement) is state:
                del self._by_venue_id[replacement]
            self._codec.release(f"{state.client_order_id}.r{generation}")
            self._modify_rejected(command, f"{outcome.codespace} {outcome.code}: "
                                           f"{outcome.raw_log}")
            self._replay(held)
            return
        previous = (state.venue_order_id, state.client_id, state.client_metadata)
        removed = any(u.id == previous[0] for u in held)
        state.generation = generation
        state.old_venue_order_ids.append(state.venue_order_id)
        state.client_id, state.client_metadata = client_id, metadata
        state.venue_order_id = replacement
        if outcome.status == TxStatus.UNKNOWN or removed:
            # The replacement may not have happened (its answer lost, or the old id removed
            # by something else first, which fails the transaction): wait for a block to say
            state.replace_unresolved = True
            try:
                outcome = await self._await_inclusion(outcome)
            finally:
                state.replace_unresolved = False
            if outcome.status == TxStatus.REJECTED:
                self._revert_replace(state, previous)
                self._modify_rejected(command, f"{outcome.codespace} {outcome.code}: "
                                               f"{outcome.raw_log}")
                self._replay(held)
                return
        self._modified(state, order, quantity, price, trigger, venue_id_changed=True,
                       held=held)

    def _modified(self, state: VenueOrder, order: Order, quantity: Quantity, price: Price,
                  trigger: Price | None, venue_id_changed: bool,
                  held: Iterable[OrderUpdate] = ()) -> None:
        # A replacement the venue took: the update, then what waited for it
        if not order.is_closed:  # The replacement may have filled before the answer came
            self.generate_order_updated(
                state.strategy_id, state.instrument_id, state.client_order_id,
                VenueOrderId(state.venue_order_id), quantity, price, trigger,
                self._clock.timestamp_ns(), venue_id_changed,
            )
        self._replay(held)  # The old id's are ignored now; the replacement's apply
        self._cancel_replacement_if_pending(state)

    def _replay(self, updates: Iterable[OrderUpdate]) -> None:
        for update in updates:
            self._handle_update(update)

    def _cancel_replacement_if_pending(self, state: VenueOrder) -> None:
        # A cancel sent while the replace was in flight named a stateful order's old id,
        # which the replace (first in the signer's sequence) removed: the replacement would
        # rest, so it is canceled now (for a short-term order, a harmless second cancel)
        if state.pending_cancel and not state.closed:
            self.create_task(self._cancel_states([state]), log_msg="cancel the replacement")

    def _revert_replace(self, state: VenueOrder, previous: tuple[str, int, int]) -> None:
        # A cancel-replace that never executed: the original order stands; read its state
        # again (its own updates were ignored as an old id meanwhile)
        assert self._codec is not None
        replacement = state.venue_order_id
        if self._by_venue_id.get(replacement) is state:
            del self._by_venue_id[replacement]
        self._codec.release(f"{state.client_order_id}.r{state.generation}")
        state.generation -= 1
        state.venue_order_id, state.client_id, state.client_metadata = previous
        if previous[0] in state.old_venue_order_ids:
            state.old_venue_order_ids.remove(previous[0])
        if state.pending_cancel and not state.closed:
            # A cancel meanwhile went to the replacement: cancel the original instead
            self.create_task(self._cancel_states([state]), log_msg="cancel original")
        self.create_task(self._refresh_order(state), log_msg="refresh order")

    async def _refresh_order(self, state: VenueOrder) -> None:
        try:
            venue = await self._http.get_order(state.venue_order_id)
        except Exception as e:
            self._log.warning(f"Cannot read order {state.venue_order_id} again: {e!r}")
            return
        self._handle_update(venue)

    async def _await_inclusion(self, outcome: TxOutcome) -> TxOutcome:
        # A stateful transaction whose answer was lost: its result once a block holds it, or
        # a rejection when none does within `unknown_timeout_blocks` (or a bounded wait)
        assert self._sender is not None
        start_height = self.tracker.height
        deadline = time.monotonic() + _INCLUSION_WAIT_SECS
        while True:
            answered = False  # A failed GetTx proves nothing: only an answer counts
            try:
                result = await self._sender.confirm(outcome.txhash)
                answered = True
            except Exception as e:
                self._log.warning(f"GetTx {outcome.txhash} failed: {e!r}")
                result = None
            if result is not None:
                return TxOutcome(
                    TxStatus.ACCEPTED if result.accepted else TxStatus.REJECTED,
                    outcome.txhash, result.code, result.codespace, result.raw_log,
                )
            if (answered and self.tracker.height > start_height + self._unknown_timeout_blocks
                    or time.monotonic() > deadline):
                return TxOutcome(
                    TxStatus.REJECTED, outcome.txhash, -1, "unknown",
                    "the broadcast answer was lost and no block holds the transaction",
                )
            await asyncio.sleep(max(0.05, self.tracker.block_time_secs / 2))

    def _modify_rejected(self, command: ModifyOrder, reason: str) -> None:
        # The event names the venue order ID Nautilus holds (a replacement may be pending)
        order = self._cache.order(command.client_order_id)
        venue_order_id = order.venue_order_id if order is not None else None
        if venue_order_id is None:
            state = self._orders.get(command.client_order_id)
            venue_order_id = VenueOrderId(state.venue_order_id) if state is not None else None
        self.generate_order_modify_rejected(
            command.strategy_id, command.instrument_id, command.client_order_id,
            venue_order_id, reason, self._clock.timestamp_ns(),
        )
