# SPDX-License-Identifier: Apache-2.0
"""Indexer WebSocket records (msgspec structs), their field tables and the protocol constants."""

from __future__ import annotations

from typing import Any
from typing import ClassVar

import msgspec
from nautilus_trader.model.enums import MarketStatusAction


__all__ = [
    "BLOCK_HEIGHT_CHANNEL", "CANDLES_CHANNEL", "FILL_TYPE", "LIQUIDITY", "MARKETS_CHANNEL",
    "MARKET_DECIMALS", "MARKET_INTEGERS", "MARKET_STATUS", "MAX_SEEN_IDS", "MAX_UNKNOWN_VALUES",
    "OFF_GRID_TRADE_TYPES", "ORDERBOOK_CHANNEL", "ORDER_STATUS", "ORDER_TYPE",
    "PARENT_SUBACCOUNTS_CHANNEL", "POSITION_SIDE", "POSITION_STATUS", "REMOVAL_REASON",
    "RESOLUTIONS", "SIDE", "STATUS_ACTIONS", "SUBACCOUNTS_CHANNEL", "TABLES", "TIME_IN_FORCE",
    "TRADES_CHANNEL", "TRADE_TYPE", "TRANSFER_TYPE", "AssetPositionUpdate", "BarHistory",
    "BlockHeight", "Connected", "FillUpdate", "MarketUpdate", "OrderUpdate",
    "PerpetualPositionUpdate", "Record", "ResyncNeeded", "SubaccountInfo", "Subscribed",
    "TradeHistory", "TradingRewardUpdate", "TransferUpdate", "Unsubscribed", "WsError",
]


# -- Channels and limits ------------------------------------------------------------------------

ORDERBOOK_CHANNEL = "v4_orderbook"
TRADES_CHANNEL = "v4_trades"
CANDLES_CHANNEL = "v4_candles"
MARKETS_CHANNEL = "v4_markets"
SUBACCOUNTS_CHANNEL = "v4_subaccounts"
PARENT_SUBACCOUNTS_CHANNEL = "v4_parent_subaccounts"
BLOCK_HEIGHT_CHANNEL = "v4_block_height"

# Trade ids remembered per market and fill ids per parser (oldest forgotten first)
MAX_SEEN_IDS = 10_000
# Distinct unknown enum values remembered per field; later ones are counted under (field, None)
MAX_UNKNOWN_VALUES = 64

# -- Enumerations of the protocol reference (appendix B, section 3.7); others are counted -------

SIDE = frozenset(("BUY", "SELL"))
LIQUIDITY = frozenset(("TAKER", "MAKER"))
ORDER_TYPE = frozenset((
    "LIMIT", "MARKET", "STOP_LIMIT", "STOP_MARKET", "TRAILING_STOP", "TAKE_PROFIT",
    "TAKE_PROFIT_MARKET", "TWAP", "TWAP_SUBORDER",
))
ORDER_STATUS = frozenset((
    "OPEN", "FILLED", "CANCELED", "BEST_EFFORT_CANCELED", "UNTRIGGERED", "ERROR",
    "BEST_EFFORT_OPENED",
))
TIME_IN_FORCE = frozenset(("GTT", "IOC", "FOK"))
FILL_TYPE = frozenset((
    "LIMIT", "LIQUIDATED", "LIQUIDATION", "DELEVERAGED", "OFFSETTING", "TWAP_SUBORDER",
))
TRADE_TYPE = frozenset(("LIMIT", "LIQUIDATED", "DELEVERAGED", "TWAP_SUBORDER"))
POSITION_SIDE = frozenset(("LONG", "SHORT"))
POSITION_STATUS = frozenset(("OPEN", "CLOSED", "LIQUIDATED"))
TRANSFER_TYPE = frozenset(("TRANSFER_IN", "TRANSFER_OUT", "DEPOSIT", "WITHDRAWAL"))
MARKET_STATUS = frozenset((
    "ACTIVE", "PAUSED", "CANCEL_ONLY", "POST_ONLY", "INITIALIZING", "FINAL_SETTLEMENT",
))
REMOVAL_REASON = frozenset(
    "ORDER_REMOVAL_REASON_" + name for name in (
        "UNSPECIFIED", "EXPIRED", "USER_CANCELED", "UNDERCOLLATERALIZED", "INTERNAL_ERROR",
        "SELF_TRADE_ERROR", "POST_ONLY_WOULD_CROSS_MAKER_ORDER",
        "IMMEDIATE_OR_CANCEL_WOULD_REST_ON_BOOK", "FOK_ORDER_COULD_NOT_BE_FULLY_FULLED",
        "REDUCE_ONLY_RESIZE", "INDEXER_EXPIRED", "REPLACED", "FULLY_FILLED", "EQUITY_TIER",
        "FINAL_SETTLEMENT", "VIOLATES_ISOLATED_SUBACCOUNT_CONSTRAINTS",
    )
)
# Trade types printed at the bankruptcy price, off the tick grid (rounded, not refused)
OFF_GRID_TRADE_TYPES = frozenset(("LIQUIDATED", "DELEVERAGED"))

# Candle resolution -> (step, Nautilus aggregation, duration in seconds)
RESOLUTIONS = {
    "1MIN": (1, "MINUTE", 60),
    "5MINS": (5, "MINUTE", 300),
    "15MINS": (15, "MINUTE", 900),
    "30MINS": (30, "MINUTE", 1800),
    "1HOUR": (1, "HOUR", 3600),
    "4HOURS": (4, "HOUR", 14400),
    "1DAY": (1, "DAY", 86400),
}

# Market status -> (action, is_trading, is_quoting)
STATUS_ACTIONS = {
    "ACTIVE": (MarketStatusAction.TRADING, True, True),
    "PAUSED": (MarketStatusAction.PAUSE, False, False),
    "CANCEL_ONLY": (MarketStatusAction.HALT, False, False),
    "POST_ONLY": (MarketStatusAction.QUOTING, False, True),
    "INITIALIZING": (MarketStatusAction.PRE_OPEN, False, False),
    "FINAL_SETTLEMENT": (MarketStatusAction.CLOSE, False, False),
}

# Market fields by kind, validated when present (section 3.6)
MARKET_DECIMALS = (
    "oraclePrice", "priceChange24H", "volume24H", "nextFundingRate", "initialMarginFraction",
    "maintenanceMarginFraction", "openInterest", "tickSize", "stepSize", "openInterestLowerCap",
    "openInterestUpperCap", "baseOpenInterest", "defaultFundingRate1H",
)
MARKET_INTEGERS = (
    "atomicResolution", "quantumConversionExponent", "stepBaseQuantums", "subticksPerTick",
    "trades24H",
)


# -- Records ------------------------------------------------------------------------------------


class Record(msgspec.Struct, frozen=True, gc=False):
    """
    Base class of the typed records produced for account and control messages.

    Records are immutable; equal when of the same type with equal fields. `to_dict` and the
    repr list the venue fields (``_fields``), the repr leaving out those that are ``None``.
    """

    _fields: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """
        Return the record fields as a dict.

        Returns
        -------
        dict[str, object]

        """
        return {name: getattr(self, name) for name in self._fields}

    def __hash__(self) -> int:
        return hash((type(self).__name__, getattr(self, "id", None)))

    def __repr__(self) -> str:
        body = ", ".join(
            f"{name}={value!r}" for name, value in self.to_dict().items() if value is not None
        )
        return f"{type(self).__name__}({body})"


def _record(name: str, fields: tuple[str, ...], doc: str, extra: tuple = ()) -> type:
    # A frozen Record with these fields (all default None) plus `extra` (name, default) pairs
    cls = msgspec.defstruct(
        name, [(f, Any, None) for f in fields] + [(f, Any, d) for f, d in extra],
        bases=(Record,), module=__name__, frozen=True, gc=False, namespace={"__doc__": doc},
    )
    cls._fields = fields
    return cls


Connected = _record(
    "Connected", ("connection_id", "message_id"), "The ``connected`` envelope sent on connection.",
)
Subscribed = _record(
    "Subscribed", ("channel", "id", "connection_id", "message_id"),
    "A ``subscribed`` confirmation; the snapshot objects follow it in the same result.",
)
Unsubscribed = _record(
    "Unsubscribed", ("channel", "id", "connection_id", "message_id"),
    "An ``unsubscribed`` confirmation.",
)
WsError = _record(
    "WsError", ("message", "channel", "id", "connection_id", "message_id"),
    "An ``error`` envelope (subscription errors, rate limits, invalid messages).",
)
ResyncNeeded = _record(
    "ResyncNeeded", ("channel", "id", "instrument_id", "reason"),
    "A book integrity problem: resubscribe the channel to rebuild it.",
)
BlockHeight = _record(
    "BlockHeight", ("channel", "height", "time", "ts_event"),
    "A block height from ``v4_block_height`` or carried by a subaccount message.",
)
MarketUpdate = _record(
    "MarketUpdate",
    ("ticker", "is_new", "is_snapshot", "fields", "price_precision", "size_precision"),
    "Market parameters for an instrument provider: a snapshot entry, a change, or a new "
    "listing. ``fields`` holds the venue keys as sent (validated); precisions come from "
    "``tickSize``/``stepSize`` when present, else ``None``.",
)
TradeHistory = _record(
    "TradeHistory", ("instrument_id", "trades"),
    "The trades (`TradeTick`, oldest first) of a ``v4_trades`` subscription snapshot: history, "
    "not live ticks; their ids count as seen, so live updates never republish them.",
)
BarHistory = _record(
    "BarHistory", ("bar_type", "bars"),
    "The closed candles (`Bar`, oldest first, ``ts_event`` at each close) of a ``v4_candles`` "
    "subscription snapshot: history, not live bars.",
)


# Records parsed field by field from a venue object, declared by table: (attribute, venue key,
# kind, required). Kind is "str", "dec" (decimal text, validated), "int", "height" (block height,
# not negative), "bool", "time" (ISO-8601 text, also sets ``ts_event``) or an enumeration set
# (text; values outside it are counted). The key may be "parent.key" (a nested object, checked
# first) or "key|other" (the other key when the first is missing or empty). Fields follow the
# venue order; `FrameParser` fills a missing ``subaccount_number``/``address`` from the owner.

TRANSFER_FIELDS = (
    ("id", "id", "str", False),
    ("sender_address", "sender.address", "str", False),
    ("sender_subaccount_number", "sender.subaccountNumber", "int", False),
    ("recipient_address", "recipient.address", "str", False),
    ("recipient_subaccount_number", "recipient.subaccountNumber", "int", False),
    # Some captures use amount/asset instead of size/symbol (appendix C)
    ("symbol", "symbol|asset", "str", False),
    ("size", "size|amount", "dec", True),
    ("type", "type", TRANSFER_TYPE, False),
    ("transaction_hash", "transactionHash", "str", False),
    ("created_at", "createdAt", "str", False),
    ("created_at_height", "createdAtHeight", "height", False),
    ("subaccount_number", "subaccountNumber", "int", False),
)

ORDER_FIELDS = (
    ("id", "id", "str", True),
    ("subaccount_id", "subaccountId", "str", False),
    ("client_id", "clientId", "str", False),
    ("clob_pair_id", "clobPairId", "str", False),
    ("side", "side", SIDE, False),
    ("size", "size", "dec", False),
    ("ticker", "ticker", "str", False),
    ("price", "price", "dec", False),
    ("type", "type", ORDER_TYPE, False),
    ("time_in_force", "timeInForce", TIME_IN_FORCE, False),
    ("post_only", "postOnly", "bool", False),
    ("reduce_only", "reduceOnly", "bool", False),
    ("status", "status", ORDER_STATUS, False),
    ("order_flags", "orderFlags", "str", False),
    ("total_filled", "totalFilled", "dec", False),
    ("total_optimistic_filled", "totalOptimisticFilled", "dec", False),
    ("good_til_block", "goodTilBlock", "height", False),
    ("good_til_block_time", "goodTilBlockTime", "str", False),
    ("trigger_price", "triggerPrice", "dec", False),
    ("updated_at", "updatedAt", "str", False),
    ("updated_at_height", "updatedAtHeight", "height", False),
    ("removal_reason", "removalReason", REMOVAL_REASON, False),
    ("created_at", "createdAt", "str", False),
    ("created_at_height", "createdAtHeight", "height", False),
    ("client_metadata", "clientMetadata", "str", False),
    ("duration", "duration", "str", False),
    ("interval", "interval", "str", False),
    ("price_tolerance", "priceTolerance", "str", False),
    ("subaccount_number", "subaccountNumber", "int", False),
    ("builder_address", "builderAddress", "str", False),
    ("fee_ppm", "feePpm", "str", False),
    ("order_router_address", "orderRouterAddress", "str", False),
)

FILL_FIELDS = (
    ("id", "id", "str", True),
    ("subaccount_id", "subaccountId", "str", False),
    ("side", "side", SIDE, True),
    ("liquidity", "liquidity", LIQUIDITY, True),
    ("type", "type", FILL_TYPE, False),
    ("clob_pair_id", "clobPairId", "str", False),
    ("size", "size", "dec", True),
    ("price", "price", "dec", True),
    ("quote_amount", "quoteAmount", "dec", False),
    ("event_id", "eventId", "str", False),
    ("transaction_hash", "transactionHash", "str", False),
    ("created_at", "createdAt", "time", False),
    ("created_at_height", "createdAtHeight", "height", False),
    ("order_id", "orderId", "str", False),
    ("ticker", "ticker", "str", False),
    ("market", "market", "str", False),
    ("market_type", "marketType", "str", False),
    ("client_metadata", "clientMetadata", "str", False),
    ("fee", "fee", "dec", False),
    ("affiliate_rev_share", "affiliateRevShare", "dec", False),
    ("subaccount_number", "subaccountNumber", "int", False),
    ("builder_fee", "builderFee", "dec", False),
    ("builder_address", "builderAddress", "str", False),
    ("order_router_address", "orderRouterAddress", "str", False),
    ("order_router_fee", "orderRouterFee", "dec", False),
    ("position_size_before", "positionSizeBefore", "dec", False),
    ("entry_price_before", "entryPriceBefore", "dec", False),
    ("position_side_before", "positionSideBefore", "str", False),
)

PERPETUAL_POSITION_FIELDS = (
    ("address", "address", "str", False),
    ("subaccount_number", "subaccountNumber", "int", False),
    ("position_id", "positionId", "str", False),
    ("market", "market", "str", True),
    ("side", "side", POSITION_SIDE, False),
    ("status", "status", POSITION_STATUS, False),
    ("size", "size", "dec", False),
    ("max_size", "maxSize", "dec", False),
    ("net_funding", "netFunding", "dec", False),
    ("entry_price", "entryPrice", "dec", False),
    ("exit_price", "exitPrice", "dec", False),
    ("sum_open", "sumOpen", "dec", False),
    ("sum_close", "sumClose", "dec", False),
    ("realized_pnl", "realizedPnl", "dec", False),
    ("unrealized_pnl", "unrealizedPnl", "dec", False),
    ("created_at", "createdAt", "str", False),
    ("created_at_height", "createdAtHeight", "height", False),
    ("closed_at", "closedAt", "str", False),
)

ASSET_POSITION_FIELDS = (
    ("address", "address", "str", False),
    ("subaccount_number", "subaccountNumber", "int", False),
    ("position_id", "positionId", "str", False),
    ("asset_id", "assetId", "str", False),
    ("symbol", "symbol", "str", True),
    ("side", "side", POSITION_SIDE, False),
    ("size", "size", "dec", True),
)

TRADING_REWARD_FIELDS = (
    ("trading_reward", "tradingReward", "dec", True),
    ("created_at_height", "createdAtHeight", "height", False),
    ("created_at", "createdAt", "str", False),
)

SUBACCOUNT_FIELDS = (
    ("address", "address", "str", True),
    # A parent subaccount snapshot names its number parentSubaccountNumber
    ("subaccount_number", "subaccountNumber|parentSubaccountNumber", "int", False),
    ("equity", "equity", "dec", False),
    ("free_collateral", "freeCollateral", "dec", False),
    ("margin_enabled", "marginEnabled", "bool", False),
    ("updated_at_height", "updatedAtHeight", "height", False),
    ("latest_processed_block_height", "latestProcessedBlockHeight", "height", False),
)


def _names(table: tuple) -> tuple[str, ...]:
    return tuple(attr for attr, _, _, _ in table)


TransferUpdate = _record(
    "TransferUpdate", _names(TRANSFER_FIELDS),
    "A transfer, deposit or withdrawal from the subaccounts channels (section 3.7 / 2.13).",
)
OrderUpdate = _record(
    "OrderUpdate", _names(ORDER_FIELDS),
    "An order update from the subaccounts channels (section 3.7 / 2.11); decimals stay text.",
)
FillUpdate = _record(
    "FillUpdate", _names(FILL_FIELDS),
    "A fill of this subaccount (section 3.7 / 2.12); ``ts_event`` is ``created_at`` in ns.",
    extra=(("ts_event", 0),),
)
PerpetualPositionUpdate = _record(
    "PerpetualPositionUpdate", _names(PERPETUAL_POSITION_FIELDS),
    "A perpetual position from the subaccounts channels (section 3.7 / 2.10).",
)
AssetPositionUpdate = _record(
    "AssetPositionUpdate", _names(ASSET_POSITION_FIELDS),
    "An asset (USDC) position from the subaccounts channels (section 3.7).",
)
TradingRewardUpdate = _record(
    "TradingRewardUpdate", _names(TRADING_REWARD_FIELDS),
    "A trading reward from the subaccounts channels (section 3.7).",
)
SubaccountInfo = _record(
    "SubaccountInfo", _names(SUBACCOUNT_FIELDS),
    "The subaccount summary of a subaccounts snapshot (section 2.10).",
)

# Record class -> (field table, what an item is called in errors, name in skip reasons)
TABLES = {
    PerpetualPositionUpdate: (
        PERPETUAL_POSITION_FIELDS, "PerpetualPositionUpdate", "perpetual position",
    ),
    AssetPositionUpdate: (ASSET_POSITION_FIELDS, "AssetPositionUpdate", "asset position"),
    OrderUpdate: (ORDER_FIELDS, "OrderUpdate", "order"),
    FillUpdate: (FILL_FIELDS, "FillUpdate", "fill"),
    TransferUpdate: (TRANSFER_FIELDS, "transfer", "transfer"),
    TradingRewardUpdate: (TRADING_REWARD_FIELDS, "TradingRewardUpdate", "trading reward"),
    SubaccountInfo: (SUBACCOUNT_FIELDS, "SubaccountInfo", "subaccount"),
}
