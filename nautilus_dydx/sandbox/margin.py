# SPDX-License-Identifier: Apache-2.0
"""Maintenance margin, liquidation against the book and deleveraging, checked every block."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from nautilus_dydx.sandbox.engine import SIDE_BUY
from nautilus_dydx.sandbox.engine import SIDE_SELL
from nautilus_dydx.sandbox.engine import Subaccount
from nautilus_dydx.sandbox.engine import quote_quantums
from nautilus_dydx.sandbox.events import LiquidationFillEvent
from nautilus_dydx.sandbox.events import OrderUpdatedEvent


if TYPE_CHECKING:
    from nautilus_dydx.sandbox.chain import ChainState
    from nautilus_dydx.sandbox.chain import Market


# The insurance-fund fee of a liquidation fill, in ppm of notional (mainnet: 1.5 %)
LIQUIDATION_FEE_PPM = 15_000
_MAX_FILLS_PER_LIQUIDATION = 10_000


def _ceil_div(numerator: int, denominator: int) -> int:
    return -((-numerator) // denominator)


class Liquidator:
    """
    Liquidates subaccounts whose net collateral fell below their maintenance margin.

    Each block, every subaccount with positions is checked at oracle prices. The largest
    position of an undercollateralized subaccount is closed by an IOC "order" of the liquidated
    side (the taker) at its bankruptcy price against the book (LIQUIDATED fills, a fee to the
    insurance fund); what the book cannot absorb is deleveraged against offsetting positions at
    the bankruptcy price (DELEVERAGED fills at `quote / size`, usually off the tick grid).

    Parameters
    ----------
    chain : ChainState
        The chain.

    """

    def __init__(self, chain: ChainState) -> None:
        self.chain = chain
        self.liquidations = 0
        self.deleveragings = 0

    def maintenance(self, sub: Subaccount) -> tuple[int, int]:
        """
        Return (net collateral, maintenance margin requirement) in quote quantums.

        Parameters
        ----------
        sub : Subaccount
            The subaccount.

        Returns
        -------
        tuple[int, int]

        """
        equity = sub.usdc
        requirement = 0
        for pid, position in sorted(sub.positions.items()):
            if position.size == 0:
                continue
            market = self.chain.markets[pid]
            value = self._value(market, position.size)
            equity += value
            requirement += abs(value) * market.config.maintenance_margin_ppm // 1_000_000
        return equity, requirement

    def is_liquidatable(self, sub: Subaccount) -> bool:
        """
        Return whether `sub` holds positions and its collateral is below maintenance.

        Parameters
        ----------
        sub : Subaccount
            The subaccount.

        Returns
        -------
        bool

        """
        if not any(p.size for p in sub.positions.values()):
            return False
        equity, requirement = self.maintenance(sub)
        return equity < requirement

    def liquidation_price(self, sub: Subaccount, clob_pair_id: int) -> Fraction | None:
        """
        Return the oracle price (USD) below which a long, or above which a short, is liquidated.

        Other markets stay at their oracle prices. None when the subaccount has no position in
        the market or no price makes it liquidatable.

        Parameters
        ----------
        sub : Subaccount
            The subaccount.
        clob_pair_id : int
            The market.

        Returns
        -------
        Fraction | None

        """
        position = sub.positions.get(clob_pair_id)
        if position is None or position.size == 0:
            return None
        market = self.chain.markets[clob_pair_id]
        cfg = market.config
        collateral = Fraction(sub.usdc)
        requirement = Fraction(0)
        for pid, other in sorted(sub.positions.items()):
            if pid == clob_pair_id or other.size == 0:
                continue
            other_market = self.chain.markets[pid]
            value = self._value(other_market, other.size)
            collateral += value
            requirement += Fraction(abs(value) * other_market.config.maintenance_margin_ppm,
                                    1_000_000)
        # Quote quantums per USD of price for this position: size × 10^(A + 6)
        per_usd = Fraction(abs(position.size)) * Fraction(10) ** (cfg.atomic_resolution + 6)
        fraction = Fraction(cfg.maintenance_margin_ppm, 1_000_000)
        if position.size > 0:
            price = (requirement - collateral) / (per_usd * (1 - fraction))
        else:
            price = (collateral - requirement) / (per_usd * (1 + fraction))
        return price if price > 0 else None

    def force(self, owner: str, number: int, clob_pair_id: int) -> str:
        """
        Move a market's oracle price one tick past a subaccount's liquidation price.

        The liquidation itself happens in the next block (`SandboxNode.step_blocks`).

        Parameters
        ----------
        owner : str
            The subaccount owner.
        number : int
            The subaccount number.
        clob_pair_id : int
            The market of the position to liquidate.

        Returns
        -------
        str
            The new oracle price.

        Raises
        ------
        ValueError
            If the subaccount holds no position there or cannot be liquidated by price.

        """
        sub = self.chain.subaccounts.get((owner, number))
        price = None if sub is None else self.liquidation_price(sub, clob_pair_id)
        if price is None:
            raise ValueError(f"no liquidatable position in market {clob_pair_id}")
        market = self.chain.markets[clob_pair_id]
        cfg = market.config
        tick = Fraction(cfg.subticks_per_tick) * Fraction(10) ** (
            cfg.quantum_conversion_exponent - cfg.atomic_resolution - 6
        )
        ticks = price / tick
        if sub.positions[clob_pair_id].size > 0:
            target = (math.ceil(ticks) - 1) * tick
        else:
            target = (math.floor(ticks) + 1) * tick
        if target <= 0:
            raise ValueError(f"no positive oracle price liquidates market {clob_pair_id}")
        text = format(Decimal(target.numerator) / Decimal(target.denominator), "f")
        self.chain.set_oracle_price(clob_pair_id, text)
        return text

    def on_block(self, height: int, time_ns: int) -> None:
        """
        Liquidate every undercollateralized subaccount (deterministic order).

        Parameters
        ----------
        height : int
            The block height.
        time_ns : int
            The block time.

        """
        for key in sorted(self.chain.subaccounts):
            sub = self.chain.subaccounts[key]
            if self.is_liquidatable(sub):
                self.liquidate(sub, height, time_ns)

    def _value(self, market: Market, size: int) -> int:
        exponent = market.config.quantum_conversion_exponent
        return quote_quantums(size, market.oracle_subticks, exponent)

    def _bankruptcy_quote(self, sub: Subaccount, pid: int) -> int:
        # The notional at which closing the position leaves zero net collateral
        equity, _ = self.maintenance(sub)
        market = self.chain.markets[pid]
        value = self._value(market, sub.positions[pid].size)
        return value - equity if value > 0 else equity - value

    def liquidate(self, sub: Subaccount, height: int, time_ns: int) -> None:
        """
        Close the largest position of `sub` against the book, then by deleveraging.

        Parameters
        ----------
        sub : Subaccount
            The undercollateralized subaccount.
        height : int
            The block height.
        time_ns : int
            The block time.

        """
        open_positions = [(pid, p) for pid, p in sorted(sub.positions.items()) if p.size != 0]
        if not open_positions:
            return
        pid, position = max(
            open_positions,
            key=lambda item: abs(self._value(self.chain.markets[item[0]], item[1].size)),
        )
        market = self.chain.markets[pid]
        self.chain._begin_tx()
        self._against_book(sub, pid, market, height, time_ns)
        if sub.positions[pid].size != 0:
            self._deleverage(sub, pid, market, height, time_ns)

    def _event_id(self, height: int) -> str:
        chain = self.chain
        chain._event_index += 1
        return (
            height.to_bytes(4, "big")
            + chain._tx_index.to_bytes(4, "big")
            + chain._event_index.to_bytes(4, "big")
        ).hex()

    def _against_book(
        self, sub: Subaccount, pid: int, market: Market, height: int, time_ns: int,
    ) -> None:
        chain = self.chain
        cfg = market.config
        size = sub.positions[pid].size
        side = SIDE_SELL if size > 0 else SIDE_BUY
        bankruptcy = self._bankruptcy_quote(sub, pid)
        # The limit in subticks: a long sells at or above, a short buys at or below bankruptcy
        unit = abs(size) * Fraction(10) ** cfg.quantum_conversion_exponent
        limit_price = Fraction(bankruptcy) / unit
        if side == SIDE_SELL:
            limit = max(math.ceil(limit_price), 1)
        else:
            limit = max(math.floor(limit_price), 0)
        guard = 0
        for maker in market.book.crossing(side, limit):
            guard += 1
            remaining = abs(sub.positions[pid].size)
            if remaining == 0 or guard > _MAX_FILLS_PER_LIQUIDATION:
                break
            if maker.subaccount == (sub.owner, sub.number):
                continue
            quantums = min(remaining, maker.remaining)
            quote = quote_quantums(quantums, maker.subticks, cfg.quantum_conversion_exponent)
            delta = quantums if side == SIDE_BUY else -quantums
            usdc_delta = -quote if side == SIDE_BUY else quote
            maker_sub = chain._sub(maker.subaccount)
            maker_fee = chain._fee(maker.key[0], quote, taker=False)
            maker_usdc = -usdc_delta - maker_fee
            if not chain.margin.allows(maker_sub, pid, -delta, maker_usdc):
                chain._remove_resting(maker, market, 3, height, time_ns)
                continue
            after, _ = chain.margin.equity_and_imr(sub, (pid, delta, usdc_delta))
            fee = min(quote * LIQUIDATION_FEE_PPM // 1_000_000, max(after, 0))
            maker.filled += quantums
            if maker.remaining <= 0:
                maker.status = "FILLED"
            chain.bus.publish(
                LiquidationFillEvent(
                    0, height, time_ns, "LIQUIDATED", self._event_id(height), pid, cfg.ticker,
                    quantums, maker.subticks, quote, "BUY" if side == SIDE_BUY else "SELL",
                    sub.owner, sub.number, maker_sub.owner, maker_sub.number, maker.snapshot(),
                    fee, maker_fee,
                ),
            )
            chain._apply_fill(sub, pid, delta, quote, usdc_delta - fee, height, time_ns,
                              cfg.ticker)
            chain._apply_fill(maker_sub, pid, -delta, quote, maker_usdc, height, time_ns,
                              cfg.ticker)
            chain._record_short_fill(maker)
            if maker.remaining <= 0:
                chain._remove_resting(maker, market, 12, height, time_ns)
            else:
                chain.bus.publish(OrderUpdatedEvent(0, height, time_ns, maker.snapshot(), "FILL"))
            self.liquidations += 1

    def _deleverage(
        self, sub: Subaccount, pid: int, market: Market, height: int, time_ns: int,
    ) -> None:
        chain = self.chain
        cfg = market.config
        for key in sorted(chain.subaccounts):
            size = sub.positions[pid].size
            if size == 0:
                return
            other = chain.subaccounts[key]
            if other is sub:
                continue
            offsetting = other.position_size(pid)
            if offsetting == 0 or (offsetting > 0) == (size > 0):
                continue
            quantums = min(abs(size), abs(offsetting))
            bankruptcy = self._bankruptcy_quote(sub, pid)
            if size > 0:
                quote = _ceil_div(bankruptcy * quantums, abs(size))
            else:
                quote = bankruptcy * quantums // abs(size)
            if quote <= 0:
                return
            side = SIDE_SELL if size > 0 else SIDE_BUY
            delta = quantums if side == SIDE_BUY else -quantums
            usdc_delta = -quote if side == SIDE_BUY else quote
            chain.bus.publish(
                LiquidationFillEvent(
                    0, height, time_ns, "DELEVERAGED", self._event_id(height), pid, cfg.ticker,
                    quantums, 0, quote, "BUY" if side == SIDE_BUY else "SELL",
                    sub.owner, sub.number, other.owner, other.number, None, 0, 0,
                ),
            )
            chain._apply_fill(sub, pid, delta, quote, usdc_delta, height, time_ns, cfg.ticker)
            chain._apply_fill(other, pid, -delta, quote, -usdc_delta, height, time_ns, cfg.ticker)
            self.deleveragings += 1
