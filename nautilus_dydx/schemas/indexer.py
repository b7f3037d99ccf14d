# SPDX-License-Identifier: Apache-2.0
"""Indexer REST bodies (protocol reference §2) as msgspec structs; decimals stay exact strings."""

from __future__ import annotations

import msgspec


class _Body(msgspec.Struct, rename="camel", frozen=True):
    """Base of every body: camelCase keys, unknown fields ignored."""


class TimeResponse(_Body):
    """`GET /time`."""

    iso: str
    epoch: float


class HeightResponse(_Body):
    """`GET /height`: the last block the Indexer processed."""

    height: str
    time: str


class PerpetualMarket(_Body):
    """One market of `GET /perpetualMarkets`."""

    clob_pair_id: str
    ticker: str
    status: str
    atomic_resolution: int
    quantum_conversion_exponent: int
    step_base_quantums: int
    subticks_per_tick: int
    tick_size: str
    step_size: str
    initial_margin_fraction: str
    maintenance_margin_fraction: str
    oracle_price: str | None = None
    price_change_24h: str | None = msgspec.field(default=None, name="priceChange24H")
    volume_24h: str | None = msgspec.field(default=None, name="volume24H")
    trades_24h: int | None = msgspec.field(default=None, name="trades24H")
    next_funding_rate: str | None = None
    open_interest: str | None = None
    market_type: str | None = None
    open_interest_lower_cap: str | None = None
    open_interest_upper_cap: str | None = None
    base_open_interest: str | None = None
    default_funding_rate_1h: str | None = msgspec.field(default=None, name="defaultFundingRate1H")


class PerpetualMarketsResponse(_Body):
    """`GET /perpetualMarkets`."""

    markets: dict[str, PerpetualMarket]


class BookLevel(_Body):
    """One (price, size) level."""

    price: str
    size: str


class OrderBookResponse(_Body):
    """`GET /orderbooks/perpetualMarket/{ticker}`."""

    bids: list[BookLevel]
    asks: list[BookLevel]


class Trade(_Body):
    """One public trade; `side` is the taker side."""

    id: str
    side: str
    size: str
    price: str
    created_at: str
    created_at_height: str
    type: str | None = None


class TradesResponse(_Body):
    """`GET /trades/perpetualMarket/{ticker}`."""

    trades: list[Trade]
    page_size: int | None = None
    total_results: int | None = None
    offset: int | None = None


class Candle(_Body):
    """One OHLCV bar; the newest one is still forming."""

    started_at: str
    ticker: str
    resolution: str
    low: str
    high: str
    open: str
    close: str
    base_token_volume: str
    usd_volume: str
    trades: int
    starting_open_interest: str | None = None
    orderbook_mid_price_open: str | None = None
    orderbook_mid_price_close: str | None = None


class CandlesResponse(_Body):
    """`GET /candles/perpetualMarkets/{ticker}`."""

    candles: list[Candle]


class HistoricalFunding(_Body):
    """One 1-hour funding rate."""

    ticker: str
    rate: str
    price: str
    effective_at: str
    effective_at_height: str


class HistoricalFundingResponse(_Body):
    """`GET /historicalFunding/{ticker}`."""

    historical_funding: list[HistoricalFunding]


class PerpetualPosition(_Body):
    """A perpetual position; `size` is signed (negative when SHORT)."""

    market: str
    status: str
    side: str
    size: str
    max_size: str | None = None
    entry_price: str | None = None
    exit_price: str | None = None
    realized_pnl: str | None = None
    unrealized_pnl: str | None = None
    net_funding: str | None = None
    sum_open: str | None = None
    sum_close: str | None = None
    created_at: str | None = None
    created_at_height: str | None = None
    closed_at: str | None = None
    subaccount_number: int | None = None


class AssetPosition(_Body):
    """An asset balance; `size` is absolute, SHORT means negative USDC."""

    symbol: str
    side: str
    size: str
    asset_id: str | None = None
    subaccount_number: int | None = None


class Subaccount(_Body):
    """A subaccount with its open positions and balances."""

    address: str
    subaccount_number: int
    equity: str
    free_collateral: str
    open_perpetual_positions: dict[str, PerpetualPosition] = {}
    asset_positions: dict[str, AssetPosition] = {}
    margin_enabled: bool | None = None
    updated_at_height: str | None = None
    latest_processed_block_height: str | None = None


class AddressResponse(_Body):
    """`GET /addresses/{address}`."""

    subaccounts: list[Subaccount]
    total_trading_rewards: str | None = None


class SubaccountResponse(_Body):
    """`GET /addresses/{address}/subaccountNumber/{n}` (wrapped)."""

    subaccount: Subaccount


class ParentSubaccount(_Body):
    """A parent subaccount with its isolated children."""

    address: str
    parent_subaccount_number: int
    equity: str
    free_collateral: str
    child_subaccounts: list[Subaccount] = []


class ParentSubaccountResponse(_Body):
    """`GET /addresses/{address}/parentSubaccountNumber/{n}`."""

    subaccount: ParentSubaccount


class PerpetualPositionsResponse(_Body):
    """`GET /perpetualPositions`."""

    positions: list[PerpetualPosition]


class AssetPositionsResponse(_Body):
    """`GET /assetPositions`."""

    positions: list[AssetPosition]


class Order(_Body):
    """One order of `GET /orders` or `GET /orders/{orderId}`."""

    id: str
    subaccount_id: str
    client_id: str
    clob_pair_id: str
    side: str
    size: str
    total_filled: str
    price: str
    type: str
    status: str
    time_in_force: str
    reduce_only: bool
    order_flags: str
    post_only: bool | None = None
    good_til_block: str | None = None
    good_til_block_time: str | None = None
    created_at: str | None = None
    created_at_height: str | None = None
    updated_at: str | None = None
    updated_at_height: str | None = None
    client_metadata: str | None = None
    trigger_price: str | None = None
    ticker: str | None = None
    subaccount_number: int | None = None
    removal_reason: str | None = None


class Fill(_Body):
    """One own fill; `fee` negative means a rebate."""

    id: str
    side: str
    liquidity: str
    market: str
    price: str
    size: str
    fee: str
    created_at: str
    created_at_height: str
    type: str | None = None
    market_type: str | None = None
    affiliate_rev_share: str | None = None
    order_id: str | None = None
    client_metadata: str | None = None
    subaccount_number: int | None = None


class FillsResponse(_Body):
    """`GET /fills`."""

    fills: list[Fill]
    page_size: int | None = None
    total_results: int | None = None
    offset: int | None = None


class TransferParty(_Body):
    """A transfer side: a subaccount, or a plain wallet (no number)."""

    address: str
    subaccount_number: int | None = None


class Transfer(_Body):
    """One transfer; `size`/`symbol` (some deployments say `amount`/`asset`)."""

    id: str
    sender: TransferParty
    recipient: TransferParty
    type: str
    created_at: str
    created_at_height: str
    size: str | None = None
    symbol: str | None = None
    amount: str | None = None
    asset: str | None = None
    transaction_hash: str | None = None

    @property
    def quantity(self) -> str | None:
        """The transferred amount, whichever key the server used."""
        return self.size if self.size is not None else self.amount


class TransfersResponse(_Body):
    """`GET /transfers`."""

    transfers: list[Transfer]
    page_size: int | None = None
    total_results: int | None = None
    offset: int | None = None


class HistoricalPnl(_Body):
    """One hourly equity/PnL tick."""

    equity: str
    total_pnl: str
    net_transfers: str
    created_at: str
    block_height: str
    block_time: str | None = None


class HistoricalPnlResponse(_Body):
    """`GET /historical-pnl`."""

    historical_pnl: list[HistoricalPnl]
    page_size: int | None = None
    total_results: int | None = None
    offset: int | None = None


class FundingPayment(_Body):
    """One funding payment received or paid."""

    created_at: str
    created_at_height: str
    ticker: str
    size: str
    side: str
    rate: str
    payment: str
    oracle_price: str | None = None
    perpetual_id: str | None = None
    subaccount_number: int | None = None
    funding_index: str | None = None


class FundingPaymentsResponse(_Body):
    """`GET /fundingPayments`."""

    funding_payments: list[FundingPayment]
    page_size: int | None = None
    total_results: int | None = None
    offset: int | None = None
