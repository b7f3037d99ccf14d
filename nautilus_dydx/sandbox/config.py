# SPDX-License-Identifier: Apache-2.0
"""Configuration dataclasses for the offline sandbox chain node."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal


@dataclass(frozen=True)
class MarketConfig:
    """
    A perpetual market (one CLOB pair) of the sandbox.

    Parameters
    ----------
    ticker : str
        The market ticker, e.g. "BTC-USD".
    clob_pair_id : int
        The CLOB pair id (also used as perpetual id).
    atomic_resolution : int
        The exponent A of one base quantum.
    quantum_conversion_exponent : int
        The exponent Q of the quote conversion.
    step_base_quantums : int
        The minimum order size and size increment S in base quantums.
    subticks_per_tick : int
        The price increment P in subticks.
    oracle_price : str
        The initial oracle price in USD (exact decimal string).
    status : str, default "ACTIVE"
        The CLOB pair status name (ACTIVE, PAUSED, CANCEL_ONLY, POST_ONLY, INITIALIZING,
        FINAL_SETTLEMENT).
    initial_margin_ppm : int, default 50_000
        The initial margin fraction in parts per million.
    maintenance_margin_ppm : int, default 30_000
        The maintenance margin fraction in parts per million.
    min_price_change_ppm : int, default 1000
        The oracle market's minimum price change; conditional orders trigger on last traded
        prices clamped to the oracle price +/- 5 times this fraction.
    market_type : str, default "CROSS"
        "CROSS" or "ISOLATED" (an isolated market's position must be alone in its subaccount).

    """

    ticker: str
    clob_pair_id: int
    atomic_resolution: int
    quantum_conversion_exponent: int
    step_base_quantums: int
    subticks_per_tick: int
    oracle_price: str
    status: str = "ACTIVE"
    initial_margin_ppm: int = 50_000
    maintenance_margin_ppm: int = 30_000
    min_price_change_ppm: int = 1000
    market_type: str = "CROSS"

    def __post_init__(self) -> None:
        if self.market_type not in ("CROSS", "ISOLATED"):
            raise ValueError(f"invalid market_type, was {self.market_type!r}")

    def price_to_subticks(self, price: str | Decimal) -> int:
        """
        Return `price` (USD) as subticks, rounded down to a whole subtick.

        Parameters
        ----------
        price : str | Decimal
            The price as an exact decimal.

        Returns
        -------
        int

        """
        exponent = self.atomic_resolution - self.quantum_conversion_exponent + 6
        value = Decimal(price).scaleb(exponent)
        return int(value.to_integral_value(rounding="ROUND_FLOOR"))

    def size_to_quantums(self, size: str | Decimal) -> int:
        """
        Return `size` (base units) as quantums, rounded down to a whole quantum.

        Parameters
        ----------
        size : str | Decimal
            The size as an exact decimal.

        Returns
        -------
        int

        """
        value = Decimal(size).scaleb(-self.atomic_resolution)
        return int(value.to_integral_value(rounding="ROUND_FLOOR"))


def default_markets() -> tuple[MarketConfig, ...]:
    """
    Return the default markets: BTC-USD (0), ETH-USD (1), SOL-USD (5) and PEPE-USD (6).

    Returns
    -------
    tuple[MarketConfig, ...]

    """
    return (
        MarketConfig("BTC-USD", 0, -10, -9, 1_000_000, 100_000, "65000"),
        MarketConfig("ETH-USD", 1, -9, -9, 1_000_000, 100_000, "3000"),
        MarketConfig("SOL-USD", 5, -7, -9, 1_000_000, 1_000_000, "150", initial_margin_ppm=100_000),
        MarketConfig(
            "PEPE-USD", 6, 1, -9, 1_000_000, 1_000_000, "0.00001",
            initial_margin_ppm=100_000,
        ),
    )


@dataclass(frozen=True)
class AccountConfig:
    """
    A funded test account.

    Give at most one of `mnemonic`, `private_key` or `address`; with none, a key is derived from
    the node seed. An `address` alone funds an account whose key the sandbox never learns: only
    the holder of that key can sign for it.

    Parameters
    ----------
    mnemonic : str | None, default None
        A BIP-39 mnemonic; the key is derived at `m/44'/118'/0'/0/{mnemonic_index}`.
    private_key : str | None, default None
        A 32-byte private key as hex.
    mnemonic_index : int, default 0
        The BIP-44 address index for `mnemonic`.
    address : str | None, default None
        A `dydx1...` address to fund without knowing its key.
    account_number : int | None, default None
        The account number; assigned sequentially when omitted.
    sequence : int, default 0
        The initial account sequence.
    subaccounts : dict[int, int], default {0: 100_000_000_000}
        USDC collateral per subaccount number in quote quantums (1e-6 USDC).
    fee_tier : int, default 0
        The index of the account's fee tier.
    wallet : dict[str, int], default {}
        Bank (non-subaccount) balances by denom, served by `/cosmos.bank.v1beta1.Query`.

    """

    mnemonic: str | None = None
    private_key: str | None = None
    mnemonic_index: int = 0
    address: str | None = None
    account_number: int | None = None
    sequence: int = 0
    subaccounts: dict[int, int] = field(default_factory=lambda: {0: 100_000_000_000})
    fee_tier: int = 0
    wallet: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FeeTierConfig:
    """
    A perpetual fee tier.

    Parameters
    ----------
    name : str
        The tier name.
    maker_fee_ppm : int
        The maker fee in ppm of notional (negative is a rebate).
    taker_fee_ppm : int
        The taker fee in ppm of notional.
    absolute_volume_requirement : int, default 0
        The 30-day volume requirement in quote quantums.

    """

    name: str
    maker_fee_ppm: int
    taker_fee_ppm: int
    absolute_volume_requirement: int = 0


def default_fee_tiers() -> tuple[FeeTierConfig, ...]:
    """
    Return fee tiers shaped like the live schedule (first tier 1 bp maker, 5 bp taker).

    Returns
    -------
    tuple[FeeTierConfig, ...]

    """
    return (
        FeeTierConfig("1", 100, 500, 0),
        FeeTierConfig("2", 100, 400, 1_000_000_000_000),
        FeeTierConfig("3", 50, 350, 5_000_000_000_000),
        FeeTierConfig("4", 0, 300, 25_000_000_000_000),
        FeeTierConfig("5", -70, 250, 125_000_000_000_000),
    )


@dataclass(frozen=True)
class SandboxConfig:
    """
    Configuration of a `SandboxNode`.

    Parameters
    ----------
    chain_id : str, default "dydx-sandbox-1"
        The chain id that transactions must be signed for.
    seed : int, default 0
        The seed that fixes every otherwise arbitrary choice (generated keys, block hashes).
    host : str, default "127.0.0.1"
        The bind address; only loopback addresses are accepted.
    port : int, default 0
        The gRPC port; 0 picks a free port.
    block_time_ms : int, default 1000
        The block interval of the block timer.
    auto_blocks : bool, default True
        Whether blocks are produced by a timer; when False use `SandboxNode.step_blocks`.
    genesis_height : int, default 1
        The height of the genesis block.
    genesis_time_ns : int | None, default None
        None: block time follows the wall clock (genesis is the node's creation time and each
        block takes the time it is committed). An integer fixes the genesis time (unix
        nanoseconds) and every block adds exactly `block_time_ms`: deterministic runs.
    markets : tuple[MarketConfig, ...]
        The markets.
    accounts : tuple[AccountConfig, ...]
        The funded accounts.
    first_account_number : int, default 10
        The account number assigned to the first account without an explicit one.
    short_block_window : int, default 20
        The short-term GoodTilBlock window (20 before protocol v9, 40 since).
    stateful_order_time_window_s : int, default 95 days
        The maximum GoodTilBlockTime distance in seconds.
    stateful_rate_limits : tuple[tuple[int, int], ...], default ((1, 2), (100, 20))
        The (blocks, max stateful orders) windows per account.
    short_term_rate_limits : tuple[tuple[int, int], ...], default ((5, 2000),)
        The (blocks, max short-term orders and cancels) windows per account.
    equity_tiers : tuple[tuple[int, int], ...]
        The (net collateral in quote quantums, stateful order limit) tiers, ascending.
    fee_tiers : tuple[FeeTierConfig, ...]
        The perpetual fee tiers.
    funding_enabled : bool, default True
        Whether hourly funding (premium samples, rates, payments) runs on the block clock.
    liquidations_enabled : bool, default True
        Whether undercollateralized subaccounts are liquidated and deleveraged each block.
    extra_fields : bool, default True
        Whether Indexer messages occasionally carry unknown fields, as a newer Indexer sends.
    market_stats_interval_s : int, default 10
        The block-time interval of `trading` statistics updates on `v4_markets`.

    """

    chain_id: str = "dydx-sandbox-1"
    seed: int = 0
    host: str = "127.0.0.1"
    port: int = 0
    block_time_ms: int = 1000
    auto_blocks: bool = True
    genesis_height: int = 1
    genesis_time_ns: int | None = None
    markets: tuple[MarketConfig, ...] = field(default_factory=default_markets)
    accounts: tuple[AccountConfig, ...] = field(default_factory=tuple)
    first_account_number: int = 10
    short_block_window: int = 20
    stateful_order_time_window_s: int = 95 * 24 * 3600
    stateful_rate_limits: tuple[tuple[int, int], ...] = ((1, 2), (100, 20))
    short_term_rate_limits: tuple[tuple[int, int], ...] = ((5, 2000),)
    equity_tiers: tuple[tuple[int, int], ...] = (
        (0, 0),
        (20_000_000, 10),
        (100_000_000, 20),
        (1_000_000_000, 40),
        (10_000_000_000, 100),
        (50_000_000_000, 200),
    )
    fee_tiers: tuple[FeeTierConfig, ...] = field(default_factory=default_fee_tiers)
    funding_enabled: bool = True
    # Values (funding.py, margin.py, extras.py): fields added at the end on purpose
    liquidations_enabled: bool = True
    extra_fields: bool = True
    market_stats_interval_s: int = 10
