# SPDX-License-Identifier: Apache-2.0
"""DYDXInstrumentProvider: market -> CryptoPerpetual conversion, loading, filters, live changes."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from nautilus_trader.common.component import LiveClock
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_dydx.grpc.types import FeeTier
from nautilus_dydx.providers import DEFAULT_MAKER_FEE
from nautilus_dydx.providers import DEFAULT_TAKER_FEE
from nautilus_dydx.providers import DYDXInstrumentProvider
from nautilus_dydx.providers import MarketChange
from nautilus_dydx.providers import parse_perpetual_market
from nautilus_dydx.schemas.indexer import PerpetualMarket
from tests.conftest import load_resource


BTC_ID = InstrumentId.from_str("BTC-USD-PERP.DYDX")
ETH_ID = InstrumentId.from_str("ETH-USD-PERP.DYDX")
TINY_ID = InstrumentId.from_str("TINY-USD-PERP.DYDX")
OWNER = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"


def market(
    ticker: str,
    clob: int,
    a: int,
    q: int,
    s: int,
    p: int,
    tick: str,
    step: str,
    status: str = "ACTIVE",
    market_type: str = "CROSS",
    imf: str = "0.05",
    mmf: str = "0.03",
) -> PerpetualMarket:
    return PerpetualMarket(
        clob_pair_id=str(clob),
        ticker=ticker,
        status=status,
        atomic_resolution=a,
        quantum_conversion_exponent=q,
        step_base_quantums=s,
        subticks_per_tick=p,
        tick_size=tick,
        step_size=step,
        initial_margin_fraction=imf,
        maintenance_margin_fraction=mmf,
        market_type=market_type,
    )


BTC = market("BTC-USD", 0, -10, -9, 1_000_000, 100_000, "1", "0.0001", imf="0.02", mmf="0.012")
ETH = market("ETH-USD", 1, -9, -9, 1_000_000, 100_000, "0.1", "0.001")
# A tiny-priced market: tick 10**6 * 10**(-9 - 6 - 0) = 1e-9, step 10**6 * 10**0
TINY = market("TINY-USD", 9, 0, -9, 1_000_000, 1_000_000, "0.000000001", "1000000")


class FakeHttp:
    def __init__(self, markets: list[PerpetualMarket]) -> None:
        self.markets = {m.ticker: m for m in markets}
        self.calls: list[str | None] = []

    async def get_perpetual_markets(
        self, ticker: str | None = None, limit: int | None = None,
    ) -> dict[str, PerpetualMarket]:
        self.calls.append(ticker)
        if ticker is not None:
            return {ticker: self.markets[ticker]} if ticker in self.markets else {}
        return dict(self.markets)


class FakeNode:
    def __init__(self, tier: FeeTier | None, fail: bool = False) -> None:
        self.tier = tier
        self.fail = fail
        self.calls: list[str] = []

    async def get_user_fee_tier(self, address: str) -> FeeTier:
        self.calls.append(address)
        if self.fail:
            raise ConnectionError("node unreachable")
        assert self.tier is not None
        return self.tier


def provider(
    markets: list[PerpetualMarket],
    node: FakeNode | None = None,
    config: InstrumentProviderConfig | None = None,
    wallet: str | None = OWNER,
) -> DYDXInstrumentProvider:
    return DYDXInstrumentProvider(
        client=FakeHttp(markets),
        grpc_account_client=node,
        clock=LiveClock(),
        config=config,
        wallet_address=wallet,
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.mark.parametrize(
    ("m", "price_precision", "tick", "size_precision", "step"),
    [
        (BTC, 0, "1", 4, "0.0001"),
        (ETH, 1, "0.1", 3, "0.001"),
        (market("SOL-USD", 5, -7, -9, 1_000_000, 1_000_000, "0.01", "0.1"), 2, "0.01", 1, "0.1"),
        (market("DOGE-USD", 7, -4, -9, 1_000_000, 1_000_000, "0.00001", "100"), 5, "0.00001", 0,
         "100"),
        (market("PEPE-USD", 6, 1, -9, 1_000_000, 1_000_000, "0.0000000001", "10000000"), 10,
         "0.0000000001", 0, "10000000"),
        (TINY, 9, "0.000000001", 0, "1000000"),
        # A tick that is not a power of ten: P = 250 000 at exponent -5
        (market("ODD-USD", 8, -10, -9, 1_000_000, 250_000, "2.5", "0.0001"), 1, "2.5", 4,
         "0.0001"),
    ],
)
def test_market_to_crypto_perpetual_hand_checked(
    m: PerpetualMarket, price_precision: int, tick: str, size_precision: int, step: str,
) -> None:
    # Act
    instrument = parse_perpetual_market(m, ts_init=7)

    # Assert
    assert isinstance(instrument, CryptoPerpetual)
    assert instrument.id == InstrumentId.from_str(f"{m.ticker}-PERP.DYDX")
    assert instrument.raw_symbol.value == m.ticker
    assert instrument.price_precision == price_precision
    assert instrument.size_precision == size_precision
    assert instrument.price_increment == Price.from_str(tick)
    assert instrument.size_increment == Quantity.from_str(step)
    assert instrument.min_quantity == Quantity.from_str(step)
    assert instrument.quote_currency.code == "USD"
    assert instrument.settlement_currency.code == "USDC"
    assert instrument.base_currency.code == m.ticker.split("-")[0]
    assert instrument.is_inverse is False
    assert instrument.ts_init == 7


def test_btc_margins_fees_and_info() -> None:
    # Act
    instrument = parse_perpetual_market(BTC, 0, FeeTier(0, "1", -110, 350))

    # Assert
    assert instrument.margin_init == Decimal("0.02")
    assert instrument.margin_maint == Decimal("0.012")
    assert instrument.maker_fee == Decimal("-0.00011")
    assert instrument.taker_fee == Decimal("0.00035")
    assert instrument.info["clobPairId"] == "0"
    assert instrument.info["subticksPerTick"] == 100_000
    assert instrument.info["tradable"] is True


def test_every_captured_market_matches_its_indexer_increments() -> None:
    # Arrange
    body = msgspec.json.decode(load_resource("ws", "perpetual_markets.json"))
    markets = msgspec.convert(body["markets"], dict[str, PerpetualMarket])
    warnings: list[str] = []

    # Act
    instruments = [parse_perpetual_market(m, 0, None, warnings.append) for m in markets.values()]

    # Assert
    assert len(instruments) == len(markets) >= 3
    assert warnings == []
    for instrument in instruments:
        m = markets[instrument.raw_symbol.value]
        assert instrument.price_increment.as_decimal() == Decimal(m.tick_size)
        assert instrument.size_increment.as_decimal() == Decimal(m.step_size)


def test_indexer_increment_disagreeing_with_parameters_warns_and_parameters_win() -> None:
    # Arrange
    wrong = msgspec.structs.replace(BTC, tick_size="0.5")
    warnings: list[str] = []

    # Act
    instrument = parse_perpetual_market(wrong, 0, None, warnings.append)

    # Assert
    assert instrument.price_increment == Price.from_str("1")
    assert len(warnings) == 1 and "tickSize" in warnings[0]


def test_precision_beyond_sixteen_decimals_is_refused() -> None:
    # Arrange: tick 10**(-9 - 6 - 3) = 1e-18
    too_fine = market("DUST-USD", 11, 3, -9, 1, 1, "0.000000000000000001", "1000")

    # Act, Assert
    with pytest.raises(ValueError, match="16 decimals"):
        parse_perpetual_market(too_fine, 0)


def test_load_all_applies_the_account_fee_tier() -> None:
    # Arrange
    node = FakeNode(FeeTier(2, "3", 50, 350))
    p = provider([BTC, ETH, TINY], node)

    # Act
    run(p.load_all_async())

    # Assert
    assert node.calls == [OWNER]
    assert {i.id for i in p.list_all()} == {BTC_ID, ETH_ID, TINY_ID}
    for instrument in p.list_all():
        assert instrument.maker_fee == Decimal("0.00005")
        assert instrument.taker_fee == Decimal("0.00035")


def test_load_ids_applies_the_fee_tier_and_loads_only_those() -> None:
    # Arrange
    node = FakeNode(FeeTier(0, "1", 0, 300))
    p = provider([BTC, ETH, TINY], node)

    # Act
    run(p.load_ids_async([ETH_ID, TINY_ID]))

    # Assert
    assert node.calls == [OWNER]
    assert {i.id for i in p.list_all()} == {ETH_ID, TINY_ID}
    assert p.find(ETH_ID).taker_fee == Decimal("0.0003")


def test_load_one_uses_the_ticker_query() -> None:
    # Arrange
    p = provider([BTC, ETH], wallet=None)

    # Act
    run(p.load_async(ETH_ID))

    # Assert
    assert p._client.calls == ["ETH-USD"]
    assert [i.id for i in p.list_all()] == [ETH_ID]


def test_fee_tier_failure_or_no_wallet_keeps_default_fees() -> None:
    # Arrange
    failing = provider([BTC], FakeNode(None, fail=True))
    no_wallet = provider([BTC], FakeNode(FeeTier(0, "x", 1, 2)), wallet=None)

    # Act
    run(failing.load_all_async())
    run(no_wallet.load_all_async())

    # Assert
    for p in (failing, no_wallet):
        instrument = p.find(BTC_ID)
        assert (instrument.maker_fee, instrument.taker_fee) == (
            DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE,
        )
    assert no_wallet._grpc.calls == []


def test_filters_by_market_type_status_and_tickers() -> None:
    # Arrange
    isolated = market("ISO-USD", 20, -6, -9, 1_000_000, 1_000_000, "0.001", "1",
                      market_type="ISOLATED")
    paused = market("OLD-USD", 21, -6, -9, 1_000_000, 1_000_000, "0.001", "1", status="PAUSED")
    cases = [
        ({"market_type": "ISOLATED"}, {"ISO-USD"}),
        ({"status": ["PAUSED"]}, {"OLD-USD"}),
        ({"status": "ACTIVE", "market_type": "CROSS"}, {"BTC-USD", "ETH-USD"}),
        ({"tickers": ["ETH-USD", "ISO-USD"]}, {"ETH-USD", "ISO-USD"}),
    ]
    for filters, expected in cases:
        p = provider([BTC, ETH, isolated, paused])

        # Act
        run(p.load_all_async(filters))

        # Assert
        assert {i.raw_symbol.value for i in p.list_all()} == expected, filters


def only_btc(instrument: CryptoPerpetual) -> bool:
    return instrument.raw_symbol.value == "BTC-USD"


def test_filter_callable_from_config() -> None:
    # Arrange
    config = InstrumentProviderConfig(
        load_all=True, filter_callable="tests.unit.test_providers:only_btc",
    )
    p = provider([BTC, ETH], config=config)

    # Act
    run(p.initialize())

    # Assert
    assert [i.id for i in p.list_all()] == [BTC_ID]


@pytest.mark.parametrize(
    ("status", "tradable", "post_only_tradable", "reason_word"),
    [
        ("ACTIVE", True, True, None),
        ("POST_ONLY", False, True, "POST_ONLY"),
        ("PAUSED", False, False, "PAUSED"),
        ("CANCEL_ONLY", False, False, "CANCEL_ONLY"),
        ("FINAL_SETTLEMENT", False, False, "FINAL_SETTLEMENT"),
        ("INITIALIZING", False, False, "INITIALIZING"),
    ],
)
def test_non_trading_markets_stay_loaded_and_flagged(
    status: str, tradable: bool, post_only_tradable: bool, reason_word: str | None,
) -> None:
    # Arrange
    p = provider([msgspec.structs.replace(BTC, status=status)])

    # Act
    run(p.load_all_async())

    # Assert
    assert p.find(BTC_ID) is not None
    assert p.market_status(BTC_ID) == status
    assert p.is_tradable(BTC_ID) is tradable
    assert p.is_tradable(BTC_ID, post_only=True) is post_only_tradable
    reason = p.untradable_reason(BTC_ID)
    assert (reason is None) == (reason_word is None)
    if reason_word is not None:
        assert reason_word in reason


def test_unknown_instrument_is_not_tradable_with_reason() -> None:
    p = provider([BTC])

    assert p.is_tradable(ETH_ID) is False
    assert "no dYdX market" in p.untradable_reason(ETH_ID)


def test_subticks_per_tick_change_updates_instrument_encoder_and_listeners() -> None:
    # Arrange
    p = provider([BTC])
    run(p.load_all_async())
    encoder = p.encoder(BTC_ID, OWNER, 0)
    assert encoder.subticks_per_tick == 100_000
    changes: list[MarketChange] = []
    p.add_listener(changes.append)

    # Act: tick 1 -> 10 (P 100 000 -> 1 000 000)
    change = p.apply_market_update("BTC-USD", {"subticksPerTick": 1_000_000, "tickSize": "10"})

    # Assert
    assert change is not None and changes == [change]
    assert change.previous is not None and change.previous.subticks_per_tick == 100_000
    assert change.params.subticks_per_tick == 1_000_000
    assert change.precision_changed is False
    assert p.find(BTC_ID).price_increment == Price.from_str("10")
    assert p.encoder(BTC_ID, OWNER, 0).subticks_per_tick == 1_000_000
    assert p.encoder(BTC_ID, OWNER, 0).tick_size_raw == 10 * 10**16


def test_tick_size_only_update_rederives_the_integer_parameters() -> None:
    # Arrange
    p = provider([ETH])
    run(p.load_all_async())

    # Act: ETH tick 0.1 -> 0.01 and step 0.001 -> 0.01 announced as increments only
    change = p.apply_market_update("ETH-USD", {"tickSize": "0.01", "stepSize": "0.01"})

    # Assert
    assert change is not None and change.precision_changed is True
    assert change.params.subticks_per_tick == 10_000
    assert change.params.step_base_quantums == 10_000_000
    instrument = p.find(ETH_ID)
    assert (instrument.price_precision, instrument.size_precision) == (2, 2)
    assert p.encoder(ETH_ID, OWNER).step_base_quantums == 10_000_000


def test_new_listing_from_markets_channel_is_added() -> None:
    # Arrange
    p = provider([BTC])
    run(p.load_all_async())
    listing = msgspec.to_builtins(TINY)

    # Act
    change = p.apply_market_update("TINY-USD", listing)

    # Assert
    assert change is not None and change.is_new
    assert p.find(TINY_ID).price_increment == Price.from_str("0.000000001")
    assert p.market_params(TINY_ID).clob_pair_id == 9


def test_status_change_updates_flags_and_statistics_do_not_republish() -> None:
    # Arrange
    p = provider([BTC])
    run(p.load_all_async())
    changes: list[MarketChange] = []
    p.add_listener(changes.append)

    # Act
    stats = p.apply_market_update("BTC-USD", {"nextFundingRate": "0.0001", "volume24H": "5"})
    paused = p.apply_market_update("BTC-USD", {"status": "PAUSED"})

    # Assert
    assert stats is None
    assert p.market(BTC_ID).next_funding_rate == "0.0001"
    assert paused is not None and changes == [paused]
    assert p.is_tradable(BTC_ID) is False
    assert p.find(BTC_ID).info["tradable"] is False


def test_invalid_update_is_ignored_and_the_definition_kept() -> None:
    # Arrange
    p = provider([BTC])
    run(p.load_all_async())

    # Act
    bad_type = p.apply_market_update("BTC-USD", {"subticksPerTick": "many"})
    zero = p.apply_market_update("BTC-USD", {"subticksPerTick": 0})
    bad_listing = p.apply_market_update("NEW-USD", {"status": "ACTIVE"})

    # Assert
    assert bad_type is None and zero is None and bad_listing is None
    assert p.market_params(BTC_ID).subticks_per_tick == 100_000
    assert p.find(BTC_ID).price_increment == Price.from_str("1")


def test_new_fee_tier_republishes_instruments() -> None:
    # Arrange
    p = provider([BTC, ETH])
    run(p.load_all_async())
    changes: list[MarketChange] = []
    p.add_listener(changes.append)

    # Act
    p.apply_fee_tier(FeeTier(4, "5", -70, 250))

    # Assert
    assert len(changes) == 2
    assert p.find(ETH_ID).maker_fee == Decimal("-0.00007")
