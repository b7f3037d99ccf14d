# SPDX-License-Identifier: Apache-2.0
"""DYDXInstrumentProvider: perpetual markets -> CryptoPerpetual plus the order encoder's params."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.config import resolve_path
from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.core.correctness import PyCondition
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.enums import CurrencyType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import FIXED_PRECISION
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_dydx._core.orders import MarketEncoder
from nautilus_dydx.common.constants import DYDX_VENUE
from nautilus_dydx.common.enums import MARKET_STATUS_REASONS
from nautilus_dydx.common.symbol import instrument_id_to_ticker
from nautilus_dydx.common.symbol import ticker_to_instrument_id
from nautilus_dydx.grpc.types import FeeTier
from nautilus_dydx.schemas.indexer import PerpetualMarket


# Fees when no account is configured: the first tier of the live schedule (1 bp / 5 bp)
DEFAULT_MAKER_FEE = Decimal("0.0001")
DEFAULT_TAKER_FEE = Decimal("0.0005")

# Market fields whose change alters the instrument or the order encoder
_DEFINING_FIELDS = frozenset(
    {
        "clobPairId", "status", "atomicResolution", "quantumConversionExponent",
        "stepBaseQuantums", "subticksPerTick", "tickSize", "stepSize",
        "initialMarginFraction", "maintenanceMarginFraction", "marketType",
    },
)
_SNAKE = {f.encode_name: f.name for f in msgspec.structs.fields(PerpetualMarket)}


@dataclass(frozen=True)
class MarketParams:
    """
    The integer parameters of one market that prices and sizes are quantized with (§5).

    Parameters
    ----------
    ticker : str
        The venue ticker, e.g. ``BTC-USD``.
    clob_pair_id : int
        The CLOB pair id orders name.
    atomic_resolution : int
        A: one base quantum is 10**A base units.
    quantum_conversion_exponent : int
        Q: the price exponent.
    step_base_quantums : int
        S: the size granularity in quantums.
    subticks_per_tick : int
        P: the price granularity in subticks.
    status : str
        The market status, e.g. ``ACTIVE``.
    market_type : str
        ``CROSS`` or ``ISOLATED``.

    """

    ticker: str
    clob_pair_id: int
    atomic_resolution: int
    quantum_conversion_exponent: int
    step_base_quantums: int
    subticks_per_tick: int
    status: str = "ACTIVE"
    market_type: str = "CROSS"

    @property
    def tick_size(self) -> Decimal:
        """
        Return the price increment, ``P * 10**(Q - 6 - A)``, exactly.
        """
        exponent = self.quantum_conversion_exponent - 6 - self.atomic_resolution
        return Decimal(self.subticks_per_tick).scaleb(exponent)

    @property
    def step_size(self) -> Decimal:
        """
        Return the size increment (and minimum order size), ``S * 10**A``, exactly.
        """
        return Decimal(self.step_base_quantums).scaleb(self.atomic_resolution)

    @property
    def price_precision(self) -> int:
        """
        Return the decimals of the tick size.
        """
        return decimal_places(self.tick_size)

    @property
    def size_precision(self) -> int:
        """
        Return the decimals of the step size.
        """
        return decimal_places(self.step_size)

    def encoder(self, owner: str, subaccount_number: int) -> MarketEncoder:
        """
        Return a compiled order encoder of this market for one subaccount.

        Parameters
        ----------
        owner : str
            The ``dydx1...`` address.
        subaccount_number : int
            The subaccount number.

        Returns
        -------
        MarketEncoder

        """
        return MarketEncoder(
            owner,
            subaccount_number,
            self.clob_pair_id,
            self.atomic_resolution,
            self.quantum_conversion_exponent,
            self.step_base_quantums,
            self.subticks_per_tick,
        )


@dataclass(frozen=True)
class MarketChange:
    """
    A market definition that was added or changed, as given to provider listeners.

    Parameters
    ----------
    instrument : CryptoPerpetual
        The new instrument.
    params : MarketParams
        The new market parameters.
    previous : MarketParams | None
        The parameters before, or ``None`` for a market new to the provider.
    fields : frozenset[str]
        The venue fields that changed (camelCase).

    """

    instrument: CryptoPerpetual
    params: MarketParams
    previous: MarketParams | None
    fields: frozenset[str]

    @property
    def is_new(self) -> bool:
        """
        Return whether the market was not known before.
        """
        return self.previous is None

    @property
    def precision_changed(self) -> bool:
        """
        Return whether the price or size precision changed (compiled contexts need rebuilding).
        """
        if self.previous is None:
            return True
        return (
            self.previous.price_precision != self.params.price_precision
            or self.previous.size_precision != self.params.size_precision
        )


def decimal_places(value: Decimal) -> int:
    """
    Return the number of decimals of `value` without trailing zeros (``0.00010`` -> 4).
    """
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _fee(ppm: int) -> Decimal:
    return Decimal(ppm).scaleb(-6)


def _currency(code: str, precision: int) -> Currency:
    currency = Currency.from_str(code)
    if currency is not None:
        return currency
    currency = Currency(code, precision, 0, code, CurrencyType.CRYPTO)
    Currency.register(currency, overwrite=False)
    return currency


def market_params(market: PerpetualMarket) -> MarketParams:
    """
    Return the integer parameters of a `/perpetualMarkets` entry.

    Parameters
    ----------
    market : PerpetualMarket
        The market.

    Returns
    -------
    MarketParams

    Raises
    ------
    ValueError
        If a parameter is out of the chain's range.

    """
    params = MarketParams(
        ticker=market.ticker,
        clob_pair_id=int(market.clob_pair_id),
        atomic_resolution=market.atomic_resolution,
        quantum_conversion_exponent=market.quantum_conversion_exponent,
        step_base_quantums=market.step_base_quantums,
        subticks_per_tick=market.subticks_per_tick,
        status=market.status,
        market_type=market.market_type or "CROSS",
    )
    if params.clob_pair_id < 0:
        raise ValueError(f"{market.ticker}: invalid clobPairId, was {market.clob_pair_id!r}")
    if params.step_base_quantums <= 0:
        raise ValueError(
            f"{market.ticker}: invalid stepBaseQuantums, was {market.step_base_quantums!r}",
        )
    if params.subticks_per_tick <= 0:
        raise ValueError(
            f"{market.ticker}: invalid subticksPerTick, was {market.subticks_per_tick!r}",
        )
    return params


def parse_perpetual_market(
    market: PerpetualMarket,
    ts_init: int,
    fee_tier: FeeTier | None = None,
    warn: Callable[[str], None] | None = None,
) -> CryptoPerpetual:
    """
    Return the `CryptoPerpetual` of a `/perpetualMarkets` entry.

    Tick and step come from the integer parameters (the chain's truth); the Indexer's
    ``tickSize``/``stepSize`` strings are cross-checked and a mismatch is reported to `warn`.

    Parameters
    ----------
    market : PerpetualMarket
        The market.
    ts_init : int
        UNIX timestamp (nanoseconds) of the definition.
    fee_tier : FeeTier, optional
        The account's fee tier; the default schedule's first tier if ``None``.
    warn : Callable[[str], None], optional
        Receives a message when the Indexer's increments disagree with the parameters.

    Returns
    -------
    CryptoPerpetual

    Raises
    ------
    ValueError
        If the market cannot be represented (parameters out of range, precision above 16).

    """
    params = market_params(market)
    tick = params.tick_size
    step = params.step_size
    price_precision = decimal_places(tick)
    size_precision = decimal_places(step)
    if price_precision > FIXED_PRECISION or size_precision > FIXED_PRECISION:
        raise ValueError(
            f"{market.ticker}: tick {tick} / step {step} need more than "
            f"{FIXED_PRECISION} decimals",
        )
    if warn is not None:
        for name, derived, text in (("tickSize", tick, market.tick_size),
                                    ("stepSize", step, market.step_size)):
            try:
                matches = Decimal(text) == derived
            except ArithmeticError:
                matches = False
            if not matches:
                warn(
                    f"{market.ticker}: Indexer {name} {text!r} differs from the market "
                    f"parameters' {derived.normalize():f}; using the parameters",
                )
    if fee_tier is None:
        maker_fee, taker_fee = DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE
    else:
        maker_fee, taker_fee = _fee(fee_tier.maker_fee_ppm), _fee(fee_tier.taker_fee_ppm)
    base_code = market.ticker.split("-", 1)[0]
    size_increment = Quantity.from_str(f"{step:.{size_precision}f}")
    info = msgspec.to_builtins(market)
    info["tradable"] = MARKET_STATUS_REASONS.get(market.status, "unknown status") is None
    return CryptoPerpetual(
        instrument_id=ticker_to_instrument_id(market.ticker),
        raw_symbol=Symbol(market.ticker),
        base_currency=_currency(base_code, max(size_precision, 8)),
        quote_currency=USD,
        settlement_currency=USDC,
        is_inverse=False,
        price_precision=price_precision,
        size_precision=size_precision,
        price_increment=Price.from_str(f"{tick:.{price_precision}f}"),
        size_increment=size_increment,
        ts_event=ts_init,
        ts_init=ts_init,
        multiplier=Quantity.from_int(1),
        min_quantity=size_increment,
        margin_init=Decimal(market.initial_margin_fraction),
        margin_maint=Decimal(market.maintenance_margin_fraction),
        maker_fee=maker_fee,
        taker_fee=taker_fee,
        info=info,
    )


def merge_market_fields(market: PerpetualMarket, fields: dict[str, Any]) -> PerpetualMarket:
    """
    Return `market` with the partial `v4_markets` `fields` (camelCase) merged in.

    Raises
    ------
    ValueError
        If a field has the wrong type.

    """
    changes: dict[str, Any] = {}
    for key, value in fields.items():
        name = _SNAKE.get(key)
        if name is None or value is None:
            continue
        changes[name] = value
    merged = msgspec.structs.replace(market, **changes)
    try:
        # Re-validate the types by a round trip (the WebSocket delivers plain JSON values)
        return msgspec.convert(msgspec.to_builtins(merged), PerpetualMarket)
    except msgspec.ValidationError as e:
        raise ValueError(f"{market.ticker}: invalid market update: {e}") from None


class DYDXInstrumentProvider(InstrumentProvider):
    """
    Provides Nautilus instrument definitions from the dYdX Indexer's perpetual markets.

    Every market becomes a `CryptoPerpetual` ``{TICKER}-PERP.DYDX`` (raw symbol ``{TICKER}``)
    whose tick and step come from the market's integer parameters; the account's maker and
    taker fees come from the node (`UserFeeTier`) when a wallet address is known. Markets
    that do not trade (``PAUSED``, ``CANCEL_ONLY``, ``INITIALIZING``, ``FINAL_SETTLEMENT``)
    stay loaded and are flagged: see `market_status`, `is_tradable`, `untradable_reason`.

    Filters (`InstrumentProviderConfig.filters` or the `filters` argument):
    ``market_type`` (``CROSS``/``ISOLATED``), ``status`` (a status or list of statuses),
    ``tickers`` (list of venue tickers). `InstrumentProviderConfig.filter_callable` is
    honoured too.

    Parameters
    ----------
    client : DYDXHttpClient
        The Indexer REST client.
    grpc_account_client : DYDXNodeClient, optional
        The node client the fee tier is read from.
    clock : LiveClock
        The clock.
    config : InstrumentProviderConfig, optional
        The provider configuration.
    wallet_address : str, optional
        The account whose fee tier applies.
    is_testnet : bool, default False
        Kept for the built-in adapter's signature; the clients carry the network.
    venue : Venue, default DYDX_VENUE
        The venue.

    """

    def __init__(
        self,
        client: Any,
        grpc_account_client: Any | None,
        clock: LiveClock,
        config: InstrumentProviderConfig | None = None,
        wallet_address: str | None = None,
        is_testnet: bool = False,
        venue: Venue = DYDX_VENUE,
    ) -> None:
        super().__init__(config=config)
        self._client = client
        self._grpc = grpc_account_client
        self._clock = clock
        self._venue = venue
        self._wallet_address = wallet_address
        self._is_testnet = is_testnet
        self._log_warnings = config.log_warnings if config is not None else True
        self._config_load_all = config is not None and config.load_all
        self._filter_callable: Callable[[Any], bool] | None = None
        if config is not None and config.filter_callable is not None:
            self._filter_callable = resolve_path(config.filter_callable)
        self._markets: dict[str, PerpetualMarket] = {}
        self._params: dict[InstrumentId, MarketParams] = {}
        self._encoders: dict[tuple[InstrumentId, str, int], MarketEncoder] = {}
        self._listeners: list[Callable[[MarketChange], None]] = []
        self.fee_tier: FeeTier | None = None

    # -- Loading -------------------------------------------------------------------------------

    async def load_all_async(self, filters: dict | None = None) -> None:
        """
        Load every perpetual market that passes `filters`.
        """
        await self._load(None, filters)

    async def load_ids_async(
        self,
        instrument_ids: list[InstrumentId],
        filters: dict | None = None,
    ) -> None:
        """
        Load the markets of `instrument_ids` (one request for all of them).
        """
        if not instrument_ids:
            self._log.info("No instrument IDs given for loading")
            return
        for instrument_id in instrument_ids:
            PyCondition.equal(instrument_id.venue, self._venue, "instrument_id.venue", "DYDX")
        tickers = {instrument_id_to_ticker(i) for i in instrument_ids}
        await self._load(tickers, filters)

    async def load_async(self, instrument_id: InstrumentId, filters: dict | None = None) -> None:
        """
        Load the market of `instrument_id`.
        """
        PyCondition.not_none(instrument_id, "instrument_id")
        await self.load_ids_async([instrument_id], filters)

    async def _load(self, tickers: set[str] | None, filters: dict | None) -> None:
        fee_tier = self.fee_tier
        # New fees re-publish instruments whose market did not change
        force = await self.refresh_fee_tier() != fee_tier
        if tickers is not None and len(tickers) == 1:
            markets = await self._client.get_perpetual_markets(ticker=next(iter(tickers)))
        else:
            markets = await self._client.get_perpetual_markets()
        if tickers is not None:
            missing = tickers - set(markets)
            if missing and self._log_warnings:
                self._log.warning(f"No dYdX market for {sorted(missing)}")
            markets = {t: m for t, m in markets.items() if t in tickers}
        loaded = 0
        for market in markets.values():
            if not self._passes(market, filters):
                continue
            if self.upsert_market(market, force=force) is not None:
                loaded += 1
        self._log.info(f"Loaded {loaded} instruments")

    def _passes(self, market: PerpetualMarket, filters: dict | None) -> bool:
        if filters:
            market_type = filters.get("market_type")
            if market_type is not None and (market.market_type or "CROSS") != market_type:
                return False
            status = filters.get("status")
            if status is not None:
                allowed = {status} if isinstance(status, str) else set(status)
                if market.status not in allowed:
                    return False
            wanted = filters.get("tickers")
            if wanted is not None and market.ticker not in set(wanted):
                return False
        return True

    async def refresh_fee_tier(self) -> FeeTier | None:
        """
        Read the account's fee tier from the node (kept when the query fails).

        Returns
        -------
        FeeTier | None

        """
        if self._grpc is None or self._wallet_address is None:
            return self.fee_tier
        try:
            self.fee_tier = await self._grpc.get_user_fee_tier(self._wallet_address)
        except Exception as e:
            self._log.warning(f"Failed to get the user fee tier: {e!r}")
        return self.fee_tier

    # -- Definitions and live changes ---------------------------------------------------------

    def upsert_market(
        self,
        market: PerpetualMarket,
        fields: Iterable[str] | None = None,
        force: bool = False,
    ) -> MarketChange | None:
        """
        Add or replace the definition of `market`; tell listeners when it changed.

        Parameters
        ----------
        market : PerpetualMarket
            The full market definition.
        fields : Iterable[str], optional
            The venue fields that changed (every defining field if ``None``).
        force : bool, default False
            Publish the instrument even if no defining field changed (e.g. new fees).

        Returns
        -------
        MarketChange | None
            The change, or ``None`` when the market was refused (logged) or nothing changed.

        """
        try:
            params = market_params(market)
            instrument = parse_perpetual_market(
                market,
                self._clock.timestamp_ns(),
                self.fee_tier,
                self._log.warning if self._log_warnings else None,
            )
        except (ValueError, ArithmeticError) as e:
            self._log.warning(f"Skipping dYdX market {market.ticker}: {e}")
            return None
        if self._filter_callable is not None and not self._filter_callable(instrument):
            return None
        previous = self._params.get(instrument.id)
        old_market = self._markets.get(market.ticker)
        self._markets[market.ticker] = market
        changed = frozenset(_DEFINING_FIELDS if fields is None else fields)
        if (
            not force
            and old_market is not None
            and previous == params
            and self._same(old_market, market)
        ):
            return None
        self._params[instrument.id] = params
        self.add(instrument)
        if previous is not None and previous != params:
            for key in [k for k in self._encoders if k[0] == instrument.id]:
                owner, number = key[1], key[2]
                self._encoders[key] = params.encoder(owner, number)
        change = MarketChange(instrument, params, previous, changed)
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception as e:
                self._log.exception(f"Market listener failed for {market.ticker}", e)
        return change

    @staticmethod
    def _same(old: PerpetualMarket, new: PerpetualMarket) -> bool:
        return all(
            getattr(old, _SNAKE[key]) == getattr(new, _SNAKE[key])
            for key in _DEFINING_FIELDS
            if key in _SNAKE
        )

    def apply_market_update(self, ticker: str, fields: dict[str, Any]) -> MarketChange | None:
        """
        Merge a `v4_markets` entry (partial, or a full new listing) into the definitions.

        Parameters
        ----------
        ticker : str
            The venue ticker.
        fields : dict[str, Any]
            The changed fields, camelCase as received.

        Returns
        -------
        MarketChange | None
            The change, or ``None`` if nothing defining changed or the update was refused.

        """
        defining = _DEFINING_FIELDS.intersection(fields)
        current = self._markets.get(ticker)
        try:
            if current is None:
                full = dict(fields)
                full.setdefault("ticker", ticker)
                market = msgspec.convert(full, PerpetualMarket)
                if not self._passes(market, self._filters):
                    return None
            else:
                market = merge_market_fields(current, fields)
        except (ValueError, msgspec.ValidationError) as e:
            self._log.warning(f"Ignoring dYdX market update for {ticker}: {e}")
            return None
        if current is not None and not defining:
            self._markets[ticker] = market
            return None
        if current is not None and ("tickSize" in defining or "stepSize" in defining) and not (
            {"atomicResolution", "quantumConversionExponent", "stepBaseQuantums",
             "subticksPerTick"} & defining
        ):
            market = self._rederive_from_increments(market, fields)
        return self.upsert_market(market, defining)

    def _rederive_from_increments(
        self, market: PerpetualMarket, fields: dict[str, Any],
    ) -> PerpetualMarket:
        # Only the increments changed: solve for P (tick) and S (step) with A and Q fixed
        tick = fields.get("tickSize")
        step = fields.get("stepSize")
        changes: dict[str, int] = {}
        if tick is not None:
            exponent = market.quantum_conversion_exponent - 6 - market.atomic_resolution
            subticks = Decimal(tick).scaleb(-exponent)
            if subticks == subticks.to_integral_value() and subticks > 0:
                changes["subticks_per_tick"] = int(subticks)
        if step is not None:
            quantums = Decimal(step).scaleb(-market.atomic_resolution)
            if quantums == quantums.to_integral_value() and quantums > 0:
                changes["step_base_quantums"] = int(quantums)
        return msgspec.structs.replace(market, **changes) if changes else market

    def add_listener(self, callback: Callable[[MarketChange], None]) -> None:
        """
        Call `callback` with every added or changed market definition.
        """
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[MarketChange], None]) -> None:
        """
        Stop calling `callback`.
        """
        if callback in self._listeners:
            self._listeners.remove(callback)

    def apply_fee_tier(self, fee_tier: FeeTier) -> None:
        """
        Re-price every loaded instrument with `fee_tier`'s maker and taker fees.
        """
        self.fee_tier = fee_tier
        for market in list(self._markets.values()):
            self.upsert_market(market, fields=(), force=True)

    # -- Queries ------------------------------------------------------------------------------

    @property
    def loads_all(self) -> bool:
        """
        Return whether the provider is configured to load every market (``load_all``).
        """
        return self._config_load_all

    def market_by_ticker(self, ticker: str) -> PerpetualMarket | None:
        """
        Return the last venue definition of the market `ticker`.
        """
        return self._markets.get(ticker)

    def market(self, instrument_id: InstrumentId) -> PerpetualMarket | None:
        """
        Return the last venue definition of `instrument_id`.
        """
        return self._markets.get(instrument_id_to_ticker(instrument_id))

    def market_params(self, instrument_id: InstrumentId) -> MarketParams | None:
        """
        Return the quantization parameters of `instrument_id` (``None`` if not loaded).
        """
        return self._params.get(instrument_id)

    def encoder(
        self, instrument_id: InstrumentId, owner: str, subaccount_number: int = 0,
    ) -> MarketEncoder:
        """
        Return the order encoder of `instrument_id` for a subaccount, current with live changes.

        Raises
        ------
        KeyError
            If the instrument is not loaded.

        """
        key = (instrument_id, owner, subaccount_number)
        encoder = self._encoders.get(key)
        if encoder is None:
            params = self._params.get(instrument_id)
            if params is None:
                raise KeyError(f"no dYdX market loaded for {instrument_id}")
            encoder = params.encoder(owner, subaccount_number)
            self._encoders[key] = encoder
        return encoder

    def market_status(self, instrument_id: InstrumentId) -> str | None:
        """
        Return the venue status of `instrument_id` (e.g. ``ACTIVE``), ``None`` if not loaded.
        """
        params = self._params.get(instrument_id)
        return None if params is None else params.status

    def untradable_reason(
        self, instrument_id: InstrumentId, post_only: bool = False,
    ) -> str | None:
        """
        Return why a new order on `instrument_id` would be refused, or ``None`` if it would not.

        Parameters
        ----------
        instrument_id : InstrumentId
            The instrument.
        post_only : bool, default False
            Whether the order is post-only (the only kind a ``POST_ONLY`` market accepts).

        Returns
        -------
        str | None

        """
        params = self._params.get(instrument_id)
        if params is None:
            return f"no dYdX market loaded for {instrument_id}"
        status = params.status
        if status == "POST_ONLY" and not post_only:
            return "market is POST_ONLY: only post-only orders are accepted"
        if status not in MARKET_STATUS_REASONS:
            return f"market status {status!r} is unknown"
        return MARKET_STATUS_REASONS[status]

    def is_tradable(self, instrument_id: InstrumentId, post_only: bool = False) -> bool:
        """
        Return whether a new order on `instrument_id` would be accepted by the market status.
        """
        return self.untradable_reason(instrument_id, post_only) is None
